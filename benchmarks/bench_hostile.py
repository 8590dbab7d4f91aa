"""What a hostile page costs the page reader, against a normal page of the same size.

    python benchmarks/bench_hostile.py [--rounds 5]

Each hostile page is the real "Animal Farm" page of the bundled enwiki fragment with a
payload put into it (the cases of issue 13, and the worst inputs found for
mwparserfromhell); its normal twin has as many bytes of real wikitext at the end of
its text (the fragment's "Anarchism" article, XML-escaped as in the dump). Both go
through ``read_page`` (prefilter, decoding, hidden regions, template search, the
infobox through mwparserfromhell when under its bounds, links) with the in-links
collector, as ``wikirec parse`` reads them; the best of ``--rounds`` is kept. Prints
for each case: the page's size, both times, their ratio, and what came out.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from wikirec.dump import Chunk, RawPage, iter_pages, plan_chunks
from wikirec.parse import BOOK_TEMPLATES, LinkCollector
from wikirec.titles import TemplateMatcher
from wikirec.wikitext import ChunkStats, read_page

FRAGMENT = (
    Path(__file__).resolve().parents[1] / "wikirec" / "data" / ("enwiki-sample-p10p30302.xml.bz2")
)
INFOBOX = b"{{Infobox book"
AUTHOR = b"| author"
LEAD = b"'''''Animal Farm'''''"  # where the article's lead starts
LEAD_TEXT = b" is an [[allegory|allegorical]]"  # inside its first sentence

# (name, where the payload goes, payload as it stands in the dump: XML-escaped)
CASES = [
    ('"{{" and 2,000 spaces before the infobox', INFOBOX, b"{{" + b" " * 2_000),
    ('"{{" and 20,000 spaces before the infobox', INFOBOX, b"{{" + b" " * 20_000),
    ('16,000 unclosed "<nowiki " before the infobox', INFOBOX, b"&lt;nowiki " * 16_000),
    ('16,000 unclosed "<nowiki " at the end', b"</text>", b"&lt;nowiki " * 16_000),
    ("infobox never closed, 10,000 nested {{x|", AUTHOR, b"{{x|" * 10_000),
    ('infobox field: 64 unclosed "<ref "', AUTHOR, b"| x = " + b"&lt;ref " * 64),
    ('infobox field: 2,000 unclosed "<ref "', AUTHOR, b"| x = " + b"&lt;ref " * 2_000),
    ('infobox field: 300 "[http://a "', AUTHOR, b"| x = " + b"[http://a.example/ " * 300),
    ("infobox field: 300 unclosed <ref>", AUTHOR, b"| x = " + b"&lt;ref&gt;" * 300),
    ("infobox field: 5,000 bold quotes", AUTHOR, b"| x = " + b"'''" * 5_000),
    ("infobox field: 300 unclosed tables", AUTHOR, b"| x = " + b"{| x\n" * 300),
    # The lead (its first sentences): found by skipping what opens a page, then read by
    # mwparserfromhell within the infobox's bounds.
    ('lead: 20,000 unclosed "{{" before it', LEAD, b"{{" * 20_000),
    ("lead: 10,000 closed templates before it", LEAD, b"{{x}}\n" * 10_000),
    ('lead: 5,000 nested unclosed "[[File:"', LEAD, b"[[File:x|" * 5_000),
    ("lead: 10,000 list lines before it", LEAD, b"* x\n" * 10_000),
    ('lead: 2,000 unclosed "<ref " in it', LEAD_TEXT, b"&lt;ref " * 2_000),
    ("lead: 1,000 unclosed {{lang|x| in it", LEAD_TEXT, b"{{lang|x|" * 1_000),
    ("lead: 5,000 bold quotes in it", LEAD_TEXT, b"'''" * 5_000),
]


def real_pages() -> list[bytes]:
    return [p.xml for p in iter_pages(plan_chunks(FRAGMENT)[0], [])]


def page_titled(pages: list[bytes], title: bytes) -> bytes:
    return next(p for p in pages if b"<title>" + title + b"</title>" in p)


def filler(pages: list[bytes], size: int) -> bytes:
    """``size`` bytes of real, XML-escaped wikitext, cut where no entity is cut."""
    xml = page_titled(pages, b"Anarchism")
    text = xml[xml.index(b">", xml.index(b"<text")) + 1 : xml.index(b"</text>")]
    text = text.replace(b"{", b"(").replace(b"}", b")")  # no template may open or close
    while len(text) < size:
        text += text
    cut = text[:size]
    amp = cut.rfind(b"&")
    if amp >= 0 and b";" not in cut[amp:]:
        cut = cut[:amp] + b" " * (size - amp)
    return cut


def insert(page: bytes, where: bytes, payload: bytes) -> bytes:
    at = page.index(where)
    return page[:at] + payload + page[at:]


def best_time(xml: bytes, matcher: TemplateMatcher, rounds: int) -> tuple[float, str]:
    chunk = Chunk(str(FRAGMENT), "xml", 0, 1, 0)
    best, outcome = float("inf"), ""
    for _ in range(rounds):
        stats = ChunkStats()
        started = time.perf_counter()
        result = read_page(RawPage(xml, 0), matcher, stats, chunk, LinkCollector())
        best = min(best, time.perf_counter() - started)
        if result is not None:
            outcome = result[0]
        elif stats.errors:
            outcome = "skipped: " + stats.errors[0].split(": ", 1)[1][:70]
        else:
            outcome = "not kept"
    return best, outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--cases", default=None, help="which cases, by number from 1 (e.g. 1,3); default all"
    )
    args = parser.parse_args()
    chosen = {int(n) for n in args.cases.split(",")} if args.cases else None
    pages = real_pages()
    farm = page_titled(pages, b"Animal Farm")
    matcher = TemplateMatcher(BOOK_TEMPLATES)
    plain, _ = best_time(farm, matcher, args.rounds)
    print(f"the real page alone: {len(farm) / 1e3:.0f} KB, {plain * 1e3:.1f} ms")
    print("| case | KB | hostile ms | normal ms | ratio | hostile page |")
    print("|---|---:|---:|---:|---:|---|")
    for number, (name, where, payload) in enumerate(CASES, 1):
        if chosen is not None and number not in chosen:
            continue
        hostile = insert(farm, where, payload)
        normal = insert(farm, b"</text>", filler(pages, len(payload)))
        assert len(hostile) == len(normal)
        hostile_s, outcome = best_time(hostile, matcher, args.rounds)
        shown = name.replace("|", "\\|")  # a Markdown table's cell
        normal_s, _ = best_time(normal, matcher, args.rounds)
        print(
            f"| {shown} | {len(hostile) / 1e3:.0f} | {hostile_s * 1e3:.1f} | "
            f"{normal_s * 1e3:.1f} | {hostile_s / normal_s:.2f} | {outcome} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
