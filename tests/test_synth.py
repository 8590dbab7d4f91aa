"""`wikirec.synth`: synthetic dumps, their multistream layout and their ground truth."""

from __future__ import annotations

import argparse
import bz2
import collections
import hashlib
import io
import json
import re
import statistics
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from wikirec import synth
from wikirec.parse import parse_dumps
from wikirec.synth import (
    GeneratorOptions,
    generate_dump,
    generate_partitions,
    load_truth,
    valid_title,
    write_records,
)
from wikirec.synth.text import Prose, Uniform
from wikirec.titles import TemplateMatcher, canonical_template_name, normalize_title

NS = "{http://www.mediawiki.org/xml/export-0.10/}"
BOOK_NAMES = ("Infobox book", "Infobox novel")
N_BOOKS = 40


def read_xml(data: bytes) -> tuple[ET.Element, list[dict]]:
    """The <siteinfo> element and every page of a dump's XML, parsed by iterparse."""
    siteinfo = None
    pages = []
    for _, el in ET.iterparse(io.BytesIO(data)):
        if el.tag == NS + "siteinfo":
            siteinfo = el
        elif el.tag == NS + "page":
            rev = el.find(NS + "revision")
            text = rev.find(NS + "text")
            redirect = el.find(NS + "redirect")
            pages.append(
                {
                    "title": el.findtext(NS + "title"),
                    "ns": int(el.findtext(NS + "ns")),
                    "id": int(el.findtext(NS + "id")),
                    "redirect": redirect.get("title") if redirect is not None else None,
                    "text": text.text or "",
                    "bytes": int(text.get("bytes")),
                    "space": text.get("{http://www.w3.org/XML/1998/namespace}space"),
                    "sha1": rev.findtext(NS + "sha1"),
                    "timestamp": rev.findtext(NS + "timestamp"),
                }
            )
            el.clear()
    assert siteinfo is not None
    return siteinfo, pages


def base36_sha1(text: str) -> str:
    n = int(hashlib.sha1(text.encode("utf-8")).hexdigest(), 16)
    digits = ""
    while n:
        n, d = divmod(n, 36)
        digits = "0123456789abcdefghijklmnopqrstuvwxyz"[d] + digits
    return digits.rjust(31, "0")


def links_in(text: str) -> list[str]:
    """Wikilink targets outside comments, normalised as the parser does."""
    visible = re.sub(r"<!--.*?-->|<nowiki>.*?</nowiki>", " ", text, flags=re.S)
    targets = (
        normalize_title(t) for t in re.findall(r"\[\[([^\[\]|\n{}<>]*?)(?=\||\]\])", visible)
    )
    return [t for t in targets if t]


def templates_in(text: str) -> list[str]:
    """Names of the templates a text opens, as written."""
    return re.findall(r"\{\{([^{}|<>\[\]\n]+?)\s*(?=\||\}\}|\n|<!--)", text)


