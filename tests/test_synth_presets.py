"""`wikirec generate --like enwiki`: a dump with the real English Wikipedia's shape at a
scale, written in blocks by several processes, and read back by the parse."""

from __future__ import annotations

import argparse
import bz2
import collections
import re
import statistics
from pathlib import Path

import pandas as pd
import pytest

from wikirec import synth
from wikirec.parse import parse_dumps
from wikirec.synth import generate_dump, load_truth
from wikirec.synth.presets import preset_options, read_preset
from wikirec.synth.tables import NAMESPACE_NAMES

SCALE = 3e-4  # about 7,200 pages: 2,109 articles, 3,450 redirects, 14 books


@pytest.fixture(scope="module")
def enwiki(tmp_path_factory) -> dict:
    path = tmp_path_factory.mktemp("enwiki") / "enwiki-like-pages-articles-multistream.xml.bz2"
    options = preset_options("enwiki", SCALE, 0.1, block_pages=1000, workers=2)
    return {"stats": generate_dump(path, options), "options": options, "path": path}


@pytest.fixture(scope="module")
def pages(enwiki) -> list[dict]:
    xml = bz2.decompress(enwiki["path"].read_bytes()).decode("utf-8")
    found = []
    for page in re.findall(r"<page>.*?</page>", xml, re.S):
        found.append({
            "title": re.search(r"<title>(.*?)</title>", page).group(1),
            "ns": int(re.search(r"<ns>(-?\d+)</ns>", page).group(1)),
            "id": int(re.search(r"<id>(\d+)</id>", page).group(1)),
            "redirect": "<redirect " in page,
            "text": re.search(r"<text[^>]*>(.*?)</text>", page, re.S).group(1),
        })  # fmt: skip
    return found


def test_the_preset_copies_the_real_figures_at_a_scale():
    figures = read_preset("enwiki")
    full = preset_options("enwiki", 1.0)
    assert full.articles == figures["articles"]["count"] == 7_028_569
    assert full.redirects == figures["redirects"]["count"]
    assert full.n_books == figures["books"]["count"]
    assert full.namespace_pages == tuple(tuple(row) for row in figures["namespaces"]["pages"])
    assert full.article_links == figures["articles"]["links"]
    total = full.articles + full.redirects + sum(n for _, n, _ in full.namespace_pages)
    assert 23e6 < total < 25e6  # about 24 million pages, as the dump's index has
    small = preset_options("enwiki", 0.01, 0.1)
    assert small.articles == round(7_028_569 * 0.01) and small.n_books == 460
    assert small.article_bytes == figures["articles"]["median_bytes"] // 10
    assert [size for _, _, size in small.namespace_pages] == [
        round(size / 10) for _, _, size in full.namespace_pages
    ]


def test_the_dump_has_the_counts_asked_for(enwiki, pages):
    options = enwiki["options"]
    by_kind = collections.Counter((p["ns"], p["redirect"] and p["ns"] == 0) for p in pages)
    assert by_kind[(0, False)] == options.articles
    assert by_kind[(0, True)] == options.redirects
    for ns, n, _ in options.namespace_pages:
        # the planted ones (the infobox template and its aliases, WikiProjects, genre
        # categories) among them
        assert by_kind[(ns, False)] == n, NAMESPACE_NAMES[ns]
        assert all(p["title"].startswith(NAMESPACE_NAMES[ns] + ":") for p in pages
                   if p["ns"] == ns)  # fmt: skip
    assert enwiki["stats"]["books"] == options.n_books
    assert enwiki["stats"]["pages"] == len(pages)
    ids = [p["id"] for p in pages]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


