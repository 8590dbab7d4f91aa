"""Stage 1, ``wikirec parse``: a Wikipedia dump in, the pages we want out.

Reads dumps chunk by chunk (:mod:`wikirec.dump`), in parallel worker processes, and
keeps the main-namespace pages that carry one of the chosen templates (``Infobox
book`` and its aliases by default), plus every redirect. Writes::

    OUT/articles.parquet   title, page_id, timestamp, text_length, template, infobox
                           (JSON text), lead (the article's first sentences as plain
                           text, at most 320 characters; "" for NDJSON records),
                           wikilinks, categories, external_links (lists)
    OUT/redirects.parquet  source, target (every redirect; main-namespace titles unprefixed)
    OUT/inlinks.parquet    source, target: a main-namespace page of the dump (kept or
                           not) and a link of it to a kept page, the target as written
                           (normalised, not resolved: a kept title or a redirect
                           leading to one); not with ``inlinks=False``
    OUT/parse.json         parameters, counts, errors

Each chunk's rows, and every page's (page, link target) pairs, are written atomically
under ``OUT/chunks/`` before the final tables are assembled, so a killed run picks up
where it stopped; the pairs are filtered into ``inlinks.parquet`` one chunk at a time
once the kept pages are known, so memory does not grow with the dump.

Chunks run in a local process pool, or with ``scheduler="dask"`` / ``"tcp://HOST:PORT"``
on Dask distributed (an optional dependency: ``pip install 'wikirec[dask]'``): a local
cluster, or an existing one whose workers can read the dumps at the same paths. Dask
workers send each chunk's tables back and this process writes them, so only the dumps,
not ``OUT``, need to be shared.

Each page is read by :mod:`wikirec.wikitext` (:func:`~wikirec.wikitext.read_page`:
one page of wikitext in, a row and its links out; only pages that pass a cheap
byte-level test for the template reach mwparserfromhell, and the links of the others
are read from their still XML-escaped bytes); this module holds the records, the
chunks, the stage, Dask and the CLI. It must not import TensorFlow.
"""

from __future__ import annotations

import argparse
import calendar
import collections
import hashlib
import json
import logging
import os
import re
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import (
    FIRST_COMPLETED,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    wait,
)
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from wikirec import __version__
from wikirec.cli import MAX_INT64, at_most, fail, non_empty, positive_float, positive_int
from wikirec.dump import (
    DEFAULT_CHUNK_BYTES,
    Chunk,
    DumpError,
    find_inputs,
    iter_pages,
    plan_chunks,
)
from wikirec.errors import WikirecError
from wikirec.io import write_atomic, write_json_atomic, write_table_atomic
from wikirec.progress import progress_bar
from wikirec.titles import (
    TemplateMatcher,
    illegal_title,
    namespace_of,
    normalize_title,
    printable,
)
from wikirec.wikitext import (
    ChunkStats,
    link_target,
    namespaces_of,
    parse_timestamp,
    read_page,
)

# "Infobox book" and the names that redirect to it on English Wikipedia.
BOOK_TEMPLATES: tuple[str, ...] = (
    "Infobox book",
    "Infobox Book",
    "Infobox books",
    "Infobox Books",
    "Infobox novel",
    "Infobox Novel",
    "Infobox novella",
    "Infobox short story",
    "Infobox Short story",
    "Infobox book series",
    "Infobox Book series",
    "Infobox novel series",
    "Book infobox",
    "Novel infobox",
)

ARTICLE_SCHEMA = pa.schema(
    [
        ("title", pa.string()),
        ("page_id", pa.int64()),
        ("timestamp", pa.timestamp("s", tz="UTC")),
        ("text_length", pa.int64()),
        ("template", pa.string()),
        ("infobox", pa.string()),
        ("lead", pa.string()),
        ("wikilinks", pa.list_(pa.string())),
        ("categories", pa.list_(pa.string())),
        ("external_links", pa.list_(pa.string())),
    ]
)
REDIRECT_SCHEMA = pa.schema([("source", pa.string()), ("target", pa.string())])
INLINK_SCHEMA = pa.schema([("source", pa.string()), ("target", pa.string())])
# Redirect chains are followed this far, as `wikirec build` follows them.
REDIRECT_HOPS = 32


