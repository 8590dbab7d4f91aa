"""Progress bars that stay silent unless asked for."""

from __future__ import annotations

import sys

from tqdm.auto import tqdm


def progress_bar(enabled: bool = True, **kwargs) -> tqdm:
    """A tqdm bar on stderr, or a disabled one (same interface) when ``enabled`` is false."""
    return tqdm(disable=not enabled, file=sys.stderr, dynamic_ncols=True, **kwargs)
