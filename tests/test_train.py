"""The sampler, the model and `wikirec train` on the real p15 records.

What is reproducible: with the same seed, the same data and the same machine, the
batches are identical (NumPy's PCG64 streams seeded by (seed, epoch)), and so are the
trained vectors, bit for bit, for both optimizers (TensorFlow's CPU kernels used here
are deterministic; no op-determinism flag is needed). Across machines or library
versions only the statistics are expected to hold.
"""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest

from wikirec import train as train_module
from wikirec.batches import PairSampler
from wikirec.built import load_training_data
from wikirec.cli import main
from wikirec.train import TrainError, should_stop, train
from wikirec.trained import ModelError, load_vectors

# Small and quick, but enough steps (91 per epoch) for the structure to show.
QUICK = {"dim": 16, "batch_positives": 128, "learning_rate": 0.01, "patience": 0}


@pytest.fixture(scope="module")
def data(p15_build):
    return load_training_data(p15_build)


@pytest.fixture(scope="module")
def sampler(data):
    return PairSampler(data.pairs, data.n_books, data.n_links, negative_ratio=2, seed=0)


@pytest.fixture(scope="module")
def pair_set(data) -> set[tuple[int, int]]:
    return set(map(tuple, data.pairs.tolist()))


# --------------------------------------------------------------------------- sampler


def test_sampler_never_emits_a_true_pair_as_negative(sampler, pair_set):
    """Over 20 epochs (about 700,000 examples), checked against a plain Python set."""
    negatives = positives = 0
    for epoch in range(20):
        batches = sampler.epoch(epoch, 1024)
        for book, link, label in zip(
            batches.book.ravel().tolist(), batches.link.ravel().tolist(),
            batches.label.ravel().tolist(), strict=True,
        ):  # fmt: skip
            if label == 1.0:
                assert (book, link) in pair_set
                positives += 1
            else:
                assert label == 0.0 and (book, link) not in pair_set
                negatives += 1
    assert negatives == 2 * positives == 2 * 20 * 11 * 1024


def test_rejection_is_exact_where_negatives_are_dense(data):
    """The 10 books with most links, links drawn by frequency: many candidates are true
    pairs, and none survives."""
    busy = np.argsort(-np.bincount(data.pairs[:, 0]))[:10]
    pairs = data.pairs[np.isin(data.pairs[:, 0], busy)].copy()
    pairs[:, 0] = np.searchsorted(np.sort(busy), pairs[:, 0])
    sampler = PairSampler(pairs, 10, data.n_links, 5, negatives="frequency")
    truth = set(map(tuple, pairs.tolist()))
    rng = np.random.default_rng(1)
    books = rng.integers(0, 10, 100_000).tolist()
    candidates = zip(books, sampler._draw_links(rng, 100_000).tolist(), strict=True)
    assert sum(pair in truth for pair in candidates) > 5_000  # much to reject
    books, links = sampler.draw_negatives(rng, 300_000)
    assert not any(pair in truth for pair in zip(books.tolist(), links.tolist(), strict=True))


def test_every_batch_hits_the_ratio_and_is_shuffled(sampler):
    batches = sampler.epoch(0, 1024)
    assert batches.book.shape == (11, 3072) and batches.label.dtype == np.float32
    assert (batches.label.sum(axis=1) == 1024).all()
    first_third = batches.label[:, :1024].mean()
    assert 0.28 < first_third < 0.39  # positives spread over the batch, not in front


def test_each_epoch_covers_the_positives(data, sampler):
    """An epoch is a pass over the pairs: each pair at most once, every pair once when the
    batch size divides the pairs, and about once per epoch in expectation otherwise."""
    counts = Counter(map(tuple, data.pairs.tolist()))
    exact = sampler.epoch(0, 8)  # 11,688 = 8 * 1,461
    seen = exact.label == 1
    drawn = zip(exact.book[seen].tolist(), exact.link[seen].tolist(), strict=True)
    assert Counter(drawn) == counts

    n_epochs, per_epoch = 30, 11 * 1024 / 11688
    times = np.zeros(len(data.pairs))
    for epoch in range(n_epochs):
        rng = sampler.rng(epoch)
        chosen = rng.permutation(len(data.pairs))[: 11 * 1024]  # what epoch() draws first
        times[chosen] += 1
    assert times.min() >= 20 and times.max() <= n_epochs
    assert abs(times.mean() - n_epochs * per_epoch) < 1e-9


def test_frequency_negatives_follow_count_to_the_three_quarters(data):
    """Links drawn by occurrences ** 0.75, then thinned by the exact rejection: a link on
    a fraction f of the books loses that fraction of its candidates."""
    sampler = PairSampler(data.pairs, data.n_books, data.n_links, 2, negatives="frequency")
    _, links = sampler.draw_negatives(np.random.default_rng(2), 400_000)
    weights = np.bincount(data.pairs[:, 1], minlength=data.n_links) ** 0.75
    expected = weights * (1 - data.links["count"].to_numpy() / data.n_books)
    expected /= expected.sum()
    observed = np.bincount(links, minlength=data.n_links) / len(links)
    top = np.argsort(-expected)[:20]
    assert np.allclose(observed[top], expected[top], rtol=0.06)
    assert abs(np.corrcoef(observed, expected)[0, 1] - 1) < 0.01


