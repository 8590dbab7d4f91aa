"""Training for the model variants ``wikirec train`` does not run (yet).

``train.py`` trains the reference architecture only. The variants appended to
:data:`wikirec.model.MODELS` that need other maths are trained here, in NumPy, with the
same batches (:class:`wikirec.batches.PairSampler`, epoch ``e`` drawn from
``default_rng([seed, e])``) and the same lazy row-wise Adam rule as ``wikirec train
--optimizer sparse-adam``. The output folder has the files ``wikirec train`` writes,
so :func:`wikirec.train.load_vectors` and ``wikirec recommend`` read it unchanged.

``cosine_bias`` (:data:`VARIANT_DEFAULTS`)
    The reference's cosine, at a fixed scale, plus a bias per book and per link::

        logit(book, link) = scale * cos(u_book, v_link) + b_book + c_link

    trained on labels 1 / 0 with the binary cross-entropy. The link bias takes the
    links' popularity out of the vectors; a positive's weight is ``(n_books /
    books linking to it) ** rare_weight`` (scaled to a mean of 1 over the positives),
    so a link shared by few books counts more, as TF-IDF's idf does. Book-to-book and
    book-to-link answers use the cosine alone; ranking the links for a book uses the
    logit (cosine and link bias), as trained.

Writes to ``OUT``: ``book_vectors.npy``, ``link_vectors.npy`` (float32, (n, dim)),
``book_bias.npy``, ``link_bias.npy`` (float32, (n,)), ``book_titles.json``,
``link_titles.json``, ``model.keras`` (the Keras architecture of ``MODELS[model]``
with these weights; TensorFlow is imported only for it) and ``train.json`` (written
last, removed first). Same seed and data: the same vectors, bit for bit.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from wikirec import __version__
from wikirec.batches import NEGATIVES, PairSampler
from wikirec.build import BuildError, load_training_data, write_npy_atomic
from wikirec.io import write_json_atomic
from wikirec.progress import progress_bar

VARIANTS = ("cosine_bias",)


class VariantError(ValueError):
    """Bad input for a variant's training; the message is one line."""


@dataclass
class VariantConfig:
    """Everything that defines a variant's run (saved in ``train.json``)."""

    model: str = "cosine_bias"
    dim: int = 200
    epochs: int = 30
    batch_positives: int = 256
    negative_ratio: int = 5
    negatives: str = "uniform"
    learning_rate: float = 0.01
    scale: float = 5.0
    rare_weight: float = 0.5
    seed: int = 0

    def check(self) -> None:
        """Raise :class:`VariantError` naming the first bad parameter."""
        rules = [
            (self.model in VARIANTS, f"unknown variant {self.model!r} ({', '.join(VARIANTS)})"),
            (self.dim >= 1, f"the dimension must be at least 1, not {self.dim}"),
            (self.epochs >= 1, f"epochs must be at least 1, not {self.epochs}"),
            (self.batch_positives >= 1, "batch positives must be at least 1"),
            (self.negative_ratio >= 1, "the negative ratio must be at least 1"),
            (self.negatives in NEGATIVES, f"negatives must be one of {', '.join(NEGATIVES)}"),
            (self.learning_rate > 0, "the learning rate must be > 0"),
            (self.scale > 0, "the scale must be > 0"),
        ]
        for ok, message in rules:
            if not ok:
                raise VariantError(message)


VARIANT_DEFAULTS = VariantConfig()


# --------------------------------------------------------------------------- maths


class LazyAdam:
    """Adam on the rows a step touches only (the rule of ``sparse-adam``).

    Parameters
    ----------
    table : float32 (n, ...), updated in place
    """

    beta_1, beta_2, epsilon = 0.9, 0.999, 1e-7

    def __init__(self, table: np.ndarray, learning_rate: float) -> None:
        self.table, self.learning_rate = table, learning_rate
        self.m = np.zeros_like(table)
        self.v = np.zeros_like(table)

    def step(self, rows: np.ndarray, grad: np.ndarray, t: int) -> None:
        """Update ``table[rows]`` (distinct rows) with their summed gradients ``grad``."""
        m = self.m[rows]
        m *= self.beta_1
        m += (1 - self.beta_1) * grad
        v = self.v[rows]
        v *= self.beta_2
        v += (1 - self.beta_2) * np.square(grad)
        self.m[rows], self.v[rows] = m, v
        lr_t = self.learning_rate * math.sqrt(1 - self.beta_2**t) / (1 - self.beta_1**t)
        np.sqrt(v, out=v)
        v += self.epsilon
        m *= np.float32(lr_t)
        m /= v
        self.table[rows] -= m


