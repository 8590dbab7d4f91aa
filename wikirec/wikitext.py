"""One page of wikitext in, a row and its links out: how ``wikirec parse`` reads a page.

:func:`read_page` classifies one raw page of a dump (:class:`wikirec.dump.RawPage`) as
a redirect, an article carrying one of the chosen templates (its infobox as plain-text
fields, its wikilinks, categories and external links: :func:`extract_article`), or
neither, and hands the link targets of every main-namespace page that is no redirect
to a collector (:class:`LinkSink`).

Only pages that pass a cheap byte-level test for the template are decoded, and only
their infobox reaches mwparserfromhell; the links of every page are read by regular
expressions that follow MediaWiki's link syntax, those of pages nobody keeps from
their still XML-escaped bytes (:class:`Markup`). mwparserfromhell's tokenizer is
quadratic in what it cannot close, so a hostile page could stall a worker for minutes:
an infobox is given to it only within measured bounds (:data:`MAX_INFOBOX_CHARS`,
:func:`parse_cost`), and otherwise refused (:class:`InfoboxRefused`); the comments
above those bounds say how they were chosen.

The chunks, the tables and the stage are :mod:`wikirec.parse`'s; this module must not
import it, nor TensorFlow.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import AnyStr, Protocol

import mwparserfromhell
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
from mwparserfromhell.parser import CTokenizer, use_c
from mwparserfromhell.parser import tokens as tk
from mwparserfromhell.parser.tokenizer import Tokenizer
from mwparserfromhell.wikicode import Wikicode

from wikirec.cli import MAX_INT64
from wikirec.dump import Chunk, RawPage, extract_tag, unescape
from wikirec.titles import (
    NAMESPACES,
    TemplateMatcher,
    canonical_template_name,
    dump_namespaces,
    illegal_title,
    namespace_of,
    normalize_title,
    with_canonical_namespace,
)

_BYTES_ATTR = re.compile(rb'\bbytes="(\d+)"')
_REDIRECT = re.compile(rb'<redirect\s+title="([^"]*)"')
_QUOTES = re.compile(r"'{2,}")
# A bracketed link runs to its "]" (or the line's end: never fails, so linear time),
# its label included: "[http://a.example/ http://a.example/]" is one link, not two.
# Matched only where a "//" says a link may start (_external_matches).
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


@contextmanager
def namespaces_of(chunk: Chunk) -> Iterator[None]:
    """The namespace names of ``chunk``'s dump in force while it is read, one chunk at a
    time per process: a Dask worker with threads would otherwise mix two dumps' names
    (parsing holds the GIL: little is lost). The escaped link targets cached for another
    dump's names are dropped."""
    with _NAMESPACES_LOCK, dump_namespaces(dict(chunk.namespaces)):
        if _ESCAPED_TARGETS.namespaces != chunk.namespaces:
            _ESCAPED_TARGETS.clear()
            _ESCAPED_TARGETS.namespaces = chunk.namespaces
        yield


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


class LinkSink(Protocol):
    """Where :func:`read_page` puts each page's links (:class:`wikirec.parse.LinkCollector`)."""

    def add(self, source: str, targets: Iterable[bytes | None]) -> None:
        """``targets``: a page's :func:`link_target` values, in page order."""


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
    return _is_footnote_name(str(node.name))


def _is_footnote_name(name: str) -> bool:
    name = canonical_template_name(name).lower()
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
        "lead": lead_sentences(visible),
        "wikilinks": wikilinks,
        "categories": categories,
        "external_links": external_links(visible),
    }


# --------------------------------------------------------------------------- the lead