@pytest.fixture(scope="module")
def dump(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("synth")
    path = folder / "synth-pages-articles-multistream.xml.bz2"
    return generate_dump(path, xml_bytes=2_500_000, seed=7, n_books=N_BOOKS, pages_per_stream=50)


@pytest.fixture(scope="module")
def parsed(dump) -> tuple[ET.Element, list[dict]]:
    return read_xml(bz2.decompress(Path(dump["path"]).read_bytes()))


@pytest.fixture(scope="module")
def pages(parsed) -> dict[str, dict]:
    return {p["title"]: p for p in parsed[1]}


@pytest.fixture(scope="module")
def truth(dump) -> dict:
    return load_truth(dump["truth"])


# ----------------------------------------------------------------------- files


def test_same_arguments_same_bytes(tmp_path):
    names = ("d.xml.bz2", "d-index.txt.bz2", "d.xml.bz2.truth.json.gz")
    runs = []
    for folder, seed in (("a", 3), ("b", 3), ("c", 4)):
        (tmp_path / folder).mkdir()
        generate_dump(tmp_path / folder / "d.xml.bz2", xml_bytes=600_000, seed=seed, n_books=8)
        runs.append([(tmp_path / folder / n).read_bytes() for n in names])
    assert runs[0] == runs[1]
    assert runs[0][0] != runs[2][0] and runs[0][2] != runs[2][2]


def test_plain_xml_is_the_decompressed_dump(tmp_path):
    args = dict(xml_bytes=500_000, seed=1, n_books=5)
    xml = generate_dump(tmp_path / "d.xml", **args)
    packed = generate_dump(tmp_path / "d.xml.bz2", **args)
    single = generate_dump(tmp_path / "s.xml.bz2", multistream=False, **args)
    plain = (tmp_path / "d.xml").read_bytes()
    assert plain.startswith(b"<mediawiki ") and plain.endswith(b"</mediawiki>\n")
    assert bz2.decompress((tmp_path / "d.xml.bz2").read_bytes()) == plain
    assert xml["compressed_bytes"] is None and xml["index"] is None
    assert packed["streams"] > 2
    # Single stream: one decompressor reaches the end of the file, and no index.
    data = (tmp_path / "s.xml.bz2").read_bytes()
    decompressor = bz2.BZ2Decompressor()
    assert decompressor.decompress(data) == plain
    assert decompressor.eof and decompressor.unused_data == b""
    assert single["index"] is None and not (tmp_path / "s-index.txt.bz2").exists()


def test_xml_is_well_formed_with_siteinfo(dump, parsed):
    siteinfo, page_list = parsed
    namespaces = {int(ns.get("key")): ns.text or "" for ns in siteinfo.iter(NS + "namespace")}
    assert namespaces[0] == "" and namespaces[4] == "Wikipedia"
    assert namespaces[10] == "Template" and namespaces[14] == "Category"
    assert siteinfo.findtext(NS + "dbname") == "enwiki"
    assert len(page_list) == dump["pages"]
    assert len(bz2.decompress(Path(dump["path"]).read_bytes())) == dump["xml_bytes"]
    ids = [p["id"] for p in page_list]
    assert ids == sorted(set(ids))
    assert len({p["title"] for p in page_list}) == len(page_list)
    for p in page_list:
        assert p["bytes"] == len(p["text"].encode("utf-8")), p["title"]
        assert p["sha1"] == base36_sha1(p["text"]), p["title"]
        assert p["space"] == "preserve"
        assert re.fullmatch(r"20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ", p["timestamp"])
        if p["ns"] == 0:
            assert valid_title(p["title"]), p["title"]
        else:
            prefix, rest = p["title"].split(":", 1)
            assert prefix == namespaces[p["ns"]] and valid_title(rest), p["title"]
    assert {4, 10, 14} <= {p["ns"] for p in page_list}


def test_size_and_fractions(tmp_path):
    stats = generate_dump(
        tmp_path / "d.xml.bz2", xml_bytes=3_000_000, seed=2, book_page_fraction=0.02
    )
    assert abs(stats["xml_bytes"] - 3_000_000) < 0.03 * 3_000_000
    assert 0.45 < stats["redirects"] / stats["pages"] < 0.55
    expected = 0.02 * stats["pages"]
    assert abs(stats["books"] - expected) <= 0.25 * expected + 2
    truth = load_truth(stats["truth"])
    assert len(truth["entities"]) == stats["books"]


def test_multistream_index_points_at_streams(dump, parsed):
    path = Path(dump["path"])
    index = Path(dump["index"])
    assert index.name == "synth-pages-articles-multistream-index.txt.bz2"
    data = path.read_bytes()
    lines = bz2.decompress(index.read_bytes()).decode("utf-8").splitlines()
    assert len(lines) == dump["pages"]
    by_offset: dict[int, list[tuple[int, str]]] = collections.defaultdict(list)
    for line in lines:
        offset, page_id, title = line.split(":", 2)
        by_offset[int(offset)].append((int(page_id), title))
    offsets = sorted(by_offset)
    assert offsets[0] > 0 and len(offsets) == dump["streams"] - 2  # header, footer
    assert [len(by_offset[o]) for o in offsets[:-1]] == [50] * (len(offsets) - 1)
    header = bz2.BZ2Decompressor()
    assert header.decompress(data).endswith(b"</siteinfo>\n")
    assert len(data) - len(header.unused_data) == offsets[0]
    for offset in offsets:
        assert data[offset : offset + 3] == b"BZh"
        stream = bz2.BZ2Decompressor()
        xml = stream.decompress(data[offset:]).decode("utf-8")
        assert stream.eof
        assert xml.count("<page>") == len(by_offset[offset])
        for page_id, title in by_offset[offset]:
            escaped = title.replace("&", "&amp;").replace('"', "&quot;")
            assert f"<title>{escaped}</title>\n    <ns>" in xml
            assert f"<id>{page_id}</id>" in xml
    tail = bz2.BZ2Decompressor()
    last = offsets[-1]
    rest = data[last:]
    tail.decompress(rest)
    assert bz2.decompress(tail.unused_data) == b"</mediawiki>\n"
    assert [(p["id"], p["title"]) for p in parsed[1]] == [x for o in offsets for x in by_offset[o]]


# ----------------------------------------------------------------------- pages


def test_redirects_point_at_pages(dump, pages, truth):
    redirects = [p for p in pages.values() if p["redirect"] is not None]
    assert len(redirects) == dump["redirects"]
    for p in redirects:
        target = p["redirect"]
        match = re.match(r"#REDIRECT \[\[([^\]]+)\]\]", p["text"], re.I)
        assert match and match.group(1) == target, p["title"]
        assert target in pages and pages[target]["redirect"] is None, (p["title"], target)
    planted = truth["redirects"]
    assert planted
    for r in planted:
        assert pages[r["source"]]["redirect"] == r["target"]
        assert pages[r["source"]]["ns"] == r["ns"]
    # Some planted names are the kind a redirect resolver must handle.
    sources = {(r["source"], r["target"]) for r in planted}
    assert any(s.lower() == t.lower() and s != t for s, t in sources)
    assert any(s == "The " + t or t == "The " + s or s == t + " (book)" for s, t in sources)
    assert ("New York Times", "The New York Times") in sources


def test_book_pages_carry_the_infobox(pages, truth):
    matcher = TemplateMatcher(BOOK_NAMES)
    with_infobox = {
        title
        for title, p in pages.items()
        if p["ns"] == 0 and any(matcher.matches(t) for t in templates_in(p["text"]))
    }
    entities = {e["title"] for e in truth["entities"]}
    assert len(entities) == N_BOOKS
    assert with_infobox == entities
    written = collections.Counter(e["template_written"] for e in truth["entities"])
    assert len(written) >= 3  # spelled several ways MediaWiki treats as one
    for e in truth["entities"]:
        text = pages[e["title"]]["text"]
        assert text.count("{{" + e["template_written"]) == 1
        assert e["template"] in BOOK_NAMES
        assert canonical_template_name(e["template_written"]) == e["template"]
    # The template page itself mentions "{{Infobox book" but is not in the main namespace.
    assert "{{Infobox book" in pages["Template:Infobox book"]["text"]
    assert pages["Template:Infobox book"]["ns"] == 10


def test_truth_matches_the_pages(pages, truth):
    articles = {t for t, p in pages.items() if p["ns"] == 0 and p["redirect"] is None}
    by_title = {e["title"]: e for e in truth["entities"]}
    for e in truth["entities"]:
        page = pages[e["title"]]
        assert page["id"] == e["page_id"]
        assert page["bytes"] == e["text_bytes"]
        assert links_in(page["text"]) == e["wikilinks"], e["title"]
        assert [x for x in e["wikilinks"] if x.startswith("Category:")] == [
            "Category:" + c for c in e["categories"]
        ]
        resolved = e["wikilinks_resolved"]
        for target in resolved:
            assert target.startswith("Category:") or target in articles, (e["title"], target)
        for key in ("author", "genre", "country", "publisher"):
            assert e[key] in articles
        assert e["author"] in resolved and e["genre"] in resolved
        assert set(e["topics"]) <= set(resolved)
        assert f"[[Category:{e['year']} " in page["text"]
        for alias in e["aliases"]:
            assert pages[alias]["redirect"] == e["title"]
        if e["series"] is not None:
            assert e["series"] in resolved and e["series"] in articles
        if e["followed_by"] is not None:
            assert e["followed_by"] in resolved
            assert by_title[e["followed_by"]]["preceded_by"] == e["title"]
    for a in truth["authors"]:
        assert pages[a["title"]]["id"] == a["page_id"]
        assert all(by_title[b]["author"] == a["title"] for b in a["books"])
    assert sum(len(a["books"]) for a in truth["authors"]) == N_BOOKS


def test_planted_structure_is_learnable(truth):
    entities = truth["entities"]
    topics = [set(e["topics"]) for e in entities]

    def jaccard(a: set, b: set) -> float:
        return len(a & b) / len(a | b) if a | b else 0.0

    same, other = [], []
    for i in range(len(entities)):
        for j in range(i + 1, len(entities)):
            same_genre = entities[i]["genre"] == entities[j]["genre"]
            (same if same_genre else other).append(jaccard(topics[i], topics[j]))
    assert same and other
    assert statistics.mean(same) > 3 * statistics.mean(other)
    counts = [len(e["wikilinks"]) for e in entities]
    assert 15 < statistics.mean(counts) < 45
    assert max(counts) > 1.6 * statistics.median(counts)  # a heavy tail
    sizes = [e["text_bytes"] for e in entities]
    assert min(sizes) >= 5000 and max(sizes) < 45000
    # Topics come from the genre's pool, the author's pet topics and at most one other.
    genres = {g["title"]: set(g["topics"]) for g in truth["genres"]}
    pets = {a["title"]: set(a["topics"]) for a in truth["authors"]}
    in_pool = 0
    for e in entities:
        assert len(set(e["topics"]) - genres[e["genre"]] - pets[e["author"]]) <= 1
        in_pool += len(set(e["topics"]) & genres[e["genre"]])
    assert in_pool > 0.6 * sum(len(e["topics"]) for e in entities)


def test_paragraph_keeps_every_link_in_order():
    prose = Prose(np.random.default_rng(0), Uniform(np.random.default_rng(1)))
    for m in range(1, 120):
        links = [f"[[L{m}x{i}]]" for i in range(m)]
        refs = ["<ref>r</ref>"] * (m % 3)
        text = prose.paragraph(40 + (97 * m) % 1500, links, refs)
        assert all(text.count(link) == 1 for link in links), m
        positions = [text.index(link) for link in links]
        assert positions == sorted(positions)
        assert text.count("<ref>r</ref>") == len(refs)
        assert text[0].isupper() or text.startswith("[[")
        assert text.replace("<ref>r</ref>", "").endswith(".")


def test_film_entities(tmp_path):
    stats = generate_dump(
        tmp_path / "f.xml.bz2", xml_bytes=700_000, seed=4, n_books=12, template="Infobox film"
    )
    truth = load_truth(stats["truth"])
    _, page_list = read_xml(bz2.decompress(Path(stats["path"]).read_bytes()))
    matcher = TemplateMatcher(["Infobox film", "Infobox movie"])
    with_infobox = {
        p["title"]
        for p in page_list
        if p["ns"] == 0 and any(matcher.matches(t) for t in templates_in(p["text"]))
    }
    assert with_infobox == {e["title"] for e in truth["entities"]}
    assert len(with_infobox) == 12
    assert truth["creator_field"] == "director"
    assert all(e["director"] == e["author"] for e in truth["entities"])
    assert all(e["year"] >= 1915 for e in truth["entities"])


def test_partitions(tmp_path):
    stats = generate_partitions(tmp_path, 3, xml_bytes=900_000, seed=5, n_books=6)
    names = sorted(p.name for p in tmp_path.iterdir())
    dumps = [n for n in names if n.endswith(".bz2")]
    assert names == sorted([*dumps, "synth-truth.json.gz"])
    previous_last = 0
    total = 0
    for number, name in enumerate(sorted(dumps, key=lambda n: int(n.split("articles")[1][0])), 1):
        match = re.fullmatch(r"synth-pages-articles(\d)\.xml-p(\d+)p(\d+)\.bz2", name)
        assert match and int(match.group(1)) == number
        _, page_list = read_xml(bz2.decompress((tmp_path / name).read_bytes()))
        ids = [p["id"] for p in page_list]
        assert (ids[0], ids[-1]) == (int(match.group(2)), int(match.group(3)))
        assert ids[0] > previous_last
        previous_last = ids[-1]
        total += len(page_list)
    assert total == stats["pages"]
    assert len(load_truth(tmp_path / "synth-truth.json.gz")["files"]) == 3


def test_cli(tmp_path, capsys):
    parser = argparse.ArgumentParser(prog="wikirec")
    synth.add_command(parser.add_subparsers(dest="command", required=True))
    out = tmp_path / "cli.xml.bz2"
    args = parser.parse_args(["generate", str(out), "--size-mb", "0.4", "--books", "3", "--quiet"])
    assert args.handler(args) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith(f"wrote {out}") and "\n" not in line
    assert out.exists() and (tmp_path / "cli-index.txt.bz2").exists()
    assert len(load_truth(synth.truth_path_for(out))["entities"]) == 3
    args = parser.parse_args(["generate", str(tmp_path / "bad.txt"), "--quiet"])
    assert args.handler(args) == 2


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError):
        generate_dump(tmp_path / "x.json", xml_bytes=1000)
    with pytest.raises(ValueError):
        generate_dump(tmp_path / "x.xml", xml_bytes=1000, redirect_fraction=1.0)
    with pytest.raises(ValueError):
        generate_partitions(tmp_path, 5, xml_bytes=100_000)
    assert not any(tmp_path.iterdir())


