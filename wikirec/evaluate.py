"""Measured quality: ``wikirec evaluate`` (and ``wikirec classify``).

The reference judged its embeddings by eye. Here every method is fitted on the same
training split of one build and measured by the same code, in one run:

Held-out links
    :func:`split_pairs` hides a seeded ``fraction`` (10%, rounded up) of the distinct
    links of every book with at least ``min_links`` (5) distinct links: every
    occurrence of a hidden (book, link) pair leaves the training pairs. Each method
    then scores every link for each such book; the links the book has in training
    are left out of the ranking, and the rest are ranked. ``recall@10``,
    ``recall@50``: the share of the book's hidden links in the top 10 / 50, averaged
    over the books. ``auc``: the per-book ROC AUC of the hidden links against
    ``n_negatives`` (100) non-links drawn once per book (links the book has in
    neither part; ties count half), averaged over the books.

Metadata agreement
    For the infobox fields ``author``, ``series``, ``genre``, ``country`` (values
    compared case-folded, spaces collapsed) and for categories (the parse's
    ``categories``, or the build's ``category:`` links when the articles are not at
    hand; two books agree when they share one): ``<field> p@5`` and ``p@10``, the share
    of a book's 5 / 10 nearest books (itself excluded) that agree with it, averaged
    over the books whose value some other book shares. Neighbours are found by
    :func:`wikirec.nearest.cosine_top_k` over each method's book representation,
    the same code for every method and for ``wikirec recommend``.

Methods (:data:`BASELINES` and the recipes)
    ``popularity``: links ranked by how many training books link to them; every book
    gets the same neighbours, the books with the most links (the chance level of the
    metadata metrics). ``tfidf``: rows of the TF-IDF matrix of the link *sets*
    (scikit-learn's smoothed idf, unit rows); a link's score for a book is the sum of
    its ``KNN`` (50) nearest books' cosines over those that link to it. ``lsa``:
    truncated SVD of that TF-IDF matrix to ``dim`` dimensions, book rows ``U S``,
    links scored by the rank-``dim`` reconstruction. ``doc2vec``: gensim's Doc2Vec
    PV-DBOW over the same pairs (a book is a document whose words are its links,
    repeats kept; one worker, seeded, so reproducible), links scored by the document
    vector against the output weights (rows found through gensim's own vocabulary
    order, ``wv.key_to_index``), as it was trained. Trained recipes (each of
    :data:`wikirec.recipes.RECIPE_NAMES`, :func:`wikirec.train.train` on the training
    split, written to ``WORK/split``): book vectors, links scored as ``wikirec
    recommend`` ranks them (:class:`wikirec.scoring.LinkScorer`): by cosine (for the
    models with biases, their logit's scale and link bias), and for ``link_mean`` that
    score mixed with the vote of the book's nearest books, over the training links.
    A category weight (``--category-weight``) multiplies every ``Category:`` column
    alike: of TF-IDF's rows (and so of LSA's input) and of ``link_mean``'s mean.

This module imports TensorFlow only through ``wikirec.train`` inside the functions
that train.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from wikirec import anchors
from wikirec.built import (
    TrainingData,
    fold_value,
    load_training_data,
    parse_folder,
    write_build,
)
from wikirec.cli import (
    MAX_SEED,
    MAX_SEEDS,
    at_most,
    non_negative_float,
    non_negative_int,
    positive_float,
    positive_int,
)
from wikirec.errors import WikirecError
from wikirec.io import parquet_columns, write_json_atomic, write_set_atomic, write_text_atomic
from wikirec.nearest import SCORE_BUDGET, cosine_top_k, top_k
from wikirec.progress import progress_bar
from wikirec.recipes import (
    DEFAULT_RECIPE,
    INPUTS,
    LIMITS,
    OPTIMIZERS,
    RECIPE_NAMES,
    RECIPES,
)
from wikirec.scoring import neighbour_vote
from wikirec.tfidf import category_weights, link_sets, tfidf_matrix
from wikirec.titles import category_links
from wikirec.trained import BOOKS, read_trained

FIELDS = ("author", "series", "genre", "country")
CATEGORIES = "category"
KS_RECALL = (10, 50)
KS_PRECISION = (5, 10)
KNN = 50


class EvaluateError(WikirecError):
    """Bad input for the evaluation; the message is one line."""


# --------------------------------------------------------------------------- split


@dataclass
class Split:
    """A held-out split of a build's pairs.

    Attributes
    ----------
    train_pairs : int32 (n_train, 2), the pairs left for training (repeats kept)
    hidden : int32 (n_hidden, 2), the hidden distinct (book, link) pairs, sorted
    eval_books : int64 (n_eval,), the books with hidden links, ascending
    negatives : list of int64 arrays, one per eval book: sampled non-links
    params : how the split was drawn
    in_train : int32 (n_in_train, 2), the in-link pairs left for training: the build's,
        but for the other side of each hidden link between two books
    """

    train_pairs: np.ndarray
    hidden: np.ndarray
    eval_books: np.ndarray
    negatives: list[np.ndarray]
    params: dict = field(default_factory=dict)
    in_train: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.int32))

    def hidden_of(self) -> list[np.ndarray]:
        """The hidden links of each eval book, in ``eval_books`` order."""
        return _group(self.hidden, self.eval_books)

    def summary(self) -> dict:
        return {
            **self.params,
            "eval_books": int(len(self.eval_books)),
            "hidden_pairs": int(len(self.hidden)),
            "train_pairs": int(len(self.train_pairs)),
            "train_in_pairs": int(len(self.in_train)),
        }

    def graph_pairs(self) -> np.ndarray:
        """int32 (n, 2): the training out-link pairs, then the training in-link pairs."""
        return np.concatenate([self.train_pairs, self.in_train]).astype(np.int32)


def split_pairs(
    pairs: np.ndarray,
    n_links: int,
    fraction: float = 0.1,
    min_links: int = 5,
    n_negatives: int = 100,
    seed: int = 0,
    in_pairs: np.ndarray | None = None,
    own_links: np.ndarray | None = None,
) -> Split:
    """Hide ``ceil(fraction * n)`` of the ``n`` distinct links of each book with
    ``n >= min_links``, drawn with ``numpy.random.default_rng(seed)``.

    Parameters
    ----------
    pairs : int array (n_pairs, 2), (book, link) with repeats
    n_links : number of links (link indices are below it)
    in_pairs : int array (n_in, 2), the build's in-link pairs (book, link), or None
    own_links : int (n_books,), each book's own link row or -1 (the build's
        ``link_index``): a hidden link from book A to book B is hidden both ways, so
        B's in-link from A leaves the training pairs too

    Returns
    -------
    Split ; no training pair is a hidden pair (every occurrence is removed).
    """
    if not 0 < fraction < 1:
        raise EvaluateError(f"the held-out fraction must be between 0 and 1, not {fraction}")
    if min_links < 2:
        raise EvaluateError(f"min_links must be at least 2, not {min_links}")
    pairs = np.asarray(pairs)
    codes = pairs[:, 0].astype(np.int64) * n_links + pairs[:, 1]
    unique = np.unique(codes)
    books = unique // n_links
    rng = np.random.default_rng(seed)
    order = np.lexsort((rng.random(len(unique)), books))  # shuffled within each book
    starts = np.searchsorted(books, books)  # books are sorted: first row of each book
    rank = np.empty(len(unique), dtype=np.int64)
    rank[order] = np.arange(len(unique)) - starts[order]
    per_book = np.bincount(books, minlength=books.max() + 1 if len(books) else 0)
    n_hide = np.where(per_book >= min_links, np.ceil(per_book * fraction), 0).astype(np.int64)
    hide = rank < n_hide[books]
    hidden_codes = unique[hide]
    train = pairs[~np.isin(codes, hidden_codes)].astype(np.int32)
    hidden = np.stack([hidden_codes // n_links, hidden_codes % n_links], axis=1).astype(np.int32)
    eval_books = np.unique(hidden[:, 0]).astype(np.int64)
    known = _group(np.stack([books, unique % n_links], axis=1), eval_books)
    negatives = [_sample_non_links(rng, n_links, have, n_negatives) for have in known]
    params = {
        "fraction": fraction,
        "min_links": min_links,
        "n_negatives": n_negatives,
        "seed": seed,
    }
    in_train = _in_pairs_without(in_pairs, hidden, own_links, n_links)
    return Split(train, hidden, eval_books, negatives, params, in_train)


def _in_pairs_without(
    in_pairs: np.ndarray | None, hidden: np.ndarray, own_links: np.ndarray | None, n_links: int
) -> np.ndarray:
    """The in-link pairs but for the other side of each hidden link between two books:
    hidden (A, link of B) drops B's in-link (B, link of A)."""
    if in_pairs is None or len(in_pairs) == 0:
        return np.zeros((0, 2), np.int32)
    in_pairs = np.asarray(in_pairs, np.int64)
    if own_links is None or len(hidden) == 0:
        return in_pairs.astype(np.int32)
    own_links = np.asarray(own_links, np.int64)
    book_of_link = np.full(n_links, -1, np.int64)
    has_link = np.flatnonzero(own_links >= 0)
    book_of_link[own_links[has_link]] = has_link
    target_book = book_of_link[hidden[:, 1]]
    source_link = own_links[hidden[:, 0]]
    both = (target_book >= 0) & (source_link >= 0)
    reverse = target_book[both] * n_links + source_link[both]
    codes = in_pairs[:, 0] * n_links + in_pairs[:, 1]
    return in_pairs[~np.isin(codes, reverse)].astype(np.int32)


