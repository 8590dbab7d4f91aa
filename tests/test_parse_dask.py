"""`wikirec parse --scheduler dask|tcp://...`: the same tables as the local process pool.

Inputs: the real enwiki fragment (one bz2 stream, one chunk) and a small multistream dump
written by the project's own writer (wikirec.synth over wikirec.dump), cut into several
chunks. Dask runs on loopback only.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
from pathlib import Path

import distributed
import pandas as pd
import pytest

from wikirec import parse as parse_module
from wikirec.cli import main
from wikirec.dump import plan_chunks
from wikirec.parse import SchedulerError, parse_dumps
from wikirec.synth import generate_dump

CHUNK = 1 << 17  # small chunks: the synthetic dump is cut into several
BOOKS = {"Animalia (book)", "Animal Farm", "A Modest Proposal"}


def read(out: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    return pd.read_parquet(out / "articles.parquet"), pd.read_parquet(out / "redirects.parquet")


def assert_same_tables(a: Path, b: Path) -> None:
    for left, right in zip(read(a), read(b), strict=True):
        pd.testing.assert_frame_equal(left, right)
    inlinks = [pd.read_parquet(folder / "inlinks.parquet") for folder in (a, b)]
    pd.testing.assert_frame_equal(*inlinks)


@pytest.fixture(scope="module")
def inputs(fragment, tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("dask-inputs")
    synth = folder / "synth-pages-articles-multistream.xml.bz2"
    generate_dump(synth, xml_bytes=1_500_000, seed=11, n_books=40, pages_per_stream=20)
    return [fragment, synth]


@pytest.fixture(scope="module")
def reference(inputs, tmp_path_factory) -> Path:
    """The local process pool's tables: what every Dask run must equal."""
    out = tmp_path_factory.mktemp("pool")
    summary = parse_dumps(inputs, out, workers=2, chunk_bytes=CHUNK)
    assert summary.chunks >= 4 and not summary.errors
    return out


def loopback_cluster(n_workers: int, processes: bool) -> distributed.LocalCluster:
    """A Dask cluster on 127.0.0.1 over TCP (also with in-process workers), no dashboard."""
    return distributed.LocalCluster(
        n_workers=n_workers,
        threads_per_worker=1,
        processes=processes,
        protocol="tcp://",
        host="127.0.0.1",
        dashboard_address=None,
        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
        silence_logs=logging.ERROR,
    )


@pytest.fixture(scope="module")
def address():
    """An existing Dask cluster, reached by its address: two worker processes."""
    with loopback_cluster(2, processes=True) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        yield cluster.scheduler_address


def test_reference_holds_real_and_planted_books(reference):
    articles, redirects = read(reference)
    assert BOOKS <= set(articles.title)
    assert len(articles) > 20 and len(redirects) > 100
    inlinks = pd.read_parquet(reference / "inlinks.parquet")
    assert len(inlinks) > 0  # the generated pages link to the generated books


def test_local_cluster_equals_process_pool(inputs, reference, tmp_path):
    summary = parse_dumps(inputs, tmp_path, workers=2, chunk_bytes=CHUNK, scheduler="dask")
    assert_same_tables(reference, tmp_path)
    assert summary.chunks == sum(len(plan_chunks(p, CHUNK)) for p in inputs)
    assert summary.chunks_resumed == 0 and not summary.errors


def test_cluster_by_address_from_the_cli(inputs, reference, address, tmp_path, capsys):
    dumps = [str(p) for p in inputs]
    chunk_mb = str(CHUNK / 2**20)
    argv = ["parse", *dumps, "--out", str(tmp_path), "--chunk-mb", chunk_mb, "--quiet"]
    assert main([*argv, "--scheduler", address]) == 0
    assert_same_tables(reference, tmp_path)
    assert "kept: Animalia (book), Animal Farm, A Modest Proposal" in capsys.readouterr().out


def test_resume_skips_done_chunks(inputs, reference, address, tmp_path):
    """Chunks the process pool finished are reused by Dask; only the missing ones run."""
    first = parse_dumps(inputs, tmp_path, workers=2, chunk_bytes=CHUNK)
    markers = sorted((tmp_path / "chunks").glob("*/*.done.json"))
    assert len(markers) == first.chunks
    for marker in markers[1::2]:  # as if the run was killed before these
        marker.unlink()
    (tmp_path / "articles.parquet").unlink()
    second = parse_dumps(inputs, tmp_path, chunk_bytes=CHUNK, scheduler=address)
    assert second.chunks_resumed == first.chunks - len(markers[1::2])
    assert_same_tables(reference, tmp_path)
    assert (second.pages, second.kept, second.redirects) == (
        first.pages,
        first.kept,
        first.redirects,
    )


def test_limit_matches_the_process_pool(inputs, address, tmp_path):
    # 5 crosses from the fragment (3 books) into the synthetic dump's chunks.
    pool = parse_dumps(inputs, tmp_path / "pool", workers=2, limit=5, chunk_bytes=CHUNK)
    dask = parse_dumps(inputs, tmp_path / "dask", limit=5, chunk_bytes=CHUNK, scheduler=address)
    assert_same_tables(tmp_path / "pool", tmp_path / "dask")
    assert len(read(tmp_path / "dask")[0]) == 5 == pool.kept == dask.kept


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0], err
    return err[0]


@pytest.mark.parametrize("value", ["spark", "tcp://no-port", "http://127.0.0.1:8786", ""])
def test_bad_scheduler_value(fragment, tmp_path, capsys, value):
    out = tmp_path / "out"
    with pytest.raises(SchedulerError):
        parse_dumps([fragment], out, scheduler=value)
    assert main(["parse", str(fragment), "--out", str(out), "--scheduler", value]) == 2
    assert one_error_line(capsys).startswith(f"wikirec parse: scheduler {value!r}")
    assert not out.exists()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_address(fragment, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(parse_module, "DASK_CONNECT_TIMEOUT", 1.0)
    address = f"tcp://127.0.0.1:{free_port()}"
    out = tmp_path / "out"
    assert main(["parse", str(fragment), "--out", str(out), "--scheduler", address]) == 2
    line = one_error_line(capsys)
    assert f"cannot reach a Dask scheduler at {address}" in line
    assert not out.exists()


def test_without_dask_installed(fragment, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import fails as if absent
    out = tmp_path / "out"
    assert main(["parse", str(fragment), "--out", str(out), "--scheduler", "dask"]) == 2
    assert "pip install 'wikirec[dask]'" in one_error_line(capsys)
    assert not out.exists()


def test_workers_that_cannot_read_the_dump(fragment, tmp_path, monkeypatch):
    """A worker without the shared path is refused before any chunk runs."""
    hidden = str(fragment.resolve())
    real_access = os.access
    # In-process workers share this process's os module: hide the dump from them.
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: p != hidden and real_access(p, mode))
    with loopback_cluster(1, processes=False) as cluster:
        out = tmp_path / "out"
        with pytest.raises(SchedulerError, match="shared path") as error:
            parse_dumps([fragment], out, scheduler=cluster.scheduler_address)
    assert hidden in str(error.value) and "\n" not in str(error.value)
    assert not out.exists()


def test_scheduler_without_workers(fragment, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(parse_module, "DASK_CONNECT_TIMEOUT", 1.0)
    with loopback_cluster(0, processes=False) as cluster:
        out = tmp_path / "out"
        argv = ["parse", str(fragment), "--out", str(out), "--scheduler", cluster.scheduler_address]
        assert main(argv) == 2
    assert "has no worker (start some with: dask worker tcp://" in one_error_line(capsys)
    assert not out.exists()
