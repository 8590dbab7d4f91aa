"""``wikirec export``: trained vectors in the formats other tools read.

A trained folder is read by :func:`wikirec.trained.read_trained`, with the metadata of
the build it was trained on (infobox fields, categories).

Formats (:func:`export`, ``wikirec export MODEL_DIR --format F --out PATH``):

``projector`` (a folder)
    ``vectors.tsv`` and ``metadata.tsv`` (books: title, author, genre, country, ...;
    a header row), ``link_vectors.tsv`` and ``link_metadata.tsv`` (title, type,
    books), and ``projector_config.json``: load the two book files with the "Load"
    button of the TensorFlow Embedding Projector (projector.tensorflow.org), or serve
    the folder with the standalone projector, which reads ``projector_config.json``.
``tensorboard`` (a log folder)
    ``projector_config.pbtxt``, a TensorFlow checkpoint holding two variables,
    ``books`` and ``links``, and their metadata TSVs: ``tensorboard --logdir PATH``
    shows both on the Projector tab (tensors ``books/.ATTRIBUTES/VARIABLE_VALUE`` and
    ``links/.ATTRIBUTES/VARIABLE_VALUE``).
``word2vec`` (a text file)
    The word2vec text format (``gensim.models.KeyedVectors.load_word2vec_format``):
    one token per row, titles in their URL form (underscores for spaces) behind a
    kind prefix, ``book/The_Hobbit`` and ``link/category:fantasy_novels``
    (:func:`word2vec_token`, :func:`word2vec_title`).
``parquet`` (a file)
    One table, ``kind`` ("book" or "link"), ``index`` (row among its kind), ``title``
    and ``vector`` (a fixed-size list of float32): ``pandas.read_parquet(PATH)``.

Vectors are exported scaled to length 1 (a dot product is then the cosine the
recommender ranks by) unless ``normalize=False``. Every output appears whole or not
at all: files through :func:`wikirec.io.write_atomic`, folders built beside the target
and renamed into place. Only ``tensorboard`` imports TensorFlow (inside the function).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from wikirec import __version__
from wikirec.io import write_atomic, write_json_atomic, write_table_atomic, write_text_atomic
from wikirec.trained import BOOKS, KINDS, LINKS, ModelError, TrainedModel, read_trained

FORMATS = {
    "projector": "folder: vectors.tsv, metadata.tsv, projector_config.json (Embedding Projector)",
    "tensorboard": "log folder: checkpoint + projector_config.pbtxt (tensorboard --logdir)",
    "word2vec": "text file: gensim's KeyedVectors.load_word2vec_format",
    "parquet": "file: one table of kind, index, title, vector (pandas.read_parquet)",
}
WORD2VEC_PREFIX = {BOOKS: "book/", LINKS: "link/"}
BOOK_METADATA = ("title", "author", "genre", "country", "language", "publisher", "series")
MANIFEST = "export.json"


# --------------------------------------------------------------------------- metadata


def metadata_table(trained: TrainedModel, kind: str) -> pd.DataFrame:
    """One row per vector of ``kind``: books get title and infobox columns, links get
    title (Wikipedia's, with the build; else the key), type ("category" or "page") and
    books (how many books link to it)."""
    if kind == BOOKS:
        if not trained.has_metadata:
            return pd.DataFrame({"title": trained.titles[BOOKS]})
        return trained.books.loc[:, list(BOOK_METADATA)].reset_index(drop=True)
    table = pd.DataFrame({"title": trained.display_titles(LINKS)})
    table["type"] = np.where(trained.is_category(), "category", "page")
    if trained.has_metadata:
        table["books"] = trained.links["count"].to_numpy()
    return table


def tsv_cell(value: object) -> str:
    """A value safe in a TSV cell: tabs and line breaks become spaces."""
    return re.sub(r"[\t\r\n]+", " ", "" if value is None else str(value)).strip()


def write_metadata_tsv(table: pd.DataFrame, path: str | os.PathLike) -> Path:
    """The Embedding Projector's metadata file: a header row when there are several
    columns, none for a single column (the projector's rule)."""
    lines = []
    if table.shape[1] > 1:
        lines.append("\t".join(tsv_cell(c) for c in table.columns))
    for row in table.itertuples(index=False):
        lines.append("\t".join(tsv_cell(v) for v in row))
    return write_text_atomic("\n".join(lines) + "\n", path)


def write_vectors_tsv(vectors: np.ndarray, path: str | os.PathLike) -> Path:
    """Tab-separated float rows (9 significant digits: float32 values come back exact)."""

    def write(tmp: str) -> None:
        np.savetxt(tmp, vectors, fmt="%.9g", delimiter="\t", encoding="utf-8")

    return write_atomic(path, write)


# --------------------------------------------------------------------------- word2vec


def word2vec_token(kind: str, title: str) -> str:
    """``book/The_Hobbit``: the kind's prefix and the title in URL form (whitespace to
    underscores), one token for the word2vec format."""
    return WORD2VEC_PREFIX[kind] + re.sub(r"\s", "_", title)


def word2vec_title(token: str) -> tuple[str, str]:
    """``(kind, title)`` back from a token of :func:`word2vec_token` (underscores become
    spaces, as in Wikipedia URLs)."""
    for kind, prefix in WORD2VEC_PREFIX.items():
        if token.startswith(prefix):
            return kind, token[len(prefix) :].replace("_", " ")
    raise ValueError(f"{token!r} is not a wikirec word2vec token")


def _unique_tokens(tokens: list[str]) -> list[str]:
    """Tokens made unique (``X``, ``X~2``, ...): two titles differing only by a space and
    an underscore would otherwise collide."""
    seen: dict[str, int] = {}
    out = []
    for token in tokens:
        n = seen.get(token, 0) + 1
        seen[token] = n
        out.append(token if n == 1 else f"{token}~{n}")
    return out


def write_word2vec(
    trained: TrainedModel, path: str | os.PathLike, kinds: Sequence[str] = KINDS
) -> Path:
    """The word2vec text format: a ``count dim`` line, then ``token v1 v2 ...`` rows."""
    tokens = _unique_tokens(
        [word2vec_token(kind, title) for kind in kinds for title in trained.titles[kind]]
    )
    vectors = np.concatenate([trained.vectors[kind] for kind in kinds])

    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(f"{len(tokens)} {vectors.shape[1]}\n")
            for token, row in zip(tokens, vectors, strict=True):
                f.write(token + " " + " ".join(f"{x:.9g}" for x in row.tolist()) + "\n")

    return write_atomic(path, write)


# --------------------------------------------------------------------------- parquet


def vector_table(trained: TrainedModel, kinds: Sequence[str] = KINDS) -> pa.Table:
    """One row per vector: ``kind`` ("book"/"link"), ``index``, ``title``, ``vector``."""
    parts = []
    for kind in kinds:
        vectors = np.ascontiguousarray(trained.vectors[kind], dtype=np.float32)
        values = pa.array(vectors.reshape(-1), type=pa.float32())
        parts.append(
            pa.table(
                {
                    "kind": pa.array([kind[:-1]] * len(vectors), pa.string()),
                    "index": pa.array(np.arange(len(vectors), dtype=np.int32)),
                    "title": pa.array(trained.titles[kind], pa.string()),
                    "vector": pa.FixedSizeListArray.from_arrays(values, trained.dim),
                }
            )
        )
    return pa.concat_tables(parts)


# --------------------------------------------------------------------------- folders


def _files_for(kind: str) -> tuple[str, str]:
    """The projector files of one kind: (vectors, metadata)."""
    return (
        ("vectors.tsv", "metadata.tsv")
        if kind == BOOKS
        else ("link_vectors.tsv", "link_metadata.tsv")
    )


def write_projector(trained: TrainedModel, folder: Path, kinds: Sequence[str] = KINDS) -> list[str]:
    """Vectors and metadata TSVs and the standalone projector's ``projector_config.json``."""
    embeddings = []
    for kind in kinds:
        vectors_name, metadata_name = _files_for(kind)
        write_vectors_tsv(trained.vectors[kind], folder / vectors_name)
        write_metadata_tsv(metadata_table(trained, kind), folder / metadata_name)
        embeddings.append(
            {
                "tensorName": f"wikirec {kind} ({trained.path.name})",
                "tensorShape": list(trained.vectors[kind].shape),
                "tensorPath": vectors_name,
                "metadataPath": metadata_name,
            }
        )
    write_json_atomic({"embeddings": embeddings}, folder / "projector_config.json")
    return [name for kind in kinds for name in _files_for(kind)] + ["projector_config.json"]


def tensorboard_tensor_name(kind: str) -> str:
    """The checkpoint key of one kind's variable, as the Projector lists it."""
    return f"{kind}/.ATTRIBUTES/VARIABLE_VALUE"


def write_tensorboard(
    trained: TrainedModel, folder: Path, kinds: Sequence[str] = KINDS
) -> list[str]:
    """A TensorBoard log folder: a checkpoint of one variable per kind, its ``checkpoint``
    index (relative path), metadata TSVs and ``projector_config.pbtxt``."""
    from wikirec.tf_import import import_tensorflow

    tf = import_tensorflow()

    variables = {kind: tf.Variable(trained.vectors[kind], name=kind) for kind in kinds}
    tf.train.Checkpoint(**variables).write(str(folder / "embeddings"))
    state = 'model_checkpoint_path: "embeddings"\nall_model_checkpoint_paths: "embeddings"\n'
    write_text_atomic(state, folder / "checkpoint")
    blocks = []
    for kind in kinds:
        metadata_name = f"{kind}_metadata.tsv"
        write_metadata_tsv(metadata_table(trained, kind), folder / metadata_name)
        blocks.append(
            "embeddings {\n"
            f'  tensor_name: "{tensorboard_tensor_name(kind)}"\n'
            f'  metadata_path: "{metadata_name}"\n'
            "}\n"
        )
    write_text_atomic("".join(blocks), folder / "projector_config.pbtxt")
    written = sorted(p.name for p in folder.iterdir() if p.name.startswith("embeddings"))
    return (
        written + ["checkpoint"] + [f"{k}_metadata.tsv" for k in kinds] + ["projector_config.pbtxt"]
    )


def write_folder_atomic(out: Path, fill: Callable[[Path], list[str]]) -> list[str]:
    """Build a folder beside ``out`` with ``fill(tmp_folder)``, then put it in place of
    ``out``; ``out`` may be absent, empty, or an earlier export (it holds ``export.json``),
    never anything else. On failure nothing changes."""
    if out.exists() and not out.is_dir():
        raise ModelError(f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / MANIFEST).is_file():
        raise ModelError(f"{out}: a folder that is not a wikirec export; choose another --out")
    parent = out.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = parent / f".{out.name}.{uuid.uuid4().hex[:8]}.tmp"
        tmp.mkdir()
    except OSError as exc:
        raise ModelError(f"{out}: cannot write here ({exc.strerror or exc})") from exc
    old = parent / f".{out.name}.{uuid.uuid4().hex[:8]}.old"
    try:
        names = fill(tmp)
        if out.exists():
            os.replace(out, old)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old.exists() and not out.exists():
            os.replace(old, out)
        raise
    shutil.rmtree(old, ignore_errors=True)
    return names


# --------------------------------------------------------------------------- export


def export(
    model_dir: str | os.PathLike | TrainedModel,
    fmt: str,
    out: str | os.PathLike,
    data_dir: str | os.PathLike | None = None,
    kinds: Sequence[str] = KINDS,
    normalize: bool = True,
) -> dict:
    """Write the vectors of a trained model in format ``fmt`` to ``out``.

    Parameters
    ----------
    model_dir : a ``wikirec train`` folder, or a :class:`~wikirec.trained.TrainedModel`
        already read (exported as read: ``data_dir`` and ``normalize`` are then ignored)
    fmt : one of :data:`FORMATS`: "projector", "tensorboard", "word2vec", "parquet"
    out : a folder (projector, tensorboard) or a file (word2vec, parquet)
    data_dir : the build folder for metadata (default: found from ``train.json``)
    kinds : which vectors: ("books", "links") or one of them
    normalize : export unit vectors (default) rather than the raw ones

    Returns
    -------
    manifest : dict with ``format``, ``out``, ``files`` (names written), ``rows`` per
        kind, ``dim``, ``normalized``, ``metadata`` (the build folder or None); folders
        also get it as ``export.json``

    Raises
    ------
    ModelError : one line, for a bad model folder, format, kind or output path
    """
    if fmt not in FORMATS:
        raise ModelError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})")
    kinds = tuple(dict.fromkeys(kinds))
    if not kinds or any(k not in KINDS for k in kinds):
        raise ModelError(f"kinds must be among {', '.join(KINDS)}, not {list(kinds)}")
    if isinstance(model_dir, TrainedModel):
        trained = model_dir
    else:
        trained = read_trained(model_dir, data_dir, normalize)
    out = Path(out)
    manifest = {
        "format": fmt,
        "out": str(out),
        "model": str(trained.path),
        "wikirec": __version__,
        "rows": {k: len(trained.titles[k]) for k in kinds},
        "dim": trained.dim,
        "normalized": normalize,
        "metadata": str(trained.data_dir) if trained.data_dir else None,
    }
    try:
        manifest["files"] = _write_format(trained, fmt, out, kinds, manifest)
    except OSError as exc:
        raise ModelError(f"{out}: cannot write ({exc.strerror or exc})") from exc
    return manifest


