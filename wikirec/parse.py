"""Stage 1, ``wikirec parse``: a Wikipedia dump in, the pages we want out.

Reads dumps chunk by chunk (:mod:`wikirec.dump`), in parallel worker processes, and
keeps the main-namespace pages that carry one of the chosen templates (``Infobox
book`` and its aliases by default), plus every redirect. Writes::

    OUT/articles.parquet   title, page_id, timestamp, text_length, template, infobox
                           (JSON text), wikilinks, categories, external_links (lists)
    OUT/redirects.parquet  source, target (every redirect; main-namespace titles unprefixed)
    OUT/inlinks.parquet    source, target: a main-namespace page of the dump (kept or
                           not) and a link of it to a kept page, the target as written
                           (normalised, not resolved: a kept title or a redirect
                           leading to one); not with ``inlinks=False``
    OUT/parse.json         parameters, counts, errors

Each chunk's rows, and every page's (page, link target) pairs, are written atomically
under ``OUT/chunks/`` before the final tables are assembled, so a killed run picks up
where it stopped; the pairs are filtered into ``inlinks.parquet`` one chunk at a time
once the kept pages are known, so memory does not grow with the dump.

Chunks run in a local process pool, or with ``scheduler="dask"`` / ``"tcp://HOST:PORT"``
on Dask distributed (an optional dependency: ``pip install 'wikirec[dask]'``): a local
cluster, or an existing one whose workers can read the dumps at the same paths. Dask
workers send each chunk's tables back and this process writes them, so only the dumps,
not ``OUT``, need to be shared.

Only pages that pass a cheap byte-level test for the template reach
mwparserfromhell, and the links of the others are read from their still XML-escaped
bytes (:class:`Markup`); this module must not import TensorFlow.
"""

from __future__ import annotations

import argparse
import calendar
import hashlib
import json
import logging
import os
import re
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import AnyStr

import mwparserfromhell
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from mwparserfromhell.nodes import (
    Argument,
    Comment,
    ExternalLink,
    HTMLEntity,
    Tag,
    Template,
    Text,
    Wikilink,
)
from mwparserfromhell.wikicode import Wikicode

from wikirec import __version__
from wikirec.cli import fail, non_empty, positive_float, positive_int
from wikirec.dump import (
    DEFAULT_CHUNK_BYTES,
    Chunk,
    DumpError,
    RawPage,
    extract_tag,
    find_inputs,
    iter_pages,
    plan_chunks,
    unescape,
)
from wikirec.errors import WikirecError
from wikirec.io import write_atomic, write_json_atomic, write_table_atomic
from wikirec.progress import progress_bar
from wikirec.titles import (
    NAMESPACES,
    TemplateMatcher,
    canonical_template_name,
    dump_namespaces,
    illegal_title,
    namespace_of,
    normalize_title,
    printable,
    with_canonical_namespace,
)

# "Infobox book" and the names that redirect to it on English Wikipedia.
BOOK_TEMPLATES: tuple[str, ...] = (
    "Infobox book",
    "Infobox Book",
    "Infobox books",
    "Infobox Books",
    "Infobox novel",
    "Infobox Novel",
    "Infobox novella",
    "Infobox short story",
    "Infobox Short story",
    "Infobox book series",
    "Infobox Book series",
    "Infobox novel series",
    "Book infobox",
    "Novel infobox",
)

ARTICLE_SCHEMA = pa.schema(
    [
        ("title", pa.string()),
        ("page_id", pa.int64()),
        ("timestamp", pa.timestamp("s", tz="UTC")),
        ("text_length", pa.int64()),
        ("template", pa.string()),
        ("infobox", pa.string()),
        ("wikilinks", pa.list_(pa.string())),
        ("categories", pa.list_(pa.string())),
        ("external_links", pa.list_(pa.string())),
    ]
)
REDIRECT_SCHEMA = pa.schema([("source", pa.string()), ("target", pa.string())])
INLINK_SCHEMA = pa.schema([("source", pa.string()), ("target", pa.string())])
# Redirect chains are followed this far, as `wikirec build` follows them.
REDIRECT_HOPS = 32

_BYTES_ATTR = re.compile(rb'\bbytes="(\d+)"')
_REDIRECT = re.compile(rb'<redirect\s+title="([^"]*)"')
_QUOTES = re.compile(r"'{2,}")
# A bracketed link runs to its "]" (or the line's end: never fails, so linear time),
# its label included: "[http://a.example/ http://a.example/]" is one link, not two.
_EXTERNAL = re.compile(
    r"\[\s*((?:https?:|ftp:)?//[^\s\[\]<>\"]+)[^\]\n]*"
    r"|(?<!\w)((?:https?|ftp)://[^\s\[\]<>\"{}|]+)",
    re.I,
)
# A template's start and its name, white space included: one character class before a
# lookahead runs in linear time, where a lazy name between two "\s*" backtracked in
# cubic time over a run of spaces ("{{" and 2,000 spaces: 24 s).
_TEMPLATE_START = re.compile(r"\{\{([^{}|<>\[\]]*)(?=\||\}\})")
_BRACES = re.compile(r"\{\{|\}\}")
_BREAKS = {"br", "p", "li", "hr"}
_DROPPED_TAGS = {"ref", "references", "math", "syntaxhighlight", "score", "gallery"}


# --------------------------------------------------------------------------- links

_HIDDEN_TAGS = "nowiki|pre|math|syntaxhighlight|source|score"


def _hidden_pattern(lt: str, gt: str, not_gt: str) -> str:
    """Regions MediaWiki shows as they are (no link inside them is a link), with ``lt``
    and ``gt`` standing for ``<`` and ``>`` and ``not_gt`` for any other character."""
    return (
        rf"{lt}!--.*?(?:--{gt}|\Z)"
        rf"|{lt}({_HIDDEN_TAGS})\b{not_gt}*?(?:/{gt}|{gt}.*?(?:{lt}/\1\s*{gt}|\Z))"
    )


# A link target runs to the first "|" or "]]"; a bracket, brace, angle bracket or line
# break before that means no link. (Greedy, it finds what the lazy form finds: none of
# the characters it runs over can start "|" or "]]".)
_LINK_PATTERN = r"\[\[([^\[\]|\n{}<>]*)(?=\||\]\])"


