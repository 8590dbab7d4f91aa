"""Real dumps' shapes as generator options: ``wikirec generate --like enwiki --scale F``.

A preset is a TOML file in ``synth/data/`` (``enwiki.toml``) that gives the real dump's
counts and sizes with where each comes from: main-namespace articles and redirects, the
pages of every other namespace, the size and links of an article, the book pages, and
how books are linked to. :func:`preset_options` turns it into
:class:`~wikirec.synth.options.GeneratorOptions` at a scale: every count times
``scale``; the bytes of page text times ``text_scale`` (the counts stay), so that a dump
with the real dump's page and link counts fits a machine's disk and time. The dump is
sized by counts and written in blocks, by as many processes as ``workers``.
"""

from __future__ import annotations

import math
from typing import Any

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from wikirec.synth.options import GeneratorOptions
from wikirec.synth.plan import REDIRECT_XML
from wikirec.synth.tables import DATA

# Each block of this many page slots draws from its own streams (about 35 MB of XML
# at the enwiki preset's text scale 0.1): the unit of work of a worker.
BLOCK_PAGES = 20_000
# The <page> element around the wikitext: revision, contributor, comment, sha1.
PAGE_XML = 560


def preset_names() -> list[str]:
    """The presets shipped: ``enwiki``."""
    return sorted(p.stem for p in DATA.glob("*.toml"))


def read_preset(name: str) -> dict[str, Any]:
    """A preset's figures, as its TOML file gives them."""
    path = DATA / f"{name}.toml"
    if name not in preset_names():
        raise ValueError(f"no preset {name!r} (known: {', '.join(preset_names())})")
    return tomllib.loads(path.read_text(encoding="utf-8"))


def preset_options(
    name: str, scale: float = 1.0, text_scale: float = 1.0, **overrides: Any
) -> GeneratorOptions:
    """The options of a dump shaped like preset ``name``: its counts times ``scale``, its
    page text times ``text_scale``. ``overrides`` (fields of :class:`GeneratorOptions`:
    ``seed``, ``workers``, ``progress``, ...) are applied last."""
    if not 0 < scale <= 1:
        raise ValueError(f"--scale must be in (0, 1], not {scale}")
    if not 0 < text_scale <= 1:
        raise ValueError(f"--text-scale must be in (0, 1], not {text_scale}")
    figures = read_preset(name)
    articles, books = figures["articles"], figures["books"]

    def count(n: int) -> int:
        return max(round(n * scale), 0)

    namespaces = tuple(
        (ns, count(n), max(round(size * text_scale), 1))
        for ns, n, size in figures["namespaces"]["pages"]
    )
    article_bytes = max(round(articles["median_bytes"] * text_scale), 1)
    options = {
        "n_books": max(count(books["count"]), 1),
        "articles": count(articles["count"]),
        "redirects": count(figures["redirects"]["count"]),
        "namespace_pages": namespaces,
        "article_bytes": article_bytes,
        "article_sigma": articles["sigma"],
        "article_links": float(articles["links"]),
        "link_zipf": articles["link_zipf"],
        "entity_links": float(books["links"]),
        "entity_zipf": books["links_zipf"],
        "topics_per_book": books["topics_per_book"],
        "topic_zipf": books["topic_zipf"],
        "mention_share": books["mention_share"],
        "mention_zipf": books["mention_zipf"],
        "block_pages": BLOCK_PAGES,
    }
    options["xml_bytes"] = _expected_xml_bytes(options, articles["sigma"])
    return GeneratorOptions(**{**options, **overrides})


def _expected_xml_bytes(options: dict[str, Any], sigma: float) -> int:
    """About the XML the options make (the progress bar's total): every page's element,
    the articles' mean text (a lognormal's mean, and at least 8 bytes a link), the other
    namespaces' pages, the redirects."""
    article = max(options["article_bytes"] * math.exp(sigma * sigma / 2),
                  8 * options["article_links"])  # fmt: skip
    total = options["articles"] * (PAGE_XML + article) + options["redirects"] * REDIRECT_XML
    total += sum(n * (PAGE_XML + size) for _, n, size in options["namespace_pages"])
    return max(int(total), 1)