class LinkCollector:
    """The rows of one chunk for ``inlinks.parquet``, before anyone knows which pages are
    kept: each page's distinct main-namespace link targets but itself. Titles are kept
    as UTF-8, as the table stores them."""

    def __init__(self) -> None:
        self.sources: list[bytes] = []
        self.counts: list[int] = []  # of targets, per source
        self.targets: list[bytes] = []

    def add(self, source: str, targets: Iterable[bytes | None]) -> None:
        """``targets``: a page's :func:`link_target` values, in page order."""
        distinct = dict.fromkeys(targets)
        distinct.pop(None, None)
        source_utf8 = source.encode()
        distinct.pop(source_utf8, None)
        if distinct:
            self.sources.append(source_utf8)
            self.counts.append(len(distinct))
            self.targets += distinct

    def table(self) -> pa.Table:
        rows = np.repeat(np.arange(len(self.sources), dtype=np.int32), self.counts)
        row_indices = pa.Array.from_buffers(pa.int32(), len(rows), [None, pa.py_buffer(rows)])
        sources = _utf8_array(self.sources).take(row_indices)
        return pa.Table.from_arrays([sources, _utf8_array(self.targets)], schema=INLINK_SCHEMA)


@dataclass
class ParseSummary(ChunkStats):
    seconds: float = 0.0
    chunks: int = 0
    chunks_resumed: int = 0
    inlinks: int | None = None  # rows of inlinks.parquet; None: in-links not read
    out_dir: str = ""

    def line(self) -> str:
        rate = self.xml_bytes / 1e6 / self.seconds if self.seconds > 0 else 0.0
        resumed = ""
        if self.chunks_resumed:
            resumed = f", {self.chunks_resumed} of {self.chunks} chunks reused"
        inlinks = ""
        if self.inlinks is not None:
            inlinks = f", in-links {self.inlinks:,} (of {self.link_pairs:,} page links)"
        return (
            f"pages read {self.pages:,}, kept {self.kept:,}, redirects {self.redirects:,}, "
            f"skipped {self.skipped:,}{inlinks}; {self.xml_bytes / 1e6:,.1f} MB of XML in "
            f"{self.seconds:,.1f} s ({rate:,.1f} MB/s){resumed}"
        )


# --------------------------------------------------------------------------- records


def read_records(
    chunk: Chunk, stats: ChunkStats, links: LinkCollector | None = None
) -> Iterator[tuple[str, dict]]:
    """Rows from the reference project's NDJSON records, one JSON array a line:
    ``[title, infobox, wikilinks, external_links, timestamp, text_length]``; with
    ``links``, each record's wikilinks go there too (every record is a page)."""
    with open(chunk.path, "rb") as f:
        for number, line in enumerate(f, 1):
            stats.xml_bytes += len(line)
            if not line.strip():
                continue
            stats.pages += 1
            try:
                title, infobox, raw_links, external, timestamp, length = json.loads(line)
                if (illegal := illegal_title(str(title))) is not None:
                    raise ValueError(f"a record {illegal}")
                wikilinks = [t for t in (normalize_title(str(x)) for x in raw_links) if t]
                row = {
                    "title": str(title),
                    "page_id": None,
                    "timestamp": parse_timestamp(str(timestamp).encode()),
                    "text_length": _record_length(length),
                    "template": None,
                    "infobox": json.dumps(
                        {str(k): str(v) for k, v in dict(infobox).items()}, ensure_ascii=False
                    ),
                    "lead": "",  # a record holds no text to read it from
                    "wikilinks": wikilinks,
                    "categories": [
                        t.split(":", 1)[1] for t in wikilinks if namespace_of(t) == "Category"
                    ],
                    "external_links": [str(x) for x in external],
                }
                if links is not None:  # UTF-8 from here on: a lone surrogate is refused
                    links.add(row["title"], map(link_target, wikilinks))
            except (ValueError, TypeError, RecursionError) as exc:
                if isinstance(exc, RecursionError):
                    exc = ValueError("nested too deeply")
                stats.skipped += 1
                stats.errors.append(
                    f"{chunk.path}:{number}: not a record [title, infobox, wikilinks, "
                    f"external_links, timestamp, length] ({exc}); skipped"
                )
                continue
            yield "article", row


def _record_length(value) -> int:
    """A record's text length: a whole number that fits the int64 column (JSON allows
    ``1e26`` and Python's reader ``Infinity``)."""
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"length {str(value)[:40]!r} is not a number")
    if not (isinstance(value, int) or value.is_integer()) or not 0 <= value <= MAX_INT64:
        raise ValueError(f"length {str(value)[:40]} is not a whole number of bytes in 64 bits")
    return int(value)


# --------------------------------------------------------------------------- chunks