class Markup:
    """Hidden regions and wikilinks of wikitext, read over one spelling of it.

    Two spellings share the same patterns: wikitext itself, and the still XML-escaped
    bytes of a dump's ``<text>``, where ``<`` is ``&lt;`` and ``>`` is ``&gt;`` or ``>``,
    so that the links of pages nobody keeps are read without decoding them. The
    patterns follow ASCII rules (tag names, ``\\b``, ``\\s``), as MediaWiki's do, so both
    spellings find the same regions.
    """

    def __init__(self, lt: str, gt: str, not_gt: str, closers: tuple[str, ...], xml: bool):
        def compiled(pattern: str, flags: int = 0) -> re.Pattern:
            return re.compile(pattern.encode() if xml else pattern, flags | re.A)

        self.hidden = compiled(_hidden_pattern(lt, gt, not_gt), re.S | re.I)
        self.opening = compiled(rf"{lt}(?:!--|(?:{_HIDDEN_TAGS})\b)", re.I)
        self.tag_opening = compiled(rf"{lt}(?:{_HIDDEN_TAGS})\b", re.I)
        self.link = compiled(_LINK_PATTERN)
        encode = str.encode if xml else str
        self.closers = tuple(encode(c) for c in closers)
        self.comment = encode(f"{lt}!--")
        self.blank = encode(" ")

    def visible(self, text: AnyStr) -> AnyStr:
        """``text`` with its hidden regions blanked, as ``self.hidden.sub(" ", text)``, in
        time linear in its length whatever it holds."""
        last_close = -1
        for closer in self.closers:  # the likeliest first: the others are sought after it
            last_close = max(last_close, text.rfind(closer, last_close + 1))
        if self.tag_opening.search(text, last_close + 1) is None:
            # Every tag opening has a ">" after it, so each one sub() tries matches.
            return self.hidden.sub(self.blank, text)
        return self._visible_in_steps(text, last_close)

    def _visible_in_steps(self, text: AnyStr, last_close: int) -> AnyStr:
        # A tag opening with no ">" after it matches nothing, but sub() would look for
        # that ">" up to the end of the text from each such opening: quadratic.
        parts, pos = [], 0
        while True:
            opening = self.opening.search(text, pos, last_close + 1)
            if opening is None:
                break
            region = self.hidden.match(text, opening.start())  # it has its ">"
            parts += [text[pos : region.start()], self.blank]
            pos = region.end()
        # Past the last ">" only a comment can open, and it runs to the end.
        comment = text.find(self.comment, max(pos, last_close + 1))
        parts += [text[pos:comment], self.blank] if comment >= 0 else [text[pos:]]
        return self.blank[:0].join(parts)

    def link_targets(self, text: AnyStr) -> list[AnyStr]:
        """The raw targets of the wikilinks outside hidden regions, in page order."""
        return self.link.findall(self.visible(text))


WIKITEXT = Markup("<", ">", "[^>]", (">",), xml=False)
ESCAPED = Markup("&lt;", "(?:&gt;|>)", "(?:[^&>]|&(?!gt;))", ("&gt;", ">"), xml=True)


def wikilink_titles(text: str) -> list[str]:
    """The targets of the wikilinks of wikitext, normalised (:func:`normalize_title`), in
    page order with repeats; links in comments, ``<nowiki>`` and the like are no links."""
    return [normalize_title(raw) for raw in WIKITEXT.link_targets(text)]


def link_target(title: str) -> bytes | None:
    """A normalised link target as in-links store it, UTF-8, if it names a page of the
    main namespace; else ``None``."""
    return title.encode() if title and namespace_of(title) == "" else None


# Raw link targets whose normal form is their words (ASCII without "#&:<>_") one space
# (or "_") apart, first letter upper-cased; whatever follows a "#" goes. Most are, and
# most others name a namespace. No "&": an entity could spell anything.
_WORDS = rb"[!\"$%'-9;=?-^`-~]+(?:[ _][!\"$%'-9;=?-^`-~]+)*"
_PLAIN_TARGET = re.compile(rb"(%s)(?:#[^&<>]*)?" % _WORDS)
_NAMESPACED_TARGET = re.compile(rb"([A-Za-z]+(?:[ _][A-Za-z]+)*)[ _]*:[^&<>]*")
_NAMESPACE_PREFIXES = frozenset(name.encode() for name in NAMESPACES)


class _EscapedTargets(dict):
    """Raw link target (XML-escaped bytes) → :func:`link_target` of its normalised title,
    or ``None`` where the wikitext reader sees no link (an escaped ``<`` or ``>`` in it).
    Worker processes keep it across chunks: pages name the same pages again and again,
    and normalising is most of the cost of a link."""

    LIMIT = 200_000  # entries, about 40 MB
    namespaces: tuple[tuple[str, str], ...] = ()  # the dump's names they were read with

    def __missing__(self, raw: bytes) -> bytes | None:
        if len(self) >= self.LIMIT:
            self.clear()
        if plain := _PLAIN_TARGET.fullmatch(raw):
            words = plain[1].replace(b"_", b" ")
            target = words[:1].upper() + words[1:]  # all that normalize_title does to it
        elif _namespace_prefix(raw) in _NAMESPACE_PREFIXES:
            target = None
        else:
            text = unescape(raw)
            bad = "<" in text or ">" in text
            target = None if bad else link_target(normalize_title(text))
        self[raw] = target
        return target


def _namespace_prefix(raw: bytes) -> bytes | None:
    namespaced = _NAMESPACED_TARGET.fullmatch(raw)
    return namespaced[1].replace(b"_", b" ").lower() if namespaced else None


_ESCAPED_TARGETS = _EscapedTargets()
_NAMESPACES_LOCK = threading.Lock()


def escaped_link_targets(raw: bytes) -> Iterable[bytes | None]:
    """:func:`link_target` of each of ``wikilink_titles(unescape(raw))``, for a page's
    still XML-escaped ``<text>`` content, found without decoding the page."""
    if _has_character_reference(raw):  # "&#91;" is a "[": only the decoded text tells
        return map(link_target, wikilink_titles(unescape(raw)))
    return map(_ESCAPED_TARGETS.__getitem__, ESCAPED.link_targets(raw))


def _has_character_reference(raw: bytes) -> bool:
    # Found from the "#": "&" starts every escaped "<", so a search for "&#" is slow.
    hash_sign = raw.find(b"#")
    while hash_sign >= 0:
        if hash_sign > 0 and raw[hash_sign - 1] == ord("&"):
            return True
        hash_sign = raw.find(b"#", hash_sign + 1)
    return False


class LinkCollector:
    """The rows of one chunk for ``inlinks.parquet``, before anyone knows which pages are
    kept: each page's distinct main-namespace link targets but itself. Titles are kept
    as UTF-8, as the table stores them."""

    def __init__(self) -> None:
        self.sources: list[bytes] = []
        self.counts: list[int] = []  # of targets, per source
        self.targets: list[bytes] = []

    def add(self, source: str, targets: Iterable[bytes | None]) -> None:
        """``targets``: a page's :func:`link_target` values, in page order."""
        distinct = dict.fromkeys(targets)
        distinct.pop(None, None)
        source_utf8 = source.encode()
        distinct.pop(source_utf8, None)
        if distinct:
            self.sources.append(source_utf8)
            self.counts.append(len(distinct))
            self.targets += distinct

    def table(self) -> pa.Table:
        rows = np.repeat(np.arange(len(self.sources), dtype=np.int32), self.counts)
        row_indices = pa.Array.from_buffers(pa.int32(), len(rows), [None, pa.py_buffer(rows)])
        sources = _utf8_array(self.sources).take(row_indices)
        return pa.Table.from_arrays([sources, _utf8_array(self.targets)], schema=INLINK_SCHEMA)


@dataclass
class ChunkStats:
    pages: int = 0
    kept: int = 0
    redirects: int = 0
    skipped: int = 0
    xml_bytes: int = 0
    input_bytes: int = 0
    link_pairs: int = 0  # (page, main-namespace link target) pairs written for in-links
    errors: list[str] = field(default_factory=list)
    _COUNTS = ("pages", "kept", "redirects", "skipped", "xml_bytes", "input_bytes", "link_pairs")

    def add(self, other: ChunkStats) -> None:
        for name in self._COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors.extend(other.errors)