# What a book page shows under its title: the article's first sentences as plain text.
LEAD_CHARS = 320  # at most this much text is kept (whole sentences when they fit)
# The lead paragraph is looked for in the page's first characters only, and read through
# mwparserfromhell within the infobox's bounds (parse_cost): no page can stall a worker.
LEAD_SEARCH_CHARS = 60_000
LEAD_PARAGRAPH_CHARS = 4_000
LEAD_PARSED_CHARS = 1_500  # of it, without references: plenty for LEAD_CHARS of text
_ANY_TAG = re.compile(r"<[^<>]*>")
# Each try stops at the next "<", so a run of unclosed "<ref " costs linear time.
_REFERENCES = re.compile(r"<ref\b[^<>]*/>|<ref\b[^<>]*>(?:(?!</?ref\b).)*</ref\s*>", re.I | re.S)
# what a left-out template leaves behind: "( ; )", "(; born 1903)", " ,"
_EMPTY_BRACKETS = re.compile(r"\(\s*[;,]*\s*\)")
_BRACKET_OPENING = re.compile(r"\(\s*(?:[;,]\s*)+")
_BRACKET_CLOSING = re.compile(r"(?:\s*[;,])+\s*\)")
_SPACE_BEFORE_MARK = re.compile(r"\s+([,.;:)])")
_LEAD_SKIPPED_LINKS = re.compile(r"\[\[\s*:?\s*(file|image|category)\s*:", re.I)
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]?\s+(?=[A-Z0-9\"'(])")


def lead_sentences(visible: str) -> str:
    """The article's first sentences as plain text, at most :data:`LEAD_CHARS`
    characters: the first paragraph of prose (after the templates, tables, files and
    magic words that come before it), read as :func:`plain_text` reads a field, then
    cut after the last whole sentence that fits (or at a word, with an ellipsis). ``""``
    when the page opens with no prose before its first heading, or the paragraph is
    refused as too costly to parse."""
    paragraph = _lead_paragraph(visible[:LEAD_SEARCH_CHARS])
    # References are most of a lead's markup and none of its text.
    # Then every other tag is dropped, its text kept (<small>, <span>, <br>): a lead
    # needs none, and a run of unclosed ones costs mwparserfromhell quadratic time.
    paragraph = _ANY_TAG.sub("", _REFERENCES.sub("", paragraph)).replace("<", "")
    paragraph = paragraph[:LEAD_PARSED_CHARS]
    if not paragraph or parse_cost(paragraph) > MAX_PARSE_COST:
        return ""
    try:
        text = _lead_text(mwparserfromhell.parse(paragraph))
    except RecursionError:
        return ""
    return _first_sentences(text, LEAD_CHARS)


def _lead_paragraph(text: str) -> str:
    """The first paragraph of prose of ``text``: from its first line that is no
    template, table, file, category, list, indent, heading or magic word, to the
    next blank line, heading, table or list (at most :data:`LEAD_PARAGRAPH_CHARS`)."""
    position = 0
    while position < len(text):
        while position < len(text) and text[position].isspace():
            position += 1
        rest = text[position : position + 2]
        if rest == "{{" and not _is_prose_template(text, position):
            end = _template_end(text, position)
            if end is None:
                return ""
            position = end
        elif rest == "{|":
            end = text.find("\n|}", position)
            if end < 0:
                return ""
            position = end + 3
        elif _LEAD_SKIPPED_LINKS.match(text, position):
            end = _link_end(text, position)
            if end is None:
                return ""
            position = end
        elif rest == "__" or rest[:1] in ("*", "#", ":", ";", "<"):
            end = text.find("\n", position)
            position = len(text) if end < 0 else end
        elif rest[:1] == "=":
            return ""  # a section before any lead
        else:
            end = len(text)
            for stop in ("\n\n", "\n=", "\n{|", "\n*", "\n#", "\n:", "\n;"):
                found = text.find(stop, position, position + LEAD_PARAGRAPH_CHARS)
                end = min(end, found if found >= 0 else end)
            return text[position : min(end, position + LEAD_PARAGRAPH_CHARS)].strip()
    return ""


def _is_prose_template(text: str, start: int) -> bool:
    """Whether the template at ``start`` is one a sentence may begin with
    (``{{nihongo|Aikido|...}} is a ...``): one :func:`_rendered` gives text."""
    match = _TEMPLATE_START.match(text, start)
    if match is None:
        return False
    name = canonical_template_name(match.group(1)).lower()
    return bool(_LAST_ARGUMENT.match(name) or _FIRST_ARGUMENT.match(name))


def _link_end(text: str, start: int) -> int | None:
    """Index just past the ``]]`` closing the ``[[`` at ``start`` (links nest in a
    file's caption), or None."""
    return _balanced_end(text, start, _BRACKETS, "[[")


_BRACKETS = re.compile(r"\[\[|\]\]")


def _lead_text(code: Wikicode) -> str:
    """:func:`plain_text`, but the templates of running prose give the text they render
    (:func:`_rendered`), and the others (pronunciations, citations needed, ...) none."""
    for template in code.filter_templates(recursive=False):
        code.replace(template, _rendered(template))
    return plain_text(code)


# Templates that stand for a character in running prose.
_CHARACTER_TEMPLATES = {"ndash": "\u2013", "mdash": "\u2014", "snd": " \u2013 ",
                        "spaced ndash": " \u2013 ", "nbsp": " ", "'": "'", "sndash": " \u2013 "}
# Templates whose text is one of their arguments: the last ({{lang|fr|Le Petit Prince}}),
# the first ({{nihongo|Aikido|合気道|aikidō}}), or the value and its unit
# ({{convert|44579000|km2}}).
_LAST_ARGUMENT = re.compile(r"^(lang(-[\w-]+)?|transl|langx)$")
_FIRST_ARGUMENT = re.compile(r"^(nihongo[23]?|nowrap|small|em|abbr|lang-x)$")


def _rendered(template: Template) -> str:
    """What a template of a lead renders as plain text, or "" (most render markup,
    footnotes or pronunciations: nothing a reader's sentence needs)."""
    name = canonical_template_name(str(template.name)).lower()
    args = [str(p.value).strip() for p in template.params if not p.showkey]
    if name in _CHARACTER_TEMPLATES:
        return _CHARACTER_TEMPLATES[name]
    if not args:
        return ""
    if _LAST_ARGUMENT.match(name):
        return args[-1]
    if _FIRST_ARGUMENT.match(name):
        return args[0]
    if name in ("convert", "cvt"):
        return " ".join(args[:2])
    if name in ("circa", "c."):
        return "c. " + args[0]
    return ""


def _first_sentences(text: str, limit: int) -> str:
    """``text`` cut after its last whole sentence within ``limit`` characters; a first
    sentence longer than that is cut at a word, with an ellipsis."""
    text = _BRACKET_CLOSING.sub(")", _BRACKET_OPENING.sub("(", text))
    text = _SPACE_BEFORE_MARK.sub(r"\1", " ".join(_EMPTY_BRACKETS.sub("", text).split()))
    if len(text) <= limit:
        return text
    ends = [m.start() for m in _SENTENCE_END.finditer(text) if m.start() <= limit]
    if ends:
        return text[: ends[-1]].rstrip()
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > 0 else limit].rstrip(" ,;:") + "\u2026"


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
        read = infobox_fields(span)
        if read is None or not matcher.matches(read[0]):
            continue
        name, params = read
        fields = {}
        for key, value in params:
            value = value.replace(_STRAY, "<")
            if value:
                fields[key.replace(_STRAY, "<")] = value
        return canonical_template_name(name), fields
    if refused is not None:
        raise InfoboxRefused(refused)
    return None