def read_chunk(
    chunk: Chunk, templates: tuple[str, ...], limit: int | None, inlinks: bool = True
) -> tuple[pa.Table, pa.Table, pa.Table | None, ChunkStats]:
    """Parse one chunk: its articles (``ARTICLE_SCHEMA``, at most ``limit`` rows), its
    redirects (``REDIRECT_SCHEMA``), with ``inlinks`` every page's link pairs
    (``INLINK_SCHEMA``, see :class:`LinkCollector`; else ``None``), and its counts and
    error lines. Writes nothing, so it can run on a Dask worker that does not see the
    output folder."""
    with namespaces_of(chunk):
        return _read_chunk(chunk, templates, limit, inlinks)


def _read_chunk(
    chunk: Chunk, templates: tuple[str, ...], limit: int | None, inlinks: bool
) -> tuple[pa.Table, pa.Table, pa.Table | None, ChunkStats]:
    matcher = TemplateMatcher(templates)
    stats = ChunkStats(input_bytes=chunk.size)
    articles: list[dict] = []
    redirects: list[dict] = []
    links = LinkCollector() if inlinks else None
    try:
        if chunk.kind == "records":
            rows: Iterable = read_records(chunk, stats, links)
        else:
            rows = (
                read_page(p, matcher, stats, chunk, links) for p in iter_pages(chunk, stats.errors)
            )
        for item in rows:
            if item is None:
                continue
            kind, row = item
            if kind == "redirect":
                redirects.append(row)
                continue
            articles.append(row)
            if limit is not None and len(articles) >= limit:
                break
    except DumpError as exc:
        stats.errors.append(str(exc))
    except OSError as exc:
        stats.errors.append(f"{chunk.path}: cannot read ({exc})")
    stats.kept = len(articles)
    stats.redirects = len(redirects)
    stats.link_pairs = len(links.targets) if links is not None else 0
    return (
        rows_table(articles, ARTICLE_SCHEMA),
        rows_table(redirects, REDIRECT_SCHEMA),
        links.table() if links is not None else None,
        stats,
    )


# A worker builds its tables from buffers: pa.array(), and so Table.from_pylist, imports
# pandas, 0.2-0.5 s in each worker process; a JSON reader round trip avoids that too but
# costs 25 times more per chunk (measured).


def rows_table(rows: list[dict], schema: pa.Schema) -> pa.Table:
    """``pa.Table.from_pylist(rows, schema)`` for this module's schemas (strings, 64-bit
    integers, timestamps in seconds, lists of strings), without importing pandas."""
    columns = [arrow_array([row[f.name] for row in rows], f.type) for f in schema]
    return pa.Table.from_arrays(columns, schema=schema)


def arrow_array(values: list, type_: pa.DataType) -> pa.Array:
    """``pa.array(values, type_)`` for the types of :func:`rows_table`, from buffers."""
    if pa.types.is_string(type_):
        return _string_array(values)
    if pa.types.is_list(type_):
        flat = _string_array([item for items in values for item in items])
        if isinstance(flat, pa.ChunkedArray):
            return pa.array(values, type_)
        offsets = _offsets(np.fromiter(map(len, values), np.int64, len(values)))
        offsets_array = pa.Array.from_buffers(pa.int32(), len(values) + 1, [None, offsets])
        return pa.ListArray.from_arrays(offsets_array, flat)
    if pa.types.is_timestamp(type_):  # only whole seconds come here
        values = [None if v is None else calendar.timegm(v.utctimetuple()) for v in values]
    present = np.fromiter((v is not None for v in values), bool, len(values))
    validity = None if present.all() else pa.py_buffer(np.packbits(present, bitorder="little"))
    numbers = np.array([0 if v is None else v for v in values], np.int64)
    return pa.Array.from_buffers(type_, len(values), [validity, pa.py_buffer(numbers)])


def _string_array(values: list[str | None]) -> pa.Array | pa.ChunkedArray:
    present = np.fromiter((v is not None for v in values), bool, len(values))
    if present.all():
        return _utf8_array([v.encode() for v in values])
    validity = pa.py_buffer(np.packbits(present, bitorder="little"))
    return _utf8_array([b"" if v is None else v.encode() for v in values], validity)


def _utf8_array(
    encoded: list[bytes], validity: pa.Buffer | None = None
) -> pa.Array | pa.ChunkedArray:
    """A string array of UTF-8 values (valid UTF-8: it is not checked)."""
    sizes = np.fromiter(map(len, encoded), np.int64, len(encoded))
    if sizes.sum() > STRING_BYTES_LIMIT:  # pa.array cuts it into chunks
        strings: list[str | None] = [b.decode() for b in encoded]
        if validity is not None:
            bits = np.unpackbits(np.frombuffer(validity, np.uint8), bitorder="little")
            present = bits[: len(strings)].tolist()
            strings = [s if bit else None for s, bit in zip(strings, present, strict=True)]
        return pa.array(strings, pa.string())
    buffers = [validity, _offsets(sizes), pa.py_buffer(b"".join(encoded))]
    return pa.Array.from_buffers(pa.string(), len(encoded), buffers)