def test_records_are_entity_pages_of_the_plan(tmp_path):
    options = GeneratorOptions(xml_bytes=600_000, seed=3, n_books=12)
    first = write_records(tmp_path / "a.ndjson", options)
    write_records(tmp_path / "b.ndjson", options)
    assert (tmp_path / "a.ndjson").read_bytes() == (tmp_path / "b.ndjson").read_bytes()
    truth = load_truth(generate_dump(tmp_path / "d.xml.bz2", options)["truth"])
    planted = {e["title"]: e for e in truth["entities"]}
    aliases = {r["source"] for r in truth["redirects"]}
    records = [json.loads(line) for line in (tmp_path / "a.ndjson").read_text().splitlines()]
    assert [r[0] for r in records] == list(planted)  # the dump's books, in plan order
    assert first["authors"] == [e["author"] for e in planted.values()]
    for title, infobox, links, external, timestamp, length in records:
        book = planted[title]
        assert (infobox["author"], infobox["genre"]) == (book["author"], book["genre"])
        assert infobox["publisher"] == book["publisher"]
        assert {book["author"], book["genre"], *book["topics"]} <= set(links)
        assert not aliases & set(links)  # resolved: records come without redirects
        assert all(url.startswith("http") for url in external)
        assert re.fullmatch(r"20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ", timestamp)
        assert length >= 5000
    parse_dumps([tmp_path / "a.ndjson"], tmp_path / "parse", workers=1)
    articles = pd.read_parquet(tmp_path / "parse" / "articles.parquet")
    assert sorted(articles["title"]) == sorted(planted)


