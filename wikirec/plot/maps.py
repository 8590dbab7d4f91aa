"""Drawing a trained model's plots: one figure at a time (the notebook's API) or all
that ``wikirec plot`` draws into a folder, with a manifest.

The API: :func:`embedding_map` (a map coloured by a field, items starred),
:func:`neighbours_map` (one item and its nearest neighbours on the map) and
:func:`similarity_bars`. :func:`make_plots` checks every input first, then draws each
method's map, its HTML twin, neighbour maps and bar charts, and writes ``plots.json``.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

from wikirec.io import write_json_atomic, write_set_atomic, write_text_atomic
from wikirec.plot.colours import Groups, colour_groups
from wikirec.plot.figures import (
    DEFAULT_SIZE,
    FORMATS,
    check_k,
    map_figure,
    neighbours_figure,
    new_figure,
    save_figure,
    similarity_figure,
)
from wikirec.plot.page import hover_table, interactive_html
from wikirec.plot.points import (
    PlotError,
    Points,
    highlight_positions,
    load_trained,
    select_points,
    star_label,
)
from wikirec.plot.reduce import METHOD_NAMES, METHODS, ReduceParams, Reduction, reduce_points
from wikirec.trained import BOOKS, TrainedModel


def embedding_map(
    trained: TrainedModel | str | os.PathLike,
    kind: str = BOOKS,
    method: str = "umap",
    color_by: str | None = "genre",
    top: int = 10,
    values: Sequence[str] | None = None,
    highlight: Sequence[str] = (),
    highlight_top: int = 0,
    links: str = "all",
    params: ReduceParams | None = None,
    size: tuple[int, int] = DEFAULT_SIZE,
    cache: bool = True,
):
    """The map of one kind of vectors, reduced with ``method`` (cached), coloured by
    ``color_by`` (see :func:`colour_groups`), with ``highlight`` titles and the
    ``highlight_top`` most linked-to items starred. Returns a matplotlib Figure; its
    ``wikirec`` attribute holds the Reduction and Groups."""
    trained = load_trained(trained)
    points = select_points(trained, kind, links)
    groups = colour_groups(trained, points, color_by, top, values)
    stars = highlight_positions(trained, points, highlight, highlight_top)
    reduction = reduce_points(
        trained, points, replace(params or ReduceParams(), method=method), cache
    )
    fig = _coloured_map(reduction, groups, points, stars, size,
                        star_label(points, highlight, highlight_top))  # fmt: skip
    fig.wikirec = {"reduction": reduction, "groups": groups, "points": points}
    return fig


def neighbours_map(
    trained: TrainedModel | str | os.PathLike,
    title: str,
    kind: str = BOOKS,
    method: str = "umap",
    k: int = 10,
    links: str = "all",
    params: ReduceParams | None = None,
    size: tuple[int, int] = DEFAULT_SIZE,
    cache: bool = True,
):
    """``title`` and its ``k`` nearest neighbours on the ``method`` map. Returns a Figure."""
    trained = load_trained(trained)
    points = select_points(trained, kind, links)
    query = points.position(trained, title)
    reduction = reduce_points(
        trained, points, replace(params or ReduceParams(), method=method), cache
    )
    fig = _neighbours_on_map(reduction, points, query, k, size)
    fig.wikirec = {"reduction": reduction, "points": points}
    return fig


def similarity_bars(
    trained: TrainedModel | str | os.PathLike,
    title: str,
    kind: str = BOOKS,
    k: int = 10,
    links: str = "all",
    size: tuple[int, int] = DEFAULT_SIZE,
):
    """The ``k`` most and least similar items of ``kind`` to ``title``. Returns a Figure."""
    trained = load_trained(trained)
    points = select_points(trained, kind, links)
    query = points.position(trained, title)
    return similarity_figure(points.vectors, points.titles, query, k, points.noun, size)


def _coloured_map(
    reduction: Reduction, groups: Groups, points: Points, stars, size: tuple[int, int],
    stars_are: str = "",
):  # fmt: skip
    """The map of ``points`` as reduced, coloured by ``groups``, ``stars`` starred (what
    they are: ``stars_are``, in the legend)."""
    return map_figure(
        reduction.coords,
        groups,
        points.titles,
        stars,
        _map_title(points, reduction, groups),
        reduction.subtitle(),
        size,
        stars_are,
    )


def _neighbours_on_map(
    reduction: Reduction, points: Points, query: int, k: int, size: tuple[int, int]
):
    """Item ``query`` of ``points`` and its ``k`` nearest neighbours on the reduced map."""
    heading = (
        f"{points.titles[query]} and its {min(k, len(points.rows) - 1)} nearest "
        f"{points.noun} ({METHOD_NAMES[reduction.params['method']]} map)"
    )
    return neighbours_figure(
        reduction.coords, points.vectors, points.titles, query, k, heading, size
    )


def _map_title(points: Points, reduction: Reduction, groups: Groups) -> str:
    what = f"{METHOD_NAMES[reduction.params['method']]} map of {len(points.rows):,} {points.noun}"
    return what + (f", coloured by {groups.title.splitlines()[0]}" if groups.field else "")


@dataclass
class PlotOptions:
    """What ``wikirec plot`` draws (see :func:`make_plots`)."""

    kind: str = BOOKS
    links: str = "all"
    methods: tuple[str, ...] = METHODS
    color_by: str | None = "genre"
    top: int = 10
    values: list[str] | None = None
    highlight: list[str] = field(default_factory=list)
    highlight_top: int = 0
    neighbours: list[str] = field(default_factory=list)
    bars: list[str] = field(default_factory=list)
    k: int = 10
    size: tuple[int, int] = DEFAULT_SIZE
    fmt: str = "png"
    html: bool = True
    cache: bool = True
    params: ReduceParams = field(default_factory=ReduceParams)


def slug(text: str, limit: int = 60) -> str:
    """A file-name part: lower case, runs of other characters to one dash."""
    return re.sub(r"[^0-9a-z]+", "-", text.casefold()).strip("-")[:limit].strip("-") or "x"


def make_plots(
    trained: TrainedModel | str | os.PathLike,
    out_dir: str | os.PathLike,
    options: PlotOptions | None = None,
    data_dir: str | os.PathLike | None = None,
    progress: bool = False,
) -> dict:
    """Draw the maps, neighbour maps and bar charts of ``options`` into ``out_dir``.

    Everything is checked first (trained folder, field, titles, output folder), so bad input
    writes nothing. The files are drawn in a staging folder inside ``out_dir`` and take
    their names there only once all are drawn, ``plots.json`` last: a failure (a full
    disk, an interrupt) leaves the earlier plots as they were. Returns a manifest (also
    ``out_dir/plots.json``): ``files``, ``maps`` (file, method, legend entries, whether
    the reduction was cached) and ``reductions`` (one line each, as
    :meth:`Reduction.describe`).
    """
    options = options or PlotOptions()
    trained = load_trained(trained, data_dir)
    plan = _plan(trained, options)
    out = _prepare_out(Path(out_dir))
    manifest: dict = {
        "model": str(trained.path),
        "out": str(out),
        "files": [],
        "maps": [],
        "reductions": [],
        "notes": plan["notes"],
    }
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=out))
    try:
        _draw_all(trained, options, plan, staging, manifest, progress)
        write_json_atomic(manifest, staging / "plots.json")
        names = [*manifest["files"], "plots.json"]
        write_set_atomic(out, {n: partial(os.replace, staging / n) for n in names}, "plots.json")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return manifest


def _draw_all(trained, options, plan, out: Path, manifest: dict, progress: bool) -> None:
    """Every map (reduced first, or read from the cache) and bar chart, into ``out``."""
    for method in options.methods:
        params = replace(options.params, method=method)
        reduction = reduce_points(trained, plan["points"], params, options.cache, progress)
        manifest["reductions"].append(reduction.describe(plan["points"].noun))
        _draw_method(trained, options, plan, reduction, out, manifest)
    for query in plan["bars"]:
        fig = similarity_figure(
            plan["points"].vectors,
            plan["points"].titles,
            query,
            options.k,
            plan["points"].noun,
            options.size,
        )
        name = f"{plan['points'].label}-similar-{slug(plan['points'].titles[query])}"
        _save(fig, out, name, options.fmt, manifest)


def _plan(trained: TrainedModel, options: PlotOptions) -> dict:
    """Check every input before anything is computed or written."""
    options.params.check()
    if not options.methods or any(m not in METHODS for m in options.methods):
        raise PlotError(f"methods must be among {', '.join(METHODS)}")
    if options.fmt not in FORMATS:
        raise PlotError(f"format must be one of {', '.join(FORMATS)}, not {options.fmt!r}")
    points = select_points(trained, options.kind, options.links)
    notes, color_by = [], options.color_by
    if (
        color_by is not None
        and not trained.has_metadata
        and options.values is None
        and (color_by == "genre")
    ):
        notes.append(f"one colour: {trained.metadata_note}")
        color_by = None
    new_figure(options.size)  # checks the size
    check_k(options.k, len(points.rows))
    return {
        "points": points,
        "notes": notes,
        "groups": colour_groups(trained, points, color_by, options.top, options.values),
        "stars": highlight_positions(trained, points, options.highlight, options.highlight_top),
        "neighbours": [points.position(trained, t) for t in options.neighbours],
        "bars": [points.position(trained, t) for t in options.bars],
    }


def _prepare_out(out: Path) -> Path:
    """Create ``out`` and make sure a file can be written in it."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".wikirec-probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise PlotError(f"{out}: cannot write plots here ({exc.strerror or exc})") from exc
    return out


