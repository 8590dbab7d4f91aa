"""The plan of a dump: which entities, people and topics exist, how they relate, and
which page goes in which slot.

:class:`Plan` draws everything from the plan's random stream, in this order: the
filler-title space, the authors and their books (genre, country, publisher, year,
size), the genres' topic pools, each author's pet topics and each entity's topics, the
series, the planted redirects (alternative names), then the layout: the namespace
pages, how many filler articles and redirects meet the byte budget, the slot of every
planted page among them, and the contributors of the ``<revision>`` metadata. Nothing
here writes wikitext; the plan keeps one byte per page slot plus the (small) planted
structure.
"""

from __future__ import annotations

import collections
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from wikirec.synth.inlinks import notable_books, plan_awards, plan_lists
from wikirec.synth.names import (
    book_info,
    made_up_author,
    made_up_title,
    person_variants,
    strip_disambiguation,
    title_variants,
    valid_title,
)
from wikirec.synth.options import GeneratorOptions
from wikirec.synth.pagexml import contributors, edit_comments
from wikirec.synth.tables import (
    COUNTRIES,
    GENRES,
    SHARED_TOPICS,
    SITEINFO,
    US_STUDIOS,
    GenreSpec,
    generic_pages,
    profile_for,
)
from wikirec.synth.text import TitleSpace, mix, streams, vocabulary
from wikirec.titles import canonical_template_name

# Expected XML bytes of the page kinds, used to size the plan (measured on generated
# dumps; the top-up at the end absorbs the error).
REDIRECT_XML = 645
FILLER_XML = 5600
ENTITY_XML = 10900
AUTHOR_XML = 3900
CORE_XML = 3000
INLINK_PAGE_XML = 3000  # an award or list page, without its entries
INLINK_ENTRY_XML = 75  # a book named on an award or list page

# The namespaces of the planted pages that are not articles.
NAMESPACE_OF = {"category": 14, "template": 10, "project": 4}

# Slot kinds of the layout; a filler page of the k-th of ``namespace_pages`` is
# NAMESPACE_FILLER + k.
FILLER_ARTICLE, FILLER_REDIRECT, PLANTED, NAMESPACE_FILLER = 0, 1, 2, 3


@dataclass
class Entity:
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
    awards: list[tuple[int, int, bool]] = field(default_factory=list)  # (award, year, won)
    lists: list[int] = field(default_factory=list)  # the list pages that name it


@dataclass
class Author:
    title: str
    genre: int
    country: int
    publisher: str
    born: int
    topics: list[str]
    books: list[int] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)


@dataclass
class Series:
    title: str
    author: int
    genre: int
    books: list[int]


@dataclass
class Genre:
    title: str
    spec: GenreSpec
    category: str
    topics: list[str]
    weights: np.ndarray
    aliases: list[str] = field(default_factory=list)


