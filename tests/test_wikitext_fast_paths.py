"""The parse's fast paths against the plain ways they replace, as gensim's compiled loop
is tested against its NumPy twin: infobox fields read from mwparserfromhell's tokens
against its tree, external links found from each "//" against one regex over the page.
On every template and page of the bundled real fragment, on generated pages, and on
generated hostile wikitext (fixed seed)."""

from __future__ import annotations

import bz2
from pathlib import Path

import mwparserfromhell
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wikirec.dump import iter_pages, plan_chunks, unescape
from wikirec.synth import generate_dump
from wikirec.wikitext import (
    _EXTERNAL,
    _TEMPLATE_START,
    MAX_PARSE_COST,
    WIKITEXT,
    _external_matches,
    _for_mwparserfromhell,
    _template_end,
    _tokenize,
    _TokenReader,
    _Unsupported,
    infobox_fields,
    parse_cost,
    plain_text,
)


def tree_fields(span: str) -> tuple[str, list[tuple[str, str]]] | None:
    """The first top-level template of ``span`` read from mwparserfromhell's tree."""
    templates = mwparserfromhell.parse(span).filter_templates(recursive=False)
    if not templates:
        return None
    params = [(plain_text(p.name), plain_text(p.value)) for p in templates[0].params]
    return str(templates[0].name), params


def token_fields(span: str):
    return _TokenReader(_tokenize(span)).first_template()


def page_texts(path: Path) -> list[str]:
    """The visible wikitext of every page with a text, in the dump's first chunk."""
    texts = []
    for page in iter_pages(plan_chunks(path)[0], []):
        xml = page.xml
        if b"<text" in xml and b"</text>" in xml:
            start = xml.index(b">", xml.index(b"<text")) + 1
            texts.append(WIKITEXT.visible(unescape(xml[start : xml.index(b"</text>")])))
    return texts


def template_spans(texts: list[str]) -> list[str]:
    """Every closed template of the pages, as ``find_infobox`` hands one over."""
    spans = []
    for text in texts:
        for match in _TEMPLATE_START.finditer(text):
            end = _template_end(text, match.start())
            if end is not None:
                span = _for_mwparserfromhell(text[match.start() : end])
                if parse_cost(span) <= MAX_PARSE_COST:
                    spans.append(span)
    return spans


@pytest.fixture(scope="module")
def real_texts(fragment) -> list[str]:
    return page_texts(fragment)


@pytest.fixture(scope="module")
def generated_texts(tmp_path_factory) -> list[str]:
    path = tmp_path_factory.mktemp("generated") / "gen-pages-articles-multistream.xml.bz2"
    generate_dump(path, xml_bytes=3 * 10**6, seed=0, n_books=60, write_truth=False)
    return page_texts(path)


def test_tokens_read_every_real_template_as_the_tree_does(real_texts):
    spans = template_spans(real_texts)
    assert len(spans) > 10_000
    unsupported = 0
    for span in spans:
        try:
            got = token_fields(span)
        except _Unsupported:
            unsupported += 1
            continue
        assert got == tree_fields(span), span[:200]
    assert unsupported < len(spans) / 1000  # the tree is the rare way, not the usual one


def test_tokens_read_every_generated_template_as_the_tree_does(generated_texts):
    spans = template_spans(generated_texts)
    assert len(spans) > 1_000 and sum("nfobox" in s[:25] for s in spans) >= 40
    for span in spans:
        assert token_fields(span) == tree_fields(span), span[:200]


def test_what_the_reader_leaves_to_the_tree_reads_the_same():
    """A URL holding a template: the tree reads it, and ``infobox_fields`` says the same."""
    span = "{{Infobox book\n| name = [http://a.example/{{x}}]\n| author = [[C|D]]}}"
    with pytest.raises(_Unsupported):
        token_fields(span)
    assert infobox_fields(span) == tree_fields(span)
    assert infobox_fields(span)[1] == [("name", "http://a.example/{{x}}"), ("author", "D")]


PIECES = [
    "{{", "}}", "{{{", "}}}", "|", "=", "[[", "]]", "[", "]", "<ref>", "</ref>",
    "<ref name=a/>", "<br/>", "<br>", "<small>", "</small>", "<!--", "-->", "&amp;",
    "&#x41;", "&#66;", "&nbsp;", "&bogus;", "[http://a.example/ b]", "http://c.example/",
    "''", "'''", "\n* ", "\n== H ==\n", "{{sfn|X|1}}", "{{efn|n}}", "{{ubl|A|B}}",
    "a", "B c", " ", "\n", "<", ">", "{{nowrap|x}}", ":", "<div style=\"x\">", "</div>",
]  # fmt: skip


@settings(
    max_examples=400,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.lists(st.sampled_from(PIECES), max_size=40))
def test_tokens_read_generated_wikitext_as_the_tree_does(pieces):
    """Hostile mixes of markup in an infobox: the reader gives the tree's fields, or
    leaves the span to the tree."""
    span = _for_mwparserfromhell("{{Infobox book|name=" + "".join(pieces) + "}}")
    try:
        got = token_fields(span)
    except _Unsupported:
        return
    assert got == tree_fields(span)


def test_external_links_from_each_double_slash_match_the_regex_on_every_page(
    real_texts, generated_texts
):
    found = 0
    for text in real_texts + generated_texts:
        expected = _EXTERNAL.findall(text)
        assert list(_external_matches(text)) == expected
        found += len(expected)
    assert found > 5_000


@settings(max_examples=3000, deadline=None, derandomize=True)
@given(st.text(alphabet='[ ]/:hHtTpPsSfF x\n<>"{}|.)(_é\u3000a', max_size=40))
def test_external_links_from_each_double_slash_match_the_regex_on_any_text(text):
    assert list(_external_matches(text)) == _EXTERNAL.findall(text)


def test_external_links_stay_linear_on_runs_of_slashes_and_spaces():
    """Each white space run is looked back over once: 100,000 links' worth of hostile
    text gives the regex's answer (a quadratic scan would not finish in the test)."""
    text = ("[" + " " * 50 + "//x] " + "/" * 50 + "\n") * 2_000
    assert list(_external_matches(text)) == _EXTERNAL.findall(text)
    assert len(_EXTERNAL.findall(text)) == 2_000


def test_the_bundled_fragment_is_one_stream(fragment):
    """The fixtures above read its first chunk: that must be all of it."""
    assert len(plan_chunks(fragment)) == 1
    assert bz2.decompress(fragment.read_bytes()).count(b"<page>") == 206
