"""Parse speed against its anchor: decompression alone, with the same workers, same file.

    python benchmarks/bench_parse.py [--size-mb 600] [--workers 2] [--rounds 2]

Generates (once, cached under artifacts/bench/) a deterministic synthetic multistream
dump with its index, then measures side by side in one run, alternating rounds:

- decompress: the same bz2 decompressor over the same chunks in the same process
  pool, doing nothing with the XML (the speed limit);
- bzip2 -dc: the bzip2 program, one process per worker, each on its share of streams;
- wikirec parse: the full stage, writing its tables;
- reference: the tutorial's recipe (xml.sax fed line by line from bzcat, every page
  through mwparserfromhell) on the first --reference-mb of the same dump, one core.

Prints MB of XML per second for each, the ratio parse / decompress (target >= 0.85),
and the peak RSS of the largest parse process (target < 1 GB).
"""

from __future__ import annotations

import argparse
import bz2
import json
import resource
import shutil
import subprocess
import sys
import threading
import time
import xml.sax
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from wikirec.dump import Chunk, _bz2_blocks, _first_stream_at_or_after, plan_chunks
from wikirec.synth import generate_dump

ROOT = Path(__file__).resolve().parents[1]


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


def decompress_chunk(chunk: Chunk) -> int:
    return sum(len(block) for block, _ in _bz2_blocks(chunk, [], multistream=True))


def run_decompress(chunks: list[Chunk], workers: int) -> tuple[float, int]:
    started = time.perf_counter()
    with ProcessPoolExecutor(workers) as pool:
        total = sum(pool.map(decompress_chunk, chunks))
    return time.perf_counter() - started, total


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


def run_parse(path: Path, out: Path, workers: int) -> tuple[float, dict]:
    shutil.rmtree(out, ignore_errors=True)
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "wikirec.cli",
            "parse",
            str(path),
            "--out",
            str(out),
            "--workers",
            str(workers),
            "--quiet",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
        cwd=ROOT,
    )
    seconds = time.perf_counter() - started
    return seconds, json.loads((out / "parse.json").read_text())["counts"]


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=600, help="MB of XML in the dump")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--reference-mb", type=float, default=20.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--dump", help="measure this multistream dump instead (e.g. bench_e2e.py's at --scale 1)"
    )
    args = parser.parse_args()

    path = Path(args.dump) if args.dump else ensure_dump(args.size_mb, args.seed)
    chunks = plan_chunks(path)
    compressed = path.stat().st_size
    print(
        f"dump: {path.name}, {compressed / 1e6:.0f} MB compressed, {len(chunks)} chunks, "
        f"{args.workers} workers"
    )
    out = ROOT / "artifacts" / "bench" / "parse-out"
    best: dict[str, float] = {}
    xml_bytes = 0
    for round_ in range(1, args.rounds + 1):
        seconds, xml_bytes = run_decompress(chunks, args.workers)
        best["decompress"] = min(best.get("decompress", 1e9), seconds)
        seconds = run_bzip2(path, chunks, args.workers)
        best["bzip2 -dc"] = min(best.get("bzip2 -dc", 1e9), seconds)
        seconds, counts = run_parse(path, out, args.workers)
        best["wikirec parse"] = min(best.get("wikirec parse", 1e9), seconds)
        print(
            f"round {round_}: "
            + ", ".join(f"{k} {xml_bytes / 1e6 / v:.1f} MB/s" for k, v in best.items()),
            flush=True,
        )
    peak_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    ref_seconds, ref_bytes, ref_books = run_reference(path, args.reference_mb)
    ref_rate = ref_bytes / 1e6 / ref_seconds

    print()
    print(f"{'method':<34}{'MB/s of XML':>12}{'vs decompress':>15}")
    for name, seconds in best.items():
        rate = xml_bytes / 1e6 / seconds
        print(
            f"{name + f' ({args.workers} workers)':<34}{rate:>12.1f}"
            f"{rate / (xml_bytes / 1e6 / best['decompress']):>15.2f}"
        )
    decompress_rate = xml_bytes / 1e6 / best["decompress"]
    print(f"{'reference recipe (1 core)':<34}{ref_rate:>12.2f}{ref_rate / decompress_rate:>15.3f}")
    print(
        f"{f'reference x {args.workers} cores (ideal)':<34}{ref_rate * args.workers:>12.2f}"
        f"{ref_rate * args.workers / decompress_rate:>15.3f}"
    )
    ratio = best["decompress"] / best["wikirec parse"]
    print()
    print(f"parse / decompress ratio: {ratio:.3f} (target >= 0.85)")
    speedup = ratio * decompress_rate / (ref_rate * args.workers)
    print(f"parse vs reference recipe, same cores: {speedup:.0f}x")
    print(
        f"pages {counts['pages']:,}, kept {counts['kept']:,}, redirects {counts['redirects']:,}, "
        f"skipped {counts['skipped']:,}; reference found {ref_books} books in its "
        f"{ref_bytes / 1e6:.0f} MB slice"
    )
    print(f"peak RSS of the largest child process: {peak_rss:.0f} MB (target < 1024 MB)")


if __name__ == "__main__":
    main()
