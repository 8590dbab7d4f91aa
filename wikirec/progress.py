"""Progress bars that stay silent unless asked for."""

from __future__ import annotations

import sys

from tqdm.auto import tqdm


def progress_bar(enabled: bool = True, **kwargs) -> tqdm:
    """A tqdm bar on stderr, or a disabled one (same interface) when ``enabled`` is false."""
    return tqdm(disable=not enabled, file=sys.stderr, dynamic_ncols=True, **kwargs)


def write_line(text: str) -> None:
    """Print ``text`` on stderr as a line of its own: a bar being drawn there is cleared
    first and drawn again below, so the line never ends up on the end of the bar's."""
    tqdm.write(text, file=sys.stderr)
