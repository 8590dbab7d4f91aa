"""Writing generated dumps: one file (:func:`generate_dump`) or enwiki-style partitions
(:func:`generate_partitions`), and their ground truth.

``*.xml`` is plain XML, ``*.xml.bz2`` bzip2 (level 9, as Wikipedia's). Multistream is
Wikipedia's ``pages-articles-multistream`` layout: the header (up to ``</siteinfo>``) as
one bz2 stream, every ``pages_per_stream`` pages as one stream, ``</mediawiki>`` as the
last, and beside it ``NAME-index.txt.bz2`` (``NAME`` = the file name without
``.xml.bz2``) with one line ``offset:page_id:title`` per page (offset of the page's
stream in the compressed file; the title as a string, not XML-escaped). Partitions are
``PREFIX-pages-articlesN.xml-pFIRSTpLAST.bz2`` as enwiki names them (page ids continue
across them). The files are written by :class:`wikirec.dump.DumpWriter`, the project's
one dump writer, and named by :func:`wikirec.dump.index_name_for`, the names the parser
looks for.
"""

from __future__ import annotations

import bz2
import collections
import os
import re
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

from wikirec.dump import DumpWriter, index_name_for
from wikirec.progress import progress_bar
from wikirec.synth.options import GeneratorOptions
from wikirec.synth.plan import Plan
from wikirec.synth.render import Renderer
from wikirec.synth.tables import FOOTER, SITEINFO
from wikirec.synth.truth import counts, truth_document, truth_path_for, write_truth

_HEADER = SITEINFO.encode("utf-8")
_FOOTER = FOOTER.encode("utf-8")


def generate_dump(
    path: str | os.PathLike, options: GeneratorOptions | None = None, **overrides: Any
) -> dict:
    """Write a synthetic MediaWiki dump of about ``xml_bytes`` of XML to ``path``.

    ``options`` (or keyword arguments named as its fields, which override it): see
    :class:`GeneratorOptions`. ``path`` ending in ``.xml`` gets plain XML; ``.bz2``
    (``.xml.bz2``) gets bzip2, multistream with its index unless ``multistream=False``.
    With ``write_truth``, the ground truth goes to ``<path>.truth.json.gz``.

    Returns counts and paths: ``pages``, ``articles``, ``redirects``, ``books`` (=
    ``entities``), ``authors``, ``series``, ``namespace_pages``, ``xml_bytes``,
    ``compressed_bytes`` (``None`` for plain XML), ``file_bytes``, ``streams``,
    ``path``, ``index``, ``truth``, ``paths`` (every file written) and ``seconds``.
    """
    started = time.perf_counter()
    path = Path(path)
    if not path.name.endswith((".xml", ".bz2")):
        raise ValueError(f"{path}: the dump path must end in .xml or .bz2 (.xml.bz2)")
    opts = GeneratorOptions.of(options, overrides)
    if path.name.endswith(".xml"):
        kind = "xml"
    else:
        kind = "bz2" if opts.multistream is False else "multistream"
    plan = Plan(opts)
    renderer = Renderer(plan)
    index = index_name_for(path) if kind == "multistream" and opts.write_index else None
    path.parent.mkdir(parents=True, exist_ok=True)
    bar = progress_bar(
        opts.progress, total=opts.xml_bytes, unit="B", unit_scale=True, desc=path.name
    )
    if opts.block_pages:
        if kind != "multistream":
            raise ValueError(f"{path}: a dump written in blocks is multistream bz2")
        sink = DumpWriter(path, kind, opts.pages_per_stream, index)
        size = _write_blocks(renderer, sink, bar)
    else:
        [(sink, size)] = _write_pages(
            renderer,
            1,
            lambda number: DumpWriter(path, kind, opts.pages_per_stream, index, background=True),
            lambda sink, number: None,
            bar,
        )
    stats = counts(plan, renderer, sink.xml_bytes)
    truth = truth_path_for(path) if opts.write_truth else None
    if truth is not None:
        params = {
            **opts.params(),
            "multistream": kind == "multistream",
            "compressed": kind != "xml",
        }
        write_truth(truth, truth_document(plan, renderer, params, [_file_entry(sink)], stats))
    return {
        **stats,
        "compressed_bytes": size if kind != "xml" else None,
        "file_bytes": size,
        "streams": sink.streams,
        "path": str(path),
        "index": str(index) if index is not None else None,
        "truth": str(truth) if truth is not None else None,
        "paths": [str(p) for p in (path, index, truth) if p is not None],
        "seconds": time.perf_counter() - started,
    }


