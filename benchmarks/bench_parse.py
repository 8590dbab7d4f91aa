"""Parse speed against its anchor: decompression alone, with the same workers, same file.

    python benchmarks/bench_parse.py [--size-mb 600] [--real 140] [--dump PATH] [--workers 2]
        [--rounds 2] [--skip ROW ...]

Generates (once, cached under artifacts/bench/) a deterministic synthetic multistream
dump with its index and, with ``--real COPIES``, a multistream dump of real pages (the
bundled enwiki fragment tiled COPIES times by ``../shared/tools/tile_real_dump.py``; 140
copies: 840 MB of XML). On each it measures side by side, alternating rounds:

- python bz2: Python's bz2 over the same chunks in the same process pool, one
  decompressor per stream, small reads (no copying of a stream's unread tail), doing
  nothing with the XML: the anchor, the old speed limit;
- 7-Zip: the parse's decoder when the ``7zz`` program is on the PATH, alone, the same
  way (one single-threaded 7-Zip process at a time in each worker, 4 MB of streams each);
- indexed_bzip2: the decoder without 7-Zip, alone, the same way (one thread in each worker);
- indexed_bzip2, 2 threads: the package's own parallelism instead of the pool, one
  process decoding the whole file with 2 threads;
- bzip2 -dc: the bzip2 program, one process per worker, each on its share of streams;
- wikirec parse: the full stage, writing its tables, in-links included;
- wikirec parse --no-inlinks: the same without reading the links of every page;
- wikirec parse, indexed_bzip2 / Python bz2: the full stage forced onto the other
  decoders (``WIKIREC_BZ2_DECODER=indexed_bzip2`` or ``python``);
- reference: the tutorial's recipe (xml.sax fed line by line from bzcat, every page
  through mwparserfromhell) on the first --reference-mb of the same dump, one core.

Prints MB of XML per second for each and its ratio to the python-bz2 anchor (targets
for the parse with in-links: >= 1.1 on real pages, >= 0.75 on a book-dense dump), and
the peak RSS of the parse: its largest process, and its whole process tree in one more
run, sampled (target < 1 GB).
"""

from __future__ import annotations

import argparse
import bz2
import json
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
import xml.sax
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import indexed_bzip2
from bench_e2e import LAUNCHER, run_stage

from wikirec.dump import (
    DECODER_ENV,
    Chunk,
    _bz2_blocks,
    _first_stream_at_or_after,
    _indexed_bzip2_blocks,
    _sevenzip_blocks,
    bz2_decoder,
    plan_chunks,
    sevenzip_program,
)
from wikirec.synth import generate_dump

ROOT = Path(__file__).resolve().parents[1]
TILER = ROOT.parent / "shared" / "tools" / "tile_real_dump.py"
FRAGMENT = ROOT / "wikirec" / "data" / "enwiki-sample-p10p30302.xml.bz2"


def dump_path(size_mb: int, seed: int) -> Path:
    folder = ROOT / "artifacts" / "bench"
    return folder / f"synth{size_mb}mb-s{seed}-pages-articles-multistream.xml.bz2"


def ensure_dump(size_mb: int, seed: int) -> Path:
    path = dump_path(size_mb, seed)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        print(f"generating {path.name} (once; cached) ...", flush=True)
        started = time.perf_counter()
        generate_dump(path, xml_bytes=size_mb * 10**6, seed=seed, progress=True)
        print(f"  generated in {time.perf_counter() - started:.0f} s", flush=True)
    return path


