"""Synthetic MediaWiki dumps with planted structure: ``wikirec generate``.

Writes a deterministic dump that looks like an English Wikipedia ``pages-articles``
export (MediaWiki export schema 0.10, the ``<siteinfo>`` of the bundled real fragment),
of any size, for benchmarks, scale tests and checks that embeddings learn what was
planted. Same arguments and seed give byte-identical files; nothing depends on the
clock, the host or global random state.

What is in it
-------------
- **Entity pages** (books by default; ``book_page_fraction`` of all pages, or exactly
  ``n_books``): an ``{{Infobox book}}`` (spelled the ways MediaWiki treats as equal:
  ``infobox book``, ``Infobox_book``, `` Infobox book``, and now and then the alias
  ``Infobox novel``) and 5-40 KB of wikitext whose links come from a planted
  structure: each book has an author, a genre, a country (and its language), a
  publisher, maybe a series (``series`` / ``preceded_by`` / ``followed_by``), topic
  links drawn from a per-genre topic distribution (plus a few "pet" topics of its
  author), popular generic links (``Hardcover``, ``Paperback``, ``ISBN``, ``The New
  York Times``, some through redirect names such as ``New York Times``) and
  categories (``[[Category:1999 American novels]]``, ``[[Category:Science fiction
  novels]]``, ...). With ``template="Infobox film"`` the same structure makes films
  (``director`` instead of ``author``, studios instead of publishers).
- The pages that structure points at: authors (``{{Infobox writer}}``, bibliography),
  series, genres, topics, countries (``{{Infobox country}}``), languages,
  publishers and generic pages; a few ``Category:``, ``Template:`` and
  ``Wikipedia:`` pages (ns 14, 10, 4), one of them the infobox template itself with
  a ``<pre>`` usage example (a trap for parsers that ignore ``<ns>``).
- **Redirects** (``redirect_fraction`` of all pages): alternative names of books,
  authors, genres and generic pages ("The X" -> "X", lower-case variants, "X
  (book)", initials: the planted ones, listed in the ground truth) and random-word
  redirects to filler articles.
- **Filler articles**: a few KB each of wikitext made of words drawn with the word
  frequencies of the bundled real fragment, with ``[[links]]``, ``[[link|label]]``,
  ``<ref>{{cite web|...}}</ref>``, ``[http://... external links]``, ``== headings ==``,
  lists, ``[[Category:...]]`` lines, comments and ``<nowiki>``;
  ``other_infobox_fraction`` of them carry another infobox (``{{Infobox person}}``,
  ``{{Infobox settlement}}``, ``{{Infobox film}}``, ...; never one of the entity
  template's names). Their titles are pairs of words ("Harbor lantern"), distinct by
  construction.

Real names come from ``data/koehrsen-book-info.tsv`` (37,020 book titles and their
authors); more are made up from their words when a dump needs more.

Files
-----
``generate_dump(path, ...)``: ``*.xml`` is plain XML, ``*.xml.bz2`` bzip2 (level 9, as
Wikipedia's). Multistream (the default) is Wikipedia's ``pages-articles-multistream``
layout: the header (up to ``</siteinfo>``) as one bz2 stream, every
``pages_per_stream`` pages as one stream, ``</mediawiki>`` as the last, and beside it
``NAME-index.txt.bz2`` (``NAME`` = the file name without ``.xml.bz2``) with one line
``offset:page_id:title`` per page (offset of the page's stream in the compressed
file; the title as a string, not XML-escaped). ``generate_partitions(folder, n, ...)``
writes ``PREFIX-pages-articlesN.xml-pFIRSTpLAST.bz2`` partitions as enwiki does (page
ids continue across them). The files are written by :class:`wikirec.dump.DumpWriter`,
the project's one dump writer, and named by :func:`wikirec.dump.index_name_for`, the
names the parser looks for.

Ground truth
------------
``generate_dump`` writes ``<dump path>.truth.json.gz`` (``generate_partitions``:
``FOLDER/PREFIX-truth.json.gz``): one gzipped JSON object (gzip mtime 0, so it is
byte-identical too)::

    format            "wikirec-synth-truth", version 1
    params            the generator's arguments (no paths)
    template          canonical entity template; aliases: its other names used
    profile           "book", "film" or "other"; creator_field: "author" / "director"
    files             [{name, first_id, last_id, pages}] for every dump file
    counts            pages, articles, redirects, entities, ... (as returned)
    entities          one per entity page, in plan order:
                      title, page_id, template (canonical name as MediaWiki resolves
                      it), template_written (as spelled in the page), author (the
                      creator's page title), genre, country, language, publisher,
                      year, series, series_position, preceded_by, followed_by
                      (titles or null), topics (the planted topic links),
                      aliases (redirect titles to it), wikilinks (every [[link]] of
                      the page outside comments, in page order with repeats,
                      normalised like wikirec.titles.normalize_title, Category: links
                      included), wikilinks_resolved (the same through the planted
                      redirects), categories (without the prefix), text_bytes,
                      timestamp
    authors           title, page_id, genre, country, publisher, topics (pet
                      topics), books, aliases
    series            title, page_id, author, genre, books (in order)
    genres            title, page_id, category, topics, weights (the per-genre topic
                      distribution the entities' topics were drawn from)
    redirects         the planted redirects [{source, target, ns}] (alternative
                      names of entities, authors, genres, generic pages and
                      templates; the random-word filler redirects are not listed)

The size is the decompressed XML (``xml_bytes``), met within a few per cent: the
plan is sized from expected page sizes and topped up with filler pages at the end.
Memory stays bounded: pages are streamed out; the plan keeps one byte per page plus
the (small) planted structure.
"""

from __future__ import annotations

import argparse
import bz2
import collections
import gzip
import hashlib
import html
import json
import math
import os
import re
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

import numpy as np

from wikirec.dump import DumpWriter, index_name_for
from wikirec.progress import progress_bar

DATA = Path(__file__).resolve().parent / "data"
SAMPLE_DUMP = DATA / "enwiki-sample-p10p30302.xml.bz2"
BOOK_INFO = DATA / "koehrsen-book-info.tsv"

TRUTH_FORMAT = "wikirec-synth-truth"
TRUTH_VERSION = 1
FOOTER = "</mediawiki>\n"

# Expected XML bytes of the page kinds, used to size the plan (measured on generated
# dumps; the top-up at the end absorbs the error).
_REDIRECT_XML = 645
_FILLER_XML = 5600
_ENTITY_XML = 10900
_AUTHOR_XML = 3900
_CORE_XML = 3000

# --------------------------------------------------------------------------- header

_NAMESPACES: tuple[tuple[int, str], ...] = (
    (-2, "Media"),
    (-1, "Special"),
    (0, ""),
    (1, "Talk"),
    (2, "User"),
    (3, "User talk"),
    (4, "Wikipedia"),
    (5, "Wikipedia talk"),
    (6, "File"),
    (7, "File talk"),
    (8, "MediaWiki"),
    (9, "MediaWiki talk"),
    (10, "Template"),
    (11, "Template talk"),
    (12, "Help"),
    (13, "Help talk"),
    (14, "Category"),
    (15, "Category talk"),
    (100, "Portal"),
    (101, "Portal talk"),
    (108, "Book"),
    (109, "Book talk"),
    (118, "Draft"),
    (119, "Draft talk"),
    (446, "Education Program"),
    (447, "Education Program talk"),
    (710, "TimedText"),
    (711, "TimedText talk"),
    (828, "Module"),
    (829, "Module talk"),
    (2300, "Gadget"),
    (2301, "Gadget talk"),
    (2302, "Gadget definition"),
    (2303, "Gadget definition talk"),
    (2600, "Topic"),
)
_NS_PREFIXES = {name.lower() for _, name in _NAMESPACES if name} | {
    "wp",
    "wt",
    "project",
    "project talk",
    "image",
    "image talk",
    "t",
}


def dump_header() -> str:
    """The ``<mediawiki>`` opening and ``<siteinfo>`` of every generated dump (copied from
    the bundled real enwiki fragment)."""
    lines = [
        '<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.10/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:schemaLocation="http://www.mediawiki.org/xml/export-0.10/ '
        'http://www.mediawiki.org/xml/export-0.10.xsd" version="0.10" xml:lang="en">',
        "  <siteinfo>",
        "    <sitename>Wikipedia</sitename>",
        "    <dbname>enwiki</dbname>",
        "    <base>https://en.wikipedia.org/wiki/Main_Page</base>",
        "    <generator>MediaWiki 1.32.0-wmf.19</generator>",
        "    <case>first-letter</case>",
        "    <namespaces>",
    ]
    for key, name in _NAMESPACES:
        case = "case-sensitive" if name.startswith("Gadget definition") else "first-letter"
        if name:
            lines.append(f'      <namespace key="{key}" case="{case}">{name}</namespace>')
        else:
            lines.append(f'      <namespace key="{key}" case="{case}" />')
    lines += ["    </namespaces>", "  </siteinfo>", ""]
    return "\n".join(lines)


# --------------------------------------------------------------------------- tables


def _rows(table: str) -> list[list[str]]:
    """Rows of a ``|``-separated text table (blank lines skipped)."""
    return [
        [c.strip() for c in line.split("|")] for line in table.strip().splitlines() if line.strip()
    ]


def _items(cell: str) -> tuple[str, ...]:
    """A ``;``-separated cell as a tuple (empty cell: empty tuple)."""
    return tuple(x.strip() for x in cell.split(";") if x.strip())


# Every name of "Infobox book" on English Wikipedia (as wikirec.parse.BOOK_TEMPLATES):
# none of them may appear on a non-entity page when the entities are books.
_BOOKISH = frozenset(
    _items(
        "infobox book; infobox books; infobox novel; infobox novella; infobox short story; "
        "infobox book series; infobox novel series; book infobox; novel infobox"
    )
)


@dataclass(frozen=True)
class _Profile:
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


def _profile(template: str, aliases: Sequence[str] | None) -> _Profile:
    low = _canonical(template).lower()
    if low in _BOOKISH or "book" in low or "novel" in low:
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
    return _Profile(*fields, *rest, tuple(aliases) if aliases is not None else default)


@dataclass(frozen=True)
class _GenreSpec:
    book: str  # article title of the genre (book profile)
    film: str  # article title (film profile)
    adjective: str  # a "science fiction" novel
    stem: str  # Category:<stem> novels
    aliases: tuple[str, ...]  # redirect names of the book genre's title
    seeds: tuple[str, ...]  # topic articles typical of the genre


# book title | film title | adjective | category stem | redirect names
#     typical topics
_GENRE_TABLE = """
Science fiction | Science fiction film | science fiction | Science fiction | Sci-fi; Science-fiction
    Space exploration; Time travel; Artificial intelligence; Extraterrestrial life; Robot;
    Interstellar travel; Galactic empire; Cyberpunk; Genetic engineering; Mars
Fantasy | Fantasy film | fantasy | Fantasy | Fantasy fiction
    Magic (supernatural); Dragon; Elf; Wizard; Quest; Sword and sorcery; Mythology;
    Fairy tale; Prophecy
Horror fiction | Horror film | horror | Horror | Horror novel
    Ghost; Vampire; Haunted house; Zombie; Demon; Werewolf; Serial killer; Supernatural;
    Cthulhu Mythos
Mystery fiction | Mystery film | mystery | Mystery | Mystery novel
    Detective; Private investigator; Murder; Police procedural; Whodunit; Scotland Yard;
    Red herring; Locked-room mystery
Crime fiction | Crime film | crime | Crime | Crime novel
    Organized crime; Mafia; Heist; Drug cartel; Prison; Police corruption; Money laundering;
    Bank robbery
Thriller (genre) | Thriller film | thriller | Thriller | Thriller novel
    Espionage; Central Intelligence Agency; Terrorism; Conspiracy theory; Assassination;
    Cold War; KGB; Hostage
Historical fiction | Historical film | historical | Historical | Historical novel
    Middle Ages; Roman Empire; Napoleonic Wars; Victorian era; American Civil War;
    Ancient Egypt; Tudor period; French Revolution
Romance novel | Romance film | romance | Romance | Romantic novel
    Love; Marriage; Courtship; Regency era; Love triangle; Wedding; Seduction
Children's literature | Children's film | children's | Children's | Children's book
    Picture book; Talking animal; Fairy; Boarding school; Bedtime story; Toy; Pet
Young adult fiction | Teen film | young adult | Young adult | YA fiction
    Adolescence; High school; Coming of age; Bullying; First love; Peer pressure; Summer camp
War novel | War film | war | War |
    World War II; World War I; Vietnam War; Battle; Soldier; Prisoner of war;
    Resistance movement; Military occupation
Western fiction | Western (genre) | Western | Western | Western novel
    American frontier; Cowboy; Outlaw; Gold rush; Cattle drive;
    Native Americans in the United States; Sheriff; Railroad
Dystopian fiction | Dystopian film | dystopian | Dystopian | Dystopian novel
    Totalitarianism; Mass surveillance; Post-apocalyptic fiction; Rebellion; Propaganda;
    Mind control; Censorship; Social class
Comic novel | Comedy film | comic | Comic |
    Satire; Farce; Parody; Humour; Irony; Absurdism; Slapstick
Literary fiction | Drama (film and television) | literary | Literary |
    Memory; Grief; Identity (social science); Modernism; Stream of consciousness;
    Social realism; Alienation
Adventure novel | Adventure film | adventure | Adventure | Adventure fiction
    Exploration; Treasure; Pirate; Jungle; Shipwreck; Desert island; Expedition; Lost world
Gothic fiction | Gothic film | Gothic | Gothic | Gothic novel
    Castle; Curse; Madness; Gothic architecture; Secret passage; Romanticism; Ruins
Biographical novel | Biographical film | biographical | Biographical |
    Autobiography; Memoir; Politician; Celebrity; Childhood; Career; Journalism
"""


