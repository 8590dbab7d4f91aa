"""``wikirec plot``: the command line of :func:`wikirec.plot.maps.make_plots`."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from wikirec.cli import (
    MAX_HIGHLIGHTS,
    MAX_SEED,
    at_most,
    finite_float,
    non_negative_int,
    positive_float,
    positive_int,
)
from wikirec.plot.figures import DEFAULT_SIZE, FORMATS
from wikirec.plot.maps import PlotOptions, make_plots
from wikirec.plot.points import LINK_SETS
from wikirec.plot.reduce import METHODS, ReduceParams
from wikirec.trained import BOOKS, KINDS


def _size(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d+)\s*[x×X,]\s*(\d+)\s*", text)
    if not match:
        raise argparse.ArgumentTypeError(f"size must be WIDTHxHEIGHT in pixels, not {text!r}")
    return int(match[1]), int(match[2])


def add_command(subparsers) -> None:
    parser = subparsers.add_parser(
        "plot",
        help="maps of the embedding (t-SNE, UMAP), neighbours and similarity bars",
        description="Draw the embedding reduced to 2-D with t-SNE and UMAP, coloured by an "
        "infobox field or by categories, with chosen items starred; one item's nearest "
        "neighbours on the map; the most and least similar items as bars; and an "
        "interactive HTML map. Reductions are cached in MODEL_DIR/reductions/.",
    )
    parser.add_argument("model", metavar="MODEL_DIR", help="output folder of wikirec train")
    parser.add_argument("--out", metavar="DIR", help="output folder (default: MODEL_DIR/plots)")
    parser.add_argument("--data", metavar="DIR", help="build folder (default: from train.json)")
    parser.add_argument("--kind", choices=KINDS, default=BOOKS, help="map books or linked pages")
    parser.add_argument(
        "--links",
        choices=LINK_SETS,
        default="all",
        help="with --kind links: all pages, categories only, or pages only",
    )
    parser.add_argument(
        "--method",
        nargs="+",
        choices=METHODS,
        default=list(METHODS),
        dest="methods",
        help="(default: both)",
    )
    parser.add_argument(
        "--color-by",
        default="genre",
        metavar="FIELD",
        help="an infobox field (genre, country, author, ...), 'category', or "
        "'none' (default: genre)",
    )
    parser.add_argument(
        "--top", type=positive_int, default=10, help="colour the N most common values (10)"
    )
    parser.add_argument(
        "--values",
        nargs="+",
        metavar="VALUE",
        help="colour these values instead, e.g. 'American science fiction novels'",
    )
    parser.add_argument(
        "--highlight", nargs="+", default=[], metavar="TITLE", help="star and label these titles"
    )
    parser.add_argument(
        "--highlight-top",
        type=at_most(non_negative_int, MAX_HIGHLIGHTS),
        default=0,
        metavar="N",
        help="star the N most linked-to items",
    )
    parser.add_argument(
        "--neighbours",
        nargs="+",
        default=[],
        metavar="TITLE",
        help="map each title with its nearest neighbours",
    )
    parser.add_argument(
        "--bars",
        nargs="+",
        default=[],
        metavar="TITLE",
        help="bar chart of the most and least similar items to each title",
    )
    parser.add_argument(
        "--k", type=positive_int, default=10, help="neighbours and bars per side (10)"
    )
    parser.add_argument(
        "--size",
        type=_size,
        default=DEFAULT_SIZE,
        metavar="WxH",
        help="image size in pixels (default: 1400x1000)",
    )
    parser.add_argument("--format", choices=FORMATS, default="png", dest="fmt")
    parser.add_argument("--no-html", action="store_true", help="no interactive HTML maps")
    parser.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    defaults = ReduceParams()
    parser.add_argument("--seed", type=at_most(non_negative_int, MAX_SEED), default=defaults.seed)
    parser.add_argument("--perplexity", type=positive_float, default=defaults.perplexity)
    parser.add_argument("--tsne-iter", type=positive_int, default=defaults.tsne_iter)
    parser.add_argument(
        "--tsne-backend", choices=("auto", "sklearn", "opentsne"), default=defaults.tsne_backend
    )
    parser.add_argument("--umap-neighbors", type=positive_int, default=defaults.umap_neighbors)
    parser.add_argument("--umap-min-dist", type=finite_float, default=defaults.umap_min_dist)
    parser.add_argument("--umap-epochs", type=positive_int, default=None)
    parser.add_argument("--quiet", action="store_true", help="print only errors")
    parser.set_defaults(handler=run)


def options_from_args(args: argparse.Namespace) -> PlotOptions:
    """The :class:`PlotOptions` of parsed command-line arguments."""
    color_by = None if args.color_by.strip().lower() == "none" else args.color_by
    params = ReduceParams(
        seed=args.seed,
        perplexity=args.perplexity,
        tsne_iter=args.tsne_iter,
        tsne_backend=args.tsne_backend,
        umap_neighbors=args.umap_neighbors,
        umap_min_dist=args.umap_min_dist,
        umap_epochs=args.umap_epochs,
    )
    return PlotOptions(
        kind=args.kind,
        links=args.links,
        methods=tuple(dict.fromkeys(args.methods)),
        color_by=color_by,
        top=args.top,
        values=args.values,
        highlight=args.highlight,
        highlight_top=args.highlight_top,
        neighbours=args.neighbours,
        bars=args.bars,
        k=args.k,
        size=args.size,
        fmt=args.fmt,
        html=not args.no_html,
        cache=not args.no_cache,
        params=params,
    )


def run(args: argparse.Namespace) -> int:
    import matplotlib

    matplotlib.use("Agg")
    out = args.out or str(Path(args.model) / "plots")
    manifest = make_plots(
        args.model, out, options_from_args(args), args.data, progress=not args.quiet
    )
    if not args.quiet:
        for line in manifest["notes"] + manifest["reductions"]:
            print(line)
        print(f"wrote {manifest['out']}/: {', '.join(manifest['files'])}, plots.json")
    return 0
