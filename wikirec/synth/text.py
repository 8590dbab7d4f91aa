"""Randomness and prose: the seeded streams, buffered uniform draws, filler titles, and
sentences of words with the frequencies of the bundled real dump fragment.

Every draw of the generator comes from one of five streams spawned from the seed
(:func:`streams`): the plan, the page texts, the words of the prose, the
``<revision>`` metadata, and the pages that link to many books (awards, lists).
Keeping them apart lets each part of the code draw in its own order without shifting
the others.
"""

from __future__ import annotations

import bz2
import collections
import html
import math
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import NamedTuple

import numpy as np

from wikirec.synth.tables import MARKUP_WORDS, SAMPLE_DUMP, STOPWORDS
from wikirec.titles import upper_first


class Streams(NamedTuple):
    plan: np.random.SeedSequence
    text: np.random.SeedSequence
    words: np.random.SeedSequence
    meta: np.random.SeedSequence
    inlinks: np.random.SeedSequence  # spawned last: the first four stay as they were


def streams(seed: int) -> Streams:
    """The generator's independent random streams for ``seed``."""
    return Streams(*np.random.SeedSequence(seed).spawn(len(Streams._fields)))


def block_streams(seed: int, block: int) -> Streams:
    """The streams of one block of a dump written in blocks (``block_pages``): drawn from
    the seed and the block's number alone (the 0xB10C keeps them apart from
    :func:`streams`' for any seed)."""
    sequence = np.random.SeedSequence([seed, 0xB10C, block])
    return Streams(*sequence.spawn(len(Streams._fields)))


class Uniform:
    """Uniform draws in [0, 1) from a numpy Generator, buffered (a scalar draw from numpy
    costs as much as a thousand buffered ones)."""

    __slots__ = ("rng", "buf", "i")

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.buf: list[float] = []
        self.i = 0

    def random(self) -> float:
        i = self.i
        if i >= len(self.buf):
            self.buf = self.rng.random(1 << 15).tolist()
            i = 0
        self.i = i + 1
        return self.buf[i]

    def below(self, n: int) -> int:
        return int(self.random() * n)

    def pick(self, seq: Sequence):
        return seq[int(self.random() * len(seq))]


