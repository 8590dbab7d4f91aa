"""The colour of each point: the values of an infobox field or the categories of the
books, the most common ones (or those asked for) in a palette, the rest "other".

Linked pages have no infobox: a page takes the value most common among the books that
link to it (among the values shown), so the same legend colours both kinds of map.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from wikirec.built import fold_value, infobox_fields
from wikirec.plot.points import PlotError, Points
from wikirec.titles import CATEGORY_PREFIX, upper_first
from wikirec.trained import BOOKS, LINKS, TrainedModel

CATEGORY_FIELDS = ("category", "categories")
# A qualitative palette of 20 colours that stay apart on white: tab10, then ten more.
PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
    "#000075",
    "#808000",
    "#f032e6",
    "#469990",
    "#800000",
    "#4363d8",
    "#9a6324",
    "#3cb44b",
    "#ffd700",
    "#42d4f4",
)
OTHER_COLOUR = "#d9d9d9"
SINGLE_COLOUR = "#1f77b4"
LABEL_CHARS = 42


@dataclass
class Groups:
    """The colour of each point: a legend entry, or "other".

    Attributes
    ----------
    field : the field coloured by ("genre", "category", ...), or None (one colour)
    names : legend names in order (without "other")
    codes : int array, per point: its index in ``names``, or -1 for other
    counts : points per name
    title : the legend's title
    """

    field: str | None
    names: list[str]
    codes: np.ndarray
    counts: list[int]
    title: str = ""

    @property
    def n_other(self) -> int:
        return int((self.codes < 0).sum())

    def legend_labels(self) -> list[str]:
        """The legend's entries: each name with its count, then other (if any)."""
        labels = [f"{short_label(n)} ({c:,})" for n, c in zip(self.names, self.counts, strict=True)]
        if self.field is not None and self.n_other:
            labels.append(f"other or none ({self.n_other:,})")
        return labels


# Genres are free text in infoboxes (the demo's 1,414 books spell 336 of them: "Science
# fiction", "Science fiction novel", "Fantasy, horror", ...), so a map coloured by genre
# colours groups: a book takes the group of the first of its genres (split on commas,
# slashes, semicolons and line breaks) that holds one of a group's words (regular
# expressions, matched in lower case), trying the groups in this order.
GENRE_GROUPS = (
    ("science fiction", r"science.fiction|sci-fi|cyberpunk|space opera|dystopia|"
                        r"alternate history|apocalyptic"),
    ("fantasy", r"fantasy|sword and sorcery|fairy tale|mytholog|fable"),
    ("horror", r"horror|gothic|supernatural|ghost|weird"),
    ("crime and mystery", r"crime|mystery|detective|thriller|gong'an|spy|noir|suspense|legal"),
    ("children's and young adult", r"children|picture book|young adult|juvenile|teen|"
                                   r"coming.of.age|school story"),
    ("historical and adventure", r"historical|adventure|western|\bwar\b|nautical|military|"
                                 r"epic|picaresque|saga"),
    ("romance", r"romance|regency|chick lit|erotic|\blove\b"),
    ("non-fiction", r"non.?fiction|biograph|memoir|diary|letters|correspondence|history|"
                    r"essay|reference|travel|philosoph|politic|encyclop|text ?book|"
                    r"self-help|journalism|science|religio|theolog|dictionary|criticism|"
                    r"cooke?ry|cookbook|handbook|guide|\bart\b|photograph|music|grammar|"
                    r"linguistic|psycholog|psychiatr|sociolog|anthropolog|studies|finance|"
                    r"business|academic|bibliograph|economics|law\b"),
    ("poetry and drama", r"poe(m|try)|verse|ballad|\bplays?\b|drama|theat|sonnet|tragedy"),
    ("novels and other fiction", r"novel|fiction|literary|literature|short stor|satire|"
                                 r"comedy|humou?r|anthology|bildungsroman|tale|story|"
                                 r"realism|modernis|allegor|classics|stream of consciousness"),
)  # fmt: skip
GENRE_PATTERNS = [(group, re.compile(words)) for group, words in GENRE_GROUPS]
GENRE_SEPARATORS = re.compile(r"[,/;]|<\s*br\s*/?\s*>|\n")


