"""Page titles and template names, normalised the way MediaWiki compares them, and
found again in a list of titles.

Shared by the parser (link targets, template matching), the build stage (redirect
resolution, namespace filtering), and everything that looks a title up in a trained
model (:class:`TitleIndex`: exactly, case-insensitively, in MediaWiki's normal form, or
with the closest titles suggested).
"""

from __future__ import annotations

import difflib
import fnmatch
import html
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager

import numpy as np

# Canonical English Wikipedia namespace names (and the aliases MediaWiki accepts),
# lower-cased: a prefix found here is a namespace, anything else is part of the title.
NAMESPACES: dict[str, str] = {
    name.lower(): canonical
    for canonical, aliases in {
        "Media": [],
        "Special": [],
        "Talk": [],
        "User": [],
        "User talk": [],
        "Wikipedia": ["WP", "Project"],
        "Wikipedia talk": ["WT", "Project talk"],
        "File": ["Image"],
        "File talk": ["Image talk"],
        "MediaWiki": [],
        "MediaWiki talk": [],
        "Template": ["T"],
        "Template talk": [],
        "Help": [],
        "Help talk": [],
        "Category": [],
        "Category talk": [],
        "Portal": [],
        "Portal talk": [],
        "Draft": [],
        "Draft talk": [],
        "Module": [],
        "Module talk": [],
        "Book": [],
        "Book talk": [],
        "TimedText": [],
        "TimedText talk": [],
    }.items()
    for name in [canonical, *aliases]
}

# The English canonical name of each namespace number MediaWiki defines (and English
# Wikipedia's own): what a dump in another language names "Kategorie" or "Thể loại"
# (its <siteinfo>) is written here under these names, as the rest of wikirec knows them.
CANONICAL_BY_KEY: dict[int, str] = {
    -2: "Media", -1: "Special", 1: "Talk", 2: "User", 3: "User talk",
    4: "Wikipedia", 5: "Wikipedia talk", 6: "File", 7: "File talk", 8: "MediaWiki",
    9: "MediaWiki talk", 10: "Template", 11: "Template talk", 12: "Help", 13: "Help talk",
    14: "Category", 15: "Category talk", 100: "Portal", 101: "Portal talk",
    108: "Book", 109: "Book talk", 118: "Draft", 119: "Draft talk", 710: "TimedText",
    711: "TimedText talk", 828: "Module", 829: "Module talk",
}  # fmt: skip


@contextmanager
def dump_namespaces(names: Mapping[str, str]) -> Iterator[None]:
    """Within it, one dump's own namespace names (lower-cased name → canonical English
    name, :func:`wikirec.dump.read_namespaces`) are namespaces too: ``Kategorie:Roman``
    normalises to ``Category:Roman``. The English names stay known, as MediaWiki
    accepts them in every language. Changes this module's table: one dump at a time
    per process (a parse worker reads one chunk at a time)."""
    added = {
        name: canonical for name, canonical in names.items() if NAMESPACES.get(name) != canonical
    }
    saved = {name: NAMESPACES[name] for name in added if name in NAMESPACES}
    NAMESPACES.update(added)
    try:
        yield
    finally:
        for name in added:
            del NAMESPACES[name]
        NAMESPACES.update(saved)


def with_canonical_namespace(title: str) -> str:
    """A page's title with its namespace's canonical English name (``Kategorie:Roman`` →
    ``Category:Roman``), otherwise as it is."""
    prefix, colon, rest = title.partition(":")
    canonical = NAMESPACES.get(prefix.strip().lower()) if colon else None
    return f"{canonical}:{rest}" if canonical is not None and canonical != prefix else title


CATEGORY_PREFIX = "category:"  # a link to a category, as the build writes it (folded)
MAX_SUGGESTIONS = 3
CUTOFF = 0.6  # difflib's ratio a title needs to be suggested
_SPACES = re.compile(r"[\s_]+")
_COMMENT = re.compile(r"<!--.*?(?:-->|$)", re.S)


