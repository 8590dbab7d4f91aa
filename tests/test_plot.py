"""wikirec plot: maps, neighbours, bars, the HTML map and the reduction cache, on a model
trained on the p15 records (t-SNE and UMAP kept short: 250 iterations, 50 epochs)."""

from __future__ import annotations

import json
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest

from wikirec.cli import main
from wikirec.plot import (
    PALETTE,
    PlotError,
    ReduceParams,
    colour_groups,
    embedding_map,
    map_figure,
    most_linked,
    reduce_vectors,
    save_figure,
    select_points,
    similarity_bars,
)
from wikirec.trained import BOOKS, LINKS, read_trained

FAST = ["--tsne-iter", "250", "--umap-epochs", "50"]
FAST_PARAMS = ReduceParams(tsne_iter=250, umap_epochs=50)
TARZAN = "The Son of Tarzan"


@pytest.fixture(scope="module")
def model_dir(p15_model, tmp_path_factory) -> Path:
    """A copy of the p15 model: the plots write their reduction cache into it."""
    copy = tmp_path_factory.mktemp("plot") / "model"
    shutil.copytree(p15_model, copy, ignore=shutil.ignore_patterns("checkpoint", "reductions"))
    return copy


@pytest.fixture(scope="module")
def model(model_dir):
    return read_trained(model_dir)


@pytest.fixture(scope="module")
def cli_run(model_dir, tmp_path_factory):
    """One `wikirec plot` run drawing everything (both methods, neighbours, bars)."""
    out = tmp_path_factory.mktemp("plots")
    argv = ["plot", str(model_dir), "--out", str(out), "--size", "900x700", "--top", "6"]
    argv += ["--highlight-top", "3", "--neighbours", TARZAN, "--bars", TARZAN, *FAST]
    code = main(argv)
    return code, out, json.loads((out / "plots.json").read_text())


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's header, which must be a PNG's."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


# --------------------------------------------------------------------------- the CLI run


def test_every_plot_file_is_a_png_of_the_size_asked(cli_run):
    code, out, manifest = cli_run
    assert code == 0
    expected = {
        "books-tsne-genre.png",
        "books-umap-genre.png",
        "books-tsne-genre.html",
        "books-umap-genre.html",
        "books-tsne-neighbours-the-son-of-tarzan.png",
        "books-umap-neighbours-the-son-of-tarzan.png",
        "books-similar-the-son-of-tarzan.png",
    }
    assert set(manifest["files"]) == expected
    for name in expected - {n for n in expected if n.endswith(".html")}:
        assert png_size(out / name) == (900, 700), name
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary files


def test_coloured_maps_have_one_legend_entry_per_value(cli_run):
    _, _, manifest = cli_run
    for entry in manifest["maps"]:
        legend = entry["legend"]
        assert len(legend) == 6 + 1, legend  # six genre groups, then "other or none"
        assert legend[0].startswith("Fantasy (") and legend[-1].startswith("other")


def test_the_map_shows_every_legend_colour(cli_run):
    """Each group's colour is on the map itself (left of the legend), not only in it."""
    import matplotlib.image as mpimg

    _, out, _ = cli_run
    pixels = mpimg.imread(out / "books-umap-genre.png")[:, :560, :3]
    for colour in PALETTE[:6]:
        rgb = np.array([int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)])
        blended = 0.85 * rgb + 0.15  # drawn with alpha 0.85 on white
        near = np.abs(pixels - blended).max(axis=2) < 0.06
        assert near.sum() > 20, colour


def test_the_html_map_is_self_contained(cli_run):
    _, out, _ = cli_run
    html = (out / "books-umap-genre.html").read_text(encoding="utf-8")
    assert "<script src=" not in html and "plotly" in html.lower()
    assert TARZAN in html and 'id="q"' in html  # titles to hover and search
    assert "Edgar Rice Burroughs" in html  # a hover field


def test_the_cli_says_where_files_went_and_reuses_the_cache(cli_run, model_dir, capsys):
    _, out, first = cli_run
    assert all("computed in" in line for line in first["reductions"])
    code = main(["plot", str(model_dir), "--out", str(out), "--size", "900x700", *FAST])
    text = capsys.readouterr().out
    assert code == 0 and text.count("reused the cached reduction") == 2
    assert f"wrote {out}/" in text
    caches = sorted(p.name for p in (model_dir / "reductions").iterdir())
    assert len(caches) == 4 and all(n.startswith("books-") for n in caches)  # 2 x (.npy, .json)


