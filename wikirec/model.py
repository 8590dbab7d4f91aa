"""The dual-embedding model: a book and a link in, "does this book link there?" out.

``build_model(n_books, n_links)`` gives the reference tutorial's model, exactly:

    book ─ Embedding "book_embedding" (n_books × dim) ─┐
                                                        ├─ Dot(normalize=True) = cosine
    link ─ Embedding "link_embedding" (n_links × dim) ─┘      │
                                                         Reshape to one number
                                                              │
                   classification: Dense(1, sigmoid), binary cross-entropy, labels 1 / 0
                   regression:     the cosine itself, mean squared error, labels 1 / -1

trained with Adam (Keras defaults: learning rate 0.001). Once trained, the rows of the
two embedding matrices are the book and link vectors.

Adam here is :class:`RowSumAdam`: Keras' Adam, with an embedding's gradient summed per
row before the update, which is textbook Adam and what Keras 2 (the tutorial's Keras)
did. Keras 3's own Adam, given an embedding's sparse gradient (one slice per example,
rows repeated), squares each example's slice before the repeats are summed, so a row
seen k times in a batch gets a second moment up to k times too small and steps up to
sqrt(k) times too large (checked on Keras 3.15: the first step moves weights by 4 times
the learning rate, where Adam's first step is bounded by it).

Variants live in :data:`MODELS` under their own names, each documented, and are
judged by the evaluation's numbers; ``"reference"`` stays as it is, so anyone can
reproduce the tutorial. (The speed options of ``wikirec train``, such as the
row-wise sparse optimisers, train this same model; they are not model variants.)
"""

from __future__ import annotations

from collections.abc import Callable

import keras
import tensorflow as tf
from keras import layers

MODES = ("classification", "regression")
LOSSES = {"classification": "binary_crossentropy", "regression": "mse"}
DEFAULT_LEARNING_RATE = 0.001  # Keras' Adam default, which the reference used


def reference(n_books: int, n_links: int, dim: int = 50, mode: str = "classification"):
    """The tutorial's architecture (uncompiled). Inputs have shape (batch, 1), int32."""
    book = keras.Input(name="book", shape=(1,), dtype="int32")
    link = keras.Input(name="link", shape=(1,), dtype="int32")

    # Each book and each link gets a vector of ``dim`` numbers: shape (batch, 1, dim).
    book_vector = layers.Embedding(name="book_embedding", input_dim=n_books, output_dim=dim)(book)
    link_vector = layers.Embedding(name="link_embedding", input_dim=n_links, output_dim=dim)(link)

    # The cosine of the two vectors, shape (batch, 1, 1), reshaped to (batch, 1).
    merged = layers.Dot(name="dot_product", normalize=True, axes=2)([book_vector, link_vector])
    merged = layers.Reshape(target_shape=(1,))(merged)

    # Classification learns a scale and a bias and squashes them to a probability.
    if mode == "classification":
        merged = layers.Dense(1, activation="sigmoid")(merged)
    return keras.Model(inputs=[book, link], outputs=merged, name="reference")


MODELS: dict[str, Callable[..., keras.Model]] = {"reference": reference}


@keras.saving.register_keras_serializable(package="wikirec")
class RowSumAdam(keras.optimizers.Adam):
    """Keras' Adam with sparse gradients summed per row first (textbook Adam; see the
    module docstring). Dense gradients are untouched."""

    def update_step(self, gradient, variable, learning_rate):
        if isinstance(gradient, tf.IndexedSlices):
            gradient = tf.convert_to_tensor(gradient)  # sums the repeated rows
        super().update_step(gradient, variable, learning_rate)


def build_model(
    n_books: int,
    n_links: int,
    dim: int = 50,
    mode: str = "classification",
    name: str = "reference",
    learning_rate: float | None = None,
    compile: bool = True,
    **compile_kwargs,
) -> keras.Model:
    """Build model ``name`` of :data:`MODELS`, compiled with Adam and the mode's loss.

    Parameters
    ----------
    n_books, n_links : rows of the two embedding tables
    dim : length of each vector
    mode : "classification" (sigmoid, binary cross-entropy, labels 1/0) or
        "regression" (cosine, mean squared error, labels 1/-1)
    learning_rate : Adam's learning rate (default 0.001, as the reference)
    compile : compile the model with :class:`RowSumAdam` (False: the bare architecture)
    compile_kwargs : passed to ``Model.compile`` (``steps_per_execution``,
        ``jit_compile``, ...)
    """
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(MODELS)}")
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    if dim < 1 or n_books < 1 or n_links < 1:
        raise ValueError(f"dim, n_books and n_links must be positive ({dim}, {n_books}, {n_links})")
    model = MODELS[name](n_books, n_links, dim=dim, mode=mode)
    if compile:
        optimizer = RowSumAdam(learning_rate=learning_rate or DEFAULT_LEARNING_RATE)
        model.compile(optimizer=optimizer, loss=LOSSES[mode], **compile_kwargs)
    return model


# --------------------------------------------------------------------------- variants


def cosine_bias(
    n_books: int, n_links: int, dim: int = 200, mode: str = "classification", scale: float = 5.0
):
    """The reference's cosine at a fixed ``scale``, plus a bias per book and per link
    (uncompiled; inputs (batch, 1) int32)::

        logit = scale * cos(book_embedding[book], link_embedding[link])
                + book_bias[book] + link_bias[link]

    then a sigmoid (classification) or the logit itself (regression). Trained by
    ``wikirec train --model cosine_bias`` (:class:`wikirec.train.CosineBiasTrainer`:
    NumPy lazy Adam, rare links weighted up, :mod:`wikirec.variants`), which saves this
    architecture with the trained weights; the evaluation's default model.
    """
    book = keras.Input(name="book", shape=(1,), dtype="int32")
    link = keras.Input(name="link", shape=(1,), dtype="int32")
    book_vector = layers.Embedding(name="book_embedding", input_dim=n_books, output_dim=dim)(book)
    link_vector = layers.Embedding(name="link_embedding", input_dim=n_links, output_dim=dim)(link)
    cosine = layers.Dot(name="dot_product", normalize=True, axes=2)([book_vector, link_vector])
    cosine = layers.Reshape(target_shape=(1,))(cosine)
    scaled = layers.Rescaling(scale, name="scale")(cosine)
    biases = [
        layers.Reshape(target_shape=(1,))(
            layers.Embedding(name=f"{side}_bias", input_dim=n, output_dim=1,
                             embeddings_initializer="zeros")(ids)
        )
        for side, n, ids in (("book", n_books, book), ("link", n_links, link))
    ]  # fmt: skip
    logit = layers.Add(name="logit")([scaled, *biases])
    if mode == "classification":
        logit = layers.Activation("sigmoid", name="probability")(logit)
    return keras.Model(inputs=[book, link], outputs=logit, name="cosine_bias")


MODELS["cosine_bias"] = cosine_bias
