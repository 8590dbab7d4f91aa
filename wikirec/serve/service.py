"""What ``wikirec serve`` answers, as JSON-ready dicts, with no web framework.

:class:`ModelService` holds one trained folder, read once
(:func:`wikirec.trained.read_trained`): a :class:`Recommender` for every ranking and
title lookup, and the build's ``books`` table for the infobox fields. Each query
method calls the Recommender exactly as ``wikirec recommend`` does, so the web API
gives the same results as the Python API and the command line:

- ``similar(t)``: ``most_similar(t, topn=k)``, as ``recommend MODEL "T"``;
- ``similar(t, least=True)``: ``most_similar(t, topn=k, least=True)``, as ``--least``;
- ``about(p)``: ``books_about(p, topn=k)``, as ``--about P``;
- ``links(t)``: ``links_for(t, topn=k)``, as ``--links``;
- ``liked(likes, minus)``: ``most_similar([Book(l), ...], minus, topn=k)``, as
  ``--liked L --minus M``;
- ``why(query, books)``: ``why([Book(q), ...], b, topn=k)`` for each book, as ``--why``.

``book_map()`` gives the books' 2-D map from the reduction ``wikirec plot`` cached
(:mod:`wikirec.serve.maps`), for the page to draw.

Bad input raises :class:`ApiError` with an HTTP status: 404 for an unknown title (the
message is the Recommender's one line, and ``suggestions`` its closest titles), 400
for anything else.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote, urlencode

from wikirec.plot.reduce import METHODS
from wikirec.recommend import (
    Book,
    Recommender,
    RecommendError,
    UnknownTitleError,
)
from wikirec.serve.maps import MapFile, book_map_json, book_reductions, find_maps, genre_colours
from wikirec.serve.search import KINDS, TitleSearch
from wikirec.titles import is_category_link
from wikirec.trained import BOOKS, KIND_NOUNS, LINKS, TrainedModel, read_trained

MAX_K = 100  # answers per query
MAX_WHY = 50  # shared pages per explained book
HUB_ROOM = 10  # pages for a book: this many more are ranked, so hubs can give way
MAX_TERMS = 100  # liked, pushed-away, query or explained books in one request
MAX_TITLE = 300  # characters: a Wikipedia title is at most 255 bytes
EXAMPLES = 5  # books suggested on the start page
WIKIPEDIA = "https://en.wikipedia.org/wiki/"
WIKIPEDIA_SEARCH = "https://en.wikipedia.org/w/index.php?"
KIND_BY_NAME = {"book": (BOOKS,), "page": (LINKS,), "any": KINDS}
NO_MAP = (
    "no map of the books yet: no 2-D reduction is cached for this model; "
    "`wikirec plot MODEL_DIR` makes one (`wikirec run` does too, in its plot stage)"
)


class ApiError(Exception):
    """Bad input: an HTTP ``status`` (4xx), a one-line ``message`` and extra JSON fields
    (``suggestions`` for an unknown title)."""

    def __init__(self, status: int, message: str, **extra) -> None:
        super().__init__(message)
        self.status, self.message, self.extra = status, message, extra

    def as_json(self) -> dict:
        return {"error": self.message, **self.extra}


def quoted(text: str, limit: int = 60) -> str:
    """``text`` quoted back in an error: at most ``limit`` characters of it."""
    text = str(text)
    return repr(text) if len(text) <= limit else f"{text[:limit]!r}... ({len(text):,} characters)"


def wikipedia_url(title: str) -> str:
    """The English Wikipedia address of an article title (a plain link: nothing is
    fetched)."""
    return WIKIPEDIA + quote(title.replace(" ", "_"), safe="()_,:")


class ModelService:
    """One trained model's answers for ``wikirec serve``.

    Parameters
    ----------
    rec : the Recommender over the model
    model : the trained folder as read, for the build's infobox fields and the maps;
        None for a bare Recommender (no fields, no maps)
    """

    def __init__(self, rec: Recommender, model: TrainedModel | None = None) -> None:
        self.rec = rec
        self.model = model
        self.searcher = TitleSearch(rec)
        self._page_links = _page_link_style(model)
        self._genres = None  # the books' genre groups, found once the map is first asked for

    @classmethod
    def load(
        cls, model_dir: str | os.PathLike, redirects: str | os.PathLike | None = None
    ) -> ModelService:
        """Read a ``wikirec train`` folder (and its build, when found) once. Raises
        :class:`~wikirec.trained.ModelError` (one line) for a folder that cannot be used."""
        trained = read_trained(model_dir)
        return cls(Recommender.from_trained(trained, redirects), trained)

    # ---------------------------------------------------------------- about the model

    def info(self) -> dict:
        """The model's name and sizes, what it can answer, its maps, example books."""
        rec, model = self.rec, self.model
        return {
            "model": _model_name(model),
            "recipe": model.recipe if model is not None else "",
            "dim": rec.dim,
            "books": len(rec.titles[BOOKS]),
            "pages": len(rec.titles[LINKS]),
            "why": rec.book_links is not None,
            "fields": model is not None and model.has_metadata,
            "links_measure": self.rec.scorer.measure,
            "maps": [self._map_json(m) for m in self.maps()],
            "examples": self._examples(),
        }

    def maps(self) -> list[MapFile]:
        """The model's HTML maps, looked for on each call (a plot made after the server
        started shows up)."""
        return find_maps(self.model.path) if self.model is not None else []

    def map_path(self, name: str) -> Path:
        """The file of the map called ``name`` (only a map found: never another path)."""
        for found in self.maps():
            if found.name == name:
                return found.path
        raise ApiError(404, f"no map {quoted(name)}", maps=[m.name for m in self.maps()])

    def book_map(self, method: str | None = None) -> dict:
        """Every book on the 2-D map ``wikirec plot`` cached (:func:`book_map_json`):
        the newest cached reduction, or the newest of ``method`` ("tsne", "umap").
        Looked for on each call, as the maps are; 404 (:data:`NO_MAP`) when none is
        cached."""
        if method is not None and method not in METHODS:
            raise ApiError(400, f"method must be one of {', '.join(METHODS)}, not {quoted(method)}")
        found = book_reductions(self.model) if self.model is not None else []
        methods = list(dict.fromkeys(r.params["method"] for r in found))
        chosen = [r for r in found if method in (None, r.params["method"])]
        if not chosen:
            message = NO_MAP
            if found:
                message = (f"no {method} map is cached for this model; "
                           f"`wikirec plot MODEL_DIR --method {method}` makes one")  # fmt: skip
            raise ApiError(404, message, methods=methods)
        if self._genres is None:
            self._genres = genre_colours(self.model)
        answer = book_map_json(self.model.titles[BOOKS], chosen[0], self._genres)
        return {**answer, "methods": methods}

    # ---------------------------------------------------------------- lookups

    def search(self, text: str, kind: str = "any", limit: int = 10) -> dict:
        """Suggestions for a typed text (:class:`TitleSearch`)."""
        text = self._title(text, "q")
        if kind not in KIND_BY_NAME:
            raise ApiError(
                400, f"kind must be one of {', '.join(KIND_BY_NAME)}, not {quoted(kind)}"
            )
        _check_count(limit, "limit", MAX_K)
        found = self.searcher.search(text, KIND_BY_NAME[kind], limit)
        return {"query": text, "results": [s.as_json() for s in found]}

    def book(self, title: str) -> dict:
        """A book's title, Wikipedia address, byline, lead (the article's first
        sentences, "" when the build has none) and infobox fields (``[[name, value],
        ...]``, in the infobox's order, empty values left out)."""
        title = self._title(title, "title")
        row = self._call(lambda: self.rec.index(title, BOOKS))
        found = self.rec.titles[BOOKS].titles[row]
        return {
            "title": found,
            "kind": KIND_NOUNS[BOOKS],
            "wikipedia": wikipedia_url(found),
            "byline": self._byline(row),
            "lead": self._lead(row),
            "fields": self._fields(row),
            "also_page": self.rec.titles[LINKS].find(found) is not None,
        }

    def page(self, title: str) -> dict:
        """A linked page's title and its address (Wikipedia's article, or the URL of an
        external-link build)."""
        title = self._title(title, "title")
        row = self._call(lambda: self.rec.index(title, LINKS))
        found = self.rec.shown[LINKS][row]
        return {
            "title": found,
            "kind": KIND_NOUNS[LINKS],
            "url": self._page_url(found),
            "also_book": self.rec.titles[BOOKS].find(found) is not None,
        }

    # ---------------------------------------------------------------- queries

    def similar(self, title: str, k: int = 10, least: bool = False) -> dict:
        """The books closest to a title (a book, else a page), or the farthest."""
        title = self._title(title, "title")
        _check_count(k, "k", MAX_K)
        kind, resolved = self._resolve(title, KINDS)
        answers = self._call(lambda: self.rec.most_similar(title, topn=k, least=least))
        return {
            "query": {"title": resolved, "kind": KIND_NOUNS[kind], "k": k, "least": least},
            "measure": "similarity",
            "results": self._book_results(answers),
        }

    def about(self, page: str, k: int = 10) -> dict:
        """The books most about a page (closest to it), each saying whether it meets the
        page in the build (``meets``: "out" it links to the page, "in" the page links to
        it, "both", or "": only near it; absent when the build is not found)."""
        page = self._title(page, "page")
        _check_count(k, "k", MAX_K)
        _, resolved = self._resolve(page, (LINKS,))
        answers = self._call(lambda: self.rec.books_about(page, topn=k))
        results = self._book_results(answers)
        links = self.rec.book_links
        if links is not None:
            column = self.rec.index(resolved, LINKS)
            rows = self.rec.titles[BOOKS].exact
            for result in results:
                result["meets"] = links.side(rows[result["title"]], column)
        return {"query": {"page": resolved, "k": k}, "measure": "similarity",
                "results": results}  # fmt: skip

    def links(self, title: str, k: int = 10) -> dict:
        """The pages for a book, ranked as the model ranks them (a score, for a model
        with biases: :mod:`wikirec.scoring`), hubs after the others: of the model's
        best ``k + HUB_ROOM`` pages, the ``k`` first once the hubs are moved last (each
        result says ``hub``; a model without its build has no hubs)."""
        title = self._title(title, "title")
        _check_count(k, "k", MAX_K)
        _, resolved = self._resolve(title, (BOOKS,))
        answers = self._call(lambda: self.rec.links_for(title, topn=k + HUB_ROOM))
        results = _results(answers)
        for result in results:
            result["hub"] = self._page_kind(result["title"])["hub"]
        results = sorted(results, key=lambda r: r["hub"])[:k]  # stable: rank within each
        for rank, result in enumerate(results, 1):
            result["rank"] = rank
        return {"query": {"title": resolved, "k": k}, "measure": self.rec.scorer.measure,
                "results": results}  # fmt: skip

    def liked(self, liked: Sequence[str], minus: Sequence[str] = (), k: int = 10) -> dict:
        """Books for a reader who liked ``liked`` (books) and not ``minus`` (books or
        pages pushed away), those left out: ``wikirec recommend --liked ... --minus``."""
        liked = [self._title(t, "liked") for t in liked]
        minus = [self._title(t, "minus") for t in minus]
        if not liked and not minus:
            raise ApiError(400, "give at least one liked (or minus) title")
        if len(liked) + len(minus) > MAX_TERMS:
            raise ApiError(400, f"at most {MAX_TERMS} liked and minus titles")
        _check_count(k, "k", MAX_K)
        plus_terms = [self._resolve(t, (BOOKS,))[1] for t in liked]
        minus_terms = [self._resolve(t, KINDS) for t in minus]
        answers = self._call(
            lambda: self.rec.most_similar([Book(t) for t in liked], list(minus), topn=k)
        )
        return {
            "query": {
                "liked": plus_terms,
                "minus": [{"title": t, "kind": KIND_NOUNS[kind]} for kind, t in minus_terms],
                "k": k,
            },
            "measure": "similarity",
            "results": self._book_results(answers),
        }

    def why(self, query: Sequence[str], books: Sequence[str], k: int = 5) -> dict:
        """For each of ``books``, the pages it shares with the ``query`` books, strongest
        first (:meth:`Recommender.why`)."""
        query = [self._title(t, "query") for t in query]
        books = [self._title(t, "book") for t in books]
        if not query or not books:
            raise ApiError(400, "give at least one query and one book title")
        if len(query) > MAX_TERMS or len(books) > MAX_TERMS:
            raise ApiError(400, f"at most {MAX_TERMS} query and {MAX_TERMS} book titles")
        _check_count(k, "k", MAX_WHY)
        if self.rec.book_links is None:
            raise ApiError(404, "this model cannot explain its answers: its build was not "
                           "found (train.json names it)")  # fmt: skip
        resolved = [self._resolve(t, (BOOKS,))[1] for t in query]
        results = []
        for book in books:
            _, found = self._resolve(book, (BOOKS,))
            shared = self._call(lambda book=book: self.rec.why([Book(t) for t in query], book, k))
            results.append({
                "book": found,
                "shared": [{"page": page, "query": side, "book": book_side, "weight": weight,
                            **self._page_kind(page)}
                           for page, side, book_side, weight in shared],
            })  # fmt: skip
        return {"query": resolved, "k": k, "results": results}

    def _page_kind(self, page: str) -> dict[str, bool]:
        """``category``: a ``Category:`` page (shown as a tag); ``hub``: a page so many
        books meet that it explains little (:data:`wikirec.recommend.HUB_SHARE`)."""
        row = self.rec.index(page, LINKS)
        hubs = self.rec.book_links.hubs if self.rec.book_links is not None else None
        return {"category": is_category_link(self.rec.titles[LINKS].titles[row]),
                "hub": bool(hubs is not None and hubs[row])}  # fmt: skip

    # ---------------------------------------------------------------- helpers

    def _title(self, title: str | None, name: str) -> str:
        if title is None or not title.strip():
            raise ApiError(400, f"missing parameter {name!r}: a title")
        if len(title) > MAX_TITLE:
            raise ApiError(400, f"{name!r} is longer than {MAX_TITLE} characters")
        return title

    def _resolve(self, title: str, kinds: Sequence[str]) -> tuple[str, str]:
        """``(kind, the title as the model knows it)``; 404 with suggestions if unknown."""
        kind, row = self._call(lambda: self.rec.resolve(title, kinds))
        return kind, self.rec.shown[kind][row]

    @staticmethod
    def _call(query):
        try:
            return query()
        except UnknownTitleError as exc:
            raise ApiError(404, str(exc), title=exc.title,
                           kinds=[KIND_NOUNS[k] for k in exc.kinds],
                           suggestions=exc.suggestions) from exc  # fmt: skip
        except RecommendError as exc:
            raise ApiError(400, str(exc)) from exc

    def _book_results(self, answers: list[tuple[str, float]]) -> list[dict]:
        """Ranked books, each with its byline (author and year, where known)."""
        rows = self.rec.titles[BOOKS].exact
        results = _results(answers)
        for result in results:
            byline = self._byline(rows[result["title"]])
            result["byline"] = {k: v for k, v in byline.items() if k in ("author", "year")}
        return results

    def _byline(self, row: int) -> dict[str, str]:
        model = self.model
        return model.byline(row) if model is not None and model.has_metadata else {}

    def _lead(self, row: int) -> str:
        model = self.model
        return model.lead(row) if model is not None and model.has_metadata else ""

    def _fields(self, row: int) -> list[list[str]]:
        model = self.model
        return model.fields(row) if model is not None and model.has_metadata else []

    def _examples(self) -> list[str]:
        titles = self.rec.titles[BOOKS].titles
        model = self.model
        if model is not None and model.has_metadata and "n_pairs" in model.books:
            # The books with the most links: the best known, and the best explained.
            order = model.books["n_pairs"].to_numpy().argsort(kind="stable")[::-1]
            return [titles[i] for i in order[:EXAMPLES]]
        return titles[:EXAMPLES]

    def _map_json(self, found: MapFile) -> dict:
        return {"name": found.name, "kind": KIND_NOUNS[found.kind],
                "url": "/maps/" + quote(found.name)}  # fmt: skip

    def _page_url(self, title: str) -> str:
        if self._page_links == "url":
            return "https://" + title  # external_links builds keep URLs without scheme
        if self._page_links == "article":
            return wikipedia_url(title)
        # Case-folded titles ("world war ii") are not article names; Wikipedia's "go"
        # search opens the article they fold from.
        return WIKIPEDIA_SEARCH + urlencode({"search": title, "title": "Special:Search",
                                             "go": "Go"})  # fmt: skip