def generate_partitions(
    folder: str | os.PathLike,
    n_files: int,
    options: GeneratorOptions | None = None,
    *,
    prefix: str = "synth",
    **overrides: Any,
) -> dict:
    """Write one synthetic dump of about ``xml_bytes`` of XML in total as ``n_files``
    partitions in ``folder``, named like enwiki's: ``PREFIX-pages-articlesN.xml-pFIRSTpLAST.bz2``
    (one bz2 stream each, the default), or with ``multistream``
    ``PREFIX-pages-articles-multistreamN.xml-pFIRSTpLAST.bz2`` and, with
    ``write_index``, ``PREFIX-pages-articles-multistream-indexN.txt-pFIRSTpLAST.bz2``.
    Each partition is a complete XML document of about ``xml_bytes / n_files``; page
    ids continue across them. The ground truth of the whole goes to
    ``FOLDER/PREFIX-truth.json.gz``. Options as :func:`generate_dump`. Returns the same
    counts, with ``paths`` listing every file.
    """
    started = time.perf_counter()
    opts = GeneratorOptions.of(options, overrides)
    if n_files < 1:
        raise ValueError("n_files must be at least 1")
    if opts.xml_bytes < n_files * 200_000:
        raise ValueError("make xml_bytes at least 200,000 per partition")
    if not re.fullmatch(r"[A-Za-z0-9._-]+", prefix):
        raise ValueError(f"prefix must be a plain file name part: {prefix!r}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if opts.block_pages:
        raise ValueError("a dump written in blocks (block_pages) is one file, not partitions")
    multistream = bool(opts.multistream)
    plan = Plan(opts)
    renderer = Renderer(plan)
    kind = "multistream" if multistream else "bz2"
    stem = f"{prefix}-pages-articles-multistream" if multistream else f"{prefix}-pages-articles"

    def open_sink(number: int) -> DumpWriter:
        # Named once the page ids it holds are known (final_name); until then, without them.
        temp = folder / f"{stem}{number}.xml.bz2"
        index = index_name_for(temp) if multistream and opts.write_index else None
        return DumpWriter(temp, kind, opts.pages_per_stream, index, background=True)

    def final_name(sink: DumpWriter, number: int) -> Path:
        return folder / f"{stem}{number}.xml-p{sink.first_id}p{sink.last_id}.bz2"

    bar = progress_bar(opts.progress, total=opts.xml_bytes, unit="B", unit_scale=True, desc=stem)
    written = _write_pages(renderer, n_files, open_sink, final_name, bar)
    files = [_file_entry(sink) for sink, _ in written]
    paths = [str(p) for sink, _ in written for p in (sink.path, sink.index) if p is not None]
    total_size = sum(size for _, size in written)
    stats = counts(plan, renderer, sum(sink.xml_bytes for sink, _ in written))
    truth = folder / f"{prefix}-truth.json.gz" if opts.write_truth else None
    if truth is not None:
        params = {
            **opts.params(),
            "n_files": n_files,
            "prefix": prefix,
            "multistream": multistream,
            "compressed": True,
        }
        write_truth(truth, truth_document(plan, renderer, params, files, stats))
        paths.append(str(truth))
    return {
        **stats,
        "compressed_bytes": total_size,
        "file_bytes": total_size,
        "streams": sum(sink.streams for sink, _ in written),
        "path": str(folder),
        "index": None,
        "truth": str(truth) if truth is not None else None,
        "paths": paths,
        "files": files,
        "seconds": time.perf_counter() - started,
    }


def _write_pages(
    renderer: Renderer,
    n_files: int,
    open_sink: Callable[[int], DumpWriter],
    final_name: Callable[[DumpWriter, int], Path | None],
    bar,
) -> list[tuple[DumpWriter, int]]:
    """Write the renderer's pages into ``n_files`` complete dumps of about equal XML:
    ``open_sink(n)`` opens file ``n`` (from 1), ``final_name(writer, n)`` renames it once
    its page ids are known (``None``: keep its name). Returns each closed writer with its
    size in bytes; on failure the unfinished file is removed."""
    xml_bytes = renderer.plan.o.xml_bytes
    bounds = [xml_bytes * (i + 1) // n_files for i in range(n_files)]
    written: list[tuple[DumpWriter, int]] = []
    number = 1
    sink = open_sink(number)
    xml = len(_HEADER)
    try:
        sink.write(_HEADER)
        for _, page_id, title, data in renderer.pages(n_files * (len(_HEADER) + len(_FOOTER))):
            if number < n_files and xml >= bounds[number - 1]:
                written.append((sink, sink.close(_FOOTER, final_name(sink, number))))
                number += 1
                sink = open_sink(number)
                sink.write(_HEADER)
                xml += len(_FOOTER) + len(_HEADER)
            sink.page(page_id, title, data)
            xml += len(data)
            bar.update(len(data))
    except BaseException:
        sink.abort()
        raise
    finally:
        bar.close()
    written.append((sink, sink.close(_FOOTER, final_name(sink, number))))
    return written


# A dump written in blocks: each worker process renders and compresses whole blocks;
# the parent writes them in order. The worker's renderer (its plan inherited or rebuilt).
_RENDERER: Renderer | None = None


def _write_blocks(renderer: Renderer, sink: DumpWriter, bar) -> int:
    """Write the plan's pages block by block (``block_pages``), rendered and compressed
    by ``workers`` processes at once; what the ground truth needs is merged into
    ``renderer``. Returns the file's size; on failure the unfinished file is removed."""
    global _RENDERER
    plan = renderer.plan
    n_blocks = -(-len(plan.kinds) // plan.o.block_pages)
    try:
        sink.write(_HEADER)
        if plan.o.workers == 1:
            _RENDERER = renderer
            results = map(_render_block, range(n_blocks))
            for result in results:
                _take_block(result, renderer, sink, bar)
        else:
            _RENDERER = renderer  # inherited as is where processes fork
            with ProcessPoolExecutor(plan.o.workers, initializer=_start_worker,
                                     initargs=(plan.o,)) as pool:  # fmt: skip
                pending: collections.deque[Future] = collections.deque()
                for b in range(n_blocks):
                    pending.append(pool.submit(_render_block, b))
                    while len(pending) > 2 * plan.o.workers:
                        _take_block(pending.popleft().result(), renderer, sink, bar)
                while pending:
                    _take_block(pending.popleft().result(), renderer, sink, bar)
    except BaseException:
        sink.abort()
        raise
    finally:
        _RENDERER = None
        bar.close()
    return sink.close(_FOOTER)


def _start_worker(options: GeneratorOptions) -> None:
    global _RENDERER
    if _RENDERER is None or _RENDERER.plan.o != options:  # spawned, not forked
        _RENDERER = Renderer(Plan(options))
    _RENDERER.fresh()


def _render_block(b: int) -> tuple[list[tuple[bytes, int, list]], dict]:
    """Block ``b``'s bz2 streams (``(compressed, xml_bytes, [(page_id, title)])``) and
    what the ground truth needs from its pages."""
    renderer = _RENDERER
    assert renderer is not None
    per_stream = renderer.plan.o.pages_per_stream
    streams, group, pages = [], [], []
    for _, page_id, title, data in renderer.block(b):
        group.append(data)
        pages.append((page_id, title))
        if len(group) == per_stream:
            xml = b"".join(group)
            streams.append((bz2.compress(xml, 9), len(xml), pages))
            group, pages = [], []
    if group:
        xml = b"".join(group)
        streams.append((bz2.compress(xml, 9), len(xml), pages))
    return streams, renderer.fresh()


def _take_block(result, renderer: Renderer, sink: DumpWriter, bar) -> None:
    streams, facts = result
    for compressed, xml_bytes, pages in streams:
        sink.stream(compressed, xml_bytes, pages)
        bar.update(xml_bytes)
    renderer.merge(facts)


def _file_entry(sink: DumpWriter) -> dict:
    """A written file as the ground truth lists it."""
    return {
        "name": sink.path.name,
        "first_id": sink.first_id,
        "last_id": sink.last_id,
        "pages": sink.pages,
    }
