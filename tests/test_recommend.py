"""The query API and ``wikirec recommend``, on a model trained on the real p15 records.

Expected answers are computed here from the saved vectors by brute force (never
hard-coded model outputs); titles are facts of the bundled data.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from scipy import sparse

from wikirec.cli import main
from wikirec.nearest import cosine_top_k, top_k, unit_rows
from wikirec.recommend import (
    BOOKS,
    LINKS,
    Book,
    BookLinks,
    Link,
    Recommender,
    RecommendError,
    UnknownTitleError,
    format_table,
)
from wikirec.trained import find_redirects, read_trained

TARZAN = "The Son of Tarzan"
LIKED = ["Tarzan the Terrible", "The Beasts of Tarzan"]
PAGE = "science fiction"


@pytest.fixture(scope="module")
def rec(p15_model) -> Recommender:
    return Recommender.load(p15_model)


@pytest.fixture(scope="module")
def raw(p15_model):
    """Unit book and link vectors and titles, read straight from the files: the pages
    as answers show them, the build's Wikipedia titles (its ``display`` column)."""
    books = unit_rows(np.load(p15_model / "book_vectors.npy"))
    links = unit_rows(np.load(p15_model / "link_vectors.npy"))
    book_titles = json.loads((p15_model / "book_titles.json").read_text())
    link_keys = json.loads((p15_model / "link_titles.json").read_text())
    build = Path(json.loads((p15_model / "train.json").read_text())["data"]["dir"])
    shown = pd.read_parquet(build / "links.parquet", columns=["title", "display"])
    assert shown["title"].tolist() == link_keys
    return books, links, book_titles, shown["display"].tolist()


def brute_force(query, items, titles, skip=(), least=False):
    """Every item's (title, cosine) in order, skipped rows left out."""
    query = query / np.linalg.norm(query)
    scores = items @ query
    order = np.argsort(scores if least else -scores, kind="stable")
    return [(titles[i], float(scores[i])) for i in order if i not in set(skip)]


def assert_same(found, expected, k):
    assert [t for t, _ in found] == [t for t, _ in expected[:k]]
    np.testing.assert_allclose([s for _, s in found], [s for _, s in expected[:k]], atol=1e-5)


# --------------------------------------------------------------------------- queries


def test_most_similar_books_excludes_the_query_and_is_sorted(rec, raw):
    books, _, titles, _ = raw
    row = titles.index(TARZAN)
    found = rec.most_similar(TARZAN, topn=10)
    assert len(found) == 10
    assert TARZAN not in [t for t, _ in found]
    scores = [s for _, s in found]
    assert scores == sorted(scores, reverse=True)
    assert_same(found, brute_force(books[row], books, titles, skip=[row]), 10)


def test_least_is_the_other_end_of_the_ranking(rec):
    everything = rec.most_similar(TARZAN, topn=len(rec))
    assert len(everything) == len(rec) - 1
    least = rec.most_similar(TARZAN, topn=7, least=True)
    assert least == rec.least_similar(TARZAN, topn=7)
    assert [t for t, _ in least] == [t for t, _ in everything[::-1][:7]]
    scores = [s for _, s in least]
    assert scores == sorted(scores)


def test_titles_are_found_case_insensitively_and_in_normal_form(rec):
    expected = rec.most_similar(TARZAN, topn=5)
    assert rec.most_similar(TARZAN.lower(), topn=5) == expected
    assert rec.most_similar(TARZAN.upper(), topn=5) == expected
    assert rec.most_similar("the_Son_of_Tarzan", topn=5) == expected
    assert rec.index(PAGE.title(), LINKS) == rec.index(PAGE, LINKS)


def test_links_like_a_link_and_books_about_a_link(rec, raw):
    books, links, book_titles, link_titles = raw
    row = link_titles.index("Science fiction")  # the key "science fiction", as shown
    similar = rec.similar_links(PAGE, topn=8)
    assert similar == rec.most_similar(Link(PAGE), topn=8, among=LINKS)
    assert_same(similar, brute_force(links[row], links, link_titles, skip=[row]), 8)
    assert_same(rec.books_about(PAGE, topn=8), brute_force(links[row], books, book_titles), 8)