def test_books_negatives_pair_each_positives_page_with_other_books(data, pair_set):
    """negatives="books": each positive's page, negative_ratio times, in its own batch,
    each time with a random book that does not meet it."""
    sampler = PairSampler(data.pairs, data.n_books, data.n_links, 3, negatives="books")
    books_drawn = []
    for epoch in range(10):
        batches = sampler.epoch(epoch, 512)
        for book, link, label in zip(batches.book, batches.link, batches.label, strict=True):
            positive = label == 1
            assert Counter(link[~positive].tolist()) == Counter(3 * link[positive].tolist())
            negatives = zip(book[~positive].tolist(), link[~positive].tolist(), strict=True)
            assert not any(pair in pair_set for pair in negatives)
            books_drawn += book[~positive].tolist()
    counts = np.bincount(books_drawn, minlength=data.n_books)  # about 240 a book
    assert counts.min() > 0.5 * counts.mean() and counts.max() < 1.5 * counts.mean()


def test_books_negatives_of_a_page_every_book_meets_are_random_pairs(data):
    """The 20 books that link to the most common page: no book is left to pair it with,
    so its negatives are random pairs, still never a true one."""
    common = int(np.argmax(np.bincount(data.pairs[:, 1])))
    chosen = np.unique(data.pairs[data.pairs[:, 1] == common, 0])[:20]
    pairs = data.pairs[np.isin(data.pairs[:, 0], chosen)].copy()
    pairs[:, 0] = np.searchsorted(chosen, pairs[:, 0])
    truth = set(map(tuple, pairs.tolist()))
    sampler = PairSampler(pairs, 20, data.n_links, 4, negatives="books")
    pages = np.full(1000, common)
    books, links = sampler.books_for_pages(np.random.default_rng(0), pages)
    assert not any(pair in truth for pair in zip(books.tolist(), links.tolist(), strict=True))
    assert common not in set(links.tolist())


def test_sampler_is_seeded_and_regression_labels(data, sampler):
    again = PairSampler(data.pairs, data.n_books, data.n_links, seed=0).epoch(3, 512)
    assert np.array_equal(again.book, sampler.epoch(3, 512).book)
    assert not np.array_equal(again.link, sampler.epoch(4, 512).link)
    regression = PairSampler(data.pairs, data.n_books, data.n_links, 1, mode="regression")
    assert set(np.unique(regression.epoch(0, 512).label)) == {-1.0, 1.0}


# --------------------------------------------------------------------------- model


def test_reference_model_is_the_tutorials():
    import keras

    from wikirec.recipes import TrainConfig
    from wikirec.trainers import KerasTrainer

    config = TrainConfig.for_recipe("reference", optimizer="adam")
    model = KerasTrainer.create(config, 1411, 812).net
    names = [layer.name for layer in model.layers]
    assert names[:5] == ["book", "link", "book_embedding", "link_embedding", "dot_product"]
    assert model.get_layer("dot_product").get_config()["normalize"] is True
    assert model.layers[-1].get_config()["activation"] == "sigmoid"
    assert model.count_params() == (1411 + 812) * 50 + 2
    assert model.loss == "binary_crossentropy"
    assert isinstance(model.optimizer, keras.optimizers.Adam)  # RowSumAdam: textbook Adam
    assert model.optimizer.learning_rate.numpy() == pytest.approx(0.001)
    regression = KerasTrainer.create(TrainConfig.for_recipe("reference", mode="regression"),
                                     1411, 812).net  # fmt: skip
    assert regression.loss == "mse" and regression.count_params() == (1411 + 812) * 50
    assert regression.output.shape == (None, 1)


def test_kernel_first_step_equals_keras_adam(p15_build, data, tmp_path):
    """One step over the whole data from the same initial weights: lazy and dense Adam
    agree on the first step (untouched rows have zero moments in both), so this checks
    the hand-derived gradient against Keras' autodiff."""
    one_step = {"model": "reference", "dim": 8, "batch_positives": len(data.pairs), "epochs": 1}
    train(p15_build, tmp_path / "keras", optimizer="adam", **one_step)
    train(p15_build, tmp_path / "sparse", optimizer="kernel", **one_step)
    keras_run = load_vectors(tmp_path / "keras", normalize=False)
    sparse_run = load_vectors(tmp_path / "sparse", normalize=False)
    assert np.allclose(keras_run.book_vectors, sparse_run.book_vectors, atol=1e-6)
    assert np.allclose(keras_run.link_vectors, sparse_run.link_vectors, atol=1e-6)
    losses = [
        json.loads((tmp_path / r / "train.json").read_text())["loss"][0]
        for r in ("keras", "sparse")
    ]
    assert losses[0] == pytest.approx(losses[1], abs=1e-5)


# --------------------------------------------------------------------------- training


def author_margin(run_dir, books) -> tuple[float, float]:
    """Mean cosine between books of the same infobox author, and between random books."""
    vectors = load_vectors(run_dir).book_vectors
    authors = books.author.str.strip().str.lower().to_numpy()
    same = []
    for author in set(authors) - {""}:
        group = np.flatnonzero(authors == author)
        if len(group) > 1:
            cosines = vectors[group] @ vectors[group].T
            same.append(cosines[np.triu_indices(len(group), 1)].mean())
    rng = np.random.default_rng(0)
    i, j = rng.integers(0, len(vectors), (2, 20_000))
    keep = i != j
    return float(np.mean(same)), float(np.mean(np.sum(vectors[i[keep]] * vectors[j[keep]], 1)))