def _genre_specs(table: str) -> tuple[_GenreSpec, ...]:
    specs: list[_GenreSpec] = []
    head: list[str] = []
    seeds = ""
    for line in table.strip().splitlines() + ["end | | | |"]:
        if line.startswith(" "):
            seeds += line
            continue
        if head:
            specs.append(_GenreSpec(*head[:4], _items(head[4]), _items(seeds)))
        head, seeds = [c.strip() for c in line.split("|")], ""
    return tuple(specs)


_GENRES = _genre_specs(_GENRE_TABLE)

# Topics several genres share.
_SHARED_TOPICS = _items(
    "New York City; London; Paris; Los Angeles; Death; Family; Friendship; Revenge; Betrayal; "
    "Small town; Religion; Politics; Loneliness; Money; Journey; Secrecy; Island; Village; "
    "Night; Ocean"
)


@dataclass(frozen=True)
class _CountrySpec:
    title: str
    demonym: str
    language: str  # article title of the language
    weight: float
    publishers: tuple[str, ...]
    studios: tuple[str, ...]


_US_PUBLISHERS = (
    "Random House; Doubleday (publisher); Simon & Schuster; Tor Books; Ace Books; Viking Press; "
    "Alfred A. Knopf; DAW Books; Del Rey Books; Ballantine Books; Bantam Books; "
    "St. Martin's Press; Houghton Mifflin; Little, Brown and Company; Farrar, Straus and Giroux; "
    "Scribner; G. P. Putnam's Sons; Scholastic Corporation; Arkham House; Baen Books; "
    "Pocket Books; Delacorte Press; William Morrow and Company"
)
_UK_PUBLISHERS = (
    "HarperCollins; Jonathan Cape; Faber and Faber; Gollancz; Hodder & Stoughton; Penguin Books; "
    "Bloomsbury Publishing; Macmillan Publishers; Chatto & Windus; Secker & Warburg; "
    "Heinemann (publisher); Orbit Books; Allen & Unwin"
)
_US_STUDIOS = (
    "Warner Bros.; Paramount Pictures; Universal Pictures; 20th Century Fox; Columbia Pictures; "
    "Metro-Goldwyn-Mayer; Walt Disney Pictures; Lionsgate Films; New Line Cinema; Miramax; "
    "DreamWorks Pictures; Focus Features"
)
_UK_STUDIOS = "Working Title Films; Ealing Studios; Hammer Film Productions; Film4 Productions"

# title | demonym | language | weight | publishers | film studios
_COUNTRY_TABLE = f"""
United States | American | English language | 0.44 | {_US_PUBLISHERS} | {_US_STUDIOS}
United Kingdom | British | English language | 0.22 | {_UK_PUBLISHERS} | {_UK_STUDIOS}
Canada | Canadian | English language | 0.05 | McClelland & Stewart; House of Anansi Press |
Australia | Australian | English language | 0.05 | Angus & Robertson; Text Publishing |
Ireland | Irish | English language | 0.02 | Poolbeg Press |
France | French | French language | 0.04 | Éditions Gallimard; Éditions Grasset; Flammarion |
    Gaumont Film Company; Pathé; StudioCanal
Germany | German | German language | 0.03 | Suhrkamp Verlag; S. Fischer Verlag; Rowohlt Verlag |
    Constantin Film; UFA GmbH
Japan | Japanese | Japanese language | 0.03 | Kodansha; Shinchosha; Hayakawa Publishing |
    Toho; Shochiku; Toei Company
Russia | Russian | Russian language | 0.02 | Eksmo; AST (publisher) | Mosfilm
Italy | Italian | Italian language | 0.02 | Giulio Einaudi Editore; Arnoldo Mondadori Editore |
    Titanus
Spain | Spanish | Spanish language | 0.02 | Editorial Planeta; Editorial Anagrama | El Deseo
India | Indian | English language | 0.02 | Rupa Publications | Yash Raj Films
Sweden | Swedish | Swedish language | 0.015 | Albert Bonniers Förlag; Norstedts förlag |
    Svensk Filmindustri
Brazil | Brazilian | Portuguese language | 0.01 | Companhia das Letras | Globo Filmes
Argentina | Argentine | Spanish language | 0.01 | Editorial Sudamericana |
Nigeria | Nigerian | English language | 0.01 | Cassava Republic Press |
Poland | Polish | Polish language | 0.01 | Wydawnictwo Literackie |
Netherlands | Dutch | Dutch language | 0.01 | De Bezige Bij |
Mexico | Mexican | Spanish language | 0.01 | Editorial Joaquín Mortiz |
South Africa | South African | English language | 0.01 | Jacana Media |
"""


def _country_specs(table: str) -> tuple[_CountrySpec, ...]:
    joined = re.sub(r"\|\n\s+", "| ", table.strip())  # continuation lines: the studios
    return tuple(
        _CountrySpec(t, d, lang, float(w), _items(pubs), _items(studios) or _items(_US_STUDIOS))
        for t, d, lang, w, pubs, studios in _rows(joined)
    )


_COUNTRIES = _country_specs(_COUNTRY_TABLE)

# Popular pages the entities link to: title | probability per entity | redirect names.
_GENERIC_BOOK = _rows("""
Hardcover | 0 | Hardback; Hard cover
Paperback | 0 | Softcover; Paperback book
ISBN | 0.55 | International Standard Book Number
The New York Times | 0.35 | New York Times; NYT
Publishers Weekly | 0.3 |
Kirkus Reviews | 0.25 | Kirkus
The Guardian | 0.2 | Guardian (newspaper)
E-book | 0.2 | Ebook; E-Book
Audiobook | 0.15 | Audio book
Bestseller | 0.12 | Best seller; Best-seller
Novel | 0.2 | Novels
""")
_GENERIC_FILM = _rows("""
Box office | 0.5 | Box-office
Rotten Tomatoes | 0.45 | Rotten tomatoes
Metacritic | 0.35 |
Variety (magazine) | 0.3 | Variety magazine
The New York Times | 0.3 | New York Times; NYT
DVD | 0.3 |
Blu-ray | 0.25 | Blu-ray Disc
Screenplay | 0.2 | Screenplays
Film score | 0.2 |
""")


def _generic(rows: list[list[str]]) -> tuple[tuple[str, float, tuple[str, ...]], ...]:
    return tuple((title, float(p), _items(aliases)) for title, p, aliases in rows)


# Infoboxes of filler articles: name | weight | fields.
_OTHER_INFOBOXES = tuple(
    (name, float(weight), tuple(fields.split()))
    for name, weight, fields in _rows(
        """
Infobox person | 0.22 | name image caption birth_date birth_place death_date nationality
    occupation known_for
Infobox settlement | 0.2 | name settlement_type image_skyline subdivision_type subdivision_name
    established_date population_total area_total_km2 elevation_m timezone website
Infobox film | 0.07 | name image caption director producer starring music studio released
    runtime country language budget gross
Infobox company | 0.07 | name logo type industry founded founder hq_location key_people
    products revenue num_employees website
Infobox album | 0.07 | name type artist cover released recorded genre length label producer
Infobox football biography | 0.08 | name image fullname birth_date birth_place height position
    currentclub years1 clubs1 caps1 goals1
Infobox officeholder | 0.05 | name image office term_start term_end predecessor successor
    birth_date birth_place party spouse alma_mater
Infobox military conflict | 0.03 | conflict partof image caption date place result combatant1
    combatant2 commander1 commander2 casualties1
Infobox river | 0.02 | name image source1_location mouth_location length discharge1_avg
    basin_size country
Infobox university | 0.03 | name image motto established type endowment president students
    city country website
Infobox television | 0.04 | show_name image genre creator starring country language
    num_seasons num_episodes network first_aired last_aired
Infobox video game | 0.03 | title image developer publisher designer engine platforms released
    genre modes
Infobox musical artist | 0.04 | name image background birth_name origin genre occupation
    instrument years_active label associated_acts
Infobox scientist | 0.02 | name image birth_date birth_place fields workplaces alma_mater
    doctoral_advisor known_for awards
Infobox country | 0.01 | conventional_long_name common_name capital official_languages demonym
    government_type area_km2 population_estimate currency
Infobox book | 0.02 | name image author country language genre publisher release_date pages isbn
""".replace("\n    ", " ")
    )
)
_LINKED_FIELDS = frozenset(
    "birth_place nationality subdivision_name director producer starring studio country "
    "language founder hq_location artist label genre currentclub clubs1 predecessor "
    "successor party spouse alma_mater partof place combatant1 combatant2 commander1 "
    "commander2 mouth_location city creator network developer publisher platforms origin "
    "associated_acts fields workplaces doctoral_advisor capital official_languages author "
    "known_for".split()
)
_NUMBER_FIELDS = frozenset(
    "population_total area_total_km2 elevation_m runtime budget gross revenue num_employees "
    "length height caps1 goals1 discharge1_avg basin_size endowment students num_seasons "
    "num_episodes area_km2 population_estimate pages".split()
)
_NAME_FIELDS = frozenset("name show_name title conflict conventional_long_name common_name".split())
_IMAGE_FIELDS = frozenset("image cover logo image_skyline".split())
_DATE_FIELDS = frozenset(
    "released founded established first_aired last_aired term_start term_end date".split()
)

_HEADINGS = _items(
    "History; Background; Early life; Career; Description; Overview; Etymology; Geography; "
    "Development; Reception; Legacy; Design; Structure; Personal life; Later years; "
    "Composition; Demographics; Economy; Culture; Education; Transport; Politics; Discography; "
    "Filmography; Works; Biology; Distribution; Production; Release; Critical response; "
    "Publication; Origins; Influence"
)
_MONTHS = tuple(
    "January February March April May June July August September October November December".split()
)
_CAPTIONS = (
    "First edition cover",
    "First edition",
    "Cover of the first edition",
    "First US edition",
)
_TLDS = ("com", "org", "net", "co.uk", "de", "edu", "gov", "info")
_RCATS = _items(
    "R from alternative name; R from other capitalisation; R from move; "
    "Redr|move|from CamelCase|up; R from modification; R from related word; R to section; "
    "R from short name; R from plural"
)
_ORDINALS = tuple("first second third fourth fifth sixth seventh eighth ninth tenth".split())
_STOPWORDS = frozenset(
    "the of and in to a is as for by that with was on are from or an be at which his it "
    "have not were has also their he but this its they had been other can one all more "
    "than who some into such most only after many two these first may when there she her "
    "would used where between during both while them being over under about through "
    "those known very what each then were could should will".split()
)
_PARTICLES = frozenset("de van von der den la le du da di del ten ter dos das y".split())

# --------------------------------------------------------------------------- names


def _canonical(name: str) -> str:
    name = " ".join(name.replace("_", " ").split())
    return name[:1].upper() + name[1:]


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


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
    if ":" in title and title.split(":", 1)[0].strip().lower() in _NS_PREFIXES:
        return False
    return True


def _strip_disambiguation(title: str) -> str:
    return re.sub(r" \([^()]*\)$", "", title)


def _author_name(raw: str) -> str | None:
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
        if i and token in _PARTICLES and i < len(tokens) - 1:
            out.append(token)
            continue
        word = "-".join(p[:1].upper() + p[1:] for p in token.split("-"))
        if re.match(r"^[A-Za-z]'[a-z]", word):
            word = word[:2] + word[2].upper() + word[3:]
        out.append(word)
    name = " ".join(out)
    return name if valid_title(name) else None


@lru_cache(maxsize=1)
def _book_info() -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """Real book titles, real author names and capitalised title words from the TSV."""
    titles: list[str] = []
    authors: dict[str, None] = {}
    words: collections.Counter[str] = collections.Counter()
    with open(BOOK_INFO, encoding="utf-8") as f:
        next(f)
        for line in f:
            cells = line.rstrip("\n").split("\t")
            title = _upper_first(" ".join(cells[0].split()))
            if valid_title(title):
                titles.append(title)
                for w in re.findall(r"\b[A-Z][a-z]{3,11}\b", title):
                    words[w] += 1
            if len(cells) > 1:
                author = _author_name(cells[1])
                if author is not None:
                    authors[author] = None
    caps = sorted(w for w, c in words.items() if c >= 2 and w.lower() not in _STOPWORDS)
    return tuple(titles), tuple(authors), tuple(caps)