# ----------------------------------------------------------------------- in-links

INLINK_TEMPLATES = ("Reflist", "Dynamic list", "Infobox *")  # on every planted in-link page


@pytest.fixture(scope="module")
def inlinked(tmp_path_factory) -> tuple[dict, dict, dict[str, list[str]], dict[str, str]]:
    """A dump with enough books for awards and filler to mention them, parsed by the real
    parser: its stats, its truth, each kept page's links (through the dump's redirects)
    and each page's text."""
    folder = tmp_path_factory.mktemp("inlinks")
    stats = generate_dump(folder / "d.xml.bz2", xml_bytes=6_000_000, seed=5, n_books=200)
    parse_dumps([stats["path"]], folder / "parse", templates=INLINK_TEMPLATES, workers=1)
    redirects = pd.read_parquet(folder / "parse" / "redirects.parquet")
    target = dict(zip(redirects["source"], redirects["target"], strict=True))
    articles = pd.read_parquet(folder / "parse" / "articles.parquet")
    links = {
        title: [target.get(x, x) for x in wikilinks]
        for title, wikilinks in zip(articles["title"], articles["wikilinks"], strict=True)
    }
    _, page_list = read_xml(bz2.decompress(Path(stats["path"]).read_bytes()))
    texts = {p["title"]: p["text"] for p in page_list}
    return stats, load_truth(stats["truth"]), links, texts


