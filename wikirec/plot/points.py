"""What a map shows: the items (all books, or linked pages), and which of them to star.

Also :class:`PlotError`, the error of every part of ``wikirec plot``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from wikirec.errors import WikirecError
from wikirec.trained import BOOKS, KINDS, TrainedModel, read_trained

LINK_SETS = ("all", "categories", "pages")
MIN_POINTS = 5


class PlotError(WikirecError):
    """Bad input for a plot; the message is one line."""


@dataclass
class Points:
    """The items of one map: rows of one kind of vectors.

    Attributes
    ----------
    kind : "books" or "links"
    rows : int array, the rows of ``trained.vectors[kind]`` shown, in order
    titles : their titles
    vectors : their (unit) vectors, shape (len(rows), dim)
    label : names the set in file names and the cache: "books", "links",
        "links-categories", "links-pages"
    """

    kind: str
    rows: np.ndarray
    titles: list[str]
    vectors: np.ndarray
    label: str

    @property
    def noun(self) -> str:
        """How to call the items in a sentence."""
        if self.kind == BOOKS:
            return "books"
        return {"links": "linked pages", "links-categories": "category pages"}.get(
            self.label, "linked pages (not categories)"
        )

    def position(self, trained: TrainedModel, title: str) -> int:
        """The index in this set of ``title``; raises :class:`~wikirec.trained.ModelError`
        for a title the model lacks, :class:`PlotError` for one not among the points."""
        row = trained.find(title, self.kind)
        found = np.flatnonzero(self.rows == row)
        if len(found) == 0:
            raise PlotError(f"{trained.titles[self.kind][row]!r} is not among the {self.noun}")
        return int(found[0])


def select_points(trained: TrainedModel, kind: str = BOOKS, links: str = "all") -> Points:
    """All books, or the linked pages (``links``: "all", "categories" or "pages")."""
    if kind not in KINDS:
        raise PlotError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    if links not in LINK_SETS:
        raise PlotError(f"links must be one of {', '.join(LINK_SETS)}, not {links!r}")
    n = len(trained.titles[kind])
    if kind == BOOKS or links == "all":
        rows, label = np.arange(n), kind
    else:
        wanted = trained.is_category() if links == "categories" else ~trained.is_category()
        rows, label = np.flatnonzero(wanted), f"links-{links}"
    if len(rows) < MIN_POINTS:
        raise PlotError(f"only {len(rows)} {label} to map; at least {MIN_POINTS} are needed")
    titles = trained.display_titles(kind)  # as a reader knows them
    return Points(kind, rows, [titles[i] for i in rows], trained.vectors[kind][rows], label)


def load_trained(
    trained: TrainedModel | str | os.PathLike, data_dir: str | os.PathLike | None = None
) -> TrainedModel:
    """``trained`` itself, or the trained folder it names read with its build."""
    return trained if isinstance(trained, TrainedModel) else read_trained(trained, data_dir)


def most_linked(trained: TrainedModel, points: Points, n: int) -> list[int]:
    """Positions in ``points`` of the ``n`` items most linked to: books by the number of
    books whose pages link to them (ties: the books with most links), pages by the
    number of books linking to them."""
    if n <= 0:
        return []
    trained.require_metadata("finding the most linked-to items")
    if points.kind == BOOKS:
        incoming = trained.links.assign(key=trained.links["title"].str.casefold())
        incoming = incoming.groupby("key")["count"].max()
        linked = trained.books["title"].str.casefold().map(incoming).fillna(0).to_numpy()
        score = np.lexsort((-trained.books["n_pairs"].to_numpy(), -linked))
    else:
        score = np.argsort(-trained.links["count"].to_numpy(), kind="stable")
    position = {row: i for i, row in enumerate(points.rows.tolist())}
    return [position[r] for r in score.tolist() if r in position][:n]


def star_label(points: Points, titles: Sequence[str] = (), top: int = 0) -> str:
    """What the stars of :func:`highlight_positions` are, for a legend ("" if none)."""
    parts = [f"the {points.noun} asked for"] if titles else []
    if top:
        parts.append(f"the {top} most linked-to" + ("" if titles else f" {points.noun}"))
    return "starred: " + " and ".join(parts) if parts else ""


def highlight_positions(
    trained: TrainedModel, points: Points, titles: Sequence[str] = (), top: int = 0
) -> list[int]:
    """Positions to star: the ``titles`` (each must be among the points), then the
    ``top`` most linked-to items."""
    if top < 0:
        raise PlotError(f"the number of items to star must be 0 or more, not {top}")
    found = [points.position(trained, t) for t in titles]
    return list(dict.fromkeys(found + most_linked(trained, points, top)))