# Markup that survives the crude clean-up below: never prose.
_MARKUP_WORDS = frozenset(
    "align style px thumb bgcolor colspan rowspan nbsp ndash mdash accessdate jpg png svg "
    "upright wikitable sortable cellpadding cellspacing cff http https www html url isbn "
    "doi pdf ref reflist".split()
)
_MARKUP = re.compile(
    r"<ref[^>]*/>|<ref[^>]*>.*?</ref>|<!--.*?-->|\{\{[^{}]*\}\}|\[\[[^\[\]|]*\||https?://\S+"
    r"|<[^>]*>|^[ \t]*[|!{][^\n]*",  # the last: table rows
    re.S | re.M,
)


@lru_cache(maxsize=1)
def _vocabulary() -> tuple[tuple[str, ...], tuple[int, ...], tuple[str, ...]]:
    """Words of the bundled real dump fragment's prose with their counts, and the words
    filler titles are made of (lower case, 4-12 letters, no stop word)."""
    raw = bz2.decompress(SAMPLE_DUMP.read_bytes()).decode("utf-8")
    text = "\n".join(re.findall(r"<text[^>]*>(.*?)</text>", raw, re.S))
    text = html.unescape(html.unescape(text))  # XML escaping, then wikitext entities
    for _ in range(3):
        text = _MARKUP.sub(" ", text)
    counts = collections.Counter(re.findall(r"\b[a-z]+(?:'[a-z]+)?\b", text))
    for word in _MARKUP_WORDS:
        counts.pop(word, None)
    prose = sorted(
        ((w, c) for w, c in counts.items() if c >= 2 and (len(w) > 1 or w == "a")),
        key=lambda wc: (-wc[1], wc[0]),
    )
    title_words = sorted(
        w
        for w, c in counts.items()
        if c >= 3 and re.fullmatch(r"[a-z]{4,12}", w) and w not in _STOPWORDS
    )
    return tuple(w for w, _ in prose), tuple(c for _, c in prose), tuple(title_words)


# --------------------------------------------------------------------------- randomness


class _Uniform:
    """Uniform draws in [0, 1) from a numpy Generator, buffered (a scalar draw from numpy
    costs as much as a thousand buffered ones)."""

    __slots__ = ("rng", "buf", "i")

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.buf: list[float] = []
        self.i = 0

    def random(self) -> float:
        i = self.i
        if i >= len(self.buf):
            self.buf = self.rng.random(1 << 15).tolist()
            i = 0
        self.i = i + 1
        return self.buf[i]

    def below(self, n: int) -> int:
        return int(self.random() * n)

    def pick(self, seq: Sequence):
        return seq[int(self.random() * len(seq))]


