"""A build folder, written whole and read back: what ``wikirec build`` leaves for the
stages after it.

The files (their columns are described in :mod:`wikirec.build`): ``books.parquet``,
``links.parquet``, ``pairs.npy``, ``in_pairs.npy`` and ``build.json``, the marker of a
finished build. :func:`write_build` removes the marker first and writes it last, every
file atomically, so a reader sees a whole build or none; :func:`load_training_data`
reads one back as :class:`TrainingData` and checks that its files agree.

Also here, because every reader of the books' metadata compares values the same way:
:func:`infobox_fields` (a book's infobox JSON as a dict) and :func:`fold_value` (the
key two values are equal by). ``wikirec train``, ``evaluate``, ``classify`` and the
trained-folder reader (:mod:`wikirec.trained`) read a build through this module only.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from wikirec.errors import WikirecError
from wikirec.io import (
    named_path_candidates,
    write_json_atomic,
    write_npy_atomic,
    write_set_atomic,
    write_table_atomic,
)

MARKER = "build.json"


class BuildError(WikirecError):
    """Bad input or output folder for the build stage, or a build that cannot be read."""


@dataclass
class TrainingData:
    """A finished build, read back by :func:`load_training_data`.

    Attributes
    ----------
    books : DataFrame, one row per book, row ``i`` has ``index == i``
    links : DataFrame, one row per link, row ``j`` has ``index == j``; ``title`` is its
        key, ``display`` how it is shown (the key for a build made before displays)
    pairs : ndarray of int32, shape (n_pairs, 2)
        ``(book index, link index)``, one row per link occurrence (repeats kept).
    summary : dict, the contents of ``build.json``
    in_pairs : ndarray of int32, shape (n_in, 2)
        ``(book index, link index)``: the link's page links to the book (distinct;
        empty for a build without in-links).
    """

    books: pd.DataFrame
    links: pd.DataFrame
    pairs: np.ndarray
    summary: dict
    in_pairs: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.int32))

    @property
    def n_books(self) -> int:
        return len(self.books)

    @property
    def n_links(self) -> int:
        return len(self.links)

    def graph_pairs(self) -> np.ndarray:
        """int32 (n_pairs + n_in, 2): the out-link pairs (repeats kept) then the in-link
        pairs, all as (book, link): what a book meets, either way."""
        return np.concatenate([np.asarray(self.pairs), self.in_pairs]).astype(np.int32)

    def own_links(self) -> np.ndarray | None:
        """int (n_books,): each book's own link row, or -1 when it is not a link; None
        for a build without ``link_index``."""
        return self.books["link_index"].to_numpy() if "link_index" in self.books else None

    def own_pairs(self) -> np.ndarray:
        """int32 (n, 2): (book, its own link row) for each book that is a link too (some
        book links to it, or it links to one): the page itself, among what it meets."""
        own = self.own_links()
        if own is None:
            return np.zeros((0, 2), np.int32)
        books = np.flatnonzero(own >= 0)
        return np.stack([books, own[books]], axis=1).astype(np.int32)


# --------------------------------------------------------------------------- values


def infobox_fields(raw: str | None) -> dict[str, str]:
    """A book's ``infobox`` JSON as ``{field: value}``, field names stripped and lower
    case; ``{}`` for text that is not a JSON object."""
    try:
        fields = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    if not isinstance(fields, dict):
        return {}
    return {str(k).strip().lower(): str(v) for k, v in fields.items()}


def fold_value(value: object) -> str:
    """The key metadata values are compared by: white space collapsed, case folded
    (``""`` for an empty value or None)."""
    return " ".join(str(value or "").split()).casefold()


# --------------------------------------------------------------------------- write


def write_build(
    out: Path, books: pa.Table, links: pa.Table, pairs: np.ndarray, in_pairs: np.ndarray,
    summary: dict,
) -> Path:  # fmt: skip
    """Write a build into ``out``, its marker ``build.json`` last; an earlier build there
    stays whole and loadable until every new file is written (:func:`write_set_atomic`).

    ``build.json`` gets a ``build_id`` of its own, which ``wikirec train`` copies into
    ``train.json``: a model looking for its build by a relative path then tells its own
    build from another one of the same books (an older run in the working folder)."""
    out = Path(out)
    summary = {**summary, "build_id": uuid.uuid4().hex}
    if out.exists() and not out.is_dir():
        raise BuildError(f"{out}: exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    writers = {
        "books.parquet": lambda path: write_table_atomic(books, path),
        "links.parquet": lambda path: write_table_atomic(links, path),
        "pairs.npy": lambda path: write_npy_atomic(pairs, path),
        "in_pairs.npy": lambda path: write_npy_atomic(in_pairs, path),
        MARKER: lambda path: write_json_atomic(summary, path),
    }
    return write_set_atomic(out, writers, MARKER)


# --------------------------------------------------------------------------- read


def parse_folder(
    summary: dict, data_dir: str | os.PathLike, needs: str = "articles.parquet"
) -> Path | None:
    """The parse folder the build in ``data_dir`` was made from (``summary``: its
    ``build.json``): as ``articles_dir`` names it, or, for a relative name written from
    another working folder, under a parent of ``data_dir``; the first that holds
    ``needs``. None when there is none (a command run from elsewhere still finds it)."""
    named = summary.get("params", {}).get("articles_dir") if isinstance(summary, dict) else None
    if not isinstance(named, str) or not named:
        return None
    found = [p for p in named_path_candidates(named, data_dir) if (p / needs).is_file()]
    return found[0] if found else None


def load_training_data(data_dir: str | os.PathLike, mmap: bool = False) -> TrainingData:
    """Read a finished build back (no articles needed).

    Raises :class:`BuildError` with a one-line message if the folder is missing, not
    finished, or its files disagree with each other.
    """
    folder = Path(data_dir)
    if not folder.is_dir():
        raise BuildError(f"{folder}: no such folder")
    marker = folder / MARKER
    if not marker.is_file():
        raise BuildError(f"{folder}: not a finished build (no build.json; run `wikirec build`)")
    try:
        summary = json.loads(marker.read_text(encoding="utf-8"))
        books = pd.read_parquet(folder / "books.parquet")
        links = pd.read_parquet(folder / "links.parquet")
        pairs = np.load(folder / "pairs.npy", mmap_mode="r" if mmap else None, allow_pickle=False)
        in_path = folder / "in_pairs.npy"  # absent from builds made before in-links
        in_pairs = np.load(in_path, allow_pickle=False) if in_path.is_file() else None
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise BuildError(f"{folder}: cannot read the build ({exc})") from exc
    if in_pairs is None:
        in_pairs = np.zeros((0, 2), np.int32)
    if "title" in links.columns:
        links["display"] = _display_titles(links)
    _check_build(folder, books, links, pairs, summary)
    _check_pairs(folder, "in_pairs.npy", in_pairs, len(books), len(links))
    return TrainingData(books=books, links=links, pairs=pairs, summary=summary,
                        in_pairs=in_pairs)  # fmt: skip


def _display_titles(links: pd.DataFrame) -> pd.Series:
    """How each link is shown: the build's ``display`` column, its key where that is
    missing or empty (builds made before it had none)."""
    if "display" not in links.columns:
        return links["title"]
    shown = links["display"].map(lambda value: value if isinstance(value, str) and value else None)
    return shown.fillna(links["title"])


def _check_build(folder: Path, books, links, pairs: np.ndarray, summary: dict) -> None:
    problems = []
    if pairs.ndim != 2 or pairs.shape[1] != 2 or not np.issubdtype(pairs.dtype, np.integer):
        problems.append(f"pairs.npy has shape {pairs.shape} and dtype {pairs.dtype}")
    elif len(pairs) != summary.get("pairs", {}).get("kept"):
        problems.append("pairs.npy does not match build.json")
    elif len(pairs) and (pairs.min() < 0 or pairs[:, 0].max() >= len(books)):
        problems.append("pairs.npy refers to books that books.parquet lacks")
    elif len(pairs) and pairs[:, 1].max() >= len(links):
        problems.append("pairs.npy refers to links that links.parquet lacks")
    if len(books) != summary.get("books", {}).get("kept"):
        problems.append("books.parquet does not match build.json")
    if len(links) != summary.get("distinct_links", {}).get("kept"):
        problems.append("links.parquet does not match build.json")
    if problems:
        raise BuildError(f"{folder}: inconsistent build: {'; '.join(problems)}")


def _check_pairs(folder: Path, name: str, pairs: np.ndarray, n_books: int, n_links: int) -> None:
    ok = pairs.ndim == 2 and pairs.shape[1] == 2 and np.issubdtype(pairs.dtype, np.integer)
    if ok and len(pairs):
        ok = pairs.min() >= 0 and pairs[:, 0].max() < n_books and pairs[:, 1].max() < n_links
    if not ok:
        raise BuildError(f"{folder}: inconsistent build: {name} does not fit the books and links")
