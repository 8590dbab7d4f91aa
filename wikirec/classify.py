"""Embeddings as features: ``wikirec classify``.

The reference suggested using the book vectors as features. ``wikirec classify
DATA_DIR MODEL_DIR --field genre`` predicts an infobox field (``genre``, ``country``,
...) of the books from three feature sets, by the same scikit-learn logistic
regression and the same stratified folds:

- ``majority``: always the most frequent class (the floor);
- ``tfidf``: the TF-IDF rows of the books' link sets (as ``wikirec evaluate``);
- ``embedding``: the model's book vectors, scaled to unit length.

Values are compared case-folded with spaces collapsed; classes with fewer than
``min_class`` books (and books without a value) are left out. Reported: accuracy and
macro-averaged F1 over the folds (mean and standard deviation).
"""

from __future__ import annotations

import argparse
import json
import os
from collections import Counter

import numpy as np

from wikirec.built import TrainingData, fold_value, load_training_data
from wikirec.cli import MAX_SEED, at_most, non_negative_int, positive_int
from wikirec.errors import WikirecError
from wikirec.io import finite_or_null
from wikirec.tfidf import link_sets, tfidf_matrix
from wikirec.trained import load_vectors

FEATURES = ("majority", "tfidf", "embedding")


class ClassifyError(WikirecError):
    """Bad input for ``wikirec classify``; the message is one line."""


def field_labels(data: TrainingData, field: str, min_class: int) -> tuple[np.ndarray, list]:
    """The books kept (int64 rows) and their labels: books with a value of ``field``
    whose class has at least ``min_class`` books."""
    if field not in data.books.columns:
        raise ClassifyError(f"no infobox field {field!r} in books.parquet")
    values = [fold_value(v) for v in data.books[field].tolist()]
    counts = Counter(v for v in values if v)
    rows = [i for i, v in enumerate(values) if v and counts[v] >= min_class]
    labels = [values[i] for i in rows]
    if len(set(labels)) < 2:
        raise ClassifyError(
            f"field {field!r}: fewer than 2 classes with at least {min_class} books"
        )
    return np.asarray(rows, dtype=np.int64), labels


def book_features(data: TrainingData, model_dir: str | os.PathLike) -> dict[str, object]:
    """The feature matrices (n_books rows): ``tfidf`` (sparse) and ``embedding``."""
    vectors = load_vectors(model_dir, normalize=True)
    if vectors.book_titles != data.books["title"].tolist():
        raise ClassifyError(f"{model_dir}: was not trained on this build (other books)")
    sets = link_sets(data.pairs, data.n_books, data.n_links)
    return {"tfidf": tfidf_matrix(sets), "embedding": vectors.book_vectors}


def classify(
    data_dir: str | os.PathLike,
    model_dir: str | os.PathLike,
    field: str = "genre",
    folds: int = 5,
    min_class: int = 10,
    seed: int = 0,
) -> dict:
    """Cross-validated logistic regression on each feature set (see the module docstring).

    Returns
    -------
    report : dict with ``params``, ``books``, ``classes`` and ``rows`` (per feature set:
        ``accuracy``, ``accuracy_std``, ``macro_f1``, ``macro_f1_std``)
    """
    from sklearn.dummy import DummyClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_validate

    data = load_training_data(data_dir)
    rows, labels = field_labels(data, field, min_class)
    features = book_features(data, model_dir)
    n_folds = min(folds, min(Counter(labels).values()))
    if n_folds < 2:
        raise ClassifyError(f"--folds must be at least 2, not {folds}")
    splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    results = []
    for name in FEATURES:
        if name == "majority":
            estimator, x = DummyClassifier(strategy="most_frequent"), np.zeros((len(rows), 1))
        else:
            estimator, x = LogisticRegression(max_iter=2000), features[name][rows]
        scores = cross_validate(estimator, x, labels, cv=splitter, scoring=("accuracy", "f1_macro"))
        results.append(_row(name, scores))
    return {
        "params": {"data_dir": str(data_dir), "model_dir": str(model_dir), "field": field,
                   "folds": n_folds, "min_class": min_class, "seed": seed},
        "books": int(len(rows)),
        "classes": dict(Counter(labels).most_common()),
        "rows": results,
    }  # fmt: skip


def _row(name: str, scores: dict) -> dict:
    accuracy, f1 = scores["test_accuracy"], scores["test_f1_macro"]
    return {
        "features": name,
        "accuracy": float(accuracy.mean()),
        "accuracy_std": float(accuracy.std()),
        "macro_f1": float(f1.mean()),
        "macro_f1_std": float(f1.std()),
    }


def format_report(report: dict) -> str:
    """The rows as an aligned table, with a line saying what was predicted."""
    params = report["params"]
    lines = [
        f"{params['field']}: {report['books']:,} books in {len(report['classes'])} classes "
        f"(>= {params['min_class']} books each), {params['folds']}-fold stratified CV",
        f"{'features':<10}  {'accuracy':>15}  {'macro F1':>15}",
    ]
    for row in report["rows"]:
        accuracy = f"{row['accuracy']:.3f} ± {row['accuracy_std']:.3f}"
        f1 = f"{row['macro_f1']:.3f} ± {row['macro_f1_std']:.3f}"
        lines.append(f"{row['features']:<10}  {accuracy:>15}  {f1:>15}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- CLI


def add_command(subparsers) -> None:
    parser = subparsers.add_parser(
        "classify",
        help="predict an infobox field from the book vectors (vs majority and TF-IDF)",
        description="Cross-validated logistic regression predicting an infobox field of "
        "the books from the model's book vectors, beside the majority class and TF-IDF "
        "features of the link sets.",
    )
    parser.add_argument("data", metavar="DATA_DIR", help="output folder of wikirec build")
    parser.add_argument("model", metavar="MODEL_DIR", help="a model trained on DATA_DIR")
    parser.add_argument("--field", default="genre", help="infobox field (genre)")
    parser.add_argument("--folds", type=positive_int, default=5, help="cross-validation folds (5)")
    parser.add_argument(
        "--min-class",
        type=non_negative_int,
        default=10,
        help="leave out classes with fewer books (10)",
    )
    parser.add_argument("--seed", type=at_most(non_negative_int, MAX_SEED), default=0)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    report = classify(
        args.data, args.model, field=args.field, folds=args.folds,
        min_class=args.min_class, seed=args.seed,
    )  # fmt: skip
    if args.json:
        print(json.dumps(finite_or_null(report), indent=2, ensure_ascii=False, allow_nan=False))
    else:
        print(format_report(report))
    return 0