def segment_sum(index: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sum ``values`` (n, d) by ``index`` (n,): distinct indices (ascending) and their
    sums (n_distinct, d), as a sparse (n_distinct, n) 0/1 matrix times ``values``."""
    from scipy import sparse

    rows, inverse = np.unique(index, return_inverse=True)
    ones = np.ones(len(index), dtype=values.dtype)
    select = sparse.csr_matrix((ones, (inverse, np.arange(len(index)))), (len(rows), len(index)))
    return rows, np.asarray(select @ values)


def positive_weights(pairs: np.ndarray, n_books: int, n_links: int, power: float) -> np.ndarray:
    """float32 (n_links,): ``(n_books / books linking to the link) ** power``, scaled to
    a mean of 1 over the pairs (all ones when ``power`` is 0)."""
    codes = np.unique(pairs[:, 0].astype(np.int64) * n_links + pairs[:, 1])
    books_per_link = np.bincount(codes % n_links, minlength=n_links)
    weights = (n_books / np.maximum(books_per_link, 1)) ** power
    return (weights / weights[pairs[:, 1]].mean()).astype(np.float32)


class CosineBias:
    """The ``cosine_bias`` variant's parameters and its training step.

    Attributes
    ----------
    book, link : float32 (n_books, dim), (n_links, dim)
    book_bias, link_bias : float32 (n_books, 1), (n_links, 1)
    """

    def __init__(self, n_books: int, n_links: int, config: VariantConfig, weights) -> None:
        rng = np.random.default_rng([config.seed, 2**31])
        std = 1 / math.sqrt(config.dim)
        self.book = (rng.normal(size=(n_books, config.dim)) * std).astype(np.float32)
        self.link = (rng.normal(size=(n_links, config.dim)) * std).astype(np.float32)
        self.book_bias = np.zeros((n_books, 1), np.float32)
        self.link_bias = np.zeros((n_links, 1), np.float32)
        self.scale, self.weights, self.t = np.float32(config.scale), weights, 0
        self.optimizers = {
            name: LazyAdam(getattr(self, name), config.learning_rate)
            for name in ("book", "link", "book_bias", "link_bias")
        }

    def step(self, books: np.ndarray, links: np.ndarray, labels: np.ndarray) -> float:
        """One batch of (B,) books, links, 0/1 labels; returns the mean weighted loss."""
        u, v = self.book[books], self.link[links]
        inv_u = 1 / np.maximum(np.linalg.norm(u, axis=1, keepdims=True), 1e-6)
        inv_v = 1 / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-6)
        unit_u, unit_v = u * inv_u, v * inv_v
        cosine = (unit_u * unit_v).sum(1, keepdims=True)
        logit = self.scale * cosine + self.book_bias[books] + self.link_bias[links]
        positive = labels[:, None] > 0
        weight = np.where(positive, self.weights[links][:, None], np.float32(1))
        loss = weight * np.logaddexp(0, np.where(positive, -logit, logit))
        d_logit = (weight * (_sigmoid(logit) - positive) / len(labels)).astype(np.float32)
        d_cosine = self.scale * d_logit
        self.t += 1
        self._update("book", books, d_cosine * (unit_v - cosine * unit_u) * inv_u)
        self._update("link", links, d_cosine * (unit_u - cosine * unit_v) * inv_v)
        self._update("book_bias", books, d_logit)
        self._update("link_bias", links, d_logit)
        return float(loss.mean())

    def _update(self, name: str, index: np.ndarray, grad: np.ndarray) -> None:
        rows, summed = segment_sum(index, grad)
        self.optimizers[name].step(rows, summed, self.t)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1 + np.tanh(0.5 * x))


# --------------------------------------------------------------------------- run


def train_variant(
    data_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    progress: bool = False,
    save_keras: bool = True,
    **options,
) -> dict:
    """Train a variant on the build in ``data_dir``; write its folder to ``out_dir``.

    ``options`` are the fields of :class:`VariantConfig` (``model``, ``dim``,
    ``epochs``, ``batch_positives``, ``negative_ratio``, ``negatives``,
    ``learning_rate``, ``scale``, ``rare_weight``, ``seed``). Returns the summary
    written to ``train.json``.
    """
    config = VariantConfig(**options)
    config.check()
    try:
        data = load_training_data(data_dir)
    except BuildError as exc:
        raise VariantError(str(exc)) from exc
    pairs = np.asarray(data.pairs)
    if config.batch_positives > len(pairs):
        raise VariantError(f"{data_dir}: fewer pairs ({len(pairs)}) than a batch's positives")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "train.json").unlink(missing_ok=True)
    sampler = PairSampler(
        pairs, data.n_books, data.n_links, config.negative_ratio, negatives=config.negatives,
        seed=config.seed,
    )  # fmt: skip
    weights = positive_weights(pairs, data.n_books, data.n_links, config.rare_weight)
    model = CosineBias(data.n_books, data.n_links, config, weights)
    history = [_epoch(model, sampler, config, e, progress) for e in range(config.epochs)]
    _write(out, model, data, config, save_keras)
    summary = _summary(config, data, history, data_dir)
    write_json_atomic(summary, out / "train.json")
    return summary


def _epoch(model: CosineBias, sampler: PairSampler, config: VariantConfig, epoch: int, progress):
    started = time.perf_counter()
    batches = sampler.epoch(epoch, config.batch_positives)
    desc = f"epoch {epoch + 1}/{config.epochs}"
    total = 0.0
    with progress_bar(total=batches.n_steps, desc=desc, unit="step", enabled=progress) as bar:
        for step in range(batches.n_steps):
            total += model.step(batches.book[step], batches.link[step], batches.label[step])
            bar.update()
    loss = total / batches.n_steps
    if not math.isfinite(loss):
        raise VariantError(f"epoch {epoch + 1}: the loss is {loss}; lower the learning rate")
    seconds = time.perf_counter() - started
    examples = batches.n_steps * batches.batch_size
    return {"epoch": epoch + 1, "loss": loss, "seconds": round(seconds, 3), "examples": examples}


def _write(out: Path, model: CosineBias, data, config: VariantConfig, save_keras: bool) -> None:
    write_npy_atomic(model.book, out / "book_vectors.npy")
    write_npy_atomic(model.link, out / "link_vectors.npy")
    write_npy_atomic(model.book_bias[:, 0], out / "book_bias.npy")
    write_npy_atomic(model.link_bias[:, 0], out / "link_bias.npy")
    write_json_atomic(data.books["title"].tolist(), out / "book_titles.json")
    write_json_atomic(data.links["title"].tolist(), out / "link_titles.json")
    if save_keras:
        _save_keras(out / "model.keras", model, data, config)


def _save_keras(path: Path, model: CosineBias, data, config: VariantConfig) -> None:
    """The variant's Keras architecture (``wikirec.model.MODELS``) with these weights."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from wikirec.model import MODELS
    from wikirec.train import save_keras_atomic

    build = MODELS[config.model]
    keras_model = build(data.n_books, data.n_links, dim=config.dim, scale=config.scale)
    weights = {
        "book_embedding": model.book,
        "link_embedding": model.link,
        "book_bias": model.book_bias,
        "link_bias": model.link_bias,
    }
    for name, table in weights.items():
        keras_model.get_layer(name).set_weights([table])
    save_keras_atomic(keras_model, path)


def _summary(config: VariantConfig, data, history: list[dict], data_dir) -> dict:
    seconds = sum(h["seconds"] for h in history)
    examples = sum(h["examples"] for h in history)
    return {
        "version": __version__,
        "params": asdict(config),
        "data": {
            "dir": str(data_dir),
            "n_books": data.n_books,
            "n_links": data.n_links,
            "n_pairs": int(len(data.pairs)),
        },
        "epochs_run": len(history),
        "loss": [h["loss"] for h in history],
        "seconds": [h["seconds"] for h in history],
        "examples_per_second": round(examples / seconds, 1) if seconds else None,
        "total_seconds": round(seconds, 3),
        "history": history,
    }


def load_link_bias(model_dir: str | os.PathLike) -> np.ndarray | None:
    """float32 (n_links,) of a variant's folder, or None for a model without biases."""
    path = Path(model_dir) / "link_bias.npy"
    return np.load(path, allow_pickle=False) if path.is_file() else None
