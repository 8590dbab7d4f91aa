"""Queries over trained vectors: the :class:`Recommender` API and ``wikirec recommend``.

:class:`Recommender` loads a trained model folder (``wikirec train``) and answers the
way gensim's ``KeyedVectors`` does, over two vocabularies: books and the pages they
link to ("links")::

    rec = Recommender.load("artifacts/p15/model")
    rec.most_similar("The Son of Tarzan", topn=5)        # closest books, itself excluded
    rec.most_similar("The Son of Tarzan", least=True)    # the farthest books
    rec.most_similar(Link("science fiction"), among="links")  # pages like a page
    rec.most_similar(positive=["Dune", Link("ecology")], negative=[Link("war")])
    rec.books_about("world war ii")                      # a page against the books
    rec.links_for("The Son of Tarzan")                   # pages for a book
    rec.recommend_for_liked(["Tarzan the Terrible", "The Beasts of Tarzan"])
    rec.why("The Son of Tarzan", "Tarzan the Terrible")  # the links the two share

Every answer is a list of ``(title, score)``, best first (``least=True``: lowest first):
the cosine similarity; for pages ranked for books by a model with biases, the model's
score, ``scale * cosine + page bias`` (``cosine_bias``), or for ``link_mean`` that score
mixed with the vote of the query's nearest books for the pages they meet (a sum of
standardised scores; :mod:`wikirec.scoring`): the same score ``wikirec evaluate`` ranks
held-out links by. A term is a title (looked up as a book, then as a page), a
:class:`Book` or :class:`Link` to say which, or a vector. Several terms are combined
as word2vec users combine words: the mean of the unit vectors of the positive terms
minus those of the negative ones, and the query terms never come back as answers.

:meth:`Recommender.why` explains a recommendation by the pages two books share: pages
both link to, pages linking to both, or one of each, strongest first (by the product of
the two books' TF-IDF weights for the page), from the build the model was trained on.

Titles are found exactly, then case-insensitively, then in MediaWiki's normal form
(underscores, first letter), then through the dump's redirects (the parse folder's
``redirects.parquet``, found from the model's ``train.json`` and the build's
``build.json``, or given). An unknown title raises :class:`UnknownTitleError`, one
line with the closest known titles: ``No book 'War & Peace'. Did you mean: War and
Peace?``.

Speed: vectors are kept as unit rows (float32), so a query is one matrix-vector
product and a partial sort (:mod:`wikirec.nearest`, which also finds every item's
neighbours in batches, never an n x n matrix).

This module does not import TensorFlow.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from wikirec.cli import fail, positive_int
from wikirec.errors import WikirecError
from wikirec.nearest import cosine_top_k, top_k, unit_rows
from wikirec.scoring import LinkScorer
from wikirec.tfidf import link_sides, tfidf_matrix
from wikirec.titles import MAX_SUGGESTIONS, TitleIndex, normalize_title, unknown_title_message
from wikirec.trained import BOOKS, KIND_NOUNS, LINKS, find_redirects, read_trained

if TYPE_CHECKING:
    from wikirec.trained import TrainedModel

MAX_REDIRECT_HOPS = 8


class RecommendError(WikirecError):
    """Bad input for a query; the message is one line."""


class UnknownTitleError(RecommendError, KeyError):
    """A title that is neither found nor redirected; ``suggestions`` are the closest
    known titles."""

    def __init__(self, title: str, kinds: Sequence[str], suggestions: list[str]) -> None:
        self.title, self.kinds, self.suggestions = title, tuple(kinds), suggestions
        nouns = [KIND_NOUNS[k] for k in kinds]
        super().__init__(unknown_title_message(title, nouns, suggestions))

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


@dataclass(frozen=True)
class Book:
    """A query term that must be a book."""

    title: str


@dataclass(frozen=True)
class Link:
    """A query term that must be a linked page."""

    title: str


Term = str | Book | Link | np.ndarray


# --------------------------------------------------------------------------- redirects


class Redirects:
    """The dump's redirects (``source``, ``target``), followed case-insensitively.

    Parameters
    ----------
    table : a pyarrow table with string columns ``source`` and ``target``
    """

    def __init__(self, table) -> None:
        import pyarrow.compute as pc

        self._pc = pc
        self.sources = table.column("source")
        self.targets = table.column("target")
        self._lower = None

    @classmethod
    def read(cls, path: str | os.PathLike) -> Redirects:
        """Read ``redirects.parquet`` (or a parse folder holding it)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        path = Path(path)
        if path.is_dir():
            path = path / "redirects.parquet"
        try:
            return cls(pq.read_table(path, columns=["source", "target"]))
        except (OSError, KeyError, pa.ArrowException) as exc:
            raise RecommendError(f"{path}: cannot read the redirects ({exc})") from exc

    def targets_of(self, title: str) -> list[str]:
        """Where ``title`` redirects, each hop of the chain in turn (may be empty)."""
        chain: list[str] = []
        current = normalize_title(title)
        for _ in range(MAX_REDIRECT_HOPS):
            target = self._target(current)
            if target is None and not chain:
                target = self._target_folded(current)
            if target is None or target in chain:
                break
            chain.append(target)
            current = target
        return chain

    def _target(self, title: str) -> str | None:
        pc = self._pc
        found = pc.filter(self.targets, pc.equal(self.sources, title))
        return found[0].as_py() if len(found) else None

    def _target_folded(self, title: str) -> str | None:
        pc = self._pc
        if self._lower is None:
            self._lower = pc.utf8_lower(self.sources)
        found = pc.filter(self.targets, pc.equal(self._lower, title.lower()))
        return found[0].as_py() if len(found) else None


