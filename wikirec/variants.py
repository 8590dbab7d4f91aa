"""The maths of the model variants that ``wikirec train`` runs in NumPy.

``wikirec train --model cosine_bias`` (:class:`wikirec.train.CosineBiasTrainer`) drives
:class:`CosineBias` through train.py's epoch loop (the batches of
:class:`wikirec.batches.PairSampler`, checkpoints, ``--resume``, early stopping); this
module holds the parameters, the gradient and the optimiser only.

``cosine_bias``
    The reference's cosine, at a fixed scale, plus a bias per book and per link::

        logit(book, link) = scale * cos(u_book, v_link) + b_book + c_link

    trained on labels 1 / 0 with the binary cross-entropy and lazy row-wise Adam (the
    rule of ``--optimizer sparse-adam``). The link bias takes the links' popularity
    out of the vectors; a positive's weight is ``(n_books / books linking to it) **
    rare_weight`` (scaled to a mean of 1 over the positives), so a link shared by few
    books counts more, as TF-IDF's idf does. Book-to-book and book-to-link answers use
    the cosine alone; ranking the links for a book uses the logit (cosine and link
    bias), as trained. Its Keras form is :func:`wikirec.model.cosine_bias`.

Everything is float32 NumPy, seeded (:class:`CosineBias` starts from
``default_rng([seed, 2**31])``): the same seed and batches give the same vectors, bit
for bit.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

# --------------------------------------------------------------------------- maths


class LazyAdam:
    """Adam on the rows a step touches only (the rule of ``sparse-adam``).

    Parameters
    ----------
    table : float32 (n, ...), updated in place
    """

    beta_1, beta_2, epsilon = 0.9, 0.999, 1e-7

    def __init__(self, table: np.ndarray, learning_rate: float) -> None:
        self.table, self.learning_rate = table, learning_rate
        self.m = np.zeros_like(table)
        self.v = np.zeros_like(table)
        self._slot: np.ndarray | None = None  # step_examples' scratch, int64 (n,)

    def step(self, rows: np.ndarray, grad: np.ndarray, t: int) -> None:
        """Update ``table[rows]`` (distinct rows) with their summed gradients ``grad``."""
        m = self.m[rows]
        m *= self.beta_1
        m += (1 - self.beta_1) * grad
        v = self.v[rows]
        v *= self.beta_2
        v += (1 - self.beta_2) * np.square(grad)
        self.m[rows], self.v[rows] = m, v
        lr_t = self.learning_rate * math.sqrt(1 - self.beta_2**t) / (1 - self.beta_1**t)
        np.sqrt(v, out=v)
        v += self.epsilon
        m *= np.float32(lr_t)
        m /= v
        self.table[rows] -= m

    def step_examples(self, index: np.ndarray, grad: np.ndarray, t: int) -> None:
        """The same update from per-example gradients: ``grad`` (B, ...) of rows ``index``
        (B,), repeats allowed (summed per row first, in example order). One fused pass
        compiled by numba (about 10 times :meth:`step` after :func:`segment_sum`); the
        NumPy path when numba is missing (equal up to float rounding)."""
        kernel = _adam_kernel()
        if kernel is None:
            rows, summed = segment_sum(index, grad)
            self.step(rows, summed, t)
            return
        lr_t = self.learning_rate * math.sqrt(1 - self.beta_2**t) / (1 - self.beta_1**t)
        if self._slot is None:
            self._slot = np.full(len(self.table), -1, np.int64)
        width = self.table.reshape(len(self.table), -1).shape[1]
        kernel(
            self.table.reshape(-1, width), self.m.reshape(-1, width),
            self.v.reshape(-1, width), np.asarray(index, np.int64),
            np.ascontiguousarray(grad, np.float32).reshape(len(index), width),
            np.float32(lr_t), np.float32(self.beta_1), np.float32(self.beta_2),
            np.float32(self.epsilon), self._slot,
        )  # fmt: skip


_KERNEL: list = []


def _adam_kernel():
    """The numba-compiled fused lazy-Adam update (compiled once, cached on disk), or
    None without numba (umap-learn, a dependency, brings it)."""
    if not _KERNEL:
        try:
            import numba
        except ImportError:
            _KERNEL.append(None)
            return None

        @numba.njit(cache=True, nogil=True, error_model="numpy")
        def adam_examples(table, m, v, index, grad, lr_t, beta_1, beta_2, epsilon, slot):
            # slot[row] = the row's place among this batch's distinct rows; all -1 between
            # calls, so the sums need no sort and no n-sized scratch per call.
            n, width = grad.shape
            rows = np.empty(n, np.int64)
            summed = np.zeros((n, width), np.float32)
            count = 0
            for i in range(n):
                row = index[i]
                place = slot[row]
                if place < 0:
                    place = count
                    slot[row] = place
                    rows[count] = row
                    count += 1
                for d in range(width):
                    summed[place, d] += grad[i, d]
            for place in range(count):
                row = rows[place]
                slot[row] = -1
                for d in range(width):
                    g = summed[place, d]
                    m[row, d] = beta_1 * m[row, d] + (1 - beta_1) * g
                    v[row, d] = beta_2 * v[row, d] + (1 - beta_2) * g * g
                    table[row, d] -= lr_t * m[row, d] / (np.sqrt(v[row, d]) + epsilon)

        _KERNEL.append(adam_examples)
    return _KERNEL[0]


def segment_sum(index: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sum ``values`` (n, d) by ``index`` (n,): distinct indices (ascending) and their
    sums (n_distinct, d), as a sparse (n_distinct, n) 0/1 matrix times ``values``."""
    from scipy import sparse

    rows, inverse = np.unique(index, return_inverse=True)
    ones = np.ones(len(index), dtype=values.dtype)
    select = sparse.csr_matrix((ones, (inverse, np.arange(len(index)))), (len(rows), len(index)))
    return rows, np.asarray(select @ values)


