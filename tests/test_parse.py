"""`wikirec parse` on the real dump fragment and the real p15 records."""

from __future__ import annotations

import bz2
import json
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from wikirec import parse as parse_module
from wikirec.cli import main
from wikirec.dump import (
    Chunk,
    RawPage,
    _split_pages,
    extract_tag,
    index_name_for,
    iter_pages,
    plan_chunks,
    unescape,
    write_multistream,
)
from wikirec.parse import parse_dumps

BOOKS = {"Animalia (book)", "Animal Farm", "A Modest Proposal"}


def read(out: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    return pd.read_parquet(out / "articles.parquet"), pd.read_parquet(out / "redirects.parquet")


def read_inlinks(out: Path) -> set[tuple[str, str]]:
    table = pd.read_parquet(out / "inlinks.parquet")
    pairs = set(zip(table.source, table.target, strict=True))
    assert len(pairs) == len(table)  # one row per (source, target)
    return pairs


def fragment_parts(fragment: Path) -> tuple[bytes, list[RawPage], bytes]:
    """The fragment's header, its pages (raw XML) and its footer."""
    xml = bz2.decompress(fragment.read_bytes())
    header = xml[: xml.index(b"<page>")]
    chunk = plan_chunks(fragment)[0]
    pages = list(iter_pages(chunk, []))
    return header, pages, b"</mediawiki>\n"


def page_entries(pages: list[RawPage]):
    for page in pages:
        yield (
            int(extract_tag(page.xml, b"id")),
            unescape(extract_tag(page.xml, b"title")),
            (page.xml + b"\n"),
        )


@pytest.fixture(scope="module")
def fragment_out(fragment, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("fragment")
    parse_dumps([fragment], out)
    return out


@pytest.fixture(scope="module")
def multistream(fragment, tmp_path_factory) -> Path:
    """The real fragment repacked as Wikipedia's multistream form: 10 pages a stream."""
    folder = tmp_path_factory.mktemp("multistream")
    header, pages, footer = fragment_parts(fragment)
    path = folder / "enwiki-sample-pages-articles-multistream.xml.bz2"
    write_multistream(path, header, page_entries(pages), footer, pages_per_stream=10)
    return path


def test_fragment_keeps_exactly_the_three_books(fragment_out):
    articles, _ = read(fragment_out)
    assert set(articles.title) == BOOKS
    assert len(articles) == 3


def test_fragment_keeps_every_redirect(fragment_out):
    _, redirects = read(fragment_out)
    assert len(redirects) == 100
    main_namespace = redirects[~redirects.source.str.contains(":")]
    assert len(main_namespace) == 99
    pairs = dict(zip(redirects.source, redirects.target, strict=True))
    assert pairs["AccessibleComputing"] == "Computer accessibility"


def test_animal_farm_fields(fragment_out):
    articles, _ = read(fragment_out)
    farm = articles.set_index("title").loc["Animal Farm"]
    infobox = json.loads(farm.infobox)
    assert infobox["author"] == "George Orwell"
    assert infobox["country"] == "United Kingdom"
    assert "<!--" not in infobox["pages"]  # HTML comments dropped
    assert "George Orwell" in list(farm.wikilinks)
    assert "Category:Novels by George Orwell" in list(farm.wikilinks)
    assert "Novels by George Orwell" in list(farm.categories)
    assert all(not link.startswith(("#", "_")) for link in farm.wikilinks)
    assert any(url.startswith("http") for url in farm.external_links)
    assert farm.page_id == 620
    assert farm.text_length > 60_000
    assert farm.template == "Infobox book"
    assert farm.timestamp.year >= 2015


def test_template_option_keeps_countries_instead(fragment, tmp_path):
    parse_dumps([fragment], tmp_path, templates=["Infobox country"])
    articles, _ = read(tmp_path)
    assert {"Algeria", "Andorra", "Afghanistan", "Albania"} <= set(articles.title)
    assert not BOOKS & set(articles.title)
    assert set(articles.template) == {"Infobox country"}


def test_any_infobox_by_pattern(fragment, tmp_path):
    parse_dumps([fragment], tmp_path, templates=["Infobox *"])
    articles, _ = read(tmp_path)
    assert BOOKS <= set(articles.title)
    assert "Algeria" in set(articles.title)
    assert articles.template.str.startswith("Infobox ").all()


def test_p15_records_convert_to_the_same_table(p15_records, tmp_path):
    summary = parse_dumps([p15_records], tmp_path)
    articles, redirects = read(tmp_path)
    assert len(articles) == 1413 == summary.kept
    assert len(redirects) == 0
    raw_links = [json.loads(line)[2] for line in p15_records.read_text().splitlines()]
    anchors = sum(
        1
        for links in raw_links
        for x in links
        if x.strip(": ").startswith("#") or not x.strip(": ")
    )
    assert sum(len(links) for links in raw_links) == 40_760
    assert articles.wikilinks.map(len).sum() == 40_760 - anchors
    first = articles.iloc[0]
    assert first.title == "The Cambridge Dictionary of Philosophy"
    assert json.loads(first.infobox)["editor"] == "Robert Audi"
    assert "1995 books" in list(first.categories)


def test_multistream_with_and_without_index_and_workers_agree(multistream, fragment_out, tmp_path):
    expected_articles, expected_redirects = read(fragment_out)
    index = multistream.with_name(multistream.name.replace(".xml.bz2", "-index.txt.bz2"))
    assert index.is_file()
    small = 16 << 10  # many chunks from a 1.7 MB file
    assert len(plan_chunks(multistream, small)) > 5
    outputs = []
    for workers in (1, 2):
        out = tmp_path / f"indexed-{workers}"
        parse_dumps([multistream], out, workers=workers, chunk_bytes=small)
        outputs.append(read(out))
    no_index = tmp_path / "no-index" / multistream.name
    no_index.parent.mkdir()
    no_index.write_bytes(multistream.read_bytes())
    parse_dumps([no_index], tmp_path / "scanned", workers=2, chunk_bytes=small)
    outputs.append(read(tmp_path / "scanned"))
    for articles, redirects in outputs:
        pd.testing.assert_frame_equal(articles, expected_articles)
        pd.testing.assert_frame_equal(redirects, expected_redirects)
    for out in (tmp_path / "indexed-1", tmp_path / "indexed-2", tmp_path / "scanned"):
        assert read_inlinks(out) == read_inlinks(fragment_out)


def test_pages_come_out_whole_whatever_their_text(fragment):
    """A page's end is found by jumping over its text: a page whose text is empty or
    missing, or with two revisions, still comes out whole, and one with no end is
    still named, wherever the blocks are cut."""
    import random

    _, pages, _ = fragment_parts(fragment)
    farm = next(p.xml for p in pages if b"<title>Animal Farm</title>" in p.xml)
    text = farm[farm.index(b"<text") : farm.index(b"</text>") + len(b"</text>")]
    revision = farm[farm.index(b"<revision>") : farm.index(b"</revision>") + 11]
    odd = [
        farm.replace(text, b'<text bytes="0" />'),
        farm.replace(text, b""),
        farm.replace(revision, revision + b"\n" + revision),
    ]
    no_end = farm.replace(b"</page>", b"")
    xml = b"<mediawiki>\n" + b"\n".join([*odd, no_end, farm]) + b"\n</mediawiki>\n"
    chunk = Chunk("odd.xml", "xml", 0, len(xml), 0)
    rng = random.Random(0)
    for _ in range(20):
        cuts = sorted(rng.sample(range(1, len(xml)), 8))
        blocks = [(xml[a:b], a) for a, b in zip([0, *cuts], [*cuts, len(xml)], strict=True)]
        found = list(_split_pages(iter(blocks), chunk))
        assert [p.xml for p in found if p.problem is None] == [*odd, farm]
        (problem,) = [p.problem for p in found if p.problem is not None]
        assert "page 'Animal Farm'" in problem and "has no </page>" in problem
        assert found[3].problem == problem  # in its place


def test_a_page_tag_cut_by_a_block_end_is_not_lost(fragment):
    """Decompressed blocks end anywhere (a single-stream bz2's blocks are about 900 kB):
    every page comes out whatever byte of a ``<page>`` tag the cut falls on."""
    xml = bz2.decompress(fragment.read_bytes())
    chunk = Chunk(str(fragment), "bz2", 0, len(xml), 0)
    whole = [p.xml for p in _split_pages(iter([(xml, 0)]), chunk)]
    assert len(whole) == 206
    tag = xml.index(b"<page>", xml.index(b"<page>") + 1)  # the second page's tag
    for cut in range(tag, tag + len(b"<page>") + 1):
        blocks = iter([(xml[:cut], 0), (xml[cut:], cut)])
        assert [p.xml for p in _split_pages(blocks, chunk)] == whole, cut


def test_multistream_writer_index_and_failure(fragment, multistream, tmp_path):
    """The project's one dump writer: every index offset starts a bz2 stream holding the
    pages it lists; a failure midway leaves no file behind."""
    _, pages, _ = fragment_parts(fragment)
    index = index_name_for(multistream)
    assert index.is_file()
    data = multistream.read_bytes()
    lines = bz2.decompress(index.read_bytes()).decode().splitlines()
    assert len(lines) == len(pages) == 206
    for line in lines[::37]:
        offset, page_id, title = line.split(":", 2)
        stream = bz2.BZ2Decompressor().decompress(data[int(offset) :])
        assert f"<id>{page_id}</id>".encode() in stream
        assert f"<title>{title}</title>" in unescape(stream)

    def broken():
        yield from list(page_entries(pages))[:50]
        raise OSError("disk full")

    target = tmp_path / "broken-pages-articles-multistream.xml.bz2"
    with pytest.raises(OSError, match="disk full"):
        write_multistream(target, b"<mediawiki>", broken(), pages_per_stream=10)
    assert not any(tmp_path.iterdir())


def test_folder_of_partitions_and_plain_xml(fragment, fragment_out, tmp_path):
    header, pages, footer = fragment_parts(fragment)
    folder = tmp_path / "partitions"
    folder.mkdir()
    thirds = [pages[:70], pages[70:140], pages[140:]]
    for i, part in enumerate(thirds, 1):
        xml = header + b"".join(p.xml + b"\n" for p in part) + footer
        name = f"enwiki-pages-articles{i}.xml"
        if i == 2:  # one plain XML partition among the bz2 ones
            (folder / name).write_bytes(xml)
        else:
            (folder / f"{name}.bz2").write_bytes(bz2.compress(xml))
    summary = parse_dumps([folder], tmp_path / "out", workers=2, chunk_bytes=64 << 10)
    articles, redirects = read(tmp_path / "out")
    expected_articles, expected_redirects = read(fragment_out)
    assert summary.pages == 206
    pd.testing.assert_frame_equal(articles, expected_articles)
    pd.testing.assert_frame_equal(redirects, expected_redirects)


def parse_killed_at_fifth_chunk(monkeypatch, *args, **kwargs) -> None:
    """``parse_dumps(*args, **kwargs)``, dying at its fifth chunk as a killed run does."""
    real = parse_module.parse_chunk
    calls = []

    def dies_on_fifth_chunk(*args, **kwargs):
        calls.append(args[0])
        if len(calls) == 5:
            raise KeyboardInterrupt  # what a kill looks like from here
        return real(*args, **kwargs)

    monkeypatch.setattr(parse_module, "parse_chunk", dies_on_fifth_chunk)
    with pytest.raises(KeyboardInterrupt):
        parse_dumps(*args, **kwargs)
    monkeypatch.setattr(parse_module, "parse_chunk", real)


def test_interrupted_run_resumes_to_the_same_tables(
    multistream, fragment_out, tmp_path, monkeypatch
):
    options = {"workers": 1, "chunk_bytes": 64 << 10}
    parse_killed_at_fifth_chunk(monkeypatch, [multistream], tmp_path, **options)
    assert not (tmp_path / "articles.parquet").exists()
    summary = parse_dumps([multistream], tmp_path, **options)
    assert summary.chunks_resumed == 4
    assert summary.pages == 206
    for got, expected in zip(read(tmp_path), read(fragment_out), strict=True):
        pd.testing.assert_frame_equal(got, expected)


def test_killed_process_then_rerun(multistream, fragment_out, tmp_path):
    out = tmp_path / "out"
    command = [
        sys.executable,
        "-m",
        "wikirec.cli",
        "parse",
        str(multistream),
        "--out",
        str(out),
        "--workers",
        "1",
        "--chunk-mb",
        "0.0625",
        "--quiet",
    ]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(400):
            if list(out.glob("chunks/*/*.done.json")) or proc.poll() is not None:
                break
            time.sleep(0.05)
    finally:
        proc.kill()
        proc.wait()
    assert (
        main(
            [
                "parse",
                str(multistream),
                "--out",
                str(out),
                "--workers",
                "1",
                "--chunk-mb",
                "0.0625",
                "--quiet",
            ]
        )
        == 0
    )
    for got, expected in zip(read(out), read(fragment_out), strict=True):
        pd.testing.assert_frame_equal(got, expected)


# --------------------------------------------------------------------------- in-links


def edited_fragment(fragment: Path, path: Path, edits: dict[str, tuple[bytes, bytes]],
                    extra: bytes = b"") -> Path:  # fmt: skip
    """The fragment as plain XML, with ``old`` replaced by ``new`` in the pages named by
    ``edits`` (each edit must apply) and ``extra`` pages added at the end."""
    header, pages, footer = fragment_parts(fragment)
    out = []
    for page in pages:
        xml = page.xml
        title = unescape(extract_tag(xml, b"title"))
        if title in edits:
            old, new = edits[title]
            assert old in xml, title
            xml = xml.replace(old, new)
        out.append(xml)
    path.write_bytes(header + b"\n".join(out) + b"\n" + extra + footer)
    return path


def redirect_page(title: str, target: str, page_id: int) -> bytes:
    """A redirect page shaped as the fragment's own ("AccessibleComputing")."""
    return (
        f"  <page>\n    <title>{title}</title>\n    <ns>0</ns>\n    <id>{page_id}</id>\n"
        f'    <redirect title="{target}" />\n    <revision>\n      <id>{page_id}</id>\n'
        "      <timestamp>2014-10-26T04:50:23Z</timestamp>\n"
        f'      <text xml:space="preserve">#REDIRECT [[{target}]]</text>\n'
        "    </revision>\n  </page>\n"
    ).encode()


def test_no_other_page_of_the_fragment_links_to_its_books(fragment_out):
    """Looked up in the fragment: "Animal Farm" links to itself ([[Animal Farm#Animalism]]),
    "Animation" links to "Animal Farm (1954 film)", and no page links to "Animalia (book)"
    or "A Modest Proposal": so no in-link, though every page's links were read."""
    (chunk_links,) = fragment_out.glob("chunks/*/*.links.parquet")
    pairs = pd.read_parquet(chunk_links)
    scanned = set(zip(pairs.source, pairs.target, strict=True))
    assert ("Animation", "Animal Farm (1954 film)") in scanned
    assert ("Animal Farm", "Animal Farm (1999 film)") in scanned
    assert not any(source == target for source, target in scanned)  # no self-link
    assert not any(":" in target and target.startswith("Category:") for _, target in scanned)
    assert pairs.source.nunique() == 106  # every article of the fragment (205 ns-0 pages)
    assert read_inlinks(fragment_out) == set()
    summary = json.loads((fragment_out / "parse.json").read_text())["counts"]
    assert summary["link_pairs"] == len(pairs) and summary["inlinks"] == 0


def test_inlinks_of_real_pages(fragment, tmp_path):
    """With any infobox kept (45 pages), the fragment's pages link to them: e.g. nine
    pages link to "Aristotle", six Angola pages to "Angola"."""
    summary = parse_dumps([fragment], tmp_path, templates=["Infobox *"])
    inlinks = read_inlinks(tmp_path)
    kept = set(read(tmp_path)[0].title)
    assert {target for _, target in inlinks} <= kept  # no redirect in the fragment is used
    assert {s for s, t in inlinks if t == "Aristotle"} == {
        "Abortion", "Alchemy", "Anatomy", "Andrei Tarkovsky", "Anthropology", "Apollo", "Art",
        "Ayn Rand", "List of Atlas Shrugged characters",
    }  # fmt: skip
    assert {s for s, t in inlinks if t == "Angola"} == {
        "Angolan Armed Forces", "Demographics of Angola", "Economy of Angola",
        "Foreign relations of Angola", "Politics of Angola", "Transport in Angola",
    }  # fmt: skip
    assert ("Anthropology", "Aristotle") in inlinks and ("Aristotle", "Ayn Rand") in inlinks
    assert "Animal Farm" not in {target for _, target in inlinks}
    assert len(inlinks) == summary.inlinks == 49
    assert summary.link_pairs > 20_000


def test_inlinks_keep_the_target_as_written_and_skip_hidden_links(fragment, tmp_path):
    """Real pages edited: "Animation" links to "Animal Farm" directly (twice, written two
    ways), through a redirect and through a chain of two; in a comment and in <nowiki>
    to the other books; "Anarchism" links to "Animalia (book)" with its brackets written
    as XML character references (which makes them brackets)."""
    added = (
        b"[[Animal Farm]] [[animal_Farm#Plot|the farm]] [[Animal farm (novel)|novel]] "
        b"[[Orwell&apos;s farm]] &lt;!-- [[A Modest Proposal]] --&gt; "
        b"&lt;nowiki&gt;[[Animalia (book)]]&lt;/nowiki&gt; &lt;NOWIKI &gt;[[A Modest Proposal]]"
    )
    dump = edited_fragment(
        fragment,
        tmp_path / "edited.xml",
        {
            "Animation": (b"</text>", b"\n" + added + b"</text>"),
            "Anarchism": (b"</text>", b" &#91;&#91;Animalia (book)]]</text>"),
        },
        extra=redirect_page("Animal farm (novel)", "Animal Farm", 900001)
        + redirect_page("Orwell&apos;s farm", "Animal farm (novel)", 900002),
    )
    parse_dumps([dump], tmp_path / "out")
    inlinks = read_inlinks(tmp_path / "out")
    assert inlinks == {
        ("Animation", "Animal Farm"),
        ("Animation", "Animal farm (novel)"),  # as written: build resolves it
        ("Animation", "Orwell's farm"),
        ("Anarchism", "Animalia (book)"),
    }


def test_p15_records_link_to_each_other(p15_records, tmp_path):
    """Every record is a kept page: their wikilinks to other records are in-links, e.g.
    Gillian Bradshaw's trilogy and Randa Abdel-Fattah's two novels."""
    summary = parse_dumps([p15_records], tmp_path)
    inlinks = read_inlinks(tmp_path)
    assert ("Hawk of May", "Kingdom of Summer") in inlinks
    assert ("Kingdom of Summer", "Hawk of May") in inlinks
    assert ("Ten Things I Hate About Me", "Does My Head Look Big in This?") in inlinks
    assert {s for s, t in inlinks if t == "The Red Pavilion"} == {
        "Necklace and Calabash", "Poets and Murder", "The Chinese Bell Murders",
        "The Emperor's Pearl", "The Haunted Monastery", "The Lacquer Screen",
        "The Monkey and the Tiger",
    }  # fmt: skip
    titles = [json.loads(line)[0] for line in p15_records.read_text().splitlines()]
    assert {target for _, target in inlinks} <= set(titles)
    assert len(inlinks) == summary.inlinks == 497


def test_inlinks_come_from_per_chunk_files_written_before_assembly(
    multistream, tmp_path, monkeypatch
):
    """Bounded memory: each chunk writes its pairs beside its other rows; the final table
    is made from them one chunk at a time once every chunk is done."""
    seen = {}
    real = parse_module.write_inlinks

    def check_files(out, link_files, progress=False, threads=1):
        seen["files"] = [pd.read_parquet(path) for path in link_files]
        seen["markers"] = len(list(out.glob("chunks/*/*.done.json")))
        seen["threads"] = threads
        return real(out, link_files, progress, threads)

    monkeypatch.setattr(parse_module, "write_inlinks", check_files)
    summary = parse_dumps(
        [multistream], tmp_path, templates=["Infobox *"], workers=2, chunk_bytes=64 << 10
    )
    assert len(seen["files"]) == seen["markers"] == summary.chunks > 5
    assert seen["threads"] == 2  # as many readers as workers, each holding one chunk
    assert sum(len(pairs) for pairs in seen["files"]) == summary.link_pairs
    assert sum(len(pairs) > 0 for pairs in seen["files"]) > 5
    merged = pd.concat(seen["files"])
    inlinks = read_inlinks(tmp_path)
    assert inlinks < set(zip(merged.source, merged.target, strict=True))
    assert len(inlinks) == 49


def test_interrupted_run_resumes_to_the_same_inlinks(multistream, fragment, tmp_path, monkeypatch):
    templates = ["Infobox *"]
    parse_dumps([fragment], tmp_path / "whole", templates=templates)
    out = tmp_path / "resumed"
    options = {"templates": templates, "workers": 1, "chunk_bytes": 64 << 10}
    parse_killed_at_fifth_chunk(monkeypatch, [multistream], out, **options)
    assert not (out / "inlinks.parquet").exists()
    assert len(list(out.glob("chunks/*/*.links.parquet"))) == 4
    summary = parse_dumps([multistream], out, **options)
    assert summary.chunks_resumed == 4
    whole = pd.read_parquet(tmp_path / "whole" / "inlinks.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(out / "inlinks.parquet"), whole)
    assert len(whole) == 49
    # A chunk whose link pairs are gone is not done: it is read again.
    sorted(out.glob("chunks/*/*.links.parquet"))[2].unlink()
    again = parse_dumps([multistream], out, **options)
    assert again.chunks_resumed == summary.chunks - 1
    pd.testing.assert_frame_equal(pd.read_parquet(out / "inlinks.parquet"), whole)


def test_no_inlinks_writes_no_table(fragment, tmp_path, capsys):
    (tmp_path / "inlinks.parquet").write_bytes(b"from an earlier run")
    argv = ["parse", str(fragment), "--out", str(tmp_path), "--quiet", "--no-inlinks"]
    assert main(argv) == 0
    assert not (tmp_path / "inlinks.parquet").exists()  # an earlier run's table goes too
    assert not list(tmp_path.glob("chunks/*/*.links.parquet"))
    assert len(read(tmp_path)[0]) == 3
    parse_json = json.loads((tmp_path / "parse.json").read_text())
    assert parse_json["inlinks"] is False and parse_json["counts"]["inlinks"] is None
    out = capsys.readouterr().out
    assert "in-links" not in out and "inlinks.parquet" not in out


def test_escaped_links_are_the_links_of_the_decoded_text(fragment):
    """In-links read the links of every page from its still-escaped XML; on every real
    page of the fragment, and on hostile text, they are the links that the reader of
    kept pages finds in the decoded text."""
    import random

    from wikirec.wikitext import escaped_link_targets, link_target, wikilink_titles

    def both(raw: bytes) -> tuple[list, list]:
        ours = [t for t in escaped_link_targets(raw) if t]
        theirs = [t for t in map(link_target, wikilink_titles(unescape(raw))) if t]
        return ours, theirs

    _, pages, _ = fragment_parts(fragment)
    total = 0
    for page in pages:
        xml = page.xml
        raw = xml[xml.index(b">", xml.index(b"<text")) + 1 : xml.index(b"</text>")]
        ours, theirs = both(raw)
        assert ours == theirs, unescape(extract_tag(xml, b"title"))
        total += len(ours)
    assert total > 25_000
    pieces = [
        "[[", "]]", "|", "A", "b c", " ", "\t", "\n", "_", "#", ":", "File:", "{", "}", "[", "]",
        "é",
        "<!--", "-->", "<nowiki>", "</nowiki >", "<NoWiki/>", "<pre", "<math x>", "</MATH>",
        "<ref>", "<", ">", "&", '"', "'",
    ]  # fmt: skip
    escapes = {"&": ["&amp;"], "<": ["&lt;", "&#60;"], ">": ["&gt;", ">"], "[": ["[", "&#91;"],
               '"': ["&quot;", '"'], "'": ["'", "&apos;"]}  # fmt: skip
    rng = random.Random(0)
    for _ in range(3000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 25)))
        raw = "".join(rng.choice(escapes.get(c, [c])) for c in text).encode()
        assert unescape(raw) == text
        ours, theirs = both(raw)
        assert ours == theirs, raw


def test_hidden_regions_are_found_in_linear_time():
    """Each "<nowiki" with no ">" after it used to send the regular expression to the end
    of the text: 20,000 of them took half a minute. Same regions as the expression's."""
    from wikirec.wikitext import ESCAPED, WIKITEXT, escaped_link_targets

    hostile = "<nowiki " * 20_000 + "[[Animal Farm]] <!-- [[A Modest Proposal]]"
    assert WIKITEXT.visible(hostile) == hostile[: hostile.index("<!--")] + " "
    raw = hostile.replace("<", "&lt;").encode()
    assert ESCAPED.visible(raw) == raw[: raw.index(b"&lt;!--")] + b" "
    assert [t for t in escaped_link_targets(raw) if t] == [b"Animal Farm"]
    for text in ["a <nowiki>[[b]]</nowiki> [[c]] <pre [[d]]", "<!-- x --> <math>[y]", "<pre/>[z]"]:
        assert WIKITEXT.visible(text) == WIKITEXT.hidden.sub(" ", text)


# --------------------------------------------------------------------------- bad input


def test_missing_file_is_one_line_and_the_rest_is_parsed(fragment, tmp_path, capsys):
    code = main(
        [
            "parse",
            str(tmp_path / "nope.xml.bz2"),
            str(fragment),
            "--out",
            str(tmp_path / "out"),
            "--quiet",
        ]
    )
    assert code == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"wikirec parse: {tmp_path / 'nope.xml.bz2'}: no such file or folder"]
    assert len(read(tmp_path / "out")[0]) == 3