# Control characters: a terminal obeys them (ESC starts a command sequence, as does
# U+009B); MediaWiki allows none of the C0 ones nor DEL in a title.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_ILLEGAL_IN_TITLE = re.compile(r"[\x00-\x1f\x7f]")


def printable(text: str) -> str:
    """``text`` for a terminal: each control character written as its escape
    (``"\\x1b"``), everything else as it is."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


def illegal_title(title: str) -> str | None:
    """Why MediaWiki could not have a page titled ``title`` (empty, blank, or holding a
    control character such as NUL), or ``None``."""
    if not title.strip():
        return "has an empty title"
    if _ILLEGAL_IN_TITLE.search(title):
        return f"has a control character in its title '{printable(title)}'"
    return None


def upper_first(text: str) -> str:
    """Upper-case the first character only, as MediaWiki's ``$wgCapitalLinks`` does."""
    return text[:1].upper() + text[1:]


def normalize_title(raw: str) -> str:
    """Return the title a wikilink target points at, or ``""`` for a same-page anchor.

    Underscores become spaces, runs of white space collapse, ``#section`` is dropped,
    HTML entities are decoded, the first letter is upper-cased (after a namespace
    prefix too), and a known namespace prefix gets its canonical spelling
    (``category:x`` becomes ``Category:X``). A leading colon (``[[:Category:X]]``,
    a link to the category rather than a categorisation) is dropped.

    >>> normalize_title("new_york  times#History")
    'New york times'
    >>> normalize_title(" category : science fiction novels")
    'Category:Science fiction novels'
    """
    if "&" in raw:
        raw = html.unescape(raw)
    title = _SPACES.sub(" ", raw.split("#", 1)[0]).strip().lstrip(":").strip()
    if ":" in title:
        prefix, rest = title.split(":", 1)
        canonical = NAMESPACES.get(prefix.strip().lower())
        if canonical is not None:
            return f"{canonical}:{upper_first(rest.strip())}"
    return upper_first(title)


def namespace_of(title: str) -> str:
    """The canonical namespace of a normalised title, ``""`` for the main namespace."""
    if ":" not in title:
        return ""
    return NAMESPACES.get(title.split(":", 1)[0].lower(), "")


def canonical_template_name(raw: str) -> str:
    """A template name as MediaWiki compares it: ``" infobox_Book "`` → ``"Infobox Book"``.

    A ``Template:`` prefix and HTML comments are dropped; only the first letter is
    case-insensitive.
    """
    if "<!--" in raw:
        raw = _COMMENT.sub("", raw)
    name = _SPACES.sub(" ", raw).strip()
    if ":" in name:
        prefix, rest = name.split(":", 1)
        if NAMESPACES.get(prefix.strip().lower()) == "Template":
            name = rest.strip()
    return upper_first(name)


class TemplateMatcher:
    """Decides whether a template name is one of the chosen ones.

    Names follow MediaWiki's rules (see :func:`canonical_template_name`); a name
    with ``*`` is a shell-style pattern, so ``"Infobox *"`` keeps any infobox, and
    ``"*"`` any template (a page's first one is the one kept).
    """

    def __init__(self, names: Iterable[str]) -> None:
        self.names = sorted({canonical_template_name(n) for n in names if n.strip()})
        if not self.names:
            raise ValueError("no template name given")
        self._exact = {n for n in self.names if "*" not in n}
        self._patterns = [n for n in self.names if "*" in n]
        self.prefilter = _prefilter_regex(self.names)
        self.required = _required_bytes(self.names)
        self._answers: dict[str, bool] = {}

    def may_carry(self, xml: bytes) -> bool:
        """Whether a page's raw, still XML-escaped bytes may carry one of the templates
        (:attr:`prefilter`): a superset, in linear time. The bytes every name holds
        (:attr:`required`, "nfobox" for the book templates) are looked for first:
        3 times faster than the regex on a page with many templates."""
        if self.required and self.required not in xml:
            return False
        return self.prefilter.search(xml) is not None

    def matches(self, raw_name: str) -> bool:
        # Remembered: a page names the same templates again and again (10,000 "{{x|"
        # cost 20 ms to canonicalise one by one).
        known = self._answers.get(raw_name)
        if known is None:
            if len(self._answers) >= 10_000:
                self._answers.clear()
            name = canonical_template_name(raw_name)
            known = name in self._exact or any(fnmatch.fnmatchcase(name, p) for p in self._patterns)
            self._answers[raw_name] = known
        return known