def _group(pairs: np.ndarray, books: np.ndarray) -> list[np.ndarray]:
    """The links of each book in ``books`` (pairs sorted by book), int64 arrays."""
    pairs = np.asarray(pairs, dtype=np.int64)
    order = np.argsort(pairs[:, 0], kind="stable")
    sorted_books, links = pairs[order, 0], pairs[order, 1]
    lo = np.searchsorted(sorted_books, books, side="left")
    hi = np.searchsorted(sorted_books, books, side="right")
    return [links[a:b] for a, b in zip(lo, hi, strict=True)]


def _sample_non_links(rng, n_links: int, have: np.ndarray, n: int) -> np.ndarray:
    """Up to ``n`` links not in ``have``, uniformly without replacement, sorted."""
    draw = rng.choice(n_links, size=min(n + len(have), n_links), replace=False)
    return np.sort(draw[~np.isin(draw, have)][:n]).astype(np.int64)


def write_split_build(data: TrainingData, split: Split, out: str | os.PathLike) -> Path:
    """Write the training part of ``split`` as a build ``wikirec train`` reads: the same
    books and links (same indices), the training pairs, counts recomputed."""
    pairs = split.train_pairs
    n_books, n_links = data.n_books, data.n_links
    unique = np.unique(pairs[:, 0].astype(np.int64) * n_links + pairs[:, 1])
    in_unique = np.unique(split.in_train[:, 0].astype(np.int64) * n_links + split.in_train[:, 1])
    books = data.books.assign(n_pairs=np.bincount(pairs[:, 0], minlength=n_books))
    links = data.links.assign(
        count=np.bincount(np.union1d(unique, in_unique) % n_links, minlength=n_links),
        occurrences=np.bincount(pairs[:, 1], minlength=n_links),
        out_books=np.bincount(unique % n_links, minlength=n_links),
        in_books=np.bincount(in_unique % n_links, minlength=n_links),
    )
    summary = json.loads(json.dumps(data.summary))
    summary["pairs"] = {"kept": int(len(pairs)), "unique": int(len(unique))}
    summary["held_out"] = split.summary()
    return write_build(Path(out), _arrow(books), _arrow(links), pairs, split.in_train, summary)


def _arrow(frame: pd.DataFrame):
    import pyarrow as pa

    return pa.Table.from_pandas(frame, preserve_index=False)


# --------------------------------------------------------------------------- metrics


