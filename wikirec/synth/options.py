"""The generator's options, written once: :class:`GeneratorOptions`.

:func:`wikirec.synth.generate_dump`, :func:`wikirec.synth.generate_partitions`,
:func:`wikirec.synth.write_records` and ``wikirec generate`` all take them; the keyword
arguments of the first two are the fields of this class.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

from wikirec.synth.names import valid_title
from wikirec.synth.tables import NAMESPACE_NAMES
from wikirec.titles import canonical_template_name

# Fields that say how the files are written rather than what the dump holds: left out
# of the ground truth's "params".
_FILE_FIELD = {"file": True}


@dataclass(frozen=True)
class GeneratorOptions:
    """What a generated dump holds and how it is written.

    ``xml_bytes``: the size of the decompressed XML, met within a few per cent (the
    planted pages set a floor of about 200 KB). ``n_books`` entity pages (default:
    ``book_page_fraction`` of all pages) carry ``template`` ("Infobox film" makes
    films) or, on ``alias_fraction`` of them, one of ``template_aliases`` (default:
    "Infobox novel" for books, "Infobox movie" for films). ``redirect_fraction`` of
    all pages are redirects; ``other_infobox_fraction`` of the filler articles carry
    another infobox. A genre's pool of topic articles holds ``topics_per_book`` topics
    per book of the genre (at least 10; default: 10 to 60, growing with the square
    root of its books), their popularity falling as ``rank ** -topic_zipf``: larger,
    flatter pools give more distinct links, as the records of the reference's shape
    need.

    The whole dump's shape, as the presets of :mod:`wikirec.synth.presets` set it
    (each default keeps the dump as it was without it): with ``articles`` the dump is
    sized by counts instead of bytes: exactly ``articles`` main-namespace articles and
    ``redirects`` main-namespace redirects (the planted pages among them), and the
    pages of ``namespace_pages``, ``(namespace, pages, mean bytes of wikitext)`` each,
    in other namespaces (categories, files, templates, project pages, drafts, ...);
    ``xml_bytes`` is then only the progress bar's estimate. A filler article's wikitext
    is lognormal, of median ``article_bytes`` and ``article_sigma``; it holds
    ``article_links`` wikilinks on average (lognormal, whatever its size; default: one
    per 130 characters of prose), whose targets, with ``link_zipf``, are drawn by
    popularity (the article of rank r with weight ``r ** -link_zipf``, as Wikipedia's
    in-links are heavy-tailed) instead of uniformly. ``entity_links`` more links on
    average (lognormal) go from each entity page to articles drawn the same way (by
    ``r ** -entity_zipf`` where given): the characters, places and people a real book
    page names. ``mention_share`` of the
    filler articles mention an entity or two, with ``mention_zipf`` the entity of rank
    r with weight ``r ** -mention_zipf`` (famous books are named often). With
    ``block_pages``, each block of that many page slots draws from random streams of
    its own, so that ``workers`` processes can write the blocks at once (the bytes do
    not depend on ``workers``); it needs ``articles``.

    Files: ``multistream`` (default: on for one dump, off for partitions, as enwiki
    publishes them) with ``pages_per_stream`` pages a bz2 stream and, with
    ``write_index``, its ``-index.txt.bz2``; ``write_truth`` writes the ground truth;
    ``progress`` shows a progress bar. The same options always give the same bytes.
    """

    xml_bytes: int
    seed: int = 0
    n_books: int | None = None
    book_page_fraction: float = 0.002
    redirect_fraction: float = 0.5
    other_infobox_fraction: float = 0.1
    template: str = "Infobox book"
    template_aliases: tuple[str, ...] | None = None
    alias_fraction: float = 0.08
    pages_per_stream: int = 100
    topics_per_book: float | None = None
    topic_zipf: float = 0.9
    articles: int | None = None
    redirects: int = 0
    namespace_pages: tuple[tuple[int, int, int], ...] = ()
    article_bytes: int = 2900
    article_sigma: float = 0.9
    article_links: float | None = None
    link_zipf: float | None = None
    entity_links: float = 0.0
    entity_zipf: float | None = None
    mention_share: float = 0.03
    mention_zipf: float | None = None
    block_pages: int = 0
    workers: int = field(default=1, metadata=_FILE_FIELD)
    multistream: bool | None = field(default=None, metadata=_FILE_FIELD)
    write_index: bool = field(default=True, metadata=_FILE_FIELD)
    write_truth: bool = field(default=True, metadata=_FILE_FIELD)
    progress: bool = field(default=False, metadata=_FILE_FIELD)

    def __post_init__(self) -> None:
        aliases = self.template_aliases
        object.__setattr__(self, "xml_bytes", int(self.xml_bytes))
        object.__setattr__(self, "seed", int(self.seed))
        object.__setattr__(self, "template_aliases", None if aliases is None else tuple(aliases))
        pages = tuple((int(ns), int(n), int(size)) for ns, n, size in self.namespace_pages)
        object.__setattr__(self, "namespace_pages", pages)
        self._check()

    @classmethod
    def of(cls, options: GeneratorOptions | None, overrides: dict[str, Any]) -> GeneratorOptions:
        """``options`` with ``overrides`` (keyword arguments named as the fields), or the
        options made of ``overrides`` alone."""
        if options is None:
            return cls(**overrides)
        return replace(options, **overrides)

    def params(self) -> dict[str, Any]:
        """The options that decide the content, as the ground truth records them."""
        params: dict[str, Any] = {}
        for f in fields(self):
            if not f.metadata.get("file"):
                value = getattr(self, f.name)
                params[f.name] = list(value) if isinstance(value, tuple) else value
        return params

    def _check(self) -> None:
        if self.xml_bytes <= 0:
            raise ValueError("xml_bytes must be positive")
        if self.seed < 0:
            raise ValueError("seed must be >= 0")
        if self.n_books is not None and self.n_books < 0:
            raise ValueError("n_books must be >= 0")
        if not 0 <= self.book_page_fraction < 1:
            raise ValueError("book_page_fraction must be in [0, 1)")
        if not 0 <= self.redirect_fraction < 1:
            raise ValueError("redirect_fraction must be in [0, 1)")
        if not 0 <= self.other_infobox_fraction <= 1:
            raise ValueError("other_infobox_fraction must be in [0, 1]")
        if not 0 <= self.alias_fraction <= 1:
            raise ValueError("alias_fraction must be in [0, 1]")
        if self.pages_per_stream < 1:
            raise ValueError("pages_per_stream must be >= 1")
        if self.topics_per_book is not None and self.topics_per_book <= 0:
            raise ValueError("topics_per_book must be positive")
        if self.topic_zipf < 0:
            raise ValueError("topic_zipf must be >= 0")
        if self.articles is not None and (self.articles < 0 or self.redirects < 0):
            raise ValueError("articles and redirects must be >= 0")
        for ns, n, size in self.namespace_pages:
            if ns not in NAMESPACE_NAMES or ns <= 0 or ns % 2 or n < 0 or size < 0:
                raise ValueError(f"namespace_pages: ({ns}, {n}, {size}) is not a content "
                                 "namespace (even, above 0) with counts >= 0")  # fmt: skip
        if self.article_bytes < 1 or not self.article_sigma >= 0:
            raise ValueError("article_bytes must be >= 1 and article_sigma >= 0")
        for name in ("article_links", "link_zipf", "entity_zipf", "mention_zipf"):
            value = getattr(self, name)
            if value is not None and not value >= 0:
                raise ValueError(f"{name} must be >= 0")
        if not self.entity_links >= 0 or not 0 <= self.mention_share <= 1:
            raise ValueError("entity_links must be >= 0 and mention_share in [0, 1]")
        if self.block_pages < 0 or self.block_pages % self.pages_per_stream:
            raise ValueError("block_pages must be a multiple of pages_per_stream")
        if self.block_pages and self.articles is None:
            raise ValueError("block_pages needs articles: blocks are planned by counts")
        if self.workers < 1 or (self.workers > 1 and not self.block_pages):
            raise ValueError("workers must be >= 1, and more than 1 only with block_pages")
        if not valid_title(canonical_template_name(self.template)):
            raise ValueError(f"not a template name: {self.template!r}")
