"""A trained folder, read once: what ``wikirec train`` wrote and the build it came from.

:func:`read_trained` reads a ``wikirec train`` folder into a :class:`TrainedModel`:

- the vectors (``book_vectors.npy``, ``link_vectors.npy``, float32) and their titles
  (``book_titles.json``, ``link_titles.json``), checked against ``train.json``;
- for the models with biases (``cosine_bias``, ``link_mean``), ``book_bias.npy`` and
  ``link_bias.npy`` and the cosine's scale, so that links are ranked for a book as
  the model scores them (:meth:`TrainedModel.link_scores`, through
  :class:`wikirec.scoring.LinkScorer`: for ``link_mean`` mixed with the vote of the
  book's nearest books, which needs the build);
- where it can be found, the build the model was trained on (``train.json`` names it):
  the books' infobox fields, the links' counts, the out-link and in-link pairs;
- the ``redirects.parquet`` of the parse that build read (:func:`find_redirects`).

``wikirec recommend``, ``export``, ``plot``, ``evaluate`` and ``classify`` read a trained
folder through this module only; it reads the build through :mod:`wikirec.built`. It
imports neither TensorFlow nor a stage module. ``BOOKS`` and ``LINKS`` name the two
kinds of vectors everywhere.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from wikirec import __version__
from wikirec.built import parse_folder
from wikirec.errors import WikirecError, one_line
from wikirec.io import named_path_candidates
from wikirec.nearest import unit_rows
from wikirec.recipes import RECIPES
from wikirec.scoring import LinkScorer
from wikirec.tfidf import link_sides
from wikirec.titles import TitleIndex, category_links, printable, unknown_title_message

BOOKS, LINKS = "books", "links"
KINDS = (BOOKS, LINKS)
KIND_NOUNS = {BOOKS: "book", LINKS: "page"}  # one of a kind, in a sentence
MODEL_FILES = (
    "train.json",
    "book_vectors.npy",
    "link_vectors.npy",
    "book_titles.json",
    "link_titles.json",
)
BIAS_FILES = ("book_bias.npy", "link_bias.npy")
NOT_FIELDS = ("index", "title", "infobox", "lead", "n_pairs", "link_index")  # books.parquet
# Infobox book's fields for each part of a byline, in the order they are tried.
BYLINE_FIELDS = {
    "author": ("author", "authors", "editor", "editors"),
    "year": ("pub_date", "published", "release_date", "first_published", "publication_date",
             "english_pub_date", "date"),
    "genre": ("genre", "genres", "subject"),
    "pages": ("pages",),
}  # fmt: skip
YEAR = re.compile(r"(?<!\d)(1[0-9]{3}|20[0-9]{2})(?!\d)")
BYLINE_CHARS = 80  # a byline part longer than this is a list, not a name
# No training comes near it; beyond it a vector's squared length overflows float32 and
# the vector would rank as a row of zeros.
MAX_MAGNITUDE = 1e15


class ModelError(WikirecError):
    """A trained folder, title or output that cannot be used; the message is one line."""


@dataclass
class TrainedModel:
    """A trained folder with the metadata of its build, as :func:`read_trained`
    returns it.

    Attributes
    ----------
    path : the model folder
    summary : the contents of ``train.json``
    titles : ``{"books": [...], "links": [...]}``, titles in row order
    vectors : ``{"books": array (n_books, dim), "links": array (n_links, dim)}``, float32,
        rows of length 1 unless read with ``normalize=False``
    book_bias, link_bias : float32 (n_books,), (n_links,), or None for a model without
    scale : the cosine's scale in the model's logit (1.0 for a model without biases)
    data_dir : the build folder the metadata came from, or None
    books, links : ``books.parquet`` and ``links.parquet`` of that build, or None
    pairs : ``pairs.npy`` of that build (int32, (n_pairs, 2)), or None
    in_pairs : ``in_pairs.npy`` of that build (int32, (n_in, 2)), or None
    metadata_note : why there is no metadata, when there is none
    """

    path: Path
    summary: dict
    titles: dict[str, list[str]]
    vectors: dict[str, np.ndarray]
    book_bias: np.ndarray | None = None
    link_bias: np.ndarray | None = None
    scale: float = 1.0
    data_dir: Path | None = None
    books: pd.DataFrame | None = None
    links: pd.DataFrame | None = None
    pairs: np.ndarray | None = None
    in_pairs: np.ndarray | None = None
    metadata_note: str = ""
    _lookup: dict = field(default_factory=dict, repr=False)
    _scorer: LinkScorer | None = field(default=None, repr=False)

    @property
    def dim(self) -> int:
        return int(self.vectors[BOOKS].shape[1])

    @property
    def recipe(self) -> str:
        """The name of the trained recipe (``reference``, ``cosine_bias``, ...)."""
        return str(self.summary.get("params", {}).get("model", "reference"))

    @property
    def has_metadata(self) -> bool:
        return self.books is not None

    def require_metadata(self, what: str) -> None:
        """Raise :class:`ModelError` saying ``what`` needs the build's metadata."""
        if not self.has_metadata:
            raise ModelError(f"{what} needs the build's metadata: {self.metadata_note}")

    def find(self, title: str, kind: str = BOOKS) -> int:
        """The row of ``title`` among ``kind``: exact, case-insensitive, or in MediaWiki's
        normal form; raises :class:`ModelError` naming the closest titles."""
        index = self._lookup.get(kind)
        if index is None:
            index = self._lookup[kind] = TitleIndex(self.titles[kind])
        row = index.find(title)
        if row is None:
            suggestions = [t for _, t in index.close_matches(title)]
            raise ModelError(unknown_title_message(title, [KIND_NOUNS[kind]], suggestions))
        return row

    def is_category(self) -> np.ndarray:
        """Boolean per link: is it a ``Category:`` page."""
        return category_links(self.titles[LINKS])

    def book_link_pairs(self) -> np.ndarray:
        """The distinct (book, link) pairs of the build, int64 (n, 2); needs metadata."""
        self.require_metadata("linking books to pages")
        pairs = np.asarray(self.pairs, dtype=np.int64)
        if len(pairs) == 0:
            return pairs.reshape(0, 2)
        return np.unique(pairs, axis=0)

    @property
    def neighbour_weight(self) -> float:
        """The weight of a book's nearest books' vote in its ranking of links: the
        recipe's (:attr:`wikirec.recipes.Recipe.neighbour_weight`), 0 without the build."""
        recipe = RECIPES.get(self.recipe)
        return recipe.neighbour_weight if recipe is not None and self.has_metadata else 0.0

    @property
    def page_bias(self) -> np.ndarray | None:
        """float32 (n_links,): the page biases its pages for a book are ranked with
        (None for a model without biases). The model's own, but for a model trained
        against each page's random books (``negatives="books"``), which learned how
        likely a book is among a page's books and not how common the page is: there
        Bayes' rule adds the page's prior, log(1 + the books that meet it in the
        build), when the build is found (docs/quality.md)."""
        trained_on = self.summary.get("params", {}).get("negatives")
        if self.link_bias is None or trained_on != "books" or not self.has_metadata:
            return self.link_bias
        books_met = np.bincount(self.book_pages().indices, minlength=len(self.link_bias))
        return (self.link_bias + np.log1p(books_met)).astype(np.float32)

    def link_scorer(self) -> LinkScorer:
        """The :class:`~wikirec.scoring.LinkScorer` of this model (made once)."""
        if self._scorer is None:
            weight = self.neighbour_weight
            self._scorer = LinkScorer(
                unit_rows(self.vectors[LINKS]), self.page_bias, self.scale,
                book_vectors=unit_rows(self.vectors[BOOKS]), neighbour_weight=weight,
                book_pages=self.book_pages() if weight > 0 else None,
            )  # fmt: skip
        return self._scorer

    def display_titles(self, kind: str) -> list[str]:
        """How each of ``kind``'s rows is shown: the build's Wikipedia titles for pages
        (``display``), the titles for books, and for pages without the build their
        keys."""
        if kind == LINKS and self.has_metadata and "display" in self.links:
            return self.links["display"].tolist()
        return list(self.titles[kind])

    def fields(self, row: int) -> list[list[str]]:
        """Book ``row``'s infobox fields, ``[[name, value], ...]`` in the infobox's order,
        empty values left out (the build's columns, for an infobox that cannot be read
        as JSON); needs metadata."""
        self.require_metadata("a book's infobox fields")
        record = self.books.iloc[row]
        try:
            infobox = json.loads(record.get("infobox") or "{}")
        except (TypeError, ValueError):
            infobox = {}
        if not isinstance(infobox, dict) or not infobox:
            infobox = {name: record[name] for name in record.index if name not in NOT_FIELDS}
        return [[str(name), str(value)] for name, value in infobox.items()
                if value is not None and str(value).strip()]  # fmt: skip

    def byline(self, row: int) -> dict[str, str]:
        """What a reader looks for under book ``row``'s title: ``author``, ``year`` (the
        first year of the publication date), ``genre`` and ``pages``, those its infobox
        has (:data:`BYLINE_FIELDS`); needs metadata."""
        fields = {name.lower(): value for name, value in self.fields(row)}
        byline = {}
        for key, names in BYLINE_FIELDS.items():
            value = next((fields[n] for n in names if fields.get(n, "").strip()), "")
            if key == "year":
                found = YEAR.search(value)
                value = found[0] if found else ""
            if value.strip():
                byline[key] = " ".join(value.split())[:BYLINE_CHARS]
        return byline

    def lead(self, row: int) -> str:
        """Book ``row``'s first sentences, as the parse read them from its article (""
        for a build made before leads, or from records without text); needs metadata."""
        self.require_metadata("a book's lead")
        value = self.books.iloc[row].get("lead")
        return value if isinstance(value, str) else ""

    def book_pages(self):
        """scipy CSR (n_books, n_links), int8, nonzero where a book meets a page in the
        build, saying how (:func:`wikirec.tfidf.link_sides`: 1 it links to the page, 2
        the page links to it, 3 both); needs metadata."""
        self.require_metadata("the pages each book meets")
        return link_sides(self.pairs, self.in_pairs, len(self.titles[BOOKS]),
                          len(self.titles[LINKS]))  # fmt: skip

    def link_scores(
        self, book_vectors: np.ndarray, exclude: Sequence[Sequence[int]] | None = None
    ) -> np.ndarray:
        """How the model ranks every link for each of ``book_vectors`` (unit rows, (b,
        dim)); ``exclude[i]``: the books left out of row ``i``'s neighbours (its own).
        float32 (b, n_links); see :class:`wikirec.scoring.LinkScorer`."""
        return self.link_scorer().scores(book_vectors, exclude)