def test_articles_have_the_links_and_sizes_asked_for(enwiki, pages):
    options = enwiki["options"]
    planted = {e["title"] for e in load_truth(enwiki["stats"]["truth"])["entities"]}
    planted |= {p["title"] for p in load_truth(enwiki["stats"]["truth"])["inlink_pages"]
                if p["kind"] != "mention"}  # fmt: skip
    fillers = [p for p in pages if p["ns"] == 0 and not p["redirect"]
               and p["title"] not in planted]  # fmt: skip
    links = [len(re.findall(r"\[\[(?!Category:)[^\]|]+", p["text"])) for p in fillers]
    # mean 25 wikilinks an article (lognormal), besides a few of planted pages
    assert 0.8 * options.article_links < statistics.mean(links) < 1.4 * options.article_links
    assert statistics.median(links) < statistics.mean(links)  # heavy-tailed, as on Wikipedia
    sizes = [len(p["text"].encode()) for p in fillers]
    assert statistics.median(sizes) > options.article_bytes  # links make up the floor


def test_the_bytes_do_not_depend_on_the_number_of_workers(enwiki, tmp_path):
    path = tmp_path / "one-worker-pages-articles-multistream.xml.bz2"
    stats = generate_dump(path, enwiki["options"], workers=1)
    assert path.read_bytes() == enwiki["path"].read_bytes()
    index = Path(stats["index"]).read_bytes()
    assert index == Path(enwiki["stats"]["index"]).read_bytes()
    one, two = load_truth(stats["truth"]), load_truth(enwiki["stats"]["truth"])
    assert {**one, "files": None} == {**two, "files": None}
    assert stats["streams"] == enwiki["stats"]["streams"] >= stats["pages"] // 100


def test_the_parse_keeps_the_books_and_finds_their_in_links(enwiki, tmp_path):
    summary = parse_dumps([str(enwiki["path"])], tmp_path, workers=2)
    truth = load_truth(enwiki["stats"]["truth"])
    articles = pd.read_parquet(tmp_path / "articles.parquet")
    assert sorted(articles.title) == sorted(e["title"] for e in truth["entities"])
    assert summary.redirects == enwiki["stats"]["redirects"] > enwiki["options"].redirects
    inlinks = pd.read_parquet(tmp_path / "inlinks.parquet")
    mentions = [p for p in truth["inlink_pages"] if p["kind"] == "mention"]
    assert mentions and set(p["title"] for p in mentions) <= set(inlinks.source)


def test_a_draft_carrying_the_infobox_is_never_a_book(tmp_path):
    path = tmp_path / "drafts-pages-articles-multistream.xml.bz2"
    options = preset_options("enwiki", 1e-4, 0.1, namespace_pages=((118, 600, 400),))
    generate_dump(path, options)
    xml = bz2.decompress(path.read_bytes()).decode("utf-8")
    drafts = re.findall(r"<title>Draft:[^<]*</title>\s*<ns>118</ns>(?:(?!</page>).)*?"
                        r"\{\{Infobox book", xml, re.S)  # fmt: skip
    assert drafts  # 2% of drafts carry the infobox, as drafts of book pages do
    parse_dumps([str(path)], tmp_path / "parse", workers=1)
    titles = pd.read_parquet(tmp_path / "parse" / "articles.parquet").title
    assert not any(t.startswith("Draft:") for t in titles)


def test_cli(tmp_path, capsys):
    parser = argparse.ArgumentParser(prog="wikirec")
    synth.add_command(parser.add_subparsers(dest="command", required=True))
    out = tmp_path / "cli-pages-articles-multistream.xml.bz2"
    argv = ["generate", str(out), "--like", "enwiki", "--scale", "0.0001", "--text-scale",
            "0.1", "--workers", "2", "--quiet"]  # fmt: skip
    args = parser.parse_args(argv)
    assert args.handler(args) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith(f"wrote {out}: 2,4") and "(1,15" in line and "5 books" in line
    for extra, message in [
        (["--size-mb", "5"], "--size-mb does not go with --like"),
        (["--scale", "2"], "--scale must be in (0, 1]"),
        (["--text-scale", "1.5"], "--text-scale must be in (0, 1]"),
        (["--single-stream"], "a dump written in blocks is multistream bz2"),
    ]:
        args = parser.parse_args([*argv[:-1], *extra, "--quiet"])
        assert args.handler(args) == 2
        assert message in capsys.readouterr().err
    args = parser.parse_args(["generate", str(tmp_path / "x.xml.bz2"), "--workers", "2"])
    assert args.handler(args) == 2
    assert "--workers goes with --like" in capsys.readouterr().err