@dataclass
class ParseSummary(ChunkStats):
    seconds: float = 0.0
    chunks: int = 0
    chunks_resumed: int = 0
    inlinks: int | None = None  # rows of inlinks.parquet; None: in-links not read
    out_dir: str = ""

    def line(self) -> str:
        rate = self.xml_bytes / 1e6 / self.seconds if self.seconds > 0 else 0.0
        resumed = ""
        if self.chunks_resumed:
            resumed = f", {self.chunks_resumed} of {self.chunks} chunks reused"
        inlinks = ""
        if self.inlinks is not None:
            inlinks = f", in-links {self.inlinks:,} (of {self.link_pairs:,} page links)"
        return (
            f"pages read {self.pages:,}, kept {self.kept:,}, redirects {self.redirects:,}, "
            f"skipped {self.skipped:,}{inlinks}; {self.xml_bytes / 1e6:,.1f} MB of XML in "
            f"{self.seconds:,.1f} s ({rate:,.1f} MB/s){resumed}"
        )


# --------------------------------------------------------------------------- pages


def plain_text(code: Wikicode) -> str:
    """Wikitext reduced to what a reader sees: comments and references dropped, links
    replaced by their label, templates by their unnamed arguments (``{{ubl|A|B}}`` →
    ``A, B``), bold and italic quotes dropped, white space collapsed."""
    return " ".join(_QUOTES.sub("", _plain(code)).split())


def _plain(code: Wikicode) -> str:
    parts: list[str] = []
    for node in code.nodes:
        if isinstance(node, Text):
            parts.append(node.value)
        elif isinstance(node, Wikilink):
            parts.append(_plain(node.text) if node.text is not None else _plain(node.title))
        elif isinstance(node, Template):
            if _is_footnote(node):
                continue
            args = (_plain(p.value).strip() for p in node.params if not p.showkey)
            parts.append(", ".join(a for a in args if a))
        elif isinstance(node, ExternalLink):
            parts.append(_plain(node.title) if node.title is not None else str(node.url))
        elif isinstance(node, Tag):
            tag = str(node.tag).strip().lower()
            if tag in _BREAKS:
                parts.append(" ")
            elif tag not in _DROPPED_TAGS and node.contents is not None:
                parts.append(_plain(node.contents))
        elif isinstance(node, HTMLEntity):
            character = node.normalize()
            # A lone surrogate (&#xD800;) names no character and cannot be stored.
            parts.append(str(node) if "\ud800" <= character <= "\udfff" else character)
        elif isinstance(node, Argument):
            parts.append(_plain(node.default) if node.default is not None else "")
        elif not isinstance(node, Comment):
            parts.append(str(node.__strip__() or ""))
    return "".join(parts)


# Templates that render a footnote mark, not text, as <ref> does (whose text is dropped).
_FOOTNOTE_TEMPLATES = frozenset(
    {"sfn", "sfnp", "sfnm", "sfnmp", "efn", "refn", "r", "rp", "ref label", "note label"}
)


def _is_footnote(node: Template) -> bool:
    name = canonical_template_name(str(node.name)).lower()
    return name in _FOOTNOTE_TEMPLATES or name.startswith(("efn-", "efn "))


def extract_article(title: str, text: str, matcher: TemplateMatcher) -> dict[str, object] | None:
    """The fields we keep from one page's wikitext, or ``None`` if it carries none of the
    matcher's templates.

    The infobox is parsed by mwparserfromhell (only its own text: parsing a whole long
    page costs more than decompressing it). Links are read by regular expressions
    that follow MediaWiki's link syntax, outside comments and ``<nowiki>``-like tags;
    unlike mwparserfromhell they also see the links in ``<gallery>`` captions, which
    MediaWiki renders. Wikilinks keep their order and repeats (the reference's pairs
    counted them); ``Category:`` links are in ``wikilinks`` and, without the prefix,
    in ``categories``.
    """
    visible = WIKITEXT.visible(text)
    infobox = find_infobox(visible, matcher)
    if infobox is None:
        return None
    name, fields = infobox
    wikilinks: list[str] = []
    categories: list[str] = []
    for raw in WIKITEXT.link.findall(visible):
        target = normalize_title(raw)
        if not target:
            continue
        wikilinks.append(target)
        if namespace_of(target) == "Category" and not raw.lstrip().startswith(":"):
            categories.append(target.split(":", 1)[1])
    return {
        "title": title,
        "template": name,
        "infobox": json.dumps(fields, ensure_ascii=False),
        "wikilinks": wikilinks,
        "categories": categories,
        "external_links": external_links(visible),
    }


def find_infobox(text: str, matcher: TemplateMatcher) -> tuple[str, dict[str, str]] | None:
    """The first template of ``text`` the matcher accepts, as (canonical name, fields as
    plain text); empty fields are left out, as the reference did. Raises
    :class:`InfoboxRefused` when no template was accepted but one was left unread: never
    closed, or too costly for mwparserfromhell (:func:`parse_cost`)."""
    refused = None
    for match in _TEMPLATE_START.finditer(text):
        name = match.group(1).strip()
        if not name or not matcher.matches(name):
            continue
        end = _template_end(text, match.start())
        if end is None:  # mwparserfromhell would read it as text, after a long search
            refused = refused or f"has an infobox {{{{{_shown(name)} that is never closed"
            continue
        size = end - match.start()
        span = _for_mwparserfromhell(text[match.start() : end])
        cost = parse_cost(span)
        if size > MAX_INFOBOX_CHARS or cost > MAX_PARSE_COST:
            refused = refused or (
                f"has an infobox {{{{{_shown(name)} too costly to parse ({size:,} "
                f"characters, cost {cost:,}; bounds {MAX_INFOBOX_CHARS:,} and "
                f"{MAX_PARSE_COST:,})"
            )
            continue
        code = mwparserfromhell.parse(span)
        templates = code.filter_templates(recursive=False)
        if not templates or not matcher.matches(str(templates[0].name)):
            continue
        fields = {}
        for param in templates[0].params:
            value = plain_text(param.value).replace(_STRAY, "<")
            if value:
                fields[plain_text(param.name).replace(_STRAY, "<")] = value
        return canonical_template_name(str(templates[0].name)), fields
    if refused is not None:
        raise InfoboxRefused(refused)
    return None


class InfoboxRefused(ValueError):
    """A page's infobox was not given to mwparserfromhell: the message says why."""


def _shown(name: str) -> str:
    return " ".join(name.split())[:60]


# mwparserfromhell's tokenizer is quadratic in what it cannot close: each unclosed tag,
# bracket or brace sends it to the end of its input and back. Measured on this 2-core
# machine (mwparserfromhell 0.7.2, C tokenizer; benchmarks/README.md, "Hostile pages"):
# - the 45 infoboxes of the real enwiki fragment (--template 'Infobox *') are at most
#   8,042 characters (median 1,271), of cost (parse_cost) at most 11,356, and parse in
#   at most 9 ms; of its 10,471 templates of every kind, none costs over 15,455;
# - hostile: 10,000 nested unclosed "{{x|" in 55 KB took minutes, 200 in 64 KB 0.6 s;
#   64 unclosed "<ref " in 16 KB 0.67 s; 4,000 "[http://a " in 40 KB 2.9 s;
# - at these bounds the costliest input found (unclosed "[", "{", "{|", tags, each
#   as many as the cost allows) parses in about 1 ms; the worst linear input of the
#   size bound (16 KB of "[[a]]" or "&lt;") in about 50 ms, against 15 ms for a real
#   infobox of that size (about 1 ms per KB).
# A span never closed is not parsed at all: mwparserfromhell reads it as text.
MAX_INFOBOX_CHARS = 16_384
MAX_PARSE_COST = 50_000
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]*)([^<>]*)>")
# A "<" with no ">" before the next "<" opens no tag, in MediaWiki as in
# mwparserfromhell, which finds that out at a cost 50 times that of any other unclosed
# construct (it reads the attributes again from each): it is given a noncharacter
# instead, plain text as "&lt;" would be but cheaper (an entity costs a node), and
# made "<" again in the fields.
_STRAY_LT = re.compile(r"<(?=[^<>]*(?:<|\Z))")
_STRAY = "\ufdd0"
# Tags mwparserfromhell never looks for a closing tag of.
_VOID_TAGS = frozenset({"br", "wbr", "hr", "img", "meta", "link", "col", "area", "input"})


