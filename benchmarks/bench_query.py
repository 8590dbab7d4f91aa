"""Query speed of :class:`wikirec.recommend.Recommender`, at 40 thousand and 1 million items.

    python benchmarks/bench_query.py [--sizes 40000,1000000] [--dims 50,200] [--queries 2000]

Random unit vectors stand in for trained ones (the cost does not depend on the values),
with as many links as books up to 40,000. For each size and dimension it measures:

- single queries through the public API (title lookup, matrix-vector product, partial
  sort, titles out), one at a time after a warm-up, as percentiles p50 / p99 of
  wall time: ``most_similar(book, topn=10)``; the same with ``least=True``; a mixed
  query of two books, a page and a negative book; ``books_about(page)``;
  ``links_for(book)`` as the default model ranks pages (its score and its 20 nearest
  books' vote, :mod:`wikirec.scoring`; each book meets 20 random pages) and, the
  anchor, by the model's score alone, with the ratio of their medians;
- all-items top-10 (every book's 10 nearest books, itself excluded) with
  :func:`wikirec.nearest.cosine_top_k`: blocks of queries x all items under a
  128 MB budget (never an n x n matrix); queries per second over a sample of
  ``--all-sample`` queries, and the time that means for all n;
- an unknown title's suggestions (difflib over all titles), the slow path, timed once.

Numbers go to stdout; nothing here is asserted.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from wikirec.nearest import SCORE_BUDGET, cosine_top_k  # noqa: E402
from wikirec.recommend import Book, BookLinks, Link, Recommender, UnknownTitleError  # noqa: E402
from wikirec.scoring import LinkScorer  # noqa: E402

PAGES_PER_BOOK = 20


def make_recommender(n_books: int, dim: int, seed: int = 0) -> Recommender:
    rng = np.random.default_rng(seed)
    n_links = min(n_books, 40_000)
    books = rng.standard_normal((n_books, dim), dtype=np.float32)
    links = rng.standard_normal((n_links, dim), dtype=np.float32)
    book_titles = [f"Book number {i}" for i in range(n_books)]
    link_titles = [f"page number {i}" for i in range(n_links)]
    pairs = np.stack([np.repeat(np.arange(n_books), PAGES_PER_BOOK),
                      rng.integers(0, n_links, n_books * PAGES_PER_BOOK)], axis=1)  # fmt: skip
    return Recommender(
        book_titles, books, link_titles, links, scale=5.0,
        link_bias=rng.standard_normal(n_links, dtype=np.float32),
        book_links=BookLinks(pairs, None, n_books, n_links), neighbour_weight=0.25,
    )  # fmt: skip


def latency(call, arguments: list, warmup: int = 50) -> tuple[float, float]:
    """p50 and p99 in microseconds of ``call(argument)`` over the arguments."""
    for argument in arguments[:warmup]:
        call(argument)
    times = np.empty(len(arguments))
    for i, argument in enumerate(arguments):
        started = time.perf_counter_ns()
        call(argument)
        times[i] = time.perf_counter_ns() - started
    return float(np.percentile(times, 50) / 1e3), float(np.percentile(times, 99) / 1e3)


def single_queries(rec: Recommender, n_queries: int, seed: int = 1) -> dict[str, tuple]:
    rng = np.random.default_rng(seed)
    books = rec.titles["books"].titles
    links = rec.titles["links"].titles
    picks = [books[i] for i in rng.integers(0, len(books), n_queries)]
    pages = [links[i] for i in rng.integers(0, len(links), n_queries)]
    mixed = list(zip(picks, picks[1:] + picks[:1], pages, picks[2:] + picks[:2], strict=True))
    return {
        "most_similar(book)": latency(lambda t: rec.most_similar(t, topn=10), picks),
        "most_similar(book, least)": latency(
            lambda t: rec.most_similar(t, topn=10, least=True), picks
        ),
        "2 books + page - book": latency(
            lambda q: rec.most_similar([Book(q[0]), Book(q[1]), Link(q[2])], [Book(q[3])]),
            mixed,
        ),
        "books_about(page)": latency(lambda p: rec.books_about(p, topn=10), pages),
        "links_for(book)": latency(lambda t: rec.links_for(t, topn=10), picks),
        "links_for, score alone": score_alone(rec, picks),
    }


def score_alone(rec: Recommender, picks: list[str]) -> tuple[float, float]:
    """``links_for`` ranked by the model's score alone (the anchor of the vote's cost)."""
    voting = rec.scorer
    rec.scorer = LinkScorer(rec.vectors["links"], rec.link_bias, rec.scale)
    try:
        return latency(lambda t: rec.links_for(t, topn=10), picks)
    finally:
        rec.scorer = voting


def all_items(rec: Recommender, sample: int) -> tuple[float, float]:
    """Queries per second of every-book top-10 (on ``sample`` queries), and the
    seconds it means for all books."""
    vectors = rec.vectors["books"]
    n = len(vectors)
    queries = vectors[: min(sample, n)]
    started = time.perf_counter()
    cosine_top_k(queries, vectors, k=10, exclude_self=True)
    seconds = time.perf_counter() - started
    rate = len(queries) / seconds
    return rate, n / rate


def suggestion_seconds(rec: Recommender) -> float:
    started = time.perf_counter()
    try:
        rec.most_similar("Book numbr 12345")
    except UnknownTitleError:
        pass
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="40000,1000000")
    parser.add_argument("--dims", default="50,200")
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--all-sample", type=int, default=20_000)
    args = parser.parse_args()
    print(f"score block budget: {SCORE_BUDGET:,} floats ({SCORE_BUDGET * 4 / 2**20:.0f} MB)")
    for n in (int(s) for s in args.sizes.split(",")):
        for dim in (int(d) for d in args.dims.split(",")):
            rec = make_recommender(n, dim)
            print(f"\n{n:,} books x {dim} dimensions ({len(rec.titles['links']):,} links)")
            timings = single_queries(rec, args.queries)
            for name, (p50, p99) in timings.items():
                print(f"  {name:28s} p50 {p50:8.0f} us   p99 {p99:8.0f} us")
            ratio = timings["links_for(book)"][0] / timings["links_for, score alone"][0]
            print(f"  links_for with the vote / score alone: {ratio:.2f} (p50)")
            rate, total = all_items(rec, args.all_sample)
            print(f"  all-items top-10: {rate:,.0f} queries/s; all {n:,}: {total:,.1f} s")
            print(f"  unknown title, suggestions: {suggestion_seconds(rec):.2f} s")
            del rec
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak RSS {peak:,.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
