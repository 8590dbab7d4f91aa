"""The full-scale rehearsal: ``wikirec run books`` on a dump with the real English
Wikipedia's counts, stage by stage, then ``wikirec serve`` on the result.

    python benchmarks/bench_fullscale.py [--scale 1] [--text-scale 0.1] [--workers 2]
                                         [--real 140] [--requests 1000] [--skip-anchor]

The dump: ``wikirec generate --like enwiki --scale S --text-scale T`` (made once, cached
under ``artifacts/bench/enwiki-xS-tT/``): at scale 1 the real dump's page counts per
namespace (7.0 million articles, 11.5 million redirects, 6 million pages in other
namespaces), its links per article and 46,000 book pages linked to as real books are,
with page text T times the real bytes (figures and sources:
``wikirec/synth/data/enwiki.toml``).

In one run, each in a process of its own:

- the anchor: Python's ``bz2`` decompressing the whole dump with ``--workers``
  processes, doing nothing with the XML (``--skip-anchor`` leaves it out);
- each stage of the ``books`` pipeline, ``wikirec run books --dump DUMP --until STAGE
  --set parse.workers=W`` (each command runs the one stage the previous ones left):
  wall time, CPU time (user + system of every process it waited for), peak RSS of its
  largest process (``wait4``) and of its whole process tree (sampled every 0.2 s), the
  disk its folder holds after it (parse: the chunk files included), and the stage's
  own seconds from the run's manifest;
- ``wikirec serve`` on the trained folder: seconds from start until ``/api/similar``
  answers, the server's resident memory after ``--requests`` requests, and their p50 /
  p99 latency (seeded random book titles, one keep-alive connection);
- the parse of real pages (``--real COPIES``: the bundled real fragment tiled by
  ``../shared/tools/tile_real_dump.py``, cached) and Python's ``bz2`` alone on it: the
  parse's MB/s of real XML, from which the parse of the real dump's 100 GB is projected
  (generated text costs the parse less per byte than real text, and its bytes are
  scaled by T).

Prints the table and the projection for the real dump, and writes everything to
``OUT/fullscale.json``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import numpy as np
from bench_e2e import run_stage
from bench_parse import ensure_real_dump, python_chunk, run_decompress

from wikirec.dump import plan_chunks
from wikirec.io import write_json_atomic
from wikirec.pipeline import STAGE_ORDER
from wikirec.synth import generate_dump, load_truth
from wikirec.synth.presets import preset_options, read_preset

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "artifacts" / "bench"
WIKIREC = [sys.executable, "-c", "import sys; from wikirec.cli import main; sys.exit(main())"]


def ensure_dump(scale: float, text_scale: float, seed: int, workers: int) -> Path:
    """The enwiki-shaped dump of this scale (generated once; its truth is written last)."""
    folder = BENCH / f"enwiki-x{scale:g}-t{text_scale:g}"
    path = folder / f"enwiki-like-s{seed}-pages-articles-multistream.xml.bz2"
    if not Path(f"{path}.truth.json.gz").is_file():
        options = preset_options("enwiki", scale, text_scale, seed=seed, workers=workers,
                                 progress=True)  # fmt: skip
        print(f"generating {path} ({options.articles:,} articles, {options.redirects:,} "
              f"redirects, {options.n_books:,} books) ...", flush=True)  # fmt: skip
        stats = generate_dump(path, options)
        print(f"generated in {stats['seconds']:,.0f} s: {stats['pages']:,} pages, "
              f"{stats['xml_bytes'] / 1e9:,.1f} GB of XML", flush=True)  # fmt: skip
    return path


def disk_bytes(path: Path) -> int:
    """Bytes the folder takes on disk (``du``)."""
    if not path.exists():
        return 0
    out = subprocess.run(["du", "-sb", str(path)], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[0])


def run_stages(dump: Path, run: Path, workers: int) -> list[dict]:
    """Each stage of the books pipeline as a command of its own."""
    rows = []
    for stage in STAGE_ORDER:
        cmd = [*WIKIREC, "run", "books", "--dump", str(dump), "--out", str(run), "--until",
               stage, "--quiet", "--set", f"parse.workers={workers}"]  # fmt: skip
        row = run_stage(stage, cmd, run.parent / f"{stage}.log")
        manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
        entry = manifest["stages"].get(stage, {})
        row["stage_seconds"] = entry.get("seconds")
        row["summary"] = entry.get("summary")
        row["disk_bytes"] = disk_bytes(run / stage)
        print(_line(row), flush=True)
        rows.append(row)
    return rows


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def measure_serve(train: Path, n_requests: int, seed: int = 1) -> dict:
    """``wikirec serve`` on ``train``: start-up, resident memory, /api/similar latency."""
    import psutil

    titles = json.loads((train / "book_titles.json").read_text(encoding="utf-8"))
    port = free_port()
    started = time.perf_counter()
    server = subprocess.Popen([*WIKIREC, "serve", str(train), "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    rng = np.random.default_rng(seed)
    paths = ["/api/similar?" + urlencode({"title": titles[i], "k": 10})
             for i in rng.integers(0, len(titles), n_requests + 1)]  # fmt: skip
    try:
        connection = None
        while connection is None:
            if server.poll() is not None or time.perf_counter() - started > 600:
                raise SystemExit("bench_fullscale: wikirec serve did not start")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                connection.request("GET", paths[0])
                connection.getresponse().read()
            except OSError:
                connection = None
                time.sleep(0.1)
        startup = time.perf_counter() - started
        times = []
        for path in paths[1:]:
            t0 = time.perf_counter()
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            times.append(time.perf_counter() - t0)
            if response.status != 200:
                raise SystemExit(f"bench_fullscale: {path} answered {response.status}")
        rss = psutil.Process(server.pid).memory_info().rss
    finally:
        server.terminate()
        server.wait(30)
    p50, p99 = np.percentile(times, [50, 99]) * 1e3
    return {"startup_seconds": startup, "rss_mb": rss / 2**20, "requests": len(times),
            "p50_ms": p50, "p99_ms": p99}  # fmt: skip


def real_rate(copies: int, workers: int, out: Path) -> dict:
    """The parse's MB/s of real XML, beside Python's bz2 alone on the same dump."""
    path = ensure_real_dump(copies)
    shutil.rmtree(out / "real-parse", ignore_errors=True)  # a parse resumes its chunks
    seconds_bz2, xml = run_decompress(plan_chunks(path), workers, python_chunk)
    cmd = [*WIKIREC, "parse", str(path), "--out", str(out / "real-parse"), "--quiet",
           "--workers", str(workers)]  # fmt: skip
    row = run_stage("parse (real pages)", cmd, out / "real-parse.log")
    return {"dump": path.name, "xml_bytes": xml, "parse_seconds": row["seconds"],
            "bz2_seconds": seconds_bz2, "parse_mb_s": xml / 1e6 / row["seconds"],
            "bz2_mb_s": xml / 1e6 / seconds_bz2}  # fmt: skip


def _line(row: dict) -> str:
    return (f"  {row['stage']:<10} {row['seconds']:>8,.1f} s  cpu {row['cpu_seconds']:>8,.1f} s  "
            f"{row['rss_mb']:>7,.0f} MB  tree {row['tree_mb']:>7,.0f} MB  "
            f"disk {row.get('disk_bytes', 0) / 1e9:>6,.2f} GB  load "
            f"{row['load_before']:.2f} -> {row['load_after']:.2f}")  # fmt: skip


def report(result: dict) -> None:
    rows, real = result["stages"], result.get("real")
    xml = result["dump"]["xml_bytes"]
    print("\n| stage | wall s (command) | the stage's own s | CPU s | peak RSS (largest) "
          "| peak RSS (tree) | disk after |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        print(f"| {row['stage']} | {row['seconds']:,.1f} | {row['stage_seconds'] or 0:,.1f} | "
              f"{row['cpu_seconds']:,.1f} | {row['rss_mb']:,.0f} MB | {row['tree_mb']:,.0f} MB | "
              f"{row['disk_bytes'] / 1e9:,.2f} GB |")  # fmt: skip
    total = sum(r["seconds"] for r in rows)
    print(f"| **all stages** | **{total:,.1f}** | "
          f"{sum(r['stage_seconds'] or 0 for r in rows):,.1f} | "
          f"{sum(r['cpu_seconds'] for r in rows):,.1f} | "
          f"{max(r['rss_mb'] for r in rows):,.0f} MB | {max(r['tree_mb'] for r in rows):,.0f} MB"
          f" | {sum(r['disk_bytes'] for r in rows) / 1e9:,.2f} GB |")  # fmt: skip
    parse = rows[0]
    print(f"\nparse: {xml / 1e9:,.1f} GB of generated XML at {xml / 1e6 / parse['seconds']:,.1f}"
          " MB/s", end="")  # fmt: skip
    if result.get("anchor_seconds"):
        anchor = result["anchor_seconds"]
        print(f"; Python's bz2 alone {anchor:,.1f} s ({xml / 1e6 / anchor:,.1f} MB/s): "
              f"parse / anchor time {parse['seconds'] / anchor:.2f}", end="")  # fmt: skip
    print()
    if real:
        projected = result["real_xml_bytes"] / 1e6 / real["parse_mb_s"]
        rest = total - parse["seconds"]
        print(f"real pages ({real['dump']}): parse {real['parse_mb_s']:.1f} MB/s, Python's bz2 "
              f"alone {real['bz2_mb_s']:.1f} MB/s ({real['parse_mb_s'] / real['bz2_mb_s']:.3f})")
        print(f"projected: the real dump's {result['real_xml_bytes'] / 1e9:.0f} GB of XML parsed "
              f"in {projected / 60:,.1f} min; with the other stages as measured here "
              f"({rest / 60:,.1f} min): {(projected + rest) / 60:,.1f} min from dump to "
              "recommendations and plots")  # fmt: skip
    serve = result.get("serve")
    if serve:
        print(f"serve: up in {serve['startup_seconds']:.1f} s, {serve['rss_mb']:,.0f} MB "
              f"resident after {serve['requests']:,} /api/similar requests: p50 "
              f"{serve['p50_ms']:.1f} ms, p99 {serve['p99_ms']:.1f} ms")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--text-scale", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--real", type=int, default=140, metavar="COPIES",
                        help="real pages for the parse's MB/s (0: none)")  # fmt: skip
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--skip-anchor", action="store_true")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    dump = ensure_dump(args.scale, args.text_scale, args.seed, args.workers)
    out = args.out or dump.parent / "rehearsal"
    out.mkdir(parents=True, exist_ok=True)
    truth = load_truth(f"{dump}.truth.json.gz")
    result: dict = {"dump": {"path": str(dump), "bytes": dump.stat().st_size,
                             **truth["counts"]}, "workers": args.workers}  # fmt: skip
    result["real_xml_bytes"] = read_preset("enwiki")["source"]["xml_gb"] * 1e9
    if not args.skip_anchor:
        seconds, _ = run_decompress(plan_chunks(dump), args.workers, python_chunk)
        result["anchor_seconds"] = seconds
        print(f"anchor: Python's bz2 alone, {args.workers} workers: {seconds:,.1f} s", flush=True)
    run = out / "run"
    shutil.rmtree(run, ignore_errors=True)  # a rehearsal starts from nothing
    result["stages"] = run_stages(dump, run, args.workers)
    result["serve"] = measure_serve(run / "train", args.requests)
    if args.real:
        result["real"] = real_rate(args.real, args.workers, out)
    write_json_atomic(result, out / "fullscale.json")
    report(result)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
