import pytest

from wikirec.titles import TemplateMatcher, canonical_template_name, namespace_of, normalize_title


def test_normalize_title_follows_mediawiki_rules():
    assert normalize_title("george_orwell") == "George orwell"
    assert normalize_title("  New  York_Times#History ") == "New York Times"
    assert normalize_title("#Plot") == ""
    assert normalize_title("category:1945 novels") == "Category:1945 novels"
    assert normalize_title(":Category:Novels") == "Category:Novels"
    assert normalize_title("AT&amp;T") == "AT&T"
    assert normalize_title("Foo: a bar") == "Foo: a bar"  # not a namespace


def test_namespace_of():
    assert namespace_of("Category:Novels") == "Category"
    assert namespace_of("WP:Books") == "Wikipedia"
    assert namespace_of("Dune: Messiah") == ""


def test_template_names_match_as_mediawiki_does():
    matcher = TemplateMatcher(["Infobox book"])
    for name in [
        "Infobox book",
        "infobox book",
        " Infobox_book\n",
        "Template:Infobox book",
        "Infobox book <!-- see WikiProject -->",
    ]:
        assert matcher.matches(name), name
    for name in ["Infobox Book", "Infobox books", "Infobox film"]:
        assert not matcher.matches(name), name
    assert canonical_template_name("template: infobox__film") == "Infobox film"


def test_prefilter_finds_what_the_matcher_accepts_in_escaped_xml():
    matcher = TemplateMatcher(["Infobox book", "Infobox *"])
    for raw in [
        b"{{Infobox book|",
        b"{{ infobox_book\n|",
        b"{{Template:Infobox book}}",
        b"{{Infobox book &lt;!-- x --&gt;|",
        b"{{Infobox  film |",
    ]:
        assert matcher.prefilter.search(raw), raw
        assert matcher.may_carry(raw), raw
    only_books = TemplateMatcher(["Infobox book"])
    for raw in [b"{{Infobox books|", b"{{Infobox film|", b"[[Infobox book]]"]:
        assert not only_books.prefilter.search(raw), raw
        assert not only_books.may_carry(raw), raw


@pytest.mark.parametrize(
    ("names", "required"),
    [
        (["Infobox book", "Book infobox", "Infobox novel"], b"nfobox"),
        (["Infobox *"], b"nfobox"),
        (["Infobox film", "Infobox movie"], b"nfobox"),
        (["Cite book", "Infobox book"], b"book"),
        (["Infobox <x>"], b"&lt;x&gt;"),  # escaped, as the page holds it
        (["*"], b""),
        (["Ab", "Cd"], b""),
    ],
)
def test_the_bytes_every_name_holds_are_looked_for_first(names, required):
    """A page without them cannot match the prefilter; with them, the regex decides."""
    matcher = TemplateMatcher(names)
    assert matcher.required == required
    for raw in [b"{{Infobox book|", b"{{book infobox}}", b"{{cite book}}", b"{{ Ab |", b"x"]:
        assert matcher.may_carry(raw) == bool(matcher.prefilter.search(raw)), raw


def test_wildcard_keeps_any_infobox():
    matcher = TemplateMatcher(["Infobox *"])
    assert matcher.matches("infobox country")
    assert not matcher.matches("Cite web")


def test_close_titles_are_judged_without_their_disambiguators(p15_build):
    """Issue 26: "Dune (novel)" is compared as "dune": a shared "(novel)" makes no two
    titles alike, and the title named by the text comes first, disambiguated or not.
    On the real p15 book titles, with made-up ones beside."""
    import pyarrow.parquet as pq

    from wikirec.titles import TitleIndex

    real = pq.read_table(p15_build / "books.parquet", columns=["title"])["title"].to_pylist()
    index = TitleIndex([*real, "NP (novel)", "Cut (novel)", "Dune (novel)", "Dune Messiah"])
    found = [title for _, title in index.close_matches("Dune (film)")]
    assert found[0] == "Dune (novel)" and "NP (novel)" not in found and "Cut (novel)" not in found
    assert [t for _, t in index.close_matches("dune")][0] == "Dune (novel)"
    novels = [t for t in real if t.endswith(" (novel)")]
    assert len(novels) > 20 and not index.close_matches("Qqqqq (novel)")