def _for_mwparserfromhell(span: str) -> str:
    """``span`` as mwparserfromhell reads it fast and :func:`plain_text` reads it the
    same: stray "<" as ``_STRAY``, and no bold or italic quotes (plain text drops them,
    and thousands of them cost mwparserfromhell a quadratic time: 5,000 bold ones in
    20 KB took 0.15 s)."""
    if "''" in span:  # the name keeps its quotes: it is the template's name as written
        name, bar, rest = span.partition("|")
        span = name + bar + _QUOTES.sub("", rest)
    return _STRAY_LT.sub(_STRAY, span) if "<" in span else span


def parse_cost(span: str) -> int:
    """An upper estimate of mwparserfromhell's work on ``span`` (with no stray "<"): its
    length times one plus the constructs it opens and cannot close (tags without their
    end, "[" without "]", "{" without "}"). Linear time."""
    unclosed = max(0, span.count("[") - span.count("]")) + max(0, span.count("{") - span.count("}"))
    if "<" in span:
        balance: dict[str, int] = {}
        for closing, name, rest in _TAG.findall(span):
            name = name.lower()
            if name not in _VOID_TAGS and not rest.endswith("/"):
                balance[name] = balance.get(name, 0) + (-1 if closing else 1)
        unclosed += sum(n for n in balance.values() if n > 0)
    return (unclosed + 1) * len(span)


def _template_end(text: str, start: int) -> int | None:
    """Index just past the ``}}`` that closes the template opening at ``start``, or
    ``None`` if it never closes."""
    depth = 0
    for brace in _BRACES.finditer(text, start):
        depth += 1 if brace.group() == "{{" else -1
        if depth == 0:
            return brace.end()
    return None


def external_links(text: str) -> list[str]:
    """URLs of bracketed (``[http://x label]``, ``[//x]``) and bare ``http(s)://`` links,
    in page order; a bare link loses trailing punctuation, as MediaWiki renders it."""
    urls = []
    for bracketed, bare in _EXTERNAL.findall(text):
        if bracketed:
            urls.append(bracketed)
            continue
        url = bare.rstrip(".,;:!?'")
        if url.endswith(")") and "(" not in url:
            url = url[:-1]
        urls.append(url)
    return urls


def read_page(
    page: RawPage,
    matcher: TemplateMatcher,
    stats: ChunkStats,
    chunk: Chunk,
    links: LinkCollector | None = None,
):
    """Classify one raw page: returns ``("redirect", row)``, ``("article", row)`` or
    ``None``; with ``links``, the wikilinks of every main-namespace page that is no
    redirect go there too. Only pages whose raw bytes pass the template prefilter are
    decoded."""
    xml = page.xml
    stats.pages += 1
    stats.xml_bytes += len(xml)
    if page.problem is not None:
        stats.skipped += 1
        stats.errors.append(page.problem)
        return None
    # <redirect> comes before <revision>: look no further than that.
    head_end = xml.find(b"<revision")
    redirect = _REDIRECT.search(xml, 0, head_end if head_end >= 0 else len(xml))
    if redirect is not None:
        # Redirects of every namespace are kept (their titles carry the prefix): a later
        # stage may resolve a category link through them too.
        title = extract_tag(xml, b"title")
        target = normalize_title(unescape(redirect.group(1)))
        if title is None or not target:
            return _skip(stats, chunk, page, "redirect without title or target")
        if (illegal := illegal_title(unescape(title))) is not None:
            return _skip(stats, chunk, page, f"a redirect {illegal}")
        source = with_canonical_namespace(unescape(title))
        return "redirect", {"source": source, "target": target}
    ns = extract_tag(xml, b"ns")
    if ns is not None and ns.strip() != b"0":
        return None
    if links is not None:
        _read_links(xml, links)
    if matcher.prefilter.search(xml) is None:
        return None
    title_raw = extract_tag(xml, b"title")
    page_id = extract_tag(xml, b"id")
    if title_raw is None or page_id is None or not page_id.strip().isdigit():
        return _skip(stats, chunk, page, "page without <title> or <id>")
    title = unescape(title_raw)
    if (illegal := illegal_title(title)) is not None:
        return _skip(stats, chunk, page, f"a page {illegal}")
    span = _text_span(xml)
    if isinstance(span, str):
        return _skip(stats, chunk, page, f"page '{title}' {span}")
    tag_start, text_start, text_end = span
    text = unescape(xml[text_start:text_end])
    try:
        row = extract_article(title, text, matcher)
    except InfoboxRefused as exc:
        return _skip(stats, chunk, page, f"page '{title}' {exc}")
    except (Exception, RecursionError) as exc:  # mwparserfromhell on hostile wikitext
        return _skip(stats, chunk, page, f"page '{title}' could not be parsed ({exc!r:.80})")
    if row is None:
        return None
    declared = _BYTES_ATTR.search(xml, tag_start, text_start)
    row["page_id"] = int(page_id)
    revision = xml[max(xml.rfind(b"<revision>"), 0) :]
    row["timestamp"] = _timestamp(extract_tag(revision, b"timestamp"))
    row["text_length"] = int(declared.group(1)) if declared else len(text.encode("utf-8"))
    return "article", row


def _text_span(xml: bytes) -> tuple[int, int, int] | str:
    """Where the last revision's ``<text>`` is in a page: (start of the tag, start and end
    of its content), or why it cannot be read."""
    # Read from the end: the text is most of the page, and holds no "<" (XML escapes
    # it), so the last "<" before the last </text> opens it, unless another revision
    # follows (history dumps) or its revision's text is empty.
    text_end = xml.rfind(b"</text>")
    tag_start = xml.rfind(b"<", 0, text_end) if text_end > 0 else -1
    opens_text = tag_start >= 0 and xml.startswith(b"<text", tag_start)
    if opens_text and xml.find(b"<revision", text_end) < 0:
        tag_end = xml.find(b">", tag_start, text_end)
        if tag_end >= 0 and xml[tag_end - 1] != ord("/"):
            return tag_start, tag_end + 1, text_end
    tag_start = xml.find(b"<text", max(xml.rfind(b"<revision>"), 0))
    if tag_start < 0:
        return "has no <text>"
    tag_end = xml.find(b">", tag_start)
    if tag_end >= 0 and xml[tag_end - 1] == ord("/"):  # <text ... /> holds nothing
        return tag_start, tag_end + 1, tag_end + 1
    text_end = xml.find(b"</text>", tag_end)
    if tag_end < 0 or text_end < 0:
        return "has an unfinished <text>"
    return tag_start, tag_end + 1, text_end