def _prefilter_regex(names: list[str]) -> re.Pattern[bytes]:
    """A regex over the raw, still XML-escaped page bytes that finds every page that may
    carry one of ``names``; mwparserfromhell has the last word on the pages it finds.

    A name is sought up to its first wildcard only (``"Infobox *"`` as ``{{Infobox ``,
    ``"*"`` as any ``{{``): a superset, found in linear time, where a wildcard spelled
    as a lazy run between two runs of white space backtracked in cubic time."""
    alternatives = []
    for name in names:
        literal = _WILDCARD.split(name, maxsplit=1)[0]
        if not literal:  # a name that starts with a wildcard: any template may be it
            return re.compile(rb"\{\{")
        first, rest = literal[0], literal[1:]
        head = "|".join(sorted({re.escape(_xml_escape(c)) for c in (first.upper(), first.lower())}))
        body = "".join(r"[\s_]+" if c == " " else re.escape(_xml_escape(c)) for c in rest)
        end = r"\s*(?:\||\}|&lt;)" if literal == name else ""
        alternatives.append(f"(?:{head}){body}{end}")
    # Any namespace prefix, "Template:" in the dump's language ("Vorlage:"), at most 40
    # characters: a bounded run before ":", linear time.
    # (Its first character no space: else each space "\s*" gives back starts it again.)
    # After white space, "(?=\S)": giving back one space costs one test, not one for
    # each name (20,000 spaces after "{{" took 3 ms against 0.1 ms).
    prefix = r"(?:[^{}|:&<>\[\]\s][^{}|:&<>\[\]\n]{0,39}:\s*(?=\S))?"
    pattern = r"\{\{\s*(?=\S)" + prefix + "(?:" + "|".join(alternatives) + ")"
    return re.compile(pattern.encode("utf-8"))


def _required_bytes(names: list[str]) -> bytes:
    """The longest run of characters that every name's prefilter match holds as it is
    written (after the first letter, whose case may differ; between its spaces, which
    may be underscores; before a wildcard), XML-escaped: b"" if there is none."""
    pieces = []
    for name in names:
        literal = _WILDCARD.split(name, maxsplit=1)[0]
        words = [_xml_escape(word) for word in literal[1:].split(" ")]
        pieces.append([word for word in words if word])
    best = ""
    for word in pieces[0]:
        for start in range(len(word)):
            for end in range(len(word), start + len(best), -1):
                run = word[start:end]
                if all(any(run in w for w in words) for words in pieces):
                    best = run
                    break
    return best.encode("utf-8")


_WILDCARD = re.compile(r"[*?\[]")  # fnmatch's