# --------------------------------------------------------------------------- the cache


def test_cache_is_reused_and_invalidated_when_the_vectors_change(model, tmp_path):
    vectors = model.vectors[BOOKS][:300]
    params = ReduceParams(method="tsne", tsne_iter=250)
    first = reduce_vectors(vectors, params, tmp_path, label="books")
    again = reduce_vectors(vectors, params, tmp_path, label="books")
    assert not first.cached and again.cached and again.cache_path == first.cache_path
    np.testing.assert_array_equal(first.coords, again.coords)
    assert "reused the cached reduction" in again.describe("books")
    changed = vectors.copy()
    changed[0] = -changed[0]
    third = reduce_vectors(changed, params, tmp_path, label="books")
    assert not third.cached and third.cache_path != first.cache_path
    assert sorted(p.stem for p in tmp_path.iterdir()) == [third.cache_path.stem] * 2
    other = reduce_vectors(changed, ReduceParams(method="tsne", tsne_iter=251), tmp_path, "books")
    assert not other.cached  # other parameters: another entry, the first one kept
    assert len(list(tmp_path.glob("*.npy"))) == 2


def test_an_empty_cached_reduction_is_computed_again(model, tmp_path):
    vectors = model.vectors[BOOKS][:300]
    params = ReduceParams(method="tsne", tsne_iter=250)
    first = reduce_vectors(vectors, params, tmp_path, label="books")
    first.cache_path.write_bytes(b"")  # a disk that filled up, a copy cut short
    again = reduce_vectors(vectors, params, tmp_path, label="books")
    assert not again.cached and again.cache_path == first.cache_path
    np.testing.assert_array_equal(again.coords, first.coords)
    assert reduce_vectors(vectors, params, tmp_path, label="books").cached  # written again


def test_reductions_are_reproducible(model):
    vectors = model.vectors[LINKS][:200]
    a = reduce_vectors(vectors, ReduceParams(method="umap", umap_epochs=30))
    b = reduce_vectors(vectors, ReduceParams(method="umap", umap_epochs=30))
    np.testing.assert_array_equal(a.coords, b.coords)
    assert a.coords.shape == (200, 2) and a.cache_path is None


# --------------------------------------------------------------------------- colours


def test_categories_cover_the_most_books(model):
    points = select_points(model, BOOKS)
    groups = colour_groups(model, points, "category", top=4)
    assert groups.names[0] == "Fantasy short story collections"
    assert len(groups.legend_labels()) == 4 + 1
    assert groups.counts == sorted(groups.counts, reverse=True)
    assert sum(groups.counts) + groups.n_other == 1411


def test_chosen_values_and_the_figure_legend(model):
    points = select_points(model, BOOKS)
    wanted = ["American science fiction novels", "category:American fantasy novels"]
    groups = colour_groups(model, points, "categories", values=wanted)
    assert groups.names == ["American science fiction novels", "American fantasy novels"]
    coords = np.random.default_rng(0).normal(size=(len(points.rows), 2))
    fig = map_figure(coords, groups, points.titles, highlight=[0], size=(640, 480))
    texts = [t.get_text() for t in fig.legends[0].get_texts()]
    assert len(texts) == 3 and texts[0].startswith("American science fiction novels (")


def test_links_take_the_value_of_the_books_linking_to_them(model):
    points = select_points(model, LINKS, links="categories")
    # labelled by Wikipedia's titles (the build's display), not its case-folded keys
    assert all(t.startswith("Category:") for t in points.titles) and len(points.rows) == 258
    groups = colour_groups(model, points, "genre", top=5)
    assert groups.names[:2] == ["Fantasy", "Science fiction"]  # genre groups
    row = points.titles.index("Category:American science fiction novels")
    assert groups.names[groups.codes[row]].startswith("Science fiction")
    stars = most_linked(model, points, 2)
    assert [points.titles[i] for i in stars] == [
        "Category:Fantasy short story collections",
        "Category:Single-writer horror short story collections",
    ]


