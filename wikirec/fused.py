"""The numba functions of :func:`wikirec.kernel.train_steps` (read that for the maths).

Compiled in each process that trains (about 3.5 s, once), and not cached on disk:
``kernel`` calls parallel functions, and a cache of it written by two processes at
once (two trainings started together) paired one process's kernel with the other's
parallel parts, after which every run crashed with a segmentation fault until the
cache was deleted. (When the cache was on, as a closure the kernel also got a new
cache key in every process and left new files in ``__pycache__`` each run.) Imported
only when a kernel is first needed (numba's import is slow); the constants are read
when a function is compiled.
"""

from __future__ import annotations

import numba
import numpy as np

from wikirec.kernel import AdamTable

# AdamTable's constants: float64 for the step size, float32 inside the update.
b1, b2 = AdamTable.beta_1, AdamTable.beta_2
beta_1, beta_2, epsilon = np.float32(b1), np.float32(b2), np.float32(AdamTable.epsilon)


@numba.njit
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


@numba.njit(inline="always")
def adam(value, m, v, row, k, g, lr_t):
    m[row, k] = beta_1 * m[row, k] + (1 - beta_1) * g
    v[row, k] = beta_2 * v[row, k] + (1 - beta_2) * g * g
    value[row, k] -= lr_t * m[row, k] / (np.sqrt(v[row, k]) + epsilon)


@numba.njit(parallel=True, fastmath=True, error_model="numpy")
def update_rows(value, m, v, grad, count, rows, start, order, lr_t, biases, bias, bm, bv, d_logit):
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


@numba.njit(parallel=True, fastmath=True, error_model="numpy")
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


@numba.njit(error_model="numpy")
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
