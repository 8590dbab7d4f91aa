"""Page titles and template names, normalised the way MediaWiki compares them.

Shared by the parser (link targets, template matching) and the build stage
(redirect resolution, namespace filtering).
"""

from __future__ import annotations

import fnmatch
import html
import re
from collections.abc import Iterable

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

_SPACES = re.compile(r"[\s_]+")
_COMMENT = re.compile(r"<!--.*?(?:-->|$)", re.S)


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
    with ``*`` is a shell-style pattern, so ``"Infobox *"`` keeps any infobox.
    """

    def __init__(self, names: Iterable[str]) -> None:
        self.names = sorted({canonical_template_name(n) for n in names if n.strip()})
        if not self.names:
            raise ValueError("no template name given")
        self._exact = {n for n in self.names if "*" not in n}
        self._patterns = [n for n in self.names if "*" in n]
        self.prefilter = _prefilter_regex(self.names)

    def matches(self, raw_name: str) -> bool:
        name = canonical_template_name(raw_name)
        if name in self._exact:
            return True
        return any(fnmatch.fnmatchcase(name, p) for p in self._patterns)


def _prefilter_regex(names: list[str]) -> re.Pattern[bytes]:
    """A regex over the raw, still XML-escaped page bytes that finds every page that may
    carry one of ``names``; mwparserfromhell has the last word on the pages it finds."""
    alternatives = []
    for name in names:
        first, rest = name[0], name[1:]
        head = "|".join(sorted({re.escape(_xml_escape(c)) for c in (first.upper(), first.lower())}))
        body = "".join(
            r"[\s_]+" if c == " " else r"[^|{}]*?" if c == "*" else re.escape(_xml_escape(c))
            for c in rest
        )
        alternatives.append(f"(?:{head}){body}")
    pattern = r"\{\{\s*(?:[Tt]emplate\s*:\s*)?(?:" + "|".join(alternatives) + r")\s*(?:\||\}|&lt;)"
    return re.compile(pattern.encode("utf-8"))


def _xml_escape(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )
