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
    only_books = TemplateMatcher(["Infobox book"])
    for raw in [b"{{Infobox books|", b"{{Infobox film|", b"[[Infobox book]]"]:
        assert not only_books.prefilter.search(raw), raw


def test_wildcard_keeps_any_infobox():
    matcher = TemplateMatcher(["Infobox *"])
    assert matcher.matches("infobox country")
    assert not matcher.matches("Cite web")
