"""``wikirec plot``: pictures of the embedding space, as the reference tutorial drew them.

From a model folder of ``wikirec train`` (and the build it was trained on, for infobox
fields and categories):

* maps: every book (or linked page) reduced to 2-D with t-SNE (scikit-learn, or
  openTSNE for large sets) and UMAP (umap-learn, cosine metric), coloured by an
  infobox field (genre, country, author, ...) or by categories, the most common ones
  or those asked for, with a legend naming the colours and the rest in light grey;
  chosen items (or the most linked-to ones) starred and labelled
  (:func:`embedding_map`, :func:`map_figure`);
* one item and its nearest neighbours in the full embedding, on the map, coloured by
  similarity (:func:`neighbours_map`);
* the most and least similar items to one, as horizontal bars (:func:`similarity_bars`);
* an interactive HTML map (plotly, embedded: no network needed) whose points show
  their title and fields on hover, with a search box (:func:`interactive_html`).

Linked pages have no infobox: a page takes the value most common among the books that
link to it (among the values shown), so the same legend colours both maps.

Reductions are slow for tens of thousands of points, so each one is cached in the
model folder, ``MODEL_DIR/reductions/<points>-<method>-<key>.npy`` with a JSON twin
holding its key: a digest of the vectors and the method's parameters. The same call
on the same vectors reuses it; retrained vectors (another digest) replace it.

Figures are plain :class:`matplotlib.figure.Figure` objects (no pyplot state): a
notebook shows them inline, :func:`save_figure` writes them atomically. The command
line uses the Agg backend.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from wikirec.io import write_atomic, write_json_atomic, write_npy_atomic, write_text_atomic
from wikirec.titles import CATEGORY_PREFIX
from wikirec.trained import (
    BOOKS,
    KINDS,
    LINKS,
    ModelError,
    TrainedModel,
    read_trained,
)

METHODS = ("tsne", "umap")
METHOD_NAMES = {"tsne": "t-SNE", "umap": "UMAP"}
LINK_SETS = ("all", "categories", "pages")
CATEGORY_FIELDS = ("category", "categories")
# A qualitative palette of 20 colours that stay apart on white: tab10, then ten more.
PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
    "#000075",
    "#808000",
    "#f032e6",
    "#469990",
    "#800000",
    "#4363d8",
    "#9a6324",
    "#3cb44b",
    "#ffd700",
    "#42d4f4",
)
OTHER_COLOUR = "#d9d9d9"
SINGLE_COLOUR = "#1f77b4"
DEFAULT_SIZE = (1400, 1000)
DPI = 100
FORMATS = ("png", "svg", "pdf")
CACHE_DIR = "reductions"
CACHE_VERSION = 1
OPENTSNE_FROM = 10_000  # t-SNE backend "auto": openTSNE from this many points, if installed
MIN_POINTS = 5
LABEL_CHARS = 42


class PlotError(ModelError):
    """Bad input for a plot; the message is one line."""


# --------------------------------------------------------------------------- points


@dataclass
class Points:
    """The items of one map: rows of one kind of vectors.

    Attributes
    ----------
    kind : "books" or "links"
    rows : int array, the rows of ``model.vectors[kind]`` shown, in order
    titles : their titles
    vectors : their (unit) vectors, shape (len(rows), dim)
    label : names the set in file names and the cache: "books", "links",
        "links-categories", "links-pages"
    """

    kind: str
    rows: np.ndarray
    titles: list[str]
    vectors: np.ndarray
    label: str

    @property
    def noun(self) -> str:
        """How to call the items in a sentence."""
        if self.kind == BOOKS:
            return "books"
        return {"links": "linked pages", "links-categories": "category pages"}.get(
            self.label, "linked pages (not categories)"
        )

    def position(self, model: TrainedModel, title: str) -> int:
        """The index in this set of ``title``; raises :class:`PlotError` if absent."""
        try:
            row = model.find(title, self.kind)
        except ModelError as exc:
            raise PlotError(str(exc)) from exc
        found = np.flatnonzero(self.rows == row)
        if len(found) == 0:
            raise PlotError(f"{model.titles[self.kind][row]!r} is not among the {self.noun}")
        return int(found[0])


def select_points(model: TrainedModel, kind: str = BOOKS, links: str = "all") -> Points:
    """All books, or the linked pages (``links``: "all", "categories" or "pages")."""
    if kind not in KINDS:
        raise PlotError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    if links not in LINK_SETS:
        raise PlotError(f"links must be one of {', '.join(LINK_SETS)}, not {links!r}")
    n = len(model.titles[kind])
    if kind == BOOKS or links == "all":
        rows, label = np.arange(n), kind
    else:
        wanted = model.is_category() if links == "categories" else ~model.is_category()
        rows, label = np.flatnonzero(wanted), f"links-{links}"
    if len(rows) < MIN_POINTS:
        raise PlotError(f"only {len(rows)} {label} to map; at least {MIN_POINTS} are needed")
    titles = model.titles[kind]
    return Points(kind, rows, [titles[i] for i in rows], model.vectors[kind][rows], label)


# --------------------------------------------------------------------------- reduction


@dataclass(frozen=True)
class ReduceParams:
    """How to reduce vectors to 2-D.

    ``method`` "tsne": ``perplexity``, ``tsne_iter`` iterations (at least 250), backend
    ``tsne_backend`` ("auto": openTSNE from 10,000 points when installed, else
    scikit-learn). ``method`` "umap": ``umap_neighbors``, ``umap_min_dist``,
    ``umap_epochs`` (None: umap-learn's default). Both use the cosine metric and
    ``seed``.
    """

    method: str = "umap"
    seed: int = 0
    perplexity: float = 30.0
    tsne_iter: int = 1000
    tsne_backend: str = "auto"
    umap_neighbors: int = 15
    umap_min_dist: float = 0.1
    umap_epochs: int | None = None

    def check(self) -> None:
        """Raise :class:`PlotError` naming the first bad parameter."""
        rules = [
            (self.method in METHODS, f"method must be one of {', '.join(METHODS)}"),
            (self.perplexity > 0, "the perplexity must be > 0"),
            (self.tsne_iter >= 250, "t-SNE needs at least 250 iterations"),
            (self.tsne_backend in ("auto", "sklearn", "opentsne"), "bad t-SNE backend"),
            (self.umap_neighbors >= 2, "UMAP needs at least 2 neighbours"),
            (0 <= self.umap_min_dist <= 1, "UMAP's min_dist must be within [0, 1]"),
            (self.umap_epochs is None or self.umap_epochs >= 1, "UMAP epochs must be >= 1"),
        ]
        for ok, message in rules:
            if not ok:
                raise PlotError(message)

    def resolved(self, n: int) -> dict:
        """The parameters that shape the result for ``n`` points (the cache key)."""
        if self.method == "tsne":
            return {
                "method": "tsne",
                "seed": self.seed,
                "metric": "cosine",
                "perplexity": min(self.perplexity, (n - 1) / 3),
                "iterations": self.tsne_iter,
                "backend": _tsne_backend(self.tsne_backend, n),
            }
        return {
            "method": "umap",
            "seed": self.seed,
            "metric": "cosine",
            "n_neighbors": min(self.umap_neighbors, n - 1),
            "neighbours": "exact",
            "min_dist": self.umap_min_dist,
            "n_epochs": self.umap_epochs,
        }


@dataclass
class Reduction:
    """2-D coordinates of some vectors, and where they came from.

    Attributes
    ----------
    coords : float32 array (n, 2)
    params : :meth:`ReduceParams.resolved` for these points
    cached : True when read from the cache rather than computed
    cache_path : the ``.npy`` in the cache (None without a cache)
    seconds : time to compute (0 when cached)
    note : a problem with the cache, if any (the reduction itself is fine)
    """

    coords: np.ndarray
    params: dict
    cached: bool = False
    cache_path: Path | None = None
    seconds: float = 0.0
    note: str = ""

    def describe(self, noun: str = "points") -> str:
        """One line for people: what was reduced and whether the cache was used."""
        what = f"{METHOD_NAMES[self.params['method']]} of {len(self.coords):,} {noun}"
        if self.cached:
            return f"{what}: reused the cached reduction {self.cache_path}"
        where = f"; cached in {self.cache_path}" if self.cache_path else ""
        note = f" ({self.note})" if self.note else ""
        return f"{what}: computed in {self.seconds:.1f} s{where}{note}"


def _tsne_backend(choice: str, n: int) -> str:
    if choice != "auto":
        return choice
    if n < OPENTSNE_FROM:
        return "sklearn"
    try:
        import openTSNE  # noqa: F401
    except ImportError:
        return "sklearn"
    return "opentsne"


def vectors_digest(vectors: np.ndarray) -> str:
    """SHA-256 of the vectors' shape, type and bytes."""
    array = np.ascontiguousarray(vectors)
    digest = hashlib.sha256(f"{array.shape}{array.dtype.str}".encode())
    digest.update(array.tobytes())
    return digest.hexdigest()


def reduce_vectors(
    vectors: np.ndarray,
    params: ReduceParams,
    cache_dir: str | os.PathLike | None = None,
    label: str = "points",
    progress: bool = False,
    noun: str | None = None,
) -> Reduction:
    """Reduce ``vectors`` (n, dim) to 2-D, or read the result from ``cache_dir``.

    The cache entry is ``cache_dir/<label>-<method>-<key>.npy`` with its key in a
    ``.json`` beside it (no pickles); entries of the same label and method made from
    other vectors are removed when a new one is written. A cache that cannot be
    written is reported in :attr:`Reduction.note`, not raised. ``progress`` prints a
    line on stderr before a long computation.
    """
    params.check()
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or len(vectors) < MIN_POINTS:
        raise PlotError(f"need at least {MIN_POINTS} vectors to reduce, not {len(vectors)}")
    resolved = params.resolved(len(vectors))
    key = {"version": CACHE_VERSION, "vectors": vectors_digest(vectors), **resolved}
    paths = _cache_paths(cache_dir, label, key) if cache_dir is not None else None
    if paths is not None:
        coords = _read_cache(paths, key, len(vectors))
        if coords is not None:
            return Reduction(coords, resolved, cached=True, cache_path=paths[0])
    if progress:
        name = METHOD_NAMES[params.method]
        what = f"{name} of {len(vectors):,} {noun or label}"
        print(f"{what}: computing (cached afterwards) ...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    coords = _compute(vectors, resolved, progress)
    seconds = time.perf_counter() - started
    note = _write_cache(paths, key, coords, label) if paths is not None else ""
    saved = paths[0] if paths is not None and not note else None
    return Reduction(coords, resolved, cache_path=saved, seconds=seconds, note=note)


def _cache_paths(cache_dir, label: str, key: dict) -> tuple[Path, Path]:
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    stem = Path(cache_dir) / f"{label}-{key['method']}-{digest}"
    return stem.with_suffix(".npy"), stem.with_suffix(".json")


def _read_cache(paths: tuple[Path, Path], key: dict, n: int) -> np.ndarray | None:
    array_path, key_path = paths
    try:
        if json.loads(key_path.read_text(encoding="utf-8")) != key:
            return None
        coords = np.load(array_path, allow_pickle=False)
    except (OSError, ValueError):
        return None
    if coords.shape != (n, 2) or not np.isfinite(coords).all():
        return None
    return coords.astype(np.float32)


def _write_cache(paths: tuple[Path, Path], key: dict, coords: np.ndarray, label: str) -> str:
    """Write the entry (array first, key last) and drop stale ones; '' or a note."""
    array_path, key_path = paths
    try:
        write_npy_atomic(coords, array_path)
        write_json_atomic(key, key_path)
        _prune_cache(array_path.parent, label, key)
    except OSError as exc:
        return f"not cached: {array_path.parent} is not writable ({exc.strerror or exc})"
    return ""


def _prune_cache(folder: Path, label: str, key: dict) -> None:
    """Remove entries of this label and method that were made from other vectors."""
    for other in folder.glob(f"{label}-{key['method']}-*.json"):
        try:
            old = json.loads(other.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            old = {}
        if old.get("vectors") != key["vectors"]:
            other.with_suffix(".npy").unlink(missing_ok=True)
            other.unlink(missing_ok=True)


def _compute(vectors: np.ndarray, params: dict, progress: bool) -> np.ndarray:
    if params["method"] == "tsne":
        coords = _tsne(vectors, params, progress)
    else:
        coords = _umap(vectors, params, progress)
    return np.asarray(coords, dtype=np.float32)


def _tsne(vectors: np.ndarray, p: dict, progress: bool) -> np.ndarray:
    if p["backend"] == "opentsne":
        import openTSNE

        early = 250
        tsne = openTSNE.TSNE(
            perplexity=p["perplexity"],
            metric="cosine",
            n_iter=max(p["iterations"] - early, 1),
            early_exaggeration_iter=early,
            initialization="pca",
            random_state=p["seed"],
            n_jobs=-1,
            verbose=progress,
        )
        return np.asarray(tsne.fit(vectors))
    from sklearn.manifold import TSNE
    from threadpoolctl import threadpool_limits

    tsne = TSNE(
        n_components=2,
        perplexity=p["perplexity"],
        max_iter=p["iterations"],
        metric="cosine",
        init="pca",
        learning_rate="auto",
        random_state=p["seed"],
    )
    # One OpenMP thread: for the sizes sent here (under OPENTSNE_FROM) a second thread
    # gains little and, when the cores are busy, spinning threads make it 10x slower.
    with threadpool_limits(limits=1, user_api="openmp"):
        return tsne.fit_transform(vectors)


def _umap(vectors: np.ndarray, p: dict, progress: bool) -> np.ndarray:
    """UMAP on exact cosine neighbours computed here (scikit-learn, brute force): the
    same neighbours umap-learn finds for small sets, without compiling its own search."""
    umap = import_umap()
    knn = exact_knn(vectors, p["n_neighbors"])
    reducer = umap.UMAP(
        n_components=2,
        n_neighbors=p["n_neighbors"],
        min_dist=p["min_dist"],
        metric="cosine",
        n_epochs=p["n_epochs"],
        random_state=p["seed"],
        precomputed_knn=(*knn, None),
        verbose=False,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "n_jobs overridden by random_state", numba notes
        return reducer.fit_transform(vectors)


def exact_knn(vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's ``k`` nearest rows by cosine distance, itself first: indices (n, k)
    and distances (n, k, float32), computed in blocks."""
    from sklearn.neighbors import NearestNeighbors

    search = NearestNeighbors(n_neighbors=k, metric="cosine", algorithm="brute").fit(vectors)
    distances, indices = search.kneighbors(vectors)
    return indices, np.maximum(distances, 0).astype(np.float32)


def import_umap():
    """``import umap`` without its optional ParametricUMAP, which would import
    TensorFlow (seconds, and unused here) when TensorFlow is not loaded yet."""
    if "umap" in sys.modules or "tensorflow" in sys.modules:
        import umap

        return umap
    sys.modules["tensorflow"] = None  # makes `import tensorflow` raise ImportError
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import umap
    finally:
        if sys.modules.get("tensorflow", 0) is None:
            del sys.modules["tensorflow"]
    return umap


def reduce_points(
    model: TrainedModel,
    points: Points,
    params: ReduceParams,
    cache: bool = True,
    progress: bool = False,
) -> Reduction:
    """:func:`reduce_vectors` of ``points``, cached in ``model.path / "reductions"``."""
    cache_dir = model.path / CACHE_DIR if cache else None
    return reduce_vectors(points.vectors, params, cache_dir, points.label, progress, points.noun)


# --------------------------------------------------------------------------- colours


@dataclass
class Groups:
    """The colour of each point: a legend entry, or "other".

    Attributes
    ----------
    field : the field coloured by ("genre", "category", ...), or None (one colour)
    names : legend names in order (without "other")
    codes : int array, per point: its index in ``names``, or -1 for other
    counts : points per name
    title : the legend's title
    """

    field: str | None
    names: list[str]
    codes: np.ndarray
    counts: list[int]
    title: str = ""

    @property
    def n_other(self) -> int:
        return int((self.codes < 0).sum())

    def legend_labels(self) -> list[str]:
        """The legend's entries: each name with its count, then other (if any)."""
        labels = [f"{_short(n)} ({c:,})" for n, c in zip(self.names, self.counts, strict=True)]
        if self.field is not None and self.n_other:
            labels.append(f"other or none ({self.n_other:,})")
        return labels


def normalize_value(value: str) -> str:
    """The key values are compared by: whitespace collapsed, case folded, a leading
    ``Category:`` dropped."""
    key = " ".join(str(value).split()).casefold()
    return key[len(CATEGORY_PREFIX) :].strip() if key.startswith(CATEGORY_PREFIX) else key


def book_values(model: TrainedModel, field: str) -> pd.DataFrame:
    """A long table of (book, key, label): each book's values of ``field`` (an infobox
    column, any infobox field, or "category": the book's ``Category:`` links).

    Raises :class:`PlotError` when no book has the field."""
    model.require_metadata(f"colouring by {field!r}")
    name = field.strip().lower().replace(" ", "_")
    if name in CATEGORY_FIELDS:
        pairs = model.book_link_pairs()
        is_category = model.is_category()
        pairs = pairs[is_category[pairs[:, 1]]]
        link_titles = model.titles[LINKS]
        raw = [link_titles[j][len(CATEGORY_PREFIX) :] for j in pairs[:, 1]]
        table = pd.DataFrame({"book": pairs[:, 0], "raw": raw})
    else:
        table = pd.DataFrame(
            {"book": np.arange(len(model.books)), "raw": _field_column(model, name)}
        )
    table["key"] = [normalize_value(v) for v in table["raw"]]
    table = table[table["key"] != ""].drop_duplicates(["book", "key"])
    if table.empty:
        raise PlotError(f"no book has a {field!r} field{_field_hint(model)}")
    labels = table.groupby("key")["raw"].agg(lambda s: _upper_first(s.value_counts().index[0]))
    table["label"] = table["key"].map(labels)
    return table.reset_index(drop=True)


def _field_column(model: TrainedModel, name: str) -> list[str]:
    if name in model.books.columns and name not in ("index", "title", "infobox", "n_pairs"):
        return model.books[name].fillna("").astype(str).tolist()
    values = []
    for raw in model.books["infobox"]:
        try:
            fields = json.loads(raw) if raw else {}
        except ValueError:
            fields = {}
        fields = (
            {str(k).strip().lower(): v for k, v in fields.items()}
            if isinstance(fields, dict)
            else {}
        )
        values.append(str(fields.get(name, "")))
    return values


def _field_hint(model: TrainedModel) -> str:
    """Suggest the infobox fields books do have."""
    counts: dict[str, int] = {}
    for raw in model.books["infobox"][:5000]:
        try:
            keys = json.loads(raw or "{}")
        except ValueError:
            continue
        for key in keys if isinstance(keys, dict) else ():
            counts[str(key).lower()] = counts.get(str(key).lower(), 0) + 1
    common = sorted(counts, key=lambda k: -counts[k])[:8]
    return f" (try: category, {', '.join(common)})" if common else " (try: category)"


def _upper_first(text: str) -> str:
    text = " ".join(str(text).split())
    return text[:1].upper() + text[1:]


def _short(text: str, limit: int = LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def colour_groups(
    model: TrainedModel,
    points: Points,
    field: str | None = "genre",
    top: int = 10,
    values: Sequence[str] | None = None,
) -> Groups:
    """Colour ``points`` by ``field``: the ``top`` most common values among books (or
    exactly ``values``, in that order), the rest "other".

    For categories (several per book) the values chosen are those that together colour
    the most books: the most common, then each time the one adding the most books not
    coloured yet. A book with several chosen values takes the first; a linked page
    takes the chosen value most common among the books linking to it (ties: the
    first). ``field=None`` gives one colour and no legend.
    """
    if field is None:
        return Groups(None, [], np.zeros(len(points.rows), np.int64), [], "")
    if not 1 <= top <= len(PALETTE):
        raise PlotError(f"top must be between 1 and {len(PALETTE)}, not {top}")
    table = book_values(model, field)
    chosen = _choose_values(table, field, top, values)
    rank = {key: i for i, key in enumerate(chosen)}
    table = table[table["key"].isin(rank)].assign(rank=lambda t: t["key"].map(rank))
    if points.kind == BOOKS:
        codes = _book_codes(table, len(model.titles[BOOKS]))[points.rows]
        title = _field_title(field)
    else:
        codes = _link_codes(model, table, len(chosen))[points.rows]
        title = f"{_field_title(field)} of the books\nlinking to the page"
    labels = table.drop_duplicates("key").set_index("key")["label"]
    names = [labels[key] for key in chosen]
    counts = [int((codes == i).sum()) for i in range(len(chosen))]
    return Groups(field, names, codes, counts, title)


def _field_title(field: str) -> str:
    name = field.strip().lower()
    return "category" if name in CATEGORY_FIELDS else name.replace("_", " ")


def _choose_values(table: pd.DataFrame, field: str, top: int, values) -> list[str]:
    if values is None:
        return _greedy_values(table, top)
    if not 1 <= len(values) <= len(PALETTE):
        raise PlotError(f"give between 1 and {len(PALETTE)} values to colour, not {len(values)}")
    known = set(table["key"])
    chosen = list(dict.fromkeys(normalize_value(v) for v in values))
    missing = [v for v in values if normalize_value(v) not in known]
    if missing:
        common = table["label"].value_counts().index[:5]
        raise PlotError(
            f"no book has {_field_title(field)} {missing[0]!r} (common: {', '.join(common)})"
        )
    return chosen


def _greedy_values(table: pd.DataFrame, top: int) -> list[str]:
    """The ``top`` values that together cover the most books: the most common first,
    then each time the one adding the most books not covered yet (ties: by name). For a
    field of one value per book this is simply the most common values."""
    import heapq

    books = table.groupby("key")["book"].agg(frozenset)
    heap = [(-len(b), key) for key, b in books.items()]
    heapq.heapify(heap)
    covered: set[int] = set()
    chosen: list[str] = []
    while heap and len(chosen) < top:
        bound, key = heapq.heappop(heap)
        gain = len(books[key] - covered)
        if heap and gain < -heap[0][0]:
            heapq.heappush(heap, (-gain, key))  # stale bound: try again later
            continue
        if gain == 0:
            break
        chosen.append(key)
        covered |= books[key]
    return chosen


def _book_codes(table: pd.DataFrame, n_books: int) -> np.ndarray:
    codes = np.full(n_books, -1, np.int64)
    best = table.groupby("book")["rank"].min()
    codes[best.index.to_numpy()] = best.to_numpy()
    return codes


def _link_codes(model: TrainedModel, table: pd.DataFrame, n_values: int) -> np.ndarray:
    """Per link: the chosen value most common among its books (ties: the first)."""
    pairs = model.book_link_pairs()
    n_links = len(model.titles[LINKS])
    votes = np.zeros((n_links, max(n_values, 1)), np.int64)
    book_ranks = pd.DataFrame({"book": pairs[:, 0], "link": pairs[:, 1]}).merge(
        table[["book", "rank"]], on="book"
    )
    np.add.at(votes, (book_ranks["link"].to_numpy(), book_ranks["rank"].to_numpy()), 1)
    codes = votes.argmax(axis=1)
    codes[votes.max(axis=1) == 0] = -1
    return codes


# --------------------------------------------------------------------------- highlights


def most_linked(model: TrainedModel, points: Points, n: int) -> list[int]:
    """Positions in ``points`` of the ``n`` items most linked to: books by the number of
    books whose pages link to them (ties: the books with most links), pages by the
    number of books linking to them."""
    if n <= 0:
        return []
    model.require_metadata("finding the most linked-to items")
    if points.kind == BOOKS:
        incoming = model.links.assign(key=model.links["title"].str.casefold())
        incoming = incoming.groupby("key")["count"].max()
        linked = model.books["title"].str.casefold().map(incoming).fillna(0).to_numpy()
        score = np.lexsort((-model.books["n_pairs"].to_numpy(), -linked))
    else:
        score = np.argsort(-model.links["count"].to_numpy(), kind="stable")
    position = {row: i for i, row in enumerate(points.rows.tolist())}
    return [position[r] for r in score.tolist() if r in position][:n]


def highlight_positions(
    model: TrainedModel, points: Points, titles: Sequence[str] = (), top: int = 0
) -> list[int]:
    """Positions to star: the ``titles`` (each must be among the points), then the
    ``top`` most linked-to items."""
    found = [points.position(model, t) for t in titles]
    return list(dict.fromkeys(found + most_linked(model, points, top)))


# --------------------------------------------------------------------------- figures


def _figure(size: tuple[int, int]):
    """A Figure of ``size`` pixels on an Agg canvas (no pyplot, no GUI)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    width, height = size
    if width < 200 or height < 150:
        raise PlotError(f"a figure must be at least 200x150 pixels, not {width}x{height}")
    # + 0.25 px: the renderer truncates, and 12.34 * 100 may be 1233.999...
    fig = Figure(
        figsize=((width + 0.25) / DPI, (height + 0.25) / DPI), dpi=DPI, layout="constrained"
    )
    FigureCanvasAgg(fig)
    return fig


def _marker_size(n: int) -> float:
    return float(np.clip(24000 / max(n, 1), 1.5, 24))


def _bare(ax, equal: bool = True) -> None:
    """Axes without ticks (2-D map coordinates mean nothing by themselves); ``equal``:
    one unit as long across as up (data limits grow to fit the box)."""
    if equal:
        ax.set_aspect("equal", adjustable="datalim")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_color("#bbbbbb")


def _label_candidates(step: float) -> list[tuple[float, float, str, str]]:
    """Offsets (points) and alignments to try, nearest first, then stacked further out."""
    near = [
        (6, 4, "left", "bottom"),
        (6, -4, "left", "top"),
        (-6, 4, "right", "bottom"),
        (-6, -4, "right", "top"),
    ]
    far = []
    for level in range(1, 13):
        dy = level * step
        far += [
            (16, 4 + dy, "left", "bottom"),
            (16, -4 - dy, "left", "top"),
            (-16, 4 + dy, "right", "bottom"),
            (-16, -4 - dy, "right", "top"),
        ]
    return near + far


def place_labels(
    ax, xy: np.ndarray, texts: Sequence[str], size: float = 9, bold: Sequence[bool] = ()
) -> None:
    """Label the points ``xy`` (data coordinates) without overlapping labels.

    Greedy, in the order given: each label takes the first offset around its point
    whose box meets no label placed before and no other labelled point, inside the
    axes; a label set away from its point gets a leader line. The layout is computed
    first, so call this once everything else is drawn. ``bold``: per label."""
    fig = ax.figure
    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    anchors = ax.transData.transform(xy)
    dots = [_box(x - 6, y - 6, x + 6, y + 6) for x, y in anchors]
    candidates = _label_candidates(size * 1.4)
    placed: list = []
    for i, text in enumerate(texts):
        style = {"fontsize": size, "fontweight": "bold" if i < len(bold) and bold[i] else None}
        others = placed + dots[:i] + dots[i + 1 :]
        for n, (dx, dy, ha, va) in enumerate(candidates):
            ann = _annotation(ax, xy[i], text, (dx, dy), ha, va, style, leader=False)
            box = ann.get_window_extent(renderer)
            fits = _inside(box, ax.bbox) and not any(box.overlaps(o) for o in others)
            if fits or n == len(candidates) - 1:
                break
            ann.remove()
        if n >= 4:  # moved away from the point: draw a leader line
            ann.remove()
            _annotation(ax, xy[i], text, (dx, dy), ha, va, style, leader=True)
        placed.append(box)


def _annotation(ax, xy, text: str, offset, ha: str, va: str, style: dict, leader: bool):
    from matplotlib import patheffects

    arrow = {"arrowstyle": "-", "color": "#777777", "lw": 0.6, "shrinkA": 0, "shrinkB": 3}
    ann = ax.annotate(
        _short(text),
        xy,
        xytext=offset,
        textcoords="offset points",
        ha=ha,
        va=va,
        path_effects=[patheffects.withStroke(linewidth=3, foreground="white")],
        zorder=6,
        arrowprops=arrow if leader else None,
        annotation_clip=False,
        **{k: v for k, v in style.items() if v is not None},
    )
    ann.set_in_layout(False)
    return ann


def _box(x0: float, y0: float, x1: float, y1: float):
    from matplotlib.transforms import Bbox

    return Bbox([[x0, y0], [x1, y1]])


def _inside(box, frame) -> bool:
    return box.x0 >= frame.x0 and box.x1 <= frame.x1 and box.y0 >= frame.y0 and box.y1 <= frame.y1


def map_figure(
    coords: np.ndarray,
    groups: Groups,
    titles: Sequence[str],
    highlight: Sequence[int] = (),
    title: str = "",
    subtitle: str = "",
    size: tuple[int, int] = DEFAULT_SIZE,
):
    """A 2-D map: "other" in light grey behind, each group in its colour (largest drawn
    first), the legend outside the axes on the right, ``highlight`` positions starred
    and labelled. Returns a matplotlib Figure."""
    fig = _figure(size)
    ax = fig.add_subplot()
    s = _marker_size(len(coords))
    other = groups.codes < 0
    if groups.field is None:
        ax.scatter(*coords.T, s=s, c=SINGLE_COLOUR, alpha=0.7, linewidths=0)
    elif other.any():
        ax.scatter(
            *coords[other].T,
            s=s,
            c=OTHER_COLOUR,
            alpha=0.6,
            linewidths=0,
            zorder=1,
            label=groups.legend_labels()[-1],
        )
    for i in np.argsort([-c for c in groups.counts], kind="stable"):
        mask = groups.codes == i
        ax.scatter(*coords[mask].T, s=s * 1.3, c=PALETTE[i], alpha=0.85, linewidths=0, zorder=2)
    _draw_highlights(ax, coords, titles, highlight)
    if groups.field is not None:
        _legend(fig, groups)
    _titles(ax, title, subtitle)
    _bare(ax)
    if len(highlight):
        stars = list(highlight)
        place_labels(
            ax, coords[stars], [titles[i] for i in stars], size=9.5, bold=[True] * len(stars)
        )
    return fig


def _draw_highlights(ax, coords, titles, highlight) -> None:
    """Stars at the ``highlight`` positions; their labels come last (:func:`place_labels`)."""
    if len(highlight):
        ax.scatter(
            *coords[list(highlight)].T,
            marker="*",
            s=320,
            c="#ffd700",
            edgecolors="black",
            linewidths=1.0,
            zorder=5,
        )


def _legend(fig, groups: Groups) -> None:
    from matplotlib.lines import Line2D

    labels = groups.legend_labels()
    proxies = [
        Line2D(
            [], [], ls="", marker="o", markersize=8, markerfacecolor=PALETTE[i], markeredgewidth=0
        )
        for i in range(len(groups.names))
    ]
    if len(labels) > len(groups.names):
        proxies.append(
            Line2D(
                [],
                [],
                ls="",
                marker="o",
                markersize=8,
                markerfacecolor=OTHER_COLOUR,
                markeredgewidth=0,
            )
        )
    fig.legend(
        proxies,
        labels,
        loc="outside right upper",
        title=groups.title,
        frameon=False,
        fontsize=9,
        title_fontsize=10,
        alignment="left",
    )


def _titles(ax, title: str, subtitle: str) -> None:
    if title:
        ax.set_title(title + (f"\n{subtitle}" if subtitle else ""), fontsize=12, loc="left")


def neighbours_figure(
    coords: np.ndarray,
    vectors: np.ndarray,
    titles: Sequence[str],
    query: int,
    k: int = 10,
    title: str = "",
    size: tuple[int, int] = DEFAULT_SIZE,
):
    """The item at ``query`` starred with its ``k`` nearest neighbours in the full
    embedding (cosine of unit ``vectors``) coloured by similarity: on the whole map
    (left) and zoomed on them (right), with a note that 2-D distances need not follow
    50-D ones. Returns a matplotlib Figure."""
    k = _check_k(k, len(titles))
    sims = vectors @ vectors[query]
    order = [i for i in np.argsort(-sims, kind="stable") if i != query][:k]
    fig = _figure(size)
    whole, zoom = fig.subplots(1, 2, width_ratios=[1, 1.6])
    box = _zoom_box(coords, [query, *order])
    for ax, s in ((whole, _marker_size(len(coords))), (zoom, _marker_size(len(coords)) * 2)):
        ax.scatter(*coords.T, s=s, c=OTHER_COLOUR, linewidths=0, zorder=1)
        dots = _neighbour_dots(ax, coords, sims, query, order)
        _bare(ax, equal=ax is whole)
    fig.colorbar(
        dots, ax=zoom, label=f"cosine similarity to the query ({vectors.shape[1]}-D)", shrink=0.6
    )
    whole.set_title("the whole map (the box is the zoom)", fontsize=10, loc="left")
    zoom.set_title(_short(title, 110), fontsize=12, loc="left")
    kept = _kept_in_2d(coords, query, order)
    fig.supxlabel(
        f"Neighbours are the {k} nearest in the {vectors.shape[1]}-D embedding; the 2-D map "
        f"need not keep them near: {kept} of {k} are among the query's {k} nearest points "
        "in 2-D.",
        fontsize=9,
        x=0.01,
        ha="left",
    )
    _frame(whole, _fit_box(zoom, box))
    labels = [titles[query]] + [f"{rank}. {titles[i]}" for rank, i in enumerate(order, 1)]
    place_labels(zoom, coords[[query, *order]], labels, size=8.5, bold=[True])
    return fig


def _neighbour_dots(ax, coords, sims, query: int, order: list[int]):
    qx, qy = coords[query]
    for i in order:
        ax.plot([qx, coords[i, 0]], [qy, coords[i, 1]], color="#999999", lw=0.6, ls="--", zorder=2)
    dots = ax.scatter(
        *coords[order].T,
        s=70,
        c=sims[order],
        cmap="viridis",
        edgecolors="black",
        linewidths=0.6,
        zorder=3,
    )
    ax.scatter([qx], [qy], marker="*", s=380, c="#d62728", edgecolors="black", zorder=5)
    return dots


def _zoom_box(coords: np.ndarray, rows: list[int]) -> tuple[float, float, float, float]:
    """The box around ``rows``, padded, at least a tenth of the map wide and high."""
    lo, hi = coords[rows].min(axis=0), coords[rows].max(axis=0)
    span = coords.max(axis=0) - coords.min(axis=0)
    half = np.maximum((hi - lo) / 2 * 1.35, span / 80)
    mid = (lo + hi) / 2
    return (mid[0] - half[0], mid[1] - half[1], mid[0] + half[0], mid[1] + half[1])


def _fit_box(ax, box) -> tuple[float, float, float, float]:
    """Set ``ax``'s limits to ``box`` grown to the axes' shape (equal aspect), once the
    layout is known; return them as ``(x0, x1, y0, y1)``."""
    ax.figure.draw_without_rendering()
    x0, y0, x1, y1 = box
    ratio = ax.bbox.width / max(ax.bbox.height, 1)
    width, height = max(x1 - x0, (y1 - y0) * ratio), max(y1 - y0, (x1 - x0) / ratio)
    mx, my = (x0 + x1) / 2, (y0 + y1) / 2
    limits = (mx - width / 2, mx + width / 2, my - height / 2, my + height / 2)
    ax.set_xlim(limits[0], limits[1])
    ax.set_ylim(limits[2], limits[3])
    return limits


def _frame(ax, limits) -> None:
    """The zoomed region, ``(x0, x1, y0, y1)``, as a box on the whole map."""
    from matplotlib.patches import Rectangle

    x0, x1, y0, y1 = limits
    ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, ec="black", lw=1, zorder=6))


def _kept_in_2d(coords: np.ndarray, query: int, order: list[int]) -> int:
    dist = np.linalg.norm(coords - coords[query], axis=1)
    dist[query] = np.inf
    near = set(np.argsort(dist, kind="stable")[: len(order)].tolist())
    return len(near.intersection(order))


def _check_k(k: int, n: int) -> int:
    if k < 1:
        raise PlotError(f"k must be at least 1, not {k}")
    return min(k, n - 1)


def similarity_figure(
    vectors: np.ndarray,
    titles: Sequence[str],
    query: int,
    k: int = 10,
    noun: str = "books",
    size: tuple[int, int] = DEFAULT_SIZE,
):
    """Horizontal bars: the ``k`` most similar items to ``query`` (left) and the ``k``
    least similar (right), by cosine of unit ``vectors``. Returns a matplotlib Figure."""
    k = _check_k(k, len(titles))
    sims = vectors @ vectors[query]
    ranked = [i for i in np.argsort(-sims, kind="stable") if i != query]
    fig = _figure(size)
    most_ax, least_ax = fig.subplots(1, 2)
    _bars(most_ax, ranked[:k], sims, titles, "#2ca02c", f"Most similar {noun}")
    _bars(least_ax, ranked[::-1][:k], sims, titles, "#d62728", f"Least similar {noun}")
    fig.suptitle(
        f"{_short(titles[query], 60)}: cosine similarity in {vectors.shape[1]}-D", fontsize=13
    )
    return fig


def _bars(ax, rows: list[int], sims: np.ndarray, titles, colour: str, heading: str) -> None:
    values = sims[rows]
    ax.barh(range(len(rows)), values, color=colour, alpha=0.85)
    ax.set_yticks(range(len(rows)), [_short(titles[i], 38) for i in rows], fontsize=9)
    ax.invert_yaxis()
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlim(-1.05, 1.05)
    ax.set_xlabel("cosine similarity")
    ax.set_title(heading, loc="left", fontsize=11)
    for y, v in enumerate(values):
        ax.text(
            v + (0.02 if v >= 0 else -0.02),
            y,
            f"{v:.2f}",
            va="center",
            ha="left" if v >= 0 else "right",
            fontsize=8,
        )


def save_figure(fig, path: str | os.PathLike, fmt: str = "png") -> Path:
    """Write ``fig`` atomically (exactly its size in pixels for PNG)."""
    if fmt not in FORMATS:
        raise PlotError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # glyphs a font lacks (CJK titles)
        return write_atomic(path, lambda tmp: fig.savefig(tmp, format=fmt, dpi=DPI))


# --------------------------------------------------------------------------- HTML


def hover_table(model: TrainedModel, points: Points) -> pd.DataFrame:
    """The fields shown on hover: author, genre, country, publisher for books; type and
    books linking to it for pages (titles only without the build)."""
    if points.kind == BOOKS:
        if not model.has_metadata:
            return pd.DataFrame(index=range(len(points.rows)))
        columns = ["author", "genre", "country", "publisher"]
        return model.books.iloc[points.rows][columns].reset_index(drop=True)
    table = pd.DataFrame({"type": np.where(model.is_category()[points.rows], "category", "page")})
    if model.has_metadata:
        table["books linking"] = model.links["count"].to_numpy()[points.rows]
    return table


def interactive_html(
    coords: np.ndarray,
    groups: Groups,
    titles: Sequence[str],
    hover: pd.DataFrame | None = None,
    highlight: Sequence[int] = (),
    title: str = "",
) -> str:
    """A self-contained HTML page (plotly.js embedded): the map, a hover card with the
    title and ``hover``'s columns, a legend that toggles groups, and a search box that
    stars and zooms to the titles it matches."""
    import plotly.graph_objects as go
    import plotly.io as pio

    hover = hover if hover is not None else pd.DataFrame(index=range(len(titles)))
    custom = np.column_stack(
        [np.asarray(titles, dtype=object)]
        + [hover[c].fillna("").astype(str).to_numpy(dtype=object) for c in hover.columns]
    )
    template = "<b>%{customdata[0]}</b>" + "".join(
        f"<br>{c}: %{{customdata[{j}]}}" for j, c in enumerate(hover.columns, 1)
    )
    fig = go.Figure()
    labels = groups.legend_labels()
    series = [
        (
            -1,
            OTHER_COLOUR if groups.field else SINGLE_COLOUR,
            labels[-1] if (groups.field and groups.n_other) else "points",
        )
    ]
    series += [(i, PALETTE[i], labels[i]) for i in range(len(groups.names))]
    for code, colour, name in series:
        mask = groups.codes == code
        if mask.any():
            fig.add_trace(
                go.Scattergl(
                    x=coords[mask, 0],
                    y=coords[mask, 1],
                    mode="markers",
                    name=name,
                    marker={"color": colour, "size": 6 if code >= 0 else 5},
                    customdata=custom[mask],
                    hovertemplate=template + f"<extra>{name}</extra>",
                )
            )
    if len(highlight):
        pos = list(highlight)
        fig.add_trace(
            go.Scatter(
                x=coords[pos, 0],
                y=coords[pos, 1],
                mode="markers+text",
                name="starred",
                text=[titles[i] for i in pos],
                textposition="top center",
                customdata=custom[pos],
                marker={"symbol": "star", "size": 16, "color": "#ffd700", "line": {"width": 1}},
                hovertemplate=template + "<extra>starred</extra>",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=[],
            y=[],
            mode="markers+text",
            name="search",
            showlegend=False,
            text=[],
            hovertext=[],
            hovertemplate="<b>%{hovertext}</b><extra>found</extra>",
            textposition="top center",
            marker={
                "symbol": "star",
                "size": 20,
                "color": "#d62728",
                "line": {"width": 1, "color": "black"},
            },
        )
    )
    fig.update_layout(
        template="plotly_white",
        title=title,
        height=800,
        legend={"itemsizing": "constant"},
        xaxis={"visible": False},
        yaxis={"visible": False, "scaleanchor": "x"},
        margin={"l": 10, "r": 10},
    )
    div = pio.to_html(
        fig,
        include_plotlyjs=True,
        full_html=False,
        div_id="wikirec-map",
        config={"displaylogo": False, "responsive": True},
    )
    data = {
        "titles": list(titles),
        "x": coords[:, 0].tolist(),
        "y": coords[:, 1].tolist(),
        "searchTrace": len(fig.data) - 1,
    }
    return _page(title, div, data)


def _page(title: str, div: str, data: dict) -> str:
    from html import escape

    blob = json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>
<style>body{{font-family:sans-serif;margin:12px}}#bar{{display:flex;gap:8px;align-items:center}}
#q{{width:28em;padding:4px}}#status{{color:#555}}</style></head>
<body><div id="bar"><label for="q">Find a title:</label>
<input id="q" type="search" list="wikirec-titles" placeholder="e.g. part of a title">
<span id="status"></span></div>
<datalist id="wikirec-titles"></datalist>
{div}
<script>
(function () {{
  const data = {blob};
  const folded = data.titles.map(t => t.toLowerCase());
  const list = document.getElementById("wikirec-titles");
  data.titles.slice(0, 50000).forEach(t => {{
    const o = document.createElement("option"); o.value = t; list.appendChild(o); }});
  const box = document.getElementById("q"), status = document.getElementById("status");
  const map = document.getElementById("wikirec-map");
  function find(q) {{
    const exact = folded.indexOf(q);
    if (exact >= 0) return [exact];
    const hits = [];
    for (let i = 0; i < folded.length && hits.length < 200; i++)
      if (folded[i].includes(q)) hits.push(i);
    return hits;
  }}
  function search() {{
    const q = box.value.trim().toLowerCase();
    const hits = q ? find(q) : [];
    Plotly.restyle(map, {{x: [hits.map(i => data.x[i])], y: [hits.map(i => data.y[i])],
      text: [hits.map(i => hits.length <= 3 ? data.titles[i] : "")],
      hovertext: [hits.map(i => data.titles[i])]}}, [data.searchTrace]);
    status.textContent = !q ? "" : hits.length ? hits.length + (hits.length >= 200 ?
      "+ matches (first 200 starred)" : hits.length > 1 ? " matches, starred" :
      " match, starred") : "no match";
    if (hits.length === 1) {{
      const xs = data.x, ys = data.y, i = hits[0];
      const w = (Math.max(...xs) - Math.min(...xs)) / 8;
      const h = (Math.max(...ys) - Math.min(...ys)) / 8;
      Plotly.relayout(map, {{"xaxis.range": [xs[i] - w, xs[i] + w],
        "yaxis.range": [ys[i] - h, ys[i] + h]}});
    }}
  }}
  box.addEventListener("change", search);
  box.addEventListener("keyup", e => {{ if (e.key === "Enter" || box.value === "") search(); }});
  if (location.hash.startsWith("#find=")) {{  // a link to a search: page.html#find=Dune
    box.value = decodeURIComponent(location.hash.slice(6));
    search();
  }}
}})();
</script></body></html>
"""


# --------------------------------------------------------------------------- high level


def _method_subtitle(reduction: Reduction) -> str:
    p = reduction.params
    if p["method"] == "tsne":
        return (
            f"t-SNE ({p['backend']}), perplexity {p['perplexity']:g}, "
            f"{p['iterations']} iterations, cosine, seed {p['seed']}"
        )
    epochs = f", {p['n_epochs']} epochs" if p["n_epochs"] else ""
    return (
        f"UMAP, {p['n_neighbors']} neighbours, min_dist {p['min_dist']:g}{epochs}, "
        f"cosine, seed {p['seed']}"
    )


def _load(model: TrainedModel | str | os.PathLike) -> TrainedModel:
    return model if isinstance(model, TrainedModel) else read_trained(model)


def embedding_map(
    model: TrainedModel | str | os.PathLike,
    kind: str = BOOKS,
    method: str = "umap",
    color_by: str | None = "genre",
    top: int = 10,
    values: Sequence[str] | None = None,
    highlight: Sequence[str] = (),
    highlight_top: int = 0,
    links: str = "all",
    params: ReduceParams | None = None,
    size: tuple[int, int] = DEFAULT_SIZE,
    cache: bool = True,
):
    """The map of one kind of vectors, reduced with ``method`` (cached), coloured by
    ``color_by`` (see :func:`colour_groups`), with ``highlight`` titles and the
    ``highlight_top`` most linked-to items starred. Returns a matplotlib Figure; its
    ``wikirec`` attribute holds the Reduction and Groups."""
    model = _load(model)
    points = select_points(model, kind, links)
    groups = colour_groups(model, points, color_by, top, values)
    stars = highlight_positions(model, points, highlight, highlight_top)
    reduction = reduce_points(
        model, points, replace(params or ReduceParams(), method=method), cache
    )
    fig = _coloured_map(reduction, groups, points, stars, size)
    fig.wikirec = {"reduction": reduction, "groups": groups, "points": points}
    return fig


def _coloured_map(
    reduction: Reduction, groups: Groups, points: Points, stars, size: tuple[int, int]
):
    """The map of ``points`` as reduced, coloured by ``groups``, ``stars`` starred."""
    return map_figure(
        reduction.coords,
        groups,
        points.titles,
        stars,
        _map_title(points, reduction, groups),
        _method_subtitle(reduction),
        size,
    )


def _neighbours_on_map(
    reduction: Reduction, points: Points, query: int, k: int, size: tuple[int, int]
):
    """Item ``query`` of ``points`` and its ``k`` nearest neighbours on the reduced map."""
    heading = (
        f"{points.titles[query]} and its {min(k, len(points.rows) - 1)} nearest "
        f"{points.noun} ({METHOD_NAMES[reduction.params['method']]} map)"
    )
    return neighbours_figure(
        reduction.coords, points.vectors, points.titles, query, k, heading, size
    )


def _map_title(points: Points, reduction: Reduction, groups: Groups) -> str:
    what = f"{METHOD_NAMES[reduction.params['method']]} map of {len(points.rows):,} {points.noun}"
    return what + (f", coloured by {groups.title.splitlines()[0]}" if groups.field else "")


def neighbours_map(
    model: TrainedModel | str | os.PathLike,
    title: str,
    kind: str = BOOKS,
    method: str = "umap",
    k: int = 10,
    links: str = "all",
    params: ReduceParams | None = None,
    size: tuple[int, int] = DEFAULT_SIZE,
    cache: bool = True,
):
    """``title`` and its ``k`` nearest neighbours on the ``method`` map. Returns a Figure."""
    model = _load(model)
    points = select_points(model, kind, links)
    query = points.position(model, title)
    reduction = reduce_points(
        model, points, replace(params or ReduceParams(), method=method), cache
    )
    fig = _neighbours_on_map(reduction, points, query, k, size)
    fig.wikirec = {"reduction": reduction, "points": points}
    return fig


def similarity_bars(
    model: TrainedModel | str | os.PathLike,
    title: str,
    kind: str = BOOKS,
    k: int = 10,
    links: str = "all",
    size: tuple[int, int] = DEFAULT_SIZE,
):
    """The ``k`` most and least similar items of ``kind`` to ``title``. Returns a Figure."""
    model = _load(model)
    points = select_points(model, kind, links)
    query = points.position(model, title)
    return similarity_figure(points.vectors, points.titles, query, k, points.noun, size)


# --------------------------------------------------------------------------- plots run


@dataclass
class PlotOptions:
    """What ``wikirec plot`` draws (see :func:`make_plots`)."""

    kind: str = BOOKS
    links: str = "all"
    methods: tuple[str, ...] = METHODS
    color_by: str | None = "genre"
    top: int = 10
    values: list[str] | None = None
    highlight: list[str] = field(default_factory=list)
    highlight_top: int = 0
    neighbours: list[str] = field(default_factory=list)
    bars: list[str] = field(default_factory=list)
    k: int = 10
    size: tuple[int, int] = DEFAULT_SIZE
    fmt: str = "png"
    html: bool = True
    cache: bool = True
    params: ReduceParams = field(default_factory=ReduceParams)


def slug(text: str, limit: int = 60) -> str:
    """A file-name part: lower case, runs of other characters to one dash."""
    return re.sub(r"[^0-9a-z]+", "-", text.casefold()).strip("-")[:limit].strip("-") or "x"


def make_plots(
    model: TrainedModel | str | os.PathLike,
    out_dir: str | os.PathLike,
    options: PlotOptions | None = None,
    data_dir: str | os.PathLike | None = None,
    progress: bool = False,
) -> dict:
    """Draw the maps, neighbour maps and bar charts of ``options`` into ``out_dir``.

    Everything is checked first (model, field, titles, output folder), so bad input
    writes nothing. Returns a manifest (also ``out_dir/plots.json``): ``files``,
    ``maps`` (file, method, legend entries, whether the reduction was cached) and
    ``reductions`` (one line each, as :meth:`Reduction.describe`).
    """
    options = options or PlotOptions()
    model = model if isinstance(model, TrainedModel) else read_trained(model, data_dir)
    plan = _plan(model, options)
    out = _prepare_out(Path(out_dir))
    manifest: dict = {
        "model": str(model.path),
        "out": str(out),
        "files": [],
        "maps": [],
        "reductions": [],
        "notes": plan["notes"],
    }
    for method in options.methods:
        params = replace(options.params, method=method)
        reduction = reduce_points(model, plan["points"], params, options.cache, progress)
        manifest["reductions"].append(reduction.describe(plan["points"].noun))
        _draw_method(model, options, plan, reduction, out, manifest)
    for query in plan["bars"]:
        fig = similarity_figure(
            plan["points"].vectors,
            plan["points"].titles,
            query,
            options.k,
            plan["points"].noun,
            options.size,
        )
        name = f"{plan['points'].label}-similar-{slug(plan['points'].titles[query])}"
        _save(fig, out, name, options.fmt, manifest)
    write_json_atomic(manifest, out / "plots.json")
    return manifest


def _plan(model: TrainedModel, options: PlotOptions) -> dict:
    """Check every input before anything is computed or written."""
    options.params.check()
    if not options.methods or any(m not in METHODS for m in options.methods):
        raise PlotError(f"methods must be among {', '.join(METHODS)}")
    if options.fmt not in FORMATS:
        raise PlotError(f"format must be one of {', '.join(FORMATS)}, not {options.fmt!r}")
    points = select_points(model, options.kind, options.links)
    notes, color_by = [], options.color_by
    if (
        color_by is not None
        and not model.has_metadata
        and options.values is None
        and (color_by == "genre")
    ):
        notes.append(f"one colour: {model.metadata_note}")
        color_by = None
    _figure(options.size)  # checks the size
    _check_k(options.k, len(points.rows))
    return {
        "points": points,
        "notes": notes,
        "groups": colour_groups(model, points, color_by, options.top, options.values),
        "stars": highlight_positions(model, points, options.highlight, options.highlight_top),
        "neighbours": [points.position(model, t) for t in options.neighbours],
        "bars": [points.position(model, t) for t in options.bars],
    }


def _prepare_out(out: Path) -> Path:
    """Create ``out`` and make sure a file can be written in it."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".wikirec-probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise PlotError(f"{out}: cannot write plots here ({exc.strerror or exc})") from exc
    return out


def _draw_method(model, options, plan, reduction: Reduction, out: Path, manifest: dict) -> None:
    points, groups, stars = plan["points"], plan["groups"], plan["stars"]
    method = reduction.params["method"]
    colour = slug(groups.field) if groups.field else "plain"
    if groups.field and options.values:
        colour += "-" + slug("-".join(options.values), 40)
    name = f"{points.label}-{method}-{colour}"
    fig = _coloured_map(reduction, groups, points, stars, options.size)
    path = _save(fig, out, name, options.fmt, manifest)
    manifest["maps"].append(
        {
            "file": path.name,
            "method": method,
            "points": points.label,
            "legend": groups.legend_labels(),
            "cached": reduction.cached,
        }
    )
    if options.html:
        html = interactive_html(
            reduction.coords,
            groups,
            points.titles,
            hover_table(model, points),
            stars,
            _map_title(points, reduction, groups),
        )
        page = out / f"{name}.html"
        write_text_atomic(html, page)
        manifest["files"].append(page.name)
    for query in plan["neighbours"]:
        fig = _neighbours_on_map(reduction, points, query, options.k, options.size)
        _save(
            fig,
            out,
            f"{points.label}-{method}-neighbours-{slug(points.titles[query])}",
            options.fmt,
            manifest,
        )


def _save(fig, out: Path, name: str, fmt: str, manifest: dict) -> Path:
    path = save_figure(fig, out / f"{name}.{fmt}", fmt)
    manifest["files"].append(path.name)
    return path


# --------------------------------------------------------------------------- CLI


def _size(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d+)\s*[x×X,]\s*(\d+)\s*", text)
    if not match:
        raise argparse.ArgumentTypeError(f"size must be WIDTHxHEIGHT in pixels, not {text!r}")
    return int(match[1]), int(match[2])


def add_command(subparsers) -> None:
    parser = subparsers.add_parser(
        "plot",
        help="maps of the embedding (t-SNE, UMAP), neighbours and similarity bars",
        description="Draw the embedding reduced to 2-D with t-SNE and UMAP, coloured by an "
        "infobox field or by categories, with chosen items starred; one item's nearest "
        "neighbours on the map; the most and least similar items as bars; and an "
        "interactive HTML map. Reductions are cached in MODEL_DIR/reductions/.",
    )
    parser.add_argument("model", metavar="MODEL_DIR", help="output folder of wikirec train")
    parser.add_argument("--out", metavar="DIR", help="output folder (default: MODEL_DIR/plots)")
    parser.add_argument("--data", metavar="DIR", help="build folder (default: from train.json)")
    parser.add_argument("--kind", choices=KINDS, default=BOOKS, help="map books or linked pages")
    parser.add_argument(
        "--links",
        choices=LINK_SETS,
        default="all",
        help="with --kind links: all pages, categories only, or pages only",
    )
    parser.add_argument(
        "--method",
        nargs="+",
        choices=METHODS,
        default=list(METHODS),
        dest="methods",
        help="(default: both)",
    )
    parser.add_argument(
        "--color-by",
        default="genre",
        metavar="FIELD",
        help="an infobox field (genre, country, author, ...), 'category', or "
        "'none' (default: genre)",
    )
    parser.add_argument("--top", type=int, default=10, help="colour the N most common values (10)")
    parser.add_argument(
        "--values",
        nargs="+",
        metavar="VALUE",
        help="colour these values instead, e.g. 'American science fiction novels'",
    )
    parser.add_argument(
        "--highlight", nargs="+", default=[], metavar="TITLE", help="star and label these titles"
    )
    parser.add_argument(
        "--highlight-top", type=int, default=0, metavar="N", help="star the N most linked-to items"
    )
    parser.add_argument(
        "--neighbours",
        nargs="+",
        default=[],
        metavar="TITLE",
        help="map each title with its nearest neighbours",
    )
    parser.add_argument(
        "--bars",
        nargs="+",
        default=[],
        metavar="TITLE",
        help="bar chart of the most and least similar items to each title",
    )
    parser.add_argument("--k", type=int, default=10, help="neighbours and bars per side (10)")
    parser.add_argument(
        "--size",
        type=_size,
        default=DEFAULT_SIZE,
        metavar="WxH",
        help="image size in pixels (default: 1400x1000)",
    )
    parser.add_argument("--format", choices=FORMATS, default="png", dest="fmt")
    parser.add_argument("--no-html", action="store_true", help="no interactive HTML maps")
    parser.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    defaults = ReduceParams()
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--perplexity", type=float, default=defaults.perplexity)
    parser.add_argument("--tsne-iter", type=int, default=defaults.tsne_iter)
    parser.add_argument(
        "--tsne-backend", choices=("auto", "sklearn", "opentsne"), default=defaults.tsne_backend
    )
    parser.add_argument("--umap-neighbors", type=int, default=defaults.umap_neighbors)
    parser.add_argument("--umap-min-dist", type=float, default=defaults.umap_min_dist)
    parser.add_argument("--umap-epochs", type=int, default=None)
    parser.add_argument("--quiet", action="store_true", help="print only errors")
    parser.set_defaults(handler=run)


def options_from_args(args: argparse.Namespace) -> PlotOptions:
    """The :class:`PlotOptions` of parsed command-line arguments."""
    color_by = None if args.color_by.strip().lower() == "none" else args.color_by
    params = ReduceParams(
        seed=args.seed,
        perplexity=args.perplexity,
        tsne_iter=args.tsne_iter,
        tsne_backend=args.tsne_backend,
        umap_neighbors=args.umap_neighbors,
        umap_min_dist=args.umap_min_dist,
        umap_epochs=args.umap_epochs,
    )
    return PlotOptions(
        kind=args.kind,
        links=args.links,
        methods=tuple(dict.fromkeys(args.methods)),
        color_by=color_by,
        top=args.top,
        values=args.values,
        highlight=args.highlight,
        highlight_top=args.highlight_top,
        neighbours=args.neighbours,
        bars=args.bars,
        k=args.k,
        size=args.size,
        fmt=args.fmt,
        html=not args.no_html,
        cache=not args.no_cache,
        params=params,
    )


def run(args: argparse.Namespace) -> int:
    import matplotlib

    matplotlib.use("Agg")
    out = args.out or str(Path(args.model) / "plots")
    try:
        manifest = make_plots(
            args.model, out, options_from_args(args), args.data, progress=not args.quiet
        )
    except ModelError as exc:
        print(f"wikirec plot: {exc}", file=sys.stderr)
        return 2
    if not args.quiet:
        for line in manifest["notes"] + manifest["reductions"]:
            print(line)
        print(f"wrote {manifest['out']}/: {', '.join(manifest['files'])}, plots.json")
    return 0


__all__ = [
    "Groups",
    "PlotError",
    "PlotOptions",
    "Points",
    "ReduceParams",
    "Reduction",
    "colour_groups",
    "embedding_map",
    "highlight_positions",
    "interactive_html",
    "make_plots",
    "map_figure",
    "neighbours_figure",
    "neighbours_map",
    "reduce_points",
    "reduce_vectors",
    "save_figure",
    "select_points",
    "similarity_bars",
    "similarity_figure",
]