def test_links_for_a_book(rec, raw):
    books, links, book_titles, link_titles = raw
    row = book_titles.index(TARZAN)
    found = rec.links_for(TARZAN, topn=6)
    assert_same(found, brute_force(books[row], links, link_titles), 6)
    least = rec.links_for(TARZAN, topn=6, least=True)
    assert_same(least, brute_force(books[row], links, link_titles, least=True), 6)


def test_arithmetic_over_books_and_links(rec, raw):
    books, links, book_titles, link_titles = raw
    a, b = book_titles.index(TARZAN), book_titles.index(LIKED[0])
    page = rec.index(PAGE, LINKS)
    found = rec.most_similar(positive=[TARZAN, Link(PAGE)], negative=[LIKED[0]], topn=10)
    query = (books[a] + links[page] - books[b]) / 3
    assert_same(found, brute_force(query, books, book_titles, skip=[a, b]), 10)
    assert rec.similarity(TARZAN, Link(PAGE)) == pytest.approx(float(books[a] @ links[page]))


def test_recommendations_for_liked_books_exclude_them(rec, raw):
    books, _, titles, _ = raw
    rows = [titles.index(t) for t in LIKED]
    found = rec.recommend_for_liked(LIKED, topn=10)
    assert not set(LIKED) & {t for t, _ in found}
    query = books[rows].mean(0)
    assert_same(found, brute_force(query, books, titles, skip=rows), 10)


def test_a_vector_is_a_query_term(rec, raw):
    books, _, titles, _ = raw
    vector = books[titles.index(TARZAN)] * 3.0
    found = rec.most_similar(vector, topn=5)
    assert found[0][0] == TARZAN  # a raw vector is not excluded
    assert found[0][1] == pytest.approx(1.0, abs=1e-5)


# --------------------------------------------------------------------------- lookups


def test_unknown_title_suggests_the_closest(rec):
    with pytest.raises(UnknownTitleError) as error:
        rec.most_similar(Book("The Son of Tarzn"))
    message = str(error.value)
    assert message.startswith("No book 'The Son of Tarzn'. Did you mean: The Son of Tarzan")
    assert "\n" not in message
    assert error.value.suggestions[0] == TARZAN
    with pytest.raises(UnknownTitleError, match=r"^No page 'sciense fiction'\. Did you mean: "):
        rec.books_about("sciense fiction")
    with pytest.raises(UnknownTitleError, match="No book or page 'qqqqzzzz'.$"):
        rec.most_similar("qqqqzzzz")


def test_redirects_are_followed(rec, p15_model, tmp_path):
    table = pa.table({"source": ["Tarzan's Son", "Son of Tarzan", "SF"], "target":
                      [TARZAN, "Tarzan's Son", "Science fiction"]})  # fmt: skip
    pq.write_table(table, tmp_path / "redirects.parquet")
    with_redirects = Recommender.load(p15_model, redirects=tmp_path)
    expected = rec.most_similar(TARZAN, topn=5)
    assert with_redirects.most_similar("Tarzan's Son", topn=5) == expected
    assert with_redirects.most_similar("son of tarzan", topn=5) == expected  # chain, any case
    assert with_redirects.index("SF", LINKS) == rec.index(PAGE, LINKS)
    with pytest.raises(UnknownTitleError):
        rec.most_similar("Tarzan's Son")


def test_redirects_are_found_from_the_model(p15_model, p15_articles):
    assert find_redirects(p15_model) == p15_articles / "redirects.parquet"
    assert find_redirects(p15_model.parent) is None


def test_a_model_finds_its_own_build_not_another_of_the_same_books(
    p15_articles, tmp_path, monkeypatch
):
    """train.json names its build as it was given, relative to the project root. Read
    from another project's folder, that name found the other project's build first;
    when it held the same books and pages (an older run of the same data), the model
    attached it without a word, and showed its tables (last stop, this hit the docs'
    screenshots). Each build now has an id of its own, which the model keeps."""
    from wikirec.build import build_training_data
    from wikirec.train import train

    project, other = tmp_path / "project", tmp_path / "other"
    for root in (project, other):
        build_training_data(p15_articles, root / "artifacts" / "build")
    monkeypatch.chdir(project)
    train("artifacts/build", "artifacts/model", epochs=1, dim=8, batch_positives=1024)
    monkeypatch.chdir(other)
    trained = read_trained(project / "artifacts" / "model")
    assert trained.data_dir == project / "artifacts" / "build"
    assert Recommender.from_trained(trained).book_links is not None
    # a build given by hand is the user's choice: the same books and pages are enough
    chosen = read_trained(project / "artifacts" / "model", data_dir="artifacts/build")
    assert chosen.data_dir == Path("artifacts/build")


