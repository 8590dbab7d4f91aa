"""The pictures, as plain matplotlib figures: maps coloured by group with items
starred and labelled, one item's nearest neighbours on a map, and the most and least
similar items as bars.

Figures are :class:`matplotlib.figure.Figure` objects on an Agg canvas (no pyplot
state): a notebook shows them inline, :func:`save_figure` writes them atomically.
Labels are placed greedily so that none overlaps another (:func:`place_labels`).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from wikirec.io import write_atomic
from wikirec.plot.colours import OTHER_COLOUR, PALETTE, SINGLE_COLOUR, Groups, short_label
from wikirec.plot.points import PlotError

DEFAULT_SIZE = (1400, 1000)
MIN_SIZE = (200, 150)
# A side in pixels: 10,000 x 10,000 is a 400 MB canvas, about all a laptop can draw.
MAX_SIDE = 10_000
DPI = 100
FORMATS = ("png", "svg", "pdf")


def new_figure(size: tuple[int, int]):
    """A Figure of ``size`` pixels on an Agg canvas (no pyplot, no GUI)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    width, height = size
    if width < MIN_SIZE[0] or height < MIN_SIZE[1]:
        raise PlotError(
            f"a figure must be at least {MIN_SIZE[0]}x{MIN_SIZE[1]} pixels, not {width}x{height}"
        )
    if max(width, height) > MAX_SIDE:
        raise PlotError(
            f"a figure must be at most {MAX_SIDE}x{MAX_SIDE} pixels, not {width}x{height}"
        )
    # + 0.25 px: the renderer truncates, and 12.34 * 100 may be 1233.999...
    fig = Figure(
        figsize=((width + 0.25) / DPI, (height + 0.25) / DPI), dpi=DPI, layout="constrained"
    )
    FigureCanvasAgg(fig)
    return fig


def marker_size(n: int) -> float:
    return float(np.clip(24000 / max(n, 1), 1.5, 24))


def _bare(ax, equal: bool = True) -> None:
    """Axes without ticks (2-D map coordinates mean nothing by themselves); ``equal``:
    one unit as long across as up (data limits grow to fit the box)."""
    if equal:
        ax.set_aspect("equal", adjustable="datalim")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_color("#bbbbbb")


def _label_candidates(step: float) -> list[tuple[float, float, str, str]]:
    """Offsets (points) and alignments to try, nearest first, then stacked further out."""
    near = [
        (6, 4, "left", "bottom"),
        (6, -4, "left", "top"),
        (-6, 4, "right", "bottom"),
        (-6, -4, "right", "top"),
    ]
    far = []
    for level in range(1, 13):
        dy = level * step
        far += [
            (16, 4 + dy, "left", "bottom"),
            (16, -4 - dy, "left", "top"),
            (-16, 4 + dy, "right", "bottom"),
            (-16, -4 - dy, "right", "top"),
        ]
    return near + far


def place_labels(
    ax, xy: np.ndarray, texts: Sequence[str], size: float = 9, bold: Sequence[bool] = ()
) -> None:
    """Label the points ``xy`` (data coordinates) without overlapping labels.

    Greedy, in the order given: each label takes the first offset around its point
    whose box meets no label placed before and no other labelled point, inside the
    axes; a label set away from its point gets a leader line. The layout is computed
    first, so call this once everything else is drawn. ``bold``: per label."""
    fig = ax.figure
    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    anchors = ax.transData.transform(xy)
    dots = [_box(x - 6, y - 6, x + 6, y + 6) for x, y in anchors]
    candidates = _label_candidates(size * 1.4)
    placed: list = []
    for i, text in enumerate(texts):
        style = {"fontsize": size, "fontweight": "bold" if i < len(bold) and bold[i] else None}
        others = placed + dots[:i] + dots[i + 1 :]
        for n, (dx, dy, ha, va) in enumerate(candidates):
            ann = _annotation(ax, xy[i], text, (dx, dy), ha, va, style, leader=False)
            box = ann.get_window_extent(renderer)
            fits = _inside(box, ax.bbox) and not any(box.overlaps(o) for o in others)
            if fits or n == len(candidates) - 1:
                break
            ann.remove()
        if n >= 4:  # moved away from the point: draw a leader line
            ann.remove()
            _annotation(ax, xy[i], text, (dx, dy), ha, va, style, leader=True)
        placed.append(box)


