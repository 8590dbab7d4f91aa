"""The generator's fixed vocabulary, read from ``wikirec/synth/data/``.

- ``siteinfo.xml``: the ``<mediawiki>`` opening and ``<siteinfo>`` of every generated
  dump (from a real enwiki export), and so the namespaces a title must not start with;
- ``genres.tsv``: each genre's article titles (book and film), adjective, category
  stem, redirect names and typical topic articles;
- ``countries.tsv``: country, demonym, language, how often authors come from it, its
  publishers and film studios;
- ``generic.tsv``: popular pages the entities link to (``Hardcover``, ``ISBN``, ...),
  how often, and their redirect names;
- ``infoboxes.tsv``: the infoboxes of filler articles, their weights and fields;
- ``words.json``: word lists (headings, months, the names of ``Infobox book``, ...).

Cells holding several items separate them with ``"; "``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from wikirec.titles import NAMESPACES, canonical_template_name

DATA = Path(__file__).resolve().parent / "data"
REAL_DATA = Path(__file__).resolve().parents[1] / "data"  # the bundled real files
SAMPLE_DUMP = REAL_DATA / "enwiki-sample-p10p30302.xml.bz2"
BOOK_INFO = REAL_DATA / "koehrsen-book-info.tsv"

SITEINFO = (DATA / "siteinfo.xml").read_text(encoding="utf-8")
FOOTER = "</mediawiki>\n"

# The name of each namespace the dump declares, by its number ("Category" for 14).
NAMESPACE_NAMES = {
    int(key): name
    for key, name in re.findall(r'<namespace key="(-?\d+)"[^>]*>([^<]+)</namespace>', SITEINFO)
}

# Every namespace the dump declares, and MediaWiki's aliases of them: a main-namespace
# title may not start with one of these followed by a colon.
NAMESPACE_PREFIXES = frozenset(
    name.lower() for name in re.findall(r"<namespace [^>]*>([^<]+)</namespace>", SITEINFO)
) | frozenset(NAMESPACES)


def _items(cell: str) -> tuple[str, ...]:
    """A ``;``-separated cell as a tuple (empty cell: empty tuple)."""
    return tuple(x.strip() for x in cell.split(";") if x.strip())


def _tsv(name: str) -> list[dict[str, str]]:
    """Rows of a tab-separated data file, keyed by its header."""
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t")
    return [dict(zip(header, line.split("\t"), strict=True)) for line in lines[1:] if line]


WORDS: dict[str, list[str]] = json.loads((DATA / "words.json").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class GenreSpec:
    book: str  # article title of the genre (book profile)
    film: str  # article title (film profile)
    adjective: str  # a "science fiction" novel
    stem: str  # Category:<stem> novels
    aliases: tuple[str, ...]  # redirect names of the book genre's title
    seeds: tuple[str, ...]  # topic articles typical of the genre


GENRES = tuple(
    GenreSpec(
        row["book_title"],
        row["film_title"],
        row["adjective"],
        row["category_stem"],
        _items(row["redirects"]),
        _items(row["topics"]),
    )
    for row in _tsv("genres.tsv")
)


@dataclass(frozen=True)
class CountrySpec:
    title: str
    demonym: str
    language: str  # article title of the language
    weight: float
    publishers: tuple[str, ...]
    studios: tuple[str, ...]


_COUNTRY_ROWS = _tsv("countries.tsv")
# A country without film studios of its own gets these.
US_STUDIOS = next(_items(r["film_studios"]) for r in _COUNTRY_ROWS if r["title"] == "United States")
COUNTRIES = tuple(
    CountrySpec(
        row["title"],
        row["demonym"],
        row["language"],
        float(row["weight"]),
        _items(row["publishers"]),
        _items(row["film_studios"]) or US_STUDIOS,
    )
    for row in _COUNTRY_ROWS
)

# Popular pages the entities link to: (title, probability per entity, redirect names).
Generic = tuple[tuple[str, float, tuple[str, ...]], ...]


def generic_pages(profile: str) -> Generic:
    """The popular pages of the ``"book"`` or ``"film"`` profile's entities."""
    return tuple(
        (row["title"], float(row["probability"]), _items(row["redirects"]))
        for row in _tsv("generic.tsv")
        if row["profile"] == profile
    )


# Infoboxes of filler articles: (name, weight, fields).
OTHER_INFOBOXES = tuple(
    (row["name"], float(row["weight"]), tuple(row["fields"].split()))
    for row in _tsv("infoboxes.tsv")
)
LINKED_FIELDS = frozenset(WORDS["linked_fields"])
NUMBER_FIELDS = frozenset(WORDS["number_fields"])
NAME_FIELDS = frozenset(WORDS["name_fields"])
IMAGE_FIELDS = frozenset(WORDS["image_fields"])
DATE_FIELDS = frozenset(WORDS["date_fields"])

# Every name of "Infobox book" on English Wikipedia (as wikirec.parse.BOOK_TEMPLATES):
# none of them may appear on a non-entity page when the entities are books.
BOOKISH = frozenset(WORDS["bookish_templates"])
SHARED_TOPICS = tuple(WORDS["shared_topics"])  # topics several genres share
HEADINGS = tuple(WORDS["headings"])
MONTHS = tuple(WORDS["months"])
CAPTIONS = tuple(WORDS["captions"])
TLDS = tuple(WORDS["tlds"])
REDIRECT_CATEGORIES = tuple(WORDS["redirect_categories"])
ORDINALS = tuple(WORDS["ordinals"])
STOPWORDS = frozenset(WORDS["stopwords"])
NAME_PARTICLES = frozenset(WORDS["name_particles"])
MARKUP_WORDS = frozenset(WORDS["markup_words"])  # markup that survives clean-up: never prose


@dataclass(frozen=True)
class Profile:
    """What the entities are: books, films, or works of another infobox."""

    key: str  # "book", "film" or "other"
    noun: str  # "novel"
    creator_field: str  # "author"
    creator_noun: str  # "writer"
    creator_generic: str  # the page the creator's occupation links to
    publisher_field: str  # infobox field of the publisher
    date_field: str
    category_noun: str  # "novels": Category:1999 American novels
    person_infobox: str  # infobox of the creators' pages
    aliases: tuple[str, ...]  # other names of the entity template


def profile_for(template: str, aliases: tuple[str, ...] | None) -> Profile:
    """The profile of entities carrying ``template``; ``aliases`` None: its usual ones."""
    low = canonical_template_name(template).lower()
    if low in BOOKISH or "book" in low or "novel" in low:
        default = ("Infobox novel",) if low == "infobox book" else ()
        fields = ("book", "novel", "author", "writer", "Novelist", "publisher", "release_date")
        rest = ("novels", "Infobox writer")
    elif "film" in low or "movie" in low:
        default = ("Infobox movie",) if low == "infobox film" else ()
        fields = ("film", "film", "director", "film director", "Film director", "studio")
        fields += ("released",)
        rest = ("films", "Infobox person")
    else:
        default = ()
        noun = re.sub(r"^infobox\s+", "", low) or "work"
        fields = ("other", noun, "author", "creator", "Author", "publisher", "released")
        rest = (noun + "s", "Infobox person")
    return Profile(*fields, *rest, aliases if aliases is not None else default)