# --------------------------------------------------------------------------- search


def test_top_k_orders_and_breaks_ties_by_position():
    scores = np.array([0.5, 0.9, 0.5, -np.inf, 0.1])
    assert top_k(scores, 3).tolist() == [1, 0, 2]
    assert top_k(np.where(np.isinf(scores), np.inf, scores), 2, least=True).tolist() == [4, 0]
    assert top_k(scores[None, :], 10).tolist() == [[1, 0, 2, 4, 3]]


@pytest.mark.parametrize("as_sparse", [False, True])
def test_cosine_top_k_in_batches_matches_brute_force(as_sparse):
    rng = np.random.default_rng(0)
    dense = rng.normal(size=(57, 6)).astype(np.float32) * (rng.random((57, 6)) > 0.4)
    matrix = sparse.csr_matrix(dense) if as_sparse else dense
    indices, scores = cosine_top_k(matrix, k=4, batch_size=5)
    unit = unit_rows(dense)
    full = unit @ unit.T
    np.fill_diagonal(full, -np.inf)
    expected = top_k(full, 4)
    np.testing.assert_array_equal(indices, expected)
    np.testing.assert_allclose(scores, np.take_along_axis(full, expected, 1), atol=1e-5)
    far, _ = cosine_top_k(matrix, k=3, least=True, batch_size=7)
    np.fill_diagonal(full, np.inf)
    np.testing.assert_array_equal(far, top_k(full, 3, least=True))


def test_all_most_similar_agrees_with_single_queries(rec):
    indices, scores = rec.all_most_similar(BOOKS, topn=5)
    row = rec.index(TARZAN)
    titles = rec.titles[BOOKS].titles
    single = rec.most_similar(TARZAN, topn=5)
    assert [titles[i] for i in indices[row]] == [t for t, _ in single]
    np.testing.assert_allclose(scores[row], [s for _, s in single], atol=1e-5)
    assert (indices != np.arange(len(rec))[:, None]).all()


# --------------------------------------------------------------------------- CLI


def cli_table(model_dir, answers) -> str:
    """The table `wikirec recommend` prints for book ``answers``: with their bylines."""
    trained = read_trained(model_dir)
    return format_table(answers, bylines=[trained.byline(trained.find(t)) for t, _ in answers])


def under_the_book(out: str) -> list[str]:
    """The table's lines of a book query's output: what follows the lines that name the
    book asked about, and the blank line after them."""
    lines = out.splitlines()
    return lines[lines.index("") + 1 :]


def test_cli_table(p15_model, rec, capsys):
    assert main(["recommend", str(p15_model), TARZAN.lower(), "-k", "4"]) == 0
    out = capsys.readouterr().out
    # the book asked about, as the web page opens it (records have no lead)
    assert out.startswith(f"{TARZAN}: Edgar Rice Burroughs · 1915 · ")
    lines = under_the_book(out)
    assert lines[0].split() == ["rank", "title", "by", "similarity"]
    expected = rec.most_similar(TARZAN, topn=4)
    assert lines[1:] == cli_table(p15_model, expected).splitlines()[1:]
    # Issue 26: who wrote each answer, and when, read from its infobox
    assert "Edgar Rice Burroughs, 19" in lines[1]
    assert len(lines) == 5
    ends = {len(line) for line in lines}
    assert len(ends) == 1  # similarities right-aligned in one column
    for rank, (line, (title, score)) in enumerate(zip(lines[1:], expected, strict=True), 1):
        assert line.split()[0] == str(rank) and title in line and line.endswith(f"{score:.4f}")


def test_a_run_folder_reads_as_its_train_folder(p15_model, rec, tmp_path, capsys):
    """``wikirec recommend artifacts/demo TITLE``, the natural guess after ``make demo``,
    reads the run's ``train`` folder; a folder that is neither still says so."""
    import shutil

    run = tmp_path / "run"
    shutil.copytree(p15_model, run / "train")
    (run / "manifest.json").write_text("{}", encoding="utf-8")
    assert main(["recommend", str(run), TARZAN, "-k", "4"]) == 0
    expected = rec.most_similar(TARZAN, topn=4)
    assert under_the_book(capsys.readouterr().out) == cli_table(run, expected).splitlines()
    (run / "manifest.json").unlink()  # a folder of folders, not a run: refused as before
    assert main(["recommend", str(run), TARZAN]) == 2
    assert "not a finished `wikirec train` folder" in capsys.readouterr().err