def infobox_fields(span: str) -> tuple[str, list[tuple[str, str]]] | None:
    """The first top-level template of ``span`` as mwparserfromhell reads it: its name
    as written, and its parameters as (name, value) pairs of :func:`plain_text`;
    ``None`` if there is none. Read from mwparserfromhell's tokens (:class:`_TokenReader`,
    three times faster than its tree, which most of the time of a book page went to);
    a construct the reader does not know is read from the tree instead, the same way."""
    try:
        return _TokenReader(_tokenize(span)).first_template()
    except _Unsupported:
        pass
    templates = mwparserfromhell.parse(span).filter_templates(recursive=False)
    if not templates:
        return None
    params = [(plain_text(p.name), plain_text(p.value)) for p in templates[0].params]
    return str(templates[0].name), params


def _tokenize(span: str) -> list:
    """mwparserfromhell's tokens of ``span``, as its own ``parse`` makes them."""
    return (CTokenizer() if use_c and CTokenizer else Tokenizer()).tokenize(span, 0, False)


class _Unsupported(Exception):
    """A token sequence :class:`_TokenReader` leaves to mwparserfromhell's tree."""


class _TokenReader:
    """:func:`plain_text` computed straight from mwparserfromhell's tokens, without
    building its tree: it walks the tokens as mwparserfromhell's ``Builder`` does and
    gives, for each node the tree would hold, what ``_plain`` gives for it. Headings,
    and names (of templates, tags, URLs) holding more than text and comments, raise
    :class:`_Unsupported`: the tree reads those (tested to agree on every template of
    the bundled pages, and on generated wikitext)."""

    def __init__(self, tokens: list) -> None:
        self.tokens = tokens[::-1]  # popped from the end, as the Builder does

    def first_template(self) -> tuple[str, list[tuple[str, str]]] | None:
        if not self.tokens or type(self.tokens[-1]) is not tk.TemplateOpen:
            if any(type(t) is tk.TemplateOpen for t in self.tokens):
                raise _Unsupported  # a template after other nodes: the tree finds it
            return None
        self.tokens.pop()
        name, params = self._template()
        return name, [(_collapse(key), _collapse(value)) for key, value, _ in params]

    def _pop(self):
        if not self.tokens:
            raise _Unsupported  # mwparserfromhell's Builder fails here: let it say so
        return self.tokens.pop()

    def _until(self, *stops: type, raw: bool = False) -> tuple[str, object]:
        """The plain text of the nodes up to the next token of a ``stops`` type, and it;
        ``raw``: their wikitext instead (``str`` of them), for text and comments only."""
        node = self._raw_node if raw else self._node
        parts = []
        while True:
            token = self._pop()
            kind = type(token)
            if kind in stops:
                return "".join(parts), token
            parts.append(node(token, kind))

    def _raw_node(self, token, kind: type) -> str:
        if kind is tk.Text:
            return token.text
        if kind is tk.CommentStart:
            return f"<!--{self._until(tk.CommentEnd, raw=True)[0]}-->"
        raise _Unsupported

    def _node(self, token, kind: type) -> str:
        if kind is tk.Text:
            return token.text
        read = self._READERS.get(kind)
        if read is None:
            raise _Unsupported
        return read(self, token)

    def _template(self) -> tuple[str, list[tuple[str, str, bool]]]:
        name, token = self._until(tk.TemplateParamSeparator, tk.TemplateClose, raw=True)
        params = []
        position = 1
        while type(token) is tk.TemplateParamSeparator:
            key = None
            value, token = self._until(
                tk.TemplateParamEquals, tk.TemplateParamSeparator, tk.TemplateClose
            )
            if type(token) is tk.TemplateParamEquals:
                key = value
                value, token = self._until(tk.TemplateParamSeparator, tk.TemplateClose)
            if key is None:
                params.append((str(position), value, False))
                position += 1
            else:
                params.append((key, value, True))
        return name, params

    def _nested_template(self, token) -> str:
        name, params = self._template()
        if _is_footnote_name(name):
            return ""
        values = (value.strip() for _, value, named in params if not named)
        return ", ".join(v for v in values if v)

    def _second_part(self, token, close: type) -> str | None:
        """After a node's first part ended on ``token``: the plain text of its second part
        (a label, a default) up to ``close``, or ``None`` if ``token`` closed the node."""
        return None if type(token) is close else self._until(close)[0]

    def _wikilink(self, token) -> str:
        title, token = self._until(tk.WikilinkSeparator, tk.WikilinkClose)
        label = self._second_part(token, tk.WikilinkClose)
        return title if label is None else label

    def _external_link(self, token) -> str:
        url, token = self._until(tk.ExternalLinkSeparator, tk.ExternalLinkClose, raw=True)
        label = self._second_part(token, tk.ExternalLinkClose)
        return url if label is None else label

    def _entity(self, token) -> str:
        token = self._pop()
        if type(token) is tk.HTMLEntityNumeric:
            token = self._pop()
            if type(token) is tk.HTMLEntityHex:
                text = self._pop().text
                node = HTMLEntity(text, named=False, hexadecimal=True, hex_char=token.char)
            else:
                node = HTMLEntity(token.text, named=False, hexadecimal=False)
        else:
            node = HTMLEntity(token.text, named=True, hexadecimal=False)
        if type(self._pop()) is not tk.HTMLEntityEnd:
            raise _Unsupported
        character = node.normalize()
        return str(node) if "\ud800" <= character <= "\udfff" else character

    def _comment(self, token) -> str:
        self._until(tk.CommentEnd)
        return ""

    def _argument(self, token) -> str:
        _, token = self._until(tk.ArgumentSeparator, tk.ArgumentClose)
        return self._second_part(token, tk.ArgumentClose) or ""

    def _tag(self, token) -> str:
        name, token = self._until(tk.TagAttrStart, tk.TagCloseOpen, tk.TagCloseSelfclose, raw=True)
        while type(token) is tk.TagAttrStart:  # attributes: read, and shown nowhere
            _, token = self._until(tk.TagAttrStart, tk.TagCloseOpen, tk.TagCloseSelfclose)
        tag = name.strip().lower()
        if type(token) is tk.TagCloseSelfclose:
            return " " if tag in _BREAKS else ""
        contents, _ = self._until(tk.TagOpenClose)
        self._until(tk.TagCloseClose)
        if tag in _BREAKS:
            return " "
        return contents if tag not in _DROPPED_TAGS else ""

    def _attribute_part(self, token) -> str:
        return ""  # "=" and quotes of an attribute being read

    _READERS = {
        tk.TemplateOpen: _nested_template,
        tk.WikilinkOpen: _wikilink,
        tk.ExternalLinkOpen: _external_link,
        tk.HTMLEntityStart: _entity,
        tk.CommentStart: _comment,
        tk.ArgumentOpen: _argument,
        tk.TagOpenOpen: _tag,
        tk.TagAttrEquals: _attribute_part,
        tk.TagAttrQuote: _attribute_part,
    }