def genre_group(value: str) -> str:
    """The group of :data:`GENRE_GROUPS` a genre value falls in ("" if none)."""
    for part in GENRE_SEPARATORS.split(fold_value(value)):
        for group, pattern in GENRE_PATTERNS:
            if pattern.search(part):
                return group
    return ""


def normalize_value(value: str) -> str:
    """The key values are compared by: white space collapsed, case folded
    (:func:`~wikirec.built.fold_value`), a leading ``Category:`` dropped."""
    key = fold_value(value)
    return key[len(CATEGORY_PREFIX) :].strip() if key.startswith(CATEGORY_PREFIX) else key


def book_values(trained: TrainedModel, field: str, grouped: bool = False) -> pd.DataFrame:
    """A long table of (book, key, label): each book's values of ``field`` (an infobox
    column, any infobox field, or "category": the book's ``Category:`` links); with
    ``grouped``, a genre is its group (:data:`GENRE_GROUPS`) instead.

    Raises :class:`PlotError` when no book has the field."""
    trained.require_metadata(f"colouring by {field!r}")
    name = field.strip().lower().replace(" ", "_")
    if name in CATEGORY_FIELDS:
        pairs = trained.book_link_pairs()
        is_category = trained.is_category()
        pairs = pairs[is_category[pairs[:, 1]]]
        link_titles = trained.titles[LINKS]
        raw = [link_titles[j][len(CATEGORY_PREFIX) :] for j in pairs[:, 1]]
        table = pd.DataFrame({"book": pairs[:, 0], "raw": raw})
    else:
        table = pd.DataFrame(
            {"book": np.arange(len(trained.books)), "raw": _field_column(trained, name)}
        )
    if grouped and name == "genre":
        table["raw"] = [genre_group(v) for v in table["raw"]]
    table["key"] = [normalize_value(v) for v in table["raw"]]
    table = table[table["key"] != ""].drop_duplicates(["book", "key"])
    if table.empty:
        raise PlotError(f"no book has a {field!r} field{_field_hint(trained)}")
    labels = table.groupby("key")["raw"].agg(_most_common_spelling)
    table["label"] = table["key"].map(labels)
    return table.reset_index(drop=True)


def _most_common_spelling(raw: pd.Series) -> str:
    """A value's label: its most common spelling, white space collapsed, the first
    letter upper case."""
    return upper_first(" ".join(str(raw.value_counts().index[0]).split()))


def _field_column(trained: TrainedModel, name: str) -> list[str]:
    if name in trained.books.columns and name not in ("index", "title", "infobox", "n_pairs"):
        return trained.books[name].fillna("").astype(str).tolist()
    return [infobox_fields(raw).get(name, "") for raw in trained.books["infobox"]]


def _field_hint(trained: TrainedModel) -> str:
    """Suggest the infobox fields books do have."""
    counts: dict[str, int] = {}
    for raw in trained.books["infobox"][:5000]:
        for key in infobox_fields(raw):
            counts[key] = counts.get(key, 0) + 1
    common = sorted(counts, key=lambda k: -counts[k])[:8]
    return f" (try: category, {', '.join(common)})" if common else " (try: category)"