def _mix(x: int) -> int:
    """splitmix64: a fixed, well-spread hash of an integer."""
    x = (x + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return x ^ (x >> 31)


class _TitleSpace:
    """A bijection from integers to distinct two-word titles ("Harbor lantern")."""

    def __init__(self, words: Sequence[str], rng: np.random.Generator) -> None:
        self.words = list(words)
        self.caps = [w[:1].upper() + w[1:] for w in self.words]
        self.size = len(self.words)
        self.m = self.size * self.size
        a = int(rng.integers(self.m // 3, self.m)) | 1
        while math.gcd(a, self.m) != 1:
            a += 2
        self.a = a
        self.b = int(rng.integers(0, self.m))

    def title(self, j: int) -> str:
        hi, lo = divmod((self.a * j + self.b) % self.m, self.size)
        return self.caps[hi] + " " + self.words[lo]


class _Prose:
    """Sentences of words drawn with the real fragment's word frequencies.

    Sentence structure (capitals, full stops, commas, the odd year) is drawn with numpy
    for a whole buffer of tokens at once; a paragraph is a slice of that buffer."""

    BUFFER = 1 << 16

    def __init__(self, rng: np.random.Generator, rand: _Uniform) -> None:
        words, counts, _ = _vocabulary()
        p = np.asarray(counts, dtype=float)
        p /= p.sum()
        self.rng = rng
        self.rand = rand
        self.n_words = len(words)
        caps = [w[:1].upper() + w[1:] for w in words]
        years = [str(y) for y in range(1700, 2018)]
        self.n_years = len(years)
        # Token ids: word, Word, word., word, (each n_words long), then years.
        self.tokens = np.array(
            [*words, *caps, *(w + "." for w in words), *(w + "," for w in words), *years],
            dtype=object,
        )
        self.cdf = np.cumsum(p)
        self.cdf[-1] = 1.0
        self.buf: list[str] = []
        self.pos = 0
        self._refill()
        self.chars_per_word = sum(len(t) + 1 for t in self.buf) / len(self.buf)

    def _refill(self) -> None:
        rng, k, v = self.rng, self.BUFFER, self.n_words
        ids = np.searchsorted(self.cdf, rng.random(k), side="right")
        plain = ids.copy()
        variant = np.zeros(k, dtype=ids.dtype)
        variant[rng.integers(0, k, size=k // 30)] = 3  # commas
        variant[rng.integers(0, k, size=k // 60)] = 1  # proper nouns
        ids += v * variant
        years = rng.integers(0, k, size=k // 200)
        ids[years] = 4 * v + rng.integers(0, self.n_years, size=len(years))
        ends = np.cumsum(rng.integers(5, 25, size=k // 5 + 2)) - 1
        ends = ends[ends < k - 1]
        ids[ends] = plain[ends] + 2 * v  # full stops
        ids[ends + 1] = plain[ends + 1] + v  # capitals
        self.buf = self.tokens[ids].tolist()
        self.pos = 0

    def take(self, n: int) -> list[str]:
        out: list[str] = []
        while len(out) < n:
            if self.pos >= len(self.buf):
                self._refill()
            want = n - len(out)
            out += self.buf[self.pos : self.pos + want]
            self.pos += want
        return out

    def paragraph(self, n_chars: float, links: Sequence[str] = (), refs: Sequence[str] = ()) -> str:
        """About ``n_chars`` of sentences; ``links`` replace words, in their order (one in
        each equal share of the words), and ``refs`` follow random words."""
        n = max(int(n_chars / self.chars_per_word), 2 * (len(links) + len(refs)) + 4)
        toks = self.take(n)
        first, last = toks[0], toks[-1]
        toks[0] = first[:1].upper() + first[1:]
        if last[-1] != ".":
            toks[-1] = (last[:-1] if last[-1] == "," else last) + "."
        r = self.rand.random
        m = len(links)
        for i, link in enumerate(links):
            low = i * n // m  # disjoint bins of at least two words each
            p = low + int(r() * ((i + 1) * n // m - low))
            end = toks[p][-1]
            toks[p] = link + end if end in ".," else link
        for ref in refs:
            toks[int(r() * n)] += ref
        return " ".join(toks)

    def phrase(self, n_words: int, capital: bool = True) -> str:
        """A few words without punctuation (titles, names)."""
        words = [w.rstrip(".,") for w in self.take(n_words)]
        if capital:
            words = [w[:1].upper() + w[1:] for w in words]
        return " ".join(words)


# --------------------------------------------------------------------------- plan


@dataclass
class _Entity:
    title: str
    author: int
    genre: int
    country: int
    publisher: str
    year: int
    topics: list[str]
    size: int
    series: int | None = None
    position: int = 0
    prev: str | None = None
    next: str | None = None
    aliases: list[str] = field(default_factory=list)
    extra: int = 0  # links to filler articles beyond the topics
    truth: dict | None = None


@dataclass
class _Author:
    title: str
    genre: int
    country: int
    publisher: str
    born: int
    topics: list[str]
    books: list[int] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)


@dataclass
class _Series:
    title: str
    author: int
    genre: int
    books: list[int]


@dataclass
class _Genre:
    title: str
    spec: _GenreSpec
    category: str
    topics: list[str]
    weights: np.ndarray
    aliases: list[str] = field(default_factory=list)


@dataclass
class _Options:
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

    def check(self) -> None:
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
        if not valid_title(_canonical(self.template)):
            raise ValueError(f"not a template name: {self.template!r}")


class _Generator:
    """Plans a dump (the planted structure and one byte per page slot) and renders it page
    by page."""

    def __init__(self, opts: _Options) -> None:
        opts.check()
        self.o = opts
        plan_seq, text_seq, word_seq, meta_seq = np.random.SeedSequence(opts.seed).spawn(4)
        rng = np.random.default_rng(plan_seq)
        self.rand = _Uniform(np.random.default_rng(text_seq))
        self.meta = _Uniform(np.random.default_rng(meta_seq))
        self.prose = _Prose(np.random.default_rng(word_seq), self.rand)
        self.space = _TitleSpace(_vocabulary()[2], rng)
        self.profile = _profile(opts.template, opts.template_aliases)
        self.generic = _generic(_GENERIC_FILM if self.profile.key == "film" else _GENERIC_BOOK)
        self.template = _canonical(opts.template)
        self.titles: set[str] = set()  # every planned title, with its namespace prefix
        self.alias_of: dict[str, str] = {}  # planted redirect -> target
        self.redirects: list[tuple[str, str, int]] = []
        self.core: list[tuple] = []  # (kind, payload) of every planned non-filler page
        self.page_ids: dict[str, int] = {}
        self.stats = collections.Counter()
        self._plan(rng)

    # ------------------------------------------------------------------ planning

    def _claim(self, title: str) -> bool:
        if title in self.titles:
            return False
        self.titles.add(title)
        return True

    def _plan(self, rng: np.random.Generator) -> None:
        o = self.o
        rf = o.redirect_fraction
        mean_page = rf * _REDIRECT_XML + (1 - rf) * _FILLER_XML
        if o.n_books is not None:
            n_books = o.n_books
        else:
            n_books = round(o.book_page_fraction * o.xml_bytes / mean_page)
            if o.book_page_fraction > 0:
                n_books = max(n_books, 1)
        self._plan_names(rng, n_books)
        self._plan_pages(rng)

    def _reserve_fixed(self) -> dict[str, str]:
        """Claim every fixed name (generic pages, genres, countries, languages, publishers,
        topics) before any book or author name, so that none of them is lost."""
        kinds: dict[str, str] = {}
        names: list[tuple[str, str]] = [(t, "generic") for t, _, _ in self.generic]
        names.append((self.profile.creator_generic, "generic"))
        names += [(g.film if self.profile.key == "film" else g.book, "genre") for g in _GENRES]
        names += [(c.title, "country") for c in _COUNTRIES]
        names += [(c.language, "language") for c in _COUNTRIES]
        for c in _COUNTRIES:
            names += [
                (h, "publisher")
                for h in (c.studios if self.profile.key == "film" else c.publishers)
            ]
        names += [(h, "publisher") for h in (_US_STUDIOS if self.profile.key == "film" else ())]
        names += [(t, "topic") for t in _SHARED_TOPICS]
        names += [(t, "topic") for g in _GENRES for t in g.seeds]
        for title, kind in names:
            if title not in kinds:
                kinds[title] = kind
                self._claim(title)
        return kinds

    def _plan_names(self, rng: np.random.Generator, n_books: int) -> None:
        p = self.profile
        real_titles, real_authors, title_caps = _book_info()
        self.title_caps = title_caps
        fixed = self._reserve_fixed()
        self.creator_page = p.creator_generic

        # Authors and their books.
        sizes: list[int] = []
        total = 0
        while total < n_books:
            sizes.append(min(1 + int(rng.pareto(1.5) * 0.5), 40, n_books - total))
            total += sizes[-1]
        author_names = self._names(rng, real_authors, len(sizes), self._made_up_author)
        book_titles = self._names(rng, real_titles, n_books, self._made_up_title)
        if p.key == "film":
            book_titles = [self._film_title(t) for t in book_titles]

        genre_weights = 1.0 / np.arange(1, len(_GENRES) + 1) ** 0.8
        genre_weights = genre_weights[rng.permutation(len(_GENRES))]
        genre_weights /= genre_weights.sum()
        country_weights = np.array([c.weight for c in _COUNTRIES])
        country_weights /= country_weights.sum()

        mean_born, oldest = (1950, 1880) if p.key == "film" else (1940, 1800)
        born_years = np.clip(rng.normal(mean_born, 25, size=len(sizes)), oldest, 1993).astype(int)
        born_years = born_years.tolist()
        self.authors: list[_Author] = []
        self.entities: list[_Entity] = []
        used_genres: dict[int, None] = {}
        next_book = 0
        for name, size in zip(author_names, sizes, strict=True):
            genre = int(rng.choice(len(_GENRES), p=genre_weights))
            country = int(rng.choice(len(_COUNTRIES), p=country_weights))
            houses = self._houses(country)
            author = _Author(
                title=name,
                genre=genre,
                country=country,
                publisher=houses[int(rng.integers(len(houses)))],
                born=born_years[len(self.authors)],
                topics=[],
            )
            self.authors.append(author)
            used_genres[genre] = None
            year = min(author.born + int(rng.integers(22, 45)), 2017)
            if p.key == "film":
                year = max(year, 1915)
            for _ in range(size):
                book_genre = genre
                if rng.random() >= 0.85:
                    book_genre = int(rng.choice(len(_GENRES), p=genre_weights))
                used_genres[book_genre] = None
                publisher = author.publisher
                if rng.random() >= 0.75:
                    publisher = houses[int(rng.integers(len(houses)))]
                size_bytes = int(np.clip(np.exp(rng.normal(math.log(9000), 0.5)), 5000, 40000))
                self.entities.append(
                    _Entity(
                        book_titles[next_book],
                        len(self.authors) - 1,
                        book_genre,
                        country,
                        publisher,
                        min(year, 2018),
                        [],
                        size_bytes,
                    )
                )
                author.books.append(next_book)
                next_book += 1
                year += 1 + int(rng.integers(0, 4))

        # Genres and their topic distributions.
        n_genre_books = collections.Counter(e.genre for e in self.entities)
        self.genres: list[_Genre | None] = [None] * len(_GENRES)
        next_topic = 0
        self.topic_genres: dict[str, list[int]] = {t: [] for t in _SHARED_TOPICS}
        shared = list(_SHARED_TOPICS)
        for g in sorted(used_genres):
            spec = _GENRES[g]
            title = spec.film if p.key == "film" else spec.book
            k = int(np.clip(round(8 + 4 * math.sqrt(n_genre_books[g])), 10, 60))
            pool: list[str] = []
            for i in rng.permutation(len(spec.seeds)).tolist():
                if fixed.get(spec.seeds[i]) == "topic" and spec.seeds[i] not in pool:
                    pool.append(spec.seeds[i])
            while len(pool) < k:
                t = self.space.title(next_topic)
                next_topic += 1
                if self._claim(t):
                    pool.append(t)
            pool = pool[:k]
            for i in rng.choice(len(shared), size=4, replace=False).tolist():
                if shared[i] not in pool:
                    pool.append(shared[i])
            for t in pool:
                self.topic_genres.setdefault(t, []).append(g)
            weights = 1.0 / np.arange(1, len(pool) + 1) ** 0.9
            weights /= weights.sum()
            category = f"Category:{spec.stem} {p.category_noun}"
            self.genres[g] = _Genre(title, spec, category, pool, weights)
        self.topics_reserved = next_topic
        self.topic_titles = list(self.topic_genres)

        # Authors' pet topics and every entity's planted topics.
        for author in self.authors:
            genre = self.genres[author.genre]
            if genre is not None:
                n = min(3, len(genre.topics))
                idx = rng.choice(len(genre.topics), size=n, replace=False, p=genre.weights)
                author.topics = [genre.topics[i] for i in idx.tolist()]
        for e in self.entities:
            genre = self.genres[e.genre]
            assert genre is not None
            # A heavy-tailed link budget: topics of the genre, the excess (beyond the
            # genre's pool) as links to filler articles.
            k = int(np.clip(round(math.exp(rng.normal(math.log(4.5), 1.2))), 1, 300))
            e.extra = max(0, k - len(genre.topics))
            chosen: dict[str, None] = {}
            for t in self.authors[e.author].topics:
                if rng.random() < 0.6:
                    chosen[t] = None
            k = min(k, len(genre.topics))
            for i in rng.choice(len(genre.topics), size=k, replace=False, p=genre.weights).tolist():
                chosen[genre.topics[i]] = None
            if rng.random() < 0.25 and self.topic_titles:
                chosen[self.topic_titles[int(rng.integers(len(self.topic_titles)))]] = None
            e.topics = list(chosen)

        # Series: runs of consecutive books by one author.
        self.series: list[_Series] = []
        for a, author in enumerate(self.authors):
            n = len(author.books)
            if n < 2 or rng.random() > (0.5 if n >= 3 else 0.25):
                continue
            length = int(rng.integers(2, min(n, 7) + 1))
            start = int(rng.integers(0, n - length + 1))
            books = author.books[start : start + length]
            base = _strip_disambiguation(self.entities[books[0]].title)
            base = base[4:] if base.startswith("The ") and len(base) > 6 else base
            word = "trilogy" if length == 3 and rng.random() < 0.5 else "series"
            title = None
            for candidate in (
                f"{base} {word}",
                f"{base} ({word})",
                f"{base} {word} ({author.title})",
            ):
                if valid_title(candidate) and self._claim(candidate):
                    title = candidate
                    break
            if title is None:
                continue
            s = len(self.series)
            self.series.append(_Series(title, a, self.entities[books[0]].genre, books))
            for i, b in enumerate(books):
                e = self.entities[b]
                e.series, e.position = s, i
                e.prev = self.entities[books[i - 1]].title if i else None
                e.next = self.entities[books[i + 1]].title if i + 1 < length else None

        # Countries, languages, publishers: only those used.
        self.country_pages = sorted({a.country for a in self.authors})
        self.language_pages = sorted({_COUNTRIES[c].language for c in self.country_pages})
        publishers: dict[str, None] = {}
        for author in self.authors:
            publishers[author.publisher] = None
        for e in self.entities:
            publishers[e.publisher] = None
        self.publisher_pages = list(publishers)

        # Planted redirects: alternative names.
        af = self.o.alias_fraction
        for e in self.entities:
            for alias in self._title_aliases(rng, e.title, 0.4 + af, 0.1):
                e.aliases.append(alias)
                self._plan_redirect(alias, e.title)
        for author in self.authors:
            for alias in self._person_aliases(rng, author.title, 0.35 + af):
                author.aliases.append(alias)
                self._plan_redirect(alias, author.title)
        for genre in self.genres:
            if genre is None:
                continue
            aliases = genre.spec.aliases if self.profile.key == "book" else ()
            for alias in aliases:
                if valid_title(alias) and self._claim(alias):
                    genre.aliases.append(alias)
                    self._plan_redirect(alias, genre.title)
        self.generic_aliases: dict[str, list[str]] = {}
        for title, _, aliases in self.generic:
            self.generic_aliases[title] = []
            for alias in aliases:
                if self._claim(alias):
                    self.generic_aliases[title].append(alias)
                    self._plan_redirect(alias, title)

    def _houses(self, country: int) -> tuple[str, ...]:
        spec = _COUNTRIES[country]
        if self.profile.key == "film":
            return spec.studios or _US_STUDIOS
        return spec.publishers

    def _names(self, rng, real: Sequence[str], n: int, made_up) -> list[str]:
        """``n`` distinct unclaimed names: real ones in random order, then made-up ones."""
        out: list[str] = []
        if n == 0:
            return out
        order = rng.permutation(len(real)).tolist()
        for i in order:
            if len(out) == n:
                return out
            if self._claim(real[i]):
                out.append(real[i])
        while len(out) < n:
            name = made_up(rng)
            if valid_title(name) and self._claim(name):
                out.append(name)
        return out

    def _made_up_title(self, rng) -> str:
        caps = self.title_caps
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

    def _made_up_author(self, rng) -> str:
        names = _book_info()[1]
        first = names[int(rng.integers(len(names)))].split()[0]
        last = names[int(rng.integers(len(names)))].split()[-1]
        if rng.random() < 0.3:
            middle = names[int(rng.integers(len(names)))].split()[0][:1]
            return f"{first} {middle}. {last}"
        return f"{first} {last}"

    def _film_title(self, title: str) -> str:
        base = _strip_disambiguation(title)
        if base != title:
            candidate = f"{base} (film)"
            if valid_title(candidate) and self._claim(candidate):
                self.titles.discard(title)
                return candidate
        return title

    def _title_aliases(self, rng, title: str, p_one: float, p_two: float) -> list[str]:
        x = rng.random()
        n = 2 if x < p_two else 1 if x < p_one else 0
        if n == 0:
            return []
        base = _strip_disambiguation(title)
        candidates = [base[:1] + base[1:].lower(), base + " (book)"]
        if base.startswith("The ") and len(base) > 6:
            candidates.append(_upper_first(base[4:]))
        elif not base.startswith(("A ", "An ")):
            candidates.append("The " + base)
        if base != title:
            candidates.append(base)
        if self.profile.key == "film":
            candidates[1] = base + " (movie)"
        out = []
        for i in rng.permutation(len(candidates)).tolist():
            alias = candidates[i]
            if alias != title and valid_title(alias) and self._claim(alias):
                out.append(alias)
                if len(out) == n:
                    break
        return out

    def _person_aliases(self, rng, name: str, p_one: float) -> list[str]:
        if rng.random() >= p_one:
            return []
        parts = name.split()
        candidates = [parts[0] + " " + " ".join(p.lower() for p in parts[1:])]
        if len(parts) >= 3:
            candidates.append(" ".join([*(p[0] + "." for p in parts[:-1]), parts[-1]]))
            candidates.append(parts[0] + " " + parts[-1])
        if any(p.endswith(".") for p in parts[:-1]):
            candidates.append(" ".join(parts).replace(". ", "."))
        for i in rng.permutation(len(candidates)).tolist():
            alias = candidates[i]
            if alias != name and valid_title(alias) and self._claim(alias):
                return [alias]
        return []

    def _plan_redirect(self, source: str, target: str, ns: int = 0) -> None:
        """A planted redirect (its title already claimed)."""
        self.alias_of[source] = target
        self.redirects.append((source, target, ns))
        self.core.append(("redirect", (source, target, ns)))

    def _plan_pages(self, rng: np.random.Generator) -> None:
        p = self.profile
        core = self.core
        core += [("entity", i) for i in range(len(self.entities))]
        core += [("author", i) for i in range(len(self.authors))]
        core += [("series", i) for i in range(len(self.series))]
        core += [("genre", i) for i, g in enumerate(self.genres) if g is not None]
        core += [("topic", t) for t in self.topic_titles]
        core += [("country", c) for c in self.country_pages]
        core += [("language", t) for t in self.language_pages]
        core += [("publisher", t) for t in self.publisher_pages]
        core += [("generic", t) for t, _, _ in self.generic]
        if self.creator_page not in {t for t, _, _ in self.generic}:
            core.append(("generic", self.creator_page))
        # Namespace pages.
        categories = [g.category for g in self.genres if g is not None]
        categories.append(f"Category:{p.noun.capitalize()}s by genre")
        for c in categories:
            if self._claim(c):
                core.append(("category", c))
        template_page = "Template:" + self.template
        self._claim(template_page)
        core.append(("template", template_page))
        for alias in self.profile.aliases:
            page = "Template:" + _canonical(alias)
            if self._claim(page):
                self._plan_redirect(page, template_page, ns=10)
        for name in ("Template:Reflist", "Template:Cite web", "Template:" + p.person_infobox[0:]):
            if self._claim(name):
                core.append(("template", name))
        for name in (
            "Wikipedia:WikiProject Books",
            "Wikipedia:WikiProject Novels",
            "Wikipedia:WikiProject Film",
            "Wikipedia:Manual of Style",
        ):
            if self._claim(name):
                core.append(("project", name))

        self.core_plain = (
            self.topic_titles
            + [_COUNTRIES[c].title for c in self.country_pages]
            + self.language_pages
            + self.publisher_pages
            + [a.title for a in self.authors]
            + [g.title for g in self.genres if g is not None]
        )
        if not self.core_plain:
            self.core_plain = [t for t, _, _ in self.generic]

        # Filler counts: meet the byte budget and the redirect fraction together.
        rf = self.o.redirect_fraction
        n_core = len(core)
        n_core_redirects = sum(1 for kind, _ in core if kind == "redirect")
        core_bytes = (
            len(self.entities) * _ENTITY_XML
            + len(self.authors) * _AUTHOR_XML
            + n_core_redirects * _REDIRECT_XML
            + (n_core - len(self.entities) - len(self.authors) - n_core_redirects) * _CORE_XML
        )
        budget = 0.98 * self.o.xml_bytes - len(dump_header()) - core_bytes
        ratio = rf / (1 - rf)
        n_articles = (budget - _REDIRECT_XML * (rf * n_core - n_core_redirects) / (1 - rf)) / (
            _FILLER_XML + _REDIRECT_XML * ratio
        )
        n_articles = max(0, int(n_articles))
        n_redirects = max(0, round((rf * (n_core + n_articles) - n_core_redirects) / (1 - rf)))
        n_fillers = n_articles + n_redirects
        total = n_core + n_fillers
        kinds = np.zeros(total, dtype=np.uint8)  # 0 filler article, 1 filler redirect, 2 core
        filler_kinds = np.zeros(n_fillers, dtype=np.uint8)
        filler_kinds[rng.choice(n_fillers, size=n_redirects, replace=False)] = 1
        core_slots = rng.choice(total, size=n_core, replace=False)
        mask = np.zeros(total, dtype=bool)
        mask[core_slots] = True
        kinds[mask] = 2
        kinds[~mask] = filler_kinds
        self.kinds = kinds
        self.core_order = rng.permutation(n_core).astype(np.int32)
        self.n_fillers = n_fillers
        self.filler_articles = np.flatnonzero(filler_kinds == 0).astype(np.int64)
        self.salt = int(rng.integers(1 << 62))
        self.page_id = 10 + int(rng.integers(0, 5))
        self.users = self._users(rng)
        self.comments = self._comments(rng)

    def _users(self, rng) -> list[tuple[str, int]]:
        words = self.space.words
        users: dict[str, int] = {}
        while len(users) < 2000:
            a = words[int(rng.integers(len(words)))]
            b = words[int(rng.integers(len(words)))]
            style = int(rng.integers(4))
            name = (
                a.capitalize() + b.capitalize(),
                f"{a.capitalize()} {b.capitalize()}",
                f"{a.capitalize()}{int(rng.integers(1, 999))}",
                f"{a.capitalize()}bot",
            )[style]
            users.setdefault(name, int(rng.integers(1, 34_000_000)))
        return list(users.items())

    def _comments(self, rng) -> list[str]:
        ip = ".".join(str(int(x)) for x in rng.integers(1, 255, size=4))
        user = self.space.title(int(rng.integers(1 << 30))).replace(" ", "")
        return [
            "/* {} */ copyedit",
            "/* {} */",
            "typo",
            "clean up",
            "ce",
            f"Reverted edits by [[Special:Contributions/{ip}|{ip}]] ([[User talk:{ip}|talk]]) "
            f"to last version by {user}",
            "add [[WP:RCAT|rcat]]s",
            "Rescuing 1 sources and tagging 0 as dead. #IABot (v1.6.5)",
            "[[WP:AWB/T|Typo fixing]], replaced: it's → its",
            "a better word; use [[plain English]] -> [[WP:MOS]]",
            'Removing link(s) to "{}": deleted page',
            "Adding short description",
            "link",
            "updated population & area",
            "rv vandalism",
            "{{cn}} tag",
        ]

    # ------------------------------------------------------------------ links

    def _link(
        self, target: str, out: list[str] | None, label: str | None = None, vary: bool = True
    ) -> str:
        """Wikitext of a link to ``target`` (sometimes spelled another way MediaWiki treats
        as the same page); the normalised target is appended to ``out``."""
        if out is not None:
            out.append(target)
        if label is not None:
            return f"[[{target}|{label}]]"
        if not vary:
            return f"[[{target}]]"
        r = self.rand.random()
        if r < 0.72:
            return f"[[{target}]]"
        if r < 0.82:
            first = target[:1]
            if first.isupper() and target[1:2].islower() and first.lower().upper() == first:
                return f"[[{first.lower()}{target[1:]}]]"
            return f"[[{target}]]"
        if r < 0.9:
            return f"[[{target}|{_strip_disambiguation(target).lower()}]]"
        if r < 0.95 and " " in target:
            return "[[" + target.replace(" ", "_") + "]]"
        if r < 0.98:
            return f"[[{target}#{self.rand.pick(_HEADINGS)}|{_strip_disambiguation(target)}]]"
        if target[-1:].isalpha():
            return f"[[{target}]]s"
        return f"[[{target}]]"

    def _filler_title(self, f: int) -> str:
        title = self.space.title(self.topics_reserved + f)
        if title in self.titles:
            title = f"{title} (concept)"
            if title in self.titles:
                title = f"{title[:-10]} ({f})"
        return title

    def _filler_target(self) -> str:
        r = self.rand.random()
        if r < 0.82 and self.n_fillers:
            return self._filler_title(self.rand.below(self.n_fillers))
        if r < 0.94:
            return self.rand.pick(self.core_plain)
        return self._filler_title(self.n_fillers + 10**7 + self.rand.below(10**8))

    def _noise_target(self) -> str:
        """A filler article (never a redirect), for the noise links of planted pages."""
        if len(self.filler_articles):
            return self._filler_title(
                int(self.filler_articles[self.rand.below(len(self.filler_articles))])
            )
        return self.rand.pick(self.core_plain)

    def _redirect_target(self, f: int) -> str:
        h = _mix(self.salt ^ f)
        if h % 100 < 85 and len(self.filler_articles):
            return self._filler_title(
                int(self.filler_articles[(h // 100) % len(self.filler_articles)])
            )
        return self.core_plain[(h // 100) % len(self.core_plain)]

    # ------------------------------------------------------------------ pieces

    def _date(self, year: int | None = None) -> str:
        r = self.rand
        year = year if year is not None else 1900 + r.below(118)
        return f"{r.pick(_MONTHS)} {1 + r.below(28)}, {year}"

    def _person(self) -> str:
        names = _book_info()[1]
        return f"{self.rand.pick(names).split()[0]} {self.rand.pick(names).split()[-1]}"

    def _url(self) -> str:
        w = self.space.words
        r = self.rand
        return f"http://www.{r.pick(w)}.{r.pick(_TLDS)}/{r.pick(w)}/{r.below(100000)}.html"

    def _ref(self) -> str:
        r = self.rand
        x = r.random()
        if x < 0.45:
            title = self.prose.phrase(2 + r.below(5))
            publisher = self.prose.phrase(1 + r.below(3))
            accessed = self._date(2005 + r.below(13))
            return (
                f"<ref>{{{{cite web|url={self._url()}|title={title}|publisher={publisher}"
                f"|accessdate={accessed}}}}}</ref>"
            )
        if x < 0.7:
            last, first = self._person().split(" ", 1)[::-1]
            title = self.prose.phrase(2 + r.below(4))
            publisher = self.prose.phrase(1 + r.below(2))
            return (
                f'<ref name="{r.pick(self.space.words)}{r.below(100)}">{{{{cite book|last={last}'
                f"|first={first}|title={title}|publisher={publisher}|year={1950 + r.below(68)}"
                f"|page={1 + r.below(500)}}}}}</ref>"
            )
        if x < 0.85:
            return f'<ref name="{r.pick(self.space.words)}{r.below(100)}" />'
        year = 1900 + r.below(118)
        return (
            f"<ref>{self._person()} ({year}). ''{self.prose.phrase(3)}''. p. {r.below(400)}.</ref>"
        )

    def _refs(self, n_chars: float) -> list[str]:
        n = int(n_chars / 900 * self.rand.random() * 1.6)
        return [self._ref() for _ in range(n)]

    def _categories(self, names: Sequence[str], out: list[str] | None) -> str:
        lines = []
        for name in names:
            target = f"Category:{name}"
            if out is not None:
                out.append(target)
            lines.append(f"[[{target}]]")
        return "\n".join(lines)

    def _infobox(self, written: str, fields: Sequence[tuple[str, str]], comment: str = "") -> str:
        style = self.rand.below(10)
        if style < 6:
            width = max(len(k) for k, _ in fields) if fields else 0
            body = "".join(f"| {k:<{width}} = {v}\n" for k, v in fields)
        elif style < 9:
            body = "".join(f" | {k} = {v}\n" for k, v in fields)
        else:
            body = "".join(f"|{k}={v}\n" for k, v in fields)
        return "{{" + written + comment + "\n" + body + "}}\n"

    def _other_infobox(self, title: str) -> str:
        entity_names = {self.template.lower(), *(a.lower() for a in self.profile.aliases)}
        if self.profile.key == "book":
            entity_names |= _BOOKISH
        choices = [(n, w, f) for n, w, f in _OTHER_INFOBOXES if n.lower() not in entity_names]
        x = self.rand.random() * sum(w for _, w, _ in choices)
        name, fields = choices[-1][0], choices[-1][2]
        for candidate, weight, candidate_fields in choices:
            x -= weight
            if x < 0:
                name, fields = candidate, candidate_fields
                break
        r = self.rand
        values = []
        for f in fields:
            if f in _NAME_FIELDS:
                v = title
            elif f in _IMAGE_FIELDS:
                v = f"{self.prose.phrase(2)}.jpg"
            elif "date" in f or f in _DATE_FIELDS:
                v = self._date()
            elif f in _NUMBER_FIELDS:
                v = f"{r.below(100000):,}"
            elif f == "website":
                v = f"{{{{URL|www.{r.pick(self.space.words)}.{r.pick(_TLDS)}}}}}"
            elif f in _LINKED_FIELDS or r.random() < 0.2:
                v = f"[[{self._filler_target()}]]"
            else:
                v = self.prose.phrase(1 + r.below(3), capital=r.random() < 0.5)
            if r.random() < 0.1:
                v = ""
            values.append((f, v))
        written = name if r.random() < 0.85 else name[0].lower() + name[1:]
        return self._infobox(written, values)

    # ------------------------------------------------------------------ pages

    def _filler_text(self, title: str) -> str:
        r = self.rand
        size = int(min(max(math.exp(self._normal() * 0.9 + math.log(2900)), 200), 60000))
        parts: list[str] = []
        if r.random() < 0.12:
            parts.append(f"{{{{Use dmy dates|date={r.pick(_MONTHS)} {2008 + r.below(10)}}}}}\n")
        if r.random() < self.o.other_infobox_fraction:
            parts.append(self._other_infobox(title))
        lead = min(size * 0.3, 700.0)
        parts.append(_bold_lead(title, self._prose_with_links(lead, 0.7)))
        length = sum(len(p) for p in parts)
        refs = 0
        while length < size:
            x = r.random()
            if x < 0.3:
                piece = f"\n\n== {r.pick(_HEADINGS)} ==\n"
            elif x < 0.36:
                piece = f"\n\n=== {r.pick(_HEADINGS)} ===\n"
            elif x < 0.44:
                items = [
                    f"\n* {self._link(self._filler_target(), None)} "
                    + self.prose.phrase(2 + r.below(8), False)
                    for _ in range(2 + r.below(6))
                ]
                piece = "\n" + "".join(items)
            elif x < 0.46:
                piece = f"\n<!-- {self.prose.phrase(3 + r.below(10), False)} -->"
            elif x < 0.465:
                piece = f"\n<nowiki>[[{self.prose.phrase(2)}]]</nowiki>"
            else:
                n = 250 + r.below(1000)
                refs_here = self._refs(n)
                refs += len(refs_here)
                piece = "\n\n" + self._prose_with_links(n, 1.0, refs_here)
            parts.append(piece)
            length += len(piece)
        if refs:
            parts.append("\n\n== References ==\n{{Reflist}}\n")
        if r.random() < 0.4:
            parts.append(
                f"\n== External links ==\n* [{self._url()} {self.prose.phrase(2 + r.below(3))}]\n"
            )
        cats = [
            self._filler_title(r.below(max(self.n_fillers, 1)) + 10**6)
            for _ in range(1 + r.below(4))
        ]
        parts.append("\n" + self._categories(cats, None))
        return "".join(parts)

    def _normal(self) -> float:
        """A standard normal draw (Box-Muller on the buffered uniforms)."""
        u = 1.0 - self.rand.random()
        return math.sqrt(-2.0 * math.log(u)) * math.cos(2 * math.pi * self.rand.random())

    def _prose_with_links(self, n_chars: float, density: float, refs: Sequence[str] = ()) -> str:
        n_links = int(n_chars / 130 * density * (0.5 + self.rand.random()))
        links = [self._link(self._filler_target(), None) for _ in range(n_links)]
        return self.prose.paragraph(n_chars, links, refs)

    def _redirect_text(self, target: str) -> str:
        r = self.rand
        keyword = "#REDIRECT" if r.random() < 0.9 else r.pick(("#redirect", "#Redirect"))
        text = f"{keyword} [[{target}]]"
        if r.random() < 0.5:
            text += "\n\n{{" + r.pick(_RCATS) + "}}"
        return text

    def _entity_text(self, e: _Entity) -> tuple[str, dict]:
        p = self.profile
        r = self.rand
        author = self.authors[e.author]
        genre = self.genres[e.genre]
        assert genre is not None
        country = _COUNTRIES[e.country]
        display = _strip_disambiguation(e.title)

        # The infobox.
        written = self._template_spelling()
        comment = ""
        if r.random() < 0.25:
            comment = (
                " <!-- See [[Wikipedia:WikiProject_Novels]] or [[Wikipedia:WikiProject_Books]] -->"
            )
        ib: list[str] = []
        fields: list[tuple[str, str]] = [("name", display)]
        if r.random() < 0.85:
            fields.append(("image", f"{display} cover.jpg"))
            fields.append(("caption", r.pick(_CAPTIONS)))
        creator = author.title if r.random() > 0.1 or not author.aliases else author.aliases[0]
        if r.random() < 0.93:
            fields.append((p.creator_field, self._link(creator, ib, vary=False)))
        else:
            fields.append((p.creator_field, author.title))
        if r.random() < 0.4:
            fields.append(("cover_artist" if p.key != "film" else "producer", self._person()))
        if r.random() < 0.3:
            fields.append(("country", self._link(country.title, ib, vary=False)))
        else:
            fields.append(("country", country.title))
        lang = _strip_disambiguation(country.language).replace(" language", "")
        if r.random() < 0.2:
            fields.append(("language", self._link(country.language, ib, label=lang)))
        else:
            fields.append(("language", lang))
        series = self.series[e.series] if e.series is not None else None
        if series is not None:
            fields.append(("series", self._link(series.title, ib, vary=False)))
        genre_target = genre.title
        if genre.aliases and r.random() < 0.2:
            genre_target = r.pick(genre.aliases)
        if r.random() < 0.92:
            fields.append(("genre", self._link(genre_target, ib, vary=r.random() < 0.5)))
        if r.random() < 0.8:
            fields.append((p.publisher_field, self._link(e.publisher, ib, vary=False)))
        else:
            fields.append((p.publisher_field, e.publisher))
        month = r.pick(_MONTHS)
        fields.append((p.date_field, f"{month} {e.year}" if r.random() < 0.5 else str(e.year)))
        if p.key == "film":
            fields.append(("runtime", f"{80 + r.below(80)} minutes"))
            fields.append(("budget", f"${1 + r.below(150)} million"))
        else:
            media = self._media(ib)
            fields.append(("media_type", media))
            fields.append(("pages", str(96 + r.below(800))))
            fields.append(("isbn", self._isbn()))
            if r.random() < 0.5:
                fields.append(("oclc", str(1000000 + r.below(90000000))))
        for name, target in (("preceded_by", e.prev), ("followed_by", e.next)):
            if target is not None:
                if r.random() < 0.15:
                    aliases_of = self.entities[self._entity_index(target)].aliases
                    target = aliases_of[0] if aliases_of else target
                fields.append((name, f"''{self._link(target, ib, vary=False)}''"))
        infobox = self._infobox(written, fields, comment)

        # Topic links spread over the sections.
        topics = list(e.topics)
        n_lead = min(len(topics), 1 + r.below(2))
        n_themes = int(len(topics) * 0.25)
        lead_topics = topics[:n_lead]
        theme_topics = topics[n_lead : n_lead + n_themes]
        plot_topics = topics[n_lead + n_themes :]
        plot_topics += [t for t in topics if r.random() < 0.1]  # some linked twice
        plot_noise = [self._noise_target() for _ in range(r.below(3) + e.extra)]

        # Lead.
        lead: list[str] = []  # links in text order
        head = ""
        if r.random() < 0.3:
            head = f"{{{{Use mdy dates|date={r.pick(_MONTHS)} {2008 + r.below(10)}}}}}\n"
        genre_link = self._link(genre.title, lead, label=genre.spec.adjective)
        country_link = country.demonym
        if r.random() < 0.6:
            country_link = self._link(country.title, lead, label=country.demonym)
        creator_link = self._link(author.title, lead, vary=False)
        sentence = (
            f"'''''{display}''''' is a {e.year} {genre_link} {p.noun} by {country_link} "
            f"{p.creator_noun} {creator_link}."
        )
        if series is not None:
            ordinal = _ORDINALS[min(e.position, 9)]
            sentence += f" It is the {ordinal} book in the {self._link(series.title, lead)}"
            if e.prev is not None:
                sentence += f", following ''{self._link(e.prev, lead, vary=False)}''"
            sentence += "."
        lead_text = (
            sentence
            + " "
            + self.prose.paragraph(
                250 + r.below(600), [self._link(t, lead) for t in lead_topics], self._refs(400)
            )
        )

        # Characters, themes, reception, see also.
        chars: list[str] = []
        characters = "".join(
            f"* '''{self._person()}''' – " + self.prose.paragraph(60 + r.below(200)) + "\n"
            for _ in range(2 + r.below(6))
        )
        themes: list[str] = []
        themes_text = self.prose.paragraph(
            400 + 60 * len(theme_topics),
            [self._link(t, themes) for t in theme_topics],
            self._refs(600),
        )
        reception: list[str] = []
        rec_links = []
        for title, prob, _ in self.generic:
            if prob and r.random() < 0.6 * prob:
                target = title
                if self.generic_aliases.get(title) and r.random() < 0.35:
                    target = r.pick(self.generic_aliases[title])
                rec_links.append(self._link(target, reception, vary=False))
        rec_text = self.prose.paragraph(300 + 120 * len(rec_links), rec_links, self._refs(500))
        if r.random() < 0.5:
            work = "The New York Times"
            if self.generic_aliases.get(work) and r.random() < 0.3:
                work = self.generic_aliases[work][0]
            if work in self.titles:
                work_link = self._link(work, reception, vary=False)
                rec_text += (
                    f"<ref>{{{{cite news|title={self.prose.phrase(4)}|work={work_link}"
                    f"|date={self._date(e.year)}}}}}</ref>"
                )
        see: list[str] = []
        others = [b for b in author.books if self.entities[b].title != e.title]
        see_text = ""
        if others and r.random() < 0.25:
            picks = [others[r.below(len(others))] for _ in range(min(len(others), 1 + r.below(3)))]
            picks = list(dict.fromkeys(picks))
            see_text = "\n== See also ==\n" + "".join(
                f"* ''{self._link(self.entities[b].title, see, vary=False)}''\n" for b in picks
            )

        # Categories.
        cats = [
            f"{e.year} {country.demonym} {p.category_noun}",
            genre.category.split(":", 1)[1],
        ]
        if r.random() < 0.7:
            cats.append(f"{e.publisher} {'films' if p.key == 'film' else 'books'}")
        if len(author.books) >= 3:
            cats.append(f"{p.category_noun.capitalize()} by {author.title}")
        if author.books and author.books[0] == self._entity_index(e.title) and r.random() < 0.5:
            cats.append(f"Debut {p.category_noun}")
        if r.random() < 0.1:
            cats.append(f"{country.demonym} {p.category_noun} adapted into films")
        cat_links: list[str] = []
        cat_text = self._categories(cats, cat_links)

        # The plot fills the page up to its planned size.
        plot: list[str] = []
        fixed = len(infobox) + len(lead_text) + len(characters) + len(themes_text) + len(rec_text)
        fixed += len(see_text) + len(cat_text) + 300
        plot_chars = max(e.size - fixed, 700)
        n_par = max(1, round(plot_chars / 1100))
        plot_links = [self._link(t, plot) for t in plot_topics]
        plot_links += [self._link(t, plot) for t in plot_noise]
        paragraphs = []
        for i in range(n_par):
            share = plot_links[i * len(plot_links) // n_par : (i + 1) * len(plot_links) // n_par]
            paragraphs.append(
                self.prose.paragraph(plot_chars / n_par, share, self._refs(plot_chars / n_par / 3))
            )
        ext = f"* [{self._url()} Official website]\n" if r.random() < 0.3 else ""
        plot_heading = "Plot" if r.random() < 0.5 else "Plot summary"
        while True:
            text = (
                f"{head}{infobox}{lead_text}\n\n== {plot_heading} ==\n"
                + "\n\n".join(paragraphs)
                + f"\n\n== Characters ==\n{characters}\n== Themes ==\n{themes_text}\n\n"
                f"== Reception ==\n{rec_text}\n{see_text}\n== References ==\n{{{{Reflist}}}}\n"
                + (f"\n== External links ==\n{ext}" if ext else "")
                + f"\n{cat_text}"
            )
            short = e.size - len(text.encode("utf-8"))
            if short <= 0:
                break
            paragraphs.append(self.prose.paragraph(short + 100))  # no links: order kept
        links = ib + lead + plot + chars + themes + reception + see + cat_links
        return text, {
            "template_written": written,
            "template": _canonical(written),
            "wikilinks": links,
            "categories": cats,
        }

    def _template_spelling(self) -> str:
        """The entity template as a page writes it: an alias now and then, else a spelling
        MediaWiki treats as the same template."""
        r = self.rand
        if self.profile.aliases and r.random() < self.o.alias_fraction:
            return r.pick(self.profile.aliases)
        t = self.template
        x = r.random()
        if x < 0.7:
            return t
        if x < 0.8:
            return t[0].lower() + t[1:]
        if x < 0.88:
            return t.replace(" ", "_")
        return " " + t if x < 0.95 else t + " "

    def _media(self, out: list[str]) -> str:
        r = self.rand
        hard = self.generic_aliases.get("Hardcover") or []
        x = r.random()
        if x < 0.15 and hard:
            return f"Print ({self._link(hard[0], out, vary=False)})"
        if x < 0.5:
            hardcover = self._link("Hardcover", out, vary=False)
            return f"Print ({hardcover} & {self._link('Paperback', out, vary=False)})"
        if x < 0.7:
            hardcover = self._link("Hardcover", out, label="Hardback")
            return f"Print ({hardcover} & {self._link('Paperback', out, vary=False)})"
        if x < 0.85:
            return f"Print ({self._link('Hardcover', out, label='hardcover')})"
        return "Print"

    def _isbn(self) -> str:
        r = self.rand
        return f"{r.below(2)}-{100 + r.below(900)}-{10000 + r.below(90000)}-{r.below(10)}"

    def _entity_index(self, title: str) -> int:
        if not hasattr(self, "_entity_by_title"):
            self._entity_by_title = {e.title: i for i, e in enumerate(self.entities)}
        return self._entity_by_title[title]

    def _author_text(self, a: _Author) -> str:
        p = self.profile
        r = self.rand
        country = _COUNTRIES[a.country]
        genre = self.genres[a.genre]
        books = [self.entities[b] for b in a.books]
        notable = "".join(f"''{self._link(b.title, None, vary=False)}''" for b in books[:2])
        fields = [
            ("name", a.title),
            ("birth_date", f"{{{{birth date|{a.born}|{1 + r.below(12)}|{1 + r.below(28)}}}}}"),
            ("nationality", self._link(country.title, None, label=country.demonym)),
            ("occupation", p.creator_noun.capitalize()),
        ]
        if genre is not None:
            fields.append(("genre", self._link(genre.title, None)))
        if notable:
            fields.append(("notableworks", notable))
        infobox = self._infobox(p.person_infobox, fields) if r.random() < 0.75 else ""
        country_link = self._link(country.title, None, label=country.demonym)
        genre_link = self._link(genre.title, None, label=genre.spec.adjective) if genre else ""
        occupation = self._link(self.creator_page, None, label=p.creator_noun)
        lead = (
            f"'''{a.title}''' (born {a.born}) is an {country_link} {genre_link} {occupation}. "
            + self.prose.paragraph(300 + r.below(500), [self._link(t, None) for t in a.topics])
        )
        bio = "\n\n".join(
            self._prose_with_links(500 + r.below(900), 0.6, self._refs(500))
            for _ in range(1 + r.below(3))
        )
        works = []
        for b in books:
            target = b.aliases[0] if b.aliases and r.random() < 0.1 else b.title
            works.append(f"* ''{self._link(target, None, vary=False)}'' ({b.year})\n")
        cats = [f"{a.born} births", f"{country.demonym} {p.creator_noun}s"]
        if genre is not None:
            cats.append(f"{country.demonym} {genre.spec.adjective} {p.creator_noun}s")
        works_heading = "Filmography" if p.key == "film" else "Bibliography"
        return (
            f"{infobox}{lead}\n\n== Biography ==\n{bio}\n\n== {works_heading} ==\n"
            f"{''.join(works)}\n== References ==\n{{{{Reflist}}}}\n\n{self._categories(cats, None)}"
        )

    def _series_text(self, s: _Series) -> str:
        p = self.profile
        author = self.authors[s.author]
        genre = self.genres[s.genre]
        genre_link = self._link(genre.title, None, label=genre.spec.adjective) if genre else ""
        books = [self.entities[b] for b in s.books]
        items = "".join(
            f"# ''{self._link(b.title, None, vary=False)}'' ({b.year})\n" for b in books
        )
        return (
            f"The '''{s.title}''' is a series of {len(s.books)} {genre_link} {p.noun}s by "
            f"{self._link(author.title, None)}. "
            + self._prose_with_links(500 + self.rand.below(800), 0.5)
            + f"\n\n== {p.noun.capitalize()}s ==\n{items}\n== References ==\n{{{{Reflist}}}}\n\n"
            + self._categories(
                [f"{genre.spec.stem if genre else 'Literary'} {p.noun} series"], None
            )
        )

    def _genre_text(self, index: int) -> str:
        r = self.rand
        g = self.genres[index]
        assert g is not None
        topics = [self._link(t, None) for t in g.topics[:10]]
        members = [e for e in self.entities if e.genre == index][:5]
        works = "".join(f"* ''{self._link(e.title, None, vary=False)}''\n" for e in members)
        authors = [self._link(self.authors[e.author].title, None) for e in members[:3]]
        return (
            f"'''{_strip_disambiguation(g.title)}''' is a genre of "
            + self.prose.paragraph(400 + r.below(400), topics[:4])
            + "\n\n== History ==\n"
            + self.prose.paragraph(600 + r.below(900), topics[4:] + authors)
            + (f"\n\n== Notable works ==\n{works}" if works else "")
            + "\n\n== References ==\n{{Reflist}}\n\n"
            + self._categories([g.category.split(":", 1)[1]], None)
        )

    def _topic_text(self, title: str) -> str:
        r = self.rand
        pools = [
            self.genres[g].topics
            for g in self.topic_genres.get(title, [])
            if self.genres[g] is not None
        ]
        neighbours = []
        for pool in pools:
            neighbours += [pool[r.below(len(pool))] for _ in range(2 + r.below(4))]
        links = [self._link(t, None) for t in dict.fromkeys(neighbours) if t != title]
        links += [self._link(self._filler_target(), None) for _ in range(2 + r.below(6))]
        shuffled = [links[i] for i in self.prose.rng.permutation(len(links)).tolist()]
        text = _bold_lead(
            title, self.prose.paragraph(900 + r.below(2500), shuffled, self._refs(1500))
        )
        if r.random() < self.o.other_infobox_fraction:
            text = self._other_infobox(title) + text
        return (
            text
            + "\n\n== References ==\n{{Reflist}}\n\n"
            + self._categories([self._filler_title(10**6 + r.below(10**5))], None)
        )

    def _country_text(self, c: int) -> str:
        spec = _COUNTRIES[c]
        r = self.rand
        fields = [
            ("conventional_long_name", spec.title),
            ("common_name", spec.title),
            ("capital", f"[[{self._filler_target()}]]"),
            ("official_languages", self._link(spec.language, None)),
            ("demonym", spec.demonym),
            ("population_estimate", f"{r.below(300_000_000):,}"),
        ]
        return (
            self._infobox("Infobox country", fields)
            + _bold_lead(
                spec.title, self._prose_with_links(1500 + r.below(3000), 1.0, self._refs(2000))
            )
            + "\n\n== References ==\n{{Reflist}}\n\n"
            + self._categories(["Countries", f"{spec.demonym} culture"], None)
        )

    def _publisher_text(self, title: str) -> str:
        r = self.rand
        authors = [a.title for a in self.authors if a.publisher == title][:5]
        fields = [
            ("name", _strip_disambiguation(title)),
            ("founded", str(1800 + r.below(200))),
            ("hq_location", f"[[{self._filler_target()}]]"),
        ]
        infobox = self._infobox(
            "Infobox company" if r.random() < 0.5 else "Infobox publisher", fields
        )
        return (
            infobox
            + f"'''{_strip_disambiguation(title)}''' is a publisher. "
            + self.prose.paragraph(600 + r.below(1500), [self._link(a, None) for a in authors])
            + "\n\n"
            + self._categories(["Publishing companies"], None)
        )

    def _plain_text(self, title: str) -> str:
        return _bold_lead(
            title, self._prose_with_links(800 + self.rand.below(3000), 1.0, self._refs(1500))
        ) + (
            "\n\n== References ==\n{{Reflist}}\n\n"
            + self._categories([self._filler_title(10**6 + self.rand.below(10**5))], None)
        )

    def _namespace_text(self, kind: str, title: str) -> str:
        r = self.rand
        if kind == "category":
            name = title.split(":", 1)[1]
            parent = f"{self.profile.noun.capitalize()}s by genre"
            parents = [parent] if name != parent else [f"{self.profile.noun.capitalize()}s"]
            return (
                f"{{{{Commons category|{name}}}}}\n{self.prose.paragraph(120)}\n\n"
                + self._categories(parents, None)
            )
        if kind == "template":
            name = title.split(":", 1)[1]
            fields = "".join(
                f"| label{i} = {f.capitalize()} | data{i} = {{{{{{{f}|}}}}}}\n"
                for i, f in enumerate(("name", "author", "country", "genre", "publisher"), 1)
            )
            example = "".join(f"| {f} = \n" for f in ("name", "author", "genre", "publisher"))
            return (
                "{{Infobox\n| above = {{{name|{{PAGENAMEBASE}}}}}\n" + fields + "}}<noinclude>\n"
                "{{Documentation}}\n== Usage ==\n<pre>\n{{" + name + "\n" + example + "}}\n</pre>\n"
                "[[Category:Infobox templates]]\n</noinclude>"
            )
        return (
            "{{WikiProject status|active}}\n"
            + f"This project covers {self.prose.phrase(6, False)}. "
            + self.prose.paragraph(400 + r.below(800))
            + "\n\n[[Category:WikiProjects]]"
        )

    # ------------------------------------------------------------------ output

    def _emit(
        self, title: str, ns: int, text: str, redirect: str | None = None
    ) -> tuple[int, bytes, int, str]:
        m = self.meta.random
        self.page_id += 1 if m() < 0.6 else 2 + int(m() * 12)
        raw = text.encode("utf-8")
        revid = 500_000_000 + int(m() * 350_000_000)
        ts = 1_167_609_600 + int(m() * 368_000_000)  # 2007-01-01 .. 2018-08
        stamp = datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        parts = [
            "  <page>\n    <title>",
            _esc(title),
            "</title>\n    <ns>",
            str(ns),
            "</ns>\n    <id>",
            str(self.page_id),
            "</id>\n",
        ]
        if redirect is not None:
            parts += ['    <redirect title="', _esc(redirect), '" />\n']
        parts += ["    <revision>\n      <id>", str(revid), "</id>\n"]
        if m() < 0.97:
            parts += ["      <parentid>", str(revid - 1 - int(m() * 40_000_000)), "</parentid>\n"]
        parts += ["      <timestamp>", stamp, "</timestamp>\n      <contributor>\n"]
        if m() < 0.2:
            ip = f"{1 + int(m() * 222)}.{int(m() * 256)}.{int(m() * 256)}.{1 + int(m() * 254)}"
            parts += ["        <ip>", ip, "</ip>\n"]
        else:
            user, uid = self.users[int(m() * len(self.users))]
            parts += [
                "        <username>",
                _esc(user),
                "</username>\n        <id>",
                str(uid),
                "</id>\n",
            ]
        parts.append("      </contributor>\n")
        if m() < 0.25:
            parts.append("      <minor />\n")
        if m() < 0.9:
            comment = self.comments[int(m() * len(self.comments))]
            if "{}" in comment:
                comment = comment.replace("{}", _HEADINGS[int(m() * len(_HEADINGS))])
            parts += ["      <comment>", _esc(comment), "</comment>\n"]
        parts += [
            "      <model>wikitext</model>\n      <format>text/x-wiki</format>\n"
            '      <text xml:space="preserve" bytes="',
            str(len(raw)),
            '">',
            _esc(text),
            "</text>\n      <sha1>",
            _sha1_base36(raw),
            "</sha1>\n    </revision>\n  </page>\n",
        ]
        self.stats["pages"] += 1
        if redirect is not None:
            self.stats["redirects"] += 1
        elif ns == 0:
            self.stats["articles"] += 1
        if ns != 0:
            self.stats["namespace_pages"] += 1
        return self.page_id, "".join(parts).encode("utf-8"), len(raw), stamp

    def _core_page(self, index: int) -> tuple[int, str, bytes]:
        kind, payload = self.core[index]
        if kind == "redirect":
            source, target, ns = payload
            page_id, data, _, _ = self._emit(
                source, ns, self._redirect_text(target), redirect=target
            )
            self.page_ids[source] = page_id
            return page_id, source, data
        ns = 0
        if kind == "entity":
            e = self.entities[payload]
            title = e.title
            text, truth = self._entity_text(e)
            page_id, data, n_bytes, stamp = self._emit(title, 0, text)
            truth.update(page_id=page_id, text_bytes=n_bytes, timestamp=stamp)
            e.truth = truth
            self.stats["entities"] += 1
            self.page_ids[title] = page_id
            return page_id, title, data
        if kind == "author":
            title = self.authors[payload].title
            text = self._author_text(self.authors[payload])
        elif kind == "series":
            title = self.series[payload].title
            text = self._series_text(self.series[payload])
        elif kind == "genre":
            genre = self.genres[payload]
            assert genre is not None
            title = genre.title
            text = self._genre_text(payload)
        elif kind == "country":
            title = _COUNTRIES[payload].title
            text = self._country_text(payload)
        elif kind == "publisher":
            title = payload
            text = self._publisher_text(payload)
        elif kind in ("topic", "language", "generic"):
            title = payload
            text = self._topic_text(payload) if kind == "topic" else self._plain_text(payload)
        else:
            title = payload
            ns = {"category": 14, "template": 10, "project": 4}[kind]
            text = self._namespace_text(kind, payload)
        page_id, data, _, _ = self._emit(title, ns, text)
        self.page_ids[title] = page_id
        return page_id, title, data

    def _filler(self, f: int, redirect: bool) -> tuple[int, str, bytes]:
        title = self._filler_title(f)
        if redirect:
            target = self._redirect_target(f)
            page_id, data, _, _ = self._emit(title, 0, self._redirect_text(target), redirect=target)
        else:
            page_id, data, _, _ = self._emit(title, 0, self._filler_text(title))
        return page_id, title, data

    def pages(self, overhead: int) -> Iterator[tuple[int, int, str, bytes]]:
        """Every page as ``(slot, page_id, title, xml)``; stops once the XML written plus
        ``overhead`` (headers and footers) reaches ``xml_bytes``."""
        target = self.o.xml_bytes - overhead
        written = 0
        f = 0
        next_core = 0
        slot = 0
        kinds = self.kinds
        for start in range(0, len(kinds), 1 << 16):
            for kind in kinds[start : start + (1 << 16)].tolist():
                if kind == 2:
                    page = self._core_page(int(self.core_order[next_core]))
                    next_core += 1
                else:
                    page = self._filler(f, kind == 1)
                    f += 1
                written += len(page[2])
                yield (slot, *page)
                slot += 1
        # Top up: filler articles, each followed by redirects in the planned proportion.
        rf = self.o.redirect_fraction
        while written < target:
            redirect = self.rand.random() < rf
            page = self._filler(f, redirect)
            f += 1
            written += len(page[2])
            yield (slot, *page)
            slot += 1

    def truth(self, params: dict, files: list[dict], counts: dict) -> dict:
        p = self.profile
        entities = []
        for e in self.entities:
            t = e.truth or {}
            links = t.get("wikilinks", [])
            entities.append(
                {
                    "title": e.title,
                    "page_id": t.get("page_id"),
                    "template": t.get("template"),
                    "template_written": t.get("template_written"),
                    "author": self.authors[e.author].title,
                    "genre": self.genres[e.genre].title,  # type: ignore[union-attr]
                    "country": _COUNTRIES[e.country].title,
                    "language": _COUNTRIES[e.country].language,
                    "publisher": e.publisher,
                    "year": e.year,
                    "series": self.series[e.series].title if e.series is not None else None,
                    "series_position": e.position + 1 if e.series is not None else None,
                    "preceded_by": e.prev,
                    "followed_by": e.next,
                    "topics": e.topics,
                    "aliases": e.aliases,
                    "wikilinks": links,
                    "wikilinks_resolved": [self.alias_of.get(x, x) for x in links],
                    "categories": t.get("categories", []),
                    "text_bytes": t.get("text_bytes"),
                    "timestamp": t.get("timestamp"),
                }
            )
            if p.creator_field != "author":
                entities[-1][p.creator_field] = entities[-1]["author"]
        return {
            "format": TRUTH_FORMAT,
            "version": TRUTH_VERSION,
            "params": params,
            "template": self.template,
            "aliases": [_canonical(a) for a in p.aliases],
            "profile": p.key,
            "creator_field": p.creator_field,
            "files": files,
            "counts": counts,
            "entities": entities,
            "authors": [
                {
                    "title": a.title,
                    "page_id": self.page_ids.get(a.title),
                    "genre": self._genre_title(a.genre),
                    "country": _COUNTRIES[a.country].title,
                    "publisher": a.publisher,
                    "topics": a.topics,
                    "books": [self.entities[b].title for b in a.books],
                    "aliases": a.aliases,
                }
                for a in self.authors
            ],
            "series": [
                {
                    "title": s.title,
                    "page_id": self.page_ids.get(s.title),
                    "author": self.authors[s.author].title,
                    "genre": self._genre_title(s.genre),
                    "books": [self.entities[b].title for b in s.books],
                }
                for s in self.series
            ],
            "genres": [
                {
                    "title": g.title,
                    "page_id": self.page_ids.get(g.title),
                    "category": g.category,
                    "topics": g.topics,
                    "weights": [round(float(w), 6) for w in g.weights],
                }
                for g in self.genres
                if g is not None
            ],
            "redirects": [{"source": s, "target": t, "ns": ns} for s, t, ns in self.redirects],
        }

    def _genre_title(self, g: int) -> str | None:
        genre = self.genres[g]
        return genre.title if genre is not None else None


def _bold_lead(title: str, text: str) -> str:
    """``'''Title''' is ...``: the opening of an article."""
    return f"'''{title}''' is {text[:1].lower()}{text[1:]}"


def _esc(text: str) -> str:
    """XML-escape text and attribute values (``& < > "``, as MediaWiki's exporter)."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if '"' in text:
        text = text.replace('"', "&quot;")
    return text


_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def _sha1_base36(data: bytes) -> str:
    """SHA-1 in base 36, zero-padded to 31 digits, as in ``<sha1>`` of real dumps."""
    n = int.from_bytes(hashlib.sha1(data).digest(), "big")
    digits = []
    while n:
        n, d = divmod(n, 36)
        digits.append(_B36[d])
    return "".join(reversed(digits)).rjust(31, "0")


# --------------------------------------------------------------------------- files


def _write_truth(path: Path, truth: dict) -> None:
    data = json.dumps(truth, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    part = path.with_name(path.name + ".part")
    with open(part, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as f:
        f.write(data)
    os.replace(part, path)


def load_truth(path: str | os.PathLike) -> dict:
    """Read a ground-truth file written by :func:`generate_dump` or
    :func:`generate_partitions`."""
    with gzip.open(path, "rb") as f:
        truth = json.loads(f.read())
    if truth.get("format") != TRUTH_FORMAT:
        raise ValueError(f"{path}: not a {TRUTH_FORMAT} file")
    return truth


def truth_path_for(path: str | os.PathLike) -> Path:
    """Where :func:`generate_dump` writes the ground truth of the dump at ``path``."""
    path = Path(path)
    return path.with_name(path.name + ".truth.json.gz")


def _params(opts: _Options, **extra) -> dict:
    params = {
        "xml_bytes": opts.xml_bytes,
        "seed": opts.seed,
        "n_books": opts.n_books,
        "book_page_fraction": opts.book_page_fraction,
        "redirect_fraction": opts.redirect_fraction,
        "other_infobox_fraction": opts.other_infobox_fraction,
        "template": opts.template,
        "template_aliases": list(opts.template_aliases)
        if opts.template_aliases is not None
        else None,
        "alias_fraction": opts.alias_fraction,
        "pages_per_stream": opts.pages_per_stream,
    }
    params.update(extra)
    return params


def _counts(gen: _Generator, xml_bytes: int) -> dict:
    s = gen.stats
    return {
        "pages": s["pages"],
        "articles": s["articles"],
        "redirects": s["redirects"],
        "namespace_pages": s["namespace_pages"],
        "entities": s["entities"],
        "books": s["entities"],
        "authors": len(gen.authors),
        "series": len(gen.series),
        "genres": sum(g is not None for g in gen.genres),
        "topics": len(gen.topic_titles),
        "planted_redirects": len(gen.redirects),
        "xml_bytes": xml_bytes,
    }


def _options_from(args: dict) -> _Options:
    """The generator's options from the arguments of a ``generate_*`` call (``locals()``),
    which name them as :class:`_Options` does."""
    values = {f.name: args[f.name] for f in fields(_Options)}
    aliases = values["template_aliases"]
    values.update(
        xml_bytes=int(values["xml_bytes"]),
        seed=int(values["seed"]),
        template_aliases=tuple(aliases) if aliases is not None else None,
    )
    return _Options(**values)


def _write_pages(
    gen: _Generator,
    header: bytes,
    footer: bytes,
    n_files: int,
    open_sink: Callable[[int], DumpWriter],
    final_name: Callable[[DumpWriter, int], Path | None],
    bar,
) -> list[tuple[DumpWriter, int]]:
    """Write the generator's pages into ``n_files`` complete dumps of about equal XML:
    ``open_sink(n)`` opens file ``n`` (from 1), ``final_name(writer, n)`` renames it once
    its page ids are known (``None``: keep its name). Returns each closed writer with its
    size in bytes; on failure the unfinished file is removed."""
    bounds = [gen.o.xml_bytes * (i + 1) // n_files for i in range(n_files)]
    written: list[tuple[DumpWriter, int]] = []
    number = 1
    sink = open_sink(number)
    xml = len(header)
    try:
        sink.write(header)
        for _, page_id, title, data in gen.pages(n_files * (len(header) + len(footer))):
            if number < n_files and xml >= bounds[number - 1]:
                written.append((sink, sink.close(footer, final_name(sink, number))))
                number += 1
                sink = open_sink(number)
                sink.write(header)
                xml += len(footer) + len(header)
            sink.page(page_id, title, data)
            xml += len(data)
            bar.update(len(data))
    except BaseException:
        sink.abort()
        raise
    finally:
        bar.close()
    written.append((sink, sink.close(footer, final_name(sink, number))))
    return written


def _file_entry(sink: DumpWriter) -> dict:
    """A written file as the ground truth lists it."""
    return {
        "name": sink.path.name,
        "first_id": sink.first_id,
        "last_id": sink.last_id,
        "pages": sink.pages,
    }


def generate_dump(
    path: str | os.PathLike,
    *,
    xml_bytes: int,
    seed: int = 0,
    n_books: int | None = None,
    book_page_fraction: float = 0.002,
    redirect_fraction: float = 0.5,
    other_infobox_fraction: float = 0.1,
    template: str = "Infobox book",
    template_aliases: Sequence[str] | None = None,
    alias_fraction: float = 0.08,
    multistream: bool = True,
    pages_per_stream: int = 100,
    write_index: bool = True,
    write_truth: bool = True,
    progress: bool = False,
) -> dict:
    """Write a synthetic MediaWiki dump of about ``xml_bytes`` of XML to ``path``.

    ``path`` ending in ``.xml`` gets plain XML; ``.bz2`` (``.xml.bz2``) gets bzip2 at
    level 9, as multistream (header, every ``pages_per_stream`` pages, footer: one
    stream each; with ``write_index`` also ``NAME-index.txt.bz2``, ``offset:id:title``
    a line) or, with ``multistream=False``, one stream.

    ``n_books`` entity pages (default: ``book_page_fraction`` of all pages) carry
    ``template`` (default "Infobox book"; "Infobox film" makes films) or one of
    ``template_aliases`` (default: "Infobox novel" for books, "Infobox movie" for
    films) on ``alias_fraction`` of them; ``redirect_fraction`` of all pages are
    redirects (the planted alternative names always exist; random-word redirects
    make up the rest); ``other_infobox_fraction`` of the filler articles carry another
    infobox. The planted pages (genres, topics, generic pages, ...) set a floor of
    about 200 KB: a smaller ``xml_bytes`` gets that. With ``write_truth``, the
    ground truth goes to
    ``<path>.truth.json.gz`` (format in the module docstring). The same arguments
    and ``seed`` always give byte-identical files.

    Returns counts and paths: ``pages``, ``articles``, ``redirects``, ``books`` (=
    ``entities``), ``authors``, ``series``, ``namespace_pages``, ``xml_bytes``,
    ``compressed_bytes`` (``None`` for plain XML), ``file_bytes``, ``streams``,
    ``path``, ``index``, ``truth``, ``paths`` (every file written) and ``seconds``.
    """
    started = time.perf_counter()
    path = Path(path)
    name = path.name
    if name.endswith(".xml"):
        kind = "xml"
    elif name.endswith(".bz2"):
        kind = "multistream" if multistream else "bz2"
    else:
        raise ValueError(f"{path}: the dump path must end in .xml or .bz2 (.xml.bz2)")
    opts = _options_from(locals())
    gen = _Generator(opts)
    header = dump_header().encode("utf-8")
    footer = FOOTER.encode("utf-8")
    index = index_name_for(path) if kind == "multistream" and write_index else None
    path.parent.mkdir(parents=True, exist_ok=True)
    bar = progress_bar(progress, total=opts.xml_bytes, unit="B", unit_scale=True, desc=name)
    [(sink, size)] = _write_pages(
        gen,
        header,
        footer,
        1,
        lambda number: DumpWriter(path, kind, pages_per_stream, index, background=True),
        lambda sink, number: None,
        bar,
    )
    counts = _counts(gen, sink.xml_bytes)
    files = [_file_entry(sink)]
    truth = truth_path_for(path) if write_truth else None
    if truth is not None:
        params = _params(opts, multistream=kind == "multistream", compressed=kind != "xml")
        _write_truth(truth, gen.truth(params, files, counts))
    paths = [str(p) for p in (path, index, truth) if p is not None]
    return {
        **counts,
        "compressed_bytes": size if kind != "xml" else None,
        "file_bytes": size,
        "streams": sink.streams,
        "path": str(path),
        "index": str(index) if index is not None else None,
        "truth": str(truth) if truth is not None else None,
        "paths": paths,
        "seconds": time.perf_counter() - started,
    }


def generate_partitions(
    folder: str | os.PathLike,
    n_files: int,
    *,
    xml_bytes: int,
    seed: int = 0,
    prefix: str = "synth",
    n_books: int | None = None,
    book_page_fraction: float = 0.002,
    redirect_fraction: float = 0.5,
    other_infobox_fraction: float = 0.1,
    template: str = "Infobox book",
    template_aliases: Sequence[str] | None = None,
    alias_fraction: float = 0.08,
    multistream: bool = False,
    pages_per_stream: int = 100,
    write_index: bool = True,
    write_truth: bool = True,
    progress: bool = False,
) -> dict:
    """Write one synthetic dump of about ``xml_bytes`` of XML in total as ``n_files``
    partitions in ``folder``, named like enwiki's: ``PREFIX-pages-articlesN.xml-pFIRSTpLAST.bz2``
    (one bz2 stream each), or with ``multistream``
    ``PREFIX-pages-articles-multistreamN.xml-pFIRSTpLAST.bz2`` and, with
    ``write_index``, ``PREFIX-pages-articles-multistream-indexN.txt-pFIRSTpLAST.bz2``.
    Each partition is a complete XML document of about ``xml_bytes / n_files``; page
    ids continue across them. The ground truth of the whole goes to
    ``FOLDER/PREFIX-truth.json.gz``. Other arguments as :func:`generate_dump`.
    Returns the same counts, with ``paths`` listing every file.
    """
    started = time.perf_counter()
    if n_files < 1:
        raise ValueError("n_files must be at least 1")
    if xml_bytes < n_files * 200_000:
        raise ValueError("make xml_bytes at least 200,000 per partition")
    if not re.fullmatch(r"[A-Za-z0-9._-]+", prefix):
        raise ValueError(f"prefix must be a plain file name part: {prefix!r}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    opts = _options_from(locals())
    gen = _Generator(opts)
    header = dump_header().encode("utf-8")
    footer = FOOTER.encode("utf-8")
    kind = "multistream" if multistream else "bz2"
    stem = f"{prefix}-pages-articles-multistream" if multistream else f"{prefix}-pages-articles"

    def open_sink(number: int) -> DumpWriter:
        # Named once the page ids it holds are known (final_name); until then, without them.
        temp = folder / f"{stem}{number}.xml.bz2"
        index = index_name_for(temp) if multistream and write_index else None
        return DumpWriter(temp, kind, pages_per_stream, index, background=True)

    def final_name(sink: DumpWriter, number: int) -> Path:
        return folder / f"{stem}{number}.xml-p{sink.first_id}p{sink.last_id}.bz2"

    bar = progress_bar(progress, total=opts.xml_bytes, unit="B", unit_scale=True, desc=stem)
    written = _write_pages(gen, header, footer, n_files, open_sink, final_name, bar)
    files = [_file_entry(sink) for sink, _ in written]
    paths = [str(p) for sink, _ in written for p in (sink.path, sink.index) if p is not None]
    total_size = sum(size for _, size in written)
    streams = sum(sink.streams for sink, _ in written)
    xml_total = sum(sink.xml_bytes for sink, _ in written)
    counts = _counts(gen, xml_total)
    truth = folder / f"{prefix}-truth.json.gz" if write_truth else None
    if truth is not None:
        params = _params(
            opts, n_files=n_files, prefix=prefix, multistream=multistream, compressed=True
        )
        _write_truth(truth, gen.truth(params, files, counts))
        paths.append(str(truth))
    return {
        **counts,
        "compressed_bytes": total_size,
        "file_bytes": total_size,
        "streams": streams,
        "path": str(folder),
        "index": None,
        "truth": str(truth) if truth is not None else None,
        "paths": paths,
        "files": files,
        "seconds": time.perf_counter() - started,
    }


# --------------------------------------------------------------------------- CLI


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
    parser.add_argument("--size-mb", type=float, default=50.0, help="MB (10^6 bytes) of XML")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--books",
        type=int,
        default=None,
        metavar="N",
        help="exactly N entity pages (default: 0.2%% of all pages)",
    )
    parser.add_argument(
        "--template",
        default="Infobox book",
        metavar="NAME",
        help="infobox of the entity pages (default: Infobox book)",
    )
    parser.add_argument("--single-stream", action="store_true", help="one bz2 stream, no index")
    parser.add_argument("--no-index", action="store_true", help="no -index.txt.bz2")
    parser.add_argument(
        "--partitions",
        type=int,
        default=None,
        metavar="N",
        help="write N partition files into the folder OUT_PATH",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Handler of ``wikirec generate``: prints a one-line summary; returns the exit code."""
    if args.size_mb <= 0:
        print("wikirec generate: --size-mb must be positive", file=sys.stderr)
        return 2
    if args.books is not None and args.books < 0:
        print("wikirec generate: --books must be >= 0", file=sys.stderr)
        return 2
    options = dict(
        xml_bytes=int(args.size_mb * 10**6),
        seed=args.seed,
        n_books=args.books,
        template=args.template,
        write_index=not args.no_index,
        progress=not args.quiet,
    )
    try:
        if args.partitions is not None:
            stats = generate_partitions(
                args.out, args.partitions, multistream=not args.single_stream, **options
            )
        else:
            stats = generate_dump(args.out, multistream=not args.single_stream, **options)
    except (ValueError, OSError) as exc:
        print(f"wikirec generate: {exc}", file=sys.stderr)
        return 2
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