def _annotation(ax, xy, text: str, offset, ha: str, va: str, style: dict, leader: bool):
    from matplotlib import patheffects

    arrow = {"arrowstyle": "-", "color": "#777777", "lw": 0.6, "shrinkA": 0, "shrinkB": 3}
    ann = ax.annotate(
        short_label(text),
        xy,
        xytext=offset,
        textcoords="offset points",
        ha=ha,
        va=va,
        path_effects=[patheffects.withStroke(linewidth=3, foreground="white")],
        zorder=6,
        arrowprops=arrow if leader else None,
        annotation_clip=False,
        **{k: v for k, v in style.items() if v is not None},
    )
    ann.set_in_layout(False)
    return ann


def _box(x0: float, y0: float, x1: float, y1: float):
    from matplotlib.transforms import Bbox

    return Bbox([[x0, y0], [x1, y1]])


def _inside(box, frame) -> bool:
    return box.x0 >= frame.x0 and box.x1 <= frame.x1 and box.y0 >= frame.y0 and box.y1 <= frame.y1


def map_figure(
    coords: np.ndarray,
    groups: Groups,
    titles: Sequence[str],
    highlight: Sequence[int] = (),
    title: str = "",
    subtitle: str = "",
    size: tuple[int, int] = DEFAULT_SIZE,
    stars_are: str = "",
):
    """A 2-D map: "other" in light grey behind, each group in its colour (largest drawn
    first), the legend outside the axes on the right, ``highlight`` positions starred
    and labelled (``stars_are``: what they are, the star's entry in the legend).
    Returns a matplotlib Figure."""
    fig = new_figure(size)
    ax = fig.add_subplot()
    s = marker_size(len(coords))
    other = groups.codes < 0
    if groups.field is None:
        ax.scatter(*coords.T, s=s, c=SINGLE_COLOUR, alpha=0.7, linewidths=0)
    elif other.any():
        ax.scatter(
            *coords[other].T,
            s=s,
            c=OTHER_COLOUR,
            alpha=0.6,
            linewidths=0,
            zorder=1,
            label=groups.legend_labels()[-1],
        )
    for i in np.argsort([-c for c in groups.counts], kind="stable"):
        mask = groups.codes == i
        ax.scatter(*coords[mask].T, s=s * 1.3, c=PALETTE[i], alpha=0.85, linewidths=0, zorder=2)
    _draw_highlights(ax, coords, titles, highlight)
    stars_are = stars_are if len(highlight) else ""
    if groups.field is not None or stars_are:
        _legend(fig, groups, stars_are)
    _titles(ax, title, subtitle)
    _bare(ax)
    if len(highlight):
        stars = list(highlight)
        place_labels(
            ax, coords[stars], [titles[i] for i in stars], size=9.5, bold=[True] * len(stars)
        )
    return fig


def _draw_highlights(ax, coords, titles, highlight) -> None:
    """Stars at the ``highlight`` positions; their labels come last (:func:`place_labels`)."""
    if len(highlight):
        ax.scatter(
            *coords[list(highlight)].T,
            marker="*",
            s=320,
            c="#ffd700",
            edgecolors="black",
            linewidths=1.0,
            zorder=5,
        )


