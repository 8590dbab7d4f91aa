"""Vectors reduced to 2-D (t-SNE, UMAP), and the cache that keeps each reduction.

t-SNE runs on scikit-learn, or openTSNE for large sets; UMAP on umap-learn, fed exact
cosine neighbours. Reductions are slow for tens of thousands of points, so each one is
cached in the trained folder, ``MODEL_DIR/reductions/<points>-<method>-<key>.npy``,
with a JSON twin holding its key: a digest of the vectors and the method's parameters.
The same call on the same vectors reuses it; retrained vectors (another digest)
replace it.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from wikirec.io import write_json_atomic, write_npy_atomic
from wikirec.plot.points import MIN_POINTS, PlotError, Points
from wikirec.trained import TrainedModel

METHODS = ("tsne", "umap")
METHOD_NAMES = {"tsne": "t-SNE", "umap": "UMAP"}
CACHE_DIR = "reductions"
CACHE_VERSION = 1
OPENTSNE_FROM = 10_000  # t-SNE backend "auto": openTSNE from this many points, if installed


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

    def subtitle(self) -> str:
        """The method and its parameters, for a figure's subtitle."""
        p = self.params
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


def reduce_points(
    trained: TrainedModel,
    points: Points,
    params: ReduceParams,
    cache: bool = True,
    progress: bool = False,
) -> Reduction:
    """:func:`reduce_vectors` of ``points``, cached in ``trained.path / "reductions"``."""
    cache_dir = trained.path / CACHE_DIR if cache else None
    return reduce_vectors(points.vectors, params, cache_dir, points.label, progress, points.noun)


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


def cached_reductions(
    vectors: np.ndarray, cache_dir: str | os.PathLike, label: str = "points"
) -> list[Reduction]:
    """The reductions of ``vectors`` (n, dim) already in ``cache_dir`` under ``label``,
    whatever their method and parameters, the newest written first; nothing is computed.

    An entry made from other vectors (a model trained again since), of another cache
    version, or unreadable is left out. Each :attr:`Reduction.coords` is (n, 2)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    digest = vectors_digest(vectors)
    found = []
    for key_path in Path(cache_dir).glob(f"{label}-*.json"):
        try:
            key = json.loads(key_path.read_text(encoding="utf-8"))
            written = key_path.with_suffix(".npy").stat().st_mtime_ns
        except (OSError, ValueError):
            continue
        if not isinstance(key, dict) or key.get("version") != CACHE_VERSION:
            continue
        if key.get("vectors") != digest or key.get("method") not in METHODS:
            continue
        paths = (key_path.with_suffix(".npy"), key_path)
        coords = _read_cache(paths, key, len(vectors))
        if coords is not None:
            params = {k: v for k, v in key.items() if k not in ("version", "vectors")}
            found.append((written, Reduction(coords, params, cached=True, cache_path=paths[0])))
    found.sort(key=lambda pair: (-pair[0], str(pair[1].cache_path)))
    return [reduction for _, reduction in found]


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
    except (OSError, ValueError, EOFError):  # EOFError: an empty file; computed again
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
