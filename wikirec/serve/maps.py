"""The maps of a model: the 2-D reduction ``wikirec plot`` cached, as the points the
page draws itself, and the interactive HTML maps it wrote, found to be served.

The page's map (``#/map``) is drawn from the reduction the plot stage cached in
``MODEL_DIR/reductions/`` (:func:`wikirec.plot.reduce.cached_reductions`): the server
reads it, never computes one. Its points are coloured by genre group, as
``wikirec plot``'s book maps are (:func:`wikirec.plot.colours.colour_groups`).

The HTML maps: ``wikirec plot MODEL_DIR`` writes them into ``MODEL_DIR/plots/`` (its
``--out`` default), one ``*.html`` per map (e.g. ``books-umap-genre.html``);
``wikirec run`` writes its plot stage beside the train stage, in ``RUN/plot/``. Each
page stars and zooms to a title given in its address as ``#find=TITLE``, which is how
the web app's link to it stars the current book.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from wikirec.plot.colours import GENRE_GROUPS, PALETTE, Groups, colour_groups
from wikirec.plot.points import PlotError, select_points
from wikirec.plot.reduce import CACHE_DIR, METHOD_NAMES, Reduction, cached_reductions
from wikirec.trained import BOOKS, LINKS, TrainedModel

PLOT_FOLDER = "plots"  # wikirec plot's default --out, inside the model folder
RUN_PLOT_FOLDER = "plot"  # wikirec run's plot stage, beside its train stage
RUN_MANIFEST = "manifest.json"  # marks a wikirec run folder
COLOUR_BY = "genre"  # wikirec plot's default: its book maps and the page's agree
COORD_DECIMALS = 4  # map units: a reduction spans tens of them, a pixel is far coarser


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


# --------------------------------------------------------------------------- the page's map


def book_reductions(trained: TrainedModel) -> list[Reduction]:
    """The 2-D reductions of every book cached for ``trained`` (newest first), as
    ``wikirec plot`` or ``wikirec run`` left them; none computed here."""
    return cached_reductions(trained.vectors[BOOKS], trained.path / CACHE_DIR, BOOKS)


def genre_colours(trained: TrainedModel) -> Groups:
    """Every book's genre group, as ``wikirec plot`` colours a book map; one colour
    (``field`` None, every code -1) when the build or its genres are not found."""
    points = select_points(trained, BOOKS)
    if trained.has_metadata:
        try:
            return colour_groups(trained, points, COLOUR_BY, top=len(GENRE_GROUPS))
        except PlotError:  # no book has a genre
            pass
    return Groups(None, [], np.full(len(points.rows), -1, np.int64), [], "")


def book_map_json(titles: list[str], reduction: Reduction, groups: Groups) -> dict:
    """The page's map as compact JSON: per book (in the model's row order) its title,
    ``x``, ``y`` and ``group`` (an index in ``groups``, -1: other or none); the legend's
    ``groups`` (name, colour, count), ``other`` (how many books are in none), and the
    reduction's ``method`` with a line on its parameters (``about``)."""
    coords = np.round(reduction.coords.astype(np.float64), COORD_DECIMALS)
    method = reduction.params["method"]
    return {
        "method": method,
        "method_name": METHOD_NAMES[method],
        "about": reduction.subtitle(),
        "count": len(titles),
        "field": groups.field,
        "groups": [{"name": name, "colour": PALETTE[i], "count": count}
                   for i, (name, count) in enumerate(zip(groups.names, groups.counts,
                                                         strict=True))],
        "other": groups.n_other,
        "titles": titles,
        "x": coords[:, 0].tolist(),
        "y": coords[:, 1].tolist(),
        "group": groups.codes.tolist(),
    }  # fmt: skip
