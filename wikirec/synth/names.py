"""Names of the generated pages: which titles are valid, the real book titles and author
names they start from, and the made-up ones that follow when a dump needs more.

Normalisation itself (first letter upper-cased, template names) is MediaWiki's and lives
in :mod:`wikirec.titles`; what is here is the generator's own: which titles it may
write, and where its names come from.
"""

from __future__ import annotations

import collections
import re
from functools import lru_cache

import numpy as np

from wikirec.synth.tables import BOOK_INFO, NAME_PARTICLES, NAMESPACE_PREFIXES, STOPWORDS
from wikirec.titles import upper_first

_BAD_TITLE = re.compile(
    r"[\[\]{}|#<>\x00-\x1f\x7f_\ufffd]|&[A-Za-z#]|''|~~~|%[0-9A-Fa-f]{2}|^[ :]| $|  "
    r"|^\.\.?(?:/|$)|/\.\.?(?:/|$)"
)


def valid_title(title: str) -> bool:
    """Whether ``title`` is a valid, normalised main-namespace title: no ``[]{}|#<>``,
    no underscore, no double or outer space, first letter upper-case, no namespace
    prefix, at most 255 bytes."""
    if not title or len(title.encode("utf-8")) > 255 or _BAD_TITLE.search(title):
        return False
    if title[:1].upper() != title[:1]:
        return False
    if ":" in title and title.split(":", 1)[0].strip().lower() in NAMESPACE_PREFIXES:
        return False
    return True


def strip_disambiguation(title: str) -> str:
    """``"Dune (novel)"`` -> ``"Dune"``."""
    return re.sub(r" \([^()]*\)$", "", title)


def author_name(raw: str) -> str | None:
    """A real author cell (``"ursula k. le guin"``) as a page title, or None when it is not
    one person's name."""
    raw = " ".join(raw.split())
    if not re.fullmatch(r"[a-zà-öø-ÿ.' -]+", raw) or raw.count("'") > 1:
        return None
    tokens = raw.replace(".", ". ").split()
    if not 2 <= len(tokens) <= 4 or tokens[-1].endswith("."):
        return None
    if any(
        t in ("editor", "various", "anonymous", "unknown", "and", "et", "al.", "jr.")
        for t in tokens
    ):
        return None
    out = []
    for i, token in enumerate(tokens):
        if i and token in NAME_PARTICLES and i < len(tokens) - 1:
            out.append(token)
            continue
        word = "-".join(upper_first(p) for p in token.split("-"))
        if re.match(r"^[A-Za-z]'[a-z]", word):
            word = word[:2] + word[2].upper() + word[3:]
        out.append(word)
    name = " ".join(out)
    return name if valid_title(name) else None


@lru_cache(maxsize=1)
def book_info() -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """Real book titles, real author names and capitalised title words from the TSV."""
    titles: list[str] = []
    authors: dict[str, None] = {}
    words: collections.Counter[str] = collections.Counter()
    with open(BOOK_INFO, encoding="utf-8") as f:
        next(f)
        for line in f:
            cells = line.rstrip("\n").split("\t")
            title = upper_first(" ".join(cells[0].split()))
            if valid_title(title):
                titles.append(title)
                for w in re.findall(r"\b[A-Z][a-z]{3,11}\b", title):
                    words[w] += 1
            if len(cells) > 1:
                author = author_name(cells[1])
                if author is not None:
                    authors[author] = None
    caps = sorted(w for w, c in words.items() if c >= 2 and w.lower() not in STOPWORDS)
    return tuple(titles), tuple(authors), tuple(caps)


def made_up_title(rng: np.random.Generator) -> str:
    """A book title from two capitalised words of real titles."""
    caps = book_info()[2]
    a = caps[int(rng.integers(len(caps)))]
    b = caps[int(rng.integers(len(caps)))]
    pattern = int(rng.integers(7))
    title = (
        f"The {a} {b}",
        f"{a} of {b}",
        f"The {a}",
        f"{a} and {b}",
        f"{a}'s {b}",
        f"The {a} of the {b}",
        f"{a} {b}",
    )[pattern]
    if rng.random() < 0.15:
        title += " (novel)"
    return title


def made_up_author(rng: np.random.Generator) -> str:
    """A person's name from the first and last names of real authors."""
    names = book_info()[1]
    first = names[int(rng.integers(len(names)))].split()[0]
    last = names[int(rng.integers(len(names)))].split()[-1]
    if rng.random() < 0.3:
        middle = names[int(rng.integers(len(names)))].split()[0][:1]
        return f"{first} {middle}. {last}"
    return f"{first} {last}"


def title_variants(title: str, film: bool) -> list[str]:
    """Other names a reader may look a work up by: other capitalisation, "X (book)",
    with or without a leading "The", without the disambiguation."""
    base = strip_disambiguation(title)
    candidates = [base[:1] + base[1:].lower(), base + (" (movie)" if film else " (book)")]
    if base.startswith("The ") and len(base) > 6:
        candidates.append(upper_first(base[4:]))
    elif not base.startswith(("A ", "An ")):
        candidates.append("The " + base)
    if base != title:
        candidates.append(base)
    return candidates


def person_variants(name: str) -> list[str]:
    """Other names of a person: other capitalisation, initials, without middle names."""
    parts = name.split()
    candidates = [parts[0] + " " + " ".join(p.lower() for p in parts[1:])]
    if len(parts) >= 3:
        candidates.append(" ".join([*(p[0] + "." for p in parts[:-1]), parts[-1]]))
        candidates.append(parts[0] + " " + parts[-1])
    if any(p.endswith(".") for p in parts[:-1]):
        candidates.append(" ".join(parts).replace(". ", "."))
    return candidates