def test_link_map_and_bars_are_drawn(model, tmp_path):
    fig = embedding_map(
        model,
        kind=LINKS,
        links="categories",
        method="tsne",
        highlight_top=3,
        top=5,
        params=FAST_PARAMS,
        size=(700, 500),
    )
    assert len(fig.legends[0].get_texts()) == 5 + 1 + 1  # values, other, the stars
    assert png_size(save_figure(fig, tmp_path / "links.png")) == (700, 500)
    bars = similarity_bars(model, "science fiction", kind=LINKS, k=7, size=(800, 600))
    most, least = bars.axes[:2]
    assert len(most.patches) == len(least.patches) == 7
    labels = [t.get_text() for t in most.get_yticklabels()]
    assert "science fiction" not in labels


def test_neighbour_map_notes_that_2d_need_not_keep_neighbours(cli_run):
    _, out, _ = cli_run
    assert png_size(out / "books-umap-neighbours-the-son-of-tarzan.png") == (900, 700)
    from wikirec.plot import neighbours_figure

    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(50, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    fig = neighbours_figure(rng.normal(size=(50, 2)), vectors, [f"t{i}" for i in range(50)], 0, 5)
    note = fig.get_supxlabel()
    assert "nearest in the 8-D embedding" in note and "need not keep them near" in note


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--color-by", "colour"], "no book has a 'colour' field"),
        (["--color-by", "category", "--values", "Martian novels"], "'Martian novels'"),
        (["--highlight", "The Sun of Tarzan"], "Did you mean: The Son of Tarzan"),
        (["--bars", "Nowhere Book"], "No book 'Nowhere Book'"),
        (
            ["--kind", "links", "--links", "categories", "--neighbours", "science fiction"],
            "not among the category pages",
        ),
        (["--size", "100x50"], "at least 200x150"),
        (["--size", "100000x100000"], "at most 10000x10000 pixels, not 100000x100000"),
    ],
)
def test_bad_input_fails_in_one_line_and_writes_nothing(model_dir, tmp_path, capsys, args, message):
    out = tmp_path / "plots"
    code = main(["plot", str(model_dir), "--out", str(out), *args, *FAST])
    err = capsys.readouterr().err
    assert code == 2 and message in err, err
    assert err.startswith("wikirec plot: ") and err.count("\n") == 1
    assert not out.exists()


def test_unwritable_output_and_broken_model(model_dir, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["plot", str(model_dir), "--out", str(blocker / "plots"), *FAST]) == 2
    assert "cannot write plots here" in capsys.readouterr().err
    broken = tmp_path / "broken"
    shutil.copytree(model_dir, broken, ignore=shutil.ignore_patterns("reductions"))
    (broken / "link_titles.json").unlink()
    assert main(["plot", str(broken), "--out", str(tmp_path / "out"), *FAST]) == 2
    err = capsys.readouterr().err
    assert "missing link_titles.json" in err and err.count("\n") == 1
    with pytest.raises(PlotError, match="top must be between 1 and 20"):
        colour_groups(read_trained(model_dir), select_points(read_trained(model_dir)), top=25)


# --------------------------------------------------------------------------- hostile titles


@pytest.fixture(scope="module")
def hostile_map(tmp_path_factory) -> str:
    """The HTML map `wikirec plot` draws of a model whose titles and fields are markup
    (tests/serve_data.py), each hostile title starred so that its label is drawn."""
    from serve_data import HOSTILE_TITLES, make_hostile_model

    folder = tmp_path_factory.mktemp("plot-hostile")
    model = make_hostile_model(folder)
    out = folder / "plots"
    argv = ["plot", str(model), "--out", str(out), "--method", "tsne", "--size", "800x600"]
    argv += ["--perplexity", "2", "--color-by", "author", "--highlight", *HOSTILE_TITLES]
    assert main([*argv, *FAST, "--quiet"]) == 0
    return (out / "books-tsne-author.html").read_text(encoding="utf-8")


def test_no_title_can_end_or_hide_the_maps_scripts(hostile_map):
    from serve_data import COMMENT_TITLE, HOSTILE_TITLES, SCRIPT_TITLE

    assert COMMENT_TITLE.startswith("<!--") and SCRIPT_TITLE.startswith("<script>")
    # Every <script> the page opens is closed once, by its own </script>: no title
    # wrote a tag, a comment opener or a closer into a script.
    assert hostile_map.count("<script") == hostile_map.count("</script>")
    data = hostile_map.split("const data = ", 1)[1].split(";\n", 1)[0]
    assert not set(data) & set("<>&\u2028\u2029")
    assert set(HOSTILE_TITLES) <= set(json.loads(data)["titles"])


