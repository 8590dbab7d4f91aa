"""The anchors of ``wikirec evaluate`` (wikirec/anchors.py) on the real p15 records:
each method against a plain statement of its authors' formula, the walks against
node2vec's transition probabilities, and each anchor as the evaluation fits it, its
parameters chosen on a validation slice that holds none of the held-out pairs."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from wikirec import anchors
from wikirec import evaluate as ev
from wikirec.built import load_training_data


def codes(pairs: np.ndarray, n_links: int) -> np.ndarray:
    return np.asarray(pairs, np.int64)[:, 0] * n_links + np.asarray(pairs)[:, 1]


@pytest.fixture(scope="module")
def data(p15_graph_build):
    return load_training_data(p15_graph_build)


@pytest.fixture(scope="module")
def ctx(data, tmp_path_factory):
    """The evaluation's split of the default p15 build, over out- and in-links, 16-d."""
    split = ev.split_pairs(
        data.pairs, data.n_links, seed=0, in_pairs=data.in_pairs,
        own_links=data.own_links(),
    )  # fmt: skip
    work = tmp_path_factory.mktemp("anchors")
    return ev.Context(data, split, work, work, dim=16, seed=0, inputs="out+in")


def test_counts_are_how_often_a_book_meets_a_link_in_training(ctx):
    counts = ctx.counts().toarray()
    pairs = ctx.pairs()
    expected = np.zeros_like(counts)
    for book, link in pairs.tolist():
        expected[book, link] += 1
    np.testing.assert_array_equal(counts, expected)
    assert counts.sum() == len(ctx.split.train_pairs) + len(ctx.split.in_train)


def test_ease_is_stecks_closed_form(ctx):
    """B = I - P / diag(P), P = (X^T X + l2 I)^-1, X the 0/1 links x books matrix."""
    model = anchors.ease(ctx.counts(), l2=50.0)
    x = (ctx.counts().toarray() > 0).astype(np.float64).T  # links x books
    p = np.linalg.inv(x.T @ x + 50.0 * np.eye(x.shape[1]))
    b = np.eye(x.shape[1]) - p / np.diag(p)[None, :]
    np.fill_diagonal(b, 0.0)
    np.testing.assert_allclose(model.weights, b, atol=1e-5)
    # a link's score for a book: sum over the books i the link meets of B[i, book]
    books = np.array([0, 7, 100])
    np.testing.assert_allclose(model.link_scores(books), (x @ b[:, books]).T, atol=1e-4)
    # neighbours: the largest weights of the book's row, itself never among them
    near = model.neighbours(5)
    for book in books:
        row = b[book].copy()
        row[book] = -np.inf
        assert set(near[book]) == set(np.argsort(-row)[:5])


def test_ease_above_its_limit_says_so(ctx, monkeypatch):
    monkeypatch.setattr(anchors, "EASE_MAX_BOOKS", 100)
    with pytest.raises(anchors.TooLarge, match=r"ease: 1,4\d\d books is above .* 100"):
        anchors.ease(ctx.counts())


def test_rp3beta_is_the_three_step_walk_over_popularity(ctx):
    """S[i, j] = sum_l P(i -> l)^a P(l -> j)^a / deg(j)^b, the top_k of each row kept."""
    alpha, beta, keep = 0.5, 0.3, 20
    model = anchors.rp3beta(ctx.counts(), alpha=alpha, beta=beta, top_k=keep)
    sets = (ctx.counts().toarray() > 0).astype(np.float64)
    book_to_link = sets / sets.sum(1, keepdims=True).clip(1)
    link_to_book = sets.T / sets.T.sum(1, keepdims=True).clip(1)
    degree = sets.sum(1)
    weights = model.weights.toarray()
    for book in (0, 7, 100, 1000):
        row = np.zeros(sets.shape[0])
        for link in np.flatnonzero(sets[book]):
            for other in np.flatnonzero(sets[:, link]):
                row[other] += book_to_link[book, link] ** alpha * link_to_book[link, other] ** alpha
        row /= np.maximum(degree, 1) ** beta
        row[book] = 0.0
        top = np.argsort(-row, kind="stable")[:keep]
        assert np.count_nonzero(weights[book]) <= keep
        np.testing.assert_allclose(weights[book, top], row[top], rtol=1e-4)


