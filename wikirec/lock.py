"""One command at a time per output folder: :func:`folder_lock`.

Two ``wikirec run`` on one run folder would each remove the other's staging, so a
command that writes a folder first takes ``FOLDER/.lock``: an exclusive ``flock`` on
that file, which the kernel drops when the process ends however it ends, with the
holder's process id written in it. A second command on a busy folder is refused at
once (one line naming the lock file and the process holding it). A lock file whose
process is gone (killed, so it could not empty the file) is simply taken; the log
says so. The file stays, emptied, when the command ends: removing it would let a
third command lock a fresh file while a second still holds the removed one.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from wikirec.errors import WikirecError

try:
    import fcntl
except ModuleNotFoundError:  # not POSIX: no lock is taken
    fcntl = None

LOCK = ".lock"


class FolderBusy(WikirecError):
    """Another wikirec command holds the folder's lock."""


@contextmanager
def folder_lock(folder: Path, log: Callable[[str], None] = lambda line: None) -> Iterator[Path]:
    """Hold ``folder/.lock`` while the block runs (``folder`` must exist). Raises
    :class:`FolderBusy` when another live process holds it."""
    path = Path(folder) / LOCK
    # Not through a link, and only a regular file: a planted FIFO or device is refused.
    fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | os.O_NONBLOCK, 0o644)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise FolderBusy(f"{path}: not a regular file; remove it to use {folder}")
        previous = _holder(fd)
        if not _try_lock(fd):
            raise FolderBusy(
                f"{folder} is in use by another wikirec command (process {previous or '?'}, "
                f"lock file {path}); wait for it to finish or use another folder"
            )
        if previous and previous != os.getpid():
            log(f"took over the lock {path} left by process {previous}, no longer running")
        _write_holder(fd, str(os.getpid()))
        try:
            yield path
        finally:
            _write_holder(fd, "")
    finally:
        os.close(fd)  # closing drops the flock


def _holder(fd: int) -> int | None:
    os.lseek(fd, 0, os.SEEK_SET)
    text = os.read(fd, 32).decode("ascii", "replace").strip()
    return int(text) if text.isdigit() else None


def _write_holder(fd: int, text: str) -> None:
    os.ftruncate(fd, 0)
    os.pwrite(fd, text.encode("ascii"), 0)


def _try_lock(fd: int) -> bool:
    if fcntl is None:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True