@pytest.mark.parametrize("optimizer", ["adam", "kernel"])
def test_books_of_one_author_end_up_near_each_other(p15_build, data, tmp_path, optimizer):
    """10 epochs on p15: 133 authors with 2+ books. Measured with seeds 0, 1, 2: same-author
    cosine 0.66 (both optimizers), random pairs 0.12-0.13. Required: a margin of 0.3."""
    train(p15_build, tmp_path / "run", "reference", optimizer=optimizer, epochs=10, seed=0,
          **QUICK)  # fmt: skip
    same, random_pairs = author_margin(tmp_path / "run", data.books)
    assert same - random_pairs > 0.3
    assert random_pairs < 0.3


@pytest.mark.parametrize("optimizer", ["adam", "kernel", "keras"])
def test_training_is_reproducible(p15_build, tmp_path, optimizer):
    runs = []
    for name, seed in (("a", 0), ("b", 0), ("c", 1)):
        summary = train(
            p15_build, tmp_path / name, "reference", optimizer=optimizer, epochs=3, seed=seed,
            **QUICK,
        )  # fmt: skip
        runs.append((summary["loss"], load_vectors(tmp_path / name, normalize=False)))
    (loss_a, a), (loss_b, b), (_, c) = runs
    assert loss_a == loss_b
    assert np.array_equal(a.book_vectors, b.book_vectors)
    assert np.array_equal(a.link_vectors, b.link_vectors)
    assert not np.allclose(a.book_vectors, c.book_vectors)


def test_outputs_and_the_saved_model_reloads(p15_build, data, tmp_path):
    import keras

    summary = train(p15_build, tmp_path / "run", "reference", epochs=2, **QUICK)
    run = tmp_path / "run"
    saved = json.loads((run / "train.json").read_text())
    assert saved["params"]["dim"] == 16 and len(saved["loss"]) == len(saved["seconds"]) == 2
    assert summary["examples_per_second"] > 0 and saved["data"]["n_pairs"] == len(data.pairs)
    model = keras.models.load_model(run / "model.keras", safe_mode=True)
    raw = load_vectors(run, normalize=False)
    assert np.array_equal(model.get_layer("book_embedding").get_weights()[0], raw.book_vectors)
    assert np.array_equal(model.get_layer("link_embedding").get_weights()[0], raw.link_vectors)
    assert raw.book_titles == data.books.title.tolist() and len(raw.link_titles) == 812
    unit = load_vectors(run)
    assert np.allclose(np.linalg.norm(unit.book_vectors, axis=1), 1, atol=1e-5)
    # The model's prediction is sigmoid(kernel * cosine + bias) of the saved vectors.
    books, links = np.array([0, 5, 9]), np.array([3, 0, 7])
    predicted = model.predict({"book": books[:, None], "link": links[:, None]}, verbose=0)
    kernel, bias = model.layers[-1].get_weights()
    cosine = np.sum(unit.book_vectors[books] * unit.link_vectors[links], axis=1)
    assert np.allclose(
        predicted.ravel(), 1 / (1 + np.exp(-(kernel.item() * cosine + bias))), atol=1e-5
    )


@pytest.mark.parametrize(
    "model, optimizer",
    [("reference", "adam"), ("reference", "kernel"), ("cosine_bias", "kernel"),
     ("link_mean", "kernel"), ("link_mean", "keras")],
)
def test_resuming_an_interrupted_run(p15_build, tmp_path, monkeypatch, model, optimizer):
    """Killed during epoch 3 of 4: the folder is not a finished run; --resume finishes
    it, and gives exactly what an uninterrupted run gives."""
    options = {"model": model, "optimizer": optimizer, "epochs": 4, **QUICK}
    train(p15_build, tmp_path / "whole", **options)
    one_epoch = train_module._one_epoch

    def dies_in_epoch_3(trainer, batches, epoch, *args):
        if epoch == 2:
            raise KeyboardInterrupt
        return one_epoch(trainer, batches, epoch, *args)

    monkeypatch.setattr(train_module, "_one_epoch", dies_in_epoch_3)
    with pytest.raises(KeyboardInterrupt):
        train(p15_build, tmp_path / "cut", **options)
    monkeypatch.undo()
    with pytest.raises(ModelError, match="not a finished run"):
        load_vectors(tmp_path / "cut")
    with pytest.raises(TrainError, match="--resume"):
        train(p15_build, tmp_path / "cut", **options)
    summary = train(p15_build, tmp_path / "cut", resume=True, **options)
    assert summary["resumed_after_epoch"] == 2 and summary["epochs_run"] == 4
    whole, resumed = load_vectors(tmp_path / "whole"), load_vectors(tmp_path / "cut")
    assert np.array_equal(whole.book_vectors, resumed.book_vectors)
    assert np.array_equal(whole.link_vectors, resumed.link_vectors)
    if model != "reference":  # its biases are restored from the checkpoint too
        for name in ("book_bias.npy", "link_bias.npy"):
            assert np.array_equal(
                np.load(tmp_path / "whole" / name), np.load(tmp_path / "cut" / name)
            )
    assert summary["loss"] == json.loads((tmp_path / "whole" / "train.json").read_text())["loss"]
    with pytest.raises(TrainError, match="dim=16, not 8"):
        train(p15_build, tmp_path / "cut", resume=True, **{**options, "dim": 8})


