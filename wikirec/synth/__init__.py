"""Synthetic MediaWiki dumps with planted structure: ``wikirec generate``.

Writes a deterministic dump that looks like an English Wikipedia ``pages-articles``
export (MediaWiki export schema 0.10, the ``<siteinfo>`` of a real enwiki export), of
any size, for benchmarks, scale tests and checks that embeddings learn what was
planted. Same options and seed give byte-identical files; nothing depends on the
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
- **In-links**, the pages that link to books as on the real Wikipedia: every author
  page lists all its books, every series page its books, genre pages their notable
  books; made-up awards per genre ("Okafor Award for Best Novel") list their winners
  and nominees by year (and the books' infoboxes and reception link back to them);
  "List of science fiction novels" and "List of American novels of the 1990s" pages
  list many books; about 3% of filler articles mention a book or two. They name a
  book mostly as ``''[[Title]]''``, sometimes through a redirect name or as
  ``[[Title|label]]`` (see :mod:`wikirec.synth.inlinks`).
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

Real names come from ``wikirec/data/koehrsen-book-info.tsv`` (37,020 book titles and
their authors); more are made up from their words when a dump needs more. The size is
the decompressed XML (``xml_bytes``), met within a few per cent: the plan is sized from
expected page sizes and topped up with filler pages at the end. Memory stays bounded:
pages are streamed out.

Layout of the package, in the order the data flows
--------------------------------------------------
- ``options``: :class:`GeneratorOptions`, every option written once;
- ``tables`` and ``data/``: the fixed vocabulary (genres, countries, publishers,
  generic pages, infoboxes, word lists, the ``<siteinfo>``) as data files;
- ``names``: which titles are valid, real and made-up names;
- ``text``: the seeded random streams, filler titles, prose;
- ``plan``: which entities, people and topics exist, how they relate, which page goes
  in which slot (:class:`~wikirec.synth.plan.Plan`);
- ``inlinks``: the awards, lists and notable books planned on top of the entities;
- ``wikitext`` and ``pages``: the pieces of wikitext, and the wikitext of each kind
  of page;
- ``pagexml``: the ``<page>`` element around a page's wikitext;
- ``render``: the pages in slot order, with their counts;
- ``truth``: the ground-truth file (its format is described there);
- ``files``: :func:`generate_dump`, :func:`generate_partitions` (dump writing);
- ``records``: :func:`write_records`, NDJSON book records from the plan alone;
- ``presets`` and ``data/enwiki.toml``: a real dump's shape (counts per namespace,
  article sizes and links, books and their in-links) as options at a scale;
- ``cli``: ``wikirec generate``.
"""

from wikirec.synth.cli import add_command, run
from wikirec.synth.files import generate_dump, generate_partitions
from wikirec.synth.names import valid_title
from wikirec.synth.options import GeneratorOptions
from wikirec.synth.records import write_records
from wikirec.synth.tables import SITEINFO
from wikirec.synth.truth import TRUTH_FORMAT, TRUTH_VERSION, load_truth, truth_path_for

__all__ = [
    "GeneratorOptions",
    "SITEINFO",
    "TRUTH_FORMAT",
    "TRUTH_VERSION",
    "add_command",
    "generate_dump",
    "generate_partitions",
    "load_truth",
    "run",
    "truth_path_for",
    "valid_title",
    "write_records",
]
