"""Every training default, written once: the named models' recipes and a run's settings.

A **recipe** is what a named model trains with unless told otherwise (:data:`RECIPES`):

``link_mean`` (the default model: ``wikirec train`` with no options, ``wikirec run
books``, ``wikirec evaluate``)
    The cosine at a fixed scale plus a bias per book and per link, trained on the links
    each book makes *and* the pages linking to it (the build's in-links), and on its own
    page when other books meet it; a book's vector is then its own embedding row plus
    the TF-IDF-weighted mean of those pages' vectors (README, Quality). Pages are
    ranked for a book by its score mixed with the vote of the book's nearest books
    (:mod:`wikirec.scoring`).
``cosine_bias``
    The same model trained on out-links only, rare links weighted up, the book vector
    its own embedding row (the previous default, kept for comparison).
``reference``
    The tutorial's model and recipe, exactly: 50 dimensions, 15 epochs of batches of
    1,024 positives and 2,048 negatives, Keras' dense Adam at 0.001 through
    ``Model.fit`` (``--optimizer kernel``: the same model on the compiled kernel, fast).

Everything else a run needs (seed, optimizer, early stopping, ...) is a field of
:class:`TrainConfig` with its default here. ``wikirec train``'s help, the ``[train]``
keys of a pipeline (an unset key means the model's recipe) and the evaluation's trained
methods are derived from this module. It imports neither TensorFlow nor numba.

"Model" names three things; the code keeps them apart. A recipe's name is a
``recipe`` (:data:`RECIPE_NAMES`), but where users type it, ``--model``, ``[train]
model`` and ``train.json``'s ``model``, it keeps that name (:attr:`TrainConfig.model`);
a Keras model is a ``net`` (:mod:`wikirec.model`); a trained folder is a
:class:`~wikirec.trained.TrainedModel`, read into a variable called ``trained``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from wikirec.batches import MODES, NEGATIVES
from wikirec.cli import MAX_SEED
from wikirec.errors import WikirecError

DEFAULT_RECIPE = "link_mean"

# How a model is trained. Every named model trains with lazy (row-wise) Adam except
# the tutorial's own recipe, ``adam``, which updates every row every step.
OPTIMIZERS = {
    "auto": "the compiled kernel on a CPU, the Keras path when TensorFlow sees a GPU",
    "kernel": "lazy row-wise Adam compiled by numba on every core (CPU)",
    "keras": "the same lazy Adam as a Keras optimizer through Model.fit (CPU or GPU)",
    "adam": "Keras' dense Adam through Model.fit, every row each step: the tutorial's",
}
LAZY_OPTIMIZERS = ("auto", "kernel", "keras")
# What a method learns from: the links each book makes, or those and the pages that link
# to it (the build's in-links).
INPUTS = ("out", "out+in")


class TrainError(WikirecError):
    """Bad input for the train stage; the message is one line."""


@dataclass(frozen=True)
class Recipe:
    """What a named model trains with unless told otherwise."""

    dim: int
    epochs: int
    batch_positives: int
    negative_ratio: int
    learning_rate: float
    scale: float  # the cosine's fixed scale in the logit (the reference learns its own)
    rare_weight: float  # a positive weighs (n_books / books of its link) ** rare_weight
    optimizer: str  # how it trains (OPTIMIZERS)
    inputs: str  # what the model learns from: "out" or "out+in"
    # link_mean: the weight of Category: pages in a book's mean of links, against 1 for
    # any other page (README, Quality: kept at 1). Read after training, not during it.
    category_weight: float
    # Pages for a book: the weight of its nearest books' vote against the model's own
    # score (wikirec.scoring; 0: the model's score alone). Not a training option.
    neighbour_weight: float
    summary: str


RECIPES: dict[str, Recipe] = {
    "link_mean": Recipe(
        dim=200, epochs=30, batch_positives=256, negative_ratio=10, learning_rate=0.01,
        scale=5.0, rare_weight=0.0, optimizer="auto", inputs="out+in", category_weight=1.0,
        neighbour_weight=0.25,
        summary="cosine + biases on out- and in-links; a book is its links' mean",
    ),
    "cosine_bias": Recipe(
        dim=200, epochs=30, batch_positives=256, negative_ratio=5, learning_rate=0.01,
        scale=5.0, rare_weight=0.5, optimizer="auto", inputs="out", category_weight=1.0,
        neighbour_weight=0.0,
        summary="cosine + biases on out-links, rare links weighted up",
    ),
    "reference": Recipe(
        dim=50, epochs=15, batch_positives=1024, negative_ratio=2, learning_rate=0.001,
        scale=1.0, rare_weight=0.0, optimizer="adam", inputs="out", category_weight=1.0,
        neighbour_weight=0.0,
        summary="the tutorial's model and recipe (--optimizer kernel: the same, fast)",
    ),
}  # fmt: skip
RECIPE_NAMES = tuple(RECIPES)
BIAS_RECIPES = ("link_mean", "cosine_bias")  # the models with a bias per book and link
RECIPE_KEYS = ("dim", "epochs", "batch_positives", "negative_ratio", "learning_rate", "scale",
               "rare_weight", "category_weight", "optimizer")  # fmt: skip
# Options that only change speed may differ when resuming; everything else must match.
SPEED_OPTIONS = ("epochs", "patience", "min_delta", "steps_per_execution", "jit_compile")
# Options read only once training ends (the book vectors): they may differ too.
FINISH_OPTIONS = ("category_weight",)
# ``wikirec run``: epochs on every pair of the build after the model was trained on the
# training part of the evaluation's split (the model the evaluation measures; at most
# as many as it ran): the delivered model is that one, trained on the held-out tenth
# too. As good as a model trained from scratch (README, Full scale: 3, 5 and 10
# measured), in a sixth of the time.
FINISH_EPOCHS = 5

# Upper bounds of the whole-number options (the CLI, the pipelines and TrainConfig): past
# them NumPy or TensorFlow would only run out of memory or time (4,096 dimensions of
# 400,000 links are 6.5 GB of weights, three times that with Adam's moments).
LIMITS = {"dim": 4096, "epochs": 10_000, "batch_positives": 2**20, "negative_ratio": 1_000,
          "seed": MAX_SEED, "patience": 10_000, "steps_per_execution": 100_000}  # fmt: skip


@dataclass
class TrainConfig:
    """Everything that defines a run (saved in ``train.json`` and the checkpoint).

    The recipe's fields (:data:`RECIPE_KEYS`) left as None take the model's recipe in
    :meth:`for_recipe`; the others have their defaults here.
    """

    model: str = DEFAULT_RECIPE
    dim: int | None = None
    epochs: int | None = None
    batch_positives: int | None = None
    negative_ratio: int | None = None
    learning_rate: float | None = None
    scale: float | None = None
    rare_weight: float | None = None
    category_weight: float | None = None
    optimizer: str | None = None
    seed: int = 0
    mode: str = "classification"
    negatives: str = "uniform"
    patience: int = 3
    min_delta: float = 1e-4
    steps_per_execution: int = 1
    jit_compile: bool = False

    @classmethod
    def for_recipe(cls, model: str = DEFAULT_RECIPE, **given) -> TrainConfig:
        """The config of ``model``: the ``given`` values (None: not given), the rest
        from the model's recipe (:data:`RECIPES`) and the defaults above."""
        if model not in RECIPES:
            raise TrainError(f"unknown model {model!r} ({', '.join(RECIPE_NAMES)})")
        unknown = set(given) - {f.name for f in fields(cls)}
        if unknown:
            raise TrainError(f"unknown training option {sorted(unknown)[0]!r}")
        recipe = asdict(RECIPES[model])
        values = {key: recipe[key] for key in RECIPE_KEYS}
        values.update({k: v for k, v in given.items() if v is not None})
        return cls(model=model, **values)

    @property
    def recipe(self) -> Recipe:
        return RECIPES[self.model]

    @property
    def inputs(self) -> str:
        """What the model learns from: ``"out"`` or ``"out+in"``."""
        return self.recipe.inputs

    @property
    def batch_size(self) -> int:
        return self.batch_positives * (1 + self.negative_ratio)

    def check(self) -> None:
        """Raise :class:`TrainError` naming the first bad parameter."""
        rules = [
            (self.model in RECIPES, f"unknown model {self.model!r} ({', '.join(RECIPE_NAMES)})"),
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
            (self.category_weight >= 0, f"a category weight of {self.category_weight} is below 0"),
        ]
        if self.model in BIAS_RECIPES:
            name = self.model
            rules += [
                (self.optimizer in LAZY_OPTIMIZERS,
                 f"{name} trains with lazy Adam ({', '.join(LAZY_OPTIMIZERS)}), not "
                 f"{self.optimizer}"),
                (self.mode == "classification", f"{name} trains in classification mode only"),
                (self.negative_ratio >= 1, f"{name} needs a negative ratio of at least 1"),
            ]  # fmt: skip
        for name, high in LIMITS.items():
            value = getattr(self, name)
            rules.append((value <= high, f"{name} must be at most {high:,}, not {value:,}"))
        for ok, message in rules:
            if not ok:
                raise TrainError(message)


def run_defaults() -> dict:
    """The settings of a run that are not part of a recipe, with their defaults."""
    return {f.name: f.default for f in fields(TrainConfig)
            if f.name != "model" and f.name not in RECIPE_KEYS}  # fmt: skip


def recipe_help(key: str) -> str:
    """``"link_mean 200, cosine_bias 200, reference 50"``: each model's ``key``."""

    def shown(value) -> str:
        return f"{value:g}" if isinstance(value, float | int) else str(value)

    return ", ".join(f"{name} {shown(getattr(recipe, key))}" for name, recipe in RECIPES.items())