def test_early_stopping_rule():
    assert not should_stop([0.5, 0.4, 0.3], patience=2, min_delta=0)
    assert should_stop([0.5, 0.3, 0.31, 0.30], patience=2, min_delta=0)
    assert not should_stop([0.5, 0.3, 0.31, 0.29], patience=2, min_delta=0)
    assert should_stop([0.5, 0.3, 0.2999, 0.2999], patience=2, min_delta=0.001)
    assert not should_stop([0.5, 0.6, 0.7, 0.8], patience=0, min_delta=0)


def test_training_stops_early_when_the_loss_stalls(p15_build, tmp_path):
    """Loss 0.69 -> 0.14 in 10 epochs (see above), then it flattens: with min_delta 0.01
    and patience 2 the run stops well before 30 epochs."""
    options = {**QUICK, "patience": 2, "min_delta": 0.01}
    summary = train(p15_build, tmp_path / "run", "reference", epochs=30, optimizer="kernel",
                    **options)  # fmt: skip
    assert summary["stopped_early"] and 10 < summary["epochs_run"] < 30
    assert should_stop(summary["loss"], 2, 0.01)
    assert not should_stop(summary["loss"][:-1], 2, 0.01)  # it stopped at the first chance


@pytest.mark.parametrize(
    "change, message",
    [
        ({"dim": 0}, "dimension must be at least 1"),
        ({"batch_positives": 20_000}, "larger than the data"),
        ({"optimizer": "sgd"}, "optimizer must be one of"),
        ({"model": "cosine_bias", "optimizer": "adam"}, "cosine_bias trains with lazy Adam"),
        ({"model": "link_mean", "optimizer": "adam"}, "link_mean trains with lazy Adam"),
        ({"model": "cosine_bias", "mode": "regression"}, "classification mode only"),
        ({"model": "cosine_bias", "scale": 0}, "scale must be > 0"),
        ({"model": "word2vec"}, "unknown model 'word2vec'"),
        ({"dim": 99_999_999_999}, "dim must be at most 4,096, not 99,999,999,999"),
        ({"negative_ratio": 10**11}, "negative_ratio must be at most 1,000"),
        ({"seed": 10**20}, "seed must be at most 4,294,967,295"),
    ],
)
def test_bad_parameters_are_refused_before_writing(p15_build, tmp_path, change, message):
    with pytest.raises(TrainError, match=message):
        train(p15_build, tmp_path / "out", **change)
    assert not (tmp_path / "out").exists()


