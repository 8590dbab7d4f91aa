"""What one enormous page with no end costs the dump reader, against normal pages of
the same total size (the anchor), measured side by side.

    python benchmarks/bench_huge_page.py [--mb 16 64 256] [--rounds 3]

The page splitter (``wikirec.dump._split_pages``) gets the bytes in 64 KB blocks, as
the decompressors hand them over. The anchor is the real "Animal Farm" page of the
bundled enwiki fragment repeated to the size; the hostile input is one page whose text
never ends (a truncated dump, or a page made to stall the parse), of the same size.
A linear splitter keeps the ratio flat as the size grows; the old one, which searched
the whole page again at each block, grew with the size. Best of ``--rounds``.
"""

from __future__ import annotations

import argparse
import time

from bench_hostile import page_titled, real_pages

from wikirec.dump import Chunk, _split_pages

BLOCK = 1 << 16


def split_seconds(data: bytes, rounds: int) -> tuple[float, int]:
    """The best time to split ``data`` given in 64 KB blocks, and the pages it gave."""
    chunk = Chunk("bench.xml", "xml", 0, len(data), 0)
    best, count = float("inf"), 0
    for _ in range(rounds):
        blocks = ((data[i : i + BLOCK], i) for i in range(0, len(data), BLOCK))
        started = time.perf_counter()
        count = sum(1 for _ in _split_pages(blocks, chunk))
        best = min(best, time.perf_counter() - started)
    return best, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=int, nargs="+", default=[16, 64, 256])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    page = page_titled(real_pages(), b"Animal Farm")
    head = b"<page><title>Huge</title><ns>0</ns><id>1</id><revision><text>"
    print(f"{'size':>8}  {'normal pages':>13}  {'one page, no end':>17}  {'ratio':>6}")
    for mb in args.mb:
        size = mb << 20
        normal = b"<mediawiki>" + page * (size // len(page) + 1) + b"</mediawiki>"
        huge = b"<mediawiki>" + head + b"a" * size + b"</mediawiki>"
        anchor, pages = split_seconds(normal, args.rounds)
        hostile, _ = split_seconds(huge, args.rounds)
        print(f"{mb:>5} MB  {anchor:>11.3f} s  {hostile:>15.3f} s  {hostile / anchor:>6.2f}"
              f"   ({pages:,} normal pages)")  # fmt: skip


if __name__ == "__main__":
    main()