def _collapse(plain: str) -> str:
    """What :func:`plain_text` makes of ``_plain``'s result."""
    return " ".join(_QUOTES.sub("", plain).split())


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
    return _balanced_end(text, start, _BRACES, "{{")


def _balanced_end(text: str, start: int, marks: re.Pattern, opening: str) -> int | None:
    """Index just past the closing mark that balances the ``opening`` mark at
    ``start`` (``marks`` finds both kinds), or None if it never closes."""
    depth = 0
    for mark in marks.finditer(text, start):
        depth += 1 if mark.group() == opening else -1
        if depth == 0:
            return mark.end()
    return None


def external_links(text: str) -> list[str]:
    """URLs of bracketed (``[http://x label]``, ``[//x]``) and bare ``http(s)://`` links,
    in page order; a bare link loses trailing punctuation, as MediaWiki renders it."""
    urls = []
    for bracketed, bare in _external_matches(text):
        if bracketed:
            urls.append(bracketed)
            continue
        url = bare.rstrip(".,;:!?'")
        if url.endswith(")") and "(" not in url:
            url = url[:-1]
        urls.append(url)
    return urls


def _external_matches(text: str) -> Iterator[tuple[str, str]]:
    """``_EXTERNAL.findall(text)``, found from each "//" (every link has one, right
    after its "[", white space and scheme): the search skips from one "//" to the next
    instead of trying the regex at every position of the page: 15 times faster on book
    pages (0.034 s against 0.52 s on 3,207 pages, 14.7 MB)."""
    floor = 0  # where the last link ended: findall looks no further back
    at = text.find("//")
    while at >= 0:
        for start in _link_starts(text, at, floor):
            match = _EXTERNAL.match(text, start)
            if match is not None:
                yield match.groups("")
                floor = match.end()
                break
        at = text.find("//", max(at + 1, floor))


