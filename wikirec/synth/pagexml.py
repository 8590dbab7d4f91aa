"""The ``<page>`` element of a generated page: page id, revision, timestamp, contributor,
edit comment, the escaped wikitext and its base-36 SHA-1, as MediaWiki exports them.

The metadata comes from the revision stream (``meta``) alone, so the page texts can
change without shifting any page's id or timestamp.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone

import numpy as np

from wikirec.synth.tables import HEADINGS
from wikirec.synth.text import TitleSpace, Uniform


def contributors(rng: np.random.Generator, words: list[str]) -> list[tuple[str, int]]:
    """2,000 made-up user names with their user ids."""
    users: dict[str, int] = {}
    while len(users) < 2000:
        a = words[int(rng.integers(len(words)))]
        b = words[int(rng.integers(len(words)))]
        style = int(rng.integers(4))
        name = (
            a.capitalize() + b.capitalize(),
            f"{a.capitalize()} {b.capitalize()}",
            f"{a.capitalize()}{int(rng.integers(1, 999))}",
            f"{a.capitalize()}bot",
        )[style]
        users.setdefault(name, int(rng.integers(1, 34_000_000)))
    return list(users.items())


def edit_comments(rng: np.random.Generator, space: TitleSpace) -> list[str]:
    """Edit summaries as editors write them (``{}``: a section heading goes there)."""
    ip = ".".join(str(int(x)) for x in rng.integers(1, 255, size=4))
    user = space.title(int(rng.integers(1 << 30))).replace(" ", "")
    return [
        "/* {} */ copyedit",
        "/* {} */",
        "typo",
        "clean up",
        "ce",
        f"Reverted edits by [[Special:Contributions/{ip}|{ip}]] ([[User talk:{ip}|talk]]) "
        f"to last version by {user}",
        "add [[WP:RCAT|rcat]]s",
        "Rescuing 1 sources and tagging 0 as dead. #IABot (v1.6.5)",
        "[[WP:AWB/T|Typo fixing]], replaced: it's → its",
        "a better word; use [[plain English]] -> [[WP:MOS]]",
        'Removing link(s) to "{}": deleted page',
        "Adding short description",
        "link",
        "updated population & area",
        "rv vandalism",
        "{{cn}} tag",
    ]


class PageXml:
    """Writes ``<page>`` elements with increasing page ids."""

    def __init__(
        self,
        meta: Uniform,
        first_page_id: int,
        users: list[tuple[str, int]],
        comments: list[str],
    ) -> None:
        self.meta = meta
        self.page_id = first_page_id
        self.users = users
        self.comments = comments

    def page(
        self, title: str, ns: int, text: str, redirect: str | None = None, page_id: int = 0
    ) -> tuple[int, bytes, int, str]:
        """``(page_id, xml, bytes of the wikitext, timestamp)`` of the next page (its id
        ``page_id`` when given, else the last one's plus a gap drawn from the stream)."""
        m = self.meta.random
        if page_id:
            self.page_id = page_id
        else:
            self.page_id += 1 if m() < 0.6 else 2 + int(m() * 12)
        raw = text.encode("utf-8")
        revid = 500_000_000 + int(m() * 350_000_000)
        stamp = revision_time(m())
        parts = [
            "  <page>\n    <title>",
            esc(title),
            "</title>\n    <ns>",
            str(ns),
            "</ns>\n    <id>",
            str(self.page_id),
            "</id>\n",
        ]
        if redirect is not None:
            parts += ['    <redirect title="', esc(redirect), '" />\n']
        parts += ["    <revision>\n      <id>", str(revid), "</id>\n"]
        if m() < 0.97:
            parts += ["      <parentid>", str(revid - 1 - int(m() * 40_000_000)), "</parentid>\n"]
        parts += ["      <timestamp>", stamp, "</timestamp>\n      <contributor>\n"]
        if m() < 0.2:
            ip = f"{1 + int(m() * 222)}.{int(m() * 256)}.{int(m() * 256)}.{1 + int(m() * 254)}"
            parts += ["        <ip>", ip, "</ip>\n"]
        else:
            user, uid = self.users[int(m() * len(self.users))]
            parts += [
                "        <username>",
                esc(user),
                "</username>\n        <id>",
                str(uid),
                "</id>\n",
            ]
        parts.append("      </contributor>\n")
        if m() < 0.25:
            parts.append("      <minor />\n")
        if m() < 0.9:
            comment = self.comments[int(m() * len(self.comments))]
            if "{}" in comment:
                comment = comment.replace("{}", HEADINGS[int(m() * len(HEADINGS))])
            parts += ["      <comment>", esc(comment), "</comment>\n"]
        parts += [
            "      <model>wikitext</model>\n      <format>text/x-wiki</format>\n"
            '      <text xml:space="preserve" bytes="',
            str(len(raw)),
            '">',
            esc(text),
            "</text>\n      <sha1>",
            sha1_base36(raw),
            "</sha1>\n    </revision>\n  </page>\n",
        ]
        return self.page_id, "".join(parts).encode("utf-8"), len(raw), stamp


def revision_time(u: float) -> str:
    """The timestamp of a revision, from a uniform draw ``u``: 2007-01-01 to 2018-08."""
    seconds = 1_167_609_600 + int(u * 368_000_000)
    return datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def esc(text: str) -> str:
    """XML-escape text and attribute values (``& < > "``, as MediaWiki's exporter)."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if '"' in text:
        text = text.replace('"', "&quot;")
    return text


_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"
# Every three base-36 digits: 46,656 strings, so a hash takes 11 divisions, not 31.
_B36_3 = [a + b + c for a in _B36 for b in _B36 for c in _B36]


def sha1_base36(data: bytes) -> str:
    """SHA-1 in base 36, zero-padded to 31 digits, as in ``<sha1>`` of real dumps."""
    n = int.from_bytes(hashlib.sha1(data).digest(), "big")
    chunks = []
    while n:
        n, d = divmod(n, 46656)
        chunks.append(_B36_3[d])
    return "".join(reversed(chunks)).lstrip("0").rjust(31, "0")
