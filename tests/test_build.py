"""`wikirec build` on the real p15 records (1,413 books from enwiki partition 15)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from wikirec.build import (
    STOP_LINKS_MAX_BYTES,
    build_training_data,
    is_content_link,
    read_stop_links,
    resolve_redirects,
)
from wikirec.built import BuildError, load_training_data
from wikirec.cli import main
from wikirec.titles import normalize_title

REFERENCE_STOP_LINKS = {
    "hardcover",
    "paperback",
    "hardback",
    "e-book",
    "wikipedia:wikiproject books",
    "wikipedia:wikiproject novels",
}


def books_per_link(articles: Path, fold=str.lower, rename=None) -> dict[str, set[str]]:
    """An independent recount in plain Python: link title -> titles of the books naming it."""
    table = pd.read_parquet(articles / "articles.parquet")
    rename = rename or {}
    found: dict[str, set[str]] = defaultdict(set)
    for title, links in zip(table.title, table.wikilinks, strict=True):
        if title.startswith("Wikipedia:"):
            continue
        for link in links:
            if is_content_link(link):
                found[fold(rename.get(link, link))].add(title)
    return found


def test_p15_counts(p15_build):
    summary = json.loads((p15_build / "build.json").read_text())
    assert summary["books"] == {
        "read": 1413,
        "not_main_namespace": 2,
        "duplicate_titles": 0,
        "kept": 1411,
        "without_pairs": 29,
        "with_lead": 0,  # records hold no article text
    }
    assert summary["link_occurrences"]["read"] == 40749
    assert summary["distinct_links"]["read"] == 20052
    assert summary["distinct_links"]["content_namespaces"] == 19730
    assert summary["distinct_links"]["after_case_folding"] == 19656
    assert summary["distinct_links"]["kept"] == 812
    assert summary["pairs"] == {"kept": 11688, "unique": 9590}
    assert summary["top_links"][0] == ["science fiction", 186]


def test_loaded_tables_agree_with_an_independent_recount(p15_articles, p15_build):
    data = load_training_data(p15_build)
    assert data.pairs.dtype == np.int32 and data.pairs.shape == (11688, 2)
    assert list(data.books["index"]) == list(range(1411))
    assert list(data.links["index"]) == list(range(812))
    assert not any(t.startswith("Wikipedia:") for t in data.books.title)
    recount = books_per_link(p15_articles)
    stops = {s.lower() for s in read_stop_links()}
    expected = {t: len(b) for t, b in recount.items() if len(b) >= 5 and t not in stops}
    assert dict(zip(data.links.title, data.links["count"], strict=True)) == expected
    # The pairs say the same: distinct books per link, and links sorted most linked first.
    pair_books = pd.DataFrame(data.pairs, columns=["book", "link"]).drop_duplicates()
    assert (pair_books.groupby("link").size().values == data.links["count"].values).all()
    assert (np.diff(data.links["count"].values) <= 0).all()
    assert (np.bincount(data.pairs[:, 0], minlength=1411) == data.books.n_pairs.values).all()


def test_book_table_carries_the_infobox(p15_build):
    books = load_training_data(p15_build).books.set_index("title")
    assert books.loc["The Beasts of Tarzan", "author"] == "Edgar Rice Burroughs"
    assert (books.author.str.lower() == "edgar rice burroughs").sum() == 20
    assert json.loads(books.loc["The Wealthy Barber", "infobox"])["country"] == "Canada"


def test_non_content_links_and_stop_links_are_gone(p15_build):
    titles = set(load_training_data(p15_build).links.title)
    assert not titles & REFERENCE_STOP_LINKS
    assert not any(t.split(":")[0] in ("wikipedia", "file", "wikt", "s", "ru") for t in titles)
    assert "category:american fantasy novels" in titles  # category links are kept
    assert all(t == t.lower() for t in titles)


@pytest.mark.parametrize(
    "title, content",
    [
        ("Wikt:sesquipedalian", False),
        ("S:Four O'Clock", False),
        ("Ru:Андреев, Лев Николаевич", False),
        ("Wikipedia:WikiProject Books", False),
        ("File:Apollonian gasket.svg", False),
        ("User talk:Someone", False),
        ("Category:American fantasy novels", True),
        ("Star Trek: The Next Generation", True),
        ("Baldur's Gate II: Shadows of Amn", True),
        ("Arkham House", True),
    ],
)
def test_content_links(title, content):
    assert is_content_link(title) is content


def test_redirect_chains_and_loops():
    redirects = pa.table(
        {
            "source": ["NYT", "New York Times", "Fantasy fiction", "Fantasy", "Self"],
            "target": [
                "New York Times",
                "The New York Times",
                "Fantasy",
                "Fantasy fiction",
                "Self",
            ],
        }
    )
    titles = ["NYT", "New York Times", "The New York Times", "Fantasy fiction", "Fantasy", "Self"]
    resolved, counts = resolve_redirects(titles, redirects)
    assert resolved == [
        "The New York Times",
        "The New York Times",
        "The New York Times",
        "Fantasy",
        "Fantasy",
        "Self",
    ]
    assert counts == {"redirects_used": 3, "loops": 2}


def test_redirects_merge_links(p15_articles, tmp_path):
    """Real enwiki redirects, plus a loop: the merged links count the union of books."""
    folder = tmp_path / "articles"
    folder.mkdir()
    shutil.copy(p15_articles / "articles.parquet", folder)
    rename = {
        "New York Times": "The New York Times",
        "New York Times Book Review": "The New York Times Book Review",
        "Fantasy fiction": "Fantasy",
        "Fantasy": "Fantasy fiction",
    }
    sources = list(rename)
    pq.write_table(pa.table({"source": sources, "target": [rename[s] for s in sources]}),
                   folder / "redirects.parquet")  # fmt: skip
    summary = build_training_data(folder, tmp_path / "build")
    links = load_training_data(tmp_path / "build").links.set_index("title")["count"]
    loop = {"Fantasy fiction": "Fantasy", "Fantasy": "Fantasy"}
    recount = books_per_link(p15_articles, rename={**rename, **loop})
    assert "new york times" not in links and "fantasy fiction" not in links
    shown = load_training_data(tmp_path / "build").links.set_index("title")["display"]
    assert shown["the new york times"] == "The New York Times"  # the redirect's target
    assert links["the new york times"] == len(recount["the new york times"]) == 96
    assert links["fantasy"] == len(recount["fantasy"]) == 159
    assert summary["distinct_links"]["redirects_used"] == 3  # "Fantasy" wins its loop
    assert summary["distinct_links"]["redirect_loops"] == 1


def test_links_are_shown_by_wikipedias_titles(p15_articles, p15_build):
    """Keys stay case-folded; ``display`` is a book's own title where the link is a book,
    else the spelling most of its links use (recounted from the parse's wikilinks)."""
    data = load_training_data(p15_build)
    links = data.links.set_index("title")["display"]
    assert (links.index == links.str.lower()).all()  # each display folds to its key
    books = set(data.books["title"])
    book_keys = {book.lower(): book for book in books}
    for key, display in links.items():
        assert display == book_keys.get(key, display)
    spellings: dict[str, Counter] = {}
    articles = pq.read_table(p15_articles / "articles.parquet", columns=["wikilinks"])
    for page_links in articles.column("wikilinks").to_pylist():
        for raw in page_links:
            title = normalize_title(raw)
            spellings.setdefault(title.lower(), Counter())[title] += 1
    varied = [key for key in links.index if len(spellings.get(key, ())) > 1]
    assert len(varied) >= 20  # "Science Fiction" 11 times, "Science fiction" 274, ...
    for key in varied:
        counts = spellings[key]
        if links[key] not in books:
            best = max(counts.values())
            tied = [t for t, n in counts.items() if n == best]
            assert links[key] == min(tied, key=lambda t: (sum(c.isupper() for c in t), t))
    assert links["science fiction"] == "Science fiction" and links["imdb"] == "IMDb"
    assert links["judge dee at work"] == "Judge Dee at Work"  # a book, linked from others


def test_keep_case_and_min_link_count(p15_articles, tmp_path):
    build_training_data(p15_articles, tmp_path / "cased", keep_case=True, min_link_count=3,
                        inlinks=False)  # the recount below reads out-links only
    data = load_training_data(tmp_path / "cased")
    recount = books_per_link(p15_articles, fold=lambda t: t)
    stops = {s.lower() for s in read_stop_links()}
    expected = {t for t, b in recount.items() if len(b) >= 3 and t.lower() not in stops}
    assert set(data.links.title) == expected
    assert "Science fiction" in expected and data.links["count"].min() == 3


def test_user_stop_links(p15_articles, tmp_path):
    stop_file = tmp_path / "stops.txt"
    stop_file.write_text(
        "# mine\nScience fiction  # a genre, but say I want it gone\n\narkham_house\n"
    )
    assert read_stop_links(stop_file) == ["Science fiction", "arkham_house"]
    summary = build_training_data(p15_articles, tmp_path / "build", stop_links=stop_file)
    titles = set(load_training_data(tmp_path / "build").links.title)
    assert "science fiction" not in titles and "arkham house" not in titles
    assert "hardcover" in titles  # the user's list replaces the default one
    assert summary["top_links"][0] == ["hardcover", 384]


@pytest.mark.parametrize("special", ["/dev/zero", "fifo", "huge", "folder"])
def test_a_stop_link_file_that_is_not_one_is_refused_at_once(special, p15_articles, tmp_path):
    """Issue 27 item 3: ``--stop-links /dev/zero`` read without bound; a device, a FIFO, a
    folder or a file over the bound is one line naming it, before anything is read."""
    path = Path(special) if special.startswith("/") else tmp_path / special
    if special == "fifo":
        os.mkfifo(path)
    elif special == "huge":
        path.write_text("Novel\n" * (STOP_LINKS_MAX_BYTES // 6 + 1))
    elif special == "folder":
        path.mkdir()
    with pytest.raises(BuildError, match=f"^{path}: ") as caught:
        build_training_data(p15_articles, tmp_path / "build", stop_links=path)
    assert "\n" not in str(caught.value)
    assert not (tmp_path / "build").exists()


def test_missing_input_is_one_clear_line(tmp_path, capsys):
    out = tmp_path / "out"
    with pytest.raises(BuildError, match="no articles.parquet"):
        build_training_data(tmp_path / "nowhere", out)
    assert main(["build", str(tmp_path / "nowhere"), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("wikirec build: ") and "nowhere" in err and "\n" not in err
    assert not out.exists()


def test_unfinished_or_inconsistent_build_is_refused(p15_build, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(p15_build, copy)
    np.save(copy / "pairs.npy", np.zeros((5, 2), np.int32))
    with pytest.raises(BuildError, match="inconsistent build"):
        load_training_data(copy)
    (copy / "build.json").unlink()
    with pytest.raises(BuildError, match="not a finished build"):
        load_training_data(copy)


def test_cli_prints_counts_and_top_links(p15_articles, tmp_path, capsys):
    args = ["build", str(p15_articles), "--out", str(tmp_path / "b"), "--quiet"]
    assert main([*args, "--min-link-count", "5", "--no-inlinks"]) == 0
    out = capsys.readouterr().out
    assert "1,411 kept" in out and "812 seen on >= 5 books" in out and "11,688 kept" in out
    assert "science fiction (186)" in out


def test_external_links_are_normalised_urls(p15_articles, p15_records, tmp_path, capsys):
    out = tmp_path / "ext"
    args = ["build", str(p15_articles), "--out", str(out), "--quiet"]
    assert main([*args, "--links", "external_links", "--min-link-count", "2"]) == 0
    printed = capsys.readouterr().out
    assert "3,867 distinct URLs" in printed and "89 seen on >= 2 books" in printed
    data = load_training_data(out)
    titles = data.links.title.tolist()
    assert not any(t.startswith(("http", "www.", "//")) or t.endswith("/") for t in titles)
    # The Caldecott Medal winners page, cited by 28 p15 books, is the most shared URL.
    assert titles[0].startswith("ala.org/ala/mgrps/divs/alsc/") and data.links["count"][0] == 28
    # An independent recount from the raw records: the books that cite T. R. Hickman's
    # bibliography, directly or through a Wayback Machine copy, with or without www.
    raw = [json.loads(line) for line in p15_records.read_text(encoding="utf-8").splitlines()]
    citing = {r[0] for r in raw if any("trhickman.com/Biblio.html" in u for u in r[3])}
    link = titles.index("trhickman.com/Biblio.html")
    books = set(data.books.title.to_numpy()[data.pairs[data.pairs[:, 1] == link, 0]])
    assert books == citing and len(books) == 6


# --------------------------------------------------------------------------- in-links


def parse_folder_with_inlinks(p15_articles: Path, folder: Path, inlinks: list, redirects=()):
    """A copy of the p15 parse with the given in-links (source, target) and redirects."""
    folder.mkdir()
    shutil.copy(p15_articles / "articles.parquet", folder)
    sources, targets = zip(*inlinks, strict=True) if inlinks else ((), ())
    pq.write_table(pa.table({"source": list(sources), "target": list(targets)},
                            schema=pa.schema([("source", pa.string()), ("target", pa.string())])),
                   folder / "inlinks.parquet")  # fmt: skip
    rows = list(redirects)
    pq.write_table(pa.table({"source": [r[0] for r in rows], "target": [r[1] for r in rows]},
                            schema=pa.schema([("source", pa.string()), ("target", pa.string())])),
                   folder / "redirects.parquet")  # fmt: skip
    return folder


def test_inlinks_join_the_out_links_as_one_entity(p15_articles, tmp_path):
    """Real p15 titles: the author's page linking to two of his books is the entity the
    Tarzan books link to; a list reaches a book through a redirect; an in-link to a page
    that is no book, or from the book itself, is left out."""
    folder = parse_folder_with_inlinks(p15_articles, tmp_path / "parse", [
        ("Edgar Rice Burroughs", "The Son of Tarzan"),
        ("Edgar Rice Burroughs", "Tarzan the Terrible"),
        ("List of Tarzan novels", "Son of Tarzan"),          # a redirect to the book
        ("List of Tarzan novels", "The Beasts of Tarzan"),
        ("List of Tarzan novels", "Tarzan"),                 # a page, not a book
        ("The Son of Tarzan", "The Son of Tarzan"),          # itself
        ("Some page", "The Son of Tarzan"),                  # met by one book only
    ], redirects=[("Son of Tarzan", "The Son of Tarzan")])  # fmt: skip
    summary = build_training_data(folder, tmp_path / "build")
    data = load_training_data(tmp_path / "build")
    books = {t: i for i, t in enumerate(data.books.title)}
    links = {t: i for i, t in enumerate(data.links.title)}
    got = {(data.books.title[b], data.links.title[k]) for b, k in data.in_pairs.tolist()}
    assert got == {
        ("The Son of Tarzan", "edgar rice burroughs"),
        ("Tarzan the Terrible", "edgar rice burroughs"),
        ("The Son of Tarzan", "list of tarzan novels"),
        ("The Beasts of Tarzan", "list of tarzan novels"),
    }
    assert summary["in_links"] == {"read": 7, "to_books": 5, "kept": 4}
    table = data.links.set_index("title")
    # Burroughs: linked from every Tarzan book (out) and linking to two (in); one count.
    out_books = len(books_per_link(p15_articles)["edgar rice burroughs"])
    row = table.loc["edgar rice burroughs"]
    assert (row["out_books"], row["in_books"]) == (out_books, 2) and row["count"] == out_books
    assert table.loc["list of tarzan novels", "count"] == 2 and "some page" not in links
    # The books' own rows: a Tarzan book other books link to is an entity too.
    own = data.books.set_index("title")["link_index"]
    assert own["Tarzan and the Golden Lion"] == links["tarzan and the golden lion"]
    assert own["The Cambridge Dictionary of Philosophy"] == -1  # no book links to it
    graph = data.graph_pairs()
    assert len(graph) == len(data.pairs) + 4 and (graph[-4:] == data.in_pairs).all()
    assert books["The Son of Tarzan"] in data.in_pairs[:, 0]


def test_inlinks_count_towards_the_link_threshold(p15_articles, tmp_path):
    """A page linked from one book and linking to another is met by two books: kept at the
    default threshold, as a page two books link to would be."""
    folder = parse_folder_with_inlinks(p15_articles, tmp_path / "parse", [
        ("Meriem (Tarzan)", "The Beasts of Tarzan"),
    ])  # fmt: skip
    recount = books_per_link(p15_articles)
    assert recount["meriem (tarzan)"] == {"The Son of Tarzan"}  # one book links to it
    build_training_data(folder, tmp_path / "with")
    build_training_data(folder, tmp_path / "without", inlinks=False)
    assert "meriem (tarzan)" in set(load_training_data(tmp_path / "with").links.title)
    without = load_training_data(tmp_path / "without")
    assert "meriem (tarzan)" not in set(without.links.title) and len(without.in_pairs) == 0


def test_build_path_does_not_import_tensorflow():
    """`wikirec build` starts without TensorFlow: the CLI, the stage and the modules it
    shares with the others (the build reader, the error line) stay light."""
    code = (
        "import sys, wikirec.cli; wikirec.cli.build_parser('build'); "
        "sys.exit('tensorflow' in sys.modules or 'keras' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_category_links_can_stay_labels_only(p15_articles, tmp_path):
    """--no-category-links: no Category: link among the links; the categories stay in
    the parse's table, which the evaluation reads for its category column."""
    build_training_data(p15_articles, tmp_path / "build", category_links=False)
    data = load_training_data(tmp_path / "build")
    assert not any(t.startswith("category:") for t in data.links.title)
    recount = books_per_link(p15_articles)
    pages = {t for t, b in recount.items() if len(b) >= 2 and not t.startswith("category:")}
    stops = {s.lower() for s in read_stop_links()}
    assert pages - stops <= set(data.links.title)  # every page link is still there


def test_a_full_disk_during_a_rebuild_keeps_the_earlier_build(p15_articles, tmp_path, monkeypatch):
    """Issue 27 item 8: ``write_build`` removed build.json first, so a rebuild that failed
    (a full disk) left the earlier good build unloadable."""
    import errno

    from wikirec import built
    from wikirec.io import CannotWrite

    out = tmp_path / "build"
    build_training_data(p15_articles, out)
    before = load_training_data(out)
    write_npy = built.write_npy_atomic

    def disk_full_at_pairs(array, path):
        if "pairs" in Path(path).name:
            raise CannotWrite(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return write_npy(array, path)

    monkeypatch.setattr(built, "write_npy_atomic", disk_full_at_pairs)
    with pytest.raises(CannotWrite, match=f"cannot write {out / 'pairs.npy'} \\(No space"):
        build_training_data(p15_articles, out, min_link_count=5)
    after = load_training_data(out)
    assert after.summary == before.summary and np.array_equal(after.pairs, before.pairs)
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["books.parquet", "links.parquet", "pairs.npy", "in_pairs.npy", "build.json"]
    )
    monkeypatch.undo()
    build_training_data(p15_articles, out, min_link_count=5)
    assert load_training_data(out).summary["params"]["min_link_count"] == 5


def test_a_parse_made_before_leads_still_builds(p15_articles, tmp_path):
    """articles.parquet without the "lead" column (a parse folder of an older wikirec):
    the books get "" as their lead; a table without a required column is still refused."""
    folder = tmp_path / "old-parse"
    folder.mkdir()
    table = pq.read_table(p15_articles / "articles.parquet")
    pq.write_table(table.drop(["lead"]), folder / "articles.parquet")
    summary = build_training_data(folder, tmp_path / "build")
    assert summary["books"]["with_lead"] == 0
    assert set(load_training_data(tmp_path / "build").books["lead"]) == {""}
    pq.write_table(table.drop(["lead", "infobox"]), folder / "articles.parquet")
    with pytest.raises(BuildError, match="not an articles table") as refused:
        build_training_data(folder, tmp_path / "build2")
    # one line that names what is missing, not pyarrow's schema over a dozen lines
    assert str(refused.value).endswith("(no column infobox)")
    assert "\n" not in str(refused.value)
