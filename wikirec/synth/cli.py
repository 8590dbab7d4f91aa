"""``wikirec generate``: the command line of the dump generator."""

from __future__ import annotations

import argparse
import os

from wikirec.cli import (
    MAX_SEED,
    at_most,
    describe_os_error,
    fail,
    non_empty,
    non_negative_int,
    positive_float,
    positive_int,
)
from wikirec.synth.files import generate_dump, generate_partitions
from wikirec.synth.options import GeneratorOptions
from wikirec.synth.presets import preset_names, preset_options

MAX_SIZE_MB = 10**7  # 10 TB of XML, a hundred times the real English dump
MAX_BOOKS = 10**8  # more than the pages of any Wikipedia


def add_command(subparsers) -> None:
    """Register ``wikirec generate`` on an argparse subparsers object."""
    parser = subparsers.add_parser(
        "generate",
        help="write a synthetic Wikipedia dump with planted structure",
        description="Write a deterministic synthetic MediaWiki XML dump (.xml, or .xml.bz2 "
        "multistream with its index) whose entity pages carry a planted structure, and its "
        "ground truth (<OUT_PATH>.truth.json.gz). With --partitions, OUT_PATH is a folder "
        "that receives enwiki-style partition files.",
    )
    parser.add_argument("out", metavar="OUT_PATH", help="dump file (.xml or .xml.bz2) or folder")
    parser.add_argument(
        "--size-mb",
        type=at_most(positive_float, MAX_SIZE_MB),
        default=None,
        help="MB (10^6 bytes) of XML (default 50)",
    )
    parser.add_argument(
        "--like",
        choices=preset_names(),
        default=None,
        help="the shape of a real dump, sized by counts: its page counts per namespace, "
        "redirects, article sizes and links, books and their in-links (figures and sources: "
        "wikirec/synth/data/NAME.toml)",
    )
    parser.add_argument(
        "--scale",
        type=positive_float,
        default=1.0,
        help="with --like: every count times this, at most 1 (default 1: the real counts)",
    )
    parser.add_argument(
        "--text-scale",
        type=positive_float,
        default=1.0,
        help="with --like: page text bytes times this, at most 1; the counts stay (default 1)",
    )
    parser.add_argument(
        "--workers",
        type=positive_int,
        default=None,
        help="with --like: processes writing the dump at once (default: all cores); the "
        "bytes are the same for any number",
    )
    parser.add_argument(
        "--seed",
        type=at_most(non_negative_int, MAX_SEED),
        default=0,
        help="random seed (default 0)",
    )
    parser.add_argument(
        "--books",
        type=at_most(non_negative_int, MAX_BOOKS),
        default=None,
        metavar="N",
        help="exactly N entity pages (default: 0.2%% of all pages)",
    )
    parser.add_argument(
        "--template",
        type=non_empty,
        default="Infobox book",
        metavar="NAME",
        help="infobox of the entity pages (default: Infobox book)",
    )
    parser.add_argument("--single-stream", action="store_true", help="one bz2 stream, no index")
    parser.add_argument("--no-index", action="store_true", help="no -index.txt.bz2")
    parser.add_argument(
        "--partitions",
        type=positive_int,
        default=None,
        metavar="N",
        help="write N partition files into the folder OUT_PATH",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Handler of ``wikirec generate``: prints a one-line summary; returns the exit code."""
    try:
        options = _options(args)
        if args.partitions is not None:
            stats = generate_partitions(args.out, args.partitions, options)
        else:
            stats = generate_dump(args.out, options)
    except ValueError as exc:
        return fail("generate", exc)
    except OSError as exc:
        if type(exc).__str__ is OSError.__str__:  # name the file asked for, not its .part
            exc.filename = str(exc.filename or args.out).removesuffix(".part")
        return fail("generate", describe_os_error(exc))
    compressed = stats["compressed_bytes"]
    rate = stats["xml_bytes"] / 1e6 / stats["seconds"] if stats["seconds"] > 0 else 0.0
    size = f", {compressed / 1e6:,.1f} MB bz2" if compressed is not None else ""
    print(
        f"wrote {stats['path']}: {stats['pages']:,} pages ({stats['redirects']:,} redirects, "
        f"{stats['books']:,} {'entities' if args.template != 'Infobox book' else 'books'}), "
        f"{stats['xml_bytes'] / 1e6:,.1f} MB of XML{size} in {stats['seconds']:,.1f} s "
        f"({rate:,.1f} MB/s); truth {stats['truth']}"
    )
    return 0


def _options(args: argparse.Namespace) -> GeneratorOptions:
    files = {
        "seed": args.seed,
        "multistream": not args.single_stream,
        "write_index": not args.no_index,
        "progress": not args.quiet,
    }
    if args.like is None:
        for given, option in ((args.workers, "--workers"), (args.scale != 1.0, "--scale"),
                              (args.text_scale != 1.0, "--text-scale")):  # fmt: skip
            if given:
                raise ValueError(f"{option} goes with --like")
        size_mb = 50.0 if args.size_mb is None else args.size_mb
        return GeneratorOptions(xml_bytes=int(size_mb * 10**6), n_books=args.books,
                                template=args.template, **files)  # fmt: skip
    if args.size_mb is not None:
        raise ValueError("--size-mb does not go with --like: --scale and --text-scale size it")
    extra = {} if args.books is None else {"n_books": args.books}
    return preset_options(
        args.like, args.scale, args.text_scale, template=args.template,
        workers=args.workers or os.cpu_count() or 1, **extra, **files,
    )  # fmt: skip