class Plan:
    """Everything a dump will hold, before any wikitext is written.

    ``core`` lists the planted pages as ``(kind, payload)``; ``kinds`` gives each page
    slot's kind (:data:`FILLER_ARTICLE`, :data:`FILLER_REDIRECT` or :data:`PLANTED`),
    ``core_order`` the planted page of each planted slot in turn."""

    def __init__(self, options: GeneratorOptions) -> None:
        self.o = options
        rng = np.random.default_rng(streams(options.seed).plan)
        self.space = TitleSpace(vocabulary()[2], rng)
        self.profile = profile_for(options.template, options.template_aliases)
        self.generic = generic_pages("film" if self.profile.key == "film" else "book")
        self.template = canonical_template_name(options.template)
        self.titles: set[str] = set()  # every planned title, with its namespace prefix
        self.alias_of: dict[str, str] = {}  # planted redirect -> target
        self.redirects: list[tuple[str, str, int]] = []
        self.core: list[tuple] = []  # (kind, payload) of every planned non-filler page
        self._spreads: dict[int, int] = {}
        self._plan_names(rng, self._n_books())
        self.entity_by_title = {e.title: i for i, e in enumerate(self.entities)}
        self._plan_inlinks(np.random.default_rng(streams(options.seed).inlinks))
        self._plan_pages(rng)

    def _n_books(self) -> int:
        o = self.o
        if o.n_books is not None:
            return o.n_books
        rf = o.redirect_fraction
        mean_page = rf * REDIRECT_XML + (1 - rf) * FILLER_XML
        n_books = round(o.book_page_fraction * o.xml_bytes / mean_page)
        return max(n_books, 1) if o.book_page_fraction > 0 else n_books

    def claim(self, title: str) -> bool:
        if title in self.titles:
            return False
        self.titles.add(title)
        return True

    # ------------------------------------------------------------------ names

    def _reserve_fixed(self) -> dict[str, str]:
        """Claim every fixed name (generic pages, genres, countries, languages, publishers,
        topics) before any book or author name, so that none of them is lost."""
        film = self.profile.key == "film"
        kinds: dict[str, str] = {}
        names: list[tuple[str, str]] = [(t, "generic") for t, _, _ in self.generic]
        names.append((self.profile.creator_generic, "generic"))
        names += [(g.film if film else g.book, "genre") for g in GENRES]
        names += [(c.title, "country") for c in COUNTRIES]
        names += [(c.language, "language") for c in COUNTRIES]
        for c in COUNTRIES:
            names += [(h, "publisher") for h in (c.studios if film else c.publishers)]
        names += [(h, "publisher") for h in (US_STUDIOS if film else ())]
        names += [(t, "topic") for t in SHARED_TOPICS]
        names += [(t, "topic") for g in GENRES for t in g.seeds]
        for title, kind in names:
            if title not in kinds:
                kinds[title] = kind
                self.claim(title)
        return kinds

    def _plan_names(self, rng: np.random.Generator, n_books: int) -> None:
        fixed = self._reserve_fixed()
        self.creator_page = self.profile.creator_generic
        self._plan_authors_and_books(rng, n_books)
        self._plan_genres(rng, fixed)
        self._plan_topics(rng)
        self._plan_series(rng)
        self._plan_houses()
        self._plan_aliases(rng)

    def _plan_authors_and_books(self, rng: np.random.Generator, n_books: int) -> None:
        p = self.profile
        real_titles, real_authors, _ = book_info()
        sizes: list[int] = []
        total = 0
        while total < n_books:
            sizes.append(min(1 + int(rng.pareto(1.5) * 0.5), 40, n_books - total))
            total += sizes[-1]
        author_names = self._names(rng, real_authors, len(sizes), made_up_author)
        book_titles = self._names(rng, real_titles, n_books, made_up_title)
        if p.key == "film":
            book_titles = [self._film_title(t) for t in book_titles]

        genre_weights = 1.0 / np.arange(1, len(GENRES) + 1) ** 0.8
        genre_weights = genre_weights[rng.permutation(len(GENRES))]
        genre_weights /= genre_weights.sum()
        country_weights = np.array([c.weight for c in COUNTRIES])
        country_weights /= country_weights.sum()

        mean_born, oldest = (1950, 1880) if p.key == "film" else (1940, 1800)
        born_years = np.clip(rng.normal(mean_born, 25, size=len(sizes)), oldest, 1993).astype(int)
        born_years = born_years.tolist()
        self.authors: list[Author] = []
        self.entities: list[Entity] = []
        self.used_genres: dict[int, None] = {}
        next_book = 0
        for name, size in zip(author_names, sizes, strict=True):
            genre = int(rng.choice(len(GENRES), p=genre_weights))
            country = int(rng.choice(len(COUNTRIES), p=country_weights))
            houses = self.houses(country)
            author = Author(
                title=name,
                genre=genre,
                country=country,
                publisher=houses[int(rng.integers(len(houses)))],
                born=born_years[len(self.authors)],
                topics=[],
            )
            self.authors.append(author)
            self.used_genres[genre] = None
            year = min(author.born + int(rng.integers(22, 45)), 2017)
            if p.key == "film":
                year = max(year, 1915)
            for _ in range(size):
                book_genre = genre
                if rng.random() >= 0.85:
                    book_genre = int(rng.choice(len(GENRES), p=genre_weights))
                self.used_genres[book_genre] = None
                publisher = author.publisher
                if rng.random() >= 0.75:
                    publisher = houses[int(rng.integers(len(houses)))]
                size_bytes = int(np.clip(np.exp(rng.normal(math.log(9000), 0.5)), 5000, 40000))
                self.entities.append(
                    Entity(
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

    def _plan_genres(self, rng: np.random.Generator, fixed: dict[str, str]) -> None:
        """Each used genre's pool of topic articles and its Zipf-like weights."""
        p = self.profile
        n_genre_books = collections.Counter(e.genre for e in self.entities)
        self.genres: list[Genre | None] = [None] * len(GENRES)
        next_topic = 0
        self.topic_genres: dict[str, list[int]] = {t: [] for t in SHARED_TOPICS}
        shared = list(SHARED_TOPICS)
        for g in sorted(self.used_genres):
            spec = GENRES[g]
            title = spec.film if p.key == "film" else spec.book
            if self.o.topics_per_book is None:
                k = int(np.clip(round(8 + 4 * math.sqrt(n_genre_books[g])), 10, 60))
            else:
                k = max(10, round(self.o.topics_per_book * n_genre_books[g]))
            pool: list[str] = []
            for i in rng.permutation(len(spec.seeds)).tolist():
                if fixed.get(spec.seeds[i]) == "topic" and spec.seeds[i] not in pool:
                    pool.append(spec.seeds[i])
            while len(pool) < k:
                t = self.space.title(next_topic)
                next_topic += 1
                if self.claim(t):
                    pool.append(t)
            pool = pool[:k]
            for i in rng.choice(len(shared), size=4, replace=False).tolist():
                if shared[i] not in pool:
                    pool.append(shared[i])
            for t in pool:
                self.topic_genres.setdefault(t, []).append(g)
            weights = 1.0 / np.arange(1, len(pool) + 1) ** self.o.topic_zipf
            weights /= weights.sum()
            category = f"Category:{spec.stem} {p.category_noun}"
            self.genres[g] = Genre(title, spec, category, pool, weights)
        self.topics_reserved = next_topic
        self.topic_titles = list(self.topic_genres)

    def _plan_topics(self, rng: np.random.Generator) -> None:
        """Authors' pet topics and every entity's planted topics."""
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
            if self.o.entity_links:
                e.extra += lognormal_count(rng, self.o.entity_links)
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

    def _plan_series(self, rng: np.random.Generator) -> None:
        """Series: runs of consecutive books by one author."""
        self.series: list[Series] = []
        for a, author in enumerate(self.authors):
            n = len(author.books)
            if n < 2 or rng.random() > (0.5 if n >= 3 else 0.25):
                continue
            length = int(rng.integers(2, min(n, 7) + 1))
            start = int(rng.integers(0, n - length + 1))
            books = author.books[start : start + length]
            base = strip_disambiguation(self.entities[books[0]].title)
            base = base[4:] if base.startswith("The ") and len(base) > 6 else base
            word = "trilogy" if length == 3 and rng.random() < 0.5 else "series"
            title = None
            for candidate in (
                f"{base} {word}",
                f"{base} ({word})",
                f"{base} {word} ({author.title})",
            ):
                if valid_title(candidate) and self.claim(candidate):
                    title = candidate
                    break
            if title is None:
                continue
            s = len(self.series)
            self.series.append(Series(title, a, self.entities[books[0]].genre, books))
            for i, b in enumerate(books):
                e = self.entities[b]
                e.series, e.position = s, i
                e.prev = self.entities[books[i - 1]].title if i else None
                e.next = self.entities[books[i + 1]].title if i + 1 < length else None

    def _plan_houses(self) -> None:
        """Countries, languages, publishers: only those used get a page."""
        self.country_pages = sorted({a.country for a in self.authors})
        self.language_pages = sorted({COUNTRIES[c].language for c in self.country_pages})
        publishers: dict[str, None] = {}
        for author in self.authors:
            publishers[author.publisher] = None
        for e in self.entities:
            publishers[e.publisher] = None
        self.publisher_pages = list(publishers)

    def _plan_aliases(self, rng: np.random.Generator) -> None:
        """Planted redirects: alternative names of entities, authors, genres, generic
        pages."""
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
                if valid_title(alias) and self.claim(alias):
                    genre.aliases.append(alias)
                    self._plan_redirect(alias, genre.title)
        self.generic_aliases: dict[str, list[str]] = {}
        for title, _, aliases in self.generic:
            self.generic_aliases[title] = []
            for alias in aliases:
                if self.claim(alias):
                    self.generic_aliases[title].append(alias)
                    self._plan_redirect(alias, title)

    def houses(self, country: int) -> tuple[str, ...]:
        """The publishers (film studios for films) of ``country``."""
        spec = COUNTRIES[country]
        if self.profile.key == "film":
            return spec.studios or US_STUDIOS
        return spec.publishers

    def _names(
        self,
        rng: np.random.Generator,
        real: Sequence[str],
        n: int,
        made_up: Callable[[np.random.Generator], str],
    ) -> list[str]:
        """``n`` distinct unclaimed names: real ones in random order, then made-up ones."""
        out: list[str] = []
        if n == 0:
            return out
        order = rng.permutation(len(real)).tolist()
        for i in order:
            if len(out) == n:
                return out
            if self.claim(real[i]):
                out.append(real[i])
        while len(out) < n:
            name = made_up(rng)
            if valid_title(name) and self.claim(name):
                out.append(name)
        return out

    def _film_title(self, title: str) -> str:
        base = strip_disambiguation(title)
        if base != title:
            candidate = f"{base} (film)"
            if valid_title(candidate) and self.claim(candidate):
                self.titles.discard(title)
                return candidate
        return title

    def _title_aliases(
        self, rng: np.random.Generator, title: str, p_one: float, p_two: float
    ) -> list[str]:
        x = rng.random()
        n = 2 if x < p_two else 1 if x < p_one else 0
        if n == 0:
            return []
        candidates = title_variants(title, film=self.profile.key == "film")
        out = []
        for i in rng.permutation(len(candidates)).tolist():
            alias = candidates[i]
            if alias != title and valid_title(alias) and self.claim(alias):
                out.append(alias)
                if len(out) == n:
                    break
        return out

    def _person_aliases(self, rng: np.random.Generator, name: str, p_one: float) -> list[str]:
        if rng.random() >= p_one:
            return []
        candidates = person_variants(name)
        for i in rng.permutation(len(candidates)).tolist():
            alias = candidates[i]
            if alias != name and valid_title(alias) and self.claim(alias):
                return [alias]
        return []

    def _plan_redirect(self, source: str, target: str, ns: int = 0) -> None:
        """A planted redirect (its title already claimed)."""
        self.alias_of[source] = target
        self.redirects.append((source, target, ns))
        self.core.append(("redirect", (source, target, ns)))

    def _plan_inlinks(self, rng: np.random.Generator) -> None:
        """Awards (with a redirect from each one's short name), lists, notable books."""
        self.awards = plan_awards(self, rng)
        for award in self.awards:
            if award.alias is not None:
                self._plan_redirect(award.alias, award.title)
        self.lists = plan_lists(self, rng)
        self.notable = notable_books(self, self.awards)

    # ------------------------------------------------------------------ layout

    def _plan_pages(self, rng: np.random.Generator) -> None:
        core = self.core
        core += [("entity", i) for i in range(len(self.entities))]
        core += [("author", i) for i in range(len(self.authors))]
        core += [("series", i) for i in range(len(self.series))]
        core += [("genre", i) for i, g in enumerate(self.genres) if g is not None]
        core += [("award", i) for i in range(len(self.awards))]
        core += [("list", i) for i in range(len(self.lists))]
        core += [("topic", t) for t in self.topic_titles]
        core += [("country", c) for c in self.country_pages]
        core += [("language", t) for t in self.language_pages]
        core += [("publisher", t) for t in self.publisher_pages]
        core += [("generic", t) for t, _, _ in self.generic]
        if self.creator_page not in {t for t, _, _ in self.generic}:
            core.append(("generic", self.creator_page))
        self._plan_namespace_pages()
        self.core_plain = (
            self.topic_titles
            + [COUNTRIES[c].title for c in self.country_pages]
            + self.language_pages
            + self.publisher_pages
            + [a.title for a in self.authors]
            + [g.title for g in self.genres if g is not None]
        )
        if not self.core_plain:
            self.core_plain = [t for t, _, _ in self.generic]
        self._plan_slots(rng)
        self.salt = int(rng.integers(1 << 62))
        self.first_page_id = 10 + int(rng.integers(0, 5))
        self.users = contributors(rng, self.space.words)
        self.comments = edit_comments(rng, self.space)

    def _plan_namespace_pages(self) -> None:
        """Category, template and project pages (one of them the infobox template with a
        usage example: a trap for parsers that ignore ``<ns>``)."""
        p = self.profile
        core = self.core
        categories = [g.category for g in self.genres if g is not None]
        categories.append(f"Category:{p.noun.capitalize()}s by genre")
        for c in categories:
            if self.claim(c):
                core.append(("category", c))
        template_page = "Template:" + self.template
        self.claim(template_page)
        core.append(("template", template_page))
        for alias in p.aliases:
            page = "Template:" + canonical_template_name(alias)
            if self.claim(page):
                self._plan_redirect(page, template_page, ns=10)
        for name in ("Template:Reflist", "Template:Cite web", "Template:" + p.person_infobox):
            if self.claim(name):
                core.append(("template", name))
        for name in (
            "Wikipedia:WikiProject Books",
            "Wikipedia:WikiProject Novels",
            "Wikipedia:WikiProject Film",
            "Wikipedia:Manual of Style",
        ):
            if self.claim(name):
                core.append(("project", name))

    def _plan_slots(self, rng: np.random.Generator) -> None:
        """Filler counts that meet the byte budget and the redirect fraction together (or
        the counts of ``articles``), and the slot of every page."""
        if self.o.articles is not None:
            self._plan_counted_slots(rng)
            return
        rf = self.o.redirect_fraction
        core = self.core
        n_core = len(core)
        n_core_redirects = sum(1 for kind, _ in core if kind == "redirect")
        n_inlink_pages = len(self.awards) + len(self.lists)
        n_other = n_core - len(self.entities) - len(self.authors) - n_core_redirects
        core_bytes = (
            len(self.entities) * ENTITY_XML
            + len(self.authors) * AUTHOR_XML
            + n_core_redirects * REDIRECT_XML
            + (n_other - n_inlink_pages) * CORE_XML
            + n_inlink_pages * INLINK_PAGE_XML
            + self._n_inlink_entries() * INLINK_ENTRY_XML
        )
        budget = 0.98 * self.o.xml_bytes - len(SITEINFO) - core_bytes
        ratio = rf / (1 - rf)
        n_articles = (budget - REDIRECT_XML * (rf * n_core - n_core_redirects) / (1 - rf)) / (
            FILLER_XML + REDIRECT_XML * ratio
        )
        n_articles = max(0, int(n_articles))
        n_redirects = max(0, round((rf * (n_core + n_articles) - n_core_redirects) / (1 - rf)))
        n_fillers = n_articles + n_redirects
        total = n_core + n_fillers
        kinds = np.zeros(total, dtype=np.uint8)
        filler_kinds = np.zeros(n_fillers, dtype=np.uint8)
        filler_kinds[rng.choice(n_fillers, size=n_redirects, replace=False)] = FILLER_REDIRECT
        core_slots = rng.choice(total, size=n_core, replace=False)
        mask = np.zeros(total, dtype=bool)
        mask[core_slots] = True
        kinds[mask] = PLANTED
        kinds[~mask] = filler_kinds
        self.kinds = kinds
        self.core_order = rng.permutation(n_core).astype(np.int32)
        self.n_fillers = n_fillers
        self.filler_articles = np.flatnonzero(filler_kinds == FILLER_ARTICLE).astype(np.int64)

    def _plan_counted_slots(self, rng: np.random.Generator) -> None:
        """The slots of a dump sized by counts: the filler articles, redirects and
        namespace pages that, with the planted ones, make the counts asked for."""
        o = self.o
        n_core = len(self.core)
        # What is planted already counts: articles by namespace, and redirects in ns 0
        # (in other namespaces, the template aliases, they count as that namespace's).
        core_ns = collections.Counter(
            NAMESPACE_OF.get(kind, 0) for kind, _ in self.core if kind != "redirect"
        )
        core_redirects = 0
        for _, _, ns in self.redirects:
            core_redirects += ns == 0
            core_ns[ns] += ns != 0
        wanted = [max(0, o.articles - core_ns[0]), max(0, o.redirects - core_redirects)]
        wanted += [max(0, n - core_ns[ns]) for ns, n, _ in o.namespace_pages]
        filler_kinds = np.repeat(
            np.array([FILLER_ARTICLE, FILLER_REDIRECT]
                     + [NAMESPACE_FILLER + k for k in range(len(o.namespace_pages))], np.uint8),
            wanted,
        )  # fmt: skip
        rng.shuffle(filler_kinds)
        total = n_core + len(filler_kinds)
        kinds = np.empty(total, dtype=np.uint8)
        mask = np.zeros(total, dtype=bool)
        mask[rng.choice(total, size=n_core, replace=False)] = True
        kinds[mask] = PLANTED
        kinds[~mask] = filler_kinds
        self.kinds = kinds
        self.core_order = rng.permutation(n_core).astype(np.int32)
        self.n_fillers = len(filler_kinds)
        self.filler_articles = np.flatnonzero(filler_kinds == FILLER_ARTICLE).astype(np.int64)
        if o.block_pages:
            starts = np.arange(0, total, o.block_pages)
            planted = np.add.reduceat(mask, starts) if total else np.zeros(0, np.int64)
            self.block_core = np.concatenate([[0], np.cumsum(planted)]).astype(np.int64)

    def _n_inlink_entries(self) -> int:
        """Books named on the award and list pages."""
        entries = sum(len(b.books) for b in self.lists)
        return entries + sum(1 + len(n) for a in self.awards for _, _, n in a.years)

    # ------------------------------------------------------------------ lookups

    def entity_index(self, title: str) -> int:
        return self.entity_by_title[title]

    def genre_title(self, g: int) -> str | None:
        genre = self.genres[g]
        return genre.title if genre is not None else None

    def filler_title(self, f: int) -> str:
        """The title of filler page ``f`` (also of made-up link targets past the last)."""
        title = self.space.title(self.topics_reserved + f)
        if title in self.titles:
            title = f"{title} (concept)"
            if title in self.titles:
                title = f"{title[:-10]} ({f})"
        return title

    def popular_article(self, u: float, alpha: float | None = None) -> str:
        """The filler article of popularity rank r drawn from ``u`` (uniform in [0, 1)),
        ranks weighted ``r ** -alpha`` (default ``link_zipf``); ranks are spread over
        the articles by a fixed bijection, so the popular ones are anywhere in the dump."""
        if not len(self.filler_articles):
            return self.core_plain[int(u * len(self.core_plain))]
        return self.filler_title(int(self.popular_articles(np.array([u]), alpha)[0]))

    def popular_articles(self, u: np.ndarray, alpha: float | None = None) -> np.ndarray:
        """:meth:`popular_article` of each draw in ``u``, as filler indices."""
        n = len(self.filler_articles)
        if not n:
            return np.zeros(len(u), np.int64)
        ranks = zipf_ranks(u, n, self.o.link_zipf or 0.0 if alpha is None else alpha)
        return self.filler_articles[(ranks * self._spread(n)) % n]

    def filler_titles(self, fillers: np.ndarray) -> list[str]:
        """:meth:`filler_title` of each index, made at once."""
        titles = self.space.titles(self.topics_reserved + fillers)
        clash = self.titles
        return [
            self.filler_title(f) if t in clash else t
            for t, f in zip(titles, fillers.tolist(), strict=True)
        ]

    def popular_entity(self, u: float) -> int:
        """An entity index of popularity rank drawn from ``u``, weighted
        ``r ** -mention_zipf`` (uniform without it)."""
        n = len(self.entities)
        rank = int(zipf_ranks(np.array([u]), n, self.o.mention_zipf or 0.0)[0])
        return (rank * self._spread(n) + self.salt) % n

    def _spread(self, n: int) -> int:
        """A multiplier coprime with ``n``: rank -> index is then a bijection."""
        if n not in self._spreads:
            a = (self.salt | 1) % n or 1
            while math.gcd(a, n) != 1:
                a += 1
            self._spreads[n] = a
        return self._spreads[n]

    def redirect_target(self, f: int) -> str:
        """Where filler redirect ``f`` points: a filler article mostly, else a planted
        page (a fixed hash of ``f``, so no random draw)."""
        h = mix(self.salt ^ f)
        if h % 100 < 85 and len(self.filler_articles):
            return self.filler_title(
                int(self.filler_articles[(h // 100) % len(self.filler_articles)])
            )
        return self.core_plain[(h // 100) % len(self.core_plain)]


def zipf_ranks(u: np.ndarray, n: int, alpha: float) -> np.ndarray:
    """The ranks in [0, n) that the uniform draws ``u`` give when rank r (from 1) has
    weight ``r ** -alpha``: the inverse of the continuous power law's distribution."""
    if alpha == 1.0:
        r = (n + 1.0) ** u
    else:
        e = 1.0 - alpha
        r = (((n + 1.0) ** e - 1.0) * u + 1.0) ** (1.0 / e)
    return np.clip(r.astype(np.int64) - 1, 0, n - 1)


def lognormal_count(rng: np.random.Generator, mean: float, sigma: float = 0.9) -> int:
    """A count of mean about ``mean``, lognormal of ``sigma``, as links per page are."""
    return int(round(mean * math.exp(sigma * rng.standard_normal() - sigma * sigma / 2)))
