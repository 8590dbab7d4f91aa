"""The pictures, as plain matplotlib figures: maps coloured by group with items
starred and labelled, one item's nearest neighbours on a map, and the most and least
similar items as bars.

Figures are :class:`matplotlib.figure.Figure` objects on an Agg canvas (no pyplot
state): a notebook shows them inline, :func:`save_figure` writes them atomically.
Labels are placed greedily so that none meets another label, a labelled point or a leader
line; one with no room is drawn as a number and listed (:func:`place_labels`).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

import numpy as np

from wikirec.io import write_atomic
from wikirec.plot.colours import (
    LABEL_CHARS,
    OTHER_COLOUR,
    PALETTE,
    SINGLE_COLOUR,
    Groups,
    short_label,
)
from wikirec.plot.points import PlotError

DEFAULT_SIZE = (1400, 1000)
MIN_SIZE = (200, 150)
# A side in pixels: 10,000 x 10,000 is a 400 MB canvas, about all a laptop can draw.
MAX_SIDE = 10_000
DPI = 100
FORMATS = ("png", "svg", "pdf")
# Points of white stroke around a label's letters: label boxes are kept this far apart
# (each side) so that no stroke covers a neighbour's letters.
HALO = 1.5
# Where a leader line leaves its label: the side of the text facing the point.
RELPOS = {
    ("left", "center"): (0.0, 0.5),
    ("right", "center"): (1.0, 0.5),
    ("center", "bottom"): (0.5, 0.0),
    ("center", "top"): (0.5, 1.0),
}
# Marker areas (points²) of the map's stars and of the neighbours map's query and dots.
STAR, QUERY_STAR, NEIGHBOUR_DOT = 320, 380, 70


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


def place_labels(
    ax,
    xy: np.ndarray,
    texts: Sequence[str],
    size: float = 9,
    bold: Sequence[bool] = (),
    clear: float | Sequence[float] = 6.0,
    numbers: Sequence[str] | None = None,
    listing: Callable[[list[tuple[str, str]]], None] | None = None,
) -> list[int]:
    """Label the points ``xy`` (data coordinates) so that no label meets another label,
    a labelled point's marker or a leader line.

    Greedy, in the order given (the first labels get the nearest places): each label
    takes the first free place around its point inside the axes (:func:`_spots`), its
    box measured with the renderer. ``clear``: the radius in points of each labelled
    point's marker (one for all, or one per point), which labels keep out of. Every label
    is first tried beside its point; those with no room there are then set further out
    with a leader line (a pile of points gets a list beside it); those with no room at
    all are drawn as their ``numbers`` (by default 1, 2, ... in the order needed; an
    empty one is not drawn at all), and ``listing`` lists them with their texts (called
    with ``[(number, text), ...]``; by default a legend in the figure's lower right
    corner). Labels and list stay out of the layout, so that the places found hold.
    Call this once everything else is drawn. Returns the positions drawn as numbers."""
    room = _Room(ax, xy, clear)
    styles = [
        {"fontsize": size, "fontweight": "bold" if i < len(bold) and bold[i] else None}
        for i in range(len(texts))
    ]
    numbered = room.fill(texts, styles)
    entries = [(numbers[i] if numbers else str(n), texts[i]) for n, i in enumerate(numbered, 1)]
    for i, (number, _) in zip(numbered, entries, strict=True):
        if number:
            room.place(i, number, styles[i], far=True, relax=True)
    for i, text, style, (dx, dy, ha, va, far) in room.placed:
        shrink = room.radii[i] / room.px if far else None
        _annotation(ax, room.xy[i], text, (dx / room.px, dy / room.px), ha, va, style, shrink)
    if entries := [entry for entry in entries if entry[0]]:
        (listing or partial(_numbered_list, ax.figure, size=size))(entries)
    return numbered


def label_places(
    coords: np.ndarray,
    rows: Sequence[int],
    texts: Sequence[str],
    size: tuple[int, int],
    font_px: float,
    radius_px: float,
) -> dict[int, tuple[str, float, float, str, str, bool]]:
    """Where :func:`place_labels` would set the labels ``texts`` of the points
    ``coords[rows]`` on a map of all ``coords`` filling ``size`` pixels at equal aspect
    (text ``font_px`` high, markers of radius ``radius_px``), for a map drawn by another
    library: by position in ``rows``, ``(text, dx, dy, ha, va, leader)`` with the
    offsets in pixels, y up. Labels with no room are left out."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(size[0] / DPI, size[1] / DPI), dpi=DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.scatter(*np.asarray(coords, dtype=float).reshape(-1, 2).T, s=0)
    ax.set_aspect("equal", adjustable="datalim")
    room = _Room(ax, np.asarray(coords)[list(rows)], radius_px * 72 / DPI)
    room.fill(texts, [{"fontsize": font_px * 72 / DPI}] * len(texts))
    return {i: (text, *spot) for i, text, _, spot in room.placed}