def read_trained(
    model_dir: str | os.PathLike,
    data_dir: str | os.PathLike | None = None,
    normalize: bool = True,
) -> TrainedModel:
    """Read a ``wikirec train`` folder and, where it can be found, its build.

    Parameters
    ----------
    model_dir : output folder of ``wikirec train``, or of ``wikirec run`` (its ``train``
        folder is read)
    data_dir : the build folder (``wikirec build``) the model was trained on; by default
        the one ``train.json`` names (as written, or relative to a parent folder of the
        model); without one, the model loads with titles only (``metadata_note`` says why)
    normalize : scale each vector to length 1

    Raises
    ------
    ModelError : one line, for a folder that is missing, lacks files, is from another
        version of wikirec, or whose files disagree; or for a ``data_dir`` given that
        cannot be read or is not the model's build
    """
    folder = model_folder(model_dir)
    summary = _check_model_folder(folder)
    vectors = load_vectors(folder, normalize=normalize)
    _check_shapes(folder, vectors, summary)
    book_bias, link_bias = (_read_bias(folder, name) for name in BIAS_FILES)
    counts = (len(vectors.book_vectors), len(vectors.link_vectors))
    for name, bias, n in zip(BIAS_FILES, (book_bias, link_bias), counts, strict=True):
        if bias is not None and len(bias) != n:
            raise ModelError(f"{folder / name}: {len(bias):,} biases for {n:,} vectors")
    trained = TrainedModel(
        path=folder,
        summary=summary,
        titles={BOOKS: list(vectors.book_titles), LINKS: list(vectors.link_titles)},
        vectors={BOOKS: vectors.book_vectors, LINKS: vectors.link_vectors},
        book_bias=book_bias,
        link_bias=link_bias,
        scale=float(summary.get("params", {}).get("scale", 1.0)) if link_bias is not None else 1.0,
    )
    _attach_metadata(trained, data_dir)
    return trained


