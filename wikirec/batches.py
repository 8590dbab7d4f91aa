"""Training batches: positives from the pairs, negatives drawn at random, vectorised.

The reference drew each batch's positives with ``random.sample(pairs, n_positive)`` and
its negatives one at a time in Python, rejecting a candidate found in a set of the
pairs. :class:`PairSampler` keeps that recipe and makes it fast and exact:

- positives: each epoch is a shuffled pass over the pairs (repeats kept, so a link
  named twice on a page counts twice, as in the reference), cut into batches of
  ``batch_positives``; the last ``n_pairs % batch_positives`` pairs of the shuffle wait
  for a later epoch. Every pair is seen once per epoch in expectation (the reference:
  in expectation too, by independent draws);
- negatives: ``negative_ratio`` per positive; books uniform over all books; links
  uniform (``negatives="uniform"``, the reference) or drawn with probability
  proportional to ``occurrences ** 0.75`` (``negatives="frequency"``, word2vec's
  choice); or each positive's page with books uniform over all books
  (``negatives="books"``: each page learns which books are its own, against the
  others), in the positive's batch;
- no false negatives: a candidate that is a real pair is rejected and drawn again
  until none is left. Pairs are encoded as int64 ``book * n_links + link`` and looked
  up by binary search in the sorted unique codes, so the check is exact;
- labels 1 / 0 (``mode="classification"``) or 1 / -1 (``mode="regression"``);
  each batch is shuffled;
- reproducible: epoch ``e`` draws from ``numpy.random.default_rng([seed, e])``, so a
  resumed run sees the batches an uninterrupted run would have seen.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

MODES = ("classification", "regression")
NEGATIVES = ("uniform", "frequency", "books")
MAX_REJECTION_ROUNDS = 1000


@dataclass
class EpochBatches:
    """One epoch of batches, row ``s`` is step ``s``.

    Attributes
    ----------
    book : ndarray of int32, shape (n_steps, batch_size)
    link : ndarray of int32, shape (n_steps, batch_size)
    label : ndarray of float32, shape (n_steps, batch_size)
        ``batch_size = batch_positives * (1 + negative_ratio)``.
    """

    book: np.ndarray
    link: np.ndarray
    label: np.ndarray

    @property
    def n_steps(self) -> int:
        return self.book.shape[0]

    @property
    def batch_size(self) -> int:
        return self.book.shape[1]

    def __iter__(self) -> Iterator[tuple[dict[str, np.ndarray], np.ndarray]]:
        """Batches as the reference generator yielded them: ``({"book": (B,), "link":
        (B,)}, labels (B,))``."""
        for step in range(self.n_steps):
            yield {"book": self.book[step], "link": self.link[step]}, self.label[step]


class PairSampler:
    """Draws training batches from ``pairs``.

    Parameters
    ----------
    pairs : int array, shape (n_pairs, 2)
        ``(book index, link index)`` per row; repeats allowed.
    n_books, n_links : sizes of the two vocabularies
    negative_ratio : negatives per positive (int, >= 0)
    mode : "classification" (labels 1/0) or "regression" (labels 1/-1)
    negatives : "uniform", "frequency" (links by occurrences ** ``power``) or "books"
        (each positive's page with random books)
    seed : base seed; epoch ``e`` uses ``default_rng([seed, e])``
    """

    def __init__(
        self,
        pairs: np.ndarray,
        n_books: int,
        n_links: int,
        negative_ratio: int = 2,
        mode: str = "classification",
        negatives: str = "uniform",
        seed: int = 0,
        power: float = 0.75,
    ) -> None:
        pairs = np.asarray(pairs)
        _check_args(pairs, n_books, n_links, negative_ratio, mode, negatives)
        self.pairs = pairs.astype(np.int32, copy=False)
        self.n_books, self.n_links = int(n_books), int(n_links)
        self.negative_ratio = int(negative_ratio)
        self.mode, self.negatives, self.seed = mode, negatives, int(seed)
        self.codes = np.unique(self.encode(self.pairs[:, 0], self.pairs[:, 1]))
        if negative_ratio and len(self.codes) >= self.n_books * self.n_links:
            raise ValueError("every (book, link) is a pair: no negative example exists")
        self._link_cdf = None
        if negatives == "frequency":
            weights = np.bincount(self.pairs[:, 1], minlength=self.n_links) ** float(power)
            self._link_cdf = np.cumsum(weights / weights.sum())

    @property
    def n_pairs(self) -> int:
        return len(self.pairs)

    def encode(self, books: np.ndarray, links: np.ndarray) -> np.ndarray:
        """Pair codes ``book * n_links + link`` (int64), one per element."""
        return books.astype(np.int64) * self.n_links + links.astype(np.int64)

    def is_pair(self, books: np.ndarray, links: np.ndarray) -> np.ndarray:
        """Exact membership: bool array, True where ``(books[i], links[i])`` is a pair."""
        codes = self.encode(books, links)
        where = np.searchsorted(self.codes, codes)
        where[where == len(self.codes)] = 0
        return self.codes[where] == codes

    def steps_per_epoch(self, batch_positives: int) -> int:
        """Full batches per epoch: ``n_pairs // batch_positives``, as the reference."""
        return self.n_pairs // batch_positives

    def rng(self, epoch: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, int(epoch)])

    def draw_negatives(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        """``n`` (book, link) pairs that are not in the data, as two int32 arrays."""
        books = rng.integers(0, self.n_books, n, dtype=np.int32)
        links = self._draw_links(rng, n)

        def redraw(bad: np.ndarray) -> None:
            books[bad] = rng.integers(0, self.n_books, bad.size, dtype=np.int32)
            links[bad] = self._draw_links(rng, bad.size)

        if self._reject_pairs(books, links, redraw).size:
            raise ValueError("could not draw negatives: nearly every candidate is a real pair")
        return books, links

    def books_for_pages(
        self, rng: np.random.Generator, links: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Each of ``links`` with a random book it is not a pair with, as two int32
        arrays (the negatives of ``negatives="books"``). Where nearly every book meets
        the page, so that rejection gives up, a random pair stands in."""
        links = np.array(links, dtype=np.int32)
        books = rng.integers(0, self.n_books, len(links), dtype=np.int32)

        def redraw(bad: np.ndarray) -> None:
            books[bad] = rng.integers(0, self.n_books, bad.size, dtype=np.int32)

        bad = self._reject_pairs(books, links, redraw)
        books[bad], links[bad] = self.draw_negatives(rng, bad.size)
        return books, links

    def _reject_pairs(self, books: np.ndarray, links: np.ndarray, redraw) -> np.ndarray:
        """Draws again, ``redraw(rows)`` in place, the candidates that are real pairs,
        for at most :data:`MAX_REJECTION_ROUNDS` rounds; returns the rows still real
        pairs (none, unless nearly every candidate is one)."""
        bad = np.flatnonzero(self.is_pair(books, links))
        for _ in range(MAX_REJECTION_ROUNDS):
            if bad.size == 0:
                break
            redraw(bad)
            bad = bad[self.is_pair(books[bad], links[bad])]
        return bad

    def _draw_links(self, rng: np.random.Generator, n: int) -> np.ndarray:
        if self._link_cdf is None:
            return rng.integers(0, self.n_links, n, dtype=np.int32)
        where = np.searchsorted(self._link_cdf, rng.random(n), side="right")
        return np.minimum(where, self.n_links - 1).astype(np.int32)

    def epoch(self, epoch: int, batch_positives: int) -> EpochBatches:
        """All batches of one epoch, drawn from ``rng(epoch)``."""
        steps = self.steps_per_epoch(batch_positives)
        if steps < 1:
            raise ValueError(
                f"a batch of {batch_positives:,} positives is larger than the data "
                f"({self.n_pairs:,} pairs)"
            )
        rng = self.rng(epoch)
        chosen = rng.permutation(self.n_pairs)[: steps * batch_positives]
        n_negative = steps * batch_positives * self.negative_ratio
        if self.negatives == "books":  # np.repeat keeps each one in its positive's batch
            pages = np.repeat(self.pairs[chosen, 1], self.negative_ratio)
            neg_books, neg_links = self.books_for_pages(rng, pages)
        else:
            neg_books, neg_links = self.draw_negatives(rng, n_negative)
        book = np.concatenate(
            [self.pairs[chosen, 0].reshape(steps, -1), neg_books.reshape(steps, -1)], axis=1
        )
        link = np.concatenate(
            [self.pairs[chosen, 1].reshape(steps, -1), neg_links.reshape(steps, -1)], axis=1
        )
        negative_label = 0.0 if self.mode == "classification" else -1.0
        label = np.full(book.shape, negative_label, dtype=np.float32)
        label[:, :batch_positives] = 1.0
        order = rng.permuted(np.broadcast_to(np.arange(book.shape[1]), book.shape), axis=1)
        return EpochBatches(
            book=np.take_along_axis(book, order, axis=1),
            link=np.take_along_axis(link, order, axis=1),
            label=np.take_along_axis(label, order, axis=1),
        )


def _check_args(pairs, n_books, n_links, negative_ratio, mode, negatives) -> None:
    if pairs.ndim != 2 or pairs.shape[1] != 2 or not np.issubdtype(pairs.dtype, np.integer):
        raise ValueError(f"pairs must be an int array of shape (n, 2), not {pairs.shape}")
    if len(pairs) == 0:
        raise ValueError("no pairs to train on")
    if n_books < 1 or n_links < 1:
        raise ValueError("n_books and n_links must be at least 1")
    if pairs.min() < 0 or pairs[:, 0].max() >= n_books or pairs[:, 1].max() >= n_links:
        raise ValueError("pairs refer to books or links out of range")
    if int(negative_ratio) != negative_ratio or negative_ratio < 0:
        raise ValueError(f"negative_ratio must be a whole number >= 0, not {negative_ratio}")
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    if negatives not in NEGATIVES:
        raise ValueError(f"negatives must be one of {', '.join(NEGATIVES)}, not {negatives!r}")