def test_cli_says_when_the_title_is_a_page_not_a_book(p15_graph_model, capsys):
    """Issue 26 item 4: a page's title was answered for silently (no `kind` in the
    JSON), and the same query with --why failed with "No book"."""
    rec = Recommender.load(p15_graph_model)
    assert rec.resolve(PAGE)[0] == "links"  # a page of the model, not a book
    assert main(["recommend", str(p15_graph_model), PAGE, "-k", "3", "--why"]) == 0
    out, err = capsys.readouterr()
    assert f"{PAGE!r} is a page of this model, not one of its books" in err
    assert "this query has no book" in err
    expected = rec.most_similar(Link(PAGE), topn=3)
    assert out.splitlines()[1:] == cli_table(p15_graph_model, expected).splitlines()[1:]
    assert main(["recommend", str(p15_graph_model), PAGE, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["query"]["kind"] == "page"
    assert main(["recommend", str(p15_graph_model), TARZAN, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["query"]["kind"] == "book"


@pytest.fixture(scope="module")
def with_leads(p15_records, fragment, tmp_path_factory):
    """The demo's data, small: the p15 records and the real dump fragment, whose three
    books carry their article's first sentences."""
    from wikirec.build import build_training_data
    from wikirec.parse import parse_dumps
    from wikirec.train import train

    folder = tmp_path_factory.mktemp("with-leads")
    parse_dumps([p15_records, fragment], folder / "parse", workers=1)
    build_training_data(folder / "parse", folder / "build")
    train(folder / "build", folder / "train", epochs=1, dim=8, seed=0)
    return folder / "train"


def test_cli_opens_with_the_book_asked_about(with_leads, capsys):
    """The CLI showed the answers only; the web page opens with the book's byline and
    its article's lead. Now both do, and --json carries them in its query."""
    assert main(["recommend", str(with_leads), "animal farm", "-k", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Animal Farm: George Orwell · 1945 · Political satire"
    lead = " ".join(line.strip() for line in lines[1 : lines.index("")])
    assert lead.startswith("Animal Farm is ") and "George Orwell" in lead
    assert all(len(line) <= 88 for line in lines[1 : lines.index("")])
    assert lines[lines.index("") + 1].split() == ["rank", "title", "by", "similarity"]
    assert main(["recommend", str(with_leads), "Animal Farm", "-k", "3", "--json"]) == 0
    query = json.loads(capsys.readouterr().out)["query"]
    assert query["lead"] == lead and query["byline"]["author"] == "George Orwell"


def test_cli_json_with_about_liked_and_links(p15_model, rec, capsys):
    argv = ["recommend", str(p15_model), "--liked", LIKED[0], "--liked", LIKED[1], "--json"]
    assert main([*argv, "--about", PAGE, "-k", "3"]) == 0
    answer = json.loads(capsys.readouterr().out)
    expected = rec.most_similar([Link(PAGE), Book(LIKED[0]), Book(LIKED[1])], topn=3)
    assert [r["title"] for r in answer["results"]] == [t for t, _ in expected]
    assert [r["rank"] for r in answer["results"]] == [1, 2, 3]
    assert answer["query"]["liked"] == LIKED and answer["query"]["about"] == [PAGE]
    assert main(["recommend", str(p15_model), TARZAN, "--links", "--least", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert [r["title"] for r in answer["results"]] == [
        t for t, _ in rec.links_for(TARZAN, least=True)
    ]


def test_cli_unknown_title_exits_2_with_suggestions(p15_model, capsys):
    assert main(["recommend", str(p15_model), "The Son of Tarzn"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert "No book or page 'The Son of Tarzn'. Did you mean: The Son of Tarzan" in lines[0]
    assert main(["recommend", str(p15_model.parent / "nowhere"), TARZAN]) == 2
    assert "no such model folder" in capsys.readouterr().err


# --------------------------------------------------------------------------- the default model


@pytest.fixture(scope="module")
def graph_rec(p15_graph_model) -> Recommender:
    return Recommender.load(p15_graph_model)


def test_why_names_the_pages_two_books_share_strongest_first(graph_rec, p15_graph_build):
    """Checked against the build's pairs: the shared pages, each book's side, and the
    weight (the product of the two books' TF-IDF weights), in decreasing order."""
    from wikirec.built import load_training_data

    data = load_training_data(p15_graph_build)
    a, b = graph_rec.index(TARZAN), graph_rec.index(LIKED[0])
    titles = data.links["display"].tolist()
    pairs = {(int(x), int(y)) for x, y in data.graph_pairs().tolist()}
    shared = {titles[k] for k in range(len(titles)) if (a, k) in pairs and (b, k) in pairs}
    found = graph_rec.why(TARZAN, LIKED[0], topn=1000)
    assert {page for page, *_ in found} == shared and "Edgar Rice Burroughs" in shared
    hubs = graph_rec.book_links.hubs
    is_hub = [bool(hubs[graph_rec.index(page, LINKS)]) for page, *_ in found]
    assert is_hub == sorted(is_hub)  # the hubs last
    for hub in (False, True):  # each part strongest first
        weights = [w for (*_, w), h in zip(found, is_hub, strict=True) if h == hub]
        assert weights == sorted(weights, reverse=True) and min(weights, default=1) > 0
    assert dict((page, side) for page, side, _, _ in found)["Edgar Rice Burroughs"] == "out"
    with pytest.raises(RecommendError, match="No book"):
        graph_rec.why(TARZAN, "The Son of Tarzn")


def test_book_links_sides_and_weights_by_hand():
    """3 books, 3 pages. Book 0 links to page 0 and is linked from page 1; book 1 links
    to pages 0 and 1; book 2 links to page 2. idf = ln(4 / (1 + books)) + 1."""
    links = BookLinks(np.array([[0, 0], [1, 0], [1, 1], [2, 2], [0, 0]]),
                      np.array([[0, 1]]), n_books=3, n_links=3)  # fmt: skip
    assert [links.side(0, k) for k in range(3)] == ["out", "in", ""]
    assert links.side(1, 1) == "out"
    idf = np.log(4 / np.array([3, 3, 2])) + 1  # pages 0, 1: two books each; page 2: one
    w0 = np.array([idf[0], idf[1]]) / np.hypot(idf[0], idf[1])
    shared = links.shared([0], 1, topn=5)
    assert [(k, side) for k, side, _ in shared] == [(0, "out"), (1, "in")]
    np.testing.assert_allclose([w for *_, w in shared], w0 * w0)  # book 1 weighs as book 0
    assert links.shared([0], 2, topn=5) == []


def test_cli_why(p15_graph_model, graph_rec, capsys):
    assert main(["recommend", str(p15_graph_model), TARZAN, "-k", "3", "--why"]) == 0
    lines = under_the_book(capsys.readouterr().out)
    assert lines[0].split() == ["rank", "title", "by", "similarity"]
    assert [line.split()[0] for line in lines[2::2]] == ["why:"] * 3
    first = graph_rec.most_similar(TARZAN, topn=1)[0][0]
    page = graph_rec.why(TARZAN, first, topn=1)[0][0]
    assert first in lines[1] and page in lines[2]
    argv = ["recommend", str(p15_graph_model), TARZAN, "-k", "2", "--why", "--json"]
    assert main(argv) == 0
    answer = json.loads(capsys.readouterr().out)
    assert {"page", "query", "book", "weight"} <= set(answer["results"][0]["why"][0])
    assert answer["results"][0]["byline"]["author"] == "Edgar Rice Burroughs"
    assert main(["recommend", str(p15_graph_model), TARZAN, "--links", "--json"]) == 0
    assert "score" in json.loads(capsys.readouterr().out)["results"][0]


def test_a_reader_that_stops_reading_gets_no_error(p15_model):
    """`wikirec recommend ... | head` printed "wikirec recommend: [Errno 32] Broken pipe"
    and exited 2, as for input it cannot use."""
    import subprocess
    import sys

    argv = [sys.executable, "-m", "wikirec.cli", "recommend", str(p15_model), TARZAN,
            "-k", "1400", "--json"]  # fmt: skip
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as run:
        assert run.stdout.read(100).startswith(b"{")
        run.stdout.close()  # the rest (about 200 kB) cannot all sit in the pipe
        err = run.stderr.read().decode()
        assert run.wait(timeout=120) == 1
    assert err == ""
