"""The ground truth of a generated dump: what was planted, where, and how each entity page
links.

``generate_dump`` writes it to ``<dump path>.truth.json.gz`` (``generate_partitions``:
``FOLDER/PREFIX-truth.json.gz``): one gzipped JSON object (gzip mtime 0, so it is
byte-identical too)::

    format            "wikirec-synth-truth", version 2
    params            the generator's options that decide the content (no paths)
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
                      timestamp, awards ([{award, year, result: "won" or
                      "nominated"}]), lists (the list pages naming it)
    authors           title, page_id, genre, country, publisher, topics (pet
                      topics), books, aliases
    series            title, page_id, author, genre, books (in order)
    genres            title, page_id, category, topics, weights (the per-genre topic
                      distribution the entities' topics were drawn from), notable
                      (the books its page names)
    awards            title, page_id, genre, alias (its short name, a redirect),
                      founded, years ([{year, winner, nominees}])
    lists             title, page_id, kind ("genre" or "country-decade"), genre,
                      country, decade, books (in page order)
    inlink_pages      every planted page that links to books: [{title, page_id,
                      kind, books}], kind "author", "series", "genre", "award",
                      "list" or "mention" (a filler article naming a book or two);
                      books by their titles, whatever name the page links them by
    redirects         the planted redirects [{source, target, ns}] (alternative
                      names of entities, authors, genres, awards, generic pages and
                      templates; the random-word filler redirects are not listed)
"""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

from wikirec.synth.plan import Plan
from wikirec.synth.render import Renderer
from wikirec.synth.tables import COUNTRIES
from wikirec.titles import canonical_template_name

TRUTH_FORMAT = "wikirec-synth-truth"
TRUTH_VERSION = 2


def truth_path_for(path: str | os.PathLike) -> Path:
    """Where :func:`wikirec.synth.generate_dump` writes the ground truth of the dump at
    ``path``."""
    path = Path(path)
    return path.with_name(path.name + ".truth.json.gz")


def load_truth(path: str | os.PathLike) -> dict:
    """Read a ground-truth file written by :func:`wikirec.synth.generate_dump` or
    :func:`wikirec.synth.generate_partitions`."""
    with gzip.open(path, "rb") as f:
        truth = json.loads(f.read())
    if truth.get("format") != TRUTH_FORMAT:
        raise ValueError(f"{path}: not a {TRUTH_FORMAT} file")
    return truth