def _legend(fig, groups: Groups, stars_are: str = "") -> None:
    from matplotlib.lines import Line2D

    labels = groups.legend_labels()
    proxies = [
        Line2D(
            [], [], ls="", marker="o", markersize=8, markerfacecolor=PALETTE[i], markeredgewidth=0
        )
        for i in range(len(groups.names))
    ]
    if len(labels) > len(groups.names):
        proxies.append(
            Line2D(
                [],
                [],
                ls="",
                marker="o",
                markersize=8,
                markerfacecolor=OTHER_COLOUR,
                markeredgewidth=0,
            )
        )
    if stars_are:
        proxies.append(Line2D([], [], ls="", marker="*", markersize=13, markerfacecolor="#ffd700",
                              markeredgecolor="black", markeredgewidth=0.8))  # fmt: skip
        labels = [*labels, stars_are]
    fig.legend(
        proxies,
        labels,
        loc="outside right upper",
        title=groups.title,
        frameon=False,
        fontsize=9,
        title_fontsize=10,
        alignment="left",
    )


def _titles(ax, title: str, subtitle: str) -> None:
    if title:
        ax.set_title(title + (f"\n{subtitle}" if subtitle else ""), fontsize=12, loc="left")


def neighbours_figure(
    coords: np.ndarray,
    vectors: np.ndarray,
    titles: Sequence[str],
    query: int,
    k: int = 10,
    title: str = "",
    size: tuple[int, int] = DEFAULT_SIZE,
):
    """The item at ``query`` starred with its ``k`` nearest neighbours in the full
    embedding (cosine of unit ``vectors``) coloured by similarity: on the whole map
    (left) and zoomed on them (right), with a note that 2-D distances need not follow
    50-D ones. Returns a matplotlib Figure."""
    k = check_k(k, len(titles))
    sims, ranked = _ranked(vectors, query)
    order = ranked[:k]
    fig = new_figure(size)
    whole, zoom = fig.subplots(1, 2, width_ratios=[1, 1.6])
    box = _zoom_box(coords, [query, *order])
    for ax, s in ((whole, marker_size(len(coords))), (zoom, marker_size(len(coords)) * 2)):
        ax.scatter(*coords.T, s=s, c=OTHER_COLOUR, linewidths=0, zorder=1)
        dots = _neighbour_dots(ax, coords, sims, query, order)
        _bare(ax, equal=ax is whole)
    fig.colorbar(
        dots, ax=zoom, label=f"cosine similarity to the query ({vectors.shape[1]}-D)", shrink=0.6
    )
    whole.set_title("the whole map (the box is the zoom)", fontsize=10, loc="left")
    zoom.set_title(short_label(title, 110), fontsize=12, loc="left")
    kept = _kept_in_2d(coords, query, order)
    fig.supxlabel(
        f"Neighbours are the {k} nearest in the {vectors.shape[1]}-D embedding; the 2-D map "
        f"need not keep them near: {kept} of {k} are among the query's {k} nearest points "
        "in 2-D.",
        fontsize=9,
        x=0.01,
        ha="left",
    )
    _frame(whole, _fit_box(zoom, box))
    labels = [titles[query]] + [f"{rank}. {titles[i]}" for rank, i in enumerate(order, 1)]
    place_labels(zoom, coords[[query, *order]], labels, size=8.5, bold=[True])
    return fig


def _neighbour_dots(ax, coords, sims, query: int, order: list[int]):
    qx, qy = coords[query]
    for i in order:
        ax.plot([qx, coords[i, 0]], [qy, coords[i, 1]], color="#999999", lw=0.6, ls="--", zorder=2)
    dots = ax.scatter(
        *coords[order].T,
        s=70,
        c=sims[order],
        cmap="viridis",
        edgecolors="black",
        linewidths=0.6,
        zorder=3,
    )
    ax.scatter([qx], [qy], marker="*", s=380, c="#d62728", edgecolors="black", zorder=5)
    return dots


def _zoom_box(coords: np.ndarray, rows: list[int]) -> tuple[float, float, float, float]:
    """The box around ``rows``, padded, at least a tenth of the map wide and high."""
    lo, hi = coords[rows].min(axis=0), coords[rows].max(axis=0)
    span = coords.max(axis=0) - coords.min(axis=0)
    half = np.maximum((hi - lo) / 2 * 1.35, span / 80)
    mid = (lo + hi) / 2
    return (mid[0] - half[0], mid[1] - half[1], mid[0] + half[0], mid[1] + half[1])