def mix(x: int) -> int:
    """splitmix64: a fixed, well-spread hash of an integer."""
    x = (x + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return x ^ (x >> 31)


# Markup that survives the crude clean-up below: never prose.
_MARKUP = re.compile(
    r"<ref[^>]*/>|<ref[^>]*>.*?</ref>|<!--.*?-->|\{\{[^{}]*\}\}|\[\[[^\[\]|]*\||https?://\S+"
    r"|<[^>]*>|^[ \t]*[|!{][^\n]*",  # the last: table rows
    re.S | re.M,
)


@lru_cache(maxsize=1)
def vocabulary() -> tuple[tuple[str, ...], tuple[int, ...], tuple[str, ...]]:
    """Words of the bundled real dump fragment's prose with their counts, and the words
    filler titles are made of (lower case, 4-12 letters, no stop word)."""
    raw = bz2.decompress(SAMPLE_DUMP.read_bytes()).decode("utf-8")
    text = "\n".join(re.findall(r"<text[^>]*>(.*?)</text>", raw, re.S))
    text = html.unescape(html.unescape(text))  # XML escaping, then wikitext entities
    for _ in range(3):
        text = _MARKUP.sub(" ", text)
    counts = collections.Counter(re.findall(r"\b[a-z]+(?:'[a-z]+)?\b", text))
    for word in MARKUP_WORDS:
        counts.pop(word, None)
    prose = sorted(
        ((w, c) for w, c in counts.items() if c >= 2 and (len(w) > 1 or w == "a")),
        key=lambda wc: (-wc[1], wc[0]),
    )
    title_words = sorted(
        w
        for w, c in counts.items()
        if c >= 3 and re.fullmatch(r"[a-z]{4,12}", w) and w not in STOPWORDS
    )
    return tuple(w for w, _ in prose), tuple(c for _, c in prose), tuple(title_words)


class TitleSpace:
    """A bijection from integers to distinct two-word titles ("Harbor lantern")."""

    def __init__(self, words: Sequence[str], rng: np.random.Generator) -> None:
        self.words = list(words)
        self.caps = [upper_first(w) for w in self.words]
        self.size = len(self.words)
        self.m = self.size * self.size
        a = int(rng.integers(self.m // 3, self.m)) | 1
        while math.gcd(a, self.m) != 1:
            a += 2
        self.a = a
        self.b = int(rng.integers(0, self.m))

    def title(self, j: int) -> str:
        hi, lo = divmod((self.a * j + self.b) % self.m, self.size)
        return self.caps[hi] + " " + self.words[lo]

    def titles(self, js: np.ndarray) -> list[str]:
        """:meth:`title` of each of ``js`` (below 2**63 / m), made at once."""
        hi, lo = np.divmod((self.a * (js.astype(np.int64) % self.m) + self.b) % self.m, self.size)
        caps, words = self.caps, self.words
        return [caps[h] + " " + words[w] for h, w in zip(hi.tolist(), lo.tolist(), strict=True)]


class Prose:
    """Sentences of words drawn with the real fragment's word frequencies.

    Sentence structure (capitals, full stops, commas, the odd year) is drawn with numpy
    for a whole buffer of tokens at once; a paragraph is a slice of that buffer."""

    BUFFER = 1 << 16

    def __init__(self, rng: np.random.Generator, rand: Uniform) -> None:
        words, counts, _ = vocabulary()
        p = np.asarray(counts, dtype=float)
        p /= p.sum()
        self.rng = rng
        self.rand = rand
        self.n_words = len(words)
        caps = [upper_first(w) for w in words]
        years = [str(y) for y in range(1700, 2018)]
        self.n_years = len(years)
        # Token ids: word, Word, word., word, (each n_words long), then years.
        self.tokens = np.array(
            [*words, *caps, *(w + "." for w in words), *(w + "," for w in words), *years],
            dtype=object,
        )
        self.cdf = np.cumsum(p)
        self.cdf[-1] = 1.0
        self.buf: list[str] = []
        self.pos = 0
        self._refill()
        self.chars_per_word = sum(len(t) + 1 for t in self.buf) / len(self.buf)

    def _refill(self) -> None:
        rng, k, v = self.rng, self.BUFFER, self.n_words
        ids = np.searchsorted(self.cdf, rng.random(k), side="right")
        plain = ids.copy()
        variant = np.zeros(k, dtype=ids.dtype)
        variant[rng.integers(0, k, size=k // 30)] = 3  # commas
        variant[rng.integers(0, k, size=k // 60)] = 1  # proper nouns
        ids += v * variant
        years = rng.integers(0, k, size=k // 200)
        ids[years] = 4 * v + rng.integers(0, self.n_years, size=len(years))
        ends = np.cumsum(rng.integers(5, 25, size=k // 5 + 2)) - 1
        ends = ends[ends < k - 1]
        ids[ends] = plain[ends] + 2 * v  # full stops
        ids[ends + 1] = plain[ends + 1] + v  # capitals
        self.buf = self.tokens[ids].tolist()
        self.pos = 0

    def take(self, n: int) -> list[str]:
        out: list[str] = []
        while len(out) < n:
            if self.pos >= len(self.buf):
                self._refill()
            want = n - len(out)
            out += self.buf[self.pos : self.pos + want]
            self.pos += want
        return out

    def paragraph(self, n_chars: float, links: Sequence[str] = (), refs: Sequence[str] = ()) -> str:
        """About ``n_chars`` of sentences; ``links`` replace words, in their order (one in
        each equal share of the words), and ``refs`` follow random words."""
        n = max(int(n_chars / self.chars_per_word), 2 * (len(links) + len(refs)) + 4)
        toks = self.take(n)
        first, last = toks[0], toks[-1]
        toks[0] = upper_first(first)
        if last[-1] != ".":
            toks[-1] = (last[:-1] if last[-1] == "," else last) + "."
        r = self.rand.random
        m = len(links)
        for i, link in enumerate(links):
            low = i * n // m  # disjoint bins of at least two words each
            p = low + int(r() * ((i + 1) * n // m - low))
            end = toks[p][-1]
            toks[p] = link + end if end in ".," else link
        for ref in refs:
            toks[int(r() * n)] += ref
        return " ".join(toks)

    def phrase(self, n_words: int, capital: bool = True) -> str:
        """A few words without punctuation (titles, names)."""
        words = [w.rstrip(".,") for w in self.take(n_words)]
        if capital:
            words = [upper_first(w) for w in words]
        return " ".join(words)

    def shuffled(self, items: Sequence[str]) -> list[str]:
        """``items`` in a random order of the words' stream."""
        return [items[i] for i in self.rng.permutation(len(items)).tolist()]
