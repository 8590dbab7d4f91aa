"""The pages that link to many books, as on the real Wikipedia: awards with their winners
and nominees by year, "List of ..." pages, and each genre's notable books.

(Author and series pages, the other pages that list books, are planted with the
entities; filler articles mention a book now and then as they are written.)

Everything here draws from the plan's in-link stream, after the entities are planned:
- **awards**: one to three per genre of 20 books or more, named after a real author's
  surname ("Okafor Award for Best Novel", "Lindqvist Memorial Award", "Ferrante
  Prize"), each with a redirect from its short name; from its founding year on, each
  year that has books of the genre gets a winner and up to five nominees among them
  (a quarter of them at most);
- **lists**: "List of science fiction novels" (about half of the genre's books, at
  most 600) and "List of American novels of the 1990s" (60-100% of the books of a
  country and decade with at least 8, at most 500);
- **notable books** of a genre: its awards' winners, latest first, then its first
  books, 20 at most.
"""

from __future__ import annotations

import collections
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from wikirec.synth.names import book_info, valid_title
from wikirec.synth.tables import COUNTRIES

if TYPE_CHECKING:
    from wikirec.synth.plan import Plan

AWARD_MIN_BOOKS = 20  # a genre with fewer books has no award of its own
GENRE_LIST_SHARE = 0.5
GENRE_LIST_MAX = 600
DECADE_LIST_MIN = 8  # books of a country and decade for it to have a list
DECADE_LIST_MAX = 500
NOTABLE_MAX = 20


@dataclass
class Award:
    title: str
    genre: int
    founded: int
    as_table: bool  # winners in a wikitable, else a list under a heading per year
    alias: str | None = None  # the short name, a redirect to it
    # (year, winner, nominees) of every year it was given
    years: list[tuple[int, int, list[int]]] = field(default_factory=list)


@dataclass
class BookList:
    title: str
    kind: str  # "genre" or "country-decade"
    books: list[int]  # entity indices in page order
    genre: int | None = None
    country: int | None = None
    decade: int | None = None


def plan_awards(plan: Plan, rng: np.random.Generator) -> list[Award]:
    """Awards of every genre with :data:`AWARD_MIN_BOOKS` books or more, their winners
    and nominees (recorded on the entities as ``(award, year, won)``)."""
    by_genre_year: dict[tuple[int, int], list[int]] = collections.defaultdict(list)
    for i, e in enumerate(plan.entities):
        by_genre_year[e.genre, e.year].append(i)
    n_genre_books = collections.Counter(e.genre for e in plan.entities)
    surnames = sorted({name.split()[-1] for name in book_info()[1]})
    noun = plan.profile.noun.capitalize()
    awards: list[Award] = []
    for g in sorted(n_genre_books):
        if n_genre_books[g] < AWARD_MIN_BOOKS:
            continue
        n_awards = 1 + (n_genre_books[g] >= 300) + (n_genre_books[g] >= 1500)
        for pattern in range(n_awards):
            surname = surnames[int(rng.integers(len(surnames)))]
            title, alias = (
                (f"{surname} Award for Best {noun}", f"{surname} Award"),
                (f"{surname} Memorial Award", f"{surname} Award"),
                (f"{surname} Prize", f"The {surname} Prize"),
            )[pattern]
            if not (valid_title(title) and plan.claim(title)):
                continue
            founded = int(rng.integers(1950, 1996))
            award = Award(title, g, founded, as_table=rng.random() < 0.6)
            if valid_title(alias) and plan.claim(alias):
                award.alias = alias
            award.years = _winners(plan, rng, len(awards), award, by_genre_year)
            awards.append(award)
    return awards


def _winners(
    plan: Plan, rng: np.random.Generator, index: int, award: Award, by_genre_year: dict
) -> list[tuple[int, int, list[int]]]:
    years = []
    for year in range(award.founded, 2018):
        candidates = by_genre_year.get((award.genre, year), [])
        if not candidates:
            continue  # no book of the genre that year: "no award"
        # Most books of a year are not nominated: a quarter of them at most.
        k = min(math.ceil(len(candidates) / 4), 1 + int(rng.integers(0, 5)))
        picked = [candidates[i] for i in rng.choice(len(candidates), k, replace=False).tolist()]
        years.append((year, picked[0], picked[1:]))
        plan.entities[picked[0]].awards.append((index, year, True))
        for b in picked[1:]:
            plan.entities[b].awards.append((index, year, False))
    return years


def plan_lists(plan: Plan, rng: np.random.Generator) -> list[BookList]:
    """The genre lists and the country-and-decade lists (recorded on the entities)."""
    p = plan.profile
    lists: list[BookList] = []
    by_genre: dict[int, list[int]] = collections.defaultdict(list)
    by_decade: dict[tuple[int, int], list[int]] = collections.defaultdict(list)
    for i, e in enumerate(plan.entities):
        by_genre[e.genre].append(i)
        by_decade[e.country, e.year // 10 * 10].append(i)
    for g in sorted(by_genre):
        genre = plan.genres[g]
        assert genre is not None
        spec = genre.spec
        title = f"List of {spec.adjective} {p.category_noun}"
        books = _sample(rng, by_genre[g], GENRE_LIST_SHARE, GENRE_LIST_MAX)
        if len(books) >= 5 and valid_title(title) and plan.claim(title):
            lists.append(BookList(title, "genre", _by_year(plan, books), genre=g))
    for country, decade in sorted(by_decade):
        members = by_decade[country, decade]
        if len(members) < DECADE_LIST_MIN:
            continue
        demonym = COUNTRIES[country].demonym
        title = f"List of {demonym} {p.category_noun} of the {decade}s"
        books = _sample(rng, members, 0.6 + 0.4 * rng.random(), DECADE_LIST_MAX)
        if valid_title(title) and plan.claim(title):
            kept = _by_year(plan, books)
            lists.append(BookList(title, "country-decade", kept, country=country, decade=decade))
    for number, book_list in enumerate(lists):
        for b in book_list.books:
            plan.entities[b].lists.append(number)
    return lists


def _sample(rng: np.random.Generator, books: list[int], share: float, most: int) -> list[int]:
    """About ``share`` of ``books``, at most ``most`` of them, in their order."""
    chosen = [b for b, u in zip(books, rng.random(len(books)).tolist(), strict=True) if u < share]
    if len(chosen) > most:
        keep = np.sort(rng.choice(len(chosen), most, replace=False)).tolist()
        chosen = [chosen[i] for i in keep]
    return chosen


def _by_year(plan: Plan, books: list[int]) -> list[int]:
    return sorted(books, key=lambda b: (plan.entities[b].year, plan.entities[b].title))


def notable_books(plan: Plan, awards: list[Award]) -> dict[int, list[int]]:
    """Each genre's notable books: its awards' winners, latest first, then its first
    books, at most :data:`NOTABLE_MAX`."""
    notable: dict[int, dict[int, None]] = collections.defaultdict(dict)
    for award in awards:
        for _, winner, _ in reversed(award.years):
            notable[award.genre].setdefault(winner, None)
    for i, e in enumerate(plan.entities):
        if len(notable[e.genre]) < NOTABLE_MAX:
            notable[e.genre].setdefault(i, None)
    return {g: list(books)[:NOTABLE_MAX] for g, books in notable.items()}