def _xml_escape(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def is_category_link(title: str) -> bool:
    """A link to a ``Category:`` page (in any case)."""
    return title.lower().startswith(CATEGORY_PREFIX)


def category_links(titles: Iterable[str]) -> np.ndarray:
    """bool (n,): which of ``titles`` are links to a ``Category:`` page."""
    return np.array([is_category_link(t) for t in titles], dtype=bool)


# --------------------------------------------------------------------------- lookup


def unknown_title_message(title: str, nouns: Sequence[str], suggestions: Sequence[str]) -> str:
    """``No book 'War & Peace'. Did you mean: War and Peace?``: ``nouns`` say what was
    looked for ("book", "page"), ``suggestions`` are the closest known titles."""
    hint = f" Did you mean: {', '.join(suggestions)}?" if suggestions else ""
    return f"No {' or '.join(nouns)} {title!r}.{hint}"


class TitleIndex:
    """The titles of one vocabulary, found exactly or case-insensitively.

    Parameters
    ----------
    titles : the titles in row order (length n)
    """

    def __init__(self, titles: Sequence[str]) -> None:
        self.titles = list(titles)
        self.exact: dict[str, int] = {}
        self.folded: dict[str, int] = {}
        self._char_profiles: CharProfiles | None = None
        for row, title in enumerate(self.titles):
            self.exact.setdefault(title, row)
            self.folded.setdefault(title.casefold(), row)

    def __len__(self) -> int:
        return len(self.titles)

    def find(self, title: str) -> int | None:
        """The row of ``title``: exact, case-insensitive, or in MediaWiki's normal form."""
        for candidate in (title, normalize_title(title)):
            row = self.exact.get(candidate)
            if row is None:
                row = self.folded.get(candidate.casefold())
            if row is not None:
                return row
        return None

    def close_matches(self, title: str, n: int = MAX_SUGGESTIONS) -> list[tuple[float, str]]:
        """Up to ``n`` ``(similarity, title)`` most like ``title``: difflib's ratio of the
        case-folded titles without their disambiguators (``Dune (novel)`` is compared as
        ``dune``), at least ``CUTOFF``; so a shared "(novel)" makes no two titles alike,
        and a title whose name is the text comes first whatever its disambiguator.

        Only the titles whose character counts allow that ratio (a vectorised upper
        bound, difflib's ``quick_ratio`` over characters folded into 64 classes) are
        compared one by one, so a miss costs milliseconds, not seconds, at 1M titles.
        """
        folded = base_title(title.casefold())
        keys = list(self.folded)
        bases = self._profiles().strings
        bound = self._profiles().upper_bounds(folded)
        matcher = difflib.SequenceMatcher(b=folded)
        found: list[tuple[float, str]] = []
        for position in np.flatnonzero(bound >= CUTOFF):
            matcher.set_seq1(bases[position])
            ratio = matcher.ratio()
            if ratio >= CUTOFF:
                found.append((ratio, self.titles[self.folded[keys[position]]]))
        found.sort(key=lambda pair: (-pair[0], pair[1]))
        return found[:n]

    def _profiles(self) -> CharProfiles:
        if self._char_profiles is None:
            self._char_profiles = CharProfiles([base_title(key) for key in self.folded])
        return self._char_profiles


DISAMBIGUATOR = re.compile(r"\s+\([^()]*\)$")


def base_title(title: str) -> str:
    """``title`` without a trailing disambiguator: ``Dune (novel)`` -> ``Dune``."""
    return DISAMBIGUATOR.sub("", title) or title


class CharProfiles:
    """Character counts of many strings, folded into ``CLASSES`` classes (uint16, (n,
    CLASSES)), for a vectorised upper bound of difflib's ratio against one string."""

    CLASSES = 64

    def __init__(self, strings: list[str]) -> None:
        self.strings = strings
        self.lengths = np.fromiter((len(s) for s in strings), dtype=np.int64, count=len(strings))
        codes = self._codes("".join(strings))
        owner = np.repeat(np.arange(len(strings)), self.lengths)
        flat = owner * self.CLASSES + codes
        counts = np.bincount(flat, minlength=len(strings) * self.CLASSES)
        self.counts = np.minimum(counts, 2**16 - 1).astype(np.uint16).reshape(-1, self.CLASSES)

    @classmethod
    def _codes(cls, text: str) -> np.ndarray:
        points = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
        return (points % cls.CLASSES).astype(np.int64)

    def upper_bounds(self, text: str) -> np.ndarray:
        """float (n,): no string's difflib ratio against ``text`` can exceed these."""
        query = np.bincount(self._codes(text), minlength=self.CLASSES).astype(np.uint16)
        common = np.minimum(self.counts, query).sum(1, dtype=np.int64)
        return 2.0 * common / np.maximum(self.lengths + len(text), 1)