class _Room:
    """What labels in ``ax`` must keep clear of, in pixels: the labelled points' markers
    (``clear``: radii in points), the labels placed (boxes grown by the halo) and their
    leader lines."""

    def __init__(self, ax, xy: np.ndarray, clear: float | Sequence[float]) -> None:
        fig = ax.figure
        fig.draw_without_rendering()
        self.ax, self.renderer = ax, fig.canvas.get_renderer()
        self.px = fig.dpi / 72
        self.pad = HALO * self.px
        self.xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        self.anchors = ax.transData.transform(self.xy)
        self.radii = np.broadcast_to(np.asarray(clear, dtype=float) * self.px, len(self.xy))
        self.boxes: list = []
        self.leaders: list = []
        self.placed: list = []  # (position, text, style, spot of _spots)

    def fill(self, texts: Sequence[str], styles: Sequence[dict]) -> list[int]:
        """Place each label beside its point, then those with no room there further out
        with a leader line; return the positions of those with no room at all. Plain
        labels first: a pile's leader lines would otherwise take the room the points
        around it need for theirs."""
        shown = [short_label(text) for text in texts]
        left = [i for i in range(len(shown)) if not self.place(i, shown[i], styles[i], False)]
        return [i for i in left if not self.place(i, shown[i], styles[i], far=True)]

    def place(self, i: int, text: str, style: dict, far: bool, relax: bool = False) -> bool:
        """Place ``text`` as point ``i``'s label at the first free place of :func:`_spots`
        (beside the point only, unless ``far``). ``relax`` (for a number): the places
        nearest first, and if none is free, the first that meets only leader lines, else
        only markers, else anything. Whether it was placed."""
        probe = _annotation(self.ax, (0, 0), text, (0, 0), "left", "bottom", style, None)
        extent = probe.get_window_extent(self.renderer)
        probe.remove()
        near = self.radii[i] + self.pad
        step = extent.height + 2 * self.pad + 1
        spots = [s for s in _spots(near, step, self.ax.bbox.height) if far or not s[4]]
        if relax:  # a number is small: rather a near ring than a far line of a column
            spots.sort(key=lambda s: np.hypot(s[0], s[1]))
        for strictness in (3, 2, 1, 0) if relax else (3,):
            for spot in spots:
                box, leader = self._shape(i, spot, extent.width, extent.height)
                if self._free(i, box, leader, strictness):
                    self.placed.append((i, text, style, spot))
                    self.boxes.append(box)
                    if leader is not None:
                        self.leaders.append(leader)
                    return True
        return False

    def _shape(self, i: int, spot: tuple, width: float, height: float):
        """The box (grown by the halo) of a label ``width`` x ``height`` at ``spot``
        from point ``i``, and its leader line (None if beside the point): from the side
        of the text facing the point to the marker's edge."""
        anchor = self.anchors[i]
        dx, dy, ha, va, far = spot
        x0 = anchor[0] + dx - {"left": 0, "center": width / 2, "right": width}[ha]
        y0 = anchor[1] + dy - {"bottom": 0, "center": height / 2, "top": height}[va]
        pad = self.pad
        box = _box(x0 - pad, y0 - pad, x0 + width + pad, y0 + height + pad)
        if not far:
            return box, None
        start = np.array([x0 + RELPOS[ha, va][0] * width, y0 + RELPOS[ha, va][1] * height])
        along = start - anchor
        end = anchor + along * self.radii[i] / max(float(np.hypot(*along)), 1e-9)
        return box, (start, end)

    def _free(self, i: int, box, leader, strictness: int) -> bool:
        """Whether a label of point ``i`` at ``box`` with ``leader`` keeps inside the axes
        and clear of the placed labels (``strictness`` 1), of the other labelled points'
        markers (2), and of leader lines, its own clear of the labels and of the markers
        not piled on its point (3: a leader from a pile cannot help but cross them)."""
        if strictness == 0:
            return True
        if not _inside(box, self.ax.bbox) or any(box.overlaps(b) for b in self.boxes):
            return False
        if strictness == 1:
            return True
        others = [j for j in range(len(self.xy)) if j != i]
        if any(_meets_circle(box, self.anchors[j], self.radii[j]) for j in others):
            return False
        if strictness == 2:
            return True
        if any(_crosses(a, b, box) for a, b in self.leaders):
            return False
        if leader is None:
            return True
        distance = np.hypot(*(self.anchors - self.anchors[i]).T)
        apart = [j for j in others if distance[j] >= self.radii[i] + self.radii[j]]
        return not (
            any(_crosses(*leader, b) for b in self.boxes)
            or any(_near_segment(self.anchors[j], self.radii[j], *leader) for j in apart)
        )