def test_nothing_usable_exits_non_zero(tmp_path, capsys):
    not_a_dump = tmp_path / "books.xml"
    not_a_dump.write_text("title\tauthor\nDune\tFrank Herbert\n")
    assert main(["parse", str(not_a_dump), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and f"{not_a_dump}: not a MediaWiki XML dump" in err[0]


def test_truncated_bz2_keeps_what_came_before(fragment, fragment_out, tmp_path):
    truncated = tmp_path / "truncated.xml.bz2"
    data = fragment.read_bytes()
    truncated.write_bytes(data[: int(len(data) * 0.75)])
    summary = parse_dumps([truncated], tmp_path / "out")
    articles, redirects = read(tmp_path / "out")
    assert 100 < summary.pages < 206
    assert len(summary.errors) == 1 and str(truncated) in summary.errors[0]
    assert "bz2" in summary.errors[0]
    assert {"Animalia (book)", "Animal Farm"} <= set(articles.title)
    assert len(redirects) > 50


def test_corrupt_stream_in_multistream_skips_only_that_stream(multistream, fragment_out, tmp_path):
    data = bytearray(multistream.read_bytes())
    offsets = sorted(
        {
            int(line.split(b":")[0])
            for line in bz2.decompress(
                multistream.with_name(
                    multistream.name.replace(".xml.bz2", "-index.txt.bz2")
                ).read_bytes()
            ).splitlines()
        }
    )
    bad = offsets[len(offsets) // 2]
    data[bad + 200 : bad + 230] = b"\x00" * 30
    corrupt = tmp_path / multistream.name
    corrupt.write_bytes(bytes(data))
    summary = parse_dumps([corrupt], tmp_path / "out", chunk_bytes=64 << 10)
    assert len(summary.errors) == 1
    assert f"{corrupt}: bad bz2 data in the stream at byte {bad}" in summary.errors[0]
    assert summary.pages == 196  # one stream of 10 pages lost, the rest read
    _, expected_redirects = read(fragment_out)
    _, redirects = read(tmp_path / "out")
    assert 0 < len(expected_redirects) - len(redirects) <= 10


def test_malformed_page_is_named_and_skipped(fragment, tmp_path):
    header, pages, footer = fragment_parts(fragment)
    broken = [
        p.xml.replace(b"</page>", b"") if b"<title>Anarchism</title>" in p.xml else p.xml
        for p in pages
    ]
    path = tmp_path / "broken.xml"
    path.write_bytes(header + b"\n".join(broken) + footer)
    summary = parse_dumps([path], tmp_path / "out")
    assert (summary.pages, summary.skipped) == (206, 1)
    assert len(summary.errors) == 1
    assert "page 'Anarchism'" in summary.errors[0] and str(path) in summary.errors[0]
    assert len(read(tmp_path / "out")[0]) == 3


def test_xml_entities_are_never_expanded(fragment, tmp_path):
    header, pages, footer = fragment_parts(fragment)
    farm = next(p.xml for p in pages if b"<title>Animal Farm</title>" in p.xml)
    farm = farm.replace(
        b"| author       = [[George Orwell]]",
        b"| author       = [[George Orwell]] &amp;lol9; &lol9;",
    )
    bomb = (
        b'<?xml version="1.0"?>\n<!DOCTYPE mediawiki [\n<!ENTITY lol "lol">\n'
        + b"".join(
            b'<!ENTITY lol%d "%s">\n'
            % (i, b"".join(b"&lol%d;" % (i - 1) if i > 1 else b"&lol;" for _ in range(10)))
            for i in range(1, 10)
        )
        + b"]>\n"
    )
    path = tmp_path / "bomb.xml"
    path.write_bytes(bomb + header + farm + b"\n" + footer)
    parse_dumps([path], tmp_path / "out")
    articles, _ = read(tmp_path / "out")
    assert json.loads(articles.iloc[0].infobox)["author"] == "George Orwell &lol9; &lol9;"


def test_a_lone_surrogate_reference_stays_as_written(fragment, tmp_path):
    """``&#xD800;`` names no character (UTF-8 cannot encode it): it is kept as text, and
    the page, its title and the rest of the dump come through."""
    header, pages, footer = fragment_parts(fragment)
    farm = next(p.xml for p in pages if b"<title>Animal Farm</title>" in p.xml)
    farm = farm.replace(b"<title>Animal Farm</title>", b"<title>Animal Farm &amp;#xD800;</title>")
    farm = farm.replace(b"| author       = [[George Orwell]]",
                        b"| author       = [[George Orwell]] &#xD800;")  # fmt: skip
    path = tmp_path / "surrogate.xml"
    path.write_bytes(header + farm + b"\n" + b"\n".join(p.xml for p in pages[:40]) + footer)
    summary = parse_dumps([path], tmp_path / "out")
    articles, _ = read(tmp_path / "out")
    assert summary.skipped == 0 and not summary.errors
    assert articles.iloc[0].title == "Animal Farm &#xD800;"
    assert json.loads(articles.iloc[0].infobox)["author"] == "George Orwell &#xD800;"


def test_parse_command_prints_what_it_found(fragment, tmp_path, capsys):
    assert main(["parse", str(fragment), "--out", str(tmp_path), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "pages read 206, kept 3, redirects 100, skipped 0" in out
    assert "Animal Farm" in out


def test_parse_path_does_not_import_tensorflow():
    code = (
        "import sys, wikirec.cli, wikirec.parse; "
        "sys.exit('tensorflow' in sys.modules or 'keras' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_links_agree_with_mwparserfromhell_on_every_real_article(fragment):
    """Links are read with regular expressions for speed; on every real article of the
    fragment they find every link mwparserfromhell finds, and few more (the ones in
    <gallery> captions and after unbalanced bold, which MediaWiki renders as links)."""
    from collections import Counter

    import mwparserfromhell

    from wikirec.titles import normalize_title
    from wikirec.wikitext import WIKITEXT, external_links, wikilink_titles

    _, pages, _ = fragment_parts(fragment)
    articles = [p for p in pages if b"<ns>0</ns>" in p.xml and b"<redirect" not in p.xml]
    assert len(articles) == 106
    theirs_total = ours_total = 0
    for page in articles:
        xml = page.xml
        text = unescape(xml[xml.index(b">", xml.index(b"<text")) + 1 : xml.index(b"</text>")])
        code = mwparserfromhell.parse(text)
        theirs = Counter(normalize_title(str(link.title)) for link in code.ifilter_wikilinks())
        visible = WIKITEXT.visible(text)
        ours = Counter(wikilink_titles(text))
        assert not theirs - ours, unescape(extract_tag(xml, b"title"))
        their_urls = Counter(str(link.url) for link in code.ifilter_external_links())
        assert sum((their_urls - Counter(external_links(visible))).values()) <= 1
        theirs_total += sum(theirs.values())
        ours_total += sum(ours.values())
    assert theirs_total > 30_000
    assert ours_total - theirs_total < 0.005 * theirs_total


def test_the_lead_of_every_real_article_is_its_first_sentences_as_plain_text(fragment):
    """On each of the fragment's 106 real articles (not only the three books): the lead
    is prose without markup, whole sentences within LEAD_CHARS, and it begins as the
    article does (its first words after the bold title)."""
    from wikirec.wikitext import LEAD_CHARS, WIKITEXT, lead_sentences

    _, pages, _ = fragment_parts(fragment)
    leads = {}
    for page in pages:
        if b"<redirect" in page.xml:
            continue
        xml = page.xml
        raw = xml[xml.index(b">", xml.index(b"<text")) + 1 : xml.index(b"</text>")]
        title = unescape(extract_tag(xml, b"title"))
        leads[title] = lead_sentences(WIKITEXT.visible(unescape(raw)))
    assert len(leads) >= 100
    found = {title: lead for title, lead in leads.items() if lead}
    assert len(found) >= 0.9 * len(leads)  # a page opening on a heading or a list has none
    for title, lead in found.items():
        assert len(lead) <= LEAD_CHARS, title
        markup = ("{{", "}}", "[[", "]]", "<ref", "</", "'''", "|")
        assert not any(mark in lead for mark in markup), (title, lead)
        assert lead[-1] in ".!?\u2026)\"':", (title, lead)  # ":" ends "X may refer to:"
    assert found["Animal Farm"].startswith("Animal Farm is an allegorical and dystopian novella")
    assert found["Anarchism"].startswith("Anarchism is a political philosophy")


def test_a_book_keeps_its_lead_through_parse_and_build(fragment_out, tmp_path):
    articles, _ = read(fragment_out)
    lead = articles.set_index("title").loc["Animal Farm", "lead"]
    assert lead.startswith("Animal Farm is a") and "George Orwell" in lead
    from wikirec.build import build_training_data
    from wikirec.built import load_training_data

    summary = build_training_data(fragment_out, tmp_path / "build", min_link_count=1)
    books = load_training_data(tmp_path / "build").books.set_index("title")
    assert books.loc["Animal Farm", "lead"] == lead
    assert summary["books"]["with_lead"] == 3
