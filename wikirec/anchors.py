"""What a user would pick instead of a trained model: the anchors of ``wikirec evaluate``.

A data scientist with a book-page link graph would reach for implicit's ALS, for a
closed-form item-item model, or for node2vec over the graph, each in a second or a
minute. Each method here is fitted as its authors or its library describe it, on
``counts``: scipy CSR (n_books, n_links), how often a book meets a link in training
(books are the items; links play the users). :mod:`wikirec.evaluate` chooses their
parameters on a validation slice of the training pairs (:data:`GRIDS`) and measures
them like every other method. Every function returns NumPy:

``als``, ``bpr``
    implicit's ``AlternatingLeastSquares`` and ``BayesianPersonalizedRanking``,
    ``user_items`` the links x books matrix; for ALS the counts are first weighted the
    way implicit's examples do (``bm25_weight`` or ``tfidf_weight`` of the books x
    links matrix, or as they are). Books: the item factors; a link's score for a book:
    the dot product with the link's (user's) factors. One thread for BPR (its updates
    race otherwise, so a seed would not repeat).
``ease``
    Steck (2019), "Embarrassingly Shallow Autoencoders for Sparse Data": books as
    items, links as users, the 0/1 matrix ``X`` (links x books); ``P = (X^T X + l2
    I)^-1``, ``B = I - P / diag(P)`` with its diagonal zeroed. A dense books x books
    inverse: refused above :data:`EASE_MAX_BOOKS` (:class:`TooLarge`).
``rp3beta``
    Paudel et al. (2017), "Updatable, accurate, diverse, and scalable recommendations
    for interactive applications" (as in Dacrema et al. 2019): the 3-step random-walk
    probability from book to link to book, each step's probabilities raised to
    ``alpha``, divided by the target book's number of links to the power ``beta``; the
    ``top_k`` largest of each book's row kept.
``node2vec``
    Grover and Leskovec (2016): second-order random walks over the bipartite book-link
    graph with return parameter ``p`` and in-out parameter ``q``, and gensim's
    skip-gram Word2Vec on the walks. The graph is bipartite, so a step's next node is
    either the node just left (weight ``1/p``) or two steps from it (weight ``1/q``):
    the walks are drawn for every walker at once by rejection sampling.

For ``ease`` and ``rp3beta`` (no vectors) a book's neighbours are the largest entries
of its row of the item-item matrix (the books it predicts), and a link's score for a
book is the standard prediction, ``sum_i X[link, i] * S[i, book]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wikirec.errors import WikirecError

EASE_MAX_BOOKS = 20_000  # two float64 n x n matrices: 6.4 GB, a Cholesky of ~1 minute


class TooLarge(WikirecError):
    """The data is beyond what a method can be fitted on here; the message says why."""


@dataclass
class Factors:
    """Vectors of the books and links: a link's score for a book is their dot product.

    Attributes
    ----------
    books : float32 (n_books, d)
    links : float32 (n_links, d)
    """

    books: np.ndarray
    links: np.ndarray

    def link_scores(self, books: np.ndarray) -> np.ndarray:
        """float32 (b, n_links): the dot products of the books' vectors with every link's."""
        return self.books[books] @ self.links.T


@dataclass
class ItemItem:
    """A books x books weight matrix ``S`` and the 0/1 books x links matrix.

    Attributes
    ----------
    weights : float32 (n_books, n_books), dense or scipy CSR; ``S[i, j]``: how much
        book i predicts book j; the diagonal is zero
    sets : scipy CSR (n_books, n_links), 1.0 where a book meets a link
    """

    weights: object
    sets: object

    def link_scores(self, books: np.ndarray) -> np.ndarray:
        """float32 (b, n_links): ``sum_i sets[i, link] * S[i, book]`` for each book."""
        columns = self.weights[:, books]
        scores = self.sets.T @ columns  # (n_links, b), sparse or dense by S's kind
        scores = scores.toarray() if hasattr(scores, "toarray") else np.asarray(scores)
        return np.ascontiguousarray(scores.T, dtype=np.float32)

    def neighbours(self, k: int) -> np.ndarray:
        """int64 (n_books, k): each book's ``k`` largest weights, itself excluded."""
        from wikirec.nearest import top_k

        n = self.weights.shape[0]
        out = np.zeros((n, min(k, n - 1)), np.int64)
        batch = max(1, 2**24 // max(n, 1))
        for start in range(0, n, batch):
            block = self.weights[start : start + batch]
            block = block.toarray() if hasattr(block, "toarray") else np.array(block)
            rows = np.arange(len(block))
            # a book's own column is -inf, below any weight, zero or negative
            block[rows, start + rows] = -np.inf
            out[start : start + len(block)] = top_k(block, out.shape[1])
        return out


def binary(counts):
    """scipy CSR float32: 1.0 where ``counts`` is nonzero."""
    sets = counts.tocsr().astype(np.float32, copy=True)
    sets.data[:] = 1.0
    sets.eliminate_zeros()
    return sets


def weigh(counts, weighting: str):
    """The books x links counts weighted as implicit's examples weigh an item x user
    matrix: ``"bm25"`` (K1 100, B 0.8), ``"tfidf"`` or ``"none"``; CSR float32."""
    from implicit.nearest_neighbours import bm25_weight, tfidf_weight

    if weighting == "bm25":
        weighted = bm25_weight(counts, K1=100, B=0.8)
    elif weighting == "tfidf":
        weighted = tfidf_weight(counts)
    elif weighting == "none":
        weighted = counts
    else:
        raise ValueError(f"weighting must be bm25, tfidf or none, not {weighting!r}")
    return weighted.tocsr().astype(np.float32)


def als(
    counts,
    factors: int = 64,
    regularization: float = 0.01,
    weighting: str = "bm25",
    alpha: float = 1.0,
    iterations: int = 15,
    seed: int = 0,
) -> Factors:
    """implicit's ALS, books as items: :class:`Factors` (books: item factors)."""
    from implicit.cpu.als import AlternatingLeastSquares
    from threadpoolctl import threadpool_limits

    user_items = weigh(counts, weighting).T.tocsr()
    with threadpool_limits(1, "blas"):  # implicit's advice: its own threads, one BLAS thread
        model = AlternatingLeastSquares(
            factors=factors, regularization=regularization, alpha=alpha, iterations=iterations,
            random_state=seed,
        )  # fmt: skip
        model.fit(user_items, show_progress=False)
    return Factors(_float32(model.item_factors), _float32(model.user_factors))


def bpr(
    counts,
    factors: int = 64,
    learning_rate: float = 0.01,
    regularization: float = 0.01,
    iterations: int = 100,
    seed: int = 0,
) -> Factors:
    """implicit's BPR, books as items (one thread: reproducible); the item factors
    carry the item bias as their last column, as implicit trains them."""
    from implicit.cpu.bpr import BayesianPersonalizedRanking

    model = BayesianPersonalizedRanking(
        factors=factors, learning_rate=learning_rate, regularization=regularization,
        iterations=iterations, num_threads=1, random_state=seed,
    )  # fmt: skip
    model.fit(binary(counts).T.tocsr(), show_progress=False)
    return Factors(_float32(model.item_factors), _float32(model.user_factors))


def ease(counts, l2: float = 100.0) -> ItemItem:
    """Steck's EASE on the 0/1 matrix, books as items: dense ``B`` (n_books, n_books)."""
    from scipy import linalg

    sets = binary(counts)
    n = sets.shape[0]
    if n > EASE_MAX_BOOKS:
        raise TooLarge(
            f"ease: {n:,} books is above its dense inverse's limit of {EASE_MAX_BOOKS:,} "
            f"(two {n:,} x {n:,} matrices of float64)"
        )
    gram = (sets @ sets.T).toarray().astype(np.float64)
    gram[np.diag_indices(n)] += l2
    # P = G^-1 by Cholesky: G is symmetric positive definite once l2 > 0
    factor, info = linalg.lapack.dpotrf(gram, lower=False, overwrite_a=True, clean=True)
    if info != 0:
        raise ValueError(f"ease: the Gram matrix is not positive definite (l2={l2})")
    inverse, info = linalg.lapack.dpotri(factor, lower=False, overwrite_c=True)
    inverse = np.triu(inverse) + np.triu(inverse, 1).T
    weights = inverse / -np.diag(inverse)[None, :]
    weights[np.diag_indices(n)] = 0.0
    return ItemItem(weights.astype(np.float32), sets)


def rp3beta(counts, alpha: float = 1.0, beta: float = 0.5, top_k: int = 100) -> ItemItem:
    """RP3beta: sparse ``S`` (n_books, n_books) with ``top_k`` entries a row."""
    from scipy import sparse
    from sklearn.preprocessing import normalize

    sets = binary(counts)
    book_to_link = normalize(sets, norm="l1", axis=1)
    link_to_book = normalize(sets.T.tocsr(), norm="l1", axis=1)
    if alpha != 1:
        book_to_link.data **= alpha
        link_to_book.data **= alpha
    n = sets.shape[0]
    degree = np.asarray(sets.sum(1)).ravel()
    penalty = np.power(np.maximum(degree, 1), -beta).astype(np.float32)
    keep = min(top_k, n - 1)
    rows, cols, vals = [], [], []
    batch = max(1, 2**24 // max(n, 1))
    for start in range(0, n, batch):
        block = (book_to_link[start : start + batch] @ link_to_book).toarray()
        block *= penalty[None, :]
        local = np.arange(len(block))
        block[local, start + local] = 0.0
        best = np.argpartition(-block, keep - 1, axis=1)[:, :keep]
        values = np.take_along_axis(block, best, axis=1)
        rows.append(np.repeat(start + local, keep))
        cols.append(best.ravel())
        vals.append(values.ravel())
    weights = sparse.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n)
    )
    weights.eliminate_zeros()
    return ItemItem(weights.astype(np.float32), sets)