# --------------------------------------------------------------------------- why


# A hub: a page so many books meet (a newspaper that reviews them all, "Novel", a
# language, a large publisher) that sharing it says little about two books. Explanations
# list hubs after every other page a book shares (docs/pipeline.md, "Why").
HUB_SHARE = 0.03  # of the books
HUB_MIN_BOOKS = 20  # and at least this many: on a small build no page is a hub


class BookLinks:
    """Which pages each book links to and which pages link to it (a build's pairs), to
    explain a recommendation by what two books share.

    Parameters
    ----------
    out_pairs : int (n, 2), (book, page) the book links to (repeats allowed)
    in_pairs : int (m, 2), (book, page) linking to the book, or None
    n_books, n_links : the sizes of the two vocabularies

    Attributes
    ----------
    hubs : bool (n_links,), the pages more than :data:`HUB_SHARE` of the books (and at
        least :data:`HUB_MIN_BOOKS`) meet either way
    """

    SIDES = {1: "out", 2: "in", 3: "both"}

    def __init__(
        self, out_pairs: np.ndarray, in_pairs: np.ndarray | None, n_books: int, n_links: int
    ) -> None:
        self.sides = link_sides(out_pairs, in_pairs, n_books, n_links)
        self.weights = tfidf_matrix((self.sides > 0).astype(np.float32))
        met_by = np.asarray((self.sides > 0).sum(0)).ravel()
        self.hubs = (met_by > HUB_SHARE * n_books) & (met_by >= HUB_MIN_BOOKS)

    def side(self, book: int, link: int) -> str:
        """``"out"``, ``"in"``, ``"both"`` (or ``""``: the book does not meet the page)."""
        return self.SIDES.get(int(self.sides[book, link]), "")

    def shared(self, books: Sequence[int], other: int, topn: int) -> list[tuple[int, str, float]]:
        """The pages ``other`` shares with ``books``: ``(page row, side of the first of
        books that meets it, weight)``, strongest first, :attr:`hubs` after the others
        (ties: lower row first)."""
        if not books:
            return []
        query = self.weights[list(books)].sum(0)
        common = self.weights[other].multiply(query).toarray().ravel()
        rows = np.flatnonzero(common > 0)
        rows = rows[np.lexsort((rows, -common[rows], self.hubs[rows]))][:topn]
        out = []
        for link in rows:
            side = next(s for s in (self.side(b, link) for b in books) if s)
            out.append((int(link), side, float(common[link])))
        return out