# --------------------------------------------------------------------------- vectors


@dataclass
class Vectors:
    """Trained vectors and their names, as :func:`load_vectors` returns them.

    Attributes
    ----------
    book_titles : list of str, length n_books
    book_vectors : ndarray of float32, shape (n_books, dim)
    link_titles : list of str, length n_links
    link_vectors : ndarray of float32, shape (n_links, dim)
    """

    book_titles: list[str]
    book_vectors: np.ndarray
    link_titles: list[str]
    link_vectors: np.ndarray


def load_vectors(model_dir: str | os.PathLike, normalize: bool = True) -> Vectors:
    """Read the vectors of a finished run; ``normalize`` scales each row to length 1,
    so a dot product is a cosine (a row of zeros, which has no direction, is refused). Raises
    :class:`ModelError` (one line) for a folder that is not a finished run."""
    folder = model_folder(model_dir)
    if not (folder / "train.json").is_file():
        raise ModelError(f"{folder}: not a finished run (no train.json; run `wikirec train`)")
    books = _read_array(folder / "book_vectors.npy", "vectors", ndim=2)
    links = _read_array(folder / "link_vectors.npy", "vectors", ndim=2)
    book_titles = _read_titles(folder / "book_titles.json")
    link_titles = _read_titles(folder / "link_titles.json")
    if len(book_titles) != len(books) or len(link_titles) != len(links):
        raise ModelError(f"{folder}: the titles do not match the vectors")
    for name, vectors, titles in (("book", books, book_titles), ("link", links, link_titles)):
        zero = np.flatnonzero(~vectors.any(axis=1)) if vectors.size else []
        if len(zero):  # no direction: every cosine with it is 0, its ranking arbitrary
            first = printable(titles[zero[0]])[:80]
            raise ModelError(f"{folder / f'{name}_vectors.npy'}: the vectors hold rows of zeros "
                             f"({len(zero):,}; the first: {first!r})")  # fmt: skip
    if normalize:
        books, links = unit_rows(books), unit_rows(links)
    return Vectors(book_titles, books, link_titles, links)


