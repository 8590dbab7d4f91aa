"""The multistream bz2 decoders: ``indexed_bzip2`` when installed, Python's ``bz2`` as the
fallback. Same bytes, same pages, same tables, same damage reports."""

from __future__ import annotations

import bz2
from pathlib import Path

import pandas as pd
import pytest

from wikirec import dump
from wikirec.dump import (
    DECODER_ENV,
    _bz2_blocks,
    _indexed_bzip2_blocks,
    bz2_decoder,
    extract_tag,
    iter_pages,
    plan_chunks,
    unescape,
    write_multistream,
)
from wikirec.parse import parse_dumps

needs_indexed_bzip2 = pytest.mark.skipif(
    dump.indexed_bzip2 is None, reason="indexed_bzip2 is not installed: only the fallback runs"
)


@pytest.fixture(scope="module")
def multistream(fragment, tmp_path_factory) -> Path:
    """The real fragment repacked as Wikipedia's multistream form: 10 pages a stream."""
    xml = bz2.decompress(fragment.read_bytes())
    header = xml[: xml.index(b"<page>")]
    pages = list(iter_pages(plan_chunks(fragment)[0], []))
    entries = (
        (int(extract_tag(p.xml, b"id")), unescape(extract_tag(p.xml, b"title")), p.xml + b"\n")
        for p in pages
    )
    path = (
        tmp_path_factory.mktemp("multistream") / "enwiki-sample-pages-articles-multistream.xml.bz2"
    )
    write_multistream(path, header, entries, b"</mediawiki>\n", pages_per_stream=10)
    return path


def tables(out: Path) -> list[pd.DataFrame]:
    return [
        pd.read_parquet(out / f"{name}.parquet") for name in ("articles", "redirects", "inlinks")
    ]


def test_fallback_when_the_package_is_missing_or_refused(monkeypatch):
    monkeypatch.setenv(DECODER_ENV, "python")
    assert bz2_decoder() == "python"
    monkeypatch.delenv(DECODER_ENV)
    monkeypatch.setattr(dump, "indexed_bzip2", None)
    assert bz2_decoder() == "python"


@needs_indexed_bzip2
def test_indexed_bzip2_is_the_default_when_installed(monkeypatch):
    monkeypatch.delenv(DECODER_ENV, raising=False)
    assert bz2_decoder() == "indexed_bzip2"


@needs_indexed_bzip2
@pytest.mark.parametrize("chunk_bytes", [16 << 10, 1 << 20])
def test_same_blocks_and_stream_offsets_as_python(multistream, chunk_bytes):
    for chunk in plan_chunks(multistream, chunk_bytes):
        python_errors: list[str] = []
        fast_errors: list[str] = []
        python = list(_bz2_blocks(chunk, python_errors, multistream=True))
        fast = list(_indexed_bzip2_blocks(chunk, fast_errors))
        assert b"".join(b for b, _ in fast) == b"".join(b for b, _ in python)
        per_stream: list[dict[int, int]] = [{}, {}]
        for blocks, sizes in zip((python, fast), per_stream, strict=True):
            for block, offset in blocks:
                sizes[offset] = sizes.get(offset, 0) + len(block)
        assert per_stream[0] == per_stream[1]
        assert python_errors == fast_errors == []


@pytest.mark.parametrize("workers", [1, 2])
def test_decoder_and_fallback_give_the_same_tables(
    multistream, fragment, tmp_path, monkeypatch, workers
):
    """On the bundled real pages, chunked finely: the decoder's tables, the forced
    fallback's (in the workers too) and the single-stream fragment's are the same."""
    options = {"workers": workers, "chunk_bytes": 64 << 10}
    parse_dumps([fragment], tmp_path / "single")
    parse_dumps([multistream], tmp_path / "decoder", **options)
    monkeypatch.setenv(DECODER_ENV, "python")
    parse_dumps([multistream], tmp_path / "python", **options)
    expected = tables(tmp_path / "single")
    assert len(expected[0]) == 3 and len(expected[1]) == 100
    for name in ("decoder", "python"):
        for got, want in zip(tables(tmp_path / name), expected, strict=True):
            pd.testing.assert_frame_equal(got, want)


@pytest.mark.parametrize("decoder", ["indexed_bzip2", "python"])
def test_damage_is_reported_alike(multistream, tmp_path, monkeypatch, decoder):
    """A corrupt stream and a file cut short: the same error lines and pages whichever
    decoder reads them (the decoder hands damaged streams to Python's bz2)."""
    if decoder == "python":
        monkeypatch.setenv(DECODER_ENV, "python")
    elif dump.indexed_bzip2 is None:
        pytest.skip("indexed_bzip2 is not installed")
    data = bytearray(multistream.read_bytes())
    starts = [m.start() for m in dump.BZ2_STREAM_MAGIC.finditer(data)]
    bad = starts[len(starts) // 2]
    data[bad + 200 : bad + 230] = b"\x00" * 30
    corrupt = tmp_path / "corrupt" / multistream.name
    corrupt.parent.mkdir()
    corrupt.write_bytes(bytes(data))
    summary = parse_dumps([corrupt], tmp_path / "out", chunk_bytes=64 << 10)
    assert len(summary.errors) == 1
    assert f"{corrupt}: bad bz2 data in the stream at byte {bad}" in summary.errors[0]
    assert summary.pages == 196  # one stream of 10 pages lost, the rest read

    truncated = tmp_path / "truncated" / multistream.name
    truncated.parent.mkdir()
    cut = (starts[-3] + starts[-2]) // 2  # inside the third stream from the end
    truncated.write_bytes(multistream.read_bytes()[:cut])
    summary = parse_dumps([truncated], tmp_path / "out-truncated", chunk_bytes=64 << 10)
    assert len(summary.errors) == 1
    assert f"bad bz2 data in the stream at byte {starts[-3]}" in summary.errors[0]
    assert "ends inside a bz2 stream" in summary.errors[0]
    assert 180 <= summary.pages < 206


@needs_indexed_bzip2
@pytest.mark.parametrize("limit", ["FAST_STREAM_LIMIT", "FAST_RANGE_LIMIT"])
def test_past_its_memory_bounds_the_decoder_hands_over_to_python(multistream, monkeypatch, limit):
    """A stream decoding to more than FAST_STREAM_LIMIT, or a chunk whose streams span
    more than FAST_RANGE_LIMIT compressed, is streamed by Python's bz2: same blocks."""
    monkeypatch.setattr(dump, limit, 1000)
    handed_over = []
    real = dump._bz2_blocks
    monkeypatch.setattr(dump, "_bz2_blocks", lambda *a, **k: handed_over.append(1) or real(*a, **k))
    for chunk in plan_chunks(multistream, 16 << 10):  # streams of about 80 kB overhang
        fast = list(_indexed_bzip2_blocks(chunk, []))
        assert fast == list(_bz2_blocks(chunk, [], multistream=True))
    assert len(handed_over) > 10
