"""The generator's options, written once: :class:`GeneratorOptions`.

:func:`wikirec.synth.generate_dump`, :func:`wikirec.synth.generate_partitions`,
:func:`wikirec.synth.write_records` and ``wikirec generate`` all take them; the keyword
arguments of the first two are the fields of this class.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

from wikirec.synth.names import valid_title
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
    multistream: bool | None = field(default=None, metadata=_FILE_FIELD)
    write_index: bool = field(default=True, metadata=_FILE_FIELD)
    write_truth: bool = field(default=True, metadata=_FILE_FIELD)
    progress: bool = field(default=False, metadata=_FILE_FIELD)

    def __post_init__(self) -> None:
        aliases = self.template_aliases
        object.__setattr__(self, "xml_bytes", int(self.xml_bytes))
        object.__setattr__(self, "seed", int(self.seed))
        object.__setattr__(self, "template_aliases", None if aliases is None else tuple(aliases))
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
        if not valid_title(canonical_template_name(self.template)):
            raise ValueError(f"not a template name: {self.template!r}")