STRING_BYTES_LIMIT = 2**31 - 1  # what 32-bit offsets reach


def _offsets(sizes: np.ndarray) -> pa.Buffer:
    offsets = np.zeros(len(sizes) + 1, np.int32)
    np.cumsum(sizes, out=offsets[1:])
    return pa.py_buffer(offsets)


def parse_chunk(
    chunk: Chunk,
    parts_dir: str,
    templates: tuple[str, ...],
    limit: int | None,
    inlinks: bool = True,
) -> ChunkStats:
    """Parse one chunk and write its rows atomically under ``parts_dir``. Runs in a
    worker process; returns the chunk's counts and error lines."""
    *tables, stats = read_chunk(chunk, templates, limit, inlinks)
    _write_chunk(Path(parts_dir), chunk, *tables, stats)
    return stats


def _write_chunk(
    parts: Path,
    chunk: Chunk,
    articles: pa.Table,
    redirects: pa.Table,
    links: pa.Table | None,
    stats: ChunkStats,
) -> None:
    base = parts / chunk.key
    write_table_atomic(articles, f"{base}.articles.parquet")
    write_table_atomic(redirects, f"{base}.redirects.parquet")
    if links is not None:  # read once, whole: statistics would only cost time
        write_table_atomic(links, f"{base}.links.parquet", write_statistics=False)
    write_json_atomic(asdict(stats), f"{base}.done.json")  # last: marks the chunk done


def _load_done(parts_dir: Path, chunk: Chunk, inlinks: bool) -> ChunkStats | None:
    marker = parts_dir / f"{chunk.key}.done.json"
    if not marker.is_file():
        return None
    if inlinks and not (parts_dir / f"{chunk.key}.links.parquet").is_file():
        return None  # its link pairs were deleted since: read the chunk again
    return ChunkStats(**json.loads(marker.read_text()))