def _fit_box(ax, box) -> tuple[float, float, float, float]:
    """Set ``ax``'s limits to ``box`` grown to the axes' shape (equal aspect), once the
    layout is known; return them as ``(x0, x1, y0, y1)``."""
    ax.figure.draw_without_rendering()
    x0, y0, x1, y1 = box
    ratio = ax.bbox.width / max(ax.bbox.height, 1)
    width, height = max(x1 - x0, (y1 - y0) * ratio), max(y1 - y0, (x1 - x0) / ratio)
    mx, my = (x0 + x1) / 2, (y0 + y1) / 2
    limits = (mx - width / 2, mx + width / 2, my - height / 2, my + height / 2)
    ax.set_xlim(limits[0], limits[1])
    ax.set_ylim(limits[2], limits[3])
    return limits


def _frame(ax, limits) -> None:
    """The zoomed region, ``(x0, x1, y0, y1)``, as a box on the whole map."""
    from matplotlib.patches import Rectangle

    x0, x1, y0, y1 = limits
    ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, ec="black", lw=1, zorder=6))


def _kept_in_2d(coords: np.ndarray, query: int, order: list[int]) -> int:
    dist = np.linalg.norm(coords - coords[query], axis=1)
    dist[query] = np.inf
    near = set(np.argsort(dist, kind="stable")[: len(order)].tolist())
    return len(near.intersection(order))


def _ranked(vectors: np.ndarray, query: int) -> tuple[np.ndarray, list[int]]:
    """Every item's cosine to the item ``query`` (unit ``vectors``), and the other items,
    most similar first (ties: the lower position)."""
    sims = vectors @ vectors[query]
    return sims, [i for i in np.argsort(-sims, kind="stable") if i != query]


def check_k(k: int, n: int) -> int:
    if k < 1:
        raise PlotError(f"k must be at least 1, not {k}")
    return min(k, n - 1)


def similarity_figure(
    vectors: np.ndarray,
    titles: Sequence[str],
    query: int,
    k: int = 10,
    noun: str = "books",
    size: tuple[int, int] = DEFAULT_SIZE,
):
    """Horizontal bars: the ``k`` most similar items to ``query`` (left) and the ``k``
    least similar (right), by cosine of unit ``vectors``. Returns a matplotlib Figure."""
    k = check_k(k, len(titles))
    sims, ranked = _ranked(vectors, query)
    fig = new_figure(size)
    most_ax, least_ax = fig.subplots(1, 2)
    _bars(most_ax, ranked[:k], sims, titles, "#2ca02c", f"Most similar {noun}")
    _bars(least_ax, ranked[::-1][:k], sims, titles, "#d62728", f"Least similar {noun}")
    fig.suptitle(
        f"{short_label(titles[query], 60)}: cosine similarity in {vectors.shape[1]}-D", fontsize=13
    )
    return fig


def _bars(ax, rows: list[int], sims: np.ndarray, titles, colour: str, heading: str) -> None:
    values = sims[rows]
    ax.barh(range(len(rows)), values, color=colour, alpha=0.85)
    ax.set_yticks(range(len(rows)), [short_label(titles[i], 38) for i in rows], fontsize=9)
    ax.invert_yaxis()
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlim(-1.05, 1.05)
    ax.set_xlabel("cosine similarity")
    ax.set_title(heading, loc="left", fontsize=11)
    for y, v in enumerate(values):
        ax.text(
            v + (0.02 if v >= 0 else -0.02),
            y,
            f"{v:.2f}",
            va="center",
            ha="left" if v >= 0 else "right",
            fontsize=8,
        )


def save_figure(fig, path: str | os.PathLike, fmt: str = "png") -> Path:
    """Write ``fig`` atomically (exactly its size in pixels for PNG)."""
    if fmt not in FORMATS:
        raise PlotError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # glyphs a font lacks (CJK titles)
        return write_atomic(path, lambda tmp: fig.savefig(tmp, format=fmt, dpi=DPI))
