"""How a trained model ranks pages for a book, the same way for use and evaluation.

:class:`LinkScorer` scores every page (link) for query book vectors:

- **the model's score**: the cosine of the book and the page, times the model's scale,
  plus the page's bias for a model with biases (its logit but for the book's own bias,
  which does not change a book's ranking of pages);
- **the neighbours' pages**, for a model whose recipe gives them a weight
  (``link_mean``): the book's ``NEIGHBOURS`` (20) nearest books by cosine of the
  model's own book vectors each vote ``max(cosine, 0)`` for every page they meet in the
  build (links they make and pages linking to them); the query books themselves do
  not vote;
- the two mixed per book: ``(1 - w) * z(model) + w * z(neighbours)``, where ``z``
  standardises a book's scores over all pages (mean 0, standard deviation 1) so that
  neither scale dominates.

Why the mix: the model's score alone ranks a book's held-out links better than any
baseline on average (AUC), but on a large graph not at the top (recall@50): the vote of
the model's own nearest books brings what a kNN does best there, the rare pages those
books share. README, Quality, has the
numbers. A model read without its build, or with a weight of 0, ranks by the model's
score alone.

``wikirec recommend`` (pages for a book), the :class:`~wikirec.recommend.Recommender`
API and ``wikirec evaluate`` (held-out links of a trained model) all rank through this
class. :func:`link_scores_by_loops` states the same arithmetic as plain loops; the tests
hold the two equal.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from wikirec.nearest import SCORE_BUDGET, top_k

NEIGHBOURS = 20  # books that vote for the pages they meet (README, Quality: K chosen on p15)


class LinkScorer:
    """Scores of every page for book vectors, as the trained model ranks them.

    Parameters
    ----------
    link_vectors : float32 (n_links, dim), the model's page vectors as unit rows (kept,
        not copied)
    link_bias : float (n_links,), the model's page biases, or None
    scale : the cosine's scale in the model's score
    book_vectors : float32 (n_books, dim), the model's book vectors as unit rows (kept),
        for the neighbours' vote; None: the model's score alone
    book_pages : scipy sparse (n_books, n_links), nonzero where a book meets a page in
        the build (out or in); None: the model's score alone
    neighbour_weight : ``w`` in the mix, in [0, 1]
    neighbours : how many nearest books vote
    """

    def __init__(
        self,
        link_vectors: np.ndarray,
        link_bias: np.ndarray | None = None,
        scale: float = 1.0,
        book_vectors: np.ndarray | None = None,
        book_pages=None,
        neighbour_weight: float = 0.0,
        neighbours: int = NEIGHBOURS,
    ) -> None:
        if not 0 <= neighbour_weight <= 1:
            raise ValueError(f"the neighbours' weight must be in [0, 1], not {neighbour_weight}")
        self.links = np.asarray(link_vectors, np.float32)
        self.link_bias = None if link_bias is None else np.asarray(link_bias, np.float32)
        self.scale = float(scale)
        self.neighbour_weight = float(neighbour_weight)
        self.neighbours = int(neighbours)
        voting = neighbour_weight > 0 and book_vectors is not None and book_pages is not None
        self.books = np.asarray(book_vectors, np.float32) if voting else None
        self.book_pages = (book_pages != 0).astype(np.float32).tocsr() if voting else None

    @property
    def measure(self) -> str:
        """What its scores are called: ``"score"`` when the model has page biases (not a
        cosine then), else ``"similarity"``."""
        return "score" if self.link_bias is not None else "similarity"

    @property
    def mixes(self) -> bool:
        """Whether the neighbours' vote is part of the score."""
        return self.books is not None

    def model_scores(self, queries: np.ndarray) -> np.ndarray:
        """``scale * cosine (+ page bias)`` of every page: float32 (b, n_links) for
        ``queries`` of shape (b, dim) or (dim,) (unit rows)."""
        scores = self.scale * (np.atleast_2d(queries) @ self.links.T)
        if self.link_bias is not None:
            scores += self.link_bias
        return scores.astype(np.float32)

    def neighbour_scores(
        self, queries: np.ndarray, exclude: Sequence[Sequence[int]] | None = None
    ) -> np.ndarray:
        """The vote of each query's nearest books: float32 (b, n_links), the sum over the
        ``neighbours`` books closest by cosine (but for the rows of ``exclude[i]``) of
        ``max(cosine, 0)`` where the book meets the page. Needs :attr:`mixes`.

        Memory: the query x book cosines are made ``SCORE_BUDGET`` floats at a time."""
        queries = np.atleast_2d(queries)
        nearest = np.zeros((len(queries), min(self.neighbours, len(self.books))), np.int64)
        weights = np.zeros(nearest.shape, np.float32)
        left_out = [] if exclude is None else exclude
        step = max(1, SCORE_BUDGET // max(len(self.books), 1))
        for start in range(0, len(queries), step):
            cosines = queries[start : start + step] @ self.books.T
            for i, rows in enumerate(left_out[start : start + step]):
                cosines[i, np.asarray(rows, np.int64)] = -np.inf
            found = top_k(cosines, self.neighbours)
            nearest[start : start + step] = found
            weights[start : start + step] = np.take_along_axis(cosines, found, 1)
        return neighbour_vote(self.book_pages, nearest, weights)

    def scores(
        self, queries: np.ndarray, exclude: Sequence[Sequence[int]] | None = None
    ) -> np.ndarray:
        """How the model ranks every page for each query: float (b, n_links).

        ``queries``: unit book vectors (b, dim) or (dim,); ``exclude[i]``: the books that
        do not vote for query ``i`` (the query's own books). The model's score alone, or
        the mix of standardised scores when :attr:`mixes`."""
        model = self.model_scores(queries)
        if not self.mixes:
            return model
        votes = self.neighbour_scores(queries, exclude)
        w = self.neighbour_weight
        return ((1 - w) * standardise(model) + w * standardise(votes)).astype(np.float32)


def standardise(scores: np.ndarray) -> np.ndarray:
    """Each row less its mean, over its standard deviation (a constant row: zeros)."""
    scores = np.asarray(scores, np.float64)
    spread = scores.std(axis=1, keepdims=True)
    return (scores - scores.mean(axis=1, keepdims=True)) / np.where(spread == 0, 1, spread)


def neighbour_vote(book_pages, nearest: np.ndarray, cosines: np.ndarray) -> np.ndarray:
    """The kNN score of every page: float32 (b, n_links), for each query ``i`` the sum
    over its neighbours ``nearest[i, j]`` (int (b, k)) of ``max(cosines[i, j], 0)`` times
    the neighbour's row of ``book_pages`` (scipy sparse (n_books, n_links)). The
    ``tfidf`` baseline of ``wikirec evaluate`` scores links the same way over TF-IDF
    neighbours."""
    from scipy import sparse

    b, k = nearest.shape
    weights = np.maximum(cosines, 0).ravel()
    picks = sparse.csr_matrix(
        (weights, (np.repeat(np.arange(b), k), nearest.ravel())), shape=(b, book_pages.shape[0])
    )
    return (picks @ book_pages).toarray().astype(np.float32)


def link_scores_by_loops(
    query: Sequence[float],
    books: Sequence[Sequence[float]],
    book_pages: Sequence[set[int]],
    links: Sequence[Sequence[float]],
    link_bias: Sequence[float] | None,
    scale: float,
    neighbour_weight: float,
    exclude: Sequence[int] = (),
    neighbours: int = NEIGHBOURS,
) -> list[float]:
    """:meth:`LinkScorer.scores` of one query written as plain loops over Python
    numbers (unit vectors given): the statement the vectorised class is tested against.
    ``book_pages[j]`` is the set of pages book ``j`` meets."""

    def dot(a, b):
        return sum(x * y for x, y in zip(a, b, strict=True))

    model = [scale * dot(query, link) + (link_bias[p] if link_bias is not None else 0.0)
             for p, link in enumerate(links)]  # fmt: skip
    if neighbour_weight == 0:
        return model
    candidates = [(dot(query, book), j) for j, book in enumerate(books) if j not in exclude]
    candidates.sort(key=lambda pair: (-pair[0], pair[1]))  # ties: the lower row first
    votes = [0.0] * len(links)
    for cosine, j in candidates[:neighbours]:
        for page in book_pages[j]:
            votes[page] += max(cosine, 0.0)

    def z(values):
        mean = sum(values) / len(values)
        spread = (sum((v - mean) ** 2 for v in values) / len(values)) ** 0.5
        return [(v - mean) / (spread or 1.0) for v in values]

    return [(1 - neighbour_weight) * m + neighbour_weight * v
            for m, v in zip(z(model), z(votes), strict=True)]  # fmt: skip
