"""Nearest items by cosine: unit rows, the top k of a score vector, and every row's
nearest neighbours in batches that stay under a memory budget.

Shared by the query API (:mod:`wikirec.recommend`), the evaluation (every method's
neighbours and held-out link rankings) and the trained-folder reader. Vectors are
compared as unit rows (float32), so a query is one matrix product and a partial sort
(``numpy.argpartition``); :func:`cosine_top_k` also takes scipy sparse rows (TF-IDF)
and never builds an n x n matrix.
"""

from __future__ import annotations

import numpy as np

from wikirec.progress import progress_bar

SCORE_BUDGET = 2**25  # floats in one block of query x item scores (128 MB)


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1 (float32, shape kept); rows of zeros stay zero."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.where(norms == 0, 1, norms)


def top_k(scores: np.ndarray, k: int, least: bool = False) -> np.ndarray:
    """Positions of the ``k`` highest scores (``least``: lowest), best first.

    ``scores`` has shape (n,) or (m, n); the result (k,) or (m, k), int64. Scores of
    ``-inf`` (``least``: ``+inf``) mark excluded items; ties go to the lower position.
    """
    keyed = -scores if not least else scores
    n = keyed.shape[-1]
    k = min(k, n)
    if k <= 0:
        return np.zeros(keyed.shape[:-1] + (0,), dtype=np.int64)
    part = np.argpartition(keyed, k - 1, axis=-1)[..., :k] if k < n else np.indices(keyed.shape)[-1]
    part = np.sort(part, axis=-1)  # ties: the lower position first (stable sort below)
    order = np.argsort(np.take_along_axis(keyed, part, axis=-1), axis=-1, kind="stable")
    return np.take_along_axis(part, order, axis=-1).astype(np.int64)


def cosine_top_k(
    queries,
    items=None,
    k: int = 10,
    least: bool = False,
    exclude_self: bool | None = None,
    batch_size: int | None = None,
    progress: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` items closest by cosine to every query, in batches.

    Parameters
    ----------
    queries : array (m, d) or scipy sparse matrix (m, d)
    items : same kind, shape (n, d); None: the queries themselves
    k : neighbours per query
    least : the farthest instead
    exclude_self : leave out item ``i`` for query ``i`` (default: when ``items`` is None)
    batch_size : queries per block (default: as many as fit ``SCORE_BUDGET`` scores)
    progress : a progress bar on stderr

    Returns
    -------
    indices : int64 (m, k), best first
    scores : float32 (m, k), the cosines

    Memory: one (batch_size, n) block of scores at a time, never (m, n).
    """
    if exclude_self is None:
        exclude_self = items is None
    q = _unit_matrix(queries)
    x = q if items is None else _unit_matrix(items)
    m, n = q.shape[0], x.shape[0]
    k = min(k, n - 1 if exclude_self else n)
    batch = batch_size or max(1, min(m, SCORE_BUDGET // max(n, 1)))
    indices = np.zeros((m, max(k, 0)), dtype=np.int64)
    scores = np.zeros((m, max(k, 0)), dtype=np.float32)
    with progress_bar(total=m, desc="neighbours", unit="query", enabled=progress) as bar:
        for start in range(0, m, batch):
            stop = min(start + batch, m)
            block = _dense(q[start:stop] @ x.T)
            if exclude_self:
                rows = np.arange(stop - start)
                block[rows, np.arange(start, stop)] = np.inf if least else -np.inf
            found = top_k(block, k, least=least)
            indices[start:stop] = found
            scores[start:stop] = np.take_along_axis(block, found, axis=1)
            bar.update(stop - start)
    return indices, scores


def _unit_matrix(matrix):
    """Unit rows of a dense array (float32) or a scipy sparse matrix (CSR)."""
    if hasattr(matrix, "tocsr"):
        from sklearn.preprocessing import normalize

        return normalize(matrix.tocsr().astype(np.float32), norm="l2", axis=1)
    return unit_rows(matrix)


def _dense(block) -> np.ndarray:
    if hasattr(block, "toarray"):
        return block.toarray().astype(np.float32, copy=False)
    return np.asarray(block, dtype=np.float32)
