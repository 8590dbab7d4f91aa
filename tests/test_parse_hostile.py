"""Hostile pages among real ones: no page stalls the parse or escapes as an exception.

Their cost is measured in benchmarks/bench_hostile.py, never here: these tests check
the mechanism (the bounded path is taken, the error line names the page) and that
real pages read as they did.
"""

from __future__ import annotations

import bz2
import json
import re
import string
from pathlib import Path

import mwparserfromhell
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wikirec.cli import main
from wikirec.dump import Chunk, RawPage, iter_pages, plan_chunks, unescape
from wikirec.parse import BOOK_TEMPLATES, parse_dumps
from wikirec.titles import TemplateMatcher
from wikirec.wikitext import (
    _TEMPLATE_START,
    MAX_INFOBOX_CHARS,
    MAX_PARSE_COST,
    WIKITEXT,
    ChunkStats,
    _for_mwparserfromhell,
    _template_end,
    external_links,
    parse_cost,
    plain_text,
    read_page,
)

BOOKS = {"Animalia (book)", "Animal Farm", "A Modest Proposal"}


@pytest.fixture(scope="module")
def real(fragment) -> tuple[bytes, list[bytes]]:
    """The fragment's header and its pages' XML."""
    xml = bz2.decompress(fragment.read_bytes())
    pages = [p.xml for p in iter_pages(plan_chunks(fragment)[0], [])]
    return xml[: xml.index(b"<page>")], pages


def page_titled(pages: list[bytes], title: bytes) -> bytes:
    return next(p for p in pages if b"<title>" + title + b"</title>" in p)


def articles_of(pages: list[bytes]) -> list[str]:
    """The decoded wikitext of the fragment's 106 main-namespace articles."""
    texts = []
    for xml in pages:
        if b"<ns>0</ns>" in xml and b"<redirect" not in xml:
            start = xml.index(b">", xml.index(b"<text")) + 1
            texts.append(unescape(xml[start : xml.index(b"</text>")]))
    assert len(texts) == 106
    return texts


def write_dump(path: Path, header: bytes, pages: list[bytes]) -> Path:
    path.write_bytes(header + b"\n".join(pages) + b"\n</mediawiki>\n")
    return path


def parse_with(tmp_path: Path, header: bytes, pages: list[bytes], **options):
    dump = write_dump(tmp_path / "dump.xml", header, pages)
    summary = parse_dumps([dump], tmp_path / "out", **options)
    import pandas as pd

    return summary, pd.read_parquet(tmp_path / "out" / "articles.parquet")


# --------------------------------------------------------------------------- template starts

# The expression before: a lazy name between two "\s*", cubic over a run of spaces.
_OLD_TEMPLATE_START = re.compile(r"\{\{\s*([^{}|<>\[\]]+?)\s*(?=\||\}\})")


def test_template_starts_are_the_same_on_every_real_page(real):
    found = 0
    for text in articles_of(real[1]):
        visible = WIKITEXT.visible(text)
        old = [(m.start(), m.group(1)) for m in _OLD_TEMPLATE_START.finditer(visible)]
        new = [(m.start(), m.group(1).strip()) for m in _TEMPLATE_START.finditer(visible)]
        assert [(start, name) for start, name in new if name] == old
        found += len(old)
    assert found > 10_000


def test_spaces_after_braces_before_the_infobox_leave_the_page_whole(real, tmp_path):
    header, pages = real
    farm = page_titled(pages, b"Animal Farm")
    hostile = farm.replace(b"{{Infobox book", b"{{" + b" " * 20_000 + b"{{Infobox book", 1)
    summary, articles = parse_with(tmp_path, header, [hostile if p is farm else p for p in pages])
    assert set(articles.title) == BOOKS and not summary.errors
    farm_row = articles.set_index("title").loc["Animal Farm"]
    assert json.loads(farm_row.infobox)["author"] == "George Orwell"


# --------------------------------------------------------------------- the bound


def real_infobox_spans(texts: list[str]) -> list[str]:
    matcher = TemplateMatcher(["Infobox *"])
    spans = []
    for text in texts:
        visible = WIKITEXT.visible(text)
        for match in _TEMPLATE_START.finditer(visible):
            if matcher.matches(match.group(1)):
                spans.append(visible[match.start() : _template_end(visible, match.start())])
                break
    assert len(spans) == 45
    return spans


