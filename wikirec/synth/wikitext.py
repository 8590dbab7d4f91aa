"""The pieces every generated page is made of: links (spelled the many ways MediaWiki
treats as one target), references, infoboxes, dates, categories, prose with links.

:class:`Wikitext` draws from the text stream (``rand``) and the words' stream
(``prose``); :class:`wikirec.synth.pages.PageTexts` builds whole pages from these
pieces.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from wikirec.synth.names import book_info, strip_disambiguation
from wikirec.synth.plan import Plan
from wikirec.synth.tables import (
    BOOKISH,
    DATE_FIELDS,
    HEADINGS,
    IMAGE_FIELDS,
    LINKED_FIELDS,
    MONTHS,
    NAME_FIELDS,
    NUMBER_FIELDS,
    OTHER_INFOBOXES,
    REDIRECT_CATEGORIES,
    TLDS,
)
from wikirec.synth.text import Prose, Streams, Uniform, streams


def bold_lead(title: str, text: str) -> str:
    """``'''Title''' is ...``: the opening of an article."""
    return f"'''{title}''' is {text[:1].lower()}{text[1:]}"


class Wikitext:
    """Pieces of wikitext for the pages of ``plan``."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.o = plan.o
        self.profile = plan.profile
        self.reseed(streams(plan.o.seed))

    def reseed(self, seeds: Streams) -> None:
        """Draw from ``seeds``' text and words streams from here on."""
        self.rand = Uniform(np.random.default_rng(seeds.text))
        self.prose = Prose(np.random.default_rng(seeds.words), self.rand)
        self._targets: list[str] = []

    # ------------------------------------------------------------------ links

    def link(
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
            return f"[[{target}|{strip_disambiguation(target).lower()}]]"
        if r < 0.95 and " " in target:
            return "[[" + target.replace(" ", "_") + "]]"
        if r < 0.98:
            return f"[[{target}#{self.rand.pick(HEADINGS)}|{strip_disambiguation(target)}]]"
        if target[-1:].isalpha():
            return f"[[{target}]]s"
        return f"[[{target}]]"

    def filler_target(self) -> str:
        """A link target of filler text: a filler page, a planted page, or a red link."""
        plan = self.plan
        if plan.o.link_zipf is not None:
            if not self._targets:
                self._targets = self._popular_targets(1 << 12)
            return self._targets.pop()
        r = self.rand.random()
        if r < 0.82 and plan.n_fillers:
            return plan.filler_title(self.rand.below(plan.n_fillers))
        if r < 0.94:
            return self.rand.pick(plan.core_plain)
        return plan.filler_title(plan.n_fillers + 10**7 + self.rand.below(10**8))

    def _popular_targets(self, n: int) -> list[str]:
        """``n`` filler link targets by popularity, drawn at once (most of a filler
        article's cost is its links): 80% an article by its rank (``link_zipf``), 8% any
        filler page (a redirect, or a red link where that title is another namespace's
        page), 8% a planted page, 4% a red link."""
        plan = self.plan
        rng = self.rand.rng
        kind = rng.random(n)
        pages = np.maximum(plan.n_fillers, 1)
        fillers = rng.integers(0, pages, n)
        fillers[kind >= 0.96] = plan.n_fillers + 10**7 + rng.integers(0, 10**8, n)[kind >= 0.96]
        popular = kind < 0.8
        fillers[popular] = plan.popular_articles(rng.random(int(popular.sum())))
        titles = plan.filler_titles(fillers)
        core = rng.integers(0, len(plan.core_plain), n).tolist()
        planted = ((kind >= 0.88) & (kind < 0.96)).tolist()
        shown = zip(titles, core, planted, strict=True)
        return [plan.core_plain[c] if p else t for t, c, p in shown]

    def noise_target(self) -> str:
        """A filler article (never a redirect), for the noise links of planted pages."""
        plan = self.plan
        if plan.o.link_zipf is not None:
            return plan.popular_article(self.rand.random(), plan.o.entity_zipf)
        if len(plan.filler_articles):
            return plan.filler_title(
                int(plan.filler_articles[self.rand.below(len(plan.filler_articles))])
            )
        return self.rand.pick(plan.core_plain)

    def prose_with_links(self, n_chars: float, density: float, refs: Sequence[str] = ()) -> str:
        n_links = int(n_chars / 130 * density * (0.5 + self.rand.random()))
        links = [self.link(self.filler_target(), None) for _ in range(n_links)]
        return self.prose.paragraph(n_chars, links, refs)

    def categories(self, names: Sequence[str], out: list[str] | None) -> str:
        lines = []
        for name in names:
            target = f"Category:{name}"
            if out is not None:
                out.append(target)
            lines.append(f"[[{target}]]")
        return "\n".join(lines)

    # ------------------------------------------------------------------ small pieces

    def date(self, year: int | None = None) -> str:
        r = self.rand
        year = year if year is not None else 1900 + r.below(118)
        return f"{r.pick(MONTHS)} {1 + r.below(28)}, {year}"

    def person(self) -> str:
        names = book_info()[1]
        return f"{self.rand.pick(names).split()[0]} {self.rand.pick(names).split()[-1]}"

    def url(self) -> str:
        w = self.plan.space.words
        r = self.rand
        return f"http://www.{r.pick(w)}.{r.pick(TLDS)}/{r.pick(w)}/{r.below(100000)}.html"

    def isbn(self) -> str:
        r = self.rand
        return f"{r.below(2)}-{100 + r.below(900)}-{10000 + r.below(90000)}-{r.below(10)}"

    def normal(self) -> float:
        """A standard normal draw (Box-Muller on the buffered uniforms)."""
        u = 1.0 - self.rand.random()
        return math.sqrt(-2.0 * math.log(u)) * math.cos(2 * math.pi * self.rand.random())

    def ref(self) -> str:
        r = self.rand
        words = self.plan.space.words
        x = r.random()
        if x < 0.45:
            title = self.prose.phrase(2 + r.below(5))
            publisher = self.prose.phrase(1 + r.below(3))
            accessed = self.date(2005 + r.below(13))
            return (
                f"<ref>{{{{cite web|url={self.url()}|title={title}|publisher={publisher}"
                f"|accessdate={accessed}}}}}</ref>"
            )
        if x < 0.7:
            last, first = self.person().split(" ", 1)[::-1]
            title = self.prose.phrase(2 + r.below(4))
            publisher = self.prose.phrase(1 + r.below(2))
            return (
                f'<ref name="{r.pick(words)}{r.below(100)}">{{{{cite book|last={last}'
                f"|first={first}|title={title}|publisher={publisher}|year={1950 + r.below(68)}"
                f"|page={1 + r.below(500)}}}}}</ref>"
            )
        if x < 0.85:
            return f'<ref name="{r.pick(words)}{r.below(100)}" />'
        year = 1900 + r.below(118)
        return (
            f"<ref>{self.person()} ({year}). ''{self.prose.phrase(3)}''. p. {r.below(400)}.</ref>"
        )

    def refs(self, n_chars: float) -> list[str]:
        n = int(n_chars / 900 * self.rand.random() * 1.6)
        return [self.ref() for _ in range(n)]

    def redirect_text(self, target: str) -> str:
        r = self.rand
        keyword = "#REDIRECT" if r.random() < 0.9 else r.pick(("#redirect", "#Redirect"))
        text = f"{keyword} [[{target}]]"
        if r.random() < 0.5:
            text += "\n\n{{" + r.pick(REDIRECT_CATEGORIES) + "}}"
        return text

    # ------------------------------------------------------------------ infoboxes

    def infobox(self, written: str, fields: Sequence[tuple[str, str]], comment: str = "") -> str:
        style = self.rand.below(10)
        if style < 6:
            width = max(len(k) for k, _ in fields) if fields else 0
            body = "".join(f"| {k:<{width}} = {v}\n" for k, v in fields)
        elif style < 9:
            body = "".join(f" | {k} = {v}\n" for k, v in fields)
        else:
            body = "".join(f"|{k}={v}\n" for k, v in fields)
        return "{{" + written + comment + "\n" + body + "}}\n"

    def other_infobox(self, title: str) -> str:
        """An infobox of another kind than the entities' (person, settlement, ...)."""
        plan = self.plan
        entity_names = {plan.template.lower(), *(a.lower() for a in self.profile.aliases)}
        if self.profile.key == "book":
            entity_names |= BOOKISH
        choices = [(n, w, f) for n, w, f in OTHER_INFOBOXES if n.lower() not in entity_names]
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
            if f in NAME_FIELDS:
                v = title
            elif f in IMAGE_FIELDS:
                v = f"{self.prose.phrase(2)}.jpg"
            elif "date" in f or f in DATE_FIELDS:
                v = self.date()
            elif f in NUMBER_FIELDS:
                v = f"{r.below(100000):,}"
            elif f == "website":
                v = f"{{{{URL|www.{r.pick(plan.space.words)}.{r.pick(TLDS)}}}}}"
            elif f in LINKED_FIELDS or r.random() < 0.2:
                v = f"[[{self.filler_target()}]]"
            else:
                v = self.prose.phrase(1 + r.below(3), capital=r.random() < 0.5)
            if r.random() < 0.1:
                v = ""
            values.append((f, v))
        written = name if r.random() < 0.85 else name[0].lower() + name[1:]
        return self.infobox(written, values)

    def template_spelling(self) -> str:
        """The entity template as a page writes it: an alias now and then, else a spelling
        MediaWiki treats as the same template."""
        r = self.rand
        if self.profile.aliases and r.random() < self.o.alias_fraction:
            return r.pick(self.profile.aliases)
        t = self.plan.template
        x = r.random()
        if x < 0.7:
            return t
        if x < 0.8:
            return t[0].lower() + t[1:]
        if x < 0.88:
            return t.replace(" ", "_")
        return " " + t if x < 0.95 else t + " "

    def media(self, out: list[str]) -> str:
        """The ``media_type`` of a book: print, with links to the binding pages."""
        r = self.rand
        hard = self.plan.generic_aliases.get("Hardcover") or []
        x = r.random()
        if x < 0.15 and hard:
            return f"Print ({self.link(hard[0], out, vary=False)})"
        if x < 0.5:
            hardcover = self.link("Hardcover", out, vary=False)
            return f"Print ({hardcover} & {self.link('Paperback', out, vary=False)})"
        if x < 0.7:
            hardcover = self.link("Hardcover", out, label="Hardback")
            return f"Print ({hardcover} & {self.link('Paperback', out, vary=False)})"
        if x < 0.85:
            return f"Print ({self.link('Hardcover', out, label='hardcover')})"
        return "Print"
