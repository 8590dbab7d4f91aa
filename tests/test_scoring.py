"""How pages are ranked for a book (wikirec.scoring): the vectorised scorer against its
plain loops on the default model trained on the real p15 records, and the same ranking
in `wikirec recommend`, the Recommender API and the evaluation."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from scipy import sparse

from wikirec.nearest import top_k, unit_rows
from wikirec.recipes import RECIPES
from wikirec.recommend import Book, Recommender
from wikirec.scoring import LinkScorer, link_scores_by_loops, standardise
from wikirec.trained import BOOKS, LINKS, read_trained

TARZAN = "The Son of Tarzan"


@pytest.fixture(scope="module")
def trained(p15_graph_model):
    return read_trained(p15_graph_model)


def _book_pages(trained) -> list[set[int]]:
    pages = [set() for _ in trained.titles[BOOKS]]
    for book, link in np.concatenate([trained.pairs, trained.in_pairs]).tolist():
        pages[book].add(link)
    return pages


def test_the_default_model_mixes_in_its_neighbours_when_its_build_is_found(trained):
    assert trained.recipe == "link_mean" and trained.has_metadata
    assert trained.neighbour_weight == RECIPES["link_mean"].neighbour_weight > 0
    assert trained.link_scorer().mixes


def test_the_scorer_equals_its_plain_loops(trained):
    """Five real books, each left out of its own neighbours, through the vectorised
    scorer and through the loops over Python numbers."""
    books, links = trained.vectors[BOOKS], trained.vectors[LINKS]
    pages = _book_pages(trained)
    rows = np.array([trained.find(TARZAN), 0, 7, len(books) // 2, len(books) - 1])
    found = trained.link_scores(books[rows], exclude=rows.reshape(-1, 1))
    assert found.shape == (len(rows), len(links))
    book_list, link_list = books.tolist(), links.tolist()
    for i, row in enumerate(rows):
        expected = link_scores_by_loops(
            book_list[row], book_list, pages, link_list, trained.link_bias.tolist(),
            trained.scale, trained.neighbour_weight, exclude=[int(row)],
        )  # fmt: skip
        np.testing.assert_allclose(found[i], expected, atol=2e-4)


def test_the_neighbours_change_the_ranking_of_the_models_score(trained):
    """The vote is not a no-op: for real books the top 10 pages differ from the model's
    score alone, and a book's ranking is the mix of the two standardised scores."""
    scorer = trained.link_scorer()
    books = trained.vectors[BOOKS]
    rows = np.arange(0, len(books), 50)
    exclude = rows.reshape(-1, 1)
    mixed = scorer.scores(books[rows], exclude)
    model = scorer.model_scores(books[rows])
    votes = scorer.neighbour_scores(books[rows], exclude)
    w = scorer.neighbour_weight
    np.testing.assert_allclose(
        mixed, (1 - w) * standardise(model) + w * standardise(votes), atol=1e-5
    )
    changed = [set(a) != set(b) for a, b in zip(top_k(mixed, 10), top_k(model, 10), strict=True)]
    assert sum(changed) > len(rows) // 2
    assert (votes >= 0).all() and (votes.sum(1) > 0).all()


def test_the_vote_is_the_same_in_blocks(trained, monkeypatch):
    """Query x book cosines are made a memory budget at a time: a budget of a few rows
    gives the same votes as one block."""
    import wikirec.scoring as scoring

    scorer = trained.link_scorer()
    books = trained.vectors[BOOKS]
    rows = np.arange(0, len(books), 97)
    whole = scorer.neighbour_scores(books[rows], rows.reshape(-1, 1))
    monkeypatch.setattr(scoring, "SCORE_BUDGET", 3 * len(books))
    blocks = scorer.neighbour_scores(books[rows], rows.reshape(-1, 1))
    np.testing.assert_array_equal(blocks, whole)


def test_votes_by_hand():
    """Three books: the query's two nearest (itself left out) vote max(cos, 0) for the
    pages they meet; a book at an obtuse angle votes nothing; missing neighbours (k above
    the books there are) add nothing."""
    books = np.array([[1.0, 0.0], [0.6, 0.8], [-1.0, 0.0]], np.float32)
    pages = sparse.csr_matrix(np.array([[1, 0, 0], [0, 1, 1], [1, 0, 1]], np.float32))
    scorer = LinkScorer(np.eye(3, 2, dtype=np.float32), book_vectors=books, book_pages=pages,
                        neighbour_weight=0.5, neighbours=5)  # fmt: skip
    votes = scorer.neighbour_scores(books[:1], exclude=[[0]])
    np.testing.assert_allclose(votes, [[0.0, 0.6, 0.6]], atol=1e-6)
    both = scorer.neighbour_scores(books[:1])
    np.testing.assert_allclose(both, [[1.0, 0.6, 0.6]], atol=1e-6)
    with pytest.raises(ValueError, match="weight"):
        LinkScorer(books, neighbour_weight=1.5)