def fields(span: str) -> dict[str, str]:
    template = mwparserfromhell.parse(span).filter_templates(recursive=False)[0]
    return {plain_text(p.name): plain_text(p.value) for p in template.params}


def test_every_real_infobox_is_well_within_the_bounds(real):
    """The bounds were chosen at four times the largest real cost and twice the largest
    real size: a real infobox is never refused."""
    spans = [_for_mwparserfromhell(s) for s in real_infobox_spans(articles_of(real[1]))]
    assert max(len(s) for s in spans) * 2 <= MAX_INFOBOX_CHARS
    assert max(parse_cost(s) for s in spans) * 4 <= MAX_PARSE_COST


def test_what_mwparserfromhell_is_given_reads_the_same_on_real_infoboxes(real):
    """Stray "<" escaped and bold/italic quotes dropped: the same fields, as plain text."""
    changed = 0
    for span in real_infobox_spans(articles_of(real[1])):
        given_ = _for_mwparserfromhell(span)
        changed += given_ != span
        assert fields(given_) == fields(span)
    assert changed > 5


def test_unclosed_nested_infobox_is_one_line_naming_the_page(real, tmp_path, capsys):
    header, pages = real
    farm = page_titled(pages, b"Animal Farm")
    hostile = farm.replace(b"{{Infobox book", b"{{Infobox book|" + b"{{x|" * 10_000, 1)
    dump = write_dump(tmp_path / "dump.xml", header, [hostile if p is farm else p for p in pages])
    assert main(["parse", str(dump), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1
    assert err[0].startswith(f"wikirec parse: {dump}: page 'Animal Farm' has an infobox")
    assert "{{Infobox book that is never closed" in err[0] and err[0].endswith("skipped")
    parse_json = json.loads((tmp_path / "out" / "parse.json").read_text())
    assert parse_json["counts"]["skipped"] == 1 and parse_json["counts"]["kept"] == 2


@pytest.mark.parametrize(
    "payload",
    ["[http://a.example/ " * 300, "<ref>" * 300, "{| x\n" * 300, "{{{x|" * 300 + "}}" * 300],
    ids=["brackets", "tags", "tables", "arguments"],
)
def test_costly_infobox_is_refused_before_mwparserfromhell(real, tmp_path, payload):
    header, pages = real
    farm = page_titled(pages, b"Animal Farm")
    escaped = payload.replace("<", "&lt;").replace(">", "&gt;").encode()
    hostile = farm.replace(b"| author", b"| x = " + escaped + b"\n| author", 1)
    summary, articles = parse_with(tmp_path, header, [hostile if p is farm else p for p in pages])
    assert set(articles.title) == BOOKS - {"Animal Farm"}
    assert len(summary.errors) == 1
    assert (
        "page 'Animal Farm' has an infobox {{Infobox book too costly to parse"
        in (summary.errors[0])
    )


def test_stray_angle_brackets_and_quotes_do_not_reach_mwparserfromhell(real, tmp_path):
    """16,000 "<nowiki " and 5,000 bold quotes in a field: the page is read, cheaply."""
    header, pages = real
    farm = page_titled(pages, b"Animal Farm")
    junk = b"&lt;ref " * 2_000 + b"'''" * 1_000
    hostile = farm.replace(b"| author", b"| x = " + junk + b"\n| author", 1)
    summary, articles = parse_with(tmp_path, header, [hostile if p is farm else p for p in pages])
    assert set(articles.title) == BOOKS and not summary.errors
    infobox = json.loads(articles.set_index("title").loc["Animal Farm"].infobox)
    assert infobox["x"] == " ".join(["<ref"] * 2_000)
    assert infobox["author"] == "George Orwell"


# --------------------------------------------------------------------------- fields


def test_a_bracketed_link_labelled_with_its_url_counts_once():
    text = "[http://a.example/ http://a.example/] [https://b.example/x label] http://c.example/."
    assert external_links(text) == ["http://a.example/", "https://b.example/x", "http://c.example/"]


def test_footnote_templates_stay_out_of_infobox_values(real, tmp_path):
    header, pages = real
    farm = page_titled(pages, b"Animal Farm")
    cited = farm.replace(
        b"| author       = [[George Orwell]]",
        b"| author       = [[George Orwell]]{{sfn|Orwell|1945|p=3}}{{efn|His pen name.}}"
        b"{{Refn|group=n|A note}}{{rp|12}}",
        1,
    )
    _, articles = parse_with(tmp_path, header, [cited if p is farm else p for p in pages])
    assert json.loads(articles.set_index("title").loc["Animal Farm"].infobox)["author"] == (
        "George Orwell"
    )


# --------------------------------------------------------------------------- titles


def test_titles_mediawiki_cannot_have_are_skipped_with_a_printable_line(real, tmp_path, capsys):
    header, pages = real
    farm = page_titled(pages, b"Animal Farm")
    modest = page_titled(pages, b"A Modest Proposal")
    escape = farm.replace(b"<title>Animal Farm</title>", b"<title>Animal&#27;[2J Farm&#7;</title>")
    blank = modest.replace(b"<title>A Modest Proposal</title>", b"<title>&#32; &#9;</title>")
    nul = farm.replace(b"<title>Animal Farm</title>", b"<title>Animal Farm&#0;</title>")
    dump = write_dump(tmp_path / "dump.xml", header, [escape, blank, nul, *pages])
    assert main(["parse", str(dump), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    captured = capsys.readouterr()
    assert "\x1b" not in captured.err + captured.out and "\x07" not in captured.err
    err = captured.err.splitlines()
    assert len(err) == 3
    assert "a page has a control character in its title 'Animal\\x1b[2J Farm\\x07'" in err[0]
    assert "a page has an empty title" in err[1]
    assert "'Animal Farm\\x00'" in err[2]
    import pandas as pd

    assert set(pd.read_parquet(tmp_path / "out" / "articles.parquet").title) == BOOKS


# --------------------------------------------------------------------------- property


_PIECES = [
    "{{", "}}", "{{{", "}}}", "|", "=", "[[", "]]", "[", "]", "{|", "|}", "\n", " ", "''", "'''",
    "<", ">", "/>", "</", "<!--", "-->", "<nowiki", "<ref", "</ref>", "<pre>", "<br>",
    "http://a.example/", "[//b.example ", "&", "&amp;", "&#27;", "&#0;", "&#xD800;", "#",
    ":", "Category:", "Kategorie:", "Infobox book", "Template:Infobox book", "sfn", "x", "é",
    "\x00", "\u2028",
]  # fmt: skip
_XML_PIECES = [
    "<page>", "</page>", "<title>", "</title>", "<ns>0</ns>", "<ns>", "<id>", "</id>", "1",
    "<redirect title=\"", "\" />", "<revision>", "</revision>", "<text>", "<text ", "/>",
    "</text>", "<timestamp>", "2020-01-01T00:00:00Z", "</timestamp>", "bytes=\"", "\"",
]  # fmt: skip


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


wikitext = st.lists(st.sampled_from(_PIECES), max_size=60).map("".join)
xml_noise = st.lists(st.sampled_from(_XML_PIECES + _PIECES), max_size=30).map("".join)


def _page(title: str, text: str, noise: str, escape: bool) -> bytes:
    body = _escape(text) if escape else text
    return (
        f"<page><title>{_escape(title)}</title><ns>0</ns><id>7</id>{noise}<revision>"
        f'<timestamp>2020-01-01T00:00:00Z</timestamp><text bytes="9" xml:space="preserve">'
        f"{{{{Infobox book|name={body}}}}} {body}</text></revision></page>"
    ).encode("utf-8", "surrogatepass")


@settings(
    max_examples=300,
    deadline=2000,  # ms per example: a generous ceiling, not a speed test
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    title=st.text(alphabet=string.printable + "\x00\x1bé", max_size=12),
    text=wikitext,
    noise=xml_noise,
    escape=st.booleans(),
)
def test_generated_hostile_pages_never_raise_and_keep_their_types(title, text, noise, escape):
    matcher = TemplateMatcher(BOOK_TEMPLATES)
    stats = ChunkStats()
    chunk = Chunk("hostile.xml", "xml", 0, 1, 0)
    result = read_page(RawPage(_page(title, text, noise, escape), 0), matcher, stats, chunk)
    assert all(isinstance(line, str) and "\n" not in line for line in stats.errors)
    if result is None:
        return
    kind, row = result
    if kind == "redirect":
        assert isinstance(row["source"], str) and isinstance(row["target"], str)
        return
    assert kind == "article"
    assert isinstance(row["title"], str) and row["title"].strip()
    assert isinstance(row["page_id"], int) and isinstance(row["text_length"], int)
    assert isinstance(row["template"], str)
    assert isinstance(json.loads(row["infobox"]), dict)
    for name in ("wikilinks", "categories", "external_links"):
        assert all(isinstance(item, str) for item in row[name])
    # What a chunk writes must be storable: UTF-8, as Arrow takes it.
    json.dumps(row, default=str).encode("utf-8")


_titles = st.text(alphabet=string.printable + "\x00\x1bé", max_size=12)
_EXPORT_PAGE = '<page xmlns="http://www.mediawiki.org/xml/export-0.10/">'
_whole_page = st.builds(
    lambda page, exported: page.decode("utf-8", "surrogatepass").replace(
        "<page>", _EXPORT_PAGE if exported else "<page>", 1
    ),
    st.builds(_page, _titles, wikitext, xml_noise, st.booleans()),
    st.booleans(),
)
_cut_page = _whole_page.flatmap(lambda page: st.integers(0, len(page)).map(lambda n: page[:n]))
xml_stream = st.lists(st.one_of(_whole_page, _cut_page, xml_noise), max_size=6).map("".join)


@settings(max_examples=200, deadline=2000, derandomize=True)
@given(stream=xml_stream, block=st.integers(1, 200))
def test_generated_xml_fragments_come_out_as_pages_or_lines(stream, block):
    """Whatever pages, pieces of pages and tags follow the root, the dump reader gives
    pages (whole, or with their problem), the same however the bytes come in blocks,
    and the page reader reads each of them without raising."""
    from wikirec import dump
    from wikirec.dump import _split_pages

    data = ("<mediawiki>" + stream + "</mediawiki>").encode("utf-8", "surrogatepass")
    chunk = Chunk("hostile.xml", "xml", 0, len(data), 0)
    matcher = TemplateMatcher(BOOK_TEMPLATES)
    stats = ChunkStats()
    pages = list(_split_pages(iter([(data, 0)]), chunk))
    blocks = [(data[i : i + block], i) for i in range(0, len(data), block)]
    assert [p.xml for p in _split_pages(iter(blocks), chunk)] == [p.xml for p in pages]
    saved, dump.LONG_PAGE = dump.LONG_PAGE, 0  # every page held aside as a long one's
    try:
        assert [p.xml for p in _split_pages(iter(blocks), chunk)] == [p.xml for p in pages]
    finally:
        dump.LONG_PAGE = saved
    for page in pages:
        assert isinstance(page.xml, bytes)
        assert page.problem is None or page.xml == b""
        result = read_page(page, matcher, stats, chunk)
        assert result is None or result[0] in ("article", "redirect")
    assert all(isinstance(line, str) and "\n" not in line for line in stats.errors)


# --------------------------------------------------------------------------- forms of dumps


def test_star_alone_keeps_every_page_by_its_first_template(fragment, tmp_path):
    summary = parse_dumps([fragment], tmp_path, templates=["*"])
    import pandas as pd

    articles = pd.read_parquet(tmp_path / "articles.parquet")
    assert summary.kept == len(articles) == 106  # every article of the fragment has one
    assert BOOKS <= set(articles.title)
    assert articles.template.str.len().gt(0).all()


def test_prefilter_finds_wildcard_names_in_linear_time_and_as_a_superset():
    matcher = TemplateMatcher(["Infobox *", "Book infobox"])
    assert matcher.prefilter.search(b"{{Infobox_book\n| a = b}}")
    assert matcher.prefilter.search(b"{{template: infobox  film}}")
    assert not matcher.prefilter.search(b"{{Infoboxes}} {{Book infoboxes}}")
    # No lazy run between runs of white space (cubic over 50,000 spaces): the name up
    # to its wildcard finds the page, and the matcher has the last word.
    assert matcher.prefilter.search(b"{{Infobox" + b" " * 50_000 + b"x").end() == 50_009
    assert not matcher.prefilter.search(b"{{Book infobox" + b" " * 50_000 + b"x")
    assert TemplateMatcher(["*"]).prefilter.pattern == rb"\{\{"


def test_pages_with_attributes_from_joined_special_export_are_read(real, tmp_path):
    """Special:Export output joined into one file: a root per export, each page with its
    own xmlns. Every page of the real fragment is read, as from the dump itself."""
    header, pages = real
    namespaced = b'<page xmlns="http://www.mediawiki.org/xml/export-0.10/" xml:lang="en">'
    exports = [
        header
        + b"\n".join(p.replace(b"<page>", namespaced, 1) for p in pages[i : i + 50])
        + b"\n</mediawiki>\n"
        for i in range(0, len(pages), 50)
    ]
    dump = tmp_path / "joined-export.xml"
    dump.write_bytes(b"".join(exports))
    summary = parse_dumps([dump], tmp_path / "out", chunk_bytes=1 << 16, workers=1)
    assert (summary.pages, summary.kept, summary.redirects) == (206, 3, 100)
    assert not summary.errors


@pytest.mark.parametrize(
    ("compress", "name"),
    [("gzip", "gzip"), ("lzma", "xz"), ("7z", "7z")],
)
def test_other_compressions_are_named_with_what_is_read(fragment, tmp_path, capsys, compress, name):
    import gzip
    import lzma

    xml = bz2.decompress(fragment.read_bytes())[:200_000]
    data = {
        "gzip": lambda: gzip.compress(xml),
        "lzma": lambda: lzma.compress(xml),
        "7z": lambda: b"7z\xbc\xaf\x27\x1c\x00\x04" + xml[:1000],  # a 7z signature header
    }[compress]()
    dump = tmp_path / f"dump.xml.{name}"
    dump.write_bytes(data)
    assert main(["parse", str(dump), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1
    assert err[0] == (
        f"wikirec parse: {dump}: {name}-compressed, which wikirec does not read: give it as "
        f".xml or .xml.bz2 (the forms Wikipedia publishes), e.g. "
        f"{ {'gzip': 'gzip -dc', 'xz': 'xz -dc', '7z': '7z e -so'}[name] } FILE > FILE.xml"
    )


DEWIKI = Path(__file__).parent / "data" / "dewiki-style-namespaces.xml"


def test_a_german_dump_is_read_with_its_own_namespace_names(tmp_path):
    """Handcrafted in the shape of a dewiki export (its real <siteinfo> names):
    "Kategorie:" links are categories, "Datei:"/"Hilfe:" links lead out of the main
    namespace, "Vorlage:" prefixes a template; the tables carry the English names."""
    import pandas as pd

    summary = parse_dumps([DEWIKI], tmp_path, templates=["Infobox Buch"], workers=1)
    assert (summary.pages, summary.kept, summary.redirects, summary.errors) == (3, 1, 1, [])
    book = pd.read_parquet(tmp_path / "articles.parquet").iloc[0]
    assert book.title == "Die Verwandlung" and book.template == "Infobox Buch"
    assert list(book.categories) == ["Literarisches Werk", "Erzählung", "Literatur (Deutsch)"]
    assert list(book.wikilinks) == [
        "Franz Kafka", "Franz Kafka", "Kurt Wolff Verlag", "File:Die Verwandlung Titelblatt.jpg",
        "Category:Werk von Franz Kafka", "Help:Links", "Category:Literarisches Werk",
        "Category:Erzählung", "Category:Literatur (Deutsch)",
    ]  # fmt: skip
    redirects = pd.read_parquet(tmp_path / "redirects.parquet")
    assert redirects.to_dict("records") == [
        {"source": "Category:Erzählungen", "target": "Category:Erzählung"}
    ]
    inlinks = pd.read_parquet(tmp_path / "inlinks.parquet")
    assert inlinks.to_dict("records") == [{"source": "Franz Kafka", "target": "Die Verwandlung"}]


def test_names_are_the_dumps_only_while_it_is_read(tmp_path):
    from wikirec.dump import read_namespaces
    from wikirec.titles import dump_namespaces, namespace_of, normalize_title

    vietnamese = dict([("thể loại", "Category"), ("tập tin", "File")])
    with dump_namespaces(vietnamese):
        assert normalize_title("thể loại:tiểu thuyết") == "Category:Tiểu thuyết"
        assert namespace_of(normalize_title("Tập tin:Bìa.jpg")) == "File"
    assert normalize_title("thể loại:tiểu thuyết") == "Thể loại:tiểu thuyết"
    german = dict(read_namespaces(DEWIKI, "xml"))
    assert german["kategorie"] == "Category" and german["benutzer diskussion"] == "User talk"
    assert german["wikipedia diskussion"] == "Wikipedia talk"


# --------------------------------------------------------------------------- errors


def test_parse_errors_are_wikirec_errors_printed_by_the_command(fragment, tmp_path, capsys):
    from wikirec.dump import DumpError
    from wikirec.errors import WikirecError
    from wikirec.parse import SchedulerError

    assert issubclass(SchedulerError, WikirecError) and issubclass(DumpError, WikirecError)
    out = str(tmp_path / "out")
    assert main(["parse", str(fragment), "--out", out, "--scheduler", "x", "--quiet"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("wikirec parse: scheduler 'x': expected 'dask'")
    assert len(err) == 1


def test_records_and_link_sources_with_titles_mediawiki_cannot_have(p15_records, tmp_path):
    import pandas as pd

    lines = p15_records.read_bytes().splitlines(keepends=True)[:20]
    record = json.loads(lines[0])
    bad = [json.dumps([title, *record[1:]]).encode() + b"\n" for title in (" \t", "Dune\x00")]
    path = tmp_path / "records.ndjson"
    path.write_bytes(b"".join(bad + lines))
    summary = parse_dumps([path], tmp_path / "out", workers=1)
    assert (summary.pages, summary.kept, summary.skipped) == (22, 20, 2)
    assert "records.ndjson:1: not a record" in summary.errors[0]
    assert "a record has an empty title" in summary.errors[0]
    assert "has a control character in its title 'Dune\\x00'" in summary.errors[1]
    articles = pd.read_parquet(tmp_path / "out" / "articles.parquet")
    assert articles.title.str.strip().astype(bool).all()
    assert not articles.title.str.contains("\x00").any()


def test_ids_and_lengths_over_64_bits_cost_their_page_only(real, tmp_path):
    """Issue 27 item 2: a book page whose <id> or declared bytes do not fit in 64 bits
    aborted the parse on every run; now it is one line naming the page, the rest kept."""
    header, pages = real
    farm = page_titled(pages, b"Animal Farm")
    big_id = re.sub(rb"<id>\d+</id>", b"<id>" + b"9" * 30 + b"</id>", farm, count=1)
    big_id = big_id.replace(b"<title>Animal Farm</title>", b"<title>Big id</title>")
    big_text = re.sub(rb"<text\b", b'<text bytes="' + b"9" * 25 + b'"', farm, count=1)
    big_text = big_text.replace(b"<title>Animal Farm</title>", b"<title>Big text</title>")
    assert big_id != farm and big_text.count(b"9" * 25) == 1
    summary, articles = parse_with(tmp_path, header, [big_id, farm, big_text])
    assert articles.title.tolist() == ["Animal Farm"] and summary.skipped == 2
    assert "page 'Big id' has an <id> over 64 bits (near byte" in summary.errors[0]
    assert "page 'Big text' declares a text of over 64 bits" in summary.errors[1]


@pytest.mark.parametrize(
    "length, why",
    [("1e26", "not a whole number of bytes in 64 bits"), ("Infinity", "in 64 bits"),
     ("-1", "in 64 bits"), ("2.5", "in 64 bits"), ('"x"', "is not a number")],
)  # fmt: skip
def test_records_with_lengths_or_nesting_that_do_not_fit_cost_that_record(
    p15_records, tmp_path, length, why
):
    lines = p15_records.read_bytes().splitlines(keepends=True)[:10]
    record = json.loads(lines[0])
    bad = json.dumps(record[:5])[:-1].encode() + b", " + length.encode() + b"]\n"
    deep = b"[" * 100_000 + b"]" * 100_000 + b"\n"
    path = tmp_path / "records.ndjson"
    path.write_bytes(b"".join([bad, *lines, deep]))
    summary = parse_dumps([path], tmp_path / "out", workers=1)
    assert (summary.pages, summary.kept, summary.skipped) == (12, 10, 2)
    assert "records.ndjson:1: not a record" in summary.errors[0] and why in summary.errors[0]
    assert "records.ndjson:12: not a record" in summary.errors[1]
    assert "nested too deeply" in summary.errors[1]


@pytest.mark.parametrize("tag", ["nowiki", "pre", "math"])
def test_an_unclosed_tag_that_hides_the_infobox_is_a_line(tag, real, tmp_path):
    """Issue 27 item 12: an unclosed <nowiki>, <pre> or <math> before the infobox
    dropped the book page without a line; a closed one hides only what it holds."""
    header, pages = real
    farm = page_titled(pages, b"Animal Farm")
    start = b'xml:space="preserve">'
    opened = farm.replace(start, start + f"&lt;{tag}&gt;".encode(), 1)
    closed = opened.replace(b"<title>Animal Farm</title>", b"<title>Closed</title>").replace(
        b"{{Infobox", f"&lt;/{tag}&gt;{{{{Infobox".encode(), 1)
    opened = opened.replace(b"<title>Animal Farm</title>", b"<title>Opened</title>")
    assert opened != farm and b"&lt;/" in closed
    summary, articles = parse_with(tmp_path, header, [opened, closed])
    assert articles.title.tolist() == ["Closed"] and summary.skipped == 1
    assert f"page 'Opened' has an unclosed <{tag}> before its template" in summary.errors[0]


def test_a_page_without_a_legal_title_is_no_source_of_inlinks(real, tmp_path):
    import pandas as pd

    header, pages = real
    farm = page_titled(pages, b"Animal Farm")
    linking = page_titled(pages, b"Anarchism").replace(b"</text>", b" [[Animal Farm]]</text>")
    nameless = linking.replace(b"<title>Anarchism</title>", b"<title>&#0;</title>")
    (tmp_path / "titled").mkdir()
    parse_with(tmp_path / "titled", header, [farm, linking])
    inlinks = pd.read_parquet(tmp_path / "titled" / "out" / "inlinks.parquet")
    assert inlinks.to_dict("records") == [{"source": "Anarchism", "target": "Animal Farm"}]
    parse_with(tmp_path, header, [farm, nameless])
    assert pd.read_parquet(tmp_path / "out" / "inlinks.parquet").empty


_OLD_EXTERNAL = re.compile(
    r"\[\s*((?:https?:|ftp:)?//[^\s\[\]<>\"]+)|(?<!\w)((?:https?|ftp)://[^\s\[\]<>\"{}|]+)",
    re.I,
)


def test_external_links_are_the_same_as_before_on_every_real_page(real):
    """The label is now part of a bracketed link; no real page has a URL as a label."""
    total = 0
    for text in articles_of(real[1]):
        visible = WIKITEXT.visible(text)
        old = [
            bracketed or bare.rstrip(".,;:!?'")
            for bracketed, bare in _OLD_EXTERNAL.findall(visible)
        ]
        new = external_links(visible)
        assert len(new) == len(old)
        assert [u.rstrip(")") for u in new] == [u.rstrip(")") for u in old]
        total += len(new)
    assert total > 5_000


@pytest.mark.parametrize("special", ["fifo", "/dev/zero", "/dev/null", "loop", "dangling"])
def test_special_files_as_dumps_say_what_they_are(special, tmp_path, capsys):
    """Issue 27 item 11: a FIFO, a device or a symlink loop was "no such file or folder";
    now it says what it is, in one line, exit 2, for parse and run alike."""
    import os

    path = Path(special) if special.startswith("/") else tmp_path / special
    if special == "fifo":
        os.mkfifo(path)
    elif special == "loop":
        path.symlink_to(path)
    elif special == "dangling":
        path.symlink_to(tmp_path / "nowhere")
    expected = {"fifo": "a FIFO, not a dump file", "/dev/zero": "a character device, not a",
                "/dev/null": "a character device, not a", "loop": "a symbolic link that leads",
                "dangling": "a symbolic link that leads nowhere"}[special]  # fmt: skip
    assert main(["parse", str(path), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    assert main(["run", "books", "--dump", str(path), "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [f"wikirec parse: {path}: {expected}" + err[0].split(expected, 1)[1],
                   f"wikirec run: {path}: {expected}" + err[1].split(expected, 1)[1]]  # fmt: skip


def test_a_file_of_repeated_bz2_magic_shows_twenty_lines_not_a_thousand(tmp_path, capsys):
    """Issue 27 item 11: 10 KB of fake stream starts printed an error line each; a dump
    file's lines stop at 20 with one saying how many more (all kept in parse.json)."""
    dump = tmp_path / "magic.xml.bz2"
    dump.write_bytes(b"BZh91AY&SY" * 1_000)
    assert main(["parse", str(dump), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 21 and all(line.startswith(f"wikirec parse: {dump}: ") for line in err)
    assert "981 more lines like these (all 1,001 in" in err[-1]


def test_plain_xml_chunks_own_each_page_once_wherever_they_are_cut(fragment, tmp_path):
    """Issue 27 item 12: a range of a plain-XML dump inside one page (no page starts in
    it) owns nothing and stops at its end, instead of reading on to the file's end (one
    huge page with no end was split in quadratic time); cuts anywhere, a "<page>" cut in
    two included, still give every page exactly once."""
    import dataclasses

    from wikirec.dump import _xml_blocks

    xml = bz2.decompress(fragment.read_bytes())
    dump = tmp_path / "dump.xml"
    dump.write_bytes(xml)
    whole = [p.xml for p in iter_pages(plan_chunks(dump, len(xml) + 1)[0], [])]
    third_page = [i for i in range(len(xml)) if xml.startswith(b"<page>", i)][2]
    for size in (third_page + 2, third_page + 5, third_page + 6, 4_099, 65_536):
        pages = [p.xml for c in plan_chunks(dump, size) for p in iter_pages(c, [])]
        assert pages == whole, size
    huge = xml[:third_page] + b"<page><title>Huge</title><text>" + b"word " * 400_000
    dump.write_bytes(huge)
    start = third_page + (1 << 16)
    inside = dataclasses.replace(plan_chunks(dump, 1 << 16)[0], start=start, end=start + 4096)
    assert start + 4096 < len(huge) and list(_xml_blocks(inside)) == []


def test_a_folder_of_gzip_dumps_says_so(fragment, tmp_path):
    import gzip

    (tmp_path / "dumps").mkdir()
    dump = tmp_path / "dumps" / "enwiki-sample.xml.gz"
    dump.write_bytes(gzip.compress(bz2.decompress(fragment.read_bytes())[:100_000]))
    summary = parse_dumps([tmp_path / "dumps"], tmp_path / "out")
    assert summary.errors == [
        f"{tmp_path / 'dumps'}: folder holds no dump file (*.xml, *.xml.bz2, *.ndjson); "
        "enwiki-sample.xml.gz is compressed in a form not read"
    ]


@pytest.mark.parametrize("text", [b"a", b"<b>&lt;"])
def test_one_enormous_page_is_searched_once_per_block_that_may_end_it(monkeypatch, text):
    """Issue 27: a page with no end arriving in many blocks (here 8 MB of text, or of
    markup, in blocks of 64 KB) is searched for its end, once it is longer than
    LONG_PAGE, only when a block brings a "</page>": the search does not restart over
    the whole page at each block (quadratic time). The page after it is read as usual;
    the unfinished one is a line naming it."""
    from wikirec import dump

    calls = []
    real = dump._page_end
    monkeypatch.setattr(dump, "_page_end", lambda *a: calls.append(1) or real(*a))
    head = b"<mediawiki><page><title>Huge</title><ns>0</ns><id>1</id><revision><text>"
    body = text * (2**23 // len(text) + 1)
    after = b"</text></revision><page><title>Next</title><ns>0</ns><id>2</id>"
    after += b"<revision><text>x</text></revision></page></mediawiki>"
    data = head + body + after
    chunk = Chunk("huge.xml", "xml", 0, len(data), 0)
    size = 1 << 16
    blocks = [(data[i : i + size], i) for i in range(0, len(data), size)]
    pages = list(dump._split_pages(iter(blocks), chunk))
    assert len(blocks) > 128 and len(calls) <= dump.LONG_PAGE // size + 4
    assert "page 'Huge'" in pages[0].problem and b"<title>Next</title>" in pages[1].xml
    assert pages == list(dump._split_pages(iter([(data, 0)]), chunk))
