"""The ``wikirec`` command: one subcommand per pipeline stage.

Each stage module registers its own subcommand with ``add_command(subparsers)`` and
keeps heavy imports (TensorFlow) inside its handlers, so ``wikirec parse`` starts fast.
A handler returns the exit code; input it cannot use it raises as a
:class:`~wikirec.errors.WikirecError`, which :func:`main` prints as one line
(:func:`fail`), as it does a file that cannot be read or written (``OSError``). The
numeric options are typed by :func:`positive_int` and its siblings, so a value that
cannot be used (``nan``, ``0``, ``-1``) is refused before any work starts.
"""

from __future__ import annotations

import argparse
import importlib
import math
import os
import sys
from collections.abc import Callable

from wikirec import __version__
from wikirec.errors import WikirecError, one_line

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
    """Print ``wikirec COMMAND: MESSAGE`` on stderr, on a line of its own even while a
    progress bar is drawn there, and return ``code``, the exit code (2: the input
    cannot be used)."""
    from wikirec.progress import write_line

    write_line(f"wikirec {command}: {message}")
    return code


def describe_os_error(exc: OSError) -> str:
    """One line for a file that cannot be used: the file, then the system's reason."""
    # An error that words itself (wikirec.io.CannotWrite) is printed as it says.
    if exc.filename is None or type(exc).__str__ is not OSError.__str__:
        return one_line(exc)
    return f"{exc.filename}: {exc.strerror or type(exc).__name__}"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    command = argv[0] if argv else None
    args = build_parser(command).parse_args(argv)
    try:
        return args.handler(args)
    except BrokenPipeError:  # the reader stopped reading (`| head`): nothing to report
        # Python flushes stdout again at exit: point it at nowhere so that it cannot fail
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except WikirecError as exc:
        return fail(args.command, exc)
    except OSError as exc:  # a file or folder the system refuses: the input cannot be used
        return fail(args.command, describe_os_error(exc))
    except KeyboardInterrupt:
        return fail(args.command, "interrupted; rerun to resume", code=130)


# --------------------------------------------------------------------------- option types
# ``type=`` of the numeric options: argparse refuses a bad value with its usage and one
# line naming the option (exit code 2).


def positive_int(text: str) -> int:
    """A whole number, at least 1."""
    return _int_at_least(text, 1)


def non_negative_int(text: str) -> int:
    """A whole number, at least 0."""
    return _int_at_least(text, 0)


# Upper bounds of options given on the command line or in a pipeline (the training
# options' are recipes.LIMITS): beyond them a value only exhausts memory or time.
MAX_SEED = 2**32 - 1  # NumPy's legacy seeding and Keras's take seeds below 2**32
MAX_SEEDS = 100  # evaluate: runs of each trained method
MAX_HIGHLIGHTS = 1_000  # plot: stars with labels; more hide the map
MAX_INT64 = 2**63 - 1  # page ids, lengths, counts: stored or compared as int64


def at_most(kind: Callable[[str], int | float], high: int | float) -> Callable[[str], int | float]:
    """``kind`` (e.g. :func:`positive_int`) refusing values above ``high`` too: beyond it a
    value would only make NumPy, TensorFlow or a loop exhaust memory or time."""

    def checked(text: str) -> int | float:
        value = kind(text)
        if value > high:
            raise argparse.ArgumentTypeError(f"must be at most {high:,}, not {text}")
        return value

    checked.__name__ = kind.__name__  # argparse names the type in its messages
    return checked


def _int_at_least(text: str, low: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < low:
        raise argparse.ArgumentTypeError(f"must be at least {low}, not {value}")
    return value


def finite_float(text: str) -> float:
    """A number that is neither NaN nor infinite."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, not {text!r}")
    return value


def positive_float(text: str) -> float:
    """A finite number above 0."""
    value = finite_float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, not {text!r}")
    return value


def non_negative_float(text: str) -> float:
    """A finite number, 0 or more."""
    value = finite_float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {text!r}")
    return value


def non_empty(text: str) -> str:
    """A name that is not empty or only spaces."""
    if not text.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    return text


if __name__ == "__main__":
    sys.exit(main())