def test_recommend_ranks_pages_for_a_book_as_the_evaluation_scores_them(trained, p15_graph_model):
    """`links_for` and a mixed query rank by the scorer, the query's books left out of
    their neighbours; pages like a page stay by cosine."""
    rec = Recommender.load(p15_graph_model)
    row = trained.find(TARZAN)
    scores = trained.link_scores(trained.vectors[BOOKS][row], exclude=[[row]])[0]
    titles = trained.display_titles(LINKS)  # answers name pages by Wikipedia's titles
    expected = [(titles[i], float(scores[i])) for i in top_k(scores, 10)]
    found = rec.links_for(TARZAN, topn=10)
    assert [t for t, _ in found] == [t for t, _ in expected]
    np.testing.assert_allclose([s for _, s in found], [s for _, s in expected], atol=1e-5)

    liked = ["Tarzan the Terrible", "The Beasts of Tarzan"]
    rows = [trained.find(t) for t in liked]
    query = unit_rows(trained.vectors[BOOKS][rows].mean(0))
    scores = trained.link_scores(query, exclude=[rows])[0]
    found = rec.most_similar([Book(t) for t in liked], among=LINKS, topn=5)
    assert [t for t, _ in found] == [titles[i] for i in top_k(scores, 5)]
    assert all(-1 <= s <= 1 for _, s in rec.similar_links("edgar rice burroughs", topn=3))


def test_a_model_without_its_build_ranks_by_its_own_score(p15_graph_model, tmp_path):
    """Moved where its build cannot be found, the default model ranks pages by scale *
    cosine + page bias: the vote needs the build's links."""
    folder = tmp_path / "model"
    shutil.copytree(p15_graph_model, folder)
    summary = json.loads((folder / "train.json").read_text())
    summary["data"]["dir"] = str(tmp_path / "no-such-build")
    (folder / "train.json").write_text(json.dumps(summary))
    alone = read_trained(folder)
    assert not alone.has_metadata and alone.neighbour_weight == 0
    row = alone.find(TARZAN)
    book = alone.vectors[BOOKS][row]
    expected = alone.scale * (alone.vectors[LINKS] @ book) + alone.link_bias
    np.testing.assert_allclose(alone.link_scores(book)[0], expected, atol=1e-5)
    found = Recommender.load(folder).links_for(TARZAN, topn=5)
    assert [t for t, _ in found] == [alone.titles[LINKS][i] for i in top_k(expected, 5)]


def test_a_model_trained_against_books_ranks_pages_with_their_prior(
    p15_graph_build, trained, tmp_path
):
    """negatives="books" teaches each page which books are its own, not how common the
    page is (every page sees ten negatives a positive): its pages for a book add log(1 +
    the books that meet the page in the build), counted here by a plain loop over the
    build's pairs, in `recommend` as in the evaluation. The default model's biases are
    its own."""
    from wikirec.train import train

    assert trained.page_bias is trained.link_bias
    out = tmp_path / "books"
    train(p15_graph_build, out, epochs=2, dim=16, seed=0, negatives="books")
    model = read_trained(out)
    pages = _book_pages(model)
    books_met = [sum(link in met for met in pages) for link in range(len(model.link_bias))]
    np.testing.assert_allclose(model.page_bias, model.link_bias + np.log1p(books_met),
                               rtol=1e-6)  # fmt: skip
    row = model.find(TARZAN)
    book_list, link_list = model.vectors[BOOKS].tolist(), model.vectors[LINKS].tolist()
    expected = link_scores_by_loops(
        book_list[row], book_list, pages, link_list, model.page_bias.tolist(), model.scale,
        model.neighbour_weight, exclude=[row],
    )  # fmt: skip
    found = model.link_scores(model.vectors[BOOKS][row], exclude=[[row]])[0]
    np.testing.assert_allclose(found, expected, atol=2e-4)
    titles = model.display_titles(LINKS)
    answers = Recommender.from_trained(model).links_for(TARZAN, topn=10)
    assert [t for t, _ in answers] == [titles[i] for i in top_k(found, 10)]