def _model_name(model: TrainedModel | None) -> str:
    """The model folder and its parent (``demo/train`` for a run's train stage)."""
    if model is None:
        return ""
    path = model.path.resolve()
    return f"{path.parent.name}/{path.name}" if path.parent.name else path.name


def _page_link_style(model: TrainedModel | None) -> str:
    """How a page title becomes an address: "url" (an external-links build), "article"
    (a build that kept case, or that gives Wikipedia's titles: its ``display`` column)
    or "search" (case-folded titles only, a build made before displays)."""
    params: dict = {}
    if model is not None and model.data_dir is not None:
        try:
            build = json.loads((Path(model.data_dir) / "build.json").read_text(encoding="utf-8"))
            params = build.get("params", {}) if isinstance(build, dict) else {}
        except (OSError, ValueError):
            params = {}
    if params.get("links") == "external_links":
        return "url"
    kept = model is not None and model.display_titles(LINKS) != model.titles[LINKS]
    return "article" if params.get("keep_case") or kept else "search"


def _check_count(value: int, name: str, most: int) -> None:
    if not 1 <= value <= most:
        raise ApiError(400, f"{name} must be between 1 and {most}, not {value}")


def _results(answers: list[tuple[str, float]]) -> list[dict]:
    return [{"rank": rank, "title": title, "score": score}
            for rank, (title, score) in enumerate(answers, 1)]  # fmt: skip