def heldout_metrics(
    link_scores: Callable[[np.ndarray], np.ndarray],
    split: Split,
    n_links: int,
    ks: Sequence[int] = KS_RECALL,
    progress: bool = False,
) -> dict[str, float]:
    """Recall@k and AUC of the hidden links (see the module docstring).

    ``link_scores(books)`` gives the scores of every link for the books: float (b,
    n_links), higher is more likely.
    """
    hidden = split.hidden_of()
    known = _group(split.train_pairs, split.eval_books)
    recalls = {k: np.zeros(len(split.eval_books)) for k in ks}
    aucs = np.zeros(len(split.eval_books))
    batch = max(1, SCORE_BUDGET // max(n_links, 1))
    with progress_bar(
        total=len(split.eval_books), desc="held-out", leave=False, enabled=progress
    ) as bar:
        for start in range(0, len(split.eval_books), batch):
            rows = np.arange(start, min(start + batch, len(split.eval_books)))
            scores = np.array(link_scores(split.eval_books[rows]))  # a copy, of its dtype
            if not np.issubdtype(scores.dtype, np.floating):
                scores = scores.astype(np.float64)
            for i, row in enumerate(rows):
                scores[i, known[row]] = -np.inf  # training links are not candidates
            ranked = top_k(scores, max(ks))
            for i, row in enumerate(rows):
                for k in ks:
                    recalls[k][row] = np.isin(hidden[row], ranked[i, :k]).mean()
                aucs[row] = pair_auc(scores[i, hidden[row]], scores[i, split.negatives[row]])
            bar.update(len(rows))
    metrics = {f"recall@{k}": float(recalls[k].mean()) for k in ks}
    metrics["auc"] = float(np.nanmean(aucs)) if len(aucs) else math.nan
    return metrics


def pair_auc(positive: np.ndarray, negative: np.ndarray) -> float:
    """ROC AUC of ``positive`` scores against ``negative`` ones: the share of (positive,
    negative) pairs ordered right, ties counted half (nan if either is empty)."""
    if len(positive) == 0 or len(negative) == 0:
        return math.nan
    diff = np.asarray(positive, np.float64)[:, None] - np.asarray(negative, np.float64)[None, :]
    return float(((diff > 0) + 0.5 * (diff == 0)).mean())


def book_labels(data: TrainingData, articles_dir: str | os.PathLike | None = None) -> dict:
    """The metadata of every book: ``{field: list of frozensets}``, one set per book.

    Infobox fields hold one value (case-folded, spaces collapsed; empty: no value);
    ``category`` holds the book's categories (see :func:`book_categories`).
    """
    labels = {name: [_values(v) for v in data.books[name].tolist()] for name in FIELDS}
    labels[CATEGORIES] = book_categories(data, articles_dir)
    return labels


def _values(raw) -> frozenset:
    text = fold_value(raw)
    return frozenset([text]) if text else frozenset()


def book_categories(data: TrainingData, articles_dir: str | os.PathLike | None = None) -> list:
    """Each book's categories, from the parse's ``articles.parquet`` (``articles_dir``,
    default: the one named in ``build.json``), else the build's ``category:`` links."""
    folder = articles_dir or data.summary.get("params", {}).get("articles_dir")
    path = Path(folder) / "articles.parquet" if folder else None
    if path is not None and path.is_file() and "categories" in parquet_columns(path):
        articles = pd.read_parquet(path, columns=["title", "categories"])
        articles = articles.drop_duplicates("title").set_index("title")["categories"]
        found = articles.reindex(data.books["title"])
        return [
            frozenset(fold_value(c) for c in cats) if cats is not None else
            frozenset() for cats in found.tolist()
        ]  # fmt: skip
    is_category = category_links(data.links["title"])
    pairs = np.asarray(data.pairs)
    pairs = pairs[is_category[pairs[:, 1]]]
    titles = data.links["title"].to_numpy()
    grouped = _group(pairs, np.arange(data.n_books))
    return [frozenset(titles[links].tolist()) for links in grouped]


def eligible_books(labels: Sequence[frozenset]) -> np.ndarray:
    """bool (n_books,): the books with a label some other book has too."""
    counts: dict = {}
    for values in labels:
        for value in values:
            counts[value] = counts.get(value, 0) + 1
    return np.array([any(counts[v] >= 2 for v in values) for values in labels], dtype=bool)


def precision_at_k(
    neighbours: np.ndarray, labels: Sequence[frozenset], ks: Sequence[int] = KS_PRECISION
) -> tuple[dict[int, float], int]:
    """Precision@k of metadata agreement, over the books whose labels another book shares.

    Parameters
    ----------
    neighbours : int (n_books, >= max(ks)), each book's nearest books, best first
    labels : one set per book; books agree when their sets intersect

    Returns
    -------
    ({k: mean precision}, number of books averaged over); nan when no book is counted
    (a field nobody fills, such as ``series`` on generated data)
    """
    eligible = eligible_books(labels)
    rows = np.flatnonzero(eligible)
    agree = np.array(
        [[bool(labels[i] & labels[j]) for j in neighbours[i, : max(ks)]] for i in rows], bool
    ).reshape(len(rows), max(ks))
    result = {k: float(agree[:, :k].sum(1).mean() / k) if len(rows) else math.nan for k in ks}
    return result, int(len(rows))


# --------------------------------------------------------------------------- methods


@dataclass
class Fitted:
    """A method fitted on the training split.

    Attributes
    ----------
    books : the book representation (n_books, d), dense or scipy sparse; neighbours
        are found by cosine over its rows. None: ``neighbours`` is given instead.
    link_scores : book indices (b,) -> float scores (b, n_links)
    seconds : time to fit spent before this run (a model trained ahead of it)
    neighbours : (n_books, k) -> int (n_books, k), for a method without ``books``
    info : anything worth reporting (parameters, epochs)
    """

    books: object
    link_scores: Callable[[np.ndarray], np.ndarray]
    seconds: float = 0.0
    neighbours: Callable[[int], np.ndarray] | None = None
    info: dict = field(default_factory=dict)

    def nearest_books(self, k: int) -> np.ndarray:
        """int64 (n_books, k): each book's ``k`` nearest, itself excluded."""
        if self.books is None:
            return self.neighbours(k)
        return cosine_top_k(self.books, k=k)[0]


@dataclass
class Context:
    """What a method is fitted on: the training split, as arrays and as a build."""

    data: TrainingData
    split: Split
    split_dir: Path
    work: Path
    dim: int = 50
    seed: int = 0
    epochs: int | None = None
    progress: bool = False
    options: dict = field(default_factory=dict)
    inputs: str = "out"
    heldout: dict = field(default_factory=dict)  # method -> a folder of train_heldout
    measured: Split | None = None  # the part of the split measured (None: all of it)

    def __post_init__(self) -> None:
        if self.measured is None:
            self.measured = self.split

    @property
    def n_books(self) -> int:
        return self.data.n_books

    @property
    def n_links(self) -> int:
        return self.data.n_links

    def pairs(self) -> np.ndarray:
        """int32 (n, 2): the training pairs of :attr:`inputs` (out-links with repeats,
        then in-links)."""
        return self.split.graph_pairs() if self.inputs == "out+in" else self.split.train_pairs

    def counts(self):
        """scipy CSR (n_books, n_links), float32: how often a book meets a link in the
        training pairs of :attr:`inputs`."""
        from scipy import sparse

        pairs = self.pairs()
        ones = np.ones(len(pairs), np.float32)
        shape = (self.n_books, self.n_links)
        return sparse.coo_matrix((ones, (pairs[:, 0], pairs[:, 1])), shape=shape).tocsr()

    def link_sets(self):
        """scipy CSR (n_books, n_links) of 1.0 where a book meets a link in training
        (links it makes; with ``inputs="out+in"`` also the pages linking to it)."""
        return link_sets(self.pairs(), self.n_books, self.n_links)

    def category_weight(self, method: str) -> float:
        """The weight ``method`` gives ``Category:`` pages (its option; 1: as any page)."""
        return float(self.options.get(method, {}).get("category_weight", 1.0))

    def tfidf(self, method: str):
        """scipy CSR (n_books, n_links): the TF-IDF rows of :meth:`link_sets`, each
        ``Category:`` column times ``method``'s category weight, rows of length 1."""
        tfidf = tfidf_matrix(self.link_sets())
        weight = self.category_weight(method)
        if weight == 1:
            return tfidf
        from sklearn.preprocessing import normalize

        columns = category_weights(self.data.links["title"], weight)
        return normalize(tfidf.multiply(columns[None, :]).tocsr()).astype(np.float32)


def fit_popularity(ctx: Context) -> Fitted:
    """Links by how many training books link to them; the same books for everyone."""
    counts = np.asarray(ctx.link_sets().sum(0)).ravel().astype(np.float32)
    book_sizes = np.bincount(ctx.pairs()[:, 0], minlength=ctx.n_books)
    ranking = np.lexsort((np.arange(ctx.n_books), -book_sizes))

    def neighbours(k: int) -> np.ndarray:
        head = ranking[: k + 1]
        out = np.empty((ctx.n_books, k), dtype=np.int64)
        for book in range(ctx.n_books):
            out[book] = head[head != book][:k]
        return out

    return Fitted(None, lambda books: np.tile(counts, (len(books), 1)), neighbours=neighbours)


def fit_tfidf(ctx: Context) -> Fitted:
    """TF-IDF rows of the link sets; links scored by the book's ``KNN`` nearest books."""
    sets = ctx.link_sets()
    tfidf = ctx.tfidf("tfidf")
    nearest, cosines = cosine_top_k(tfidf, k=KNN)

    def link_scores(books: np.ndarray) -> np.ndarray:
        return neighbour_vote(sets, nearest[books], cosines[books])

    return Fitted(tfidf, link_scores, info=_weighted({"knn": KNN}, ctx, "tfidf"))


def fit_lsa(ctx: Context) -> Fitted:
    """Truncated SVD of the TF-IDF matrix: books ``U S``, links by reconstruction."""
    from sklearn.decomposition import TruncatedSVD

    tfidf = ctx.tfidf("lsa")
    dim = min(ctx.dim, min(tfidf.shape) - 1)
    svd = TruncatedSVD(n_components=dim, random_state=ctx.seed)
    books = svd.fit_transform(tfidf).astype(np.float32)
    components = svd.components_.astype(np.float32)
    info = _weighted({"dim": dim}, ctx, "lsa")
    return Fitted(books, lambda b: books[b] @ components, info=info)


def _weighted(info: dict, ctx: Context, method: str) -> dict:
    """``info`` with the method's category weight when it is not 1 (the row says so)."""
    weight = ctx.category_weight(method)
    return info if weight == 1 else {**info, "category_weight": weight}


def fit_doc2vec(ctx: Context) -> Fitted:
    """gensim Doc2Vec PV-DBOW on the training pairs (one worker, seeded)."""
    from gensim.models.doc2vec import Doc2Vec, TaggedDocument  # NEEDS: checked before

    params = dict(DOC2VEC)
    params["epochs"] = ctx.epochs or params["epochs"]
    words = [[] for _ in range(ctx.n_books)]
    for book, link in ctx.pairs().tolist():
        words[book].append(str(link))
    documents = [TaggedDocument(w, [b]) for b, w in enumerate(words)]
    doc2vec = Doc2Vec(
        documents, dm=0, vector_size=ctx.dim, min_count=1, workers=1, seed=ctx.seed, **params
    )
    books = np.asarray(doc2vec.dv.vectors, np.float32)  # tag b is row b
    out = np.full((ctx.n_links, ctx.dim), 0.0, np.float32)
    missing = np.ones(ctx.n_links, bool)
    for key, row in doc2vec.wv.key_to_index.items():
        out[int(key)] = doc2vec.syn1neg[row]
        missing[int(key)] = False
    low = np.float32(-1e30)

    def link_scores(b: np.ndarray) -> np.ndarray:
        scores = books[b] @ out.T
        scores[:, missing] = low
        return scores

    return Fitted(books, link_scores, info=params)


# gensim's PV-DBOW defaults but for the epochs: 100 (at the reference's 15 it has barely
# moved from its random start on p15: same-author p@5 0.07).
DOC2VEC = {"negative": 5, "hs": 0, "sample": 1e-3, "alpha": 0.025, "epochs": 100}


def fit_anchor(ctx: Context, name: str) -> Fitted:
    """The anchor ``name`` of :mod:`wikirec.anchors` at the parameters of its grid
    (:data:`wikirec.anchors.GRIDS`) that rank the hidden links of a validation slice of
    the training pairs best (recall@50; the first of equals), fitted again on all of
    them. The held-out pairs are never seen: the slice is drawn from the training
    pairs by :func:`split_pairs` as the test split is drawn from all pairs."""
    validation = validation_context(ctx)
    counts = validation.counts()  # once for the whole grid
    tried = []
    for params in anchors.GRIDS[name]:
        fitted = fit_anchor_at(validation, name, params, counts)
        score = heldout_metrics(fitted.link_scores, validation.measured, ctx.n_links)
        tried.append({**fitted.info, VALIDATION_METRIC: round(score[VALIDATION_METRIC], 4)})
    best = max(range(len(tried)), key=lambda i: (tried[i][VALIDATION_METRIC], -i))
    fitted = fit_anchor_at(ctx, name, anchors.GRIDS[name][best])
    fitted.info = {**fitted.info, "validation": tried}
    return fitted


VALIDATION_METRIC = "recall@50"  # what an anchor's parameters are chosen by
VALIDATION_BOOKS = 1_000  # books whose validation links are ranked, a seeded sample


def validation_context(ctx: Context) -> Context:
    """``ctx`` with a split of its own training pairs: what an anchor's parameters are
    chosen on (the same fraction and minimum; hidden links measured on at most
    :data:`VALIDATION_BOOKS` books)."""
    from dataclasses import replace

    split, data = ctx.split, ctx.data
    inner = split_pairs(
        split.train_pairs, data.n_links, split.params["fraction"], split.params["min_links"],
        split.params["n_negatives"], seed=[ctx.seed, VALIDATION_STREAM],
        in_pairs=split.in_train, own_links=data.own_links(),
    )  # fmt: skip
    return replace(ctx, split=inner, measured=measured_part(inner, VALIDATION_BOOKS, ctx.seed))


VALIDATION_STREAM = 0x7A1  # a random stream of its own for the validation slice


def fit_anchor_at(ctx: Context, name: str, params: dict, counts=None) -> Fitted:
    """Fit the anchor at ``params`` (a share of ``ctx.dim`` for its scaled size) on
    ``counts`` (default: :meth:`Context.counts` of ``ctx``)."""
    params = dict(params)
    if name in anchors.SCALED:
        key = anchors.SCALED[name]
        params[key] = max(1, round(params[key] * ctx.dim))
    if name == "node2vec":
        params["dim"] = ctx.dim
    if name in anchors.SEEDED:
        params["seed"] = ctx.seed
    model = anchors.FIT[name](ctx.counts() if counts is None else counts, **params)
    if isinstance(model, anchors.Factors):
        return Fitted(model.books, model.link_scores, info=params)
    return Fitted(None, model.link_scores, neighbours=model.neighbours, info=params)


BASELINES: dict[str, Callable[[Context], Fitted]] = {
    "popularity": fit_popularity,
    "tfidf": fit_tfidf,
    "lsa": fit_lsa,
    "doc2vec": fit_doc2vec,
    **{name: partial(fit_anchor, name=name) for name in anchors.FIT},
}
ANCHORS = tuple(anchors.FIT)
# Each baseline at every input it can take, so that it is compared at its best.
BASELINE_INPUTS = {"popularity": ("out",), "tfidf": ("out", "out+in"),
                   "lsa": ("out", "out+in"), "doc2vec": ("out", "out+in"),
                   **{name: ("out", "out+in") for name in ANCHORS}}  # fmt: skip
# baselines whose result depends on the seed: run like the models
SEEDED = ("doc2vec", *anchors.SEEDED)
# The library each needs beyond wikirec's own, and the extra that installs it.
NEEDS = {"doc2vec": ("gensim", "dev"), "als": ("implicit", "anchors"),
         "bpr": ("implicit", "anchors"), "node2vec": ("gensim", "anchors")}  # fmt: skip
# The methods that weigh a book's links, so that --category-weight is given to each.
CATEGORY_WEIGHTED = ("tfidf", "lsa", "link_mean")


def fit_trained(ctx: Context, name: str, options: dict) -> Fitted:
    """Train the recipe ``name`` with :func:`wikirec.train.train` on the split's
    build (``WORK/models/NAME-sSEED``), or read the model :func:`train_heldout` trained
    on this very split with these very options (``ctx.heldout``). Books are the book
    vectors; links are scored as ``wikirec recommend`` ranks them
    (:meth:`wikirec.trained.TrainedModel.link_scores`, the book itself left out of its
    neighbours)."""
    from wikirec.train import train

    options = dict(options)
    if ctx.epochs:
        options["epochs"] = ctx.epochs
    out = ctx.work / "models" / f"{name}-s{ctx.seed}"
    reused = _heldout_model(ctx, name, options)
    if reused is not None:
        out = reused
        summary = json.loads((out / "train.json").read_text(encoding="utf-8"))
    else:
        summary = train(
            ctx.split_dir, out, seed=ctx.seed, overwrite=True, progress=ctx.progress, **options
        )
    trained = read_trained(out, data_dir=ctx.split_dir)
    books = trained.vectors[BOOKS]

    def link_scores(b: np.ndarray) -> np.ndarray:
        return trained.link_scores(books[b], exclude=np.asarray(b).reshape(-1, 1))

    info = {**summary["params"], "epochs_run": summary["epochs_run"], "folder": str(out),
            "inputs": summary["data"].get("inputs", "out"),
            "neighbour_weight": trained.neighbour_weight,
            "trained_ahead": reused is not None}  # fmt: skip
    seconds = summary["total_seconds"] if reused is not None else 0.0
    return Fitted(books, link_scores, seconds=seconds, info=info)


HELDOUT_RECORD = "heldout.json"


def train_heldout(
    data_dir: str | os.PathLike,
    out: str | os.PathLike,
    seed: int = 0,
    fraction: float = 0.1,
    min_links: int = 5,
    n_negatives: int = 100,
    resume: bool = False,
    progress: bool = False,
    **options,
) -> dict:
    """Train a model as :func:`evaluate` would, ahead of it: :func:`wikirec.train.train`
    with ``options`` (``model=...`` and its options) and ``seed`` on the training part
    of the split :func:`evaluate` draws of ``data_dir`` with ``seed``, ``fraction``,
    ``min_links`` and ``n_negatives``. Writes ``OUT/split`` (the split's build),
    ``OUT/model`` (the trained folder) and, last, ``OUT/heldout.json`` (the split's
    fingerprint and the options): ``evaluate(..., heldout={model: OUT})`` with the same
    split and options then measures this model instead of training it again. It never
    saw the split's held-out pairs. Done already (same split, same options): nothing
    is trained. Returns the model's ``train.json``."""
    from wikirec.train import train

    out = Path(out)
    data = load_training_data(data_dir)
    split = split_of(data, fraction, min_links, n_negatives, seed)
    record = {"fingerprint": split_fingerprint(split), "options": {**options, "seed": seed}}
    model = out / "model"
    if _read_record(out) != record or not (model / "train.json").is_file():
        write_split_build(data, split, out / "split")
        again = resume and (model / "checkpoint" / "state.json").is_file()
        train(out / "split", model, seed=seed, resume=again, overwrite=not again,
              progress=progress, **options)  # fmt: skip
        write_json_atomic(record, out / HELDOUT_RECORD)
    return json.loads((model / "train.json").read_text(encoding="utf-8"))


def split_fingerprint(split: Split) -> str:
    """SHA-256 of what a model trained on ``split`` saw and did not see."""
    import hashlib

    digest = hashlib.sha256(json.dumps(split.params, sort_keys=True).encode())
    for array in (split.train_pairs, split.in_train, split.hidden):
        digest.update(np.ascontiguousarray(array, np.int64).tobytes())
    return digest.hexdigest()


def _read_record(folder: Path) -> dict | None:
    try:
        return json.loads((folder / HELDOUT_RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _heldout_model(ctx: Context, name: str, options: dict) -> Path | None:
    """The model :func:`train_heldout` trained for ``name`` on this split with these
    options and seed, if ``ctx.heldout`` names one; else None (it is trained here)."""
    folder = ctx.heldout.get(name)
    if folder is None:
        return None
    record = {"fingerprint": split_fingerprint(ctx.split), "options": {**options, "seed": ctx.seed}}
    if _read_record(Path(folder)) != record:
        return None
    return Path(folder) / "model"


# Trained methods: the recipes of wikirec.recipes, each trained as its recipe says.
METHODS = (*BASELINES, *RECIPE_NAMES)
SEEDS = 3  # runs of each trained method, reported as their mean and spread


# --------------------------------------------------------------------------- run


def evaluate(
    data_dir: str | os.PathLike,
    methods: Sequence[str] | None = None,
    work_dir: str | os.PathLike | None = None,
    seed: int = 0,
    dim: int = 200,
    epochs: int | None = None,
    fraction: float = 0.1,
    min_links: int = 5,
    n_negatives: int = 100,
    articles_dir: str | os.PathLike | None = None,
    progress: bool = False,
    seeds: int = SEEDS,
    options: dict[str, dict] | None = None,
    heldout: dict[str, str | os.PathLike] | None = None,
    max_books: int | None = None,
) -> dict:
    """Fit every method on one held-out split of the build in ``data_dir`` and measure it.

    Parameters
    ----------
    methods : names of :data:`METHODS` (default: all, in that order)
    work_dir : where the split's build and the trained models go (default: a
        temporary folder, removed afterwards)
    seed : seeds the split, the sampled non-links and every method
    dim : vector length of lsa and doc2vec (the trained methods: their recipe's)
    epochs : override the epochs of doc2vec and every trained recipe (quick runs)
    articles_dir : parse folder for the categories (default: the one ``build.json``
        names, found from any working folder: :func:`wikirec.built.parse_folder`)
    seeds : runs of each trained method (and doc2vec), seeded ``seed``, ``seed + 1``,
        ...; each metric is their mean, with the spread (largest minus smallest)
    options : ``{method: {option: value}}``, options of :func:`wikirec.train.train` for
        a trained method instead of its recipe's (a pipeline's own ``[train]``); for
        ``tfidf`` and ``lsa``, ``category_weight`` (see :meth:`Context.tfidf`)
    heldout : ``{method: folder}``, folders of :func:`train_heldout`: a trained method's
        first seed is read from there instead of trained, when that folder's model was
        trained on this very split with these very options (else it is trained)
    max_books : measure the held-out links of at most this many books, a seeded sample
        of the books with hidden links (None: all); every method is still trained on
        the same split, and the metadata columns are over every book

    Returns
    -------
    report : dict with ``params``, ``split``, ``eligible`` (books per metadata field)
        and ``rows`` (one dict of metrics per method and input, with ``input``,
        ``train_seconds``, ``seeds`` and, for a method run with several seeds,
        ``spread`` and ``runs``)
    """
    import tempfile

    left_out = [m for m in METHODS if not _installed(m)] if methods is None else []
    methods = list(methods or [m for m in METHODS if m not in left_out])
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise EvaluateError(f"unknown method {unknown[0]!r}; known: {', '.join(METHODS)}")
    for name in methods:
        if not _installed(name):
            library, extra = NEEDS[name]
            raise EvaluateError(f"{name} needs {library}: pip install 'wikirec[{extra}]'")
    if seeds < 1:
        raise EvaluateError(f"--seeds must be at least 1, not {seeds}")
    data = load_training_data(data_dir)
    split = split_of(data, fraction, min_links, n_negatives, seed)
    if len(split.eval_books) == 0:
        raise EvaluateError(f"{data_dir}: no book has {min_links} links to hold some out")
    labels = book_labels(data, articles_dir or parse_folder(data.summary, data_dir))
    inputs = INPUTS if len(data.in_pairs) else ("out",)
    with tempfile.TemporaryDirectory(prefix="wikirec-evaluate-") as tmp:
        work = Path(work_dir) if work_dir is not None else Path(tmp)
        split_dir = write_split_build(data, split, work / "split")
        ctx = Context(data, split, split_dir, work, dim, seed, epochs, progress,
                      options=options or {}, heldout=dict(heldout or {}),
                      measured=measured_part(split, max_books, seed))  # fmt: skip
        rows = []
        for name in methods:
            for given in BASELINE_INPUTS.get(name, (None,)):
                if given is None or given in inputs:
                    rows.append(_measure_seeds(name, ctx, labels, given, seeds))
    eligible = {name: int(eligible_books(values).sum()) for name, values in labels.items()}
    params = {"data_dir": str(data_dir), "seed": seed, "dim": dim, "epochs": epochs,
              "methods": methods, "left_out": left_out, "default_model": DEFAULT_RECIPE,
              "seeds": seeds,
              "min_link_count": data.summary.get("params", {}).get("min_link_count")}  # fmt: skip
    counts = {"books": data.n_books, "links": data.n_links, "pairs": int(len(data.pairs)),
              "in_pairs": int(len(data.in_pairs))}  # fmt: skip
    return {"params": params, "data": counts, "split": ctx.measured.summary(),
            "eligible": eligible, "rows": rows}  # fmt: skip


def _installed(method: str) -> bool:
    """Whether the library ``method`` needs (:data:`NEEDS`) can be imported."""
    import importlib.util

    return method not in NEEDS or importlib.util.find_spec(NEEDS[method][0]) is not None


def measured_part(split: Split, max_books: int | None, seed: int) -> Split:
    """``split`` measured on at most ``max_books`` of its eval books, a seeded sample
    (their hidden links and negatives); what is trained on is unchanged."""
    if max_books is None or len(split.eval_books) <= max_books:
        return split
    from dataclasses import replace

    rng = np.random.default_rng([seed, 0x5A])
    pick = np.sort(rng.choice(len(split.eval_books), size=max_books, replace=False))
    books = split.eval_books[pick]
    hidden = split.hidden[np.isin(split.hidden[:, 0], books)]
    params = {**split.params, "measured_books": int(max_books)}
    return replace(split, hidden=hidden, eval_books=books, params=params,
                   negatives=[split.negatives[i] for i in pick])  # fmt: skip


def split_of(data: TrainingData, fraction: float, min_links: int, n_negatives: int,
              seed: int) -> Split:  # fmt: skip
    """The held-out split :func:`evaluate` measures every method on."""
    return split_pairs(data.pairs, data.n_links, fraction, min_links, n_negatives, seed,
                       in_pairs=data.in_pairs, own_links=data.own_links())  # fmt: skip



def _measure_seeds(name: str, ctx: Context, labels: dict, inputs: str | None, seeds: int) -> dict:
    """One row: a baseline at one input, or a trained method (and doc2vec) over
    ``seeds`` seeds, its metrics averaged, with their spread and each run."""
    from dataclasses import replace

    runs_of = seeds if (name in RECIPE_NAMES or name in SEEDED) else 1
    try:
        runs = [
            measure(name, replace(ctx, inputs=inputs or "out", seed=ctx.seed + i), labels)
            for i in range(runs_of)
        ]
    except anchors.TooLarge as exc:  # a row that says why it is empty
        row = {"method": name, **dict.fromkeys(metric_columns()), "info": {}}
        return {**row, "skipped": str(exc), "input": inputs or "out", "seeds": 0}
    if runs_of == 1:
        row = runs[0]
    else:
        row = {"method": name, "info": runs[0]["info"]}
        for column in metric_columns():
            values = [r[column] for r in runs if r[column] is not None]
            row[column] = float(np.mean(values)) if values else None
            if values and column != "train_seconds":
                row.setdefault("spread", {})[column] = float(max(values) - min(values))
        row["runs"] = [{k: v for k, v in r.items() if k != "info"} for r in runs]
    row["input"] = inputs or row["info"].get("inputs", "out")
    row["seeds"] = runs_of
    return row


def measure(name: str, ctx: Context, labels: dict) -> dict:
    """Fit one method (timed) and compute every metric."""
    started = time.perf_counter()
    if name in BASELINES:
        fitted = BASELINES[name](ctx)
    else:
        fitted = fit_trained(ctx, name, {"model": name, **ctx.options.get(name, {})})
    # a model trained ahead (train_heldout) counts its training time too
    seconds = time.perf_counter() - started + fitted.seconds
    row: dict = {"method": name}
    row.update(heldout_metrics(fitted.link_scores, ctx.measured, ctx.n_links,
                               progress=ctx.progress))  # fmt: skip
    neighbours = fitted.nearest_books(max(KS_PRECISION))
    for field_name, values in labels.items():
        precision, _ = precision_at_k(neighbours, values)
        # None (JSON null, "n/a" in the table): no book has a value another book shares
        row.update({f"{field_name} p@{k}": None if math.isnan(p) else p
                    for k, p in precision.items()})  # fmt: skip
    row["train_seconds"] = round(seconds, 2)
    row["info"] = fitted.info
    return row


# --------------------------------------------------------------------------- report


def metric_columns() -> list[str]:
    """The report's metric columns, in order."""
    columns = [f"recall@{k}" for k in KS_RECALL] + ["auc"]
    for name in (*FIELDS, CATEGORIES):
        columns += [f"{name} p@{k}" for k in KS_PRECISION]
    return [*columns, "train_seconds"]


def row_label(row: dict) -> str:
    """``method (input)``, with ``default`` for the default model as its recipe trains
    it, else what differs: the weight of its ``Category:`` pages when it is not 1, its
    negatives when they are not uniform (``link_mean (out+in, books negatives)``), and
    the optimizer of a recipe trained with another than its own (``reference (out,
    kernel)``)."""
    info = row.get("info", {})
    weight, negatives = info.get("category_weight"), info.get("negatives")
    extras = []
    if weight is not None and weight != 1:
        extras.append(f"categories x{weight:g}")
    if negatives not in (None, "uniform"):
        extras.append(f"{negatives} negatives")
    if not extras and row["method"] == DEFAULT_RECIPE:
        extras.append("default")
    extra = "".join(f", {e}" for e in extras)
    recipe = RECIPES.get(row["method"])
    optimizer = info.get("optimizer")
    if recipe is not None and optimizer not in (None, recipe.optimizer, "auto"):
        extra += f", {optimizer}"
    return f"{row['method']} ({row.get('input', 'out')}{extra})"


# The columns of a run's summary on the terminal (the report has them all): one per
# question (AUC asks recall's), so that the table fits in 100 columns.
SUMMARY_COLUMNS = ("recall@50", "author p@5", "series p@5", "genre p@5", "category p@5",
                   "train_seconds")  # fmt: skip


def _best_values(rows: list[dict], columns: Sequence[str]) -> dict[str, float]:
    """The highest value of each metric column (not seconds) that some row has."""
    best = {}
    for column in columns:
        values = [r[column] for r in rows if r[column] is not None]
        if values and column != "train_seconds":
            best[column] = max(values)
    return best


def report_table(
    report: dict, markdown: bool = False, columns: Sequence[str] | None = None
) -> str:
    """The rows as an aligned text table, or a Markdown table, of ``columns`` (default:
    every metric); the best value of each metric column (but seconds) is marked with
    ``*`` (Markdown: bold); a metric no book could be measured on (None) reads ``n/a``;
    a method run with several seeds shows its mean and, after ``±``, half its spread
    (so the runs lie within the interval)."""
    columns = list(columns or metric_columns())
    rows = report["rows"]
    best = _best_values(rows, columns)
    cells = [["method (input)", *[c.replace("train_seconds", "train s") for c in columns]]]
    for row in rows:
        line = [row_label(row)]
        for column in columns:
            value = row[column]
            if value is None:
                line.append("n/a")
                continue
            text = f"{value:.1f}" if column == "train_seconds" else f"{value:.3f}"
            if column in best and value == best[column] and len(rows) > 1:
                text = f"**{text}**" if markdown else f"{text}*"
            spread = row.get("spread", {}).get(column)
            if spread is not None:
                text += f" ±{spread / 2:.3f}"
            line.append(text)
        cells.append(line)
    if markdown:
        lines = ["| " + " | ".join(r) + " |" for r in cells]
        lines.insert(1, "|" + "|".join(["---"] + ["---:"] * len(columns)) + "|")
        return "\n".join(lines)
    widths = [max(len(r[i]) for r in cells) for i in range(len(cells[0]))]
    return "\n".join(
        "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in
                  enumerate(zip(r, widths, strict=True))).rstrip()
        for r in cells
    )  # fmt: skip


def leaders_line(report: dict, columns: Sequence[str] = SUMMARY_COLUMNS) -> str:
    """Which method is best in which of ``columns``, in a line: ``best: link_mean
    (out+in, default) in recall@50, author p@5, ...; tfidf (out) in category p@5``."""
    best = _best_values(report["rows"], columns)
    leaders: dict[str, list[str]] = {}
    for column, value in best.items():
        for row in report["rows"]:
            if row[column] == value:
                leaders.setdefault(row_label(row), []).append(column)
    ranked = sorted(leaders.items(), key=lambda item: -len(item[1]))
    return "best: " + "; ".join(f"{label} in {', '.join(cols)}" for label, cols in ranked)


def report_markdown(report: dict) -> str:
    """The whole report as a Markdown document."""
    split, eligible = report["split"], report["eligible"]
    lines = [
        f"# Evaluation of `{report['params']['data_dir']}`",
        "",
        f"{report['data']['books']:,} books, {report['data']['links']:,} links, "
        f"{report['data']['pairs']:,} pairs. Held out: {split['hidden_pairs']:,} (book, link) "
        f"pairs of {split['eval_books']:,} books (ceil({split['fraction']:.0%}) of the links of "
        f"each book with >= {split['min_links']}), seed {split['seed']}; AUC against "
        f"{split['n_negatives']} sampled non-links per book.",
        "Metadata precision over the books whose value another book shares: "
        + ", ".join(f"{name} {n:,}" for name, n in eligible.items())
        + ".",
        "",
        report_table(report, markdown=True),
        "",
        f"Default model: `{report['params']['default_model']}`. Best of each column in bold. "
        "Input: the links each book makes (out) or those and the pages linking to it "
        f"(out+in), every link met by >= {report['params'].get('min_link_count')} books. "
        f"Trained methods, doc2vec and the seeded anchors: mean of "
        f"{report['params'].get('seeds', 1)} seeds ± half their spread.",
    ]
    notes = report_notes(report)
    if notes:
        lines += ["", *[f"- {note}" for note in notes]]
    return "\n".join(lines) + "\n"


def report_notes(report: dict) -> list[str]:
    """One line for each anchor's chosen parameters, each row left empty (and why) and
    the methods left out for a library that is not installed."""
    notes = []
    for row in report["rows"]:
        if row.get("skipped"):
            notes.append(f"{row_label(row)}: not run: {row['skipped']}")
        elif row["method"] in ANCHORS:
            info = {k: v for k, v in row["info"].items() if k not in ("validation", "seed")}
            chosen = ", ".join(f"{k} {v:g}" if isinstance(v, float) else f"{k} {v}"
                               for k, v in info.items())  # fmt: skip
            notes.append(f"{row_label(row)}: {chosen} (chosen by validation {VALIDATION_METRIC} "
                         f"of {len(row['info'].get('validation', []))} settings)")  # fmt: skip
    left_out = report["params"].get("left_out")
    if left_out:
        extras = " ".join(f"'wikirec[{e}]'" for e in sorted({NEEDS[m][1] for m in left_out}))
        notes.append(f"left out, their library not installed: {', '.join(left_out)} "
                     f"(pip install {extras})")  # fmt: skip
    return notes


def write_report(report: dict, out: str | os.PathLike) -> tuple[Path, Path]:
    """Write ``out`` (Markdown) and the JSON beside it (``.json``) as a pair: both are
    written before either takes its name (the JSON last), so a failure leaves the
    earlier pair whole."""
    out = Path(out)
    json_path = out.with_suffix(".json")
    writers = {
        out.name: lambda path: write_text_atomic(report_markdown(report), path),
        json_path.name: lambda path: write_json_atomic(report, path),
    }
    write_set_atomic(out.parent, writers, json_path.name)
    return out, json_path


# --------------------------------------------------------------------------- CLI


def add_command(subparsers) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help="measure the embeddings against baselines on held-out links and metadata",
        description="Hide a seeded 10% of each book's links, fit every method on the rest "
        "and measure held-out link recall@10/@50 and AUC, and how often a book's nearest "
        "books share its author, series, genre, country or a category.",
    )
    parser.add_argument("data", metavar="DATA_DIR", help="output folder of wikirec build")
    parser.add_argument(
        "--models", default=",".join(METHODS), metavar="LIST",
        help=f"comma-separated methods (default: all: {','.join(METHODS)})",
    )  # fmt: skip
    parser.add_argument(
        "--out", metavar="FILE", help="Markdown report, JSON beside it "
        "(default: DATA_DIR/evaluation/report.md)",
    )  # fmt: skip
    parser.add_argument("--work", metavar="DIR", help="split and models (default: OUT's folder)")
    parser.add_argument("--seed", type=at_most(non_negative_int, MAX_SEED), default=0)
    parser.add_argument(
        "--dim",
        type=at_most(positive_int, LIMITS["dim"]),
        default=200,
        help="dimension of lsa and doc2vec",
    )
    parser.add_argument(
        "--epochs",
        type=at_most(positive_int, LIMITS["epochs"]),
        default=None,
        help="override every method's epochs",
    )
    parser.add_argument("--fraction", type=positive_float, default=0.1, help="links held out (0.1)")
    parser.add_argument(
        "--min-links", type=positive_int, default=5, help="books with fewer: none held out"
    )
    parser.add_argument(
        "--optimizer", choices=list(OPTIMIZERS), default=None,
        help="how every trained method trains (default: each recipe's own)",
    )  # fmt: skip
    parser.add_argument(
        "--category-weight", type=non_negative_float, default=None, metavar="W",
        help="the weight of Category: pages in a book's links, against 1 for any other "
        "page, for tfidf, lsa and link_mean alike (1)",
    )  # fmt: skip
    parser.add_argument(
        "--seeds", type=at_most(positive_int, MAX_SEEDS), default=SEEDS,
        help=f"runs of each trained method and doc2vec, reported as mean ± spread ({SEEDS})",
    )  # fmt: skip
    parser.add_argument(
        "--max-books", type=positive_int, default=None, metavar="N",
        help="measure the held-out links of at most N books, a seeded sample (default: all)",
    )  # fmt: skip
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.set_defaults(handler=run)


def weigh_categories_alike(options: dict) -> dict:
    """``options`` (``{method: {option: value}}``) with a ``category_weight`` given to
    any method also given to every method of :data:`CATEGORY_WEIGHTED`, so that the
    baselines weigh ``Category:`` pages as the model does."""
    weights = {o["category_weight"] for o in options.values() if "category_weight" in o}
    if len(weights) > 1:
        raise EvaluateError(f"one category weight for every method, not {sorted(weights)}")
    options = {name: dict(given) for name, given in options.items()}
    for weight in weights:
        for name in CATEGORY_WEIGHTED:
            options.setdefault(name, {})["category_weight"] = weight
    return options


def _method_options(args: argparse.Namespace) -> dict:
    """The methods' options given on the command line, by method."""
    options: dict = {name: {} for name in METHODS}
    if args.optimizer:
        for name in RECIPE_NAMES:
            options[name]["optimizer"] = args.optimizer
    if args.category_weight is not None:
        options[DEFAULT_RECIPE]["category_weight"] = args.category_weight
    return weigh_categories_alike(options)


def run(args: argparse.Namespace) -> int:
    out = Path(args.out) if args.out else Path(args.data) / "evaluation" / "report.md"
    work = Path(args.work) if args.work else out.parent / "work"
    methods = [m.strip() for m in args.models.split(",") if m.strip()]
    report = evaluate(
        args.data, methods, work_dir=work, seed=args.seed, dim=args.dim, epochs=args.epochs,
        fraction=args.fraction, min_links=args.min_links, progress=not args.quiet,
        seeds=args.seeds, options=_method_options(args), max_books=args.max_books,
    )  # fmt: skip
    print(report_table(report))
    for note in report_notes(report):
        print(note)
    markdown, json_path = write_report(report, out)
    print(f"wrote {markdown} and {json_path}")
    return 0