def _draw_method(trained, options, plan, reduction: Reduction, out: Path, manifest: dict) -> None:
    points, groups, stars = plan["points"], plan["groups"], plan["stars"]
    method = reduction.params["method"]
    colour = slug(groups.field) if groups.field else "plain"
    if groups.field and options.values:
        colour += "-" + slug("-".join(options.values), 40)
    name = f"{points.label}-{method}-{colour}"
    stars_are = star_label(points, options.highlight, options.highlight_top)
    fig = _coloured_map(reduction, groups, points, stars, options.size, stars_are)
    path = _save(fig, out, name, options.fmt, manifest)
    manifest["maps"].append(
        {
            "file": path.name,
            "method": method,
            "points": points.label,
            "legend": groups.legend_labels(),
            "cached": reduction.cached,
        }
    )
    if options.html:
        html = interactive_html(
            reduction.coords,
            groups,
            points.titles,
            hover_table(trained, points),
            stars,
            _map_title(points, reduction, groups),
        )
        page = out / f"{name}.html"
        write_text_atomic(html, page)
        manifest["files"].append(page.name)
    for query in plan["neighbours"]:
        fig = _neighbours_on_map(reduction, points, query, options.k, options.size)
        _save(
            fig,
            out,
            f"{points.label}-{method}-neighbours-{slug(points.titles[query])}",
            options.fmt,
            manifest,
        )


def _save(fig, out: Path, name: str, fmt: str, manifest: dict) -> Path:
    path = save_figure(fig, out / f"{name}.{fmt}", fmt)
    manifest["files"].append(path.name)
    return path
