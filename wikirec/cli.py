"""The ``wikirec`` command: one subcommand per pipeline stage.

Each stage module registers its own subcommand with ``add_command(subparsers)`` and
keeps heavy imports (TensorFlow) inside its handlers, so ``wikirec parse`` starts fast.
A handler returns the exit code; input it cannot use it raises as a
:class:`~wikirec.errors.WikirecError`, which :func:`main` prints as one line
(:func:`fail`).
"""

from __future__ import annotations

import argparse
import importlib
import sys

from wikirec import __version__
from wikirec.errors import WikirecError

# Subcommand -> the module that registers it, in the order ``wikirec --help`` lists them.
# Only the module of the command being run is imported: pandas, scikit-learn and the
# plotting libraries cost seconds of start-up that ``wikirec parse`` should not pay.
COMMANDS = {
    "generate": "synth",
    "parse": "parse",
    "build": "build",
    "train": "train",
    "recommend": "recommend",
    "evaluate": "evaluate",
    "classify": "classify",
    "plot": "plot",
    "export": "export",
    "serve": "serve.cli",
    "run": "pipeline",
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser: every subcommand, or only ``command``'s when it is known."""
    parser = argparse.ArgumentParser(
        prog="wikirec",
        description="Turn a Wikipedia dump into entity embeddings and recommendations.",
    )
    parser.add_argument("--version", action="version", version=f"wikirec {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    names = [command] if command in COMMANDS else list(COMMANDS)
    for name in names:
        importlib.import_module(f"wikirec.{COMMANDS[name]}").add_command(subparsers)
    return parser


def fail(command: str, message: object, code: int = 2) -> int:
    """Print ``wikirec COMMAND: MESSAGE`` on stderr and return ``code``, the exit code
    (2: the input cannot be used)."""
    print(f"wikirec {command}: {message}", file=sys.stderr)
    return code


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    command = argv[0] if argv else None
    args = build_parser(command).parse_args(argv)
    try:
        return args.handler(args)
    except WikirecError as exc:
        return fail(args.command, exc)
    except KeyboardInterrupt:
        return fail(args.command, "interrupted; rerun to resume", code=130)


if __name__ == "__main__":
    sys.exit(main())