def positive_weights(pairs: np.ndarray, n_books: int, n_links: int, power: float) -> np.ndarray:
    """float32 (n_links,): ``(n_books / books linking to the link) ** power``, scaled to
    a mean of 1 over the pairs (all ones when ``power`` is 0)."""
    codes = np.unique(pairs[:, 0].astype(np.int64) * n_links + pairs[:, 1])
    books_per_link = np.bincount(codes % n_links, minlength=n_links)
    weights = (n_books / np.maximum(books_per_link, 1)) ** power
    return (weights / weights[pairs[:, 1]].mean()).astype(np.float32)


class CosineBias:
    """The ``cosine_bias`` variant's parameters and its training step.

    Attributes
    ----------
    book, link : float32 (n_books, dim), (n_links, dim)
    book_bias, link_bias : float32 (n_books, 1), (n_links, 1)
    """

    TABLES = ("book", "link", "book_bias", "link_bias")

    def __init__(
        self,
        n_books: int,
        n_links: int,
        dim: int,
        weights: np.ndarray,
        learning_rate: float = 0.01,
        scale: float = 5.0,
        seed: int = 0,
    ) -> None:
        """``weights``: float32 (n_links,) weight of a positive per link
        (:func:`positive_weights`); the vectors start normal with std ``1/sqrt(dim)``."""
        rng = np.random.default_rng([seed, 2**31])
        std = 1 / math.sqrt(dim)
        self.book = (rng.normal(size=(n_books, dim)) * std).astype(np.float32)
        self.link = (rng.normal(size=(n_links, dim)) * std).astype(np.float32)
        self.book_bias = np.zeros((n_books, 1), np.float32)
        self.link_bias = np.zeros((n_links, 1), np.float32)
        self.scale, self.weights, self.t = np.float32(scale), weights, 0
        self.optimizers = {
            name: LazyAdam(getattr(self, name), learning_rate) for name in self.TABLES
        }

    def state(self) -> dict[str, np.ndarray]:
        """Every array needed to continue training: the tables, their Adam moments
        (``NAME_m``, ``NAME_v``) and the step count ``t`` (a 0-d int64)."""
        arrays = {"t": np.int64(self.t)}
        for name in self.TABLES:
            optimizer = self.optimizers[name]
            arrays.update({name: optimizer.table, f"{name}_m": optimizer.m,
                           f"{name}_v": optimizer.v})  # fmt: skip
        return arrays

    def load_state(self, arrays) -> None:
        """Copy in the arrays of :meth:`state` (shapes must match; ValueError if not)."""
        for name in self.TABLES:
            optimizer = self.optimizers[name]
            for key, target in ((name, optimizer.table), (f"{name}_m", optimizer.m),
                                (f"{name}_v", optimizer.v)):  # fmt: skip
                if arrays[key].shape != target.shape:
                    raise ValueError(f"{key} has shape {arrays[key].shape}, not {target.shape}")
                target[...] = arrays[key]  # in place: the optimisers hold these arrays
        self.t = int(arrays["t"])

    def step(self, books: np.ndarray, links: np.ndarray, labels: np.ndarray) -> float:
        """One batch of (B,) books, links, 0/1 labels; returns the mean weighted loss."""
        u, v = self.book[books], self.link[links]
        inv_u = 1 / np.maximum(np.linalg.norm(u, axis=1, keepdims=True), 1e-6)
        inv_v = 1 / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-6)
        unit_u, unit_v = u * inv_u, v * inv_v
        cosine = (unit_u * unit_v).sum(1, keepdims=True)
        logit = self.scale * cosine + self.book_bias[books] + self.link_bias[links]
        positive = labels[:, None] > 0
        weight = np.where(positive, self.weights[links][:, None], np.float32(1))
        loss = weight * np.logaddexp(0, np.where(positive, -logit, logit))
        d_logit = (weight * (_sigmoid(logit) - positive) / len(labels)).astype(np.float32)
        d_cosine = self.scale * d_logit
        self.t += 1
        self._update("book", books, d_cosine * (unit_v - cosine * unit_u) * inv_u)
        self._update("link", links, d_cosine * (unit_u - cosine * unit_v) * inv_v)
        self._update("book_bias", books, d_logit)
        self._update("link_bias", links, d_logit)
        return float(loss.mean())

    def _update(self, name: str, index: np.ndarray, grad: np.ndarray) -> None:
        self.optimizers[name].step_examples(index, grad, self.t)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1 + np.tanh(0.5 * x))


# --------------------------------------------------------------------------- files


def load_link_bias(model_dir: str | os.PathLike) -> np.ndarray | None:
    """float32 (n_links,) of a variant's folder, or None for a model without biases."""
    path = Path(model_dir) / "link_bias.npy"
    return np.load(path, allow_pickle=False) if path.is_file() else None