def _write_format(trained: TrainedModel, fmt: str, out: Path, kinds, manifest: dict) -> list[str]:
    if fmt in ("word2vec", "parquet"):
        if out.is_dir():
            raise ModelError(f"{out}: is a folder; --format {fmt} writes a file")
        if fmt == "word2vec":
            write_word2vec(trained, out, kinds)
        else:
            write_table_atomic(vector_table(trained, kinds), out)
        return [out.name]
    writer = write_projector if fmt == "projector" else write_tensorboard

    def fill(folder: Path) -> list[str]:
        names = writer(trained, folder, kinds)
        write_json_atomic({**manifest, "files": names}, folder / MANIFEST)
        return names

    return write_folder_atomic(out, fill)


# --------------------------------------------------------------------------- CLI


def add_command(subparsers) -> None:
    parser = subparsers.add_parser(
        "export",
        help="write the vectors for the Embedding Projector, TensorBoard, gensim or pandas",
        description="Write a trained model's book and link vectors (unit length) with "
        "their titles and metadata in another tool's format.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="formats:\n" + "\n".join(f"  {k:12s} {v}" for k, v in FORMATS.items()),
    )
    parser.add_argument("model", metavar="MODEL_DIR", help="output folder of wikirec train")
    parser.add_argument("--format", required=True, choices=list(FORMATS), dest="fmt")
    parser.add_argument("--out", required=True, metavar="PATH", help="folder or file to write")
    parser.add_argument(
        "--data", metavar="DIR", help="the build folder (default: the one train.json names)"
    )
    parser.add_argument(
        "--kinds", nargs="+", choices=KINDS, default=list(KINDS), help="(default: both)"
    )
    parser.add_argument("--raw", action="store_true", help="the vectors as trained, not unit")
    parser.add_argument("--quiet", action="store_true", help="print nothing on success")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    manifest = export(
        args.model,
        args.fmt,
        args.out,
        data_dir=args.data,
        kinds=args.kinds,
        normalize=not args.raw,
    )
    if not args.quiet:
        for line in summary_lines(manifest):
            print(line)
    return 0


def summary_lines(manifest: dict) -> list[str]:
    """What was written, and how to open it."""
    rows = ", ".join(f"{n:,} {k}" for k, n in manifest["rows"].items())
    out, fmt = Path(manifest["out"]), manifest["format"]
    lines = [
        f"exported {rows} ({manifest['dim']}-d, "
        f"{'unit' if manifest['normalized'] else 'raw'} vectors) as {fmt}"
    ]
    if fmt in ("projector", "tensorboard"):
        lines.append(f"wrote {out}/: {', '.join(manifest['files'])}")
    else:
        lines.append(f"wrote {out}")
    if manifest["metadata"] is None:
        lines.append("no build folder found: titles only (pass --data DIR for infobox fields)")
    lines.append(
        {
            "projector": f"open: projector.tensorflow.org > Load > {out}/vectors.tsv and "
            f"{out}/metadata.tsv (or serve {out}/ with the standalone projector)",
            "tensorboard": f"open: tensorboard --logdir {out}  (Projector tab)",
            "word2vec": f"open: gensim.models.KeyedVectors.load_word2vec_format('{out}'); "
            "tokens book/Title_With_Underscores, link/...",
            "parquet": f"open: pandas.read_parquet('{out}')",
        }[fmt]
    )
    return lines