def _read_bias(folder: Path, name: str) -> np.ndarray | None:
    path = folder / name
    if not path.is_file():
        return None
    return _read_array(path, "biases").astype(np.float32).reshape(-1)


def _read_array(path: Path, what: str, ndim: int | None = None) -> np.ndarray:
    """A ``.npy`` of finite numbers (of ``ndim`` dimensions when given); any other
    content raises :class:`ModelError` naming the file, so that a damaged folder never
    ranks by NaN or fails further on."""
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:  # EOFError: an empty file
        raise ModelError(f"{path}: cannot read the {what} ({one_line(exc)})") from exc
    if array.dtype.kind not in "fiu":
        raise ModelError(f"{path}: the {what} are {array.dtype}, not numbers")
    if ndim is not None and array.ndim != ndim:
        raise ModelError(f"{path}: the {what} have shape {array.shape}, not {ndim} dimensions")
    if not np.isfinite(array).all():
        raise ModelError(f"{path}: the {what} hold NaN or infinite values")
    if array.size and np.abs(array).max() > MAX_MAGNITUDE:
        raise ModelError(f"{path}: the {what} hold values beyond {MAX_MAGNITUDE:g}")
    return array


def _read_titles(path: Path) -> list[str]:
    """A JSON list of strings; anything else raises :class:`ModelError` naming the file."""
    try:
        titles = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"{path}: cannot read the titles ({one_line(exc)})") from exc
    if not isinstance(titles, list) or not all(isinstance(t, str) for t in titles):
        raise ModelError(f"{path}: not a list of titles (JSON strings)")
    return titles


# --------------------------------------------------------------------------- checks


def model_folder(path: str | os.PathLike) -> Path:
    """``path``, or its ``train`` folder when ``path`` is a ``wikirec run`` folder (a
    ``manifest.json`` beside a ``train`` folder with its ``train.json``): the natural
    guess ``wikirec recommend artifacts/demo ...`` reads ``artifacts/demo/train``."""
    folder = Path(path)
    run_model = folder / "train"
    if (
        not (folder / "train.json").exists()
        and (folder / "manifest.json").is_file()
        and (run_model / "train.json").is_file()
    ):
        return run_model
    return folder


