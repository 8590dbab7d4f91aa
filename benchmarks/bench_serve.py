"""``wikirec serve`` under load: ``/api/similar`` over HTTP against the Recommender called
directly, side by side in one run, at the reference's size.

    python benchmarks/bench_serve.py [--books 37020] [--links 40892] [--dim 50]
                                     [--requests 2000] [--clients 1,4] [--max-seconds 60]
                                     [--no-blas-limit]

Random unit vectors stand in for trained ones (the cost does not depend on the values),
37,020 books and 40,892 pages of 50 dimensions by default: the reference project's
books and the links of its shape (benchmarks/README.md). The server runs in a process
of its own on 127.0.0.1 (a free port), as ``wikirec serve`` does: uvicorn, one
process, the app of :mod:`wikirec.serve.app`. The client, in this process, sends
``GET /api/similar?title=T&k=10`` for seeded random book titles over keep-alive
connections (``http.client``), one connection per client thread. BLAS runs on one
thread in both processes, as ``wikirec serve`` runs it. Measured, each on the same
titles:

- ``Recommender.most_similar(title, topn=10)`` called directly (the anchor);
- ``ModelService.similar`` and its JSON encoding, in this process (what a request
  costs before HTTP);
- ``/api/similar`` with 1 client, then with each ``--clients`` count at once.

Each is requests (calls) per second and p50 / p99 latency, and the ratio of its rate
to the direct call's. Every loop stops at ``--requests`` or ``--max-seconds``,
whichever comes first; the traffic goes to 127.0.0.1 only. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import numpy as np
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from wikirec.recommend import Recommender  # noqa: E402
from wikirec.serve.service import ModelService  # noqa: E402

WARMUP = 50  # requests (calls) before each clock starts


def make_recommender(n_books: int, n_links: int, dim: int, seed: int = 0) -> Recommender:
    """Seeded random vectors and plain titles: the same model in every process."""
    rng = np.random.default_rng(seed)
    books = rng.standard_normal((n_books, dim), dtype=np.float32)
    links = rng.standard_normal((n_links, dim), dtype=np.float32)
    return Recommender([f"Book number {i}" for i in range(n_books)], books,
                       [f"page number {i}" for i in range(n_links)], links)  # fmt: skip


def run_server(n_books: int, n_links: int, dim: int, ready, blas_limit: bool = True) -> None:
    """The server process: the app over the seeded model, on a free loopback port, as
    ``wikirec serve`` runs it (``blas_limit=False``: without its one BLAS thread)."""
    from wikirec.serve.app import create_app
    from wikirec.serve.server import allowed_hosts, bind, make_server, serve, url_of

    service = ModelService(make_recommender(n_books, n_links, dim))
    sock = bind("127.0.0.1", 0)
    ready.put(url_of(sock))
    app = create_app(service, allowed_hosts("127.0.0.1"))
    if blas_limit:
        serve(app, sock)
    else:
        make_server(app).run(sockets=[sock])


def timed(call, arguments: list, deadline: float) -> np.ndarray:
    """Seconds of each ``call(argument)``, stopping early at ``deadline``."""
    times = []
    for argument in arguments:
        started = time.perf_counter()
        call(argument)
        times.append(time.perf_counter() - started)
        if started > deadline:
            break
    return np.asarray(times)


def over_http(host: str, port: int, paths: list[str], clients: int, max_seconds: float):
    """``(seconds per request, wall seconds)`` of ``paths`` shared among ``clients``
    threads, each on its own keep-alive connection."""
    shares = [paths[i::clients] for i in range(clients)]
    results: list[np.ndarray] = [np.empty(0)] * clients
    failures: list[str] = []
    warm = threading.Barrier(clients + 1)  # every client warmed up before the clock starts

    def client(i: int) -> None:
        connection = http.client.HTTPConnection(host, port, timeout=60)

        def get(path: str) -> None:
            connection.request("GET", path)
            response = connection.getresponse()
            body = response.read()
            if response.status != 200:
                failures.append(f"{response.status} {body[:200]!r}")

        for path in shares[i][: max(1, WARMUP // clients)]:
            get(path)
        warm.wait()
        results[i] = timed(get, shares[i][WARMUP // clients :], time.perf_counter() + max_seconds)
        connection.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    warm.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    if failures:
        raise SystemExit(f"bench_serve: {len(failures)} requests failed, e.g. {failures[0]}")
    return np.concatenate(results), wall


def row(name: str, times: np.ndarray, rate: float, anchor: float | None) -> str:
    p50, p99 = np.percentile(times, [50, 99]) * 1e3
    ratio = f"{rate / anchor:.3f}" if anchor else "1.000"
    return f"| {name} | {len(times):,} | {rate:,.0f} | {p50:.2f} / {p99:.2f} ms | {ratio} |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--books", type=int, default=37_020)
    parser.add_argument("--links", type=int, default=40_892)
    parser.add_argument("--dim", type=int, default=50)
    parser.add_argument("--requests", type=int, default=2000, help="per measurement (2000)")
    parser.add_argument("--clients", default="1,4", help="concurrent clients, e.g. 1,4")
    parser.add_argument("--max-seconds", type=float, default=60.0, help="per measurement")
    parser.add_argument("--no-blas-limit", action="store_true",
                        help="the server without wikirec serve's one BLAS thread")  # fmt: skip
    args = parser.parse_args()
    clients = [int(c) for c in args.clients.split(",")]

    context = multiprocessing.get_context("spawn")
    ready = context.Queue()
    server = context.Process(
        target=run_server,
        args=(args.books, args.links, args.dim, ready, not args.no_blas_limit),
        daemon=True,
    )
    server.start()
    # The direct calls run with one BLAS thread, as the server's requests do
    # (wikirec.serve.server.serve): the comparison is of the serving, not of BLAS.
    limits = threadpool_limits(limits=1, user_api="blas")
    rec = make_recommender(args.books, args.links, args.dim)
    service = ModelService(rec)
    rng = np.random.default_rng(1)
    n = WARMUP + args.requests
    titles = [rec.titles["books"].titles[i] for i in rng.integers(0, args.books, n)]
    paths = ["/api/similar?" + urlencode({"title": t, "k": 10}) for t in titles]
    url = ready.get(timeout=120)
    host, port = url.split("//")[1].strip("/").rsplit(":", 1)
    try:
        print(f"{args.books:,} books x {args.dim} dimensions ({args.links:,} pages), "
              f"{args.requests:,} requests each, server {url}")  # fmt: skip
        print("\n| what | requests | per second | p50 / p99 | vs direct |")
        print("|---|---:|---:|---:|---:|")
        deadline = time.perf_counter() + args.max_seconds
        for title in titles[:WARMUP]:
            rec.most_similar(title, topn=10)
        direct = timed(lambda t: rec.most_similar(t, topn=10), titles[WARMUP:], deadline)
        anchor = len(direct) / direct.sum()
        print(row("`Recommender.most_similar` (direct)", direct, anchor, None))
        deadline = time.perf_counter() + args.max_seconds
        encoded = timed(lambda t: json.dumps(service.similar(t, 10)).encode(), titles[WARMUP:],
                        deadline)  # fmt: skip
        rate = len(encoded) / encoded.sum()
        print(row("`ModelService.similar` + JSON (in process)", encoded, rate, anchor))
        for count in clients:
            times, wall = over_http(host, int(port), paths, count, args.max_seconds)
            label = f"`/api/similar`, {count} client{'s' if count > 1 else ''} (HTTP)"
            print(row(label, times, len(times) / wall, anchor))
    finally:
        server.terminate()
        server.join(30)
        limits.restore_original_limits()
    return 0


if __name__ == "__main__":
    sys.exit(main())
