"""The interactive HTML map: plotly, embedded (no network needed), each point's title
and fields on hover, a legend that toggles groups, and a search box that stars and
zooms to the titles it matches.

The page around the plot is a template file beside this module, ``page.html`` (HTML,
CSS and the search box's JavaScript), filled by :class:`string.Template` substitution
of ``$title``, ``$div`` and ``$data``.

Titles and fields are text, never markup. Plotly draws hover cards, labels, legend
entries and titles from a subset of HTML (``<b>``, ``<br>``, ``<a href>``, ...) and
decodes ``&lt;``, ``&gt;`` and ``&amp;`` after reading the tags, so every string it
draws is passed through :func:`plotly_text`. The search box's data is JSON inside a
``<script>``, where ``</script>`` ends the script and ``<!--`` changes how the end is
found: :func:`script_json` writes ``<``, ``>`` and ``&`` as JSON unicode escapes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from html import escape
from pathlib import Path
from string import Template

import numpy as np
import pandas as pd

from wikirec.plot.colours import OTHER_COLOUR, PALETTE, SINGLE_COLOUR, Groups
from wikirec.plot.figures import label_places
from wikirec.plot.points import Points
from wikirec.trained import BOOKS, TrainedModel

PAGE = Template(Path(__file__).with_name("page.html").read_text(encoding="utf-8"))
HEIGHT = 800
# The plot area the star labels are placed for (pixels): the map in a window about
# 1,280 px wide, HEIGHT less plotly's margins and title. The map keeps its aspect, so a
# wider window mostly adds room at the sides; a narrower one shrinks the map.
LABEL_AREA = (1000, 620)
FONT_PX = 12  # plotly's default
STAR_PX = 16  # the stars' size (across)


def plotly_text(text: object) -> str:
    """``text`` as plotly shows it literally: ``&``, ``<`` and ``>`` as entities (not
    ``&quot;``, which plotly does not decode)."""
    return escape(str(text), quote=False)


def script_json(data: object) -> str:
    """``data`` as JSON that can stand inside an HTML ``<script>``: no ``<``, ``>``
    or ``&`` (so no ``</script>``, ``<!--`` or ``<script``), and U+2028 and U+2029
    escaped, which older JavaScript did not accept in a string."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False)
    for char in "<>&\u2028\u2029":
        text = text.replace(char, f"\\u{ord(char):04x}")
    return text


def hover_table(trained: TrainedModel, points: Points) -> pd.DataFrame:
    """The fields shown on hover: author, genre, country, publisher for books; type and
    books linking to it for pages (titles only without the build)."""
    if points.kind == BOOKS:
        if not trained.has_metadata:
            return pd.DataFrame(index=range(len(points.rows)))
        columns = ["author", "genre", "country", "publisher"]
        return trained.books.iloc[points.rows][columns].reset_index(drop=True)
    table = pd.DataFrame({"type": np.where(trained.is_category()[points.rows], "category", "page")})
    if trained.has_metadata:
        table["books linking"] = trained.links["count"].to_numpy()[points.rows]
    return table


