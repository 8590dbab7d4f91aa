"""The trainers of ``wikirec train``: two ways of training the same Keras models.

:class:`KerasTrainer` (``--optimizer keras``, ``adam``, and ``auto`` when TensorFlow
sees a GPU)
    ``Model.fit`` of the model of :mod:`wikirec.model`, epoch by epoch, with
    :class:`~wikirec.model.LazyAdam` (``adam``: the tutorial's dense
    :class:`~wikirec.model.RowSumAdam`). Its checkpoints are ``.keras`` files.
:class:`KernelTrainer` (``--optimizer kernel``, and ``auto`` on a CPU)
    The compiled kernel of :mod:`wikirec.kernel`, on both cores, the same maths as
    ``keras`` (tested equal on the same batches from the same start). Its checkpoints
    are ``.npz`` files of the tables and their Adam moments; at the end, its tables and
    moments are copied into the Keras model with a ``LazyAdam`` in the same state, so the
    saved model continues through ``fit`` exactly where the kernel stopped.

Both start from :func:`start_weights` and share one interface: ``create``, ``restore``,
``run_epoch``, ``save`` (a checkpoint), ``export`` (the compiled Keras model) and
``weights`` (the trained arrays). :func:`link_mean` makes a ``link_mean`` model's book
vectors from its link vectors. TensorFlow is imported inside the functions.
"""

from __future__ import annotations

import math
import zipfile
from pathlib import Path

import numpy as np

from wikirec.batches import EpochBatches
from wikirec.errors import one_line
from wikirec.io import write_keras_atomic, write_npz_atomic
from wikirec.kernel import AdamTable, CosineBias, adam_arrays, positive_weights, train_steps
from wikirec.nearest import unit_rows
from wikirec.recipes import BIAS_RECIPES, TrainConfig, TrainError
from wikirec.tfidf import link_sets, tfidf_matrix

STEPS_PER_CALL = 32  # kernel steps between progress-bar updates
# The Keras weights of each kernel table: layer name, and for the reference's Dense(1),
# which of its two numbers.
TABLE_LAYERS = {"book": "book_embedding", "link": "link_embedding",
                "book_bias": "book_bias", "link_bias": "link_bias"}  # fmt: skip


def trainer_for(config: TrainConfig):
    """The trainer class of ``config.optimizer`` (``auto``: the kernel on a CPU, Keras
    when TensorFlow sees a GPU)."""
    if config.optimizer in ("keras", "adam"):
        return KerasTrainer
    if config.optimizer == "auto" and gpu_available():
        return KerasTrainer
    return KernelTrainer


def gpu_available() -> bool:
    from wikirec.tf_import import import_tensorflow

    tf = import_tensorflow()

    return bool(tf.config.list_physical_devices("GPU"))


def start_weights(config: TrainConfig, n_books: int, n_links: int) -> dict[str, np.ndarray]:
    """The initial arrays, the same whichever trainer: ``book``, ``link`` and, for the
    reference, ``scalars`` (2, 1) (the ``Dense(1)`` kernel and bias: a fresh seeded
    Keras model's), or, for the models with biases, ``book_bias``, ``link_bias`` (n, 1)
    (zeros) and ``scalars`` = [[scale], [0]] (fixed) and vectors drawn as
    :class:`wikirec.kernel.CosineBias` draws them."""
    if config.model in BIAS_RECIPES:
        net = CosineBias(n_books, n_links, config.dim, np.ones(n_links, np.float32),
                         scale=config.scale, seed=config.seed)  # fmt: skip
        return {"book": net.book, "link": net.link, "book_bias": net.book_bias,
                "link_bias": net.link_bias,
                "scalars": np.array([[config.scale], [0]], np.float32)}  # fmt: skip
    from wikirec.model import build_net

    net = build_net("reference", n_books, n_links, config.dim, mode=config.mode)
    scalars = np.zeros((2, 1), np.float32)
    if config.mode == "classification":
        kernel, bias = net.layers[-1].get_weights()
        scalars[:, 0] = [kernel.item(), bias.item()]
    book = net.get_layer("book_embedding").get_weights()[0]
    return {"book": book, "link": net.get_layer("link_embedding").get_weights()[0],
            "scalars": scalars}  # fmt: skip


