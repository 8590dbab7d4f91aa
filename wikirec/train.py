"""Stage 3, ``wikirec train``: training pairs in, book and link vectors out.

Trains a model of :data:`MODEL_NAMES` on the pairs written by ``wikirec build``, with
batches from :class:`wikirec.batches.PairSampler`:

``reference`` (default, kept as it is for good)
    The tutorial's dual-embedding model and recipe: 50 dimensions, 15 epochs of
    ``n_pairs // 1024`` batches of 1,024 positives and 2,048 negatives,
    classification, Keras' Adam with learning rate 0.001.
``cosine_bias`` (the default model of ``wikirec evaluate``; see README, Quality)
    Cosine at a fixed scale plus a bias per book and per link, rare links weighted up
    (:mod:`wikirec.variants`), trained by :class:`CosineBiasTrainer` with the compiled
    kernel of ``sparse-adam``. Its
    recipe (:data:`MODEL_DEFAULTS`): 200 dimensions, 30 epochs of batches of 256
    positives and 1,280 negatives, lazy Adam at 0.01, ``scale`` 5, ``rare_weight``
    0.5. Any of these given explicitly wins; the rest stay the model's. It also
    writes ``book_bias.npy`` and ``link_bias.npy`` (float32, (n,)).

Optimizers of the reference (``optimizer=``, ``--optimizer``); both train the same
Keras model, from the same initial weights, on the same batches:

``adam`` (default, the reference)
    Keras ``Model.fit`` with Adam (:class:`wikirec.model.RowSumAdam`, textbook Adam as
    the reference's Keras 2 ran it): every step updates every row of both
    embedding tables (and their moments), about 4 million numbers on the reference's
    data, whatever the batch touches. ``steps_per_execution`` and ``jit_compile``
    (XLA) are passed to ``Model.compile``.
``sparse-adam``
    Lazy (row-wise) Adam, compiled by numba on both cores
    (:func:`wikirec.variants.train_steps`): a step computes the loss and its gradient
    by hand for the rows in the batch and updates only those rows and their moments
    (the rule of TensorFlow Addons' ``LazyAdam``), :data:`STEPS_PER_CALL` steps per
    call. Rows not in a batch keep their moments instead of decaying them, so this is
    not the same optimiser as dense Adam, only a close cousin; its loss is computed
    from the logit (no clipping of the probability). ``steps_per_execution`` and
    ``jit_compile`` do not apply to it.

Early stopping: the reference had no validation set, so training stops when the
training loss (mean over an epoch) has not fallen by more than ``min_delta`` below
its best for ``patience`` epochs in a row (default 3; ``patience=0`` never stops).

Writes to ``OUT``::

    model.keras          the Keras model (keras.models.load_model(path, safe_mode=True))
    book_vectors.npy     float32, shape (n_books, dim): rows of book_embedding
    link_vectors.npy     float32, shape (n_links, dim): rows of link_embedding
    book_titles.json     the books' titles, in row order; link_titles.json likewise
    train.json           parameters, loss, seconds and examples/s per epoch
    checkpoint/          the last epoch's state, for ``resume=True``

``train.json`` is removed first and written last: a folder without it holds no
finished run. Epoch ``e`` draws its batches from ``numpy.random.default_rng([seed,
e])`` and the model starts from ``keras.utils.set_random_seed(seed)`` (cosine_bias:
``default_rng([seed, 2**31])``), so the same
command on the same machine gives the same vectors, and a resumed run continues
with the batches an uninterrupted run would have used.

This module imports TensorFlow only inside its functions (``wikirec parse`` and
``wikirec build`` start without it).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from wikirec import __version__
from wikirec.batches import MODES, NEGATIVES, EpochBatches, PairSampler
from wikirec.build import BuildError, load_training_data, write_npy_atomic
from wikirec.io import write_atomic, write_json_atomic
from wikirec.progress import progress_bar

OPTIMIZERS = {
    "adam": "Keras Adam through Model.fit, every row updated each step (the reference)",
    "sparse-adam": "lazy row-wise Adam compiled by numba: only the batch's rows updated",
}
# The models of wikirec.model.MODELS this stage trains (named here: MODELS needs Keras).
MODEL_NAMES = ("reference", "cosine_bias")
# Each model's recipe: what a parameter left unset (None) becomes. The reference's is
# TrainConfig's own defaults (the tutorial's); cosine_bias's is the recipe `wikirec
# evaluate` measured (see README, Quality). An explicit value always wins.
MODEL_DEFAULTS: dict[str, dict] = {
    "reference": {},
    "cosine_bias": {"dim": 200, "epochs": 30, "batch_positives": 256, "negative_ratio": 5,
                    "learning_rate": 0.01, "optimizer": "sparse-adam"},
}  # fmt: skip
# Options that only change speed may differ when resuming; everything else must match.
SPEED_OPTIONS = ("epochs", "patience", "min_delta", "steps_per_execution", "jit_compile")
STEPS_PER_CALL = 32  # sparse-adam and cosine_bias: steps between progress-bar updates


class TrainError(ValueError):
    """Bad input for the train stage; the message is one line."""


@dataclass
class TrainConfig:
    """Everything that defines a run (saved in ``train.json`` and the checkpoint)."""

    model: str = "reference"
    dim: int = 50
    epochs: int = 15
    batch_positives: int = 1024
    negative_ratio: int = 2
    learning_rate: float = 0.001
    seed: int = 0
    mode: str = "classification"
    negatives: str = "uniform"
    optimizer: str = "adam"
    patience: int = 3
    min_delta: float = 1e-4
    steps_per_execution: int = 1
    jit_compile: bool = False
    scale: float = 5.0  # cosine_bias: the fixed scale of the cosine in the logit
    rare_weight: float = 0.5  # cosine_bias: a positive weighs (n_books / its link's books) ** this

    @classmethod
    def for_model(cls, model: str = "reference", **given) -> TrainConfig:
        """The config of ``model``: ``given`` values, then :data:`MODEL_DEFAULTS` [model]
        for those given as None or left out, then the class defaults."""
        values = {**MODEL_DEFAULTS.get(model, {})}
        values.update({k: v for k, v in given.items() if v is not None})
        return cls(model=model, **values)

    def check(self) -> None:
        """Raise :class:`TrainError` naming the first bad parameter."""
        rules = [
            (self.model in MODEL_NAMES, f"unknown model {self.model!r} ({', '.join(MODEL_NAMES)})"),
            (self.dim >= 1, f"the dimension must be at least 1, not {self.dim}"),
            (self.epochs >= 1, f"epochs must be at least 1, not {self.epochs}"),
            (self.batch_positives >= 1, "batch positives must be at least 1"),
            (self.negative_ratio >= 0, "the negative ratio must be 0 or more"),
            (self.learning_rate > 0, f"the learning rate must be > 0, not {self.learning_rate}"),
            (self.mode in MODES, f"mode must be one of {', '.join(MODES)}"),
            (self.negatives in NEGATIVES, f"negatives must be one of {', '.join(NEGATIVES)}"),
            (self.optimizer in OPTIMIZERS, f"optimizer must be one of {', '.join(OPTIMIZERS)}"),
            (self.patience >= 0, "patience must be 0 or more"),
            (self.steps_per_execution >= 1, "steps per execution must be at least 1"),
            (self.scale > 0, f"the scale must be > 0, not {self.scale}"),
            (self.rare_weight >= 0, f"the rare weight must be 0 or more, not {self.rare_weight}"),
        ]
        if self.model == "cosine_bias":
            rules += [
                (self.optimizer == "sparse-adam", "cosine_bias trains with sparse-adam only"),
                (self.mode == "classification", "cosine_bias trains in classification mode only"),
                (self.negative_ratio >= 1, "cosine_bias needs a negative ratio of at least 1"),
            ]
        for ok, message in rules:
            if not ok:
                raise TrainError(message)

    @property
    def batch_size(self) -> int:
        return self.batch_positives * (1 + self.negative_ratio)


@dataclass
class Vectors:
    """Trained vectors and their names, as :func:`load_vectors` returns them.

    Attributes
    ----------
    book_titles : list of str, length n_books
    book_vectors : ndarray of float32, shape (n_books, dim)
    link_titles : list of str, length n_links
    link_vectors : ndarray of float32, shape (n_links, dim)
    """

    book_titles: list[str]
    book_vectors: np.ndarray
    link_titles: list[str]
    link_vectors: np.ndarray


# --------------------------------------------------------------------------- trainers


class KerasTrainer:
    """The reference: ``Model.fit`` with the model's own (dense) Adam."""

    suffix = ".keras"

    def __init__(self, model, config: TrainConfig) -> None:
        self.model, self.config = model, config

    @classmethod
    def create(cls, config: TrainConfig, n_books: int, n_links: int, pairs=None) -> KerasTrainer:
        """A new model (``pairs``: unused, for the common interface)."""
        from wikirec.model import build_model

        model = build_model(
            n_books, n_links, dim=config.dim, mode=config.mode, name=config.model,
            learning_rate=config.learning_rate,
            steps_per_execution=config.steps_per_execution, jit_compile=config.jit_compile,
        )  # fmt: skip
        return cls(model, config)

    @classmethod
    def restore(cls, path: Path, config: TrainConfig, n_books: int, n_links: int, pairs=None):
        import keras

        import wikirec.model  # noqa: F401  (registers RowSumAdam for loading)

        return cls(keras.models.load_model(path, safe_mode=True), config)

    def run_epoch(self, batches: EpochBatches, report) -> float:
        """Train on every batch; ``report(steps_done, running_loss)``; return the mean loss."""
        import keras

        x = {"book": batches.book.reshape(-1, 1), "link": batches.link.reshape(-1, 1)}
        y = batches.label.reshape(-1, 1)

        class Progress(keras.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                report(batch + 1, float((logs or {}).get("loss", math.nan)))

        history = self.model.fit(
            x, y, batch_size=batches.batch_size, epochs=1, shuffle=False, verbose=0,
            callbacks=[Progress()],
        )  # fmt: skip
        return float(history.history["loss"][-1])

    def save(self, path: Path) -> None:
        save_keras_atomic(self.model, path)

    def export(self):
        return compile_plain(self.model, self.config)

    def extra_arrays(self) -> dict[str, np.ndarray]:
        """Files beside the vectors (``NAME.npy``): none for the reference."""
        return {}


class SparseAdamTrainer:
    """Lazy row-wise Adam on the reference model's weights, compiled by numba.

    Per step, for a batch of B (book, link, label): the cosine, the loss and their
    gradient with respect to each example's two vectors in closed form, summed per
    distinct row, and Adam's rule applied to those rows and their moments only, and to
    the ``Dense(1)`` kernel and bias (:func:`wikirec.variants.train_steps`). The Keras
    model gives the initial weights and gets the trained ones back.
    """

    suffix = ".npz"

    def __init__(self, model, config: TrainConfig) -> None:
        from wikirec.variants import LazyAdam

        self.model, self.config = model, config
        self.classification = config.mode == "classification"
        scalars = np.zeros(2, np.float32)
        if self.classification:
            kernel, bias = model.layers[-1].get_weights()
            scalars = np.array([kernel.item(), bias.item()], np.float32)
        weights = {
            "book": model.get_layer("book_embedding").embeddings.numpy(),
            "link": model.get_layer("link_embedding").embeddings.numpy(),
            "scalars": scalars.reshape(2, 1),
        }
        self.tables = {k: LazyAdam(v, config.learning_rate) for k, v in weights.items()}
        self.t = 0

    @classmethod
    def create(
        cls, config: TrainConfig, n_books: int, n_links: int, pairs=None
    ) -> SparseAdamTrainer:
        """A new model (``pairs``: unused, for the common interface)."""
        from wikirec.model import build_model

        model = build_model(
            n_books, n_links, dim=config.dim, mode=config.mode, name=config.model,
            learning_rate=config.learning_rate,
        )  # fmt: skip
        return cls(model, config)

    @classmethod
    def restore(cls, path: Path, config: TrainConfig, n_books: int, n_links: int, pairs=None):
        trainer = cls.create(config, n_books, n_links)
        with np.load(path, allow_pickle=False) as state:
            for name, array in trainer.state().items():
                if name not in state or state[name].size != array.size:
                    raise TrainError(f"{path}: checkpoint does not fit this model ({name})")
                array[...] = state[name].reshape(array.shape)
            trainer.t = int(state["step"])
        return trainer

    def state(self) -> dict[str, np.ndarray]:
        """The arrays to continue from: each table (``book``, ``link``, ``scalars``: the
        Dense kernel and bias) and its moments (``NAME_m``, ``NAME_v``)."""
        from wikirec.variants import adam_arrays

        return adam_arrays(self.tables)

    def run_epoch(self, batches: EpochBatches, report) -> float:
        return run_in_chunks(batches, report, self.train_steps)

    def train_steps(self, books: np.ndarray, links: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """Train on (n_steps, B) batches; return the (n_steps,) losses."""
        from wikirec.variants import train_steps

        tables = self.tables
        losses = train_steps(
            tables["book"], tables["link"], books, links, labels, t=self.t,
            learning_rate=self.config.learning_rate, scalars=tables["scalars"],
            train_scalars=self.classification, classification=self.classification,
        )  # fmt: skip
        self.t += len(books)
        return losses

    def save(self, path: Path) -> None:
        save_npz_atomic({**self.state(), "step": np.float32(self.t)}, path)

    def extra_arrays(self) -> dict[str, np.ndarray]:
        """Files beside the vectors (``NAME.npy``): none for the reference model."""
        return {}

    def export(self):
        """The Keras model with the trained weights copied in."""
        tables = self.tables
        self.model.get_layer("book_embedding").embeddings.assign(tables["book"].table)
        self.model.get_layer("link_embedding").embeddings.assign(tables["link"].table)
        if self.classification:
            kernel, bias = tables["scalars"].table[:, 0]
            self.model.layers[-1].set_weights([np.array([[kernel]]), np.array([bias])])
        slots = {"iteration": np.int64(self.t)}
        for name in ("book", "link"):
            slots[f"{name}_embedding_embeddings_momentum"] = tables[name].m
            slots[f"{name}_embedding_embeddings_velocity"] = tables[name].v
        if self.classification:
            for i, name in enumerate(("dense_kernel", "dense_bias")):
                shape = (1, 1) if i == 0 else (1,)
                slots[f"{name}_momentum"] = tables["scalars"].m[i].reshape(shape)
                slots[f"{name}_velocity"] = tables["scalars"].v[i].reshape(shape)
        return compile_plain(self.model, self.config, slots)


def run_in_chunks(batches: EpochBatches, report, train_steps) -> float:
    """An epoch as calls of ``train_steps(books, links, labels)`` (returning each step's
    loss) on :data:`STEPS_PER_CALL` steps at a time, ``report`` between them. Returns
    the epoch's mean loss."""
    total = 0.0
    for start in range(0, batches.n_steps, STEPS_PER_CALL):
        part = slice(start, min(start + STEPS_PER_CALL, batches.n_steps))
        losses = train_steps(batches.book[part], batches.link[part], batches.label[part])
        total += float(np.sum(losses, dtype=np.float64))
        report(part.stop, total / part.stop)
    return total / batches.n_steps


class CosineBiasTrainer:
    """``cosine_bias``: :class:`wikirec.variants.CosineBias` (lazy row-wise Adam, rare
    links weighted up, the compiled kernel); checkpoints are ``.npz`` of its state."""

    suffix = ".npz"

    def __init__(self, net, config: TrainConfig) -> None:
        self.net, self.config = net, config

    @classmethod
    def create(
        cls, config: TrainConfig, n_books: int, n_links: int, pairs=None
    ) -> CosineBiasTrainer:
        """A new model, seeded; ``pairs`` (int (n_pairs, 2)) give the rare-link weights."""
        from wikirec.variants import CosineBias, positive_weights

        if pairs is None:
            raise TrainError("cosine_bias needs the training pairs for its rare-link weights")
        weights = positive_weights(np.asarray(pairs), n_books, n_links, config.rare_weight)
        net = CosineBias(
            n_books, n_links, config.dim, weights, learning_rate=config.learning_rate,
            scale=config.scale, seed=config.seed,
        )  # fmt: skip
        return cls(net, config)

    @classmethod
    def restore(cls, path: Path, config: TrainConfig, n_books: int, n_links: int, pairs=None):
        trainer = cls.create(config, n_books, n_links, pairs)
        try:
            with np.load(path, allow_pickle=False) as state:
                trainer.net.load_state(state)
        except (KeyError, ValueError, OSError) as exc:
            raise TrainError(f"{path}: checkpoint does not fit this model ({exc})") from exc
        return trainer

    def run_epoch(self, batches: EpochBatches, report) -> float:
        return run_in_chunks(batches, report, self.net.train_steps)

    def save(self, path: Path) -> None:
        save_npz_atomic(self.net.state(), path)

    def export(self):
        """The Keras form (:func:`wikirec.model.cosine_bias`) with the trained weights."""
        from wikirec.model import cosine_bias

        net, config = self.net, self.config
        n_books, n_links = len(net.book), len(net.link)
        model = cosine_bias(n_books, n_links, dim=config.dim, scale=config.scale)
        for name in net.TABLES:
            layer = name if name.endswith("_bias") else f"{name}_embedding"
            model.get_layer(layer).set_weights([getattr(net, name)])
        return compile_plain(model, config)

    def extra_arrays(self) -> dict[str, np.ndarray]:
        """``book_bias`` (n_books,) and ``link_bias`` (n_links,), float32."""
        return {"book_bias": self.net.book_bias[:, 0], "link_bias": self.net.link_bias[:, 0]}


TRAINERS = {"adam": KerasTrainer, "sparse-adam": SparseAdamTrainer}
# Files only some models write; removed from a folder whose new run does not write them.
EXTRA_FILES = ("book_bias.npy", "link_bias.npy")


def trainer_class(config: TrainConfig):
    """The trainer of ``config``: the model's own, or the optimizer's for the reference."""
    return CosineBiasTrainer if config.model == "cosine_bias" else TRAINERS[config.optimizer]


def save_npz_atomic(arrays: dict[str, np.ndarray], path: Path) -> None:
    """``numpy.savez`` of ``arrays`` to ``path``, written atomically (no pickle)."""

    def write(tmp: str) -> None:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)

    write_atomic(path, write)


def compile_plain(model, config: TrainConfig, slots: dict[str, np.ndarray] | None = None):
    """``model`` compiled with stock Keras Adam and the mode's loss, so the saved file
    loads anywhere without wikirec. The new optimizer is built and given the trained
    optimizer's state: the variables of ``model``'s current optimizer (same names), or
    ``slots`` (variable name suffix -> array, e.g. ``book_embedding_embeddings_momentum``).
    """
    import keras

    from wikirec.model import LOSSES

    old = getattr(model, "optimizer", None)
    state = dict(slots or {})
    if old is not None and old.built:
        state.update({v.path.split("/", 1)[1]: v.numpy() for v in old.variables})
    model.compile(optimizer=keras.optimizers.Adam(config.learning_rate), loss=LOSSES[config.mode])
    model.optimizer.build(model.trainable_variables)
    for variable in model.optimizer.variables:
        value = state.get(variable.path.split("/", 1)[1])
        if value is not None and tuple(value.shape) == tuple(variable.shape):
            variable.assign(value)
    return model


def save_keras_atomic(model, path: str | os.PathLike) -> Path:
    """``model.save`` to a temporary ``.keras`` file beside ``path``, then rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{uuid.uuid4().hex[:8]}.tmp.keras")
    try:
        model.save(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


# --------------------------------------------------------------------------- run


def train(
    data_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    model: str = "reference",
    dim: int | None = None,
    epochs: int | None = None,
    batch_positives: int | None = None,
    negative_ratio: int | None = None,
    learning_rate: float | None = None,
    seed: int = 0,
    resume: bool = False,
    progress: bool = False,
    mode: str = "classification",
    negatives: str = "uniform",
    optimizer: str | None = None,
    patience: int = 3,
    min_delta: float = 1e-4,
    steps_per_execution: int = 1,
    jit_compile: bool = False,
    overwrite: bool = False,
    scale: float | None = None,
    rare_weight: float | None = None,
) -> dict:
    """Train on the build in ``data_dir``, write the model and vectors to ``out_dir``.

    Parameters
    ----------
    data_dir : output folder of ``wikirec build``
    out_dir : output folder; must not hold another run's checkpoint unless ``resume``
        (continue it) or ``overwrite`` (start again)
    model : name in :data:`MODEL_NAMES`: "reference" (the tutorial's) or "cosine_bias"
    dim, epochs, batch_positives, negative_ratio, learning_rate, optimizer, scale,
    rare_weight : None (or left out): the model's recipe, :data:`MODEL_DEFAULTS`, then
        :class:`TrainConfig`'s defaults (reference: 50, 15, 1024, 2, 0.001, "adam")
    dim : vector length
    epochs : at most this many epochs of ``n_pairs // batch_positives`` steps
    batch_positives : positives per batch; a batch has ``batch_positives * (1 +
        negative_ratio)`` examples
    negative_ratio : negatives per positive
    learning_rate : Adam's learning rate (reference: 0.001; cosine_bias: 0.01)
    seed : seeds the initial weights and every epoch's batches
    resume : continue the run checkpointed in ``out_dir`` (``epochs`` may grow)
    progress : progress bars on stderr
    mode : "classification" (labels 1/0) or "regression" (labels 1/-1)
    negatives : "uniform" (the reference) or "frequency" (links by count ** 0.75)
    optimizer : "adam" (the reference) or "sparse-adam" (see the module docstring);
        cosine_bias trains with "sparse-adam"'s compiled kernel
    patience, min_delta : early stopping on the training loss
    steps_per_execution, jit_compile : passed to Keras (``adam`` only; a resumed run
        keeps the checkpoint's)
    overwrite : discard a checkpoint found in ``out_dir``
    scale, rare_weight : cosine_bias's fixed cosine scale (5.0) and the power of its
        rare-link weights (0.5; 0: every positive weighs 1); unused by the reference

    Returns
    -------
    summary : dict, also written to ``out_dir/train.json``
    """
    if model not in MODEL_NAMES:
        raise TrainError(f"unknown model {model!r} ({', '.join(MODEL_NAMES)})")
    config = TrainConfig.for_model(
        model, dim=dim, epochs=epochs, batch_positives=batch_positives,
        negative_ratio=negative_ratio, learning_rate=learning_rate, seed=seed,
        mode=mode, negatives=negatives, optimizer=optimizer, patience=patience,
        min_delta=min_delta, steps_per_execution=steps_per_execution, jit_compile=jit_compile,
        scale=scale, rare_weight=rare_weight,
    )  # fmt: skip
    config.check()
    data, data_id = _load_data(data_dir)
    sampler = _make_sampler(data, config, data_dir)
    out = Path(out_dir)
    checkpoint = _prepare_out(out, resume, overwrite)
    state = _read_checkpoint(checkpoint, config, data_id) if resume else None
    trainer, history = _start(config, data, state, checkpoint)
    started_epoch = len(history)
    history = _epochs(trainer, sampler, config, history, checkpoint, data_id, progress)
    return _finish(out, trainer, data, config, history, data_dir, started_epoch)


def _load_data(data_dir):
    try:
        data = load_training_data(data_dir)
    except BuildError as exc:
        raise TrainError(str(exc)) from exc
    identity = json.dumps(
        [data.summary.get(k) for k in ("books", "distinct_links", "pairs", "params")],
        sort_keys=True,
    )
    return data, hashlib.sha256(identity.encode()).hexdigest()[:16]


def _make_sampler(data, config: TrainConfig, data_dir) -> PairSampler:
    if len(data.pairs) == 0:
        raise TrainError(f"{data_dir}: the build has no pairs to train on")
    if config.batch_positives > len(data.pairs):
        raise TrainError(
            f"{data_dir}: a batch of {config.batch_positives:,} positives is larger than the "
            f"data ({len(data.pairs):,} pairs); lower --batch-positives"
        )
    try:
        return PairSampler(
            np.asarray(data.pairs), data.n_books, data.n_links, config.negative_ratio,
            mode=config.mode, negatives=config.negatives, seed=config.seed,
        )  # fmt: skip
    except ValueError as exc:
        raise TrainError(f"{data_dir}: {exc}") from exc


def _prepare_out(out: Path, resume: bool, overwrite: bool) -> Path:
    if out.exists() and not out.is_dir():
        raise TrainError(f"{out}: exists and is not a folder")
    checkpoint = out / "checkpoint"
    has_checkpoint = (checkpoint / "state.json").is_file()
    if resume and not has_checkpoint:
        raise TrainError(f"{out}: no checkpoint to resume (checkpoint/state.json)")
    if has_checkpoint and not resume and not overwrite:
        raise TrainError(
            f"{out}: holds a run already; pass --resume to continue it or --overwrite "
            "to start again"
        )
    out.mkdir(parents=True, exist_ok=True)
    (out / "train.json").unlink(missing_ok=True)
    if overwrite and not resume:
        (checkpoint / "state.json").unlink(missing_ok=True)
    return checkpoint


def _read_checkpoint(checkpoint: Path, config: TrainConfig, data_id: str) -> dict:
    try:
        state = json.loads((checkpoint / "state.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise TrainError(f"{checkpoint}: unreadable checkpoint ({exc})") from exc
    if state.get("data_id") != data_id:
        raise TrainError(f"{checkpoint}: was trained on other data than this build")
    saved = state.get("config", {})
    for name, value in asdict(config).items():
        before = saved.get(name, getattr(TrainConfig, name))  # absent: older, the default
        if name not in SPEED_OPTIONS and before != value:
            raise TrainError(f"{checkpoint}: was trained with {name}={before!r}, not {value!r}")
    return state


def _start(config: TrainConfig, data, state: dict | None, checkpoint: Path):
    """A new trainer (seeded) or the checkpointed one, and the epoch history so far."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter
    import keras

    keras.utils.set_random_seed(config.seed)
    kind = trainer_class(config)
    pairs = np.asarray(data.pairs)
    if state is None:
        return kind.create(config, data.n_books, data.n_links, pairs), []
    path = checkpoint / state["file"]
    if not path.is_file():
        raise TrainError(f"{checkpoint}: checkpoint file {state['file']} is missing")
    return kind.restore(path, config, data.n_books, data.n_links, pairs), state["history"]


def should_stop(losses: list[float], patience: int, min_delta: float) -> bool:
    """True when none of the last ``patience`` losses fell more than ``min_delta`` below
    ``best``, the lowest loss before them (``patience=0``: never)."""
    if patience <= 0 or len(losses) <= patience:
        return False
    best_before = min(losses[:-patience])
    return all(loss >= best_before - min_delta for loss in losses[-patience:])


def _epochs(trainer, sampler, config, history, checkpoint, data_id, progress) -> list[dict]:
    """Train the remaining epochs, checkpointing each; return the whole history."""
    first = len(history)
    if first >= config.epochs or should_stop(_losses(history), config.patience, config.min_delta):
        return history
    with ThreadPoolExecutor(max_workers=1) as pool:  # draws epoch e+1 during epoch e
        upcoming = pool.submit(sampler.epoch, first, config.batch_positives)
        for epoch in range(first, config.epochs):
            batches = upcoming.result()
            if epoch + 1 < config.epochs:
                upcoming = pool.submit(sampler.epoch, epoch + 1, config.batch_positives)
            history.append(_one_epoch(trainer, batches, epoch, config, progress))
            _write_checkpoint(checkpoint, trainer, config, history, data_id)
            if should_stop(_losses(history), config.patience, config.min_delta):
                break
    return history


def _one_epoch(trainer, batches: EpochBatches, epoch: int, config, progress: bool) -> dict:
    started = time.perf_counter()
    desc = f"epoch {epoch + 1}/{config.epochs}"
    with progress_bar(total=batches.n_steps, desc=desc, unit="step", enabled=progress) as bar:

        def report(steps_done: int, loss: float) -> None:
            bar.update(steps_done - bar.n)
            bar.set_postfix(loss=f"{loss:.4f}", refresh=False)

        loss = trainer.run_epoch(batches, report)
    seconds = time.perf_counter() - started
    if not math.isfinite(loss):
        raise TrainError(f"epoch {epoch + 1}: the loss is {loss}; lower --learning-rate")
    examples = batches.n_steps * batches.batch_size
    return {
        "epoch": epoch + 1,
        "loss": loss,
        "seconds": round(seconds, 3),
        "examples": examples,
        "examples_per_second": round(examples / seconds, 1),
    }


def _losses(history: list[dict]) -> list[float]:
    return [h["loss"] for h in history]


def _write_checkpoint(checkpoint: Path, trainer, config, history, data_id) -> None:
    """The state after the last epoch: the weights file first, then ``state.json``
    naming it, then the older weights files go."""
    name = f"epoch-{len(history):04d}{trainer.suffix}"
    trainer.save(checkpoint / name)
    state = {"config": asdict(config), "data_id": data_id, "file": name, "history": history}
    write_json_atomic(state, checkpoint / "state.json")
    for old in checkpoint.glob("epoch-*"):
        if old.name != name:
            old.unlink(missing_ok=True)


def _finish(out: Path, trainer, data, config, history, data_dir, started_epoch) -> dict:
    model = trainer.export()
    book = np.asarray(model.get_layer("book_embedding").embeddings.numpy(), np.float32)
    link = np.asarray(model.get_layer("link_embedding").embeddings.numpy(), np.float32)
    save_keras_atomic(model, out / "model.keras")
    write_npy_atomic(book, out / "book_vectors.npy")
    write_npy_atomic(link, out / "link_vectors.npy")
    write_json_atomic(data.books["title"].tolist(), out / "book_titles.json")
    write_json_atomic(data.links["title"].tolist(), out / "link_titles.json")
    extra = trainer.extra_arrays()
    for name, array in extra.items():
        write_npy_atomic(np.asarray(array, np.float32), out / f"{name}.npy")
    for stale in EXTRA_FILES:  # an earlier run's biases must not outlive it
        if stale.removesuffix(".npy") not in extra:
            (out / stale).unlink(missing_ok=True)
    summary = _summary(config, data, history, data_dir, started_epoch)
    write_json_atomic(summary, out / "train.json")
    return summary


def _summary(config: TrainConfig, data, history: list[dict], data_dir, started_epoch) -> dict:
    seconds = sum(h["seconds"] for h in history)
    examples = sum(h["examples"] for h in history)
    losses = _losses(history)
    stopped = len(history) < config.epochs
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
        "resumed_after_epoch": started_epoch or None,
        "stopped_early": stopped,
        "best_epoch": int(np.argmin(losses)) + 1 if losses else None,
        "loss": losses,
        "seconds": [h["seconds"] for h in history],
        "examples_per_second": round(examples / seconds, 1) if seconds else None,
        "total_seconds": round(seconds, 3),
        "history": history,
    }


def load_vectors(model_dir: str | os.PathLike, normalize: bool = True) -> Vectors:
    """Read the vectors of a finished run; ``normalize`` scales each row to length 1
    (rows of zeros stay zero), so a dot product is a cosine."""
    folder = Path(model_dir)
    if not (folder / "train.json").is_file():
        raise TrainError(f"{folder}: not a finished run (no train.json; run `wikirec train`)")
    try:
        books = np.load(folder / "book_vectors.npy", allow_pickle=False)
        links = np.load(folder / "link_vectors.npy", allow_pickle=False)
        book_titles = json.loads((folder / "book_titles.json").read_text(encoding="utf-8"))
        link_titles = json.loads((folder / "link_titles.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise TrainError(f"{folder}: cannot read the vectors ({exc})") from exc
    if len(book_titles) != len(books) or len(link_titles) != len(links):
        raise TrainError(f"{folder}: the titles do not match the vectors")
    if normalize:
        books, links = l2_normalize(books), l2_normalize(links)
    return Vectors(book_titles, books, link_titles, links)


def l2_normalize(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1 (float32, shape kept); rows of zeros stay zero."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.where(norms == 0, 1, norms)).astype(np.float32)


# --------------------------------------------------------------------------- CLI


def add_command(subparsers) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train the dual-embedding model on built pairs",
        description="Train book and link embeddings on the pairs of `wikirec build`. The "
        "defaults are the reference recipe (Keras Adam, 15 epochs, 1,024 positives and "
        "2,048 negatives a batch). Faster: --optimizer sparse-adam. --model cosine_bias "
        "(the evaluated default model) brings its own recipe: a value in brackets is the "
        "reference's / cosine_bias's; an option given explicitly wins.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="optimizers:\n"
        + "\n".join(f"  {name:12s} {text}" for name, text in OPTIMIZERS.items()),
    )
    parser.add_argument("data", metavar="DATA_DIR", help="output folder of wikirec build")
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder")
    defaults = TrainConfig()
    parser.add_argument("--model", default=defaults.model, choices=MODEL_NAMES, help="(reference)")
    # None: the model's recipe (MODEL_DEFAULTS), so --model cosine_bias alone is its recipe.
    parser.add_argument("--dim", type=int, default=None, help="vector length (50 / 200)")
    parser.add_argument("--epochs", type=int, default=None, help="at most N epochs (15 / 30)")
    parser.add_argument("--batch-positives", type=int, default=None, help="(1024 / 256)")
    parser.add_argument(
        "--negative-ratio", type=int, default=None, help="negatives per positive (2 / 5)"
    )
    parser.add_argument("--learning-rate", type=float, default=None, help="(0.001 / 0.01)")
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--mode", default=defaults.mode, choices=MODES)
    parser.add_argument(
        "--negatives",
        default=defaults.negatives,
        choices=NEGATIVES,
        help="links of negatives: uniform (the reference) or by frequency**0.75",
    )
    parser.add_argument(
        "--optimizer", default=None, choices=list(OPTIMIZERS), help="(adam / sparse-adam)"
    )
    parser.add_argument(
        "--scale", type=float, default=None, help="cosine_bias: the cosine's scale (5.0)"
    )
    parser.add_argument(
        "--rare-weight", type=float, default=None,
        help="cosine_bias: a positive weighs (n_books / books of its link) ** W (0.5)",
    )  # fmt: skip
    parser.add_argument(
        "--patience",
        type=int,
        default=defaults.patience,
        help="stop after N epochs without the training loss improving (0: never; 3)",
    )
    parser.add_argument(
        "--steps-per-execution", type=int, default=1, help="Keras steps per call (adam)"
    )
    parser.add_argument("--jit-compile", action="store_true", help="compile with XLA")
    parser.add_argument("--resume", action="store_true", help="continue the run in DIR")
    parser.add_argument("--overwrite", action="store_true", help="discard a run found in DIR")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        summary = train(
            args.data, args.out, model=args.model, dim=args.dim, epochs=args.epochs,
            batch_positives=args.batch_positives, negative_ratio=args.negative_ratio,
            learning_rate=args.learning_rate, seed=args.seed, resume=args.resume,
            progress=not args.quiet, mode=args.mode, negatives=args.negatives,
            optimizer=args.optimizer, patience=args.patience,
            steps_per_execution=args.steps_per_execution, jit_compile=args.jit_compile,
            overwrite=args.overwrite, scale=args.scale, rare_weight=args.rare_weight,
        )  # fmt: skip
    except TrainError as exc:
        print(f"wikirec train: {exc}", file=sys.stderr)
        return 2
    losses = summary["loss"]
    stop = ", stopped early" if summary["stopped_early"] else ""
    print(
        f"trained {summary['epochs_run']} epochs{stop} in {summary['total_seconds']:.1f} s "
        f"({summary['examples_per_second']:,.0f} examples/s); loss {losses[0]:.4f} -> "
        f"{losses[-1]:.4f}"
    )
    extra = ", link_bias.npy" if summary["params"]["model"] == "cosine_bias" else ""
    print(
        f"wrote {Path(args.out)}/model.keras, book_vectors.npy, link_vectors.npy{extra}, train.json"
    )
    return 0