def ensure_real_dump(copies: int) -> Path:
    """The bundled real fragment tiled ``copies`` times (cached): real wikitext costs a
    parser more per byte than generated text."""
    path = ROOT / "artifacts" / "bench" / f"real-x{copies}-pages-articles-multistream.xml.bz2"
    if not path.exists():
        print(f"tiling {FRAGMENT.name} x {copies} into {path.name} (once; cached) ...", flush=True)
        work = path.parent / f".tiling-x{copies}"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        subprocess.run(
            [sys.executable, str(TILER), str(FRAGMENT), str(work / path.name), str(copies)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        index = path.name.replace(".xml.bz2", "-index.txt.bz2")
        os.replace(work / index, path.parent / index)
        os.replace(work / path.name, path)  # last: the dump is whole or absent
        work.rmdir()
    return path


def python_chunk(chunk: Chunk) -> int:
    return sum(len(block) for block, _ in _bz2_blocks(chunk, [], multistream=True))


def indexed_chunk(chunk: Chunk) -> int:
    return sum(len(block) for block, _ in _indexed_bzip2_blocks(chunk, []))


def sevenzip_chunk(chunk: Chunk) -> int:
    return sum(len(block) for block, _ in _sevenzip_blocks(chunk, []))


def run_decompress(chunks: list[Chunk], workers: int, decode) -> tuple[float, int]:
    started = time.perf_counter()
    with ProcessPoolExecutor(workers) as pool:
        total = sum(pool.map(decode, chunks))
    return time.perf_counter() - started, total


def run_threads(path: Path, threads: int) -> float:
    """The whole file through one ``IndexedBzip2File`` decoding on ``threads`` threads."""
    started = time.perf_counter()
    with indexed_bzip2.open(str(path), parallelization=threads) as f:
        while f.read(4 << 20):
            pass
    return time.perf_counter() - started


def run_bzip2(path: Path, chunks: list[Chunk], workers: int) -> float:
    """One ``bzip2 -dc`` per worker, each fed a contiguous run of whole streams."""
    share = -(-len(chunks) // workers)
    size = path.stat().st_size
    with open(path, "rb") as f:  # chunks are byte ranges: move each cut to a stream start
        cuts = [_first_stream_at_or_after(f, c.start, size) for c in chunks[::share]]
    cuts = [size if cut is None else cut for cut in cuts]
    ranges = list(zip(cuts, [*cuts[1:], size], strict=True))

    def feed(proc: subprocess.Popen, start: int, end: int) -> None:
        with open(path, "rb") as f:
            f.seek(start)
            left = end - start
            while left > 0:
                block = f.read(min(1 << 20, left))
                proc.stdin.write(block)
                left -= len(block)
        proc.stdin.close()

    started = time.perf_counter()
    procs, threads = [], []
    for start, end in ranges:
        proc = subprocess.Popen(["bzip2", "-dc"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
        thread = threading.Thread(target=feed, args=(proc, start, end))
        thread.start()
        procs.append(proc)
        threads.append(thread)
    for thread, proc in zip(threads, procs, strict=True):
        thread.join()
        proc.wait()
    return time.perf_counter() - started


def parse_command(path: Path, out: Path, workers: int, inlinks: bool) -> list[str]:
    command = [sys.executable, "-m", "wikirec.cli", "parse", str(path), "--out", str(out)]
    command += ["--workers", str(workers), "--quiet"]
    return command if inlinks else [*command, "--no-inlinks"]


def run_parse(
    path: Path, out: Path, workers: int, inlinks: bool, decoder: str | None = None
) -> tuple[float, dict, float]:
    """Seconds, counts and peak RSS in MB of its largest process (through bench_e2e's
    launcher, so that this process's own size does not count)."""
    shutil.rmtree(out, ignore_errors=True)
    rss_file = out.with_suffix(".maxrss")
    env = dict(os.environ)
    env.pop(DECODER_ENV, None)
    if decoder is not None:
        env[DECODER_ENV] = decoder
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-S", "-c", LAUNCHER, str(rss_file)]
        + parse_command(path, out, workers, inlinks),
        check=True,
        stdout=subprocess.DEVNULL,
        cwd=ROOT,
        env=env,
    )
    seconds = time.perf_counter() - started
    counts = json.loads((out / "parse.json").read_text())["counts"]
    return seconds, counts, int(rss_file.read_text()) / 1024


class ReferenceHandler(xml.sax.handler.ContentHandler):
    """The tutorial's handler: buffer title/text/timestamp, parse every page."""

    def __init__(self) -> None:
        super().__init__()
        self._buffer: list[str] = []
        self._values: dict[str, str] = {}
        self._current_tag: str | None = None
        self.books: list[tuple] = []
        self.pages = 0

    def characters(self, content: str) -> None:
        if self._current_tag:
            self._buffer.append(content)

    def startElement(self, name, attrs) -> None:  # noqa: N802 (SAX API)
        if name in ("title", "text", "timestamp"):
            self._current_tag = name
            self._buffer = []

    def endElement(self, name) -> None:  # noqa: N802
        if name == self._current_tag:
            self._values[name] = " ".join(self._buffer)
            self._current_tag = None
        if name == "page":
            self.pages += 1
            book = reference_process_article(**self._values)
            if book:
                self.books.append(book)


def reference_process_article(
    title: str, text: str = "", timestamp: str = "", template: str = "Infobox book"
):
    import mwparserfromhell

    wikicode = mwparserfromhell.parse(text)
    matches = wikicode.filter_templates(matches=template)
    if len(matches) >= 1:
        properties = {
            param.name.strip_code().strip(): param.value.strip_code().strip()
            for param in matches[0].params
            if param.value.strip_code().strip()
        }
        wikilinks = [x.title.strip_code().strip() for x in wikicode.filter_wikilinks()]
        exlinks = [x.url.strip_code().strip() for x in wikicode.filter_external_links()]
        text_length = len(wikicode.strip_code().strip())
        return (title, properties, wikilinks, exlinks, timestamp, text_length)
    return None


def run_reference(path: Path, limit_mb: float) -> tuple[float, int, int]:
    """The reference recipe on the first ``limit_mb`` MB of XML: returns seconds, bytes,
    books found."""
    handler = ReferenceHandler()
    parser = xml.sax.make_parser()
    parser.setContentHandler(handler)
    limit = int(limit_mb * 1e6)
    fed = 0
    started = time.perf_counter()
    with bz2.open(path, "rb") as f:  # the reference piped bzcat; same decompressor here
        for line in f:
            parser.feed(line)
            fed += len(line)
            if fed >= limit:
                break
    return time.perf_counter() - started, fed, len(handler.books)


ANCHOR = "python bz2"
PARSE = "wikirec parse"
SEVENZIP = "7-Zip (7zz), one process at a time per worker"
ROWS = (
    ANCHOR,
    SEVENZIP,
    "indexed_bzip2",
    "indexed_bzip2, 2 threads, 1 process",
    "bzip2 -dc",
    PARSE,
    "wikirec parse --no-inlinks",
    "wikirec parse, indexed_bzip2",
    "wikirec parse, Python bz2",
)
SHORT = {"7zip": ROWS[1], "indexed": ROWS[2], "threads": ROWS[3], "bzip2": ROWS[4],
         "no-inlinks": ROWS[6], "parse-indexed": ROWS[7], "fallback": ROWS[8]}  # fmt: skip
FORCED = {SHORT["parse-indexed"]: "indexed_bzip2", SHORT["fallback"]: "python"}


def cpu_seconds() -> float:
    """User + system CPU of this process and of every child reaped so far (the pool's
    workers, the parse's processes through the launcher, bzip2)."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def measure(path: Path, args: argparse.Namespace) -> dict:
    """Best seconds of each row over the rounds, and what the parses found."""
    chunks = plan_chunks(path)
    print(
        f"dump: {path.name}, {path.stat().st_size / 1e6:.0f} MB compressed, {len(chunks)} "
        f"chunks, {args.workers} workers",
        flush=True,
    )
    out = ROOT / "artifacts" / "bench" / "parse-out"
    skip = {SHORT[name] for name in args.skip}
    if sevenzip_program() is None:
        print("7-Zip (7zz) is not on the PATH: its row is left out", flush=True)
        skip.add(SEVENZIP)
    rows = [row for row in ROWS if row not in skip]
    best: dict[str, float] = {}
    cpu: dict[str, float] = {}
    result: dict = {"rss_mb": {}}

    def run(row: str) -> float:
        if row == ANCHOR:
            seconds, result["xml_bytes"] = run_decompress(chunks, args.workers, python_chunk)
        elif row == SHORT["indexed"]:
            seconds, result["indexed_bytes"] = run_decompress(chunks, args.workers, indexed_chunk)
        elif row == SEVENZIP:
            seconds, result["sevenzip_bytes"] = run_decompress(chunks, args.workers, sevenzip_chunk)
        elif row == SHORT["threads"]:
            seconds = run_threads(path, args.workers)
        elif row == SHORT["bzip2"]:
            seconds = run_bzip2(path, chunks, args.workers)
        else:
            inlinks = row != SHORT["no-inlinks"]
            seconds, counts, rss_mb = run_parse(
                path, out, args.workers, inlinks, decoder=FORCED.get(row)
            )
            result["rss_mb"][row] = max(result["rss_mb"].get(row, 0.0), rss_mb)
            if row == PARSE:
                result["counts"] = counts
        return seconds

    for round_ in range(1, args.rounds + 1):
        # Alternate the order, so that drift of the machine falls on every row alike.
        for row in rows if round_ % 2 else rows[::-1]:
            before = cpu_seconds()
            best[row] = min(best.get(row, 1e9), run(row))
            cpu[row] = min(cpu.get(row, 1e9), cpu_seconds() - before)
        rates = (f"{k} {result['xml_bytes'] / 1e6 / v:.1f} MB/s" for k, v in best.items())
        print(f"round {round_}: " + ", ".join(rates), flush=True)
    for decoded in ("indexed_bytes", "sevenzip_bytes"):
        assert result.get(decoded, result["xml_bytes"]) == result["xml_bytes"]
    shutil.rmtree(out, ignore_errors=True)
    command = parse_command(path, out, args.workers, inlinks=True)
    result["tree_mb"] = run_stage("parse", command, out.with_suffix(".log"))["tree_mb"]
    result["best"] = {row: best[row] for row in rows}
    result["cpu"] = {row: cpu[row] for row in rows}
    result["reference"] = run_reference(path, args.reference_mb)
    return result


def report(path: Path, result: dict, workers: int) -> None:
    best, xml_bytes = result["best"], result["xml_bytes"]
    anchor = xml_bytes / 1e6 / best[ANCHOR]
    print()
    print(f"{path.name}: {xml_bytes / 1e6:,.0f} MB of XML, {workers} workers")
    cpu = result["cpu"]
    # A shared machine's load drifts: CPU seconds (all processes) are the steadier measure.
    print(f"{'method':<44}{'MB/s of XML':>12}{'vs python bz2':>15}{'MB/CPU-s':>10}{'vs':>7}")
    for name, seconds in best.items():
        rate = xml_bytes / 1e6 / seconds
        per_cpu = xml_bytes / 1e6 / cpu[name]
        anchor_cpu = xml_bytes / 1e6 / cpu[ANCHOR]
        print(
            f"{name:<44}{rate:>12.1f}{rate / anchor:>15.3f}{per_cpu:>10.1f}"
            f"{per_cpu / anchor_cpu:>7.3f}"
        )
    ref_seconds, ref_bytes, ref_books = result["reference"]
    ref_rate = ref_bytes / 1e6 / ref_seconds
    print(f"{'reference recipe (1 core)':<44}{ref_rate:>12.2f}{ref_rate / anchor:>15.3f}")
    ratio = best[ANCHOR] / best[PARSE]
    print(
        f"parse (in-links included) / python bz2: {ratio:.3f} (target >= 1.1 on real pages); "
        f"in CPU seconds: {cpu[ANCHOR] / cpu[PARSE]:.3f}"
    )
    decoder = bz2_decoder()
    alone = {"7zip": SEVENZIP, "indexed_bzip2": SHORT["indexed"]}.get(decoder)
    if alone in best:
        print(f"parse / its decoder ({decoder}) alone: {best[alone] / best[PARSE]:.3f}")
    if SHORT["no-inlinks"] in best:
        cost = best[PARSE] / best[SHORT["no-inlinks"]] - 1
        print(f"in-links cost {cost:.1%} of the parse's time")
    for row in FORCED:
        if row in best:
            print(f"parse with {decoder} / {row}: {best[row] / best[PARSE]:.3f}x")
    speedup = ratio * anchor / (ref_rate * workers)
    print(f"parse vs reference recipe x {workers} cores (ideal): {speedup:.0f}x")
    counts = result["counts"]
    print(
        f"pages {counts['pages']:,}, kept {counts['kept']:,}, redirects {counts['redirects']:,}, "
        f"skipped {counts['skipped']:,}, in-links {counts['inlinks']:,} of "
        f"{counts['link_pairs']:,} page links; reference found {ref_books} books in its "
        f"{ref_bytes / 1e6:.0f} MB slice"
    )
    rss = ", ".join(f"{name} {mb:.0f} MB" for name, mb in result["rss_mb"].items())
    print(
        f"peak RSS of the largest parse process: {rss}; of the whole process tree "
        f"(sampled, with in-links): {result['tree_mb']:.0f} MB (target < 1024 MB)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=600, help="MB of XML in the dump")
    parser.add_argument(
        "--real",
        type=int,
        metavar="COPIES",
        help="also a dump of real pages: the bundled fragment tiled COPIES times (140: 840 MB "
        "of XML), by ../shared/tools/tile_real_dump.py",
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--reference-mb", type=float, default=20.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--skip",
        nargs="*",
        default=[],
        choices=sorted(SHORT),
        help="rows left out: 7zip (7-Zip alone), indexed (indexed_bzip2 alone), threads "
        "(indexed_bzip2 on 2 threads), bzip2 (bzip2 -dc), no-inlinks, parse-indexed and "
        "fallback (the parse on indexed_bzip2, on Python's bz2)",
    )
    parser.add_argument(
        "--dump", help="measure this multistream dump instead (e.g. bench_e2e.py's at --scale 1)"
    )
    args = parser.parse_args()
    if args.real is not None and not TILER.is_file():
        sys.exit(f"bench_parse.py: --real needs {TILER} (the shared tools), which is missing")

    dumps = [Path(args.dump) if args.dump else ensure_dump(args.size_mb, args.seed)]
    if args.real is not None:
        dumps.append(ensure_real_dump(args.real))
    results = [(path, measure(path, args)) for path in dumps]
    for path, result in results:
        report(path, result, args.workers)


if __name__ == "__main__":
    main()