def _fingerprint(
    files: list[Path],
    templates: tuple[str, ...],
    limit: int | None,
    chunk_bytes: int,
    inlinks: bool,
) -> str:
    digest = hashlib.sha256()
    for path in files:
        stat = path.stat()
        digest.update(f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    # "links" names the chunk files' format: chunks written before in-links existed
    # have no link files, and are not reused.
    params = [__version__, sorted(templates), limit, chunk_bytes, {"links": inlinks},
              ARTICLE_SCHEMA.names]  # chunks of another table's columns are not reused
    digest.update(json.dumps(params).encode())
    return digest.hexdigest()[:16]


# --------------------------------------------------------------------------- stage


def parse_dumps(
    dumps: list[str | os.PathLike],
    out_dir: str | os.PathLike,
    templates: Iterable[str] = BOOK_TEMPLATES,
    workers: int | None = None,
    limit: int | None = None,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    progress: bool = False,
    on_error=None,
    scheduler: str | None = None,
    inlinks: bool = True,
) -> ParseSummary:
    """Parse dumps (files or folders of them) into ``out_dir``. Returns the counts.

    ``templates`` are template names (MediaWiki rules; ``*`` allowed); ``workers``
    processes (default: all cores); ``limit`` keeps at most that many pages.
    ``on_error`` is called with each error line as it is found (default: collected
    in the summary only). Chunks already done by an earlier run with the same inputs
    and parameters are reused, whichever scheduler ran them.

    ``inlinks``: also write ``inlinks.parquet``, the links from every main-namespace
    page of the dumps to the kept pages (see :func:`write_inlinks`); without it no such
    table is written, and one an earlier run left in ``out_dir`` is removed.

    ``scheduler``: ``None`` runs the chunks in a local process pool; ``"dask"`` on a
    local Dask cluster of ``workers`` processes (loopback only, no dashboard) started
    and closed here; ``"tcp://HOST:PORT"`` on the existing Dask cluster at that
    address (``workers`` is then the cluster's business), whose workers must read
    the dumps at the same paths as this process. Same outputs in every case. Raises
    :class:`SchedulerError` (one line) for a bad value, a missing Dask, or a cluster
    that cannot be reached or cannot read the dumps; nothing is written then.
    """
    started = time.perf_counter()
    templates = tuple(templates)
    TemplateMatcher(templates)  # fail early on an empty list
    scheduler = check_scheduler(scheduler)
    # A line may name a title holding anything "&#27;" spells, and is shown on a terminal.
    report = (lambda line: on_error(printable(line))) if on_error else (lambda line: None)
    out = Path(out_dir)
    summary = ParseSummary(out_dir=str(out))
    files, missing = find_inputs(list(dumps))
    chunks: list[Chunk] = []
    for line in missing:
        summary.errors.append(line)
        report(line)
    for path in files:
        try:
            chunks.extend(plan_chunks(path, chunk_bytes))
        except (DumpError, OSError) as exc:
            line = str(exc) if isinstance(exc, DumpError) else f"{path}: cannot read ({exc})"
            summary.errors.append(line)
            report(line)
    summary.chunks = len(chunks)
    fingerprint = _fingerprint(
        [Path(c.path) for c in chunks if c.number == 0], templates, limit, chunk_bytes, inlinks
    )
    parts = out / "chunks" / fingerprint
    done: dict[int, ChunkStats] = {}
    for i, chunk in enumerate(chunks):
        stats = _load_done(parts, chunk, inlinks)
        if stats is not None:
            done[i] = stats
    summary.chunks_resumed = len(done)
    todo = [i for i in range(len(chunks)) if i not in done]
    total = sum(c.size for c in chunks)
    workers = workers or os.cpu_count() or 1
    with ExitStack() as stack:
        client = None
        if scheduler is not None and todo:
            # Connected (and checked) before anything is written: a cluster that
            # cannot run the chunks leaves the output folder as it was.
            inputs = sorted({chunks[i].path for i in todo})
            client = stack.enter_context(_dask_client(scheduler, min(workers, len(todo)), inputs))
        parts.mkdir(parents=True, exist_ok=True)
        bar = stack.enter_context(
            progress_bar(total=total, unit="B", unit_scale=True, desc="parse", enabled=progress)
        )
        bar.update(sum(chunks[i].size for i in done))
        task = (templates, limit, inlinks)
        if client is not None:
            running = _run_dask(client, scheduler, chunks, todo, parts, task, done)
        else:
            running = _run_chunks(chunks, todo, parts, task, workers, done)
        shown: collections.Counter[str] = collections.Counter()  # error lines per dump file
        for i, stats in running:
            done[i] = stats
            for line in stats.errors:
                shown[chunks[i].path] += 1
                if shown[chunks[i].path] <= MAX_SHOWN_ERRORS:
                    report(line)
            bar.update(chunks[i].size)
        for path, count in shown.items():
            if count > MAX_SHOWN_ERRORS:
                report(f"{path}: {count - MAX_SHOWN_ERRORS:,} more lines like these "
                       f"(all {count:,} in {out / 'parse.json'})")  # fmt: skip
    used = _assemble(chunks, done, parts, out, limit)
    for i in used:
        summary.add(done[i])
    summary.kept = min(summary.kept, limit) if limit is not None else summary.kept
    link_files = [parts / f"{chunks[i].key}.links.parquet" for i in used]
    if inlinks:
        summary.inlinks = write_inlinks(out, link_files, progress, threads=workers)
    else:
        (out / "inlinks.parquet").unlink(missing_ok=True)
    summary.seconds = time.perf_counter() - started
    write_json_atomic(
        {
            "version": __version__,
            "inputs": [str(p) for p in files],
            "templates": list(templates),
            "limit": limit,
            "inlinks": inlinks,
            "counts": {k: v for k, v in asdict(summary).items() if k != "errors"},
            "errors": summary.errors,
        },
        out / "parse.json",
    )
    return summary


MAX_SHOWN_ERRORS = 20  # error lines shown for one dump file; parse.json keeps them all


def _limit_reached(done: dict[int, ChunkStats], limit: int | None) -> bool:
    """True once the chunks finished from the first one on hold ``limit`` pages."""
    if limit is None:
        return False
    kept, i = 0, 0
    while i in done:
        kept += done[i].kept
        if kept >= limit:
            return True
        i += 1
    return False


def _run_chunks(chunks, todo, parts, task: tuple, workers: int, done):
    """Yield ``(index, stats)`` as chunks finish, in a process pool when it pays. ``task``:
    the (templates, limit, inlinks) of :func:`parse_chunk`."""
    limit = task[1]
    if workers == 1 or len(todo) <= 1:
        for i in todo:
            if _limit_reached(done, limit):
                return
            yield i, parse_chunk(chunks[i], str(parts), *task)
        return
    with ProcessPoolExecutor(max_workers=min(workers, len(todo))) as pool:
        pending: dict[Future, int] = {
            pool.submit(parse_chunk, chunks[i], str(parts), *task): i for i in todo
        }
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                i = pending.pop(future)
                stats = future.result()
                done[i] = stats
                yield i, stats
            if _limit_reached(done, limit):
                for future in pending:
                    future.cancel()
                pending = {f: i for f, i in pending.items() if not f.cancelled()}


def _assemble(chunks, done, parts: Path, out: Path, limit: int | None) -> list[int]:
    """Concatenate the chunks' rows in input order into the final tables (streamed, so
    memory holds one chunk at a time). Returns the chunks used."""
    used: list[int] = []
    kept = 0
    for i in range(len(chunks)):
        if i not in done or (limit is not None and kept >= limit):
            break
        used.append(i)
        kept += done[i].kept
    for name, schema in (("articles", ARTICLE_SCHEMA), ("redirects", REDIRECT_SCHEMA)):
        remaining = limit if name == "articles" else None
        tables = []
        for i in used:
            # ParquetFile, not read_table: read_table imports pyarrow.dataset and pandas,
            # half a second of this stage's serial tail.
            table = pq.ParquetFile(parts / f"{chunks[i].key}.{name}.parquet").read()
            table = table.cast(schema)
            if remaining is not None:
                table = table.slice(0, remaining)
                remaining -= table.num_rows
            tables.append(table)
        merged = pa.concat_tables(tables) if tables else schema.empty_table()
        write_table_atomic(merged, out / f"{name}.parquet")
    return used


def write_inlinks(
    out: Path, link_files: list[Path], progress: bool = False, threads: int = 2
) -> int:
    """Write ``out/inlinks.parquet`` (``INLINK_SCHEMA``) from the chunks' link pairs: the
    pairs whose target names a page of ``out/articles.parquet``, directly or through the
    redirects of ``out/redirects.parquet`` (:func:`accepted_targets`), the target kept
    as written. ``threads`` chunks' pairs are read at a time (the reading releases the
    GIL: 2 threads read the generated dump's 6.7 million pairs in 0.9 s against 1.5 s),
    and written in the chunks' order. Returns the rows written."""
    titles = pq.ParquetFile(out / "articles.parquet").read(columns=["title"]).column("title")
    accepted = accepted_targets(titles, pq.ParquetFile(out / "redirects.parquet").read())
    rows = 0

    def write(tmp: str) -> None:
        nonlocal rows
        bar = progress_bar(total=len(link_files), unit="chunk", desc="in-links", enabled=progress)
        with pq.ParquetWriter(tmp, INLINK_SCHEMA) as writer, bar:
            for kept in _accepted_pairs(link_files, accepted, threads):
                if kept.num_rows:
                    writer.write_table(kept)
                    rows += kept.num_rows
                bar.update()

    write_atomic(out / "inlinks.parquet", write)
    return rows


def _accepted_pairs(link_files: list[Path], accepted: pa.Array, threads: int) -> Iterator[pa.Table]:
    """Each chunk's pairs whose target is ``accepted``, in the chunks' order, read by
    ``threads`` threads: at most that many chunks' pairs are held at once."""
    with ThreadPoolExecutor(threads) as pool:
        pending: collections.deque[Future] = collections.deque()
        for path in link_files:
            pending.append(pool.submit(_accepted_pairs_of, path, accepted))
            if len(pending) >= threads:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _accepted_pairs_of(path: Path, accepted: pa.Array) -> pa.Table:
    # Read as dictionaries, as written: each distinct title is tested once.
    pairs = pq.ParquetFile(path, read_dictionary=["source", "target"]).read()
    return pairs.filter(_naming(pairs.column("target"), accepted)).cast(INLINK_SCHEMA)


def _naming(column: pa.ChunkedArray, titles: pa.Array) -> pa.ChunkedArray:
    """Which rows of a dictionary-encoded column hold one of ``titles``."""
    masks = [pc.take(pc.is_in(c.dictionary, value_set=titles), c.indices) for c in column.chunks]
    return pa.chunked_array(masks, pa.bool_())


def accepted_targets(titles: pa.Array | pa.ChunkedArray, redirects: pa.Table) -> pa.Array:
    """The link targets that lead to one of ``titles``: the titles, and the redirects whose
    chain (up to ``REDIRECT_HOPS`` long) ends at one. A title redirected twice goes where
    its first row says, as in `wikirec build`."""
    sources, targets = redirects.column("source"), redirects.column("target")
    if pc.count_distinct(sources).as_py() < len(sources):
        first = pc.index_in(sources, value_set=sources.combine_chunks())
        keep = pc.equal(first, pa.array(np.arange(len(sources), dtype=np.int32)))
        sources, targets = sources.filter(keep), targets.filter(keep)
    accepted = pc.unique(titles)
    frontier = accepted
    for _ in range(REDIRECT_HOPS):
        leading = pc.unique(sources.filter(pc.is_in(targets, value_set=frontier)))
        frontier = leading.filter(pc.invert(pc.is_in(leading, value_set=accepted)))
        if len(frontier) == 0:
            break
        accepted = pa.concat_arrays([accepted, frontier])
    return accepted


# --------------------------------------------------------------------------- Dask

DASK_INSTALL = "pip install 'wikirec[dask]' (or: pip install 'dask[distributed]')"
DASK_CONNECT_TIMEOUT = 10.0  # seconds to reach a scheduler, and to see its first worker
_ADDRESS = re.compile(r"tcp://(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):\d{1,5}")


class SchedulerError(WikirecError):
    """A scheduler that cannot run the parse: the message is one line."""


def check_scheduler(scheduler: str | None) -> str | None:
    """``None``, ``"dask"`` or a ``tcp://HOST:PORT`` address, stripped; anything else, or
    Dask missing, raises :class:`SchedulerError`."""
    if scheduler is None:
        return None
    value = str(scheduler).strip()
    if value != "dask" and _ADDRESS.fullmatch(value) is None:
        raise SchedulerError(
            f"scheduler {scheduler!r}: expected 'dask' (a local Dask cluster) or the "
            "address of a Dask scheduler, tcp://HOST:PORT"
        )
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise SchedulerError(
            f"scheduler {value!r} needs Dask distributed: {DASK_INSTALL}"
        ) from None
    return value


def _worker_probe(paths: list[str]) -> tuple[str, list[str]]:
    """Run on each Dask worker before any chunk: its wikirec version, and which of the
    dump ``paths`` it cannot read."""
    return __version__, [p for p in paths if not os.access(p, os.R_OK)]


@contextmanager
def _dask_client(scheduler: str, workers: int, inputs: list[str]) -> Iterator:
    """A ``distributed.Client`` on a new local cluster (``"dask"``) or the cluster at an
    address, checked: it has a worker, every worker runs this wikirec and can read the
    ``inputs``. Closes what it started."""
    from distributed import Client, LocalCluster

    with ExitStack() as stack:
        if scheduler == "dask":
            cluster = stack.enter_context(
                LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,  # parsing holds the GIL: one process per core
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=None,
                    # The scheduler serves health checks over HTTP even without a
                    # dashboard: a free loopback port, not 8787 (busy if two parses run).
                    scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                    silence_logs=logging.ERROR,
                )
            )
            client = stack.enter_context(Client(cluster))
        else:
            try:
                client = stack.enter_context(Client(scheduler, timeout=DASK_CONNECT_TIMEOUT))
            except (OSError, TimeoutError):
                raise SchedulerError(
                    f"cannot reach a Dask scheduler at {scheduler} within "
                    f"{DASK_CONNECT_TIMEOUT:g} s (start one with: dask scheduler)"
                ) from None
            try:
                client.wait_for_workers(1, timeout=DASK_CONNECT_TIMEOUT)
            except (OSError, TimeoutError):
                raise SchedulerError(
                    f"the Dask scheduler at {scheduler} has no worker (start some with: "
                    f"dask worker {scheduler})"
                ) from None
        absolute = [os.path.abspath(p) for p in inputs]
        try:
            answers = client.run(_worker_probe, absolute)
        except Exception as exc:  # a worker without wikirec cannot even load the probe
            raise SchedulerError(
                f"the Dask workers at {scheduler} cannot run wikirec's tasks "
                f"({type(exc).__name__}); install wikirec {__version__} on every worker"
            ) from None
        for worker, (version, unreadable) in sorted(answers.items()):
            if version != __version__:
                raise SchedulerError(
                    f"Dask worker {worker} runs wikirec {version}, this is {__version__}: "
                    "install the same version on every worker"
                )
            if unreadable:
                raise SchedulerError(
                    f"Dask worker {worker} cannot read {unreadable[0]}: the dumps must be "
                    "on a path every worker can read (a shared path)"
                )
        yield client