def _link_starts(text: str, at: int, floor: int) -> list[int]:
    """Where a link whose "//" is at ``at`` may start, not before ``floor``: at the "["
    before its white space and scheme, else at its scheme if no letter precedes it."""
    scheme = at
    if at > 0 and text[at - 1] == ":":
        for name in ("https", "http", "ftp"):
            if text[at - 1 - len(name) : at - 1].lower() == name:
                scheme = at - 1 - len(name)
                break
    bracket = scheme - 1
    while bracket >= floor and text[bracket].isspace():
        bracket -= 1
    starts = [bracket] if bracket >= floor and text[bracket] == "[" else []
    if floor <= scheme < at and not (scheme > 0 and _is_word(text[scheme - 1])):
        starts.append(scheme)
    return starts


def _is_word(character: str) -> bool:
    return character.isalnum() or character == "_"


def read_page(
    page: RawPage,
    matcher: TemplateMatcher,
    stats: ChunkStats,
    chunk: Chunk,
    links: LinkSink | None = None,
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
    if not matcher.may_carry(xml):
        return None
    title_raw = extract_tag(xml, b"title")
    page_id = extract_tag(xml, b"id")
    if title_raw is None or page_id is None or not page_id.strip().isdigit():
        return _skip(stats, chunk, page, "page without <title> or <id>")
    title = unescape(title_raw)
    if (illegal := illegal_title(title)) is not None:
        return _skip(stats, chunk, page, f"a page {illegal}")
    if int(page_id) > MAX_INT64:  # the id column is 64-bit, as MediaWiki's page_id
        return _skip(stats, chunk, page, f"page '{title}' has an <id> over 64 bits")
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
        hiding = unclosed_tag_before(text, matcher)
        if hiding is not None:  # MediaWiki would show the infobox; we cannot tell where
            return _skip(stats, chunk, page, f"page '{title}' has an unclosed <{hiding}> "
                                             "before its template, which hides it")  # fmt: skip
        return None
    declared = _BYTES_ATTR.search(xml, tag_start, text_start)
    row["page_id"] = int(page_id)
    revision = xml[max(xml.rfind(b"<revision>"), 0) :]
    row["timestamp"] = parse_timestamp(extract_tag(revision, b"timestamp"))
    length = int(declared.group(1)) if declared else len(text.encode("utf-8"))
    if length > MAX_INT64:
        return _skip(stats, chunk, page, f"page '{title}' declares a text of over 64 bits")
    row["text_length"] = length
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


def _read_links(xml: bytes, links: LinkSink) -> None:
    title = extract_tag(xml, b"title")
    span = _text_span(xml)
    if title is None or isinstance(span, str):
        return  # a broken page is reported if it carries the template, and has no links
    source = unescape(title)
    if illegal_title(source) is not None:
        return  # no page of MediaWiki's: reported if it carries the template
    _, start, end = span
    links.add(source, escaped_link_targets(xml[start:end]))


_HIDDEN_OPENING = re.compile(rf"<({_HIDDEN_TAGS})\b[^>]*(?<!/)>", re.I)


def unclosed_tag_before(text: str, matcher: TemplateMatcher) -> str | None:
    """The name of a ``<nowiki>``, ``<pre>``, ``<math>``, ... never closed that opens
    before the page's first mention of a chosen template (read as hiding the rest of
    the page), or None. Only asked of a page that may carry the template and was not
    kept, so its cost is rarely paid."""
    if _HIDDEN_OPENING.search(text) is None:  # most pages: no such tag at all
        return None
    lowered = text.lower()
    # its first word ("infobox"): a name may be spelt with "_" or a wildcard in it
    words = {name.split()[0].split("*")[0].lower() for name in matcher.names} - {""}
    first = min((i for i in (lowered.find(w) for w in words) if i >= 0), default=len(text))
    for opening in _HIDDEN_OPENING.finditer(text, 0, first):
        tag = opening[1].lower()
        if lowered.find(f"</{tag}", opening.end()) < 0:
            return tag
    return None


def _skip(stats: ChunkStats, chunk: Chunk, page: RawPage, why: str) -> None:
    stats.skipped += 1
    stats.errors.append(f"{chunk.path}: {why} (near byte {page.offset}); skipped")
    return None


def parse_timestamp(raw: bytes | None):
    if raw is None:
        return None
    try:
        return datetime.fromisoformat(raw.decode("ascii").strip().replace("Z", "+00:00"))
    except ValueError:
        return None