def _read_links(xml: bytes, links: LinkCollector) -> None:
    title = extract_tag(xml, b"title")
    span = _text_span(xml)
    if title is None or isinstance(span, str):
        return  # a broken page is reported if it carries the template, and has no links
    source = unescape(title)
    if illegal_title(source) is not None:
        return  # no page of MediaWiki's: reported if it carries the template
    _, start, end = span
    links.add(source, escaped_link_targets(xml[start:end]))


def _skip(stats: ChunkStats, chunk: Chunk, page: RawPage, why: str) -> None:
    stats.skipped += 1
    stats.errors.append(f"{chunk.path}: {why} (near byte {page.offset}); skipped")
    return None


def _timestamp(raw: bytes | None):
    if raw is None:
        return None
    try:
        return datetime.fromisoformat(raw.decode("ascii").strip().replace("Z", "+00:00"))
    except ValueError:
        return None


# --------------------------------------------------------------------------- records


def read_records(
    chunk: Chunk, stats: ChunkStats, links: LinkCollector | None = None
) -> Iterator[tuple[str, dict]]:
    """Rows from the reference project's NDJSON records, one JSON array a line:
    ``[title, infobox, wikilinks, external_links, timestamp, text_length]``; with
    ``links``, each record's wikilinks go there too (every record is a page)."""
    with open(chunk.path, "rb") as f:
        for number, line in enumerate(f, 1):
            stats.xml_bytes += len(line)
            if not line.strip():
                continue
            stats.pages += 1
            try:
                title, infobox, raw_links, external, timestamp, length = json.loads(line)
                if (illegal := illegal_title(str(title))) is not None:
                    raise ValueError(f"a record {illegal}")
                wikilinks = [t for t in (normalize_title(str(x)) for x in raw_links) if t]
                row = {
                    "title": str(title),
                    "page_id": None,
                    "timestamp": _timestamp(str(timestamp).encode()),
                    "text_length": int(length),
                    "template": None,
                    "infobox": json.dumps(
                        {str(k): str(v) for k, v in dict(infobox).items()}, ensure_ascii=False
                    ),
                    "wikilinks": wikilinks,
                    "categories": [
                        t.split(":", 1)[1] for t in wikilinks if namespace_of(t) == "Category"
                    ],
                    "external_links": [str(x) for x in external],
                }
                if links is not None:  # UTF-8 from here on: a lone surrogate is refused
                    links.add(row["title"], map(link_target, wikilinks))
            except (ValueError, TypeError) as exc:
                stats.skipped += 1
                stats.errors.append(
                    f"{chunk.path}:{number}: not a record [title, infobox, wikilinks, "
                    f"external_links, timestamp, length] ({exc}); skipped"
                )
                continue
            yield "article", row


# --------------------------------------------------------------------------- chunks


def read_chunk(
    chunk: Chunk, templates: tuple[str, ...], limit: int | None, inlinks: bool = True
) -> tuple[pa.Table, pa.Table, pa.Table | None, ChunkStats]:
    """Parse one chunk: its articles (``ARTICLE_SCHEMA``, at most ``limit`` rows), its
    redirects (``REDIRECT_SCHEMA``), with ``inlinks`` every page's link pairs
    (``INLINK_SCHEMA``, see :class:`LinkCollector`; else ``None``), and its counts and
    error lines. Writes nothing, so it can run on a Dask worker that does not see the
    output folder."""
    # One chunk at a time per process: a Dask worker with threads would otherwise mix
    # two dumps' namespace names (parsing holds the GIL: little is lost).
    with _NAMESPACES_LOCK, dump_namespaces(dict(chunk.namespaces)):
        if _ESCAPED_TARGETS.namespaces != chunk.namespaces:  # its titles were another's
            _ESCAPED_TARGETS.clear()
            _ESCAPED_TARGETS.namespaces = chunk.namespaces
        return _read_chunk(chunk, templates, limit, inlinks)


def _read_chunk(
    chunk: Chunk, templates: tuple[str, ...], limit: int | None, inlinks: bool
) -> tuple[pa.Table, pa.Table, pa.Table | None, ChunkStats]:
    matcher = TemplateMatcher(templates)
    stats = ChunkStats(input_bytes=chunk.size)
    articles: list[dict] = []
    redirects: list[dict] = []
    links = LinkCollector() if inlinks else None
    try:
        if chunk.kind == "records":
            rows: Iterable = read_records(chunk, stats, links)
        else:
            rows = (
                read_page(p, matcher, stats, chunk, links) for p in iter_pages(chunk, stats.errors)
            )
        for item in rows:
            if item is None:
                continue
            kind, row = item
            if kind == "redirect":
                redirects.append(row)
                continue
            articles.append(row)
            if limit is not None and len(articles) >= limit:
                break
    except DumpError as exc:
        stats.errors.append(str(exc))
    except OSError as exc:
        stats.errors.append(f"{chunk.path}: cannot read ({exc})")
    stats.kept = len(articles)
    stats.redirects = len(redirects)
    stats.link_pairs = len(links.targets) if links is not None else 0
    return (
        rows_table(articles, ARTICLE_SCHEMA),
        rows_table(redirects, REDIRECT_SCHEMA),
        links.table() if links is not None else None,
        stats,
    )


# A worker builds its tables from buffers: pa.array(), and so Table.from_pylist, imports
# pandas, 0.2-0.5 s in each worker process; a JSON reader round trip avoids that too but
# costs 25 times more per chunk (measured).


def rows_table(rows: list[dict], schema: pa.Schema) -> pa.Table:
    """``pa.Table.from_pylist(rows, schema)`` for this module's schemas (strings, 64-bit
    integers, timestamps in seconds, lists of strings), without importing pandas."""
    columns = [arrow_array([row[f.name] for row in rows], f.type) for f in schema]
    return pa.Table.from_arrays(columns, schema=schema)


def arrow_array(values: list, type_: pa.DataType) -> pa.Array:
    """``pa.array(values, type_)`` for the types of :func:`rows_table`, from buffers."""
    if pa.types.is_string(type_):
        return _string_array(values)
    if pa.types.is_list(type_):
        flat = _string_array([item for items in values for item in items])
        if isinstance(flat, pa.ChunkedArray):
            return pa.array(values, type_)
        offsets = _offsets(np.fromiter(map(len, values), np.int64, len(values)))
        offsets_array = pa.Array.from_buffers(pa.int32(), len(values) + 1, [None, offsets])
        return pa.ListArray.from_arrays(offsets_array, flat)
    if pa.types.is_timestamp(type_):  # only whole seconds come here
        values = [None if v is None else calendar.timegm(v.utctimetuple()) for v in values]
    present = np.fromiter((v is not None for v in values), bool, len(values))
    validity = None if present.all() else pa.py_buffer(np.packbits(present, bitorder="little"))
    numbers = np.array([0 if v is None else v for v in values], np.int64)
    return pa.Array.from_buffers(type_, len(values), [validity, pa.py_buffer(numbers)])


def _string_array(values: list[str | None]) -> pa.Array | pa.ChunkedArray:
    present = np.fromiter((v is not None for v in values), bool, len(values))
    if present.all():
        return _utf8_array([v.encode() for v in values])
    validity = pa.py_buffer(np.packbits(present, bitorder="little"))
    return _utf8_array([b"" if v is None else v.encode() for v in values], validity)