def _run_dask(client, scheduler: str, chunks, todo, parts: Path, task: tuple, done):
    """Yield ``(index, stats)`` as chunks finish on the Dask cluster; the tables come back
    here and are written under ``parts`` as the process pool's workers write them.
    ``task``: the (templates, limit, inlinks) of :func:`read_chunk`."""
    from distributed import KilledWorker, as_completed

    limit = task[1]
    pending = {}
    for rank, i in enumerate(todo):
        # Absolute paths: a worker's working folder is not ours. Earlier chunks first,
        # so that ``limit`` is reached with the fewest chunks parsed.
        chunk = replace(chunks[i], path=os.path.abspath(chunks[i].path))
        future = client.submit(read_chunk, chunk, *task, pure=False, priority=len(todo) - rank)
        pending[future] = i
    try:
        for future in as_completed(list(pending)):
            i = pending.pop(future)
            try:
                *tables, stats = future.result()
            except (KilledWorker, OSError) as exc:
                raise SchedulerError(
                    f"{chunks[i].path}: the Dask cluster at {scheduler} lost chunk "
                    f"{chunks[i].key} ({type(exc).__name__}); finished chunks are kept, "
                    "rerun to resume"
                ) from None
            future.release()
            absolute = os.path.abspath(chunks[i].path)
            if absolute != chunks[i].path:  # error lines name the file as the user did
                stats.errors = [line.replace(absolute, chunks[i].path) for line in stats.errors]
            _write_chunk(parts, chunks[i], *tables, stats)
            done[i] = stats
            yield i, stats
            if _limit_reached(done, limit):
                return
    finally:
        if pending:
            client.cancel(list(pending))