def test_plotly_draws_hostile_titles_and_fields_as_text():
    import pandas as pd

    from wikirec.plot import Groups, interactive_html

    titles = ["<b>Bold</b> & co", "<br>Broken", "Plain"]
    groups = Groups(field="genre", names=["<i>Slanted</i>"], codes=np.array([0, -1, 0]), counts=[2])
    hover = pd.DataFrame({"author": ["<a href='https://x.example/'>A</a>", None, "B"]})
    html = interactive_html(np.zeros((3, 2)), groups, titles, hover, highlight=[0], title="<b>t")
    call = html.index("Plotly.newPlot(")  # ("wikirec-map", [traces], {layout}, ...)
    figure, end = json.JSONDecoder().raw_decode(html, html.index("[", call))
    layout, _ = json.JSONDecoder().raw_decode(html, html.index("{", end))
    shown = [row[:2] for trace in figure if "customdata" in trace for row in trace["customdata"]]
    assert [
        "&lt;b&gt;Bold&lt;/b&gt; &amp; co",
        "&lt;a href='https://x.example/'&gt;A&lt;/a&gt;",
    ] in shown
    assert ["&lt;br&gt;Broken", ""] in shown
    names = [trace["name"] for trace in figure]
    assert "&lt;i&gt;Slanted&lt;/i&gt; (2)" in names
    assert [label["text"] for label in layout["annotations"]] == [
        "&lt;b&gt;Bold&lt;/b&gt; &amp; co"
    ]  # the star's label


