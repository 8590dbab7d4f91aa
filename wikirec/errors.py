"""The one error every stage raises for input it cannot use.

Each stage names its own subclass (``BuildError``, ``TrainError``, ``ModelError``, ...)
so a caller can tell them apart; the message is always one line, for people. ``wikirec``
prints it as ``wikirec COMMAND: MESSAGE`` and exits with 2 (:func:`wikirec.cli.main`),
so a stage neither prints its own errors nor re-wraps another stage's.
"""

from __future__ import annotations


class WikirecError(ValueError):
    """Input that cannot be used (a folder, a title, an option); the message is one line."""


def one_line(exc: BaseException, limit: int = 300) -> str:
    """A library's error message as one line of at most ``limit`` characters, to quote
    in a :class:`WikirecError` (Keras, for one, explains over a dozen lines)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."