# --------------------------------------------------------------------------- CLI


def add_command(subparsers) -> None:
    parser = subparsers.add_parser(
        "parse",
        help="read dumps and keep the pages that carry a template",
        description="Read MediaWiki XML dumps (.xml, .xml.bz2, multistream, folders of "
        "partitions) or the reference project's NDJSON records, and write "
        "articles.parquet (the kept pages), redirects.parquet (every redirect) and "
        "inlinks.parquet (which main-namespace pages link to a kept page).",
    )
    parser.add_argument("dumps", nargs="+", metavar="DUMP", help="dump files or folders")
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder")
    parser.add_argument(
        "--template",
        action="append",
        type=non_empty,
        metavar="NAME",
        help="keep pages carrying this template (repeatable; '*' allowed, e.g. 'Infobox *'; "
        "'*' alone: any template); default: Infobox book and its aliases",
    )
    parser.add_argument(
        "--workers", type=positive_int, default=None, help="processes (default: all cores)"
    )
    parser.add_argument(
        "--limit", type=at_most(positive_int, MAX_INT64), default=None, help="keep at most N pages"
    )
    parser.add_argument(
        "--chunk-mb",
        type=positive_float,
        default=DEFAULT_CHUNK_BYTES / 2**20,
        help="size of the pieces each worker takes (MB of input)",
    )
    parser.add_argument(
        "--scheduler",
        default=None,
        metavar="WHERE",
        help="run the chunks on Dask: 'dask' = a local cluster of --workers processes, "
        "'tcp://HOST:PORT' = an existing Dask scheduler whose workers read the dumps at "
        "the same paths (default: a local process pool)",
    )
    parser.add_argument(
        "--no-inlinks",
        dest="inlinks",
        action="store_false",
        help="do not read the links of the pages not kept: no inlinks.parquet (by default "
        "every main-namespace page's links to the kept pages, directly or through a "
        "redirect, are written there as source, target)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """``wikirec parse``; input it cannot use raises :class:`WikirecError`, which
    :func:`wikirec.cli.main` prints as one line (exit 2)."""
    printed: list[int] = []
    try:
        summary = parse_dumps(
            args.dumps,
            args.out,
            templates=tuple(args.template or BOOK_TEMPLATES),
            workers=args.workers,
            limit=args.limit,
            chunk_bytes=max(int(args.chunk_mb * 2**20), 1 << 16),
            progress=not args.quiet,
            on_error=lambda line: printed.append(fail("parse", line)),  # a line, no exit
            scheduler=args.scheduler,
            inlinks=args.inlinks,
        )
    except SchedulerError as exc:  # a WikirecError, as main() would print it
        return fail("parse", exc)
    if summary.pages == 0:  # one line: the reason, when one was printed
        return 2 if printed else fail("parse", f"nothing usable was read from {args.dumps[0]}")
    print(summary.line())
    articles = pq.ParquetFile(Path(args.out) / "articles.parquet").read(columns=["title"])
    shown = printable(", ".join(articles.column("title").to_pylist()[:10]))
    more = f" (and {articles.num_rows - 10:,} more)" if articles.num_rows > 10 else ""
    if shown:
        print(f"kept: {shown}{more}")
    names = ["articles", "redirects", "inlinks"] if args.inlinks else ["articles", "redirects"]
    written = [str(Path(args.out) / f"{name}.parquet") for name in names]
    print(f"wrote {', '.join(written[:-1])} and {written[-1]}")
    return 0