def node2vec(
    counts,
    dim: int = 128,
    p: float = 1.0,
    q: float = 1.0,
    walks_per_node: int = 10,
    walk_length: int = 40,
    window: int = 5,
    epochs: int = 1,
    seed: int = 0,
) -> Factors:
    """node2vec over the bipartite book-link graph (one Word2Vec worker: reproducible);
    books and links: their nodes' unit vectors, so a link's score is a cosine."""
    from gensim.models import Word2Vec

    from wikirec.nearest import unit_rows

    sets = binary(counts)
    n_books, n_links = sets.shape
    walks = bipartite_walks(sets, p, q, walks_per_node, walk_length, seed)
    sentences = [[str(node) for node in walk] for walk in walks.tolist()]
    model = Word2Vec(
        sentences, vector_size=dim, window=window, min_count=0, sg=1, negative=5, workers=1,
        epochs=epochs, seed=seed,
    )  # fmt: skip
    vectors = np.zeros((n_books + n_links, dim), np.float32)
    for key, row in model.wv.key_to_index.items():
        vectors[int(key)] = model.wv.vectors[row]
    vectors = unit_rows(vectors)
    return Factors(vectors[:n_books], vectors[n_books:])


def bipartite_walks(
    sets, p: float, q: float, walks_per_node: int, walk_length: int, seed: int = 0
) -> np.ndarray:
    """node2vec's walks over the graph of books (nodes ``0..n_books-1``) and links (nodes
    ``n_books + link``), an edge where ``sets`` is nonzero.

    Returns int64 (n_walks, walk_length): ``walks_per_node`` walks from every node with
    an edge. Each step after the first leaves node ``v`` (reached from ``t``) for a
    neighbour ``x`` with weight ``1/p`` if ``x == t``, else ``1/q`` (on a bipartite
    graph no neighbour of ``v`` is a neighbour of ``t``): a neighbour drawn uniformly
    is kept with probability weight / max(1/p, 1/q), else drawn again.
    """
    from scipy import sparse

    n_books, n_links = sets.shape
    graph = sparse.bmat([[None, sets], [sets.T, None]], format="csr")
    start, neighbours = graph.indptr.astype(np.int64), graph.indices.astype(np.int64)
    degree = np.diff(start)
    rng = np.random.default_rng(seed)
    nodes = np.repeat(np.flatnonzero(degree > 0), walks_per_node)
    rng.shuffle(nodes)
    walks = np.zeros((len(nodes), walk_length), np.int64)
    walks[:, 0] = nodes

    def uniform_neighbour(at: np.ndarray) -> np.ndarray:
        return neighbours[start[at] + (rng.random(len(at)) * degree[at]).astype(np.int64)]

    if walk_length > 1:
        walks[:, 1] = uniform_neighbour(nodes)
    back, away = 1.0 / p, 1.0 / q
    top = max(back, away)
    for step in range(2, walk_length):
        previous, current = walks[:, step - 2], walks[:, step - 1]
        chosen = np.full(len(nodes), -1, np.int64)
        todo = np.arange(len(nodes))
        while len(todo):
            candidate = uniform_neighbour(current[todo])
            weight = np.where(candidate == previous[todo], back, away)
            accept = rng.random(len(todo)) * top < weight
            chosen[todo[accept]] = candidate[accept]
            todo = todo[~accept]
        walks[:, step] = chosen
    return walks


