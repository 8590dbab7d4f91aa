"""Suggestions while a title is typed: the Recommender's own lookup first, then titles
that start with or contain the text, or else the Recommender's fuzzy suggestions.

A whole title is found as ``wikirec recommend`` finds it (:meth:`Recommender.resolve`:
exactly, case-insensitively, in MediaWiki's normal form, through the dump's redirects),
and a miss gets the same "Did you mean" titles (:class:`UnknownTitleError`). What is
added here is only what typing needs and the Recommender has no use for: the titles
a partial text is the start of, or a part of (case-insensitive), in a sorted index
built once.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass

from wikirec.recommend import Recommender, UnknownTitleError
from wikirec.trained import BOOKS, KIND_NOUNS, LINKS

KINDS = (BOOKS, LINKS)


@dataclass(frozen=True)
class Suggestion:
    """One suggested title.

    Attributes
    ----------
    title : the title as answers show it (a page: Wikipedia's, where the build has it)
    kind : "books" or "links"
    match : how it was found: "exact" (the text is the title, in any case or normal
        form), "redirect" (the text redirects to it), "prefix", "contains" or "fuzzy"
    """

    title: str
    kind: str
    match: str

    def as_json(self) -> dict:
        return {"title": self.title, "kind": KIND_NOUNS[self.kind], "match": self.match}


class TitleSearch:
    """Suggestions over a :class:`Recommender`'s books and pages.

    Parameters
    ----------
    rec : the Recommender whose titles are searched
    """

    def __init__(self, rec: Recommender) -> None:
        self.rec = rec
        self._folded = {kind: [t.casefold() for t in rec.titles[kind].titles] for kind in KINDS}
        # Sorted (folded title, row): the titles starting with a text are one bisect away.
        self._sorted = {
            kind: sorted((title, row) for row, title in enumerate(self._folded[kind]))
            for kind in KINDS
        }

    def search(self, text: str, kinds: Sequence[str] = KINDS, limit: int = 10) -> list[Suggestion]:
        """Up to ``limit`` suggestions for ``text``, best first: the title it names (or
        redirects to), titles starting with it, titles containing it; when there is
        none of these, the fuzzy suggestions ``wikirec recommend`` gives for an unknown
        title. Books come before pages within each of these."""
        text = text.strip()
        folded = text.casefold()
        found: dict[tuple[str, int], Suggestion] = {}

        def add(kind: str, row: int, match: str) -> None:
            if len(found) < limit and (kind, row) not in found:
                found[kind, row] = Suggestion(self.rec.shown[kind][row], kind, match)

        fuzzy: list[str] = []
        try:
            kind, row = self.rec.resolve(text, kinds)
        except UnknownTitleError as exc:
            fuzzy = exc.suggestions
        else:
            direct = self.rec.titles[kind].find(text) is not None
            add(kind, row, "exact" if direct else "redirect")
        for kind in kinds:
            for row in self._prefixed(kind, folded, limit):
                add(kind, row, "prefix")
        for kind in kinds:
            if len(found) >= limit:
                break
            for row, title in enumerate(self._folded[kind]):
                if folded in title and not title.startswith(folded):
                    add(kind, row, "contains")
                    if len(found) >= limit:
                        break
        # Fuzzy titles only for a text nothing starts with or contains (a misspelling):
        # beside real matches, they are noise ("animal f" -> "anime").
        for title in fuzzy if not found else []:
            # A suggestion is a title of one of the kinds as shown: find which.
            for kind in kinds:
                row = self.rec.titles[kind].find(title)
                if row is not None:
                    add(kind, row, "fuzzy")
                    break
        return list(found.values())

    def _prefixed(self, kind: str, folded: str, limit: int) -> list[int]:
        table = self._sorted[kind]
        start = bisect.bisect_left(table, (folded, -1))
        rows = []
        for title, row in table[start : start + limit]:
            if not title.startswith(folded):
                break
            rows.append(row)
        return rows