def write_truth(path: Path, truth: dict) -> None:
    data = json.dumps(truth, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    part = path.with_name(path.name + ".part")
    with open(part, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as f:
        f.write(data)
    os.replace(part, path)


def counts(plan: Plan, renderer: Renderer, xml_bytes: int) -> dict:
    """The counts a generate call returns and the truth records."""
    s = renderer.stats
    return {
        "pages": s["pages"],
        "articles": s["articles"],
        "redirects": s["redirects"],
        "namespace_pages": s["namespace_pages"],
        "entities": s["entities"],
        "books": s["entities"],
        "authors": len(plan.authors),
        "series": len(plan.series),
        "genres": sum(g is not None for g in plan.genres),
        "topics": len(plan.topic_titles),
        "awards": len(plan.awards),
        "lists": len(plan.lists),
        "mentions": len(renderer.mentions),
        "planted_redirects": len(plan.redirects),
        "xml_bytes": xml_bytes,
    }


def truth_document(
    plan: Plan, renderer: Renderer, params: dict, files: list[dict], counts: dict
) -> dict:
    """The ground truth of a written dump (format in the module docstring)."""
    p = plan.profile
    page_ids = renderer.page_ids

    def titles(books: list[int]) -> list[str]:
        return [plan.entities[b].title for b in books]

    return {
        "format": TRUTH_FORMAT,
        "version": TRUTH_VERSION,
        "params": params,
        "template": plan.template,
        "aliases": [canonical_template_name(a) for a in p.aliases],
        "profile": p.key,
        "creator_field": p.creator_field,
        "files": files,
        "counts": counts,
        "entities": _entities(plan, renderer),
        "authors": [
            {
                "title": a.title,
                "page_id": page_ids.get(a.title),
                "genre": plan.genre_title(a.genre),
                "country": COUNTRIES[a.country].title,
                "publisher": a.publisher,
                "topics": a.topics,
                "books": [plan.entities[b].title for b in a.books],
                "aliases": a.aliases,
            }
            for a in plan.authors
        ],
        "series": [
            {
                "title": s.title,
                "page_id": page_ids.get(s.title),
                "author": plan.authors[s.author].title,
                "genre": plan.genre_title(s.genre),
                "books": [plan.entities[b].title for b in s.books],
            }
            for s in plan.series
        ],
        "genres": [
            {
                "title": g.title,
                "page_id": page_ids.get(g.title),
                "category": g.category,
                "topics": g.topics,
                "weights": [round(float(w), 6) for w in g.weights],
                "notable": titles(plan.notable.get(i, [])),
            }
            for i, g in enumerate(plan.genres)
            if g is not None
        ],
        "awards": [
            {
                "title": a.title,
                "page_id": page_ids.get(a.title),
                "genre": plan.genre_title(a.genre),
                "alias": a.alias,
                "founded": a.founded,
                "years": [
                    {"year": year, "winner": titles([w])[0], "nominees": titles(nominees)}
                    for year, w, nominees in a.years
                ],
            }
            for a in plan.awards
        ],
        "lists": [
            {
                "title": b.title,
                "page_id": page_ids.get(b.title),
                "kind": b.kind,
                "genre": plan.genre_title(b.genre) if b.genre is not None else None,
                "country": COUNTRIES[b.country].title if b.country is not None else None,
                "decade": b.decade,
                "books": titles(b.books),
            }
            for b in plan.lists
        ],
        "inlink_pages": _inlink_pages(plan, renderer),
        "redirects": [{"source": s, "target": t, "ns": ns} for s, t, ns in plan.redirects],
    }


def _entities(plan: Plan, renderer: Renderer) -> list[dict]:
    creator_field = plan.profile.creator_field
    entities = []
    for i, e in enumerate(plan.entities):
        facts = renderer.entity_facts.get(i, {})
        links = facts.get("wikilinks", [])
        entity = {
            "title": e.title,
            "page_id": facts.get("page_id"),
            "template": facts.get("template"),
            "template_written": facts.get("template_written"),
            "author": plan.authors[e.author].title,
            "genre": plan.genre_title(e.genre),
            "country": COUNTRIES[e.country].title,
            "language": COUNTRIES[e.country].language,
            "publisher": e.publisher,
            "year": e.year,
            "series": plan.series[e.series].title if e.series is not None else None,
            "series_position": e.position + 1 if e.series is not None else None,
            "preceded_by": e.prev,
            "followed_by": e.next,
            "topics": e.topics,
            "aliases": e.aliases,
            "wikilinks": links,
            "wikilinks_resolved": [plan.alias_of.get(x, x) for x in links],
            "categories": facts.get("categories", []),
            "text_bytes": facts.get("text_bytes"),
            "timestamp": facts.get("timestamp"),
            "awards": [
                {
                    "award": plan.awards[a].title,
                    "year": year,
                    "result": "won" if won else "nominated",
                }
                for a, year, won in e.awards
            ],
            "lists": [plan.lists[b].title for b in e.lists],
        }
        if creator_field != "author":
            entity[creator_field] = entity["author"]
        entities.append(entity)
    return entities


def _inlink_pages(plan: Plan, renderer: Renderer) -> list[dict]:
    """Every planted page that links to books, with the books it links."""
    pages: list[tuple[str, str, list[int]]] = []
    pages += [(a.title, "author", a.books) for a in plan.authors]
    pages += [(s.title, "series", s.books) for s in plan.series]
    pages += [(plan.genre_title(g) or "", "genre", books) for g, books in plan.notable.items()]
    for a in plan.awards:
        books = [b for _, winner, nominees in a.years for b in (winner, *nominees)]
        pages.append((a.title, "award", list(dict.fromkeys(books))))
    pages += [(b.title, "list", b.books) for b in plan.lists]
    out = [
        {
            "title": title,
            "page_id": renderer.page_ids.get(title),
            "kind": kind,
            "books": [plan.entities[b].title for b in books],
        }
        for title, kind, books in pages
    ]
    out += [
        {"title": title, "page_id": renderer.page_ids.get(title), "kind": "mention", "books": books}
        for title, books in renderer.mentions.items()
    ]
    return out