def short_label(text: str, limit: int = LABEL_CHARS) -> str:
    """``text`` cut to ``limit`` characters, an ellipsis marking the cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def colour_groups(
    trained: TrainedModel,
    points: Points,
    field: str | None = "genre",
    top: int = 10,
    values: Sequence[str] | None = None,
) -> Groups:
    """Colour ``points`` by ``field``: the ``top`` most common values among books (or
    exactly ``values``, in that order), the rest "other". Genres are coloured by their
    groups (:data:`GENRE_GROUPS`), unless ``values`` names genres to colour.

    For categories (several per book) the values chosen are those that together colour
    the most books: the most common, then each time the one adding the most books not
    coloured yet. A book with several chosen values takes the first; a linked page
    takes the chosen value most common among the books linking to it (ties: the
    first). ``field=None`` gives one colour and no legend.
    """
    if field is None:
        return Groups(None, [], np.zeros(len(points.rows), np.int64), [], "")
    if not 1 <= top <= len(PALETTE):
        raise PlotError(f"top must be between 1 and {len(PALETTE)}, not {top}")
    table = book_values(trained, field, grouped=values is None)
    chosen = _choose_values(table, field, top, values)
    rank = {key: i for i, key in enumerate(chosen)}
    table = table[table["key"].isin(rank)].assign(rank=lambda t: t["key"].map(rank))
    if points.kind == BOOKS:
        codes = _book_codes(table, len(trained.titles[BOOKS]))[points.rows]
        title = _field_title(field)
    else:
        codes = _link_codes(trained, table, len(chosen))[points.rows]
        title = f"{_field_title(field)} of the books\nlinking to the page"
    labels = table.drop_duplicates("key").set_index("key")["label"]
    names = [labels[key] for key in chosen]
    counts = [int((codes == i).sum()) for i in range(len(chosen))]
    return Groups(field, names, codes, counts, title)


def _field_title(field: str) -> str:
    name = field.strip().lower()
    return "category" if name in CATEGORY_FIELDS else name.replace("_", " ")


def _choose_values(table: pd.DataFrame, field: str, top: int, values) -> list[str]:
    if values is None:
        return _greedy_values(table, top)
    if not 1 <= len(values) <= len(PALETTE):
        raise PlotError(f"give between 1 and {len(PALETTE)} values to colour, not {len(values)}")
    known = set(table["key"])
    chosen = list(dict.fromkeys(normalize_value(v) for v in values))
    missing = [v for v in values if normalize_value(v) not in known]
    if missing:
        common = table["label"].value_counts().index[:5]
        raise PlotError(
            f"no book has {_field_title(field)} {missing[0]!r} (common: {', '.join(common)})"
        )
    return chosen


def _greedy_values(table: pd.DataFrame, top: int) -> list[str]:
    """The ``top`` values that together cover the most books: the most common first,
    then each time the one adding the most books not covered yet (ties: by name). For a
    field of one value per book this is simply the most common values."""
    import heapq

    books = table.groupby("key")["book"].agg(frozenset)
    heap = [(-len(b), key) for key, b in books.items()]
    heapq.heapify(heap)
    covered: set[int] = set()
    chosen: list[str] = []
    while heap and len(chosen) < top:
        bound, key = heapq.heappop(heap)
        gain = len(books[key] - covered)
        if heap and gain < -heap[0][0]:
            heapq.heappush(heap, (-gain, key))  # stale bound: try again later
            continue
        if gain == 0:
            break
        chosen.append(key)
        covered |= books[key]
    return chosen


def _book_codes(table: pd.DataFrame, n_books: int) -> np.ndarray:
    codes = np.full(n_books, -1, np.int64)
    best = table.groupby("book")["rank"].min()
    codes[best.index.to_numpy()] = best.to_numpy()
    return codes


def _link_codes(trained: TrainedModel, table: pd.DataFrame, n_values: int) -> np.ndarray:
    """Per link: the chosen value most common among its books (ties: the first)."""
    pairs = trained.book_link_pairs()
    n_links = len(trained.titles[LINKS])
    votes = np.zeros((n_links, max(n_values, 1)), np.int64)
    book_ranks = pd.DataFrame({"book": pairs[:, 0], "link": pairs[:, 1]}).merge(
        table[["book", "rank"]], on="book"
    )
    np.add.at(votes, (book_ranks["link"].to_numpy(), book_ranks["rank"].to_numpy()), 1)
    codes = votes.argmax(axis=1)
    codes[votes.max(axis=1) == 0] = -1
    return codes
