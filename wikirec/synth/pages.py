"""The wikitext of each kind of page: filler articles, the entity pages (books, films)
and the pages of the planted structure (authors, series, genres, awards, lists, topics,
countries, publishers, generic pages) and of the other namespaces (categories,
templates, project pages).

Every page that names books (bibliographies, series, awards, lists, genres' notable
works, the odd filler article) names each through :meth:`PageTexts.book_link`, as real
pages do: mostly ``''[[Title]]''``, sometimes a redirect name or ``[[Title|label]]``.
Each ``*_text`` method of :class:`PageTexts` returns one page's wikitext; the entity
page also returns what its truth records (the template as written, every link in page
order, the categories).
"""

from __future__ import annotations

import math

from wikirec.synth.inlinks import Award
from wikirec.synth.names import strip_disambiguation
from wikirec.synth.plan import Author, Entity, Series
from wikirec.synth.tables import (
    CAPTIONS,
    COUNTRIES,
    HEADINGS,
    MONTHS,
    NAMESPACE_NAMES,
    ORDINALS,
)
from wikirec.synth.wikitext import Wikitext, bold_lead
from wikirec.titles import canonical_template_name


class PageTexts(Wikitext):
    """The wikitext of every kind of page of a plan."""

    def filler_text(self, title: str, mentioned: list[str]) -> str:
        """A filler article; the books it mentions (now and then one or two, as any
        article may) are appended to ``mentioned``."""
        if self.o.article_links is not None:
            return self.counted_filler_text(title, mentioned)
        r = self.rand
        size = int(min(max(math.exp(self.normal() * 0.9 + math.log(2900)), 200), 60000))
        parts: list[str] = []
        if r.random() < 0.12:
            parts.append(f"{{{{Use dmy dates|date={r.pick(MONTHS)} {2008 + r.below(10)}}}}}\n")
        if r.random() < self.o.other_infobox_fraction:
            parts.append(self.other_infobox(title))
        lead = min(size * 0.3, 700.0)
        parts.append(bold_lead(title, self.prose_with_links(lead, 0.7)))
        parts += self.mention(mentioned)
        length = sum(len(p) for p in parts)
        refs = 0
        while length < size:
            x = r.random()
            if x < 0.3:
                piece = f"\n\n== {r.pick(HEADINGS)} ==\n"
            elif x < 0.36:
                piece = f"\n\n=== {r.pick(HEADINGS)} ===\n"
            elif x < 0.44:
                items = [
                    f"\n* {self.link(self.filler_target(), None)} "
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
                refs_here = self.refs(n)
                refs += len(refs_here)
                piece = "\n\n" + self.prose_with_links(n, 1.0, refs_here)
            parts.append(piece)
            length += len(piece)
        if refs:
            parts.append("\n\n== References ==\n{{Reflist}}\n")
        if r.random() < 0.4:
            parts.append(
                f"\n== External links ==\n* [{self.url()} {self.prose.phrase(2 + r.below(3))}]\n"
            )
        cats = [
            self.plan.filler_title(r.below(max(self.plan.n_fillers, 1)) + 10**6)
            for _ in range(1 + r.below(4))
        ]
        parts.append("\n" + self.categories(cats, None))
        return "".join(parts)

    def mention(self, mentioned: list[str]) -> list[str]:
        """Now and then (``mention_share`` of the articles) a paragraph naming a book or
        two, appended to ``mentioned``."""
        r = self.rand
        entities = self.plan.entities
        if not entities or r.random() >= self.o.mention_share:
            return []
        if self.o.mention_zipf is None:
            picks = dict.fromkeys(r.below(len(entities)) for _ in range(1 + r.below(2)))
        else:
            picks = dict.fromkeys(
                self.plan.popular_entity(r.random()) for _ in range(1 + r.below(2))
            )
        links = [self.book_link(entities[b]) for b in picks]
        mentioned += [entities[b].title for b in picks]
        return ["\n\n" + self.prose.paragraph(200 + r.below(400), links)]

    def counted_filler_text(self, title: str, mentioned: list[str]) -> str:
        """A filler article of a dump shaped by counts: lognormal size (``article_bytes``,
        ``article_sigma``) and, whatever the size, a lognormal number of links
        (``article_links`` on average) spread over its paragraphs and lists."""
        r, o = self.rand, self.o
        lo, hi = 50 * o.article_bytes / 2900, 60000 * o.article_bytes / 2900
        size = min(max(math.exp(self.normal() * o.article_sigma) * o.article_bytes, lo), hi)
        n_links = max(0, round(o.article_links * math.exp(0.9 * self.normal() - 0.405)))
        links = [self.link(self.filler_target(), None) for _ in range(n_links)]
        parts: list[str] = []
        if r.random() < self.o.other_infobox_fraction:
            parts.append(self.other_infobox(title))
        lead = min(size * 0.3, 700.0)
        take = _share(len(links), lead / size)
        parts.append(bold_lead(title, self.prose.paragraph(lead, links[:take])))
        links = links[take:]
        parts += self.mention(mentioned)
        left = size - lead
        while left > 0 or links:
            n = 250 + r.below(1000) if left > 0 else 60
            if r.random() < 0.15 and links:
                k = min(len(links), 2 + r.below(6))
                items = "".join(f"\n* {link} " + self.prose.phrase(2 + r.below(4), False)
                                for link in links[:k])  # fmt: skip
                piece = f"\n\n== {r.pick(HEADINGS)} ==\n" + items
            else:
                k = _share(len(links), n / left) if left > n else len(links)
                piece = f"\n\n== {r.pick(HEADINGS)} ==\n" + self.prose.paragraph(
                    n, links[:k], self.refs(n)
                )
            links = links[k:]
            parts.append(piece)
            left -= len(piece)
        cats = [
            self.plan.filler_title(r.below(max(self.plan.n_fillers, 1)) + 10**6)
            for _ in range(1 + r.below(7))
        ]
        parts.append("\n\n== References ==\n{{Reflist}}\n\n" + self.categories(cats, None))
        return "".join(parts)

    def namespace_filler_text(self, ns: int, title: str, mean_bytes: int) -> str:
        """A page of another namespace (category, file, template, project page, draft,
        module, ...), of ``mean_bytes`` of wikitext on average."""
        r = self.rand
        size = max(mean_bytes * math.exp(0.8 * self.normal() - 0.32), 40.0)
        name = title.split(":", 1)[1]
        if ns == 14:
            parents = [self.plan.filler_title(r.below(max(self.plan.n_fillers, 1)) + 10**6)
                       for _ in range(1 + r.below(3))]  # fmt: skip
            return (f"{{{{Commons category|{name}}}}}\n" + self.prose.paragraph(size * 0.5)
                    + "\n\n" + self.categories(parents, None))  # fmt: skip
        if ns == 6:
            return (
                "== Summary ==\n{{Information\n|description=" + self.prose.paragraph(size * 0.4)
                + f"\n|source={{{{own work}}}}\n|date={self.date()}\n|author={self.person()}"
                + "\n}}\n== Licensing ==\n{{self|cc-by-sa-4.0}}\n"
            )  # fmt: skip
        if ns == 10:
            n = max(2, int(size / 60))
            items = " • ".join(self.link(self.filler_target(), None, vary=False) for _ in range(n))
            head = f"{{{{Navbox\n| name = {name}\n| title = [[{self.filler_target()}]]\n"
            return f"{head}| list1 = {items}\n}}}}<noinclude>\n{{{{Documentation}}}}\n</noinclude>"
        if ns == 828:
            body = "".join(f'    args["{r.pick(self.plan.space.words)}"] = {r.below(100)}\n'
                           for _ in range(max(1, int(size / 40))))  # fmt: skip
            return (
                f"local p = {{}}\n\nfunction p.main(frame)\n    local args = {{}}\n{body}"
                "    return args\nend\n\nreturn p\n"
            )
        text = self.prose_with_links(size, 0.8, self.refs(size * 0.3))
        if ns == 118 and r.random() < 0.02:  # a draft of a book: never a book page
            text = (
                self.infobox(self.plan.template, [("name", name), ("author", self.person())]) + text
            )
        return text + "\n\n" + self.categories([f"{NAMESPACE_NAMES[ns]} pages"], None)

    def entity_text(self, e: Entity) -> tuple[str, dict]:
        p = self.profile
        r = self.rand
        author = self.plan.authors[e.author]
        genre = self.plan.genres[e.genre]
        assert genre is not None
        country = COUNTRIES[e.country]
        display = strip_disambiguation(e.title)

        # The infobox.
        written = self.template_spelling()
        comment = ""
        if r.random() < 0.25:
            comment = (
                " <!-- See [[Wikipedia:WikiProject_Novels]] or [[Wikipedia:WikiProject_Books]] -->"
            )
        ib: list[str] = []
        fields: list[tuple[str, str]] = [("name", display)]
        if r.random() < 0.85:
            fields.append(("image", f"{display} cover.jpg"))
            fields.append(("caption", r.pick(CAPTIONS)))
        creator = author.title if r.random() > 0.1 or not author.aliases else author.aliases[0]
        if r.random() < 0.93:
            fields.append((p.creator_field, self.link(creator, ib, vary=False)))
        else:
            fields.append((p.creator_field, author.title))
        if r.random() < 0.4:
            fields.append(("cover_artist" if p.key != "film" else "producer", self.person()))
        if r.random() < 0.3:
            fields.append(("country", self.link(country.title, ib, vary=False)))
        else:
            fields.append(("country", country.title))
        lang = strip_disambiguation(country.language).replace(" language", "")
        if r.random() < 0.2:
            fields.append(("language", self.link(country.language, ib, label=lang)))
        else:
            fields.append(("language", lang))
        series = self.plan.series[e.series] if e.series is not None else None
        if series is not None:
            fields.append(("series", self.link(series.title, ib, vary=False)))
        genre_target = genre.title
        if genre.aliases and r.random() < 0.2:
            genre_target = r.pick(genre.aliases)
        if r.random() < 0.92:
            fields.append(("genre", self.link(genre_target, ib, vary=r.random() < 0.5)))
        if r.random() < 0.8:
            fields.append((p.publisher_field, self.link(e.publisher, ib, vary=False)))
        else:
            fields.append((p.publisher_field, e.publisher))
        month = r.pick(MONTHS)
        fields.append((p.date_field, f"{month} {e.year}" if r.random() < 0.5 else str(e.year)))
        if p.key == "film":
            fields.append(("runtime", f"{80 + r.below(80)} minutes"))
            fields.append(("budget", f"${1 + r.below(150)} million"))
        else:
            media = self.media(ib)
            fields.append(("media_type", media))
            fields.append(("pages", str(96 + r.below(800))))
            fields.append(("isbn", self.isbn()))
            if r.random() < 0.5:
                fields.append(("oclc", str(1000000 + r.below(90000000))))
        won = [(a, year) for a, year, winner in e.awards if winner]
        if won:
            awards = [f"{self.award_link(a, ib)} ({year})" for a, year in won]
            fields.append(("awards", "<br />".join(awards)))
        for name, target in (("preceded_by", e.prev), ("followed_by", e.next)):
            if target is not None:
                if r.random() < 0.15:
                    aliases_of = self.plan.entities[self.plan.entity_index(target)].aliases
                    target = aliases_of[0] if aliases_of else target
                fields.append((name, f"''{self.link(target, ib, vary=False)}''"))
        infobox = self.infobox(written, fields, comment)

        # Topic links spread over the sections.
        topics = list(e.topics)
        n_lead = min(len(topics), 1 + r.below(2))
        n_themes = int(len(topics) * 0.25)
        lead_topics = topics[:n_lead]
        theme_topics = topics[n_lead : n_lead + n_themes]
        plot_topics = topics[n_lead + n_themes :]
        plot_topics += [t for t in topics if r.random() < 0.1]  # some linked twice
        plot_noise = [self.noise_target() for _ in range(r.below(3) + e.extra)]

        # Lead.
        lead: list[str] = []  # links in text order
        head = ""
        if r.random() < 0.3:
            head = f"{{{{Use mdy dates|date={r.pick(MONTHS)} {2008 + r.below(10)}}}}}\n"
        genre_link = self.link(genre.title, lead, label=genre.spec.adjective)
        country_link = country.demonym
        if r.random() < 0.6:
            country_link = self.link(country.title, lead, label=country.demonym)
        creator_link = self.link(author.title, lead, vary=False)
        sentence = (
            f"'''''{display}''''' is a {e.year} {genre_link} {p.noun} by {country_link} "
            f"{p.creator_noun} {creator_link}."
        )
        if series is not None:
            ordinal = ORDINALS[min(e.position, 9)]
            sentence += f" It is the {ordinal} book in the {self.link(series.title, lead)}"
            if e.prev is not None:
                sentence += f", following ''{self.link(e.prev, lead, vary=False)}''"
            sentence += "."
        lead_text = (
            sentence
            + " "
            + self.prose.paragraph(
                250 + r.below(600), [self.link(t, lead) for t in lead_topics], self.refs(400)
            )
        )

        # Characters, themes, reception, see also.
        chars: list[str] = []
        characters = "".join(
            f"* '''{self.person()}''' – " + self.prose.paragraph(60 + r.below(200)) + "\n"
            for _ in range(2 + r.below(6))
        )
        themes: list[str] = []
        themes_text = self.prose.paragraph(
            400 + 60 * len(theme_topics),
            [self.link(t, themes) for t in theme_topics],
            self.refs(600),
        )
        reception: list[str] = []
        rec_links = []
        for title, prob, _ in self.plan.generic:
            if prob and r.random() < 0.6 * prob:
                target = title
                if self.plan.generic_aliases.get(title) and r.random() < 0.35:
                    target = r.pick(self.plan.generic_aliases[title])
                rec_links.append(self.link(target, reception, vary=False))
        rec_text = self.prose.paragraph(300 + 120 * len(rec_links), rec_links, self.refs(500))
        if r.random() < 0.5:
            work = "The New York Times"
            if self.plan.generic_aliases.get(work) and r.random() < 0.3:
                work = self.plan.generic_aliases[work][0]
            if work in self.plan.titles:
                work_link = self.link(work, reception, vary=False)
                rec_text += (
                    f"<ref>{{{{cite news|title={self.prose.phrase(4)}|work={work_link}"
                    f"|date={self.date(e.year)}}}}}</ref>"
                )
        honours = [
            f"{'won' if winner else 'was nominated for'} the {self.award_link(a, reception)} "
            f"in {year}"
            for a, year, winner in e.awards
        ]
        if honours:
            rec_text += f" The {p.noun} " + ", and ".join(honours) + "."
        see: list[str] = []
        others = [b for b in author.books if self.plan.entities[b].title != e.title]
        see_text = ""
        if others and r.random() < 0.25:
            picks = [others[r.below(len(others))] for _ in range(min(len(others), 1 + r.below(3)))]
            picks = list(dict.fromkeys(picks))
            see_text = "\n== See also ==\n" + "".join(
                f"* ''{self.link(self.plan.entities[b].title, see, vary=False)}''\n" for b in picks
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
        if author.books and author.books[0] == self.plan.entity_index(e.title) and r.random() < 0.5:
            cats.append(f"Debut {p.category_noun}")
        if r.random() < 0.1:
            cats.append(f"{country.demonym} {p.category_noun} adapted into films")
        cat_links: list[str] = []
        cat_text = self.categories(cats, cat_links)

        # The plot fills the page up to its planned size.
        plot: list[str] = []
        fixed = len(infobox) + len(lead_text) + len(characters) + len(themes_text) + len(rec_text)
        fixed += len(see_text) + len(cat_text) + 300
        plot_chars = max(e.size - fixed, 700)
        n_par = max(1, round(plot_chars / 1100))
        plot_links = [self.link(t, plot) for t in plot_topics]
        plot_links += [self.link(t, plot) for t in plot_noise]
        paragraphs = []
        for i in range(n_par):
            share = plot_links[i * len(plot_links) // n_par : (i + 1) * len(plot_links) // n_par]
            paragraphs.append(
                self.prose.paragraph(plot_chars / n_par, share, self.refs(plot_chars / n_par / 3))
            )
        ext = f"* [{self.url()} Official website]\n" if r.random() < 0.3 else ""
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
            "template": canonical_template_name(written),
            "wikilinks": links,
            "categories": cats,
        }

    def author_text(self, a: Author) -> str:
        p = self.profile
        r = self.rand
        country = COUNTRIES[a.country]
        genre = self.plan.genres[a.genre]
        books = [self.plan.entities[b] for b in a.books]
        notable = "".join(f"''{self.link(b.title, None, vary=False)}''" for b in books[:2])
        fields = [
            ("name", a.title),
            ("birth_date", f"{{{{birth date|{a.born}|{1 + r.below(12)}|{1 + r.below(28)}}}}}"),
            ("nationality", self.link(country.title, None, label=country.demonym)),
            ("occupation", p.creator_noun.capitalize()),
        ]
        if genre is not None:
            fields.append(("genre", self.link(genre.title, None)))
        if notable:
            fields.append(("notableworks", notable))
        infobox = self.infobox(p.person_infobox, fields) if r.random() < 0.75 else ""
        country_link = self.link(country.title, None, label=country.demonym)
        genre_link = self.link(genre.title, None, label=genre.spec.adjective) if genre else ""
        occupation = self.link(self.plan.creator_page, None, label=p.creator_noun)
        lead = (
            f"'''{a.title}''' (born {a.born}) is an {country_link} {genre_link} {occupation}. "
            + self.prose.paragraph(300 + r.below(500), [self.link(t, None) for t in a.topics])
        )
        bio = "\n\n".join(
            self.prose_with_links(500 + r.below(900), 0.6, self.refs(500))
            for _ in range(1 + r.below(3))
        )
        works = [f"* {self.book_link(b)} ({b.year})\n" for b in books]
        cats = [f"{a.born} births", f"{country.demonym} {p.creator_noun}s"]
        if genre is not None:
            cats.append(f"{country.demonym} {genre.spec.adjective} {p.creator_noun}s")
        works_heading = "Filmography" if p.key == "film" else "Bibliography"
        return (
            f"{infobox}{lead}\n\n== Biography ==\n{bio}\n\n== {works_heading} ==\n"
            f"{''.join(works)}\n== References ==\n{{{{Reflist}}}}\n\n{self.categories(cats, None)}"
        )

    def series_text(self, s: Series) -> str:
        p = self.profile
        author = self.plan.authors[s.author]
        genre = self.plan.genres[s.genre]
        genre_link = self.link(genre.title, None, label=genre.spec.adjective) if genre else ""
        books = [self.plan.entities[b] for b in s.books]
        items = "".join(f"# {self.book_link(b)} ({b.year})\n" for b in books)
        return (
            f"The '''{s.title}''' is a series of {len(s.books)} {genre_link} {p.noun}s by "
            f"{self.link(author.title, None)}. "
            + self.prose_with_links(500 + self.rand.below(800), 0.5)
            + f"\n\n== {p.noun.capitalize()}s ==\n{items}\n== References ==\n{{{{Reflist}}}}\n\n"
            + self.categories([f"{genre.spec.stem if genre else 'Literary'} {p.noun} series"], None)
        )

    def genre_text(self, index: int) -> str:
        r = self.rand
        g = self.plan.genres[index]
        assert g is not None
        topics = [self.link(t, None) for t in g.topics[:10]]
        members = [self.plan.entities[b] for b in self.plan.notable.get(index, [])]
        works = "".join(f"* {self.book_link(e)}\n" for e in members)
        authors = [self.link(self.plan.authors[e.author].title, None) for e in members[:3]]
        return (
            f"'''{strip_disambiguation(g.title)}''' is a genre of "
            + self.prose.paragraph(400 + r.below(400), topics[:4])
            + "\n\n== History ==\n"
            + self.prose.paragraph(600 + r.below(900), topics[4:] + authors)
            + (f"\n\n== Notable works ==\n{works}" if works else "")
            + "\n\n== References ==\n{{Reflist}}\n\n"
            + self.categories([g.category.split(":", 1)[1]], None)
        )

    def award_text(self, index: int) -> str:
        """An award's page: what it is for, then its winners and nominees by year."""
        p = self.profile
        r = self.rand
        award = self.plan.awards[index]
        genre = self.plan.genres[award.genre]
        assert genre is not None
        fields = [
            ("name", award.title),
            ("awarded_for", f"Best {genre.spec.adjective} {p.noun}"),
            ("presenter", self.prose.phrase(2)),
            ("year", str(award.founded)),
        ]
        genre_link = self.link(genre.title, None, label=genre.spec.adjective)
        lead = (
            f"The '''{award.title}''' is an annual award for the best {genre_link} {p.noun} "
            f"of the year, first given in {award.founded}. "
            + self.prose_with_links(400 + r.below(600), 0.5, self.refs(400))
        )
        winners = self._award_table(award) if award.as_table else self._award_years(award)
        return (
            self.infobox("Infobox award", fields)
            + lead
            + "\n\n== Winners and nominees ==\n"
            + winners
            + "\n== References ==\n{{Reflist}}\n\n"
            + self.categories(
                [f"{genre.spec.stem} awards", f"Awards established in {award.founded}"], None
            )
        )

    def _award_table(self, award: Award) -> str:
        p = self.profile
        rows = [
            '{| class="wikitable sortable"\n'
            f"! Year !! {p.noun.capitalize()} !! {p.creator_noun.capitalize()} !! Result\n"
        ]
        for year, winner, nominees in award.years:
            for b in (winner, *nominees):
                e = self.plan.entities[b]
                result = "Winner" if b == winner else "Nominee"
                rows.append(f"|-\n| {year} || {self.book_link(e)} || {self._by(e)} || {result}\n")
        return "".join(rows) + "|}\n"

    def _award_years(self, award: Award) -> str:
        parts = []
        for year, winner, nominees in award.years:
            e = self.plan.entities[winner]
            parts.append(
                f"\n=== {year} ===\n* '''{self.book_link(e)}''' by {self._by(e)} (winner)\n"
            )
            for b in nominees:
                e = self.plan.entities[b]
                parts.append(f"* {self.book_link(e)} by {self._by(e)}\n")
        return "".join(parts) or "No award has been given yet.\n"

    def list_text(self, index: int) -> str:
        """A "List of ..." page: the books of a genre by decade, or of a country and
        decade by year."""
        p = self.profile
        plan = self.plan
        book_list = plan.lists[index]
        if book_list.genre is not None:
            genre = plan.genres[book_list.genre]
            assert genre is not None
            what = f"{self.link(genre.title, None, label=genre.spec.adjective)} {p.category_noun}"
        else:
            assert book_list.country is not None
            country = COUNTRIES[book_list.country]
            country_link = self.link(country.title, None, label=country.demonym)
            what = f"{country_link} {p.category_noun} of the {book_list.decade}s"
        parts = [
            "{{Dynamic list}}\n",
            f"This is a list of {what}. ",
            self.prose_with_links(200 + self.rand.below(400), 0.5),
            "\n",
        ]
        decade = None
        for b in book_list.books:
            e = plan.entities[b]
            if book_list.kind == "genre" and e.year // 10 != decade:
                decade = e.year // 10
                parts.append(f"\n== {decade * 10}s ==\n")
            parts.append(f"* {self.book_link(e)} ({e.year}) by {self._by(e)}\n")
        others = [plan.lists[i].title for i in (index - 1, index + 1) if 0 <= i < len(plan.lists)]
        parts.append("\n== See also ==\n" + "".join(f"* [[{t}]]\n" for t in others))
        parts.append("\n" + self.categories([f"Lists of {p.category_noun}"], None))
        return "".join(parts)

    def book_link(self, e: Entity) -> str:
        """A book named as lists and bibliographies do: ``''[[Title]]''``, now and then
        through a redirect name, and with its display title as label when its title is
        disambiguated (and sometimes when not)."""
        x = self.rand.random()
        if e.aliases and x < 0.1:
            return f"''{self.link(e.aliases[0], None, vary=False)}''"
        display = strip_disambiguation(e.title)
        label = display if display != e.title or x > 0.92 else None
        return f"''{self.link(e.title, None, label=label, vary=False)}''"

    def award_link(self, index: int, out: list[str]) -> str:
        """A link to an award, now and then through its short name."""
        award = self.plan.awards[index]
        if award.alias is not None and self.rand.random() < 0.15:
            return self.link(award.alias, out, vary=False)
        return self.link(award.title, out, vary=False)

    def _by(self, e: Entity) -> str:
        """A link to the creator of ``e``."""
        return self.link(self.plan.authors[e.author].title, None, vary=False)

    def topic_text(self, title: str) -> str:
        r = self.rand
        pools = [
            self.plan.genres[g].topics
            for g in self.plan.topic_genres.get(title, [])
            if self.plan.genres[g] is not None
        ]
        neighbours = []
        for pool in pools:
            neighbours += [pool[r.below(len(pool))] for _ in range(2 + r.below(4))]
        links = [self.link(t, None) for t in dict.fromkeys(neighbours) if t != title]
        links += [self.link(self.filler_target(), None) for _ in range(2 + r.below(6))]
        shuffled = self.prose.shuffled(links)
        text = bold_lead(
            title, self.prose.paragraph(900 + r.below(2500), shuffled, self.refs(1500))
        )
        if r.random() < self.o.other_infobox_fraction:
            text = self.other_infobox(title) + text
        return (
            text
            + "\n\n== References ==\n{{Reflist}}\n\n"
            + self.categories([self.plan.filler_title(10**6 + r.below(10**5))], None)
        )

    def country_text(self, c: int) -> str:
        spec = COUNTRIES[c]
        r = self.rand
        fields = [
            ("conventional_long_name", spec.title),
            ("common_name", spec.title),
            ("capital", f"[[{self.filler_target()}]]"),
            ("official_languages", self.link(spec.language, None)),
            ("demonym", spec.demonym),
            ("population_estimate", f"{r.below(300_000_000):,}"),
        ]
        return (
            self.infobox("Infobox country", fields)
            + bold_lead(
                spec.title, self.prose_with_links(1500 + r.below(3000), 1.0, self.refs(2000))
            )
            + "\n\n== References ==\n{{Reflist}}\n\n"
            + self.categories(["Countries", f"{spec.demonym} culture"], None)
        )

    def publisher_text(self, title: str) -> str:
        r = self.rand
        authors = [a.title for a in self.plan.authors if a.publisher == title][:5]
        fields = [
            ("name", strip_disambiguation(title)),
            ("founded", str(1800 + r.below(200))),
            ("hq_location", f"[[{self.filler_target()}]]"),
        ]
        infobox = self.infobox(
            "Infobox company" if r.random() < 0.5 else "Infobox publisher", fields
        )
        return (
            infobox
            + f"'''{strip_disambiguation(title)}''' is a publisher. "
            + self.prose.paragraph(600 + r.below(1500), [self.link(a, None) for a in authors])
            + "\n\n"
            + self.categories(["Publishing companies"], None)
        )

    def plain_text(self, title: str) -> str:
        return bold_lead(
            title, self.prose_with_links(800 + self.rand.below(3000), 1.0, self.refs(1500))
        ) + (
            "\n\n== References ==\n{{Reflist}}\n\n"
            + self.categories([self.plan.filler_title(10**6 + self.rand.below(10**5))], None)
        )

    def namespace_text(self, kind: str, title: str) -> str:
        r = self.rand
        if kind == "category":
            name = title.split(":", 1)[1]
            parent = f"{self.profile.noun.capitalize()}s by genre"
            parents = [parent] if name != parent else [f"{self.profile.noun.capitalize()}s"]
            return (
                f"{{{{Commons category|{name}}}}}\n{self.prose.paragraph(120)}\n\n"
                + self.categories(parents, None)
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


def _share(n: int, fraction: float) -> int:
    """About ``fraction`` of ``n`` items, rounded."""
    return min(n, max(0, round(n * fraction)))
