"""The dump's pages in slot order, as XML: each planted page where the plan put it, filler
articles and redirects around them, and filler pages at the end until the byte budget
is met. Keeps the counts and what the ground truth needs from the written pages (page
ids, each entity page's links and size, the books filler articles mention).
"""

from __future__ import annotations

import collections
from collections.abc import Iterator

import numpy as np

from wikirec.synth.pages import PageTexts
from wikirec.synth.pagexml import PageXml
from wikirec.synth.plan import (
    FILLER_ARTICLE,
    FILLER_REDIRECT,
    NAMESPACE_FILLER,
    NAMESPACE_OF,
    PLANTED,
    Plan,
)
from wikirec.synth.tables import COUNTRIES, NAMESPACE_NAMES
from wikirec.synth.text import Uniform, block_streams, mix, streams

# (page id, title, the <page> element's XML)
Page = tuple[int, str, bytes]


class Renderer:
    """Renders the pages of ``plan``, one at a time, in slot order."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.texts = PageTexts(plan)
        meta = Uniform(np.random.default_rng(streams(plan.o.seed).meta))
        self.xml = PageXml(meta, plan.first_page_id, plan.users, plan.comments)
        self.stats: collections.Counter[str] = collections.Counter()
        self.page_ids: dict[str, int] = {}
        self.entity_facts: dict[int, dict] = {}  # entity index -> what its page holds
        self.mentions: dict[str, list[str]] = {}  # filler article -> the books it names

    def fresh(self) -> dict:
        """What the ground truth needs from the pages rendered since the last call (their
        counts, ids, entity facts, mentions), handed over and forgotten here."""
        facts = {"stats": self.stats, "page_ids": self.page_ids,
                 "entity_facts": self.entity_facts, "mentions": self.mentions}  # fmt: skip
        self.stats, self.page_ids = collections.Counter(), {}
        self.entity_facts, self.mentions = {}, {}
        return facts

    def merge(self, facts: dict) -> None:
        """Take what :meth:`fresh` handed over (from another process's renderer)."""
        self.stats.update(facts["stats"])
        self.page_ids.update(facts["page_ids"])
        self.entity_facts.update(facts["entity_facts"])
        self.mentions.update(facts["mentions"])

    def block(self, b: int) -> Iterator[tuple[int, int, str, bytes]]:
        """The pages of block ``b`` (``block_pages`` slots) as :meth:`pages` gives them,
        drawn from the block's own streams: a block's bytes do not depend on the blocks
        written before it, so that blocks can be written at once."""
        plan = self.plan
        size = plan.o.block_pages
        start, end = b * size, min((b + 1) * size, len(plan.kinds))
        self.texts.reseed(block_streams(plan.o.seed, b))
        self.xml.meta = Uniform(np.random.default_rng(block_streams(plan.o.seed, b).meta))
        next_core = int(plan.block_core[b])
        f = start - next_core
        for slot, kind in enumerate(plan.kinds[start:end].tolist(), start):
            page_id = block_page_id(plan.first_page_id, slot)
            if kind == PLANTED:
                page = self._core_page(int(plan.core_order[next_core]), page_id)
                next_core += 1
            else:
                page = self._filler(f, kind, page_id)
                f += 1
            yield (slot, *page)

    def pages(self, overhead: int) -> Iterator[tuple[int, int, str, bytes]]:
        """Every page as ``(slot, page_id, title, xml)``; stops once the XML written plus
        ``overhead`` (headers and footers) reaches ``xml_bytes``."""
        plan = self.plan
        target = plan.o.xml_bytes - overhead
        written = 0
        f = 0
        next_core = 0
        slot = 0
        kinds = plan.kinds
        for start in range(0, len(kinds), 1 << 16):
            for kind in kinds[start : start + (1 << 16)].tolist():
                if kind == PLANTED:
                    page = self._core_page(int(plan.core_order[next_core]))
                    next_core += 1
                else:
                    page = self._filler(f, kind)
                    f += 1
                written += len(page[2])
                yield (slot, *page)
                slot += 1
        if plan.o.articles is not None:
            return  # sized by counts: no top-up
        # Top up: filler articles, each followed by redirects in the planned proportion.
        rf = plan.o.redirect_fraction
        while written < target:
            redirect = self.texts.rand.random() < rf
            page = self._filler(f, FILLER_REDIRECT if redirect else FILLER_ARTICLE)
            f += 1
            written += len(page[2])
            yield (slot, *page)
            slot += 1

    def _emit(
        self, title: str, ns: int, text: str, redirect: str | None = None, page_id: int = 0
    ) -> tuple[int, bytes, int, str]:
        page_id, data, n_bytes, stamp = self.xml.page(title, ns, text, redirect, page_id)
        self.stats["pages"] += 1
        if redirect is not None:
            self.stats["redirects"] += 1
        elif ns == 0:
            self.stats["articles"] += 1
        if ns != 0:
            self.stats["namespace_pages"] += 1
        return page_id, data, n_bytes, stamp

    def _core_page(self, index: int, page_id: int = 0) -> Page:
        plan, texts = self.plan, self.texts
        kind, payload = plan.core[index]
        if kind == "redirect":
            source, target, ns = payload
            page_id, data, _, _ = self._emit(
                source, ns, texts.redirect_text(target), target, page_id
            )
            self.page_ids[source] = page_id
            return page_id, source, data
        if kind == "entity":
            e = plan.entities[payload]
            text, facts = texts.entity_text(e)
            page_id, data, n_bytes, stamp = self._emit(e.title, 0, text, None, page_id)
            facts.update(page_id=page_id, text_bytes=n_bytes, timestamp=stamp)
            self.entity_facts[payload] = facts
            self.stats["entities"] += 1
            self.page_ids[e.title] = page_id
            return page_id, e.title, data
        title, text = self._planted_text(kind, payload)
        page_id, data, _, _ = self._emit(title, NAMESPACE_OF.get(kind, 0), text, None, page_id)
        self.page_ids[title] = page_id
        return page_id, title, data

    def _planted_text(self, kind: str, payload) -> tuple[str, str]:
        """Title and wikitext of a planted page other than an entity or a redirect."""
        plan, texts = self.plan, self.texts
        if kind == "author":
            return plan.authors[payload].title, texts.author_text(plan.authors[payload])
        if kind == "series":
            return plan.series[payload].title, texts.series_text(plan.series[payload])
        if kind == "genre":
            title = plan.genre_title(payload)
            assert title is not None
            return title, texts.genre_text(payload)
        if kind == "award":
            return plan.awards[payload].title, texts.award_text(payload)
        if kind == "list":
            return plan.lists[payload].title, texts.list_text(payload)
        if kind == "country":
            return COUNTRIES[payload].title, texts.country_text(payload)
        if kind == "publisher":
            return payload, texts.publisher_text(payload)
        if kind == "topic":
            return payload, texts.topic_text(payload)
        if kind in ("language", "generic"):
            return payload, texts.plain_text(payload)
        return payload, texts.namespace_text(kind, payload)

    def _filler(self, f: int, kind: int, page_id: int = 0) -> Page:
        title = self.plan.filler_title(f)
        if kind >= NAMESPACE_FILLER:
            ns, _, mean_bytes = self.plan.o.namespace_pages[kind - NAMESPACE_FILLER]
            title = f"{NAMESPACE_NAMES[ns]}:{title}"
            text = self.texts.namespace_filler_text(ns, title, mean_bytes)
            page_id, data, _, _ = self._emit(title, ns, text, None, page_id)
        elif kind == FILLER_REDIRECT:
            target = self.plan.redirect_target(f)
            text = self.texts.redirect_text(target)
            page_id, data, _, _ = self._emit(title, 0, text, target, page_id)
        else:
            mentioned: list[str] = []
            text = self.texts.filler_text(title, mentioned)
            page_id, data, _, _ = self._emit(title, 0, text, None, page_id)
            if mentioned:
                self.mentions[title] = mentioned
                self.page_ids[title] = page_id
        return page_id, title, data


def block_page_id(first: int, slot: int) -> int:
    """The page id of ``slot`` in a dump written in blocks: increasing, with gaps (as
    deleted pages leave them), a fixed function of the slot."""
    return first + 3 * slot + mix(slot) % 3