def test_bad_data_folders(p15_build, tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["train", str(empty), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("wikirec train: ") and "empty" in err and "\n" not in err
    assert not (tmp_path / "out").exists()
    mismatched = tmp_path / "mismatched"
    mismatched.mkdir()
    for name in ("build.json", "books.parquet", "pairs.npy"):
        (mismatched / name).write_bytes((p15_build / name).read_bytes())
    (mismatched / "links.parquet").write_bytes((p15_build / "books.parquet").read_bytes())
    with pytest.raises(TrainError, match="inconsistent build"):
        train(mismatched, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_cli_trains(p15_build, tmp_path, capsys):
    args = ["train", str(p15_build), "--out", str(tmp_path / "run"), "--quiet", "--epochs", "2"]
    args += ["--dim", "8", "--model", "reference", "--batch-positives", "512"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert out.startswith("trained 2 epochs in ") and "examples/s" in out
    assert json.loads((tmp_path / "run" / "train.json").read_text())["params"]["dim"] == 8


# --------------------------------------------------------------------------- cosine_bias


def test_reference_recipe_is_unchanged_and_cosine_bias_brings_its_own():
    reference = train_module.TrainConfig.for_recipe("reference")
    assert (reference.dim, reference.epochs, reference.batch_positives) == (50, 15, 1024)
    assert (reference.negative_ratio, reference.learning_rate) == (2, 0.001)
    assert (reference.optimizer, reference.negatives) == ("adam", "uniform")
    bias = train_module.TrainConfig.for_recipe("cosine_bias", dim=None, epochs=3)
    assert (bias.dim, bias.epochs, bias.batch_positives, bias.negative_ratio) == (200, 3, 256, 5)
    assert (bias.learning_rate, bias.optimizer, bias.scale, bias.rare_weight) == (
        0.01, "auto", 5.0, 0.5,
    )  # fmt: skip
    assert train_module.TrainConfig().model == train_module.TrainConfig.for_recipe().model


def test_cosine_bias_through_the_cli(p15_build, data, tmp_path, capsys):
    """`wikirec train --model cosine_bias`: its recipe for what is not given, its biases
    on disk, a Keras model whose output is the logit 5 cos + b_book + c_link."""
    import keras

    from wikirec.recommend import Recommender

    run = tmp_path / "run"
    args = ["train", str(p15_build), "--out", str(run), "--quiet", "--model", "cosine_bias"]
    assert main([*args, "--epochs", "2", "--dim", "8"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("trained 2 epochs in ") and "link_bias.npy" in out
    saved = json.loads((run / "train.json").read_text())
    params = saved["params"]
    assert (params["model"], params["dim"], params["batch_positives"]) == ("cosine_bias", 8, 256)
    assert (params["negative_ratio"], params["learning_rate"], params["scale"]) == (5, 0.01, 5.0)
    assert saved["loss"][1] < saved["loss"][0] and saved["epochs_run"] == 2
    book_bias, link_bias = np.load(run / "book_bias.npy"), np.load(run / "link_bias.npy")
    assert book_bias.shape == (data.n_books,) and link_bias.shape == (data.n_links,)
    assert np.abs(link_bias).max() > 0  # trained, not the zeros it starts from
    model = keras.models.load_model(run / "model.keras", safe_mode=True)
    books, links = np.array([[0], [5], [7]]), np.array([[1], [0], [9]])
    predicted = model.predict({"book": books, "link": links}, verbose=0)[:, 0]
    unit = load_vectors(run)
    cosine = (unit.book_vectors[books[:, 0]] * unit.link_vectors[links[:, 0]]).sum(1)
    logit = 5.0 * cosine + book_bias[books[:, 0]] + link_bias[links[:, 0]]
    np.testing.assert_allclose(predicted, logit, atol=1e-5)
    assert len(Recommender.load(run).most_similar("The Son of Tarzan", topn=3)) == 3
    # A reference run over it leaves no stale biases behind.
    assert main(["train", str(p15_build), "--out", str(run), "--quiet", "--overwrite",
                 "--epochs", "1", "--dim", "8", "--model", "reference"]) == 0  # fmt: skip
    assert not (run / "link_bias.npy").exists() and not (run / "book_bias.npy").exists()


def test_cosine_bias_is_reproducible(p15_build, tmp_path):
    runs = []
    for name, seed in (("a", 0), ("b", 0), ("c", 1)):
        summary = train(p15_build, tmp_path / name, model="cosine_bias", epochs=2, seed=seed,
                        **QUICK)  # fmt: skip
        bias = np.load(tmp_path / name / "link_bias.npy")
        runs.append((summary["loss"], load_vectors(tmp_path / name, normalize=False), bias))
    (loss_a, a, bias_a), (loss_b, b, bias_b), (_, c, _) = runs
    assert loss_a == loss_b and np.array_equal(bias_a, bias_b)
    assert np.array_equal(a.book_vectors, b.book_vectors)
    assert np.array_equal(a.link_vectors, b.link_vectors)
    assert not np.allclose(a.book_vectors, c.book_vectors)


def test_compiled_steps_equal_the_numpy_statement_whatever_the_threads(data):
    """train_steps (numba, fused, both cores) against CosineBias.step (plain NumPy, one
    batch at a time) on 20 real batches; and bit for bit the same on one thread."""
    import numba

    from wikirec.kernel import CosineBias, positive_weights

    pairs = np.asarray(data.pairs)
    weights = positive_weights(pairs, data.n_books, data.n_links, 0.5)
    batches = PairSampler(pairs, data.n_books, data.n_links, 5, seed=3).epoch(0, 256)
    steps = slice(0, 20)
    nets = [CosineBias(data.n_books, data.n_links, 16, weights, seed=0) for _ in range(3)]
    rows = zip(batches.book[steps], batches.link[steps], batches.label[steps], strict=True)
    spec = [nets[0].step(b, k, y) for b, k, y in rows]
    fused = nets[1].train_steps(batches.book[steps], batches.link[steps], batches.label[steps])
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        single = nets[2].train_steps(batches.book[steps], batches.link[steps],
                                     batches.label[steps])  # fmt: skip
    finally:
        numba.set_num_threads(threads)
    assert np.allclose(spec, fused, atol=1e-6)
    for name in CosineBias.TABLES:
        moved = np.abs(getattr(nets[0], name) - getattr(CosineBias(
            data.n_books, data.n_links, 16, weights, seed=0), name)).max()  # fmt: skip
        assert moved > 1e-3  # the tables did train
        assert np.allclose(getattr(nets[0], name), getattr(nets[1], name), atol=1e-5)
        assert np.array_equal(getattr(nets[1], name), getattr(nets[2], name))
    assert np.array_equal(fused, single) and nets[1].t == nets[0].t == 20


# --------------------------------------------------------------------------- one way


@pytest.mark.parametrize(
    ("model", "negatives"),
    [("link_mean", "uniform"), ("link_mean", "books"), ("reference", "uniform")],
)
def test_keras_path_equals_the_kernel(p15_graph_build, model, negatives):
    """The same model from the same start on the same 20 real batches: Keras' fit with
    LazyAdam and the compiled kernel end with the same weights (float32 rounding). With
    "books" negatives a batch names each positive's page eleven times."""
    import keras

    from wikirec.batches import EpochBatches
    from wikirec.recipes import TrainConfig
    from wikirec.train import training_pairs
    from wikirec.trainers import KerasTrainer, KernelTrainer

    data = load_training_data(p15_graph_build)
    config = TrainConfig.for_recipe(model, dim=16, batch_positives=128, optimizer="keras")
    pairs = training_pairs(data, config)
    trainers = []
    for kind in (KerasTrainer, KernelTrainer):
        keras.utils.set_random_seed(0)
        trainers.append(kind.create(config, data.n_books, data.n_links, pairs))
    start = {name: array.copy() for name, array in trainers[1].weights().items()}
    epoch = PairSampler(pairs, data.n_books, data.n_links, config.negative_ratio,
                        negatives=negatives).epoch(0, 128)  # fmt: skip
    steps = EpochBatches(epoch.book[:20], epoch.link[:20], epoch.label[:20])
    losses = [trainer.run_epoch(steps, lambda *_: None) for trainer in trainers]
    assert losses[0] == pytest.approx(losses[1], rel=1e-5)
    through_keras, through_kernel = (trainer.weights() for trainer in trainers)
    assert set(through_keras) == set(through_kernel) == set(start)
    for name, array in through_kernel.items():
        assert np.abs(array - start[name]).max() > 1e-3  # it trained
        np.testing.assert_allclose(through_keras[name], array, atol=2e-5)


def test_a_saved_default_model_continues_training_through_fit(p15_graph_build, tmp_path):
    """`wikirec train` (the kernel) for 2 epochs, then the saved model.keras loaded with
    safe_mode=True and fit on epoch 3's batches ends where 3 kernel epochs end."""
    import keras

    import wikirec.model  # noqa: F401  (registers the wikirec classes)
    from wikirec.recipes import TrainConfig
    from wikirec.train import training_pairs

    options = {"dim": 16, "batch_positives": 128, "patience": 0, "optimizer": "kernel"}
    train(p15_graph_build, tmp_path / "two", epochs=2, **options)
    train(p15_graph_build, tmp_path / "three", epochs=3, **options)
    net = keras.models.load_model(tmp_path / "two" / "model.keras", safe_mode=True)
    assert int(net.optimizer.iterations.numpy()) > 0
    data = load_training_data(p15_graph_build)
    config = TrainConfig.for_recipe(**{k: v for k, v in options.items() if k != "optimizer"})
    batches = PairSampler(training_pairs(data, config), data.n_books, data.n_links,
                          config.negative_ratio, seed=0).epoch(2, 128)  # fmt: skip
    net.fit({"book": batches.book.reshape(-1, 1), "link": batches.link.reshape(-1, 1)},
            batches.label.reshape(-1, 1), batch_size=batches.batch_size, epochs=1,
            shuffle=False, verbose=0)  # fmt: skip
    three = keras.models.load_model(tmp_path / "three" / "model.keras", safe_mode=True)
    for layer in ("book_embedding", "link_embedding", "book_bias", "link_bias"):
        np.testing.assert_allclose(net.get_layer(layer).get_weights()[0],
                                   three.get_layer(layer).get_weights()[0], atol=1e-4)  # fmt: skip


def test_no_options_train_the_default_model_everywhere(p15_graph_build, tmp_path):
    """`wikirec train` with no options, `wikirec run books` and `wikirec evaluate` all
    mean the same model with the same recipe (wikirec.recipes)."""
    import argparse

    from wikirec import evaluate, pipeline
    from wikirec.recipes import DEFAULT_RECIPE, RECIPE_KEYS, RECIPES, TrainConfig

    parser = argparse.ArgumentParser()
    train_module.add_command(parser.add_subparsers())
    args = parser.parse_args(["train", str(p15_graph_build), "--out", str(tmp_path / "run")])
    assert args.model == DEFAULT_RECIPE == evaluate.DEFAULT_RECIPE == "link_mean"
    assert all(getattr(args, key) is None for key in ("dim", "epochs", "learning_rate"))
    books = pipeline.load_config("books")
    assert books["train"]["model"] == DEFAULT_RECIPE
    assert not set(pipeline.train_options(books)) & set(RECIPE_KEYS)  # the recipe's own
    config = TrainConfig.for_recipe()
    recipe = RECIPES[DEFAULT_RECIPE]
    assert (config.dim, config.epochs, config.negative_ratio) == (
        recipe.dim, recipe.epochs, recipe.negative_ratio)  # fmt: skip
    assert config.inputs == "out+in" and config.optimizer == "auto"
    assert TrainConfig.for_recipe("reference").optimizer == "adam"  # the tutorial, exactly


def _book_vectors_by_loops(model_dir, build, category_weight: float = 1.0):
    """The default model's book vectors written as plain loops, for every 7th book that
    meets a link: its own unit embedding row plus the unit idf-weighted mean of its
    links' unit vectors (a ``Category:`` page's weight times ``category_weight``),
    scaled to length 1. Returns {book: vector}, the tables and the training pairs."""
    import keras

    import wikirec.model  # noqa: F401  (registers the wikirec classes)
    from wikirec.recipes import TrainConfig
    from wikirec.titles import is_category_link
    from wikirec.train import training_pairs

    net = keras.models.load_model(model_dir / "model.keras", safe_mode=True)
    own = net.get_layer("book_embedding").get_weights()[0]
    links = net.get_layer("link_embedding").get_weights()[0]
    data = load_training_data(build)
    titles = data.links["title"].tolist()
    pairs = training_pairs(data, TrainConfig.for_recipe())

    def unit(v):
        return v / np.linalg.norm(v)

    books_of = {}
    for book, link in np.unique(pairs, axis=0):
        books_of.setdefault(int(book), []).append(int(link))
    n_books = len(own)
    counts = Counter(link for row in books_of.values() for link in row)
    expected = {}
    for book in list(books_of)[::7]:
        weights = [
            (np.log((1 + n_books) / (1 + counts[link])) + 1)
            * (category_weight if is_category_link(titles[link]) else 1.0)
            for link in books_of[book]
        ]
        mean = sum(w * unit(links[link]) for w, link in zip(weights, books_of[book], strict=True))
        expected[book] = unit(unit(own[book]) + unit(mean))
    return expected, own, links, pairs


def test_default_book_vectors_are_own_row_plus_mean_of_links(p15_graph_model, p15_graph_build):
    """The saved book vectors of the default model are, book by book, its own unit
    embedding row plus the unit idf-weighted mean of its links' unit vectors (written
    here as a plain loop), scaled to length 1; a book without links keeps its row."""
    from wikirec.trainers import link_mean

    expected, own, links, pairs = _book_vectors_by_loops(p15_graph_model, p15_graph_build)
    saved = np.load(p15_graph_model / "book_vectors.npy")
    assert len(expected) > 150
    for book, vector in expected.items():
        np.testing.assert_allclose(saved[book], vector, atol=1e-5)
    lonely = link_mean(links, pairs[pairs[:, 0] != 0], own)  # book 0 loses its links
    np.testing.assert_allclose(lonely[0], own[0] / np.linalg.norm(own[0]), atol=1e-6)


def test_category_weight_weighs_the_category_pages_in_a_books_mean(p15_graph_build, tmp_path):
    """``--category-weight 3`` multiplies the weight of each ``Category:`` page in a
    book's mean of links (checked against the loops on the real p15 build); it is read
    once training ends, so a resumed run may change it, back to 1 here."""
    from wikirec.trainers import link_mean

    out = tmp_path / "run"
    assert main(["train", str(p15_graph_build), "--out", str(out), "--epochs", "2",
                 "--dim", "16", "--category-weight", "3", "--quiet"]) == 0  # fmt: skip
    assert json.loads((out / "train.json").read_text())["params"]["category_weight"] == 3
    expected, own, links, pairs = _book_vectors_by_loops(out, p15_graph_build, 3.0)
    saved = np.load(out / "book_vectors.npy")
    for book, vector in expected.items():
        np.testing.assert_allclose(saved[book], vector, atol=1e-5)
    plain = link_mean(links, pairs, own)
    moved = np.abs(saved - plain).max(axis=1) > 1e-3
    assert 0.5 < moved.mean() < 1  # the books that meet a category page, not the others
    train(p15_graph_build, out, epochs=3, dim=16, resume=True)  # the recipe's weight, 1
    expected, *_ = _book_vectors_by_loops(out, p15_graph_build)
    saved = np.load(out / "book_vectors.npy")
    for book, vector in expected.items():
        np.testing.assert_allclose(saved[book], vector, atol=1e-5)


def test_training_can_start_from_a_model_of_the_same_books_and_links(p15_graph_build, tmp_path):
    """--init-from: the weights and Adam moments of a finished run on other pairs of the
    same books and links (the evaluation's split) are the start; other models, options
    or books are refused in one line."""
    from wikirec.evaluate import train_heldout

    options = {"dim": 16, "epochs": 3}
    train_heldout(p15_graph_build, tmp_path / "ahead", seed=0, model="link_mean", **options)
    start = tmp_path / "ahead" / "model"
    warm = train(p15_graph_build, tmp_path / "warm", epochs=1, dim=16, seed=5, init_from=start)
    cold = train(p15_graph_build, tmp_path / "cold", epochs=1, dim=16, seed=5)
    assert warm["initialised_from"] == str(start) and "initialised_from" not in cold
    assert warm["epochs_run"] == 1
    # three epochs ahead: the first epoch from there starts far below a fresh start
    assert warm["loss"][0] < 0.5 * cold["loss"][0]
    assert main(["train", str(p15_graph_build), "--out", str(tmp_path / "cli"), "--dim", "8",
                 "--epochs", "1", "--init-from", str(start), "--quiet"]) == 2  # fmt: skip
    with pytest.raises(TrainError, match=r"was trained with dim=16, not 8"):
        train(p15_graph_build, tmp_path / "x", epochs=1, dim=8, init_from=start)
    with pytest.raises(TrainError, match="not a finished train folder"):
        train(p15_graph_build, tmp_path / "x", epochs=1, dim=16, init_from=tmp_path / "cold" / "no")
    reference = tmp_path / "ahead-ref"
    train(p15_graph_build, reference, model="reference", epochs=1, optimizer="kernel")
    with pytest.raises(TrainError, match=r"was trained with model='reference'"):
        train(p15_graph_build, tmp_path / "x", epochs=1, dim=16, init_from=reference)


def test_a_start_from_other_books_or_links_is_refused(p15_build, p15_graph_build, tmp_path):
    other = tmp_path / "other"
    train(p15_build, other, epochs=1, dim=16)  # the out-links build: other links
    with pytest.raises(TrainError, match=r"trained on other links than this build's"):
        train(p15_graph_build, tmp_path / "x", epochs=1, dim=16, init_from=other)


@pytest.mark.parametrize(
    "edit, message",
    [(lambda s: [], "not a checkpoint state"),
     (lambda s: {**s, "file": 5}, "file 5 is not a weights file"),
     (lambda s: {**s, "file": "../../../../etc/passwd"}, "is not a weights file of this folder"),
     (lambda s: {**s, "history": "abc"}, "history is not a list of epochs"),
     (lambda s: {**s, "history": [{"epoch": 1, "loss": 0.5}]}, "history is not a list"),
     (lambda s: {**s, "config": []}, "not a checkpoint state")],
)  # fmt: skip
def test_a_hand_edited_checkpoint_state_is_refused_in_one_line(p15_build, tmp_path, edit, message):
    """Issue 27 item 9: resuming from, or starting from, a checkpoint whose state.json was
    edited by hand names the file; its weights file is never looked for elsewhere."""
    run = tmp_path / "run"
    train(p15_build, run, epochs=1, dim=8, batch_positives=1024)
    path = run / "checkpoint" / "state.json"
    path.write_text(json.dumps(edit(json.loads(path.read_text()))))
    (run / "train.json").unlink()  # as if killed after the epoch
    with pytest.raises(TrainError, match=message) as caught:
        train(p15_build, run, epochs=2, dim=8, batch_positives=1024, resume=True)
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)
    done = tmp_path / "done"
    train(p15_build, done, epochs=1, dim=8, batch_positives=1024)
    (done / "checkpoint" / "state.json").write_text(path.read_text())
    with pytest.raises(TrainError, match=message):
        train(p15_build, tmp_path / "x", epochs=1, dim=8, init_from=done)


def test_a_failed_overwrite_keeps_the_finished_model(p15_build, tmp_path, monkeypatch):
    """Issue 27 item 8: ``train --overwrite`` removed train.json at its start, so a run
    that failed (a full disk while writing the vectors) left no loadable model."""
    import errno

    from wikirec.io import CannotWrite

    out = tmp_path / "run"
    train(p15_build, out, epochs=1, dim=8, batch_positives=1024)
    before = load_vectors(out).book_vectors
    write_npy = train_module.write_npy_atomic

    def disk_full_at_links(array, path):
        if "link_vectors" in str(path):
            raise CannotWrite(errno.ENOSPC, "No space left on device", str(path))
        return write_npy(array, path)

    monkeypatch.setattr(train_module, "write_npy_atomic", disk_full_at_links)
    with pytest.raises(CannotWrite, match=f"cannot write {out / 'link_vectors.npy'}"):
        train(p15_build, out, epochs=2, dim=8, batch_positives=1024, overwrite=True)
    assert np.array_equal(load_vectors(out).book_vectors, before)
    assert not list(out.glob(".*.new"))
    monkeypatch.undo()
    train(p15_build, out, epochs=2, dim=8, batch_positives=1024, overwrite=True)
    assert json.loads((out / "train.json").read_text())["epochs_run"] == 2


def test_a_checkpoint_state_that_is_not_a_regular_file_is_refused_at_once(p15_build, tmp_path):
    """state.json is read as every configuration file is (io.read_small_text): a FIFO in
    its place in the folder given to --init-from is one line, not a wait for a writer."""
    import os

    done = tmp_path / "done"
    train(p15_build, done, epochs=1, dim=8, batch_positives=1024)
    state = done / "checkpoint" / "state.json"
    state.unlink()
    os.mkfifo(state)
    with pytest.raises(TrainError, match=f"^{state}: not a regular file"):
        train(p15_build, tmp_path / "x", epochs=1, dim=8, init_from=done)


def test_tensorflow_is_imported_without_its_start_up_lines(tmp_path):
    """Issue 25: TensorFlow 2.21 prints absl's "All log messages before
    absl::InitializeLog()" and a oneDNN notice while imported, twice, whatever
    TF_CPP_MIN_LOG_LEVEL says; wikirec imports it without them, and what else the
    import writes on stderr still gets through (here, a warning Python prints)."""
    import subprocess
    import sys

    code = (
        "import warnings, wikirec.tf_import as t\n"
        "warnings.warn('kept: a real warning')\n"
        "import wikirec.model\n"
        "print(t.import_tensorflow().__name__)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, check=True)  # fmt: skip
    assert done.stdout == "tensorflow\n"
    assert "absl::InitializeLog" not in done.stderr and "oneDNN" not in done.stderr
    assert "kept: a real warning" in done.stderr


def test_training_leaves_no_compiled_kernel_on_disk(tmp_path):
    """The kernel calls parallel functions. With numba's disk cache on, two trainings
    started together wrote one cache from two processes and paired one's kernel with
    the other's parallel parts: every later run then crashed (a segmentation fault)
    until the cache was deleted. Before that, as a closure it also got a new cache key
    in every process and left new files in wikirec/__pycache__ each run (600 here).
    Now the kernel is compiled in each process that trains and nothing is written:
    two processes started together both train, and a third after them."""
    import os
    import subprocess
    import sys

    code = (
        "import numpy as np\n"
        "from wikirec.kernel import AdamTable, train_steps\n"
        "rng = np.random.default_rng(0)\n"
        "table = lambda n: AdamTable(rng.normal(size=(n, 8)).astype(np.float32), 0.01)\n"
        "books, links = rng.integers(0, 30, (2, 2, 16)).astype(np.int32)\n"
        "labels = (rng.random((2, 16)) < 0.5).astype(np.float32)\n"
        "bias = lambda: AdamTable(np.zeros((30, 1), np.float32), 0.01)\n"
        "losses = train_steps(table(30), table(30), books, links, labels, t=0,\n"
        "    learning_rate=0.01, scalars=AdamTable(np.ones((2, 1), np.float32), 0.01),\n"
        "    train_scalars=False, book_bias=bias(), link_bias=bias())\n"
        "assert np.isfinite(losses).all()\n"
    )
    cache = tmp_path / "numba-cache"
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache)}
    argv = [sys.executable, "-c", code]
    together = [subprocess.Popen(argv, env=env) for _ in range(2)]
    assert [run.wait(timeout=300) for run in together] == [0, 0]
    subprocess.run(argv, env=env, check=True, timeout=300)
    assert not cache.exists() or not any(p.is_file() for p in cache.rglob("*"))
