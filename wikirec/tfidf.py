"""Books as sets of links, weighted by TF-IDF.

A book's link set is a 0/1 row over the links (a link named twice counts once). Its
TF-IDF row weighs each link by the smoothed idf ``ln((1 + n_books) / (1 + books of the
link)) + 1`` (scikit-learn's) and is scaled to length 1: the weighting of the
evaluation's ``tfidf`` baseline, ``wikirec classify``'s features, the shared pages of
:meth:`wikirec.recommend.Recommender.why`, and the mean a ``link_mean`` book vector is.
:func:`category_weights` weighs the ``Category:`` columns up or down
(``--category-weight``), for the model's mean and the baselines alike.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from wikirec.titles import category_links


def link_sets(pairs: np.ndarray, n_books: int, n_links: int):
    """scipy CSR (n_books, n_links), float32: 1.0 where a book meets a link in
    ``pairs`` (int (n, 2), (book, link), repeats allowed)."""
    from scipy import sparse

    pairs = np.unique(np.asarray(pairs), axis=0)
    ones = np.ones(len(pairs), dtype=np.float32)
    return sparse.csr_matrix((ones, (pairs[:, 0], pairs[:, 1])), shape=(n_books, n_links))


def link_sides(out_pairs: np.ndarray, in_pairs: np.ndarray | None, n_books: int, n_links: int):
    """scipy CSR (n_books, n_links), int8: how each book meets each page, 1 it links to
    the page (``out_pairs``), 2 the page links to it (``in_pairs``, or None), 3 both, 0
    neither. Pairs are int (n, 2), (book, page), repeats allowed."""
    sides = link_sets(np.asarray(out_pairs).reshape(-1, 2), n_books, n_links)
    if in_pairs is not None:
        sides = sides + 2 * link_sets(np.asarray(in_pairs).reshape(-1, 2), n_books, n_links)
    return sides.astype(np.int8).tocsr()


def smooth_idf(books_per_link: np.ndarray, n_books: int) -> np.ndarray:
    """The smoothed inverse document frequency of each link."""
    return np.log((1 + n_books) / (1 + books_per_link)) + 1


def tfidf_matrix(sets):
    """TF-IDF rows (scikit-learn, smoothed idf, unit rows) of a 0/1 book x link matrix."""
    from sklearn.feature_extraction.text import TfidfTransformer

    return TfidfTransformer(norm="l2", smooth_idf=True).fit_transform(sets).astype(np.float32)


def category_weights(link_titles: Iterable[str], weight: float) -> np.ndarray | None:
    """float32 (n_links,): ``weight`` for each ``Category:`` page, 1 for the others, to
    multiply the columns of the TF-IDF rows by; None when ``weight`` is 1."""
    if weight == 1:
        return None
    return np.where(category_links(link_titles), weight, 1.0).astype(np.float32)
