"""Atomic writes: a file is either whole or absent, whatever kills the process.

Every file wikirec writes goes through :func:`write_atomic`: text, JSON, Parquet,
NumPy arrays (``.npy``, ``.npz``; no pickles) and Keras models. pyarrow is imported
only to write a table, so ``wikirec generate`` can use this module without it.

A file is written with the mode ``open`` would give it (0666 less the umask), not the
0600 of its temporary file: maps and exported vectors are made to be shared. A file
that cannot be written raises :class:`CannotWrite`, an ``OSError`` naming the file
asked for (never its temporary), which ``wikirec`` prints as one line.

Its reads: :func:`read_small_text`, for the files a user may be handed by someone else
(stop links, pipelines): a regular file of bounded size, or one line saying why not; and
:func:`parquet_columns`, which columns a table has, from its schema.
"""

from __future__ import annotations

import json
import math
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pyarrow as pa


class CannotWrite(OSError):
    """An output file that cannot be written: ``filename`` is the file asked for,
    ``strerror`` the system's reason."""

    def __str__(self) -> str:
        return f"cannot write {self.filename} ({self.strerror})"


def _umask() -> int:
    # The umask can only be read by setting it; it is put back at once.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_atomic(
    path: str | os.PathLike, write: Callable[[str], None], suffix: str = ".tmp"
) -> Path:
    """Call ``write(tmp_path)`` on a temporary file beside ``path``, then rename it into
    place; on failure nothing is left behind. ``suffix`` ends the temporary name, for
    writers that insist on an extension."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    except OSError as exc:
        raise _cannot_write(exc, path) from exc
    os.close(fd)
    try:
        write(tmp)
        # mkstemp makes the file 0600; a writer may also have replaced it (Keras).
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.filename in (None, tmp, str(path)):
            raise _cannot_write(exc, path) from exc
        raise  # an input the writer read, or not an OSError: as it was
    return path


def _cannot_write(exc: OSError, path: Path) -> CannotWrite:
    reason = exc.strerror or str(exc) or type(exc).__name__
    if isinstance(exc, FileExistsError):  # mkdir met a file where a folder should be
        reason = f"{exc.filename} is not a folder"
    return CannotWrite(exc.errno, reason, str(path))


def write_text_atomic(text: str, path: str | os.PathLike) -> Path:
    return write_atomic(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def finite_or_null(data: object) -> object:
    """``data`` with every NaN or infinite float replaced by None, so that it is strict
    JSON (RFC 8259 has no NaN; Python's reader alone accepts it): an undefined metric is
    written as ``null``, as the report tables show it ("n/a")."""
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {key: finite_or_null(value) for key, value in data.items()}
    if isinstance(data, (list, tuple)):
        return [finite_or_null(value) for value in data]
    return data


def write_json_atomic(data: object, path: str | os.PathLike) -> Path:
    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(finite_or_null(data), f, indent=2, ensure_ascii=False, allow_nan=False)
            f.write("\n")

    return write_atomic(path, write)


def write_table_atomic(table: pa.Table, path: str | os.PathLike, **options) -> Path:
    """``pq.write_table(table, path, **options)``, atomically."""
    import pyarrow.parquet as pq

    return write_atomic(path, lambda tmp: pq.write_table(table, tmp, **options))


def write_npy_atomic(array: np.ndarray, path: str | os.PathLike) -> Path:
    """Save one array as ``.npy`` (no pickles)."""

    def write(tmp: str) -> None:
        with open(tmp, "wb") as f:
            np.save(f, array, allow_pickle=False)

    return write_atomic(path, write)


def write_npz_atomic(arrays: dict[str, np.ndarray], path: str | os.PathLike) -> Path:
    """``numpy.savez`` of ``arrays`` (no pickles)."""

    def write(tmp: str) -> None:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)

    return write_atomic(path, write)


def write_keras_atomic(net, path: str | os.PathLike) -> Path:
    """``net.save``: a Keras model to a ``.keras`` file (Keras wants that extension on
    the temporary file too)."""
    return write_atomic(path, net.save, suffix=".tmp.keras")


def write_set_atomic(
    folder: str | os.PathLike, writers: dict[str, Callable[[Path], object]], marker: str,
    removed: tuple[str, ...] = (),
) -> Path:  # fmt: skip
    """Replace a set of files read together (a build, a trained model): each
    ``writers[name](path)`` writes one atomically beside its final name, and only when
    every one is written (``marker``, the file saying the set is finished, among them) do
    the old marker and the ``removed`` names go and the new files take their names by
    renames, the marker last. A failure while writing (a full disk) leaves the previous
    set whole and loadable; the renames need no space."""
    folder = Path(folder)
    staged = {name: folder / f".{name}.new" for name in writers}
    try:
        for name, writer in writers.items():
            try:
                writer(staged[name])
            except CannotWrite as exc:  # name the file asked for, not its staged copy
                raise CannotWrite(exc.errno, exc.strerror, str(folder / name)) from exc
    except BaseException:
        for path in staged.values():
            path.unlink(missing_ok=True)
        raise
    (folder / marker).unlink(missing_ok=True)
    for name in removed:
        (folder / name).unlink(missing_ok=True)
    for name, path in staged.items():
        if name != marker:
            os.replace(path, folder / name)
    os.replace(staged[marker], folder / marker)
    return folder


class CannotRead(ValueError):
    """A small input file that is not one: its message names the file, on one line."""


def parquet_columns(path: str | os.PathLike) -> list[str]:
    """The column names of a Parquet file, read from its schema alone (a table made by
    an older wikirec may lack a column a newer one reads)."""
    import pyarrow.parquet as pq

    return pq.read_schema(path).names


def read_small_text(path: str | os.PathLike, max_bytes: int, what: str) -> str:
    """The UTF-8 text of ``path``, ``what`` (e.g. "stop-link file"): a regular file (not a
    device, a FIFO or a folder) of at most ``max_bytes``, so that no file makes the read
    unbounded. Raises :class:`CannotRead` naming the file and the reason."""
    path = Path(path)
    try:
        # O_NONBLOCK: opening a FIFO does not wait for a writer (it is refused below)
        with os.fdopen(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise CannotRead(f"{path}: not a regular file, not a {what}")
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise CannotRead(f"{path}: cannot read the {what} ({exc.strerror or exc})") from exc
    if len(data) > max_bytes:
        raise CannotRead(f"{path}: over {max_bytes:,} bytes, too large for a {what}")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CannotRead(f"{path}: not UTF-8 text, not a {what} ({exc.reason} at byte "
                         f"{exc.start:,})") from exc  # fmt: skip


def named_path_candidates(named: str | os.PathLike, holder: str | os.PathLike) -> list[Path]:
    """Where a path named in a file of the folder ``holder`` may be: as written, then,
    when it is relative (written from the folder a command ran in, such as the project
    root), under each parent of ``holder``; in that order, each once."""
    path = Path(named)
    if path.is_absolute():
        return [path]
    under_parents = [parent / path for parent in Path(holder).resolve().parents]
    return list(dict.fromkeys([path, *under_parents]))

