"""``wikirec serve MODEL_DIR [--host 127.0.0.1] [--port 8000]``.

This module is what the ``wikirec`` command imports to list ``serve``: it imports the
model, Starlette and uvicorn only once ``serve`` runs.
"""

from __future__ import annotations

import argparse
import sys

from wikirec.cli import fail

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def add_command(subparsers) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="a local web app over a trained model (search, recommendations, why, map)",
        description="Serve a trained model as a web page and a JSON API under /api/: "
        "search with suggestions, a book's fields, nearest and farthest books with the "
        "pages they share, a list of liked books, the books about a page, and the books "
        "on the 2-D map `wikirec plot` cached (a book's nearest ones highlighted), beside "
        "its interactive HTML map. Read-only; listens on this machine only unless --host "
        "says otherwise.",
    )
    parser.add_argument("model", metavar="MODEL_DIR", help="output folder of wikirec train")
    parser.add_argument(
        "--host", default=DEFAULT_HOST,
        help=f"address to listen on ({DEFAULT_HOST}: this machine only; 0.0.0.0: every "
        "interface, with a warning)",
    )  # fmt: skip
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"({DEFAULT_PORT}; 0: any free port)"
    )
    parser.add_argument("--redirects", metavar="FILE", help="redirects.parquet (default: found)")
    parser.add_argument("--log", action="store_true", help="print a line per request")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if not 0 <= args.port <= 65535:
        return fail("serve", f"--port must be between 0 and 65535, not {args.port}")
    from wikirec.serve.app import create_app
    from wikirec.serve.server import allowed_hosts, bind, host_warning, serve, url_of
    from wikirec.serve.service import ModelService

    service = ModelService.load(args.model, redirects=args.redirects)
    try:
        sock = bind(args.host, args.port)
    except OSError as exc:
        reason = exc.strerror or exc
        return fail("serve", f"cannot listen on {args.host}:{args.port} ({reason})")
    warning = host_warning(args.host)
    if warning:
        print(warning, file=sys.stderr)
    info = service.info()
    print(f"wikirec serve: {url_of(sock)}  ({info['model']}: {info['books']:,} books, "
          f"{info['pages']:,} pages; Ctrl+C to stop)", flush=True)  # fmt: skip
    try:
        serve(create_app(service, allowed_hosts(args.host)), sock, access_log=args.log)
    except KeyboardInterrupt:  # uvicorn shuts down first, then re-raises the signal
        pass
    finally:
        sock.close()
    return 0
