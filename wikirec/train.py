"""Stage 3, ``wikirec train``: training pairs in, book and link vectors out.

Trains a named model (:mod:`wikirec.recipes`) on the pairs written by ``wikirec
build``, with batches from :class:`wikirec.batches.PairSampler`:

``link_mean`` (the default)
    The cosine at a fixed scale plus a bias per book and per link, trained on the
    links each book makes and the pages linking to it (the build's in-links); each
    book's vector is then its own embedding row plus the TF-IDF-weighted mean of its
    links' vectors (:func:`wikirec.trainers.link_mean`). The best of ``wikirec evaluate`` (README,
    Quality).
``cosine_bias``
    The same model on out-links only, rare links weighted up, each book its own row.
``reference``
    The tutorial's dual-embedding model and recipe (``--optimizer adam``: its exact
    dense-Adam ``Model.fit``).

Every value not given is the model's recipe (:data:`wikirec.recipes.RECIPES`) or the
default of :class:`wikirec.recipes.TrainConfig`. How it trains (``optimizer``, see
:mod:`wikirec.trainers`): ``auto`` (the default) runs the compiled kernel on a CPU
and Keras' ``Model.fit`` with :class:`wikirec.model.LazyAdam` when TensorFlow sees a
GPU; ``kernel`` and ``keras`` force one; ``adam`` is the tutorial's dense Adam. The
kernel and the Keras path are the same maths (tested equal).

Early stopping: the reference had no validation set, so training stops when the
training loss (mean over an epoch) has not fallen by more than ``min_delta`` below
its best for ``patience`` epochs in a row (default 3; ``patience=0`` never stops).

Writes to ``OUT``::

    model.keras          the Keras model with its optimizer's state: after ``import
                         wikirec.model``, ``keras.models.load_model(path, safe_mode=True)``
                         then ``fit`` continues the training
    book_vectors.npy     float32, shape (n_books, dim): the book vectors (rows of
                         book_embedding; link_mean: the mean of the book's links')
    link_vectors.npy     float32, shape (n_links, dim): rows of link_embedding
    book_bias.npy, link_bias.npy   float32 (n,): the biases of cosine_bias and link_mean
    book_titles.json     the books' titles, in row order; link_titles.json likewise
    train.json           parameters, loss, seconds and examples/s per epoch
    checkpoint/          the last epoch's state, for ``resume=True``

``train.json`` is removed first and written last: a folder without it holds no
finished run. Epoch ``e`` draws its batches from ``numpy.random.default_rng([seed,
e])`` and the model starts from :func:`wikirec.trainers.start_weights` (seeded), so
the same command on the same machine gives the same vectors, and a resumed run
continues with the batches an uninterrupted run would have used.

This module imports TensorFlow only inside its functions (``wikirec parse`` and
``wikirec build`` start without it).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path

import numpy as np

from wikirec import __version__
from wikirec.batches import MODES, NEGATIVES, EpochBatches, PairSampler
from wikirec.built import BuildError, load_training_data
from wikirec.cli import (
    at_most,
    non_negative_float,
    non_negative_int,
    positive_float,
    positive_int,
)
from wikirec.errors import one_line
from wikirec.io import (
    CannotRead,
    read_small_text,
    write_json_atomic,
    write_keras_atomic,
    write_npy_atomic,
    write_set_atomic,
)
from wikirec.progress import progress_bar
from wikirec.recipes import (
    DEFAULT_RECIPE,
    FINISH_OPTIONS,
    LIMITS,
    OPTIMIZERS,
    RECIPE_NAMES,
    RECIPES,
    SPEED_OPTIONS,
    TrainConfig,
    TrainError,
    recipe_help,
)
from wikirec.tfidf import category_weights
from wikirec.trained import BIAS_FILES
from wikirec.trainers import TRAINERS, link_mean, trainer_for

__all__ = ["TrainConfig", "TrainError", "should_stop", "train", "training_pairs"]


def train(
    data_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    model: str = DEFAULT_RECIPE,
    *,
    dim: int | None = None,
    epochs: int | None = None,
    batch_positives: int | None = None,
    negative_ratio: int | None = None,
    learning_rate: float | None = None,
    scale: float | None = None,
    rare_weight: float | None = None,
    category_weight: float | None = None,
    seed: int | None = None,
    mode: str | None = None,
    negatives: str | None = None,
    optimizer: str | None = None,
    patience: int | None = None,
    min_delta: float | None = None,
    steps_per_execution: int | None = None,
    jit_compile: bool | None = None,
    resume: bool = False,
    overwrite: bool = False,
    init_from: str | os.PathLike | None = None,
    progress: bool = False,
) -> dict:
    """Train on the build in ``data_dir``, write the model and vectors to ``out_dir``.

    Parameters
    ----------
    data_dir : output folder of ``wikirec build``
    out_dir : output folder; must not hold another run's checkpoint unless ``resume``
        (continue it) or ``overwrite`` (start again)
    model : a name of :data:`wikirec.recipes.RECIPES` (default ``link_mean``)
    dim, epochs, batch_positives, negative_ratio, learning_rate, scale, rare_weight,
    category_weight : None: the model's recipe
    seed, mode, negatives, optimizer, patience, min_delta, steps_per_execution,
    jit_compile : None: the defaults of :class:`wikirec.recipes.TrainConfig`
    dim : vector length
    epochs : at most this many epochs of ``n_pairs // batch_positives`` steps
    batch_positives : positives per batch; a batch has ``batch_positives * (1 +
        negative_ratio)`` examples
    negative_ratio : negatives per positive
    learning_rate : Adam's learning rate
    scale, rare_weight : the fixed scale of the cosine and the power of the rare-link
        weights of the models with biases (unused by the reference)
    category_weight : ``link_mean``: the weight of ``Category:`` pages in a book's mean
        of links, against 1 for any other page (0: left out of it); unused by the others
    seed : seeds the initial weights and every epoch's batches
    mode : "classification" (labels 1/0) or "regression" (labels 1/-1, reference only)
    negatives : "uniform" (the reference), "frequency" (links by count ** 0.75) or
        "books" (each positive's page with random books: neighbours more by genre and
        category, less by author; pages for a book then add the page's prior, see
        :attr:`wikirec.trained.TrainedModel.page_bias`)
    optimizer : "auto", "kernel", "keras" or "adam" (see the module docstring)
    patience, min_delta : early stopping on the training loss
    steps_per_execution, jit_compile : passed to Keras (the Keras paths)
    resume : continue the run checkpointed in ``out_dir`` (``epochs`` may grow)
    overwrite : discard a checkpoint found in ``out_dir``
    init_from : a finished train folder of the same model (same options but for the
        speed ones) on the same books and links, trained on other pairs of them (the
        training part of ``wikirec evaluate``'s split): start from its weights and
        Adam moments instead of :func:`wikirec.trainers.start_weights`, and train
        ``epochs`` more epochs on this build's pairs
    progress : progress bars on stderr

    Returns
    -------
    summary : dict, also written to ``out_dir/train.json``
    """
    config = TrainConfig.for_recipe(
        model, dim=dim, epochs=epochs, batch_positives=batch_positives,
        negative_ratio=negative_ratio, learning_rate=learning_rate, scale=scale,
        rare_weight=rare_weight, category_weight=category_weight, seed=seed, mode=mode,
        negatives=negatives,
        optimizer=optimizer, patience=patience, min_delta=min_delta,
        steps_per_execution=steps_per_execution, jit_compile=jit_compile,
    )  # fmt: skip
    config.check()
    data, data_id = _load_data(data_dir)
    sampler = _make_sampler(data, config, data_dir)
    out = Path(out_dir)
    checkpoint = _prepare_out(out, resume, overwrite)
    state = _read_checkpoint(checkpoint, config, data_id) if resume else None
    start = checkpoint
    if init_from is not None and state is None:
        state, start = _initial_state(Path(init_from), config, data), Path(init_from) / "checkpoint"
    trainer, history = _start(config, data, state, start)
    started_epoch = len(history)
    history = _epochs(trainer, sampler, config, history, checkpoint, data_id, progress)
    summary = _summary(config, data, history, data_dir, started_epoch, trainer)
    if init_from is not None:
        summary["initialised_from"] = str(init_from)
    return _finish(out, trainer, data, config, summary)


def training_pairs(data, config: TrainConfig) -> np.ndarray:
    """int32 (n, 2): the pairs ``config.model`` learns from (its recipe's ``inputs``):
    the out-links; or the out-links, the in-links and each book's own page when it is a
    link too (so two books that link to each other share what they meet)."""
    if config.inputs == "out+in":
        return np.concatenate([data.graph_pairs(), data.own_pairs()])
    return np.asarray(data.pairs)


def _load_data(data_dir):
    try:
        data = load_training_data(data_dir)
    except BuildError as exc:
        raise TrainError(str(exc)) from exc
    identity = json.dumps(
        [data.summary.get(k) for k in ("books", "distinct_links", "pairs", "params", "in_links")],
        sort_keys=True,
    )
    return data, hashlib.sha256(identity.encode()).hexdigest()[:16]


def _make_sampler(data, config: TrainConfig, data_dir) -> PairSampler:
    pairs = training_pairs(data, config)
    if len(pairs) == 0:
        raise TrainError(f"{data_dir}: the build has no pairs to train on")
    if config.batch_positives > len(pairs):
        raise TrainError(
            f"{data_dir}: a batch of {config.batch_positives:,} positives is larger than the "
            f"data ({len(pairs):,} pairs); lower --batch-positives"
        )
    try:
        return PairSampler(
            pairs, data.n_books, data.n_links, config.negative_ratio,
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
    if not overwrite:  # --overwrite: the finished model stays loadable until replaced
        (out / "train.json").unlink(missing_ok=True)
    if overwrite and not resume:
        (checkpoint / "state.json").unlink(missing_ok=True)
    return checkpoint


_EPOCH_FIELDS = ("epoch", "loss", "seconds", "examples", "examples_per_second")
STATE_MAX_BYTES = 64 * 2**20  # a state is its config and a line per epoch: kilobytes


def read_state(checkpoint: Path) -> dict:
    """``checkpoint/state.json``, checked: a weights file named in the folder itself and a
    history of epochs with their numbers (a hand-edited file gets one line, never a
    traceback or a file opened elsewhere)."""
    path = checkpoint / "state.json"
    try:
        state = json.loads(read_small_text(path, STATE_MAX_BYTES, "checkpoint state"))
    except CannotRead as exc:
        raise TrainError(str(exc)) from exc
    except (ValueError, RecursionError) as exc:
        raise TrainError(f"{path}: unreadable checkpoint ({one_line(exc, 120)})") from exc
    if not isinstance(state, dict) or not isinstance(state.get("config", {}), dict):
        raise TrainError(f"{path}: not a checkpoint state (an object with config, file, history)")
    name = state.get("file")
    if not isinstance(name, str) or not re.fullmatch(r"epoch-\d{4,}\.[a-z0-9.]+", name):
        raise TrainError(f"{path}: file {name!r} is not a weights file of this folder")
    history = state.get("history")
    if not isinstance(history, list) or not all(
        isinstance(h, dict)
        and all(isinstance(h.get(k), (int, float)) and not isinstance(h.get(k), bool)
                and math.isfinite(h[k]) for k in _EPOCH_FIELDS)
        for h in history
    ):  # fmt: skip
        raise TrainError(
            f"{path}: history is not a list of epochs with finite {', '.join(_EPOCH_FIELDS)}"
        )
    return state


def _read_checkpoint(checkpoint: Path, config: TrainConfig, data_id: str) -> dict:
    state = read_state(checkpoint)
    if state.get("data_id") != data_id:
        raise TrainError(f"{checkpoint}: was trained on other data than this build")
    saved = state.get("config", {})
    for name, value in asdict(config).items():
        before = saved.get(name)
        if name not in SPEED_OPTIONS + FINISH_OPTIONS and before != value:
            raise TrainError(f"{checkpoint}: was trained with {name}={before!r}, not {value!r}")
    return state


def _initial_state(folder: Path, config: TrainConfig, data) -> dict:
    """The checkpoint of the finished run in ``folder`` as a start (its history left
    behind): checked to be of the same model on the same books and links."""
    if not (folder / "train.json").is_file():
        raise TrainError(f"{folder}: not a finished train folder (no train.json) to start from")
    state = read_state(folder / "checkpoint")
    saved = state.get("config", {})
    for name, value in asdict(config).items():
        # the seed only draws the start and the batches: this run draws its own
        if name not in (*SPEED_OPTIONS, *FINISH_OPTIONS, "seed") and saved.get(name) != value:
            raise TrainError(
                f"{folder}: was trained with {name}={saved.get(name)!r}, not {value!r}"
            )
    for kind, titles in (("book", data.books["title"]), ("link", data.links["title"])):
        path = folder / f"{kind}_titles.json"
        if json.loads(path.read_text(encoding="utf-8")) != titles.tolist():
            raise TrainError(f"{folder}: trained on other {kind}s than this build's ({path})")
    return {"file": state["file"], "history": []}


def _start(config: TrainConfig, data, state: dict | None, checkpoint: Path):
    """A new trainer (seeded) or the checkpointed one, and the epoch history so far."""
    from wikirec.tf_import import import_tensorflow

    import_tensorflow()
    import keras

    keras.utils.set_random_seed(config.seed)
    kind = trainer_for(config)
    pairs = training_pairs(data, config)
    if state is None:
        return kind.create(config, data.n_books, data.n_links, pairs), []
    path = checkpoint / state["file"]
    if not path.is_file():
        raise TrainError(f"{checkpoint}: checkpoint file {state['file']} is missing")
    # The checkpoint's own trainer: "auto" may choose otherwise on this machine.
    kind = next((k for k in TRAINERS if path.name.endswith(k.suffix)), kind)
    return kind.restore(path, config, data.n_books, data.n_links, pairs), state["history"]


def should_stop(losses: list[float], patience: int, min_delta: float) -> bool:
    """True when none of the last ``patience`` losses fell more than ``min_delta`` below
    ``best``, the lowest loss before them (``patience=0``: never)."""
    if patience <= 0 or len(losses) <= patience:
        return False
    best_before = min(losses[:-patience])
    return all(loss >= best_before - min_delta for loss in losses[-patience:])


def _epochs(trainer, sampler, config, history, checkpoint, data_id, progress) -> list[dict]:
    """Train the remaining epochs, checkpointing each; return the whole history. One
    progress bar for all of them (a bar per epoch left 30 lines behind)."""
    first = len(history)
    if first >= config.epochs or should_stop(_losses(history), config.patience, config.min_delta):
        return history
    with ThreadPoolExecutor(max_workers=1) as pool, progress_bar(  # draws e+1 during e
        desc="train", unit="step", enabled=progress
    ) as bar:
        upcoming = pool.submit(sampler.epoch, first, config.batch_positives)
        for epoch in range(first, config.epochs):
            batches = upcoming.result()
            if epoch + 1 < config.epochs:
                upcoming = pool.submit(sampler.epoch, epoch + 1, config.batch_positives)
            if bar.total is None:  # epochs have the same number of steps
                bar.total = batches.n_steps * (config.epochs - first)
            history.append(_one_epoch(trainer, batches, epoch, config, bar))
            _write_checkpoint(checkpoint, trainer, config, history, data_id)
            if should_stop(_losses(history), config.patience, config.min_delta):
                break
    return history


def _one_epoch(trainer, batches: EpochBatches, epoch: int, config, bar) -> dict:
    started = time.perf_counter()
    done_before = bar.n

    def report(steps_done: int, loss: float) -> None:
        bar.update(done_before + steps_done - bar.n)
        bar.set_postfix(epoch=f"{epoch + 1}/{config.epochs}", loss=f"{loss:.4f}", refresh=False)

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


def _finish(out: Path, trainer, data, config, summary: dict) -> dict:
    """Write the saved model, the vectors and ``train.json`` (``summary``, last)."""
    net = trainer.export()
    arrays = trainer.weights()
    book = np.asarray(arrays["book"], np.float32)
    if config.model == "link_mean":
        weights = category_weights(data.links["title"], config.category_weight)
        book = link_mean(arrays["link"], training_pairs(data, config), book, weights)
    link = np.asarray(arrays["link"], np.float32)
    writers = {
        "model.keras": lambda path: write_keras_atomic(net, path),
        "book_vectors.npy": lambda path: write_npy_atomic(book, path),
        "link_vectors.npy": lambda path: write_npy_atomic(link, path),
        "book_titles.json": lambda path: write_json_atomic(data.books["title"].tolist(), path),
        "link_titles.json": lambda path: write_json_atomic(data.links["title"].tolist(), path),
        "train.json": lambda path: write_json_atomic(summary, path),
    }
    biases = {name: arrays.get(name.removesuffix(".npy")) for name in BIAS_FILES}
    for name, bias in biases.items():
        if bias is not None:
            bias = np.asarray(bias, np.float32)
            writers[name] = lambda path, bias=bias: write_npy_atomic(bias, path)
    # an earlier run's biases must not outlive it
    gone = tuple(name for name, bias in biases.items() if bias is None)
    write_set_atomic(out, writers, "train.json", removed=gone)
    return summary


def _summary(config: TrainConfig, data, history: list[dict], data_dir, started_epoch,
             trainer) -> dict:  # fmt: skip
    seconds = sum(h["seconds"] for h in history)
    examples = sum(h["examples"] for h in history)
    losses = _losses(history)
    stopped = len(history) < config.epochs
    return {
        "version": __version__,
        "params": asdict(config),
        "trained_by": type(trainer).__name__,
        "data": {
            "dir": str(data_dir),
            "n_books": data.n_books,
            "n_links": data.n_links,
            "n_pairs": int(len(data.pairs)),
            "n_in_pairs": int(len(data.in_pairs)),
            "inputs": config.inputs,
            "build_id": data.summary.get("build_id"),
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


# --------------------------------------------------------------------------- CLI


def add_command(subparsers) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train book and link embeddings on built pairs",
        description="Train book and link embeddings on the pairs of `wikirec build`. "
        f"With no options: {DEFAULT_RECIPE}, the evaluated default model, with its recipe. "
        "A value not given is the model's recipe (in brackets: each model's); "
        "--model reference --optimizer adam is the tutorial, exactly.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="models:\n"
        + "\n".join(f"  {name:12s} {r.summary}" for name, r in RECIPES.items())
        + "\noptimizers:\n"
        + "\n".join(f"  {name:12s} {text}" for name, text in OPTIMIZERS.items()),
    )
    parser.add_argument("data", metavar="DATA_DIR", help="output folder of wikirec build")
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder")
    defaults = TrainConfig()
    parser.add_argument("--model", default=DEFAULT_RECIPE, choices=RECIPE_NAMES,
                        help=f"({DEFAULT_RECIPE})")  # fmt: skip
    # None: the model's recipe, so --model X alone is X's recipe.
    recipe_options = {
        "dim": (positive_int, "vector length"),
        "epochs": (positive_int, "at most N epochs"),
        "batch_positives": (positive_int, "positives a batch"),
        "negative_ratio": (non_negative_int, "negatives per positive"),
        "learning_rate": (positive_float, "Adam's learning rate"),
        "scale": (positive_float, "the cosine's fixed scale (models with biases)"),
        "rare_weight": (non_negative_float, "a positive weighs (n_books / books of its link) ** W"),
        "category_weight": (non_negative_float, "link_mean: weight of Category: pages in a mean"),
    }
    for key, (kind, text) in recipe_options.items():
        kind = at_most(kind, LIMITS[key]) if key in LIMITS else kind
        parser.add_argument(f"--{key.replace('_', '-')}", type=kind, default=None,
                            help=f"{text} ({recipe_help(key)})")  # fmt: skip
    parser.add_argument(
        "--seed", type=at_most(non_negative_int, LIMITS["seed"]), default=defaults.seed,
        help=f"({defaults.seed})",
    )  # fmt: skip
    parser.add_argument("--mode", default=defaults.mode, choices=MODES, help="(classification)")
    parser.add_argument(
        "--negatives", default=defaults.negatives, choices=NEGATIVES,
        help="negatives: random pairs (uniform, the reference), links by frequency**0.75, "
        "or each positive's page with random books (books: neighbours more by genre and "
        "category, less by author; docs/quality.md)",
    )  # fmt: skip
    parser.add_argument("--optimizer", default=None, choices=list(OPTIMIZERS),
                        help=f"how it trains (see below; {recipe_help('optimizer')})")  # fmt: skip
    parser.add_argument(
        "--patience", type=at_most(non_negative_int, LIMITS["patience"]),
        default=defaults.patience,
        help=f"stop after N epochs without the training loss improving (0: never; "
        f"{defaults.patience})",
    )  # fmt: skip
    parser.add_argument(
        "--steps-per-execution", type=positive_int, default=defaults.steps_per_execution,
        help="Keras steps per call (the Keras paths)",
    )  # fmt: skip
    parser.add_argument("--jit-compile", action="store_true", help="compile with XLA (Keras)")
    parser.add_argument(
        "--init-from", metavar="TRAINED", default=None,
        help="start from this finished train folder of the same model on the same books and "
        "links (other pairs of them), then train --epochs more",
    )  # fmt: skip
    parser.add_argument("--resume", action="store_true", help="continue the run in DIR")
    parser.add_argument("--overwrite", action="store_true", help="discard a run found in DIR")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    summary = train(
        args.data, args.out, model=args.model, dim=args.dim, epochs=args.epochs,
        batch_positives=args.batch_positives, negative_ratio=args.negative_ratio,
        learning_rate=args.learning_rate, scale=args.scale, rare_weight=args.rare_weight,
        category_weight=args.category_weight, seed=args.seed, mode=args.mode,
        negatives=args.negatives, optimizer=args.optimizer,
        patience=args.patience, steps_per_execution=args.steps_per_execution,
        jit_compile=args.jit_compile, resume=args.resume, overwrite=args.overwrite,
        init_from=args.init_from, progress=not args.quiet,
    )  # fmt: skip
    losses = summary["loss"]
    stop = ", stopped early" if summary["stopped_early"] else ""
    print(
        f"trained {summary['epochs_run']} epochs{stop} in {summary['total_seconds']:.1f} s "
        f"({summary['examples_per_second']:,.0f} examples/s, {summary['trained_by']}); loss "
        f"{losses[0]:.4f} -> {losses[-1]:.4f}"
    )
    extra = ", link_bias.npy" if (Path(args.out) / "link_bias.npy").is_file() else ""
    print(
        f"wrote {Path(args.out)}/model.keras, book_vectors.npy, link_vectors.npy{extra}, train.json"
    )
    return 0