# --------------------------------------------------------------------------- API


class Recommender:
    """Book and link vectors with their titles, queried by cosine similarity.

    Parameters
    ----------
    book_titles : list of str, length n_books
    book_vectors : array (n_books, dim); scaled to unit rows here
    link_titles : list of str, length n_links
    link_vectors : array (n_links, dim)
    redirects : :class:`Redirects` used for titles not found directly, or None
    link_bias : float (n_links,), the model's bias of each page, or None
    scale : the cosine's scale in the model's score (with ``link_bias``)
    book_links : :class:`BookLinks` of the build, for :meth:`why` (and the neighbours'
        vote), or None
    neighbour_weight : pages for books: the weight of the nearest books' vote against
        the model's score (:class:`wikirec.scoring.LinkScorer`; needs ``book_links``)
    link_display : list of str, length n_links: how each page is shown, Wikipedia's
        title (the build's ``display``), or None: as its title. Answers give these; a
        query may use either (titles are found case-insensitively).
    """

    def __init__(
        self,
        book_titles: Sequence[str],
        book_vectors: np.ndarray,
        link_titles: Sequence[str],
        link_vectors: np.ndarray,
        redirects: Redirects | None = None,
        link_bias: np.ndarray | None = None,
        scale: float = 1.0,
        book_links: BookLinks | None = None,
        neighbour_weight: float = 0.0,
        link_display: Sequence[str] | None = None,
    ) -> None:
        if len(book_titles) != len(book_vectors) or len(link_titles) != len(link_vectors):
            raise RecommendError("the titles do not match the vectors")
        if link_display is not None and len(link_display) != len(link_titles):
            raise RecommendError("the pages' display titles do not match the pages")
        if np.ndim(book_vectors) != 2 or np.shape(book_vectors)[1:] != np.shape(link_vectors)[1:]:
            raise RecommendError("book and link vectors must be 2-d with the same width")
        if link_bias is not None and np.shape(link_bias) != (len(link_titles),):
            raise RecommendError("the page biases do not match the pages")
        self.vectors = {BOOKS: unit_rows(book_vectors), LINKS: unit_rows(link_vectors)}
        self.titles = {BOOKS: TitleIndex(book_titles), LINKS: TitleIndex(link_titles)}
        # what an answer shows for each row
        self.shown = {BOOKS: list(book_titles), LINKS: list(link_display or link_titles)}
        self.redirects = redirects
        self.book_links = book_links
        self.scorer = LinkScorer(  # holds the page biases and the scale
            self.vectors[LINKS], link_bias, scale, book_vectors=self.vectors[BOOKS],
            book_pages=None if book_links is None else book_links.sides,
            neighbour_weight=neighbour_weight,
        )  # fmt: skip

    @classmethod
    def load(
        cls, model_dir: str | os.PathLike, redirects: str | os.PathLike | None = None
    ) -> Recommender:
        """Load a ``wikirec train`` folder (:func:`wikirec.trained.read_trained`): its
        vectors, its page biases, and the build's links for :meth:`why` when found.

        ``redirects``: a ``redirects.parquet`` (or its folder); by default the one of the
        parse folder the model was built from, when it can be found (else none). A folder
        that cannot be read raises :class:`~wikirec.trained.ModelError`.
        """
        return cls.from_trained(read_trained(model_dir), redirects)

    @classmethod
    def from_trained(
        cls, trained: TrainedModel, redirects: str | os.PathLike | None = None
    ) -> Recommender:
        """:meth:`load` for a folder already read by :func:`wikirec.trained.read_trained`
        (``wikirec serve`` needs the build's tables too, and reads the folder once)."""
        path = redirects
        if path is None:
            path = find_redirects(trained.path, trained.data_dir)
        table = Redirects.read(path) if path is not None else None
        book_links = None
        if trained.has_metadata:
            book_links = BookLinks(trained.pairs, trained.in_pairs, len(trained.titles[BOOKS]),
                                   len(trained.titles[LINKS]))  # fmt: skip
        return cls(
            trained.titles[BOOKS], trained.vectors[BOOKS],
            trained.titles[LINKS], trained.vectors[LINKS],
            redirects=table, link_bias=trained.page_bias, scale=trained.scale,
            book_links=book_links, neighbour_weight=trained.neighbour_weight,
            link_display=trained.display_titles(LINKS),
        )  # fmt: skip

    @property
    def dim(self) -> int:
        return int(self.vectors[BOOKS].shape[1])

    def __len__(self) -> int:
        return len(self.titles[BOOKS])

    # ---------------------------------------------------------------- lookups

    def index(self, title: str, kind: str = BOOKS) -> int:
        """The row of ``title`` among ``kind`` (books or links); raises
        :class:`UnknownTitleError` with suggestions."""
        found = self._find(title, (kind,))
        if found is None:
            raise self._unknown(title, (kind,))
        return found[1]

    def resolve(self, term: Term, kinds: Sequence[str] = (BOOKS, LINKS)) -> tuple[str, int]:
        """``(kind, row)`` of a title term: a :class:`Book`, a :class:`Link`, or a
        string tried as each of ``kinds`` in turn."""
        if isinstance(term, Book):
            return BOOKS, self.index(term.title, BOOKS)
        if isinstance(term, Link):
            return LINKS, self.index(term.title, LINKS)
        if not isinstance(term, str):
            raise RecommendError(f"a query term is a title, Book, Link or vector, not {term!r}")
        found = self._find(term, kinds)
        if found is None:
            raise self._unknown(term, kinds)
        return found

    def __contains__(self, title: str) -> bool:
        return self._find(title, (BOOKS, LINKS)) is not None

    def _find(self, title: str, kinds: Sequence[str]) -> tuple[str, int] | None:
        for kind in kinds:
            row = self.titles[kind].find(title)
            if row is not None:
                return kind, row
        if self.redirects is not None:
            for target in self.redirects.targets_of(title):
                for kind in kinds:
                    row = self.titles[kind].find(target)
                    if row is not None:
                        return kind, row
        return None

    def _unknown(self, title: str, kinds: Sequence[str]) -> UnknownTitleError:
        matches = sorted(
            ((score, self.shown[kind][self.titles[kind].exact[found]])
             for kind in kinds for score, found in self.titles[kind].close_matches(title)),
            key=lambda pair: (-pair[0], pair[1]),
        )  # fmt: skip
        unique = list(dict.fromkeys(t for _, t in matches))[:MAX_SUGGESTIONS]
        return UnknownTitleError(title, kinds, unique)

    def vector(self, term: Term) -> np.ndarray:
        """The unit vector (dim,) of a term (a vector is scaled to unit length)."""
        if isinstance(term, np.ndarray):
            return unit_rows(term.reshape(-1))
        kind, row = self.resolve(term)
        return self.vectors[kind][row]

    def similarity(self, a: Term, b: Term) -> float:
        """The cosine of two terms (books, pages or vectors)."""
        return float(self.vector(a) @ self.vector(b))

    # ---------------------------------------------------------------- queries

    def most_similar(
        self,
        positive: Term | Iterable[Term] | None = None,
        negative: Term | Iterable[Term] | None = None,
        topn: int = 10,
        among: str = BOOKS,
        least: bool = False,
        exclude: Iterable[str] = (),
    ) -> list[tuple[str, float]]:
        """The ``topn`` books (``among="links"``: pages) closest by cosine to the query.

        The query is the mean of the unit vectors of ``positive`` minus those of
        ``negative`` (each a title, :class:`Book`, :class:`Link` or vector). Query
        terms of the kind searched, and titles in ``exclude``, are left out. ``least``:
        the farthest, lowest similarity first. Returns ``[(title, cosine), ...]``.
        """
        if among not in self.vectors:
            raise RecommendError(f"among must be {BOOKS!r} or {LINKS!r}, not {among!r}")
        plus, minus = _as_terms(positive), _as_terms(negative)
        if not plus and not minus:
            raise RecommendError("an empty query: give at least one title")
        resolved = [(self._resolved(t, among), 1.0) for t in plus]
        resolved += [(self._resolved(t, among), -1.0) for t in minus]
        query = np.zeros(self.dim, dtype=np.float32)
        skip: list[int] = []
        for (kind, row, vector), weight in resolved:
            query += weight * vector
            if kind == among:
                skip.append(row)
        skip += [self.index(title, among) for title in exclude]
        query = unit_rows(query / len(resolved))
        # Pages ranked for books are scored as the model ranks them (and as the
        # evaluation does), the query's books left out of its neighbours.
        books = [row for (kind, row, _), _ in resolved if kind == BOOKS]
        as_model = among == LINKS and bool(books)
        return self._answer(query, among, topn, least, skip, books if as_model else None)

    def least_similar(self, *args, **kwargs) -> list[tuple[str, float]]:
        """:meth:`most_similar` with ``least=True``: the farthest first."""
        return self.most_similar(*args, least=True, **kwargs)

    def books_about(self, page: str, topn: int = 10, least: bool = False):
        """Books whose vectors are closest to the page's ("books about World War II")."""
        return self.most_similar(Link(page), topn=topn, among=BOOKS, least=least)

    def links_for(self, book: str, topn: int = 10, least: bool = False):
        """Pages whose vectors are closest to the book's."""
        return self.most_similar(Book(book), topn=topn, among=LINKS, least=least)

    def similar_links(self, page: str, topn: int = 10, least: bool = False):
        """Pages closest to a page ("steven pinker" -> "evolutionary psychology")."""
        return self.most_similar(Link(page), topn=topn, among=LINKS, least=least)

    def recommend_for_liked(
        self, liked: Iterable[str], topn: int = 10, least: bool = False
    ) -> list[tuple[str, float]]:
        """Books for a reader who liked ``liked`` (their mean vector), those excluded."""
        return self.most_similar([Book(t) for t in liked], topn=topn, among=BOOKS, least=least)

    def why(
        self, query: Term | Iterable[Term], book: str, topn: int = 5
    ) -> list[tuple[str, str, str, float]]:
        """The pages ``book`` shares with the query's books, strongest first.

        Returns ``[(page, query side, book side, weight), ...]``: a side is ``"out"``
        (the book links to the page), ``"in"`` (the page links to the book) or
        ``"both"``; the weight is the product of the two books' TF-IDF weights for the
        page (summed over the query's books), its share of their TF-IDF cosine. Needs
        the build the model was trained on (:class:`RecommendError` otherwise).
        """
        if self.book_links is None:
            raise RecommendError(
                "explaining a recommendation needs the build the model was trained on "
                "(train.json names it; it was not found)"
            )
        rows = [row for kind, row in (self.resolve(t, (BOOKS,)) for t in _as_terms(query))
                if kind == BOOKS]  # fmt: skip
        other = self.index(book, BOOKS)
        titles = self.shown[LINKS]
        return [
            (titles[link], side, self.book_links.side(other, link), weight)
            for link, side, weight in self.book_links.shared(rows, other, topn)
        ]

    def all_most_similar(
        self, among: str = BOOKS, topn: int = 10, least: bool = False, progress: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """Every item's ``topn`` neighbours among its own kind, itself excluded, in
        batches (see :func:`cosine_top_k`): indices int64 (n, topn), cosines (n, topn)."""
        return cosine_top_k(self.vectors[among], k=topn, least=least, progress=progress)

    def _resolved(self, term: Term, among: str) -> tuple[str | None, int, np.ndarray]:
        if isinstance(term, np.ndarray):
            if term.shape != (self.dim,):
                raise RecommendError(f"a query vector must have shape ({self.dim},)")
            return None, -1, unit_rows(term)
        kind, row = self.resolve(term)
        return kind, row, self.vectors[kind][row]

    def _answer(
        self, query: np.ndarray, among: str, topn: int, least: bool, skip: list[int],
        query_books: list[int] | None = None,
    ) -> list[tuple[str, float]]:  # fmt: skip
        if query_books is None:
            scores = self.vectors[among] @ query
        else:
            scores = self.scorer.scores(query, exclude=[query_books])[0]
        if skip:
            scores[skip] = np.inf if least else -np.inf
        n_left = len(scores) - len(set(skip))
        rows = top_k(scores, min(topn, n_left), least=least)
        titles = self.shown[among]
        return [(titles[r], float(scores[r])) for r in rows]


def _as_terms(terms) -> list:
    if terms is None:
        return []
    if isinstance(terms, (str, Book, Link, np.ndarray)):
        return [terms]
    return list(terms)


# --------------------------------------------------------------------------- CLI


def add_command(subparsers) -> None:
    parser = subparsers.add_parser(
        "recommend",
        help="books (or pages) like a book, a page, or several",
        description="Query a trained model: the books closest to TITLE by cosine (TITLE "
        "is looked up as a book, then as a linked page; case-insensitively and through "
        "redirects). Terms combine as in word2vec: TITLE, --about and --liked add, "
        "--minus subtracts.",
    )
    parser.add_argument("model", metavar="MODEL_DIR", help="output folder of wikirec train")
    parser.add_argument("title", metavar="TITLE", nargs="?", help="a book or page title")
    parser.add_argument(
        "-k", "--top", type=positive_int, default=10, metavar="K", help="answers (10)"
    )
    parser.add_argument("--least", action="store_true", help="the farthest instead")
    parser.add_argument("--links", action="store_true", help="answer with pages, not books")
    parser.add_argument(
        "--about", action="append", default=[], metavar="PAGE", help="add a page (repeatable)"
    )
    parser.add_argument(
        "--liked", action="append", default=[], metavar="BOOK", help="add a liked book"
    )
    parser.add_argument(
        "--minus", action="append", default=[], metavar="TITLE", help="subtract a book or page"
    )
    parser.add_argument("--redirects", metavar="FILE", help="redirects.parquet (default: found)")
    parser.add_argument(
        "--why", action="store_true",
        help="for each book, the pages it shares with the query's books, strongest first, "
        "pages many books meet last; where a book does not simply link to a page: "
        "(<- ...) the page links to it, (<-> ...) both ways",
    )  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    positive: list[Term] = ([args.title] if args.title else []) + [Link(p) for p in args.about]
    positive += [Book(t) for t in args.liked]
    if not positive and not args.minus:
        return fail("recommend", "give a TITLE, --about PAGE or --liked BOOK")
    among = LINKS if args.links else BOOKS
    trained = read_trained(args.model)
    rec = Recommender.from_trained(trained, redirects=args.redirects)
    kind = None
    if args.title:  # a book, else a page: say which when it is not the book asked for
        kind, row = rec.resolve(args.title)
        positive[0] = Book(args.title) if kind == BOOKS else Link(args.title)
        if kind == LINKS and not args.json:
            print(f"{args.title!r} is a page of this model, not one of its books: "
                  "the answers are near the page", file=sys.stderr)  # fmt: skip
    answers = rec.most_similar(positive, args.minus, topn=args.top, among=among, least=args.least)
    reasons = None
    books = [t for t in positive if isinstance(t, Book)]
    if args.why and among == BOOKS and books:
        reasons = [rec.why(books, title, topn=WHY_LINKS) for title, _ in answers]
    elif args.why:
        print("--why names the pages an answer shares with the query's books; this query "
              "has no book", file=sys.stderr)  # fmt: skip
    # Pages ranked for books by a model with biases carry its score, not a cosine.
    measure = rec.scorer.measure if among == LINKS else "similarity"
    bylines = None
    if among == BOOKS and trained.has_metadata:  # who wrote each answer, and when
        bylines = [trained.byline(trained.find(title)) for title, _ in answers]
    asked = None
    if kind == BOOKS and trained.has_metadata:  # the book asked about, as its page opens
        asked = {"byline": trained.byline(row), "lead": trained.lead(row)}
    if args.json:
        answer = answer_json(args, among, answers, reasons, measure, kind, bylines, asked)
        # Strict JSON: a NaN would print as NaN, which no JSON reader accepts.
        print(json.dumps(answer, indent=2, ensure_ascii=False, allow_nan=False))
    else:
        if asked is not None:
            print(describe_book(rec.shown[BOOKS][row], **asked))
        print(format_table(answers, reasons, measure, bylines))
    return 0


def describe_book(title: str, byline: dict[str, str], lead: str, width: int = 88) -> str:
    """The book asked about, above its answers: its title and byline on one line, its
    article's first sentences wrapped under it (when the build has them), a blank line."""
    by = " · ".join(byline[key] for key in ("author", "year", "genre") if byline.get(key))
    lines = [f"{title}: {by}" if by else title]
    lines += textwrap.wrap(lead, width, initial_indent="  ", subsequent_indent="  ")
    return "\n".join(lines) + "\n"


WHY_LINKS = 5  # shared pages shown per recommendation
ARROWS = {"out": "->", "in": "<-", "both": "<->"}


def answer_json(
    args: argparse.Namespace, among: str, answers: list[tuple[str, float]], reasons=None,
    measure: str = "similarity", kind: str | None = None, bylines: list[dict] | None = None,
    asked: dict | None = None,
) -> dict:  # fmt: skip
    """The query and its answers as one JSON object (with ``why`` when ``reasons``, a
    ``byline`` each with ``bylines``); ``kind``: what the title was found as, ``"book"``
    or ``"page"`` (None: no title); ``asked``: the asked book's ``byline`` and ``lead``,
    added to the query."""
    results = [
        {"rank": rank, "title": title, measure: round(score, 6)}
        for rank, (title, score) in enumerate(answers, 1)
    ]
    for result, byline in zip(results, bylines or [], strict=False):
        result["byline"] = byline
    for result, shared in zip(results, reasons or [], strict=False):
        result["why"] = [{"page": page, "query": side, "book": book_side, "weight": round(w, 6)}
                         for page, side, book_side, w in shared]  # fmt: skip
    return {
        "query": {
            "title": args.title, "kind": KIND_NOUNS.get(kind),
            "about": args.about, "liked": args.liked,
            "minus": args.minus, "among": among, "least": args.least, "k": args.top,
            **(asked or {}),
        },
        "results": results,
    }  # fmt: skip


def format_table(
    answers: list[tuple[str, float]], reasons=None, measure: str = "similarity",
    bylines: list[dict] | None = None,
) -> str:  # fmt: skip
    """An aligned table: rank, title, author and year (with ``bylines``: one dict per
    answer), similarity (or score; 4 decimals); with ``reasons``, a line under each
    answer naming the pages it shares with the query."""
    by = [", ".join(filter(None, (b.get("author"), b.get("year")))) for b in bylines or []]
    rows = [(str(rank), title, by[rank - 1] if by else "", f"{score:.4f}")
            for rank, (title, score) in enumerate(answers, 1)]  # fmt: skip
    header = ("rank", "title", "by" if by else "", measure)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    lines = []
    for i, r in enumerate([header, *rows]):
        middle = f"  {r[2]:<{widths[2]}}" if by else ""
        lines.append(f"{r[0]:>{widths[0]}}  {r[1]:<{widths[1]}}{middle}  {r[3]:>{widths[3]}}"
                     .rstrip())  # fmt: skip
        if reasons is not None and i > 0:
            lines.append(" " * (widths[0] + 2) + "why: " + describe_shared(reasons[i - 1]))
    return "\n".join(lines)


def describe_shared(shared: list[tuple[str, str, str, float]]) -> str:
    """``George Orwell, List of dystopian novels (<- both)``: each shared page, with how
    the query's book and this book meet it unless both link to it (the common case)."""
    if not shared:
        return "no page in common (near by the learned vectors only)"
    parts = []
    for page, side, book_side, _ in shared:
        if side == book_side == "out":
            parts.append(page)
            continue
        how = f"{ARROWS[side]} both" if side == book_side else (
            f"{ARROWS[side]} query, {ARROWS[book_side]} this")  # fmt: skip
        parts.append(f"{page} ({how})")
    return ", ".join(parts)
