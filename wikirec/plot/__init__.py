"""``wikirec plot``: pictures of the embedding space, as the reference tutorial drew them.

From a trained folder of ``wikirec train`` (and the build it was trained on, for
infobox fields and categories):

* maps: every book (or linked page) reduced to 2-D with t-SNE (scikit-learn, or
  openTSNE for large sets) and UMAP (umap-learn, cosine metric), coloured by an
  infobox field (genre, country, author, ...) or by categories, the most common ones
  or those asked for, with a legend naming the colours and the rest in light grey;
  chosen items (or the most linked-to ones) starred and labelled, no label over
  another or over a star (:func:`embedding_map`, :func:`map_figure`, :func:`place_labels`);
* one item and its nearest neighbours in the full embedding, on the map, coloured by
  similarity (:func:`neighbours_map`);
* the most and least similar items to one, as horizontal bars on an axis fitted to
  the values (:func:`similarity_bars`);
* an interactive HTML map (plotly, embedded: no network needed) whose points show
  their title and fields on hover, with a search box (:func:`interactive_html`).

One concern a module, in the order the data flows:

- :mod:`~wikirec.plot.points`: which items a map shows and which are starred;
  :class:`PlotError`
- :mod:`~wikirec.plot.reduce`: the reductions to 2-D and their cache in the trained
  folder (``MODEL_DIR/reductions/``)
- :mod:`~wikirec.plot.colours`: the colour groups, from the build's metadata
- :mod:`~wikirec.plot.figures`: the matplotlib figures (no pyplot state; the command
  line uses the Agg backend)
- :mod:`~wikirec.plot.page`: the HTML map, its page a template (``page.html``)
- :mod:`~wikirec.plot.maps`: the figures of a trained model, and :func:`make_plots`
- :mod:`~wikirec.plot.cli`: the ``wikirec plot`` command

Everything a user calls is importable from ``wikirec.plot``.
"""

from wikirec.plot.cli import add_command, options_from_args, run
from wikirec.plot.colours import PALETTE, Groups, book_values, colour_groups
from wikirec.plot.figures import (
    map_figure,
    neighbours_figure,
    place_labels,
    save_figure,
    similarity_figure,
)
from wikirec.plot.maps import (
    PlotOptions,
    embedding_map,
    make_plots,
    neighbours_map,
    similarity_bars,
)
from wikirec.plot.page import hover_table, interactive_html
from wikirec.plot.points import (
    PlotError,
    Points,
    highlight_positions,
    most_linked,
    select_points,
)
from wikirec.plot.reduce import ReduceParams, Reduction, reduce_points, reduce_vectors

__all__ = [
    "PALETTE",
    "Groups",
    "PlotError",
    "PlotOptions",
    "Points",
    "ReduceParams",
    "Reduction",
    "add_command",
    "book_values",
    "colour_groups",
    "embedding_map",
    "highlight_positions",
    "hover_table",
    "interactive_html",
    "make_plots",
    "map_figure",
    "most_linked",
    "neighbours_figure",
    "neighbours_map",
    "options_from_args",
    "place_labels",
    "reduce_points",
    "reduce_vectors",
    "run",
    "save_figure",
    "select_points",
    "similarity_bars",
    "similarity_figure",
]