def test_inlink_pages_link_every_book_they_list(inlinked):
    _, truth, links, texts = inlinked
    redirect = {r["source"]: r["target"] for r in truth["redirects"]}
    kinds = collections.Counter()
    for page in truth["inlink_pages"]:
        kinds[page["kind"]] += 1
        if page["kind"] == "mention":  # a filler article: kept by the parser only by chance
            linked = {redirect.get(x, x) for x in links_in(texts[page["title"]])}
        else:
            linked = set(links[page["title"]])
        assert set(page["books"]) <= linked, page["title"]
    assert set(kinds) == {"author", "series", "genre", "award", "list", "mention"}
    assert kinds["author"] == len(truth["authors"]) and kinds["series"] == len(truth["series"])


def test_every_book_is_linked_from_its_author_series_awards_and_lists(inlinked):
    _, truth, links, _ = inlinked
    linked_from: dict[str, set[str]] = collections.defaultdict(set)
    for page, targets in links.items():
        for target in targets:
            linked_from[target].add(page)
    for e in truth["entities"]:
        expected = {e["author"], *e["lists"], *(a["award"] for a in e["awards"])}
        if e["series"] is not None:
            expected.add(e["series"])
        assert expected <= linked_from[e["title"]], e["title"]
        assert {a["award"] for a in e["awards"]} <= set(e["wikilinks_resolved"])