def _utf8_array(
    encoded: list[bytes], validity: pa.Buffer | None = None
) -> pa.Array | pa.ChunkedArray:
    """A string array of UTF-8 values (valid UTF-8: it is not checked)."""
    sizes = np.fromiter(map(len, encoded), np.int64, len(encoded))
    if sizes.sum() > STRING_BYTES_LIMIT:  # pa.array cuts it into chunks
        strings: list[str | None] = [b.decode() for b in encoded]
        if validity is not None:
            bits = np.unpackbits(np.frombuffer(validity, np.uint8), bitorder="little")
            present = bits[: len(strings)].tolist()
            strings = [s if bit else None for s, bit in zip(strings, present, strict=True)]
        return pa.array(strings, pa.string())
    buffers = [validity, _offsets(sizes), pa.py_buffer(b"".join(encoded))]
    return pa.Array.from_buffers(pa.string(), len(encoded), buffers)


STRING_BYTES_LIMIT = 2**31 - 1  # what 32-bit offsets reach


def _offsets(sizes: np.ndarray) -> pa.Buffer:
    offsets = np.zeros(len(sizes) + 1, np.int32)
    np.cumsum(sizes, out=offsets[1:])
    return pa.py_buffer(offsets)


def parse_chunk(
    chunk: Chunk,
    parts_dir: str,
    templates: tuple[str, ...],
    limit: int | None,
    inlinks: bool = True,
) -> ChunkStats:
    """Parse one chunk and write its rows atomically under ``parts_dir``. Runs in a
    worker process; returns the chunk's counts and error lines."""
    *tables, stats = read_chunk(chunk, templates, limit, inlinks)
    _write_chunk(Path(parts_dir), chunk, *tables, stats)
    return stats


def _write_chunk(
    parts: Path,
    chunk: Chunk,
    articles: pa.Table,
    redirects: pa.Table,
    links: pa.Table | None,
    stats: ChunkStats,
) -> None:
    base = parts / chunk.key
    write_table_atomic(articles, f"{base}.articles.parquet")
    write_table_atomic(redirects, f"{base}.redirects.parquet")
    if links is not None:  # read once, whole: statistics would only cost time
        write_table_atomic(links, f"{base}.links.parquet", write_statistics=False)
    write_json_atomic(asdict(stats), f"{base}.done.json")  # last: marks the chunk done


def _load_done(parts_dir: Path, chunk: Chunk, inlinks: bool) -> ChunkStats | None:
    marker = parts_dir / f"{chunk.key}.done.json"
    if not marker.is_file():
        return None
    if inlinks and not (parts_dir / f"{chunk.key}.links.parquet").is_file():
        return None  # its link pairs were deleted since: read the chunk again
    return ChunkStats(**json.loads(marker.read_text()))