def _check_model_folder(folder: Path) -> dict:
    if not folder.is_dir():
        raise ModelError(f"{folder}: no such model folder")
    missing = [name for name in MODEL_FILES if not (folder / name).is_file()]
    if missing:
        raise ModelError(
            f"{folder}: not a finished `wikirec train` folder (missing {', '.join(missing)})"
        )
    try:
        summary = json.loads((folder / "train.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"{folder}: unreadable train.json ({exc})") from exc
    version = summary.get("version") if isinstance(summary, dict) else None
    if not isinstance(version, str) or _major(version) != _major(__version__):
        raise ModelError(
            f"{folder}: made by another version of wikirec ({version or 'unknown'}, this is "
            f"{__version__}); train it again"
        )
    if not isinstance(summary.get("data"), dict) or "n_books" not in summary["data"]:
        raise ModelError(f"{folder}: train.json lacks its data section; train it again")
    return summary


def _major(version: str) -> str:
    """The part of a version that must match: major, and minor while major is 0."""
    parts = version.split(".")
    return ".".join(parts[:2]) if parts[0] == "0" else parts[0]


def _check_shapes(folder: Path, vectors: Vectors, summary: dict) -> None:
    book, link = vectors.book_vectors, vectors.link_vectors
    if book.ndim != 2 or link.ndim != 2 or book.shape[1] != link.shape[1]:
        raise ModelError(
            f"{folder}: book and link vectors have shapes {book.shape} and {link.shape}"
        )
    data = summary["data"]
    if len(book) != data.get("n_books") or len(link) != data.get("n_links", len(link)):
        raise ModelError(f"{folder}: the vectors do not match train.json (another run?)")


# --------------------------------------------------------------------------- the build


def _attach_metadata(trained: TrainedModel, data_dir: str | os.PathLike | None) -> None:
    """Fill ``books``, ``links``, ``pairs``, ``in_pairs`` from the build (given, or found)."""
    from wikirec.built import BuildError, load_training_data

    candidates = [Path(data_dir)] if data_dir is not None else _build_candidates(trained)
    if not candidates:
        trained.metadata_note = f"{trained.path}/train.json names no build folder; pass --data DIR"
        return
    built_by = trained.summary["data"].get("build_id")
    for candidate in candidates:
        try:
            data = load_training_data(candidate)
        except BuildError as exc:
            if data_dir is not None:
                raise ModelError(str(exc)) from exc
            continue
        found_id = data.summary.get("build_id")
        if data_dir is None and built_by and found_id and found_id != built_by:
            continue  # another build of the same name: a relative path found it elsewhere
        if data.books["title"].tolist() != trained.titles[BOOKS] or (
            data.links["title"].tolist() != trained.titles[LINKS]
        ):
            if data_dir is not None:
                raise ModelError(f"{candidate}: not the build this model was trained on")
            continue
        trained.data_dir, trained.books, trained.links = candidate, data.books, data.links
        trained.pairs, trained.in_pairs = np.asarray(data.pairs), data.in_pairs
        return
    named = trained.summary["data"].get("dir")
    trained.metadata_note = (
        f"the build folder {named!r} named in {trained.path}/train.json is not found or does "
        "not match; pass --data DIR"
    )


def _build_candidates(trained: TrainedModel) -> list[Path]:
    """The build folder named in train.json: as written, then under each parent of the
    model folder (a relative path written from the project root)."""
    named = trained.summary["data"].get("dir")
    if not named:
        return []
    found = named_path_candidates(named, trained.path)
    return [p for p in found if (p / "build.json").is_file()]


def find_redirects(
    model_dir: str | os.PathLike, data_dir: str | os.PathLike | None = None
) -> Path | None:
    """The ``redirects.parquet`` a model was built from: the build (``data_dir``, the
    one :func:`read_trained` attached; by default the one ``train.json`` names, as
    written) names the parse folder in its ``build.json``. None when not found."""
    try:
        if data_dir is None:
            train = json.loads((Path(model_dir) / "train.json").read_text(encoding="utf-8"))
            data_dir = train["data"]["dir"]
        data_dir = Path(data_dir)
        build = json.loads((data_dir / "build.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    folder = parse_folder(build, data_dir, needs="redirects.parquet")
    return folder / "redirects.parquet" if folder is not None else None