def test_awards_and_lists_are_planted_as_on_wikipedia(inlinked):
    stats, truth, _, texts = inlinked
    entities = {e["title"]: e for e in truth["entities"]}
    assert truth["awards"] and truth["lists"] and stats["mentions"] > 0
    redirects = {(r["source"], r["target"]) for r in truth["redirects"]}
    for award in truth["awards"]:
        assert award["alias"] is None or (award["alias"], award["title"]) in redirects
        for year in award["years"]:
            for book in (year["winner"], *year["nominees"]):
                assert entities[book]["genre"] == award["genre"]
                assert entities[book]["year"] == year["year"]
            assert len(year["nominees"]) <= 5
    for book_list in truth["lists"]:
        assert 5 <= len(book_list["books"]) <= 600
        if book_list["kind"] == "country-decade":
            assert re.fullmatch(r"List of [A-Z][\w ]+ novels of the \d{3}0s", book_list["title"])
            for book in book_list["books"]:
                assert entities[book]["country"] == book_list["country"]
                assert entities[book]["year"] // 10 * 10 == book_list["decade"]
        else:
            assert {entities[b]["genre"] for b in book_list["books"]} == {book_list["genre"]}
    awarded = sum(1 for e in entities.values() if e["awards"])
    assert 0 < awarded < 0.5 * len(entities)  # most books win nothing
    listed = sum(1 for e in entities.values() if e["lists"])
    assert 0.3 * len(entities) < listed < len(entities)  # lists name many books, not all
    # Lists and bibliographies name some books by a label or a redirect, as real ones do.
    named = [link for t in texts.values() for link in re.findall(r"''\[\[([^]]+)\]\]''", t)]
    assert any("|" in link for link in named)
    assert any(normalize_title(link) in {r for r, _ in redirects} for link in named)