def _fingerprint(
    files: list[Path],
    templates: tuple[str, ...],
    limit: int | None,
    chunk_bytes: int,
    inlinks: bool,
) -> str:
    digest = hashlib.sha256()
    for path in files:
        stat = path.stat()
        digest.update(f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    # "links" names the chunk files' format: chunks written before in-links existed
    # have no link files, and are not reused.
    params = [__version__, sorted(templates), limit, chunk_bytes, {"links": inlinks}]
    digest.update(json.dumps(params).encode())
    return digest.hexdigest()[:16]


# --------------------------------------------------------------------------- stage


def parse_dumps(
    dumps: list[str | os.PathLike],
    out_dir: str | os.PathLike,
    templates: Iterable[str] = BOOK_TEMPLATES,
    workers: int | None = None,
    limit: int | None = None,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    progress: bool = False,
    on_error=None,
    scheduler: str | None = None,
    inlinks: bool = True,
) -> ParseSummary:
    """Parse dumps (files or folders of them) into ``out_dir``. Returns the counts.

    ``templates`` are template names (MediaWiki rules; ``*`` allowed); ``workers``
    processes (default: all cores); ``limit`` keeps at most that many pages.
    ``on_error`` is called with each error line as it is found (default: collected
    in the summary only). Chunks already done by an earlier run with the same inputs
    and parameters are reused, whichever scheduler ran them.

    ``inlinks``: also write ``inlinks.parquet``, the links from every main-namespace
    page of the dumps to the kept pages (see :func:`write_inlinks`); without it no such
    table is written, and one an earlier run left in ``out_dir`` is removed.

    ``scheduler``: ``None`` runs the chunks in a local process pool; ``"dask"`` on a
    local Dask cluster of ``workers`` processes (loopback only, no dashboard) started
    and closed here; ``"tcp://HOST:PORT"`` on the existing Dask cluster at that
    address (``workers`` is then the cluster's business), whose workers must read
    the dumps at the same paths as this process. Same outputs in every case. Raises
    :class:`SchedulerError` (one line) for a bad value, a missing Dask, or a cluster
    that cannot be reached or cannot read the dumps; nothing is written then.
    """
    started = time.perf_counter()
    templates = tuple(templates)
    TemplateMatcher(templates)  # fail early on an empty list
    scheduler = check_scheduler(scheduler)
    # A line may name a title holding anything "&#27;" spells, and is shown on a terminal.
    report = (lambda line: on_error(printable(line))) if on_error else (lambda line: None)
    out = Path(out_dir)
    summary = ParseSummary(out_dir=str(out))
    files, missing = find_inputs(list(dumps))
    chunks: list[Chunk] = []
    for line in missing:
        summary.errors.append(line)
        report(line)
    for path in files:
        try:
            chunks.extend(plan_chunks(path, chunk_bytes))
        except (DumpError, OSError) as exc:
            line = str(exc) if isinstance(exc, DumpError) else f"{path}: cannot read ({exc})"
            summary.errors.append(line)
            report(line)
    summary.chunks = len(chunks)
    fingerprint = _fingerprint(
        [Path(c.path) for c in chunks if c.number == 0], templates, limit, chunk_bytes, inlinks
    )
    parts = out / "chunks" / fingerprint
    done: dict[int, ChunkStats] = {}
    for i, chunk in enumerate(chunks):
        stats = _load_done(parts, chunk, inlinks)
        if stats is not None:
            done[i] = stats
    summary.chunks_resumed = len(done)
    todo = [i for i in range(len(chunks)) if i not in done]
    total = sum(c.size for c in chunks)
    workers = workers or os.cpu_count() or 1
    with ExitStack() as stack:
        client = None
        if scheduler is not None and todo:
            # Connected (and checked) before anything is written: a cluster that
            # cannot run the chunks leaves the output folder as it was.
            inputs = sorted({chunks[i].path for i in todo})
            client = stack.enter_context(_dask_client(scheduler, min(workers, len(todo)), inputs))
        parts.mkdir(parents=True, exist_ok=True)
        bar = stack.enter_context(
            progress_bar(total=total, unit="B", unit_scale=True, desc="parse", enabled=progress)
        )
        bar.update(sum(chunks[i].size for i in done))
        task = (templates, limit, inlinks)
        if client is not None:
            running = _run_dask(client, scheduler, chunks, todo, parts, task, done)
        else:
            running = _run_chunks(chunks, todo, parts, task, workers, done)
        for i, stats in running:
            done[i] = stats
            for line in stats.errors:
                report(line)
            bar.update(chunks[i].size)
    used = _assemble(chunks, done, parts, out, limit)
    for i in used:
        summary.add(done[i])
    summary.kept = min(summary.kept, limit) if limit is not None else summary.kept
    link_files = [parts / f"{chunks[i].key}.links.parquet" for i in used]
    if inlinks:
        summary.inlinks = write_inlinks(out, link_files, progress)
    else:
        (out / "inlinks.parquet").unlink(missing_ok=True)
    summary.seconds = time.perf_counter() - started
    write_json_atomic(
        {
            "version": __version__,
            "inputs": [str(p) for p in files],
            "templates": list(templates),
            "limit": limit,
            "inlinks": inlinks,
            "counts": {k: v for k, v in asdict(summary).items() if k != "errors"},
            "errors": summary.errors,
        },
        out / "parse.json",
    )
    return summary


def _limit_reached(done: dict[int, ChunkStats], limit: int | None) -> bool:
    """True once the chunks finished from the first one on hold ``limit`` pages."""
    if limit is None:
        return False
    kept, i = 0, 0
    while i in done:
        kept += done[i].kept
        if kept >= limit:
            return True
        i += 1
    return False


def _run_chunks(chunks, todo, parts, task: tuple, workers: int, done):
    """Yield ``(index, stats)`` as chunks finish, in a process pool when it pays. ``task``:
    the (templates, limit, inlinks) of :func:`parse_chunk`."""
    limit = task[1]
    if workers == 1 or len(todo) <= 1:
        for i in todo:
            if _limit_reached(done, limit):
                return
            yield i, parse_chunk(chunks[i], str(parts), *task)
        return
    with ProcessPoolExecutor(max_workers=min(workers, len(todo))) as pool:
        pending: dict[Future, int] = {
            pool.submit(parse_chunk, chunks[i], str(parts), *task): i for i in todo
        }
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                i = pending.pop(future)
                stats = future.result()
                done[i] = stats
                yield i, stats
            if _limit_reached(done, limit):
                for future in pending:
                    future.cancel()
                pending = {f: i for f, i in pending.items() if not f.cancelled()}


def _assemble(chunks, done, parts: Path, out: Path, limit: int | None) -> list[int]:
    """Concatenate the chunks' rows in input order into the final tables (streamed, so
    memory holds one chunk at a time). Returns the chunks used."""
    used: list[int] = []
    kept = 0
    for i in range(len(chunks)):
        if i not in done or (limit is not None and kept >= limit):
            break
        used.append(i)
        kept += done[i].kept
    for name, schema in (("articles", ARTICLE_SCHEMA), ("redirects", REDIRECT_SCHEMA)):
        remaining = limit if name == "articles" else None
        tables = []
        for i in used:
            # ParquetFile, not read_table: read_table imports pyarrow.dataset and pandas,
            # half a second of this stage's serial tail.
            table = pq.ParquetFile(parts / f"{chunks[i].key}.{name}.parquet").read()
            table = table.cast(schema)
            if remaining is not None:
                table = table.slice(0, remaining)
                remaining -= table.num_rows
            tables.append(table)
        merged = pa.concat_tables(tables) if tables else schema.empty_table()
        write_table_atomic(merged, out / f"{name}.parquet")
    return used


def write_inlinks(out: Path, link_files: list[Path], progress: bool = False) -> int:
    """Write ``out/inlinks.parquet`` (``INLINK_SCHEMA``) from the chunks' link pairs: the
    pairs whose target names a page of ``out/articles.parquet``, directly or through the
    redirects of ``out/redirects.parquet`` (:func:`accepted_targets`), the target kept
    as written. One chunk's pairs are in memory at a time. Returns the rows written."""
    titles = pq.ParquetFile(out / "articles.parquet").read(columns=["title"]).column("title")
    accepted = accepted_targets(titles, pq.ParquetFile(out / "redirects.parquet").read())
    rows = 0

    def write(tmp: str) -> None:
        nonlocal rows
        bar = progress_bar(total=len(link_files), unit="chunk", desc="in-links", enabled=progress)
        with pq.ParquetWriter(tmp, INLINK_SCHEMA) as writer, bar:
            for path in link_files:
                # Read as dictionaries, as written: each distinct title is tested once,
                # and the sources are read only if some pair stays.
                pairs = pq.ParquetFile(path, read_dictionary=["source", "target"])
                keep = _naming(pairs.read(columns=["target"]).column("target"), accepted)
                if pc.any(keep).as_py():
                    kept = pairs.read().filter(keep).cast(INLINK_SCHEMA)
                    writer.write_table(kept)
                    rows += kept.num_rows
                bar.update()

    write_atomic(out / "inlinks.parquet", write)
    return rows


def _naming(column: pa.ChunkedArray, titles: pa.Array) -> pa.ChunkedArray:
    """Which rows of a dictionary-encoded column hold one of ``titles``."""
    masks = [pc.take(pc.is_in(c.dictionary, value_set=titles), c.indices) for c in column.chunks]
    return pa.chunked_array(masks, pa.bool_())


def accepted_targets(titles: pa.Array | pa.ChunkedArray, redirects: pa.Table) -> pa.Array:
    """The link targets that lead to one of ``titles``: the titles, and the redirects whose
    chain (up to ``REDIRECT_HOPS`` long) ends at one. A title redirected twice goes where
    its first row says, as in `wikirec build`."""
    sources, targets = redirects.column("source"), redirects.column("target")
    if pc.count_distinct(sources).as_py() < len(sources):
        first = pc.index_in(sources, value_set=sources.combine_chunks())
        keep = pc.equal(first, pa.array(np.arange(len(sources), dtype=np.int32)))
        sources, targets = sources.filter(keep), targets.filter(keep)
    accepted = pc.unique(titles)
    frontier = accepted
    for _ in range(REDIRECT_HOPS):
        leading = pc.unique(sources.filter(pc.is_in(targets, value_set=frontier)))
        frontier = leading.filter(pc.invert(pc.is_in(leading, value_set=accepted)))
        if len(frontier) == 0:
            break
        accepted = pa.concat_arrays([accepted, frontier])
    return accepted


# --------------------------------------------------------------------------- Dask

DASK_INSTALL = "pip install 'wikirec[dask]' (or: pip install 'dask[distributed]')"
DASK_CONNECT_TIMEOUT = 10.0  # seconds to reach a scheduler, and to see its first worker
_ADDRESS = re.compile(r"tcp://(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):\d{1,5}")


class SchedulerError(WikirecError):
    """A scheduler that cannot run the parse: the message is one line."""


def check_scheduler(scheduler: str | None) -> str | None:
    """``None``, ``"dask"`` or a ``tcp://HOST:PORT`` address, stripped; anything else, or
    Dask missing, raises :class:`SchedulerError`."""
    if scheduler is None:
        return None
    value = str(scheduler).strip()
    if value != "dask" and _ADDRESS.fullmatch(value) is None:
        raise SchedulerError(
            f"scheduler {scheduler!r}: expected 'dask' (a local Dask cluster) or the "
            "address of a Dask scheduler, tcp://HOST:PORT"
        )
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise SchedulerError(
            f"scheduler {value!r} needs Dask distributed: {DASK_INSTALL}"
        ) from None
    return value


def _worker_probe(paths: list[str]) -> tuple[str, list[str]]:
    """Run on each Dask worker before any chunk: its wikirec version, and which of the
    dump ``paths`` it cannot read."""
    return __version__, [p for p in paths if not os.access(p, os.R_OK)]


@contextmanager
def _dask_client(scheduler: str, workers: int, inputs: list[str]) -> Iterator:
    """A ``distributed.Client`` on a new local cluster (``"dask"``) or the cluster at an
    address, checked: it has a worker, every worker runs this wikirec and can read the
    ``inputs``. Closes what it started."""
    from distributed import Client, LocalCluster

    with ExitStack() as stack:
        if scheduler == "dask":
            cluster = stack.enter_context(
                LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,  # parsing holds the GIL: one process per core
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=None,
                    # The scheduler serves health checks over HTTP even without a
                    # dashboard: a free loopback port, not 8787 (busy if two parses run).
                    scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                    silence_logs=logging.ERROR,
                )
            )
            client = stack.enter_context(Client(cluster))
        else:
            try:
                client = stack.enter_context(Client(scheduler, timeout=DASK_CONNECT_TIMEOUT))
            except (OSError, TimeoutError):
                raise SchedulerError(
                    f"cannot reach a Dask scheduler at {scheduler} within "
                    f"{DASK_CONNECT_TIMEOUT:g} s (start one with: dask scheduler)"
                ) from None
            try:
                client.wait_for_workers(1, timeout=DASK_CONNECT_TIMEOUT)
            except (OSError, TimeoutError):
                raise SchedulerError(
                    f"the Dask scheduler at {scheduler} has no worker (start some with: "
                    f"dask worker {scheduler})"
                ) from None
        absolute = [os.path.abspath(p) for p in inputs]
        try:
            answers = client.run(_worker_probe, absolute)
        except Exception as exc:  # a worker without wikirec cannot even load the probe
            raise SchedulerError(
                f"the Dask workers at {scheduler} cannot run wikirec's tasks "
                f"({type(exc).__name__}); install wikirec {__version__} on every worker"
            ) from None
        for worker, (version, unreadable) in sorted(answers.items()):
            if version != __version__:
                raise SchedulerError(
                    f"Dask worker {worker} runs wikirec {version}, this is {__version__}: "
                    "install the same version on every worker"
                )
            if unreadable:
                raise SchedulerError(
                    f"Dask worker {worker} cannot read {unreadable[0]}: the dumps must be "
                    "on a path every worker can read (a shared path)"
                )
        yield client