def _float32(array) -> np.ndarray:
    """implicit's factors as a float32 NumPy array (they may come as its own type)."""
    array = array.to_numpy() if hasattr(array, "to_numpy") else array
    return np.ascontiguousarray(array, dtype=np.float32)


# The parameters each anchor is tried at, on a validation slice of the training pairs
# (wikirec.evaluate): the documented defaults and their neighbourhood. ``DIM`` stands
# for the evaluation's --dim (200): factors at a quarter, a half and all of it.
DIM = "dim"
GRIDS: dict[str, list[dict]] = {
    "als": [
        {"factors": f, "regularization": r, "weighting": w}
        for w in ("bm25", "tfidf", "none")
        for f in (0.25, 0.5, 1.0)
        for r in (0.01, 0.1, 1.0)
    ],
    "bpr": [
        {"factors": f, "learning_rate": lr, "regularization": r}
        for f in (0.5, 1.0)
        for lr in (0.01, 0.05)
        for r in (0.001, 0.01)
    ],
    "ease": [{"l2": l2} for l2 in (10.0, 50.0, 200.0, 500.0, 2000.0)],
    "rp3beta": [{"alpha": a, "beta": b, "top_k": 100} for a in (0.5, 1.0) for b in (0.0, 0.3, 0.6)],
    "node2vec": [{"p": 1.0, "q": q} for q in (0.5, 1.0, 2.0)],  # q: outward or near home
}
# Whose ``factors`` (or ``dim``) is a share of the evaluation's dimension.
SCALED = {"als": "factors", "bpr": "factors"}
FIT = {"als": als, "bpr": bpr, "ease": ease, "rp3beta": rp3beta, "node2vec": node2vec}
SEEDED = ("als", "bpr", "node2vec")  # their result depends on the seed