def rare_link_weights(config: TrainConfig, pairs, n_books: int, n_links: int) -> np.ndarray:
    """float32 (n_links,): the weight of a positive per link (ones for the reference)."""
    if config.model not in BIAS_RECIPES:
        return np.ones(n_links, np.float32)
    if pairs is None:
        raise TrainError(f"{config.model} needs the training pairs for its link weights")
    return positive_weights(np.asarray(pairs), n_books, n_links, config.rare_weight)


# --------------------------------------------------------------------------- Keras


class KerasTrainer:
    """``Model.fit`` with :class:`~wikirec.model.LazyAdam` (``adam``: RowSumAdam)."""

    suffix = ".keras"

    def __init__(self, net, config: TrainConfig) -> None:
        self.net, self.config = net, config

    @classmethod
    def create(cls, config: TrainConfig, n_books: int, n_links: int, pairs=None) -> KerasTrainer:
        """A new model from :func:`start_weights`, compiled; ``pairs`` give the link
        weights of a model with biases."""
        from wikirec.model import build_net

        start = start_weights(config, n_books, n_links)  # first: it draws from the seed
        net = build_net(config.model, n_books, n_links, config.dim, config.mode, config.scale)
        set_tables(net, start)
        if config.model in BIAS_RECIPES:
            net.positive_weight.assign(rare_link_weights(config, pairs, n_books, n_links))
        return cls(compile_for(net, config), config)

    @classmethod
    def restore(cls, path: Path, config: TrainConfig, n_books: int, n_links: int, pairs=None):
        from wikirec.tf_import import import_tensorflow

        import_tensorflow()
        import keras

        import wikirec.model  # noqa: F401  (registers the wikirec classes for loading)

        try:
            return cls(keras.models.load_model(path, safe_mode=True), config)
        # A damaged file, or one safe_mode refuses: Keras raises many kinds of error, with
        # messages of a dozen lines.
        except Exception as exc:
            raise TrainError(f"{path}: checkpoint does not load ({one_line(exc)})") from exc

    def run_epoch(self, batches: EpochBatches, report) -> float:
        """Train on every batch; ``report(steps_done, running_loss)``; return the mean loss."""
        import keras

        x = {"book": batches.book.reshape(-1, 1), "link": batches.link.reshape(-1, 1)}
        y = batches.label.reshape(-1, 1)

        class Progress(keras.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                report(batch + 1, float((logs or {}).get("loss", math.nan)))

        history = self.net.fit(
            x, y, batch_size=batches.batch_size, epochs=1, shuffle=False, verbose=0,
            callbacks=[Progress()],
        )  # fmt: skip
        return float(history.history["loss"][-1])

    def save(self, path: Path) -> None:
        write_keras_atomic(self.net, path)

    def export(self):
        return self.net

    def weights(self) -> dict[str, np.ndarray]:
        """The trained arrays: ``book``, ``link`` (and ``book_bias``, ``link_bias``, (n,))."""
        return keras_tables(self.net)


def compile_for(net, config: TrainConfig):
    """``net`` compiled as ``config`` trains it: LazyAdam, or RowSumAdam for ``adam``."""
    from wikirec.model import LazyAdam, RowSumAdam, compile_net

    kind = RowSumAdam if config.optimizer == "adam" else LazyAdam
    return compile_net(
        net, kind(learning_rate=config.learning_rate), config.mode,
        steps_per_execution=config.steps_per_execution, jit_compile=config.jit_compile,
    )  # fmt: skip


def set_tables(net, tables: dict[str, np.ndarray]) -> None:
    """Copy the kernel's tables into the Keras model's layers."""
    for name, layer in TABLE_LAYERS.items():
        if name in tables:
            net.get_layer(layer).set_weights([tables[name]])
    if "book_bias" not in tables and len(net.layers[-1].get_weights()) == 2:
        kernel, bias = tables["scalars"][:, 0]
        net.layers[-1].set_weights([np.array([[kernel]], np.float32), np.array([bias], np.float32)])


def keras_tables(net) -> dict[str, np.ndarray]:
    """The vectors (and biases, as (n,)) of a Keras model of :mod:`wikirec.model`."""
    found = {}
    for name, layer in TABLE_LAYERS.items():
        try:
            weights = net.get_layer(layer).get_weights()[0]
        except ValueError:  # the reference has no bias layers
            continue
        found[name] = weights[:, 0] if name.endswith("_bias") else weights
    return found


# --------------------------------------------------------------------------- kernel


class KernelTrainer:
    """The compiled kernel (:func:`wikirec.kernel.train_steps`) on the tables of
    :func:`start_weights`, each with its Adam moments (:class:`~wikirec.kernel.AdamTable`)."""

    suffix = ".npz"

    def __init__(self, config: TrainConfig, tables: dict[str, AdamTable], weights, t: int = 0):
        self.config, self.tables, self.link_weights, self.t = config, tables, weights, t
        self.biases = config.model in BIAS_RECIPES
        # The reference learns the Dense(1) kernel and bias; the others keep a fixed scale.
        self.train_scalars = not self.biases and config.mode == "classification"

    @classmethod
    def create(cls, config: TrainConfig, n_books: int, n_links: int, pairs=None) -> KernelTrainer:
        """New tables from :func:`start_weights`; ``pairs`` give the link weights."""
        start = start_weights(config, n_books, n_links)
        tables = {name: AdamTable(array, config.learning_rate) for name, array in start.items()}
        return cls(config, tables, rare_link_weights(config, pairs, n_books, n_links))

    @classmethod
    def restore(cls, path: Path, config: TrainConfig, n_books: int, n_links: int, pairs=None):
        trainer = cls.create(config, n_books, n_links, pairs)
        try:
            with np.load(path, allow_pickle=False) as state:
                for name, array in adam_arrays(trainer.tables).items():
                    if name not in state or state[name].shape != array.shape:
                        raise TrainError(f"{path}: checkpoint does not fit this model ({name})")
                    array[...] = state[name]
                trainer.t = int(state["step"])
        except TrainError:
            raise
        except (KeyError, ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
            raise TrainError(
                f"{path}: checkpoint does not fit this model ({one_line(exc)})"
            ) from exc
        return trainer

    def run_epoch(self, batches: EpochBatches, report) -> float:
        """An epoch as calls of :meth:`train_steps` on :data:`STEPS_PER_CALL` steps at a
        time, ``report`` between them; returns the epoch's mean loss."""
        total = 0.0
        for start in range(0, batches.n_steps, STEPS_PER_CALL):
            part = slice(start, min(start + STEPS_PER_CALL, batches.n_steps))
            losses = self.train_steps(batches.book[part], batches.link[part],
                                      batches.label[part])  # fmt: skip
            total += float(np.sum(losses, dtype=np.float64))
            report(part.stop, total / part.stop)
        return total / batches.n_steps

    def train_steps(self, books: np.ndarray, links: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """Train on (n_steps, B) batches; return the (n_steps,) losses."""
        tables = self.tables
        losses = train_steps(
            tables["book"], tables["link"], books, links, labels, t=self.t,
            learning_rate=self.config.learning_rate, scalars=tables["scalars"],
            train_scalars=self.train_scalars,
            classification=self.config.mode == "classification",
            book_bias=tables.get("book_bias"), link_bias=tables.get("link_bias"),
            weights=self.link_weights,
        )  # fmt: skip
        self.t += len(books)
        return losses

    def save(self, path: Path) -> None:
        write_npz_atomic({**adam_arrays(self.tables), "step": np.int64(self.t)}, path)

    def weights(self) -> dict[str, np.ndarray]:
        """The trained arrays: ``book``, ``link`` (and ``book_bias``, ``link_bias``, (n,))."""
        found = {name: self.tables[name].table for name in ("book", "link")}
        for name in ("book_bias", "link_bias"):
            if name in self.tables:
                found[name] = self.tables[name].table[:, 0]
        return found

    def export(self):
        """The Keras model with the trained tables, compiled with a LazyAdam holding the
        kernel's moments and step count: ``fit`` continues as the kernel would."""
        from wikirec.model import build_net

        config = self.config
        n_books, n_links = len(self.tables["book"].table), len(self.tables["link"].table)
        net = build_net(config.model, n_books, n_links, config.dim, config.mode, config.scale)
        set_tables(net, {name: table.table for name, table in self.tables.items()})
        if self.biases:
            net.positive_weight.assign(self.link_weights)
        net = compile_for(net, config)
        optimizer = net.optimizer
        optimizer.build(net.trainable_variables)
        for variable in net.trainable_variables:
            m, v = self._moments_of(net, variable)
            index = optimizer._get_variable_index(variable)
            optimizer._momentums[index].assign(m.reshape(variable.shape))
            optimizer._velocities[index].assign(v.reshape(variable.shape))
        optimizer.iterations.assign(self.t)
        return net

    def _moments_of(self, net, variable) -> tuple[np.ndarray, np.ndarray]:
        for name, layer in TABLE_LAYERS.items():
            if name in self.tables and variable is net.get_layer(layer).embeddings:
                return self.tables[name].m, self.tables[name].v
        # The reference's Dense(1): its kernel is the first scalar, its bias the second.
        row = 0 if variable is net.layers[-1].kernel else 1
        scalars = self.tables["scalars"]
        return scalars.m[row], scalars.v[row]


TRAINERS = (KerasTrainer, KernelTrainer)


# --------------------------------------------------------------------------- link_mean


def link_mean(
    link_vectors: np.ndarray,
    pairs: np.ndarray,
    own: np.ndarray,
    link_weights: np.ndarray | None = None,
) -> np.ndarray:
    """Each book's vector: its own unit embedding plus the unit TF-IDF-weighted mean of
    its links' unit vectors, scaled to length 1.

    An item as the sum of the embeddings of its features, its identity among them (as
    LightFM represents items): the own row carries what training learned about this
    book, which is sharpest where the data is large; the mean carries what the whole
    corpus learned about each page it meets, which is steadier where the book's own
    row saw few pairs (README, Quality: either alone loses to the sum on one of the
    two). The weights are the book's row of the TF-IDF matrix of the link sets
    (:mod:`wikirec.tfidf`), the weighting a plain TF-IDF search gives each link.

    Parameters
    ----------
    link_vectors : float (n_links, dim)
    pairs : int (n, 2), (book, link), repeats allowed (a set per book is used)
    own : float (n_books, dim), the books' own embedding rows; its row count is the
        number of books
    link_weights : float (n_links,) or None, each link's TF-IDF weight multiplied by it
        (``--category-weight``: the ``Category:`` pages'); None: 1 for every link

    Returns
    -------
    float32 (n_books, dim), unit rows (a book without links: its own row, scaled to
    length 1; a zero row stays zero)
    """
    weights = tfidf_matrix(link_sets(pairs, len(own), len(link_vectors)))
    if link_weights is not None:
        weights = weights.multiply(np.asarray(link_weights, np.float32)[None, :]).tocsr()
    mean = np.asarray(weights @ unit_rows(link_vectors))  # its direction is what counts
    return unit_rows(unit_rows(own) + unit_rows(mean))
