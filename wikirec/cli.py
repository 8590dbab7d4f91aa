"""The ``wikirec`` command: one subcommand per pipeline stage.

Each stage module registers its own subcommand with ``add_command(subparsers)`` and
keeps heavy imports (TensorFlow) inside its handlers, so ``wikirec parse`` starts fast.
"""

from __future__ import annotations

import argparse
import sys

from wikirec import (
    __version__,
    build,
    classify,
    evaluate,
    export,
    parse,
    pipeline,
    plot,
    recommend,
    synth,
    train,
)

STAGES = (synth, parse, build, train, recommend, evaluate, classify, plot, export, pipeline)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wikirec",
        description="Turn a Wikipedia dump into entity embeddings and recommendations.",
    )
    parser.add_argument("--version", action="version", version=f"wikirec {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for stage in STAGES:
        stage.add_command(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except KeyboardInterrupt:
        print(f"wikirec {args.command}: interrupted; rerun to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
