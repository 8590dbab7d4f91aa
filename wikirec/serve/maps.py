"""The interactive HTML maps ``wikirec plot`` wrote for a model, found to be served.

``wikirec plot MODEL_DIR`` writes them into ``MODEL_DIR/plots/`` (its ``--out``
default), one ``*.html`` per map (e.g. ``books-umap-genre.html``); ``wikirec run``
writes its plot stage beside the train stage, in ``RUN/plot/``. Each page stars and
zooms to a title given in its address as ``#find=TITLE``, which is how the web app
highlights the current book.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from wikirec.trained import BOOKS, LINKS

PLOT_FOLDER = "plots"  # wikirec plot's default --out, inside the model folder
RUN_PLOT_FOLDER = "plot"  # wikirec run's plot stage, beside its train stage
RUN_MANIFEST = "manifest.json"  # marks a wikirec run folder


@dataclass(frozen=True)
class MapFile:
    """One HTML map.

    Attributes
    ----------
    name : its file name, unique among the model's maps (the served address's last part)
    path : where it is
    kind : "books" or "links": what its points are (from ``wikirec plot``'s file names,
        which start with the set mapped)
    """

    name: str
    path: Path
    kind: str


def find_maps(model_dir: str | os.PathLike) -> list[MapFile]:
    """The HTML maps of a model folder, book maps first, then by name; a name met in
    both places is the one in ``MODEL_DIR/plots/``."""
    model_dir = Path(model_dir)
    folders = [(model_dir / PLOT_FOLDER, model_dir)]
    if (model_dir.parent / RUN_MANIFEST).is_file():
        folders.append((model_dir.parent / RUN_PLOT_FOLDER, model_dir.parent))
    maps: dict[str, MapFile] = {}
    for folder, home in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.html")):
            # never a page from outside the model's folder (or its run's), by a link
            inside = path.resolve().is_relative_to(home.resolve())
            if inside and path.is_file() and path.name not in maps:
                kind = LINKS if path.name.startswith(LINKS) else BOOKS
                maps[path.name] = MapFile(path.name, path, kind)
    return sorted(maps.values(), key=lambda m: (m.kind != BOOKS, m.name))