def test_a_failure_while_drawing_leaves_the_earlier_plots_whole(model_dir, tmp_path, monkeypatch):
    """Issue 27: plot draws into a staging folder and gives the files their names only
    once all are drawn, plots.json last: a full disk at the bar chart, after the maps
    were drawn, leaves the earlier plots and their plots.json as they were, and no
    staging folder behind."""
    import errno
    import os

    from wikirec.io import CannotWrite
    from wikirec.plot import maps

    out = tmp_path / "plots"
    argv = ["plot", str(model_dir), "--out", str(out), "--method", "tsne", "--size", "600x400"]
    argv += ["--bars", TARZAN, *FAST, "--quiet"]
    assert main(argv) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert "plots.json" in before and any(name.endswith("-similar-the-son-of-tarzan.png")
                                          for name in before)  # fmt: skip
    save = maps.save_figure

    def disk_full_at_the_bars(fig, path, fmt):
        if "-similar-" in Path(path).name:
            raise CannotWrite(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return save(fig, path, fmt)

    monkeypatch.setattr(maps, "save_figure", disk_full_at_the_bars)
    argv[argv.index("600x400")] = "700x500"  # every file would change
    assert main(argv) == 2
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_genres_are_coloured_by_their_groups(model):
    """Issue 26: a genre map colours genre groups (GENRE_GROUPS), so that most books get
    a colour: on the bundled records, at least 70% of all books and almost every book
    that has a genre; spellings and lists of one group share its colour."""
    from wikirec.plot.colours import genre_group
    from wikirec.plot.points import select_points

    assert genre_group("Science fiction novel") == genre_group("Sci-fi") == "science fiction"
    assert genre_group("Fantasy, horror") == "fantasy" and genre_group("horror") == "horror"
    assert genre_group("Sword and sorcery") == "fantasy"
    assert genre_group("Non-fiction<br>encyclopedic") == "non-fiction"
    assert genre_group("Historical novel") == "historical and adventure"
    assert genre_group("Artillery manuals") == "" and genre_group("") == ""
    books = select_points(model, "books", "all")
    groups = colour_groups(model, books, "genre", top=10)
    with_genre = sum(1 for g in model.books["genre"].fillna("") if g.strip())
    coloured = len(groups.codes) - groups.n_other
    assert coloured >= 0.7 * len(groups.codes) and coloured >= 0.95 * with_genre
    assert "Science fiction" in groups.names and "Science fiction novel" not in groups.names
    # Genres asked for by name are coloured as written, not grouped.
    chosen = colour_groups(model, books, "genre", values=["Science fiction novel"])
    assert chosen.names == ["Science fiction novel"]


def test_the_legend_says_what_the_stars_are(model):
    """Issue 26: a starred map's legend has an entry for the star saying what is
    starred: the books asked for, the most linked-to, or both."""
    from wikirec.plot.points import star_label

    fig = embedding_map(model, method="tsne", highlight=[TARZAN], highlight_top=3,
                        params=FAST_PARAMS, size=(900, 700))  # fmt: skip
    texts = [t.get_text() for t in fig.legends[0].get_texts()]
    assert texts[-1] == "starred: the books asked for and the 3 most linked-to"
    points = fig.wikirec["points"]
    assert star_label(points, (), 5) == "starred: the 5 most linked-to books"
    assert star_label(points, [TARZAN]) == "starred: the books asked for"
    assert star_label(points) == ""
    plain = embedding_map(model, method="tsne", color_by=None, highlight_top=2,
                          params=FAST_PARAMS, size=(900, 700))  # fmt: skip
    assert [t.get_text() for t in plain.legends[0].get_texts()] == [
        "starred: the 2 most linked-to books"]


def test_star_labels_meet_no_other_label_and_no_star(model):
    """Issue 26: on a small t-SNE map with the 20 most linked-to books starred, where
    stars crowd and pile up, no label's box (as the renderer measures it) meets another
    label's or any star, and every label lies inside the map; a label that found no room
    is a number, listed under the legend with its title."""
    from itertools import combinations

    from matplotlib.text import Annotation, Text

    fig = embedding_map(model, method="tsne", highlight_top=20, params=FAST_PARAMS,
                        size=(600, 450))  # fmt: skip
    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    labels = [t for t in ax.texts if isinstance(t, Annotation)]
    boxes = [Text.get_window_extent(label, renderer) for label in labels]
    assert len(labels) == 20
    assert not [(a, b) for a, b in combinations(boxes, 2) if a.overlaps(b)]
    assert all(ax.bbox.x0 <= b.x0 and b.x1 <= ax.bbox.x1 and ax.bbox.y0 <= b.y0
               and b.y1 <= ax.bbox.y1 for b in boxes)  # fmt: skip
    stars = ax.collections[-1]  # drawn last, over the groups
    centres = ax.transData.transform(stars.get_offsets())
    radius = np.sqrt(stars.get_sizes()[0]) / 2 * fig.dpi / 72  # sizes: points²
    assert len(centres) == 20
    for box in boxes:
        nearest = np.clip(centres, [box.x0, box.y0], [box.x1, box.y1])
        assert np.hypot(*(nearest - centres).T).min() >= radius
    numbers = sorted(int(t.get_text()) for t in labels if t.get_text().isdigit())
    listed = [leg for leg in fig.legends if leg.get_title().get_text() == "numbered on the map"]
    assert numbers == list(range(1, len(numbers) + 1))
    assert len(listed) == (1 if numbers else 0)
    if numbers:
        assert len(listed[0].get_texts()) == len(numbers)


def test_the_bars_value_axis_hugs_the_similarities(model):
    """Issue 26: a bar chart's value axis is fitted to its similarities, not -1 to 1: on
    the p15 model, the bars and the values printed beyond their ends span at least 90% of
    each panel's width, every printed value inside the panel and clear of the bars; bars
    that do not start at zero say where they start, the axis marked broken there."""
    fig = similarity_bars(model, TARZAN, k=10, size=(900, 700))
    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes[:2]:
        bars = [patch.get_window_extent(renderer) for patch in ax.patches]
        values = [text.get_window_extent(renderer) for text in ax.texts]
        assert len(bars) == len(values) == 10
        used = max(b.x1 for b in bars + values) - min(b.x0 for b in bars + values)
        assert used >= 0.9 * ax.bbox.width
        frame = ax.bbox
        for value in values:
            assert frame.x0 <= value.x0 and value.x1 <= frame.x1
            assert not any(value.overlaps(bar) for bar in bars)
        (base,) = {round(patch.get_x(), 9) for patch in ax.patches}  # where every bar starts
        if base:
            assert f"start at {base:.2f}, not at 0" in ax.get_xaxis().get_label().get_text()
            assert [line for line in ax.lines if line.get_transform() is ax.transAxes]
