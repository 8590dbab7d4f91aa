"""The compiled training kernel (numba) and its plain NumPy statement: lazy Adam.

This is the CPU fast path of ``wikirec train`` (``--optimizer kernel``, and ``auto``
on a machine without a GPU): the same maths as the Keras path (:mod:`wikirec.model`:
:class:`~wikirec.model.LazyAdam` through ``Model.fit``), tested equal to it, as gensim
keeps its compiled loop beside a reference implementation.

The models it trains, with ``logit = a * cos(book, link) + c`` and lazy Adam on the rows
a batch touches:

- the reference model (``a``, ``c``: the ``Dense(1)`` kernel and bias, trained);
- ``cosine_bias`` and ``link_mean``: ``a`` the fixed scale, ``c`` = 0, plus a bias per
  book and per link, positives weighted by their link (:func:`positive_weights`)::

      logit(book, link) = scale * cos(u_book, v_link) + b_book + c_link

  trained on labels 1 / 0 with the binary cross-entropy of the logit.

:func:`train_steps` is the compiled loop; :meth:`CosineBias.step` is the same maths in
plain NumPy, one batch at a time, kept as the readable statement of it (the tests hold
the two equal, and the Keras path equal to both). Everything is float32 and seeded
(:class:`CosineBias` starts from ``default_rng([seed, 2**31])``): the same seed and
batches give the same vectors, bit for bit, whatever the number of threads.
"""

from __future__ import annotations

import math

import numpy as np

# --------------------------------------------------------------------------- maths


class AdamTable:
    """A table and its Adam moments, updated on the rows a step touches only (lazy Adam,
    the rule of TensorFlow Addons' ``LazyAdam``).

    Parameters
    ----------
    table : float32 (n, ...), updated in place
    """

    beta_1, beta_2, epsilon = 0.9, 0.999, 1e-7

    def __init__(self, table: np.ndarray, learning_rate: float) -> None:
        self.table, self.learning_rate = table, learning_rate
        self.m = np.zeros_like(table)
        self.v = np.zeros_like(table)

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


def adam_arrays(tables: dict[str, AdamTable]) -> dict[str, np.ndarray]:
    """Each table's values (``NAME``) and Adam moments (``NAME_m``, ``NAME_v``): what a
    checkpoint holds besides the step count."""
    arrays = {}
    for name, table in tables.items():
        arrays.update({name: table.table, f"{name}_m": table.m, f"{name}_v": table.v})
    return arrays


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
            name: AdamTable(getattr(self, name), learning_rate) for name in self.TABLES
        }
        # The fused kernel's logit is a * cosine + c: here a fixed scale and no c.
        self._scalars = AdamTable(np.array([[scale], [0]], np.float32), learning_rate)

    def state(self) -> dict[str, np.ndarray]:
        """Every array needed to continue training: the tables, their Adam moments
        (``NAME_m``, ``NAME_v``) and the step count ``t`` (a 0-d int64)."""
        return {"t": np.int64(self.t), **adam_arrays(self.optimizers)}

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
        rows, summed = segment_sum(index, grad)
        self.optimizers[name].step(rows, summed, self.t)

    def train_steps(self, books: np.ndarray, links: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """:meth:`step` on each of the (n_steps, B) batches, fused and compiled
        (:func:`train_steps`; equal to :meth:`step` up to float rounding); returns the
        (n_steps,) losses."""
        tables = self.optimizers
        losses = train_steps(
            tables["book"], tables["link"], books, links, labels, t=self.t,
            learning_rate=tables["book"].learning_rate, scalars=self._scalars,
            train_scalars=False, book_bias=tables["book_bias"], link_bias=tables["link_bias"],
            weights=self.weights,
        )  # fmt: skip
        self.t += len(books)
        return losses


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1 + np.tanh(0.5 * x))


# --------------------------------------------------------------------------- fused steps


_NO_ROWS = np.zeros((0, 1), np.float32)


def train_steps(
    book: AdamTable,
    link: AdamTable,
    books: np.ndarray,
    links: np.ndarray,
    labels: np.ndarray,
    *,
    t: int,
    learning_rate: float,
    scalars: AdamTable,
    train_scalars: bool,
    classification: bool = True,
    book_bias: AdamTable | None = None,
    link_bias: AdamTable | None = None,
    weights: np.ndarray | None = None,
) -> np.ndarray:
    """Train on ``books.shape[0]`` batches in one call; return each batch's mean loss.

    The model: ``logit = a * cos(book, link) + c (+ book_bias + link_bias)`` with
    ``scalars.table == [[a], [c]]`` (the reference's ``Dense(1)``; trained only if
    ``train_scalars``), the binary cross-entropy of the logit, a positive weighing
    ``weights[link]`` (ones if None); or, with ``classification=False``, the squared
    error of the cosine against labels 1 / -1. Each step applies lazy Adam (Keras'
    rule and constants) to the rows its batch touches, steps ``t + 1``, ``t + 2``, ...

    Parameters
    ----------
    book, link : tables (:class:`AdamTable`: values and moments, updated in place) of
        shape (n_books, dim), (n_links, dim); their own learning rates are not used
    books, links : int32 (n_steps, B); labels : float32 (n_steps, B)
    scalars : table of shape (2, 1)
    book_bias, link_bias : tables of shape (n, 1), or None (no row biases)
    weights : float32 (n_links,) or None

    One compiled pass per step (numba, both cores): each example's loss and gradient,
    then per distinct row the gradients summed in example order and Adam applied, so
    the result does not depend on the number of threads.
    """
    biases = book_bias is not None and link_bias is not None
    empty = AdamTable(_NO_ROWS, learning_rate)
    bb, lb = (book_bias, link_bias) if biases else (empty, empty)
    if weights is None:
        weights = np.ones(len(link.table), np.float32)
    losses = np.empty(len(books), np.float32)
    _fused_kernel()(
        book.table, book.m, book.v, link.table, link.m, link.v,
        bb.table, bb.m, bb.v, lb.table, lb.m, lb.v,
        scalars.table, scalars.m, scalars.v,
        np.ascontiguousarray(books, np.int32), np.ascontiguousarray(links, np.int32),
        np.ascontiguousarray(labels, np.float32), np.asarray(weights, np.float32),
        classification, biases, train_scalars, t, learning_rate, losses,
    )  # fmt: skip
    return losses


def _fused_kernel():
    """:func:`train_steps`' kernel (:mod:`wikirec.fused`), compiled by numba once a
    process."""
    from wikirec.fused import kernel

    return kernel
