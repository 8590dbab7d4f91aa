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


_FUSED: list = []


def _fused_kernel():
    """:func:`train_steps`' kernel, compiled by numba once and cached on disk."""
    if _FUSED:
        return _FUSED[0]
    import numba

    # AdamTable's constants: float64 for the step size, float32 inside the update.
    b1, b2 = AdamTable.beta_1, AdamTable.beta_2
    beta_1, beta_2, epsilon = np.float32(b1), np.float32(b2), np.float32(AdamTable.epsilon)

    @numba.njit(cache=True)
    def group(index, slot, rows, start, order):
        # The distinct values of index (first-seen order) and, for each, its examples in
        # order: order[start[r]:start[r + 1]]. slot is all -1 between calls.
        count = 0
        for i in range(len(index)):
            if slot[index[i]] < 0:
                slot[index[i]] = count
                rows[count] = index[i]
                start[count + 1] = 0
                count += 1
            start[slot[index[i]] + 1] += 1
        start[0] = 0
        for r in range(count):
            start[r + 1] += start[r]
        fill = start[:count].copy()
        for i in range(len(index)):
            r = slot[index[i]]
            order[fill[r]] = i
            fill[r] += 1
        for r in range(count):
            slot[rows[r]] = -1
        return count

    @numba.njit(cache=True, inline="always")
    def adam(value, m, v, row, k, g, lr_t):
        m[row, k] = beta_1 * m[row, k] + (1 - beta_1) * g
        v[row, k] = beta_2 * v[row, k] + (1 - beta_2) * g * g
        value[row, k] -= lr_t * m[row, k] / (np.sqrt(v[row, k]) + epsilon)

    @numba.njit(parallel=True, cache=True, fastmath=True, error_model="numpy")
    def update_rows(
        value, m, v, grad, count, rows, start, order, lr_t, biases, bias, bm, bv, d_logit
    ):
        # Each distinct row: its examples' gradients summed in example order, then Adam;
        # with row biases, the same for the row's bias from d_logit.
        dim = value.shape[1]
        for r in numba.prange(count):
            row = rows[r]
            for k in range(dim):
                g = np.float32(0)
                for j in range(start[r], start[r + 1]):
                    g += grad[order[j], k]
                adam(value, m, v, row, k, g, lr_t)
            if biases:
                g = np.float32(0)
                for j in range(start[r], start[r + 1]):
                    g += d_logit[order[j]]
                adam(bias, bm, bv, row, 0, g, lr_t)

    @numba.njit(parallel=True, cache=True, fastmath=True, error_model="numpy")
    def examples(book, link, bb, lb, a, c, bk, lk, y, weights, classification, biases,
                 g_book, g_link, d_logit, cosine, loss):  # fmt: skip
        n, dim = len(bk), book.shape[1]
        for i in numba.prange(n):
            b, li = bk[i], lk[i]
            sb, sl, sd = np.float32(0), np.float32(0), np.float32(0)
            for k in range(dim):
                sb += book[b, k] * book[b, k]
                sl += link[li, k] * link[li, k]
                sd += book[b, k] * link[li, k]
            inv_b = np.float32(1) / np.sqrt(max(sb, np.float32(1e-12)))
            inv_l = np.float32(1) / np.sqrt(max(sl, np.float32(1e-12)))
            cos = sd * inv_b * inv_l
            if classification:
                logit = a * cos + c
                if biases:
                    logit += bb[b, 0] + lb[li, 0]
                positive = y[i] > 0
                w = weights[li] if positive else np.float32(1)
                z = -logit if positive else logit
                loss[i] = w * (max(z, np.float32(0)) + np.log1p(np.exp(-abs(z))))
                dl = w * (np.float32(1) / (np.float32(1) + np.exp(-logit)) - y[i]) / n
                dc = a * dl
            else:
                diff = cos - y[i]
                loss[i] = diff * diff
                dl = np.float32(0)
                dc = np.float32(2) * diff / n
            d_logit[i], cosine[i] = dl, cos
            for k in range(dim):
                ub, ul = book[b, k] * inv_b, link[li, k] * inv_l
                g_book[i, k] = dc * (ul - cos * ub) * inv_b
                g_link[i, k] = dc * (ub - cos * ul) * inv_l

    @numba.njit(cache=True, error_model="numpy")
    def kernel(book, book_m, book_v, link, link_m, link_v, bb, bb_m, bb_v, lb, lb_m, lb_v,
               sc, sc_m, sc_v, books, links, labels, weights, classification, biases,
               train_scalars, t, learning_rate, losses):  # fmt: skip
        n_steps, n = books.shape
        dim = book.shape[1]
        g_book = np.empty((n, dim), np.float32)
        g_link = np.empty((n, dim), np.float32)
        d_logit = np.empty(n, np.float32)
        cosine = np.empty(n, np.float32)
        loss = np.empty(n, np.float32)
        book_slot = np.full(book.shape[0], -1, np.int64)
        link_slot = np.full(link.shape[0], -1, np.int64)
        rows = np.empty(n, np.int64)
        start = np.zeros(n + 1, np.int64)
        order = np.empty(n, np.int64)
        for s in range(n_steps):
            step = t + s + 1
            lr_t = np.float32(learning_rate * np.sqrt(1 - b2**step) / (1 - b1**step))
            examples(book, link, bb, lb, sc[0, 0], sc[1, 0], books[s], links[s],
                     labels[s], weights, classification, biases, g_book, g_link, d_logit,
                     cosine, loss)  # fmt: skip
            losses[s] = loss.astype(np.float64).sum() / n
            count = group(books[s], book_slot, rows, start, order)
            update_rows(book, book_m, book_v, g_book, count, rows, start, order, lr_t, biases,
                        bb, bb_m, bb_v, d_logit)  # fmt: skip
            count = group(links[s], link_slot, rows, start, order)
            update_rows(link, link_m, link_v, g_link, count, rows, start, order, lr_t, biases,
                        lb, lb_m, lb_v, d_logit)  # fmt: skip
            if train_scalars:
                g_a = (d_logit.astype(np.float64) * cosine).sum()
                g_c = d_logit.astype(np.float64).sum()
                adam(sc, sc_m, sc_v, 0, 0, np.float32(g_a), lr_t)
                adam(sc, sc_m, sc_v, 1, 0, np.float32(g_c), lr_t)

    _FUSED.append(kernel)
    return kernel
