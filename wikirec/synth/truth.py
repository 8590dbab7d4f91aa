"""The ground truth of a generated dump: what was planted, where, and how each entity page
links.

``generate_dump`` writes it to ``<dump path>.truth.json.gz`` (``generate_partitions``:
``FOLDER/PREFIX-truth.json.gz``): one gzipped JSON object (gzip mtime 0, so it is
byte-identical too)::

    format            "wikirec-synth-truth", version 1
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
                      timestamp
    authors           title, page_id, genre, country, publisher, topics (pet
                      topics), books, aliases
    series            title, page_id, author, genre, books (in order)
    genres            title, page_id, category, topics, weights (the per-genre topic
                      distribution the entities' topics were drawn from)
    redirects         the planted redirects [{source, target, ns}] (alternative
                      names of entities, authors, genres, generic pages and
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
TRUTH_VERSION = 1


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
        "planted_redirects": len(plan.redirects),
        "xml_bytes": xml_bytes,
    }


def truth_document(
    plan: Plan, renderer: Renderer, params: dict, files: list[dict], counts: dict
) -> dict:
    """The ground truth of a written dump (format in the module docstring)."""
    p = plan.profile
    page_ids = renderer.page_ids
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
            }
            for g in plan.genres
            if g is not None
        ],
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
        }
        if creator_field != "author":
            entity[creator_field] = entity["author"]
        entities.append(entity)
    return entities