def test_walks_follow_edges_and_nodevecs_return_probability(ctx):
    """On a bipartite graph a step goes back with probability (1/p) / (1/p + (d-1)/q),
    d the degree of the node it leaves: measured over every step of the walks."""
    sets = anchors.binary(ctx.counts())
    n_books = sets.shape[0]
    graph = sparse.bmat([[None, sets], [sets.T, None]], format="csr")
    degree = np.diff(graph.indptr)
    for p, q in ((0.25, 1.0), (1.0, 1.0), (4.0, 0.5)):
        walks = anchors.bipartite_walks(sets, p, q, walks_per_node=4, walk_length=12, seed=1)
        assert len(walks) == 4 * np.count_nonzero(degree)
        here, there = walks[:, :-1].ravel(), walks[:, 1:].ravel()
        assert np.all((here < n_books) != (there < n_books))  # books and links alternate
        assert np.all(graph[here, there].A1 == 1)  # every step is an edge
        back = walks[:, 2:] == walks[:, :-2]
        d = degree[walks[:, 1:-1]]
        expected = (1 / p) / (1 / p + (d - 1) / q)
        assert back.mean() == pytest.approx(expected.mean(), abs=0.01)


@pytest.mark.parametrize("name", anchors.GRIDS)
def test_each_anchor_is_fitted_at_its_validated_best_and_ranks_held_out_links(ctx, name):
    fitted = ev.BASELINES[name](ctx)
    tried = fitted.info["validation"]
    assert len(tried) == len(anchors.GRIDS[name])
    scores = [t[ev.VALIDATION_METRIC] for t in tried]
    chosen = tried[int(np.argmax(scores))]
    assert {k: fitted.info[k] for k in chosen if k != ev.VALIDATION_METRIC} == {
        k: v for k, v in chosen.items() if k != ev.VALIDATION_METRIC
    }
    metrics = ev.heldout_metrics(fitted.link_scores, ctx.split, ctx.n_links)
    assert metrics["auc"] > 0.75 and metrics["recall@50"] > 0.3, metrics
    labels = ev.book_labels(ctx.data)
    precision, _ = ev.precision_at_k(fitted.nearest_books(10), labels["author"])
    assert precision[5] > 0.3


def test_the_validation_slice_is_drawn_from_the_training_pairs_only(ctx):
    inner = ev.validation_context(ctx)
    n = ctx.n_links
    train = set(codes(ctx.split.train_pairs, n).tolist())
    held_out = set(codes(ctx.split.hidden, n).tolist())
    seen = set(codes(inner.split.train_pairs, n).tolist())
    judged = set(codes(inner.split.hidden, n).tolist())
    assert judged and judged <= train and seen <= train
    assert not (seen | judged) & held_out and not seen & judged
    assert len(inner.measured.eval_books) <= ev.VALIDATION_BOOKS


def test_an_anchor_too_large_leaves_a_row_that_says_why(p15_build, tmp_path, monkeypatch):
    monkeypatch.setattr(anchors, "EASE_MAX_BOOKS", 100)
    report = ev.evaluate(p15_build, ["tfidf", "ease"], work_dir=tmp_path, dim=8, seeds=1)
    ease = [row for row in report["rows"] if row["method"] == "ease"]
    assert ease and all(row["recall@50"] is None and "above" in row["skipped"] for row in ease)
    notes = ev.report_notes(report)
    assert any(note.startswith("ease (out): not run: ease: ") for note in notes)
    assert "n/a" in ev.report_table(report)


def test_a_method_whose_library_is_missing_is_named_with_its_extra(p15_build, monkeypatch):
    monkeypatch.setattr(ev, "_installed", lambda method: method not in ("als", "bpr"))
    with pytest.raises(
        ev.EvaluateError, match=r"als needs implicit: pip install 'wikirec\[anchors"
    ):
        ev.evaluate(p15_build, ["tfidf", "als"], seeds=1)
    # by default such a method is left out, and the report says how to add it
    monkeypatch.setattr(ev, "METHODS", ("popularity", "tfidf", "als"))
    report = ev.evaluate(p15_build, seeds=1)
    assert [row["method"] for row in report["rows"]] == ["popularity", "tfidf"]
    assert report["params"]["left_out"] == ["als"]
    assert ev.report_notes(report)[-1] == (
        "left out, their library not installed: als (pip install 'wikirec[anchors]')"
    )