def _spots(near: float, step: float, height: float) -> list[tuple]:
    """Places for a label around its point, in pixels: ``(dx, dy, ha, va, far)``.

    First two columns of lines on either side, one ``step`` apart and as high as the
    axes, nearest first (the right before the left): one touching the marker (``near``:
    its radius and a margin), one further out. A label on the marker's line or the line
    above or below it is plainly its label; any other is ``far`` and gets a leader line.
    Leaders from a point to one column's lines fan out between that column's labels, so
    a pile of points is labelled as a list beside it. Then, for a crowded point, rings
    of places in sixteen directions, each with a leader."""
    columns = []
    for level in range(int(height / step) + 1):
        for dy in (level * step, -level * step) if level else (0.0,):
            for column in (near, near + 6 * step):
                far = level > 1 or column > near
                columns.append((column, dy, "left", "center", far))
                columns.append((-column, dy, "right", "center", far))
    columns.sort(key=lambda s: np.hypot(s[0], s[1]))  # stable: ties keep the order above
    rings = []
    for ring in range(1, int(height / step) + 1):
        for angle in np.arange(16) * np.pi / 8:
            dx, dy = (near + ring * step) * np.cos(angle), (near + ring * step) * np.sin(angle)
            ha = "center" if abs(dx) < 1e-6 else "left" if dx > 0 else "right"
            va = "center" if ha != "center" else "bottom" if dy > 0 else "top"
            rings.append((dx, dy, ha, va, True))
    return columns + rings