def _run_dask(client, scheduler: str, chunks, todo, parts: Path, task: tuple, done):
    """Yield ``(index, stats)`` as chunks finish on the Dask cluster; the tables come back
    here and are written under ``parts`` as the process pool's workers write them.
    ``task``: the (templates, limit, inlinks) of :func:`read_chunk`."""
    from distributed import KilledWorker, as_completed

    limit = task[1]
    pending = {}
    for rank, i in enumerate(todo):
        # Absolute paths: a worker's working folder is not ours. Earlier chunks first,
        # so that ``limit`` is reached with the fewest chunks parsed.
        chunk = replace(chunks[i], path=os.path.abspath(chunks[i].path))
        future = client.submit(read_chunk, chunk, *task, pure=False, priority=len(todo) - rank)
        pending[future] = i
    try:
        for future in as_completed(list(pending)):
            i = pending.pop(future)
            try:
                *tables, stats = future.result()
            except (KilledWorker, OSError) as exc:
                raise SchedulerError(
                    f"{chunks[i].path}: the Dask cluster at {scheduler} lost chunk "
                    f"{chunks[i].key} ({type(exc).__name__}); finished chunks are kept, "
                    "rerun to resume"
                ) from None
            future.release()
            absolute = os.path.abspath(chunks[i].path)
            if absolute != chunks[i].path:  # error lines name the file as the user did
                stats.errors = [line.replace(absolute, chunks[i].path) for line in stats.errors]
            _write_chunk(parts, chunks[i], *tables, stats)
            done[i] = stats
            yield i, stats
            if _limit_reached(done, limit):
                return
    finally:
        if pending:
            client.cancel(list(pending))


# --------------------------------------------------------------------------- CLI


def add_command(subparsers) -> None:
    parser = subparsers.add_parser(
        "parse",
        help="read dumps and keep the pages that carry a template",
        description="Read MediaWiki XML dumps (.xml, .xml.bz2, multistream, folders of "
        "partitions) or the reference project's NDJSON records, and write "
        "articles.parquet (the kept pages), redirects.parquet (every redirect) and "
        "inlinks.parquet (which main-namespace pages link to a kept page).",
    )
    parser.add_argument("dumps", nargs="+", metavar="DUMP", help="dump files or folders")
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder")
    parser.add_argument(
        "--template",
        action="append",
        type=non_empty,
        metavar="NAME",
        help="keep pages carrying this template (repeatable; '*' allowed, e.g. 'Infobox *'; "
        "'*' alone: any template); default: Infobox book and its aliases",
    )
    parser.add_argument(
        "--workers", type=positive_int, default=None, help="processes (default: all cores)"
    )
    parser.add_argument("--limit", type=positive_int, default=None, help="keep at most N pages")
    parser.add_argument(
        "--chunk-mb",
        type=positive_float,
        default=DEFAULT_CHUNK_BYTES / 2**20,
        help="size of the pieces each worker takes (MB of input)",
    )
    parser.add_argument(
        "--scheduler",
        default=None,
        metavar="WHERE",
        help="run the chunks on Dask: 'dask' = a local cluster of --workers processes, "
        "'tcp://HOST:PORT' = an existing Dask scheduler whose workers read the dumps at "
        "the same paths (default: a local process pool)",
    )
    parser.add_argument(
        "--no-inlinks",
        dest="inlinks",
        action="store_false",
        help="do not read the links of the pages not kept: no inlinks.parquet (by default "
        "every main-namespace page's links to the kept pages, directly or through a "
        "redirect, are written there as source, target)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """``wikirec parse``; input it cannot use raises :class:`WikirecError`, which
    :func:`wikirec.cli.main` prints as one line (exit 2)."""
    try:
        summary = parse_dumps(
            args.dumps,
            args.out,
            templates=tuple(args.template or BOOK_TEMPLATES),
            workers=args.workers,
            limit=args.limit,
            chunk_bytes=max(int(args.chunk_mb * 2**20), 1 << 16),
            progress=not args.quiet,
            on_error=lambda line: fail("parse", line),  # the parse goes on: a line, no exit
            scheduler=args.scheduler,
            inlinks=args.inlinks,
        )
    except SchedulerError as exc:  # a WikirecError, as main() would print it
        return fail("parse", exc)
    print(summary.line())
    if summary.pages == 0:
        return fail("parse", "nothing usable was read", code=1)
    articles = pq.ParquetFile(Path(args.out) / "articles.parquet").read(columns=["title"])
    shown = printable(", ".join(articles.column("title").to_pylist()[:10]))
    more = f" (and {articles.num_rows - 10:,} more)" if articles.num_rows > 10 else ""
    if shown:
        print(f"kept: {shown}{more}")
    names = ["articles", "redirects", "inlinks"] if args.inlinks else ["articles", "redirects"]
    written = [str(Path(args.out) / f"{name}.parquet") for name in names]
    print(f"wrote {', '.join(written[:-1])} and {written[-1]}")
    return 0