def interactive_html(
    coords: np.ndarray,
    groups: Groups,
    titles: Sequence[str],
    hover: pd.DataFrame | None = None,
    highlight: Sequence[int] = (),
    title: str = "",
) -> str:
    """A self-contained HTML page (plotly.js embedded): the map, the ``highlight``
    positions starred and labelled as on the PNG map, a hover card with the title and
    ``hover``'s columns, a legend that toggles groups, and a search box that stars and
    zooms to the titles it matches."""
    import plotly.graph_objects as go
    import plotly.io as pio

    hover = hover if hover is not None else pd.DataFrame(index=range(len(titles)))
    shown = [plotly_text(t) for t in titles]
    custom = np.column_stack(
        [np.asarray(shown, dtype=object)]
        + [
            np.asarray([plotly_text(v) for v in hover[c].fillna("").astype(str)], dtype=object)
            for c in hover.columns
        ]
    )
    template = "<b>%{customdata[0]}</b>" + "".join(
        f"<br>{plotly_text(c)}: %{{customdata[{j}]}}" for j, c in enumerate(hover.columns, 1)
    )
    fig = go.Figure()
    labels = groups.legend_labels()
    series = [
        (
            -1,
            OTHER_COLOUR if groups.field else SINGLE_COLOUR,
            labels[-1] if (groups.field and groups.n_other) else "points",
        )
    ]
    series += [(i, PALETTE[i], labels[i]) for i in range(len(groups.names))]
    series = [(code, colour, plotly_text(name)) for code, colour, name in series]
    for code, colour, name in series:
        mask = groups.codes == code
        if mask.any():
            fig.add_trace(
                go.Scattergl(
                    x=coords[mask, 0],
                    y=coords[mask, 1],
                    mode="markers",
                    name=name,
                    marker={"color": colour, "size": 6 if code >= 0 else 5},
                    customdata=custom[mask],
                    hovertemplate=template + f"<extra>{name}</extra>",
                )
            )
    if len(highlight):
        pos = list(highlight)
        fig.add_trace(
            go.Scatter(
                x=coords[pos, 0],
                y=coords[pos, 1],
                mode="markers",
                name="starred",
                customdata=custom[pos],
                marker={
                    "symbol": "star",
                    "size": STAR_PX,
                    "color": "#ffd700",
                    "line": {"width": 1},
                },
                hovertemplate=template + "<extra>starred</extra>",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=[],
            y=[],
            mode="markers+text",
            name="search",
            showlegend=False,
            text=[],
            hovertext=[],
            hovertemplate="<b>%{hovertext}</b><extra>found</extra>",
            textposition="top center",
            marker={
                "symbol": "star",
                "size": 20,
                "color": "#d62728",
                "line": {"width": 1, "color": "black"},
            },
        )
    )
    fig.update_layout(
        template="plotly_white",
        title=plotly_text(title),
        height=HEIGHT,
        annotations=_star_labels(coords, list(highlight), titles),
        legend={"itemsizing": "constant"},
        xaxis={"visible": False},
        yaxis={"visible": False, "scaleanchor": "x"},
        margin={"l": 10, "r": 10},
    )
    div = pio.to_html(
        fig,
        include_plotlyjs=True,
        full_html=False,
        div_id="wikirec-map",
        config={"displaylogo": False, "responsive": True},
    )
    data = {
        "titles": list(titles),
        "x": coords[:, 0].tolist(),
        "y": coords[:, 1].tolist(),
        "searchTrace": len(fig.data) - 1,
    }
    return _page(title, div, data)


def _star_labels(coords: np.ndarray, highlight: list[int], titles: Sequence[str]) -> list[dict]:
    """The labels of the stars at ``highlight`` as plotly annotations, placed as the
    PNG map places them (:func:`~wikirec.plot.figures.label_places`) on a plot area of
    :data:`LABEL_AREA`: there no label meets another, a star or a leader line. The
    offsets are pixels: zoomed, or in a much narrower window, the points move but the
    offsets do not, so labels may meet again. A star whose label had no room has
    none: its hover card names it."""
    places = label_places(
        coords, highlight, [titles[i] for i in highlight], LABEL_AREA, FONT_PX, STAR_PX / 2
    )
    labels = []
    for n, (text, dx, dy, ha, va, leader) in sorted(places.items()):
        x, y = coords[highlight[n]]
        label = {
            "x": float(x),
            "y": float(y),
            "text": plotly_text(text),
            "font": {"size": FONT_PX},
            "bgcolor": "rgba(255, 255, 255, 0.7)",  # legible over the points
            "xanchor": ha,
            "yanchor": "middle" if va == "center" else va,
        }
        if leader:  # the text at the arrow's tail (pixels, y down), the head at the star
            label |= {
                "showarrow": True,
                "ax": dx,
                "ay": -dy,
                "arrowhead": 0,
                "arrowwidth": 0.8,
                "arrowcolor": "#777777",
                "standoff": STAR_PX / 2,
            }
        else:
            label |= {"showarrow": False, "xshift": dx, "yshift": dy}
        labels.append(label)
    return labels


def _page(title: str, div: str, data: dict) -> str:
    """:data:`PAGE` filled in: the title (escaped), the plotly div, and the data the
    search box reads (:func:`script_json`)."""
    return PAGE.substitute(title=escape(title), div=div, data=script_json(data))