def _annotation(ax, xy, text: str, offset, ha: str, va: str, style: dict, leader: float | None):
    """``text`` at ``offset`` points from ``xy``, white-stroked; ``leader``: draw a line
    to ``xy`` stopping that many points short of it (the marker's radius)."""
    from matplotlib import patheffects

    arrow = leader is not None and {
        "arrowstyle": "-",
        "color": "#777777",
        "lw": 0.6,
        "shrinkA": 0,
        "shrinkB": leader,
        "relpos": RELPOS[ha, va],
    }
    ann = ax.annotate(
        text,
        xy,
        xytext=offset,
        textcoords="offset points",
        ha=ha,
        va=va,
        path_effects=[patheffects.withStroke(linewidth=2 * HALO, foreground="white")],
        zorder=6,
        arrowprops=arrow or None,
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


def _meets_circle(box, centre, radius: float) -> bool:
    nearest = np.clip(centre, [box.x0, box.y0], [box.x1, box.y1])
    return bool(np.hypot(*(nearest - centre)) < radius)


def _near_segment(centre, radius: float, a, b) -> bool:
    """Whether the segment ``a``-``b`` passes within ``radius`` of ``centre``."""
    ab = b - a
    t = np.clip(np.dot(centre - a, ab) / max(float(np.dot(ab, ab)), 1e-12), 0, 1)
    return bool(np.hypot(*(a + t * ab - centre)) < radius)


def _crosses(a, b, box) -> bool:
    """Whether the segment ``a``-``b`` enters ``box`` (Liang-Barsky clipping)."""
    t0, t1 = 0.0, 1.0
    d = b - a
    for p, q in (
        (-d[0], a[0] - box.x0),
        (d[0], box.x1 - a[0]),
        (-d[1], a[1] - box.y0),
        (d[1], box.y1 - a[1]),
    ):
        if p == 0:
            if q < 0:
                return False
        else:
            t = q / p
            if p < 0:
                t0 = max(t0, t)
            else:
                t1 = min(t1, t)
    return t0 < t1


def _numbered_list(
    fig, entries: list[tuple[str, str]], size: float, under=None, within=None
) -> None:
    """``entries`` (number, text; a text's own leading ``"number. "`` left out) as a
    legend out of the layout, fitted into ``within`` (a box in pixels): from its upper
    left corner, or under the artist ``under`` (by default the room right of and below
    it), else in the figure's lower right corner."""
    from matplotlib.lines import Line2D

    renderer = fig.canvas.get_renderer()
    frame = fig.bbox
    if under is not None:
        box = under.get_window_extent(renderer)
        corner, loc = (box.x0, box.y0), "upper left"
        within = within or _box(box.x0, frame.y0, frame.x1, box.y0)
    elif within is not None:
        corner, loc = (within.x0, within.y1), "upper left"
    else:
        corner, loc, within = (frame.x1, frame.y0), "lower right", frame
    texts = [text.removeprefix(f"{n}. ") for n, text in entries]
    handles = [
        Line2D([], [], ls="", marker=f"${n}$", markersize=6 + 3 * len(n), color="black")
        for n, _ in entries
    ]

    def draw(ncols: int, limit: int):
        legend = fig.legend(
            handles,
            [short_label(text, limit) for text in texts],
            loc=loc,
            bbox_to_anchor=fig.transFigure.inverted().transform(corner),
            ncols=ncols,
            title="numbered on the map",
            frameon=False,
            fontsize=size,
            title_fontsize=size,
            alignment="left",
        )
        legend.set_in_layout(False)
        return legend, legend.get_window_extent(renderer)

    # The first that fits: one column of whole texts, else cut shorter, else more
    # columns; if none does, the first as narrow as the room (running off the bottom).
    tries = [(n, limit) for n in range(1, 5) for limit in range(LABEL_CHARS, 7, -4)]
    for ncols, limit in tries:
        legend, extent = draw(ncols, limit)
        if _inside(extent, within):
            return
        legend.remove()
    for ncols, limit in tries:
        legend, extent = draw(ncols, limit)
        if extent.x1 <= within.x1 or (ncols, limit) == tries[-1]:
            return
        legend.remove()


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
    _draw_highlights(ax, coords, highlight)
    stars_are = stars_are if len(highlight) else ""
    legend = None
    if groups.field is not None or stars_are:
        legend = _legend(fig, groups, stars_are)
    _titles(ax, title, subtitle)
    _bare(ax)
    if len(highlight):
        stars = list(highlight)
        place_labels(
            ax,
            coords[stars],
            [titles[i] for i in stars],
            size=9.5,
            bold=[True] * len(stars),
            clear=np.sqrt(STAR) / 2 + 0.5,
            listing=partial(_numbered_list, fig, size=9, under=legend),
        )
    return fig


def _draw_highlights(ax, coords, highlight) -> None:
    """Stars at the ``highlight`` positions; their labels come last (:func:`place_labels`)."""
    if len(highlight):
        ax.scatter(
            *coords[list(highlight)].T,
            marker="*",
            s=STAR,
            c="#ffd700",
            edgecolors="black",
            linewidths=1.0,
            zorder=5,
        )


def _legend(fig, groups: Groups, stars_are: str = ""):
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
    return fig.legend(
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
    clear = [np.sqrt(QUERY_STAR) / 2 + 0.5] + [np.sqrt(NEIGHBOUR_DOT) / 2 + 0.3] * len(order)
    # A neighbour with no room for its label shows its rank, listed at the top of the
    # whole map (whose equal aspect leaves room above and below it); the query is named
    # in the title.
    place_labels(
        zoom,
        coords[[query, *order]],
        labels,
        size=8.5,
        bold=[True],
        clear=clear,
        numbers=["", *(str(rank) for rank in range(1, len(order) + 1))],
        listing=partial(_numbered_list, fig, size=8.5, within=whole.bbox),
    )
    return fig


def _neighbour_dots(ax, coords, sims, query: int, order: list[int]):
    qx, qy = coords[query]
    for i in order:
        ax.plot([qx, coords[i, 0]], [qy, coords[i, 1]], color="#999999", lw=0.6, ls="--", zorder=2)
    dots = ax.scatter(
        *coords[order].T,
        s=NEIGHBOUR_DOT,
        c=sims[order],
        cmap="viridis",
        edgecolors="black",
        linewidths=0.6,
        zorder=3,
    )
    ax.scatter([qx], [qy], marker="*", s=QUERY_STAR, c="#d62728", edgecolors="black", zorder=5)
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
    least similar (right), by cosine of unit ``vectors``, each panel's value axis
    fitted to its values (see BAR_ZERO_SHARE). Returns a matplotlib Figure."""
    k = check_k(k, len(titles))
    sims, ranked = _ranked(vectors, query)
    fig = new_figure(size)
    most_ax, least_ax = fig.subplots(1, 2)
    panels = [
        (most_ax, ranked[:k], "#2ca02c", f"Most similar {noun}"),
        (least_ax, ranked[::-1][:k], "#d62728", f"Least similar {noun}"),
    ]
    for ax, rows, colour, heading in panels:
        _bars(ax, sims[rows], [titles[i] for i in rows], colour, heading)
    fig.suptitle(
        f"{short_label(titles[query], 60)}: cosine similarity in {vectors.shape[1]}-D", fontsize=13
    )
    for ax, rows, _, _ in panels:
        _fit_values(ax, sims[rows])
    return fig


# Where bars start. Zero, when it is near the values (within BAR_ZERO_SHARE of the
# largest one from zero) or among them: then a bar's length is its value. Otherwise a
# zero-based axis would be mostly empty (the most similar books to one are often all
# between 0.3 and 0.6), so the bars start just short of the values and their lengths
# show the differences: the axis is marked broken where they start, and its label says
# at what value. Values closer than BAR_MIN_SPAN are not spread further apart.
BAR_ZERO_SHARE = 0.25
BAR_MIN_SPAN = 0.1


def _bar_base(values: np.ndarray) -> float:
    """Where the bars of ``values`` start (the comment above says why)."""
    lo, hi = float(np.min(values)), float(np.max(values))
    near, far = (lo, hi) if lo > 0 else (hi, lo)
    if lo <= 0 <= hi or abs(near) <= BAR_ZERO_SHARE * abs(far):
        return 0.0
    short = 0.15 * max(hi - lo, BAR_MIN_SPAN)  # the shortest bar's length
    if near > 0:
        return max(np.floor((near - short) * 100) / 100, 0.0)
    return min(np.ceil((near + short) * 100) / 100, 0.0)


def _bars(ax, values: np.ndarray, titles: Sequence[str], colour: str, heading: str) -> None:
    """Bars of ``values`` from :func:`_bar_base`, each value printed beyond its bar's end;
    the axis limits come later (:func:`_fit_values`)."""
    base = _bar_base(values)
    ax.barh(range(len(values)), values - base, left=base, color=colour, alpha=0.85)
    ax.set_yticks(range(len(values)), [short_label(t, 38) for t in titles], fontsize=9)
    ax.invert_yaxis()
    ax.set_title(heading, loc="left", fontsize=11)
    for y, v in enumerate(values):
        ax.annotate(
            f"{v:.2f}",
            (v, y),
            xytext=(3 if v >= base else -3, 0),
            textcoords="offset points",
            va="center",
            ha="left" if v >= base else "right",
            fontsize=8,
        )
    if base == 0:
        ax.axvline(0, color="black", lw=0.8)
        ax.set_xlabel("cosine similarity")
    else:
        _broken_at(ax, 0 if base < values.min() else 1)
        ax.set_xlabel(f"cosine similarity\n(the bars start at {base:.2f}, not at 0)")


def _broken_at(ax, side: float) -> None:
    """Broken-axis marks (//) on the bottom and top spines at ``side`` (axes fraction)."""
    ax.plot(
        [side, side],
        [0, 1],
        transform=ax.transAxes,
        marker=[(-1, -1.5), (1, 1.5)],
        markersize=10,
        linestyle="none",
        color="black",
        markeredgewidth=1,
        clip_on=False,
    )


def _fit_values(ax, values: np.ndarray) -> None:
    """Set the value axis to the bars' extent and the printed values beyond their ends
    (measured with the renderer), once the layout is known."""
    base = _bar_base(values)
    lo, hi = min(float(np.min(values)), base), max(float(np.max(values)), base)
    if hi - lo < BAR_MIN_SPAN / 2:  # all at the base (zero): bars of no length
        lo, hi = (lo - BAR_MIN_SPAN / 2, hi) if values.max() < base else (lo, hi + BAR_MIN_SPAN / 2)
    fig = ax.figure
    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    room = {"left": 0.0, "right": 0.0}  # pixels the printed values need on each side
    for text in ax.texts:
        extent = text.get_window_extent(renderer)
        side = "right" if text.get_horizontalalignment() == "left" else "left"
        room[side] = max(room[side], extent.width + 3 * fig.dpi / 72 + 2)
    per_pixel = (hi - lo) / max(ax.bbox.width - room["left"] - room["right"], 1.0)
    ax.set_xlim(lo - room["left"] * per_pixel, hi + room["right"] * per_pixel)


def save_figure(fig, path: str | os.PathLike, fmt: str = "png") -> Path:
    """Write ``fig`` atomically (exactly its size in pixels for PNG)."""
    if fmt not in FORMATS:
        raise PlotError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # glyphs a font lacks (CJK titles)
        return write_atomic(path, lambda tmp: fig.savefig(tmp, format=fmt, dpi=DPI))
