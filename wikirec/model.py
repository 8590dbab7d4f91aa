"""The Keras models and their optimizers: a book and a link in, "does this book link there?" out.

``reference(n_books, n_links)`` is the reference tutorial's model, exactly::

    book ─ Embedding "book_embedding" (n_books × dim) ─┐
                                                        ├─ Dot(normalize=True) = cosine
    link ─ Embedding "link_embedding" (n_links × dim) ─┘      │
                                                         Reshape to one number
                                                              │
                   classification: Dense(1, sigmoid), binary cross-entropy, labels 1 / 0
                   regression:     the cosine itself, mean squared error, labels 1 / -1

:class:`CosineBias` is the model of ``cosine_bias`` and ``link_mean`` (a registered
Keras model class)::

    logit = scale * cos(book_embedding[book], link_embedding[link])
            + book_bias[book] + link_bias[link]

with a fixed ``scale``, trained on the logit with the binary cross-entropy, a positive
weighing ``positive_weight[link]`` (a table the model carries, so ``fit`` weighs the
examples itself). Its output is the logit; ``sigmoid`` of it is the probability.

Optimizers (both registered, so a saved model loads with ``safe_mode=True`` once
``wikirec.model`` is imported, and ``fit`` continues where training stopped):

:class:`LazyAdam`
    Adam on the rows a step touches: an embedding's gradient is summed per distinct
    row, and only those rows and their moments move (TensorFlow Addons' ``LazyAdam``
    rule). Dense variables get Adam. Every named model trains with it, through Keras
    (``--optimizer keras``, and ``auto`` on a GPU) or through its compiled twin,
    :mod:`wikirec.kernel` (``--optimizer kernel``, ``auto`` on a CPU); the tests hold
    the two equal.
:class:`RowSumAdam`
    Keras' Adam with an embedding's gradient summed per row before the update (textbook
    Adam, every row and moment updated each step: what the tutorial's Keras 2 ran).
    Keras 3's own Adam, given an embedding's sparse gradient, squares each example's
    slice before the repeats are summed, so a row seen k times in a batch would step up
    to sqrt(k) times too far. ``--optimizer adam`` gives the tutorial this way.

Once trained, the rows of the two embedding matrices are the book and link vectors
(``link_mean``: the book's vector is the mean of its links', computed after training).
"""

from __future__ import annotations

import numpy as np

from wikirec.batches import MODES
from wikirec.tf_import import import_tensorflow

tf = import_tensorflow()
import keras  # noqa: E402  (imported quietly just above)
from keras import layers, ops  # noqa: E402

LOSSES = {"classification": "binary_crossentropy", "regression": "mse"}


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


@keras.saving.register_keras_serializable(package="wikirec")
class CosineBias(keras.Model):
    """``scale * cos(book, link) + book_bias + link_bias``, the logit (batch, 1).

    Parameters
    ----------
    n_books, n_links : rows of the tables
    dim : length of each vector
    scale : the cosine's fixed scale

    Inputs ``{"book": (batch, 1), "link": (batch, 1)}`` int32. ``positive_weight``
    (n_links,), not trained, weighs each positive example by its link in ``fit``
    (ones unless set).
    """

    def __init__(self, n_books: int, n_links: int, dim: int = 200, scale: float = 5.0,
                 **kwargs) -> None:  # fmt: skip
        kwargs.setdefault("name", "cosine_bias")
        super().__init__(**kwargs)
        self.n_books, self.n_links, self.dim, self.scale = n_books, n_links, dim, float(scale)
        self.book_embedding = layers.Embedding(n_books, dim, name="book_embedding")
        self.link_embedding = layers.Embedding(n_links, dim, name="link_embedding")
        self.book_bias = layers.Embedding(n_books, 1, name="book_bias",
                                          embeddings_initializer="zeros")  # fmt: skip
        self.link_bias = layers.Embedding(n_links, 1, name="link_bias",
                                          embeddings_initializer="zeros")  # fmt: skip
        self.cosine = layers.Dot(name="dot_product", normalize=True, axes=2)
        self.positive_weight = self.add_weight(
            shape=(n_links,), initializer="ones", trainable=False, name="positive_weight"
        )

    def call(self, inputs):
        book, link = inputs["book"], inputs["link"]
        cosine = self.cosine([self.book_embedding(book), self.link_embedding(link)])[:, :, 0]
        return self.scale * cosine + self.book_bias(book)[:, :, 0] + self.link_bias(link)[:, :, 0]

    def train_step(self, data):
        """Keras' step with each positive weighted by its link's ``positive_weight``."""
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        link_weight = ops.take(self.positive_weight, ops.reshape(x["link"], (-1,)))
        weight = ops.where(ops.reshape(y, (-1,)) > 0, link_weight, ops.ones_like(link_weight))
        return super().train_step((x, y, weight))

    def get_config(self) -> dict:
        return {"n_books": self.n_books, "n_links": self.n_links, "dim": self.dim,
                "scale": self.scale, "name": self.name}  # fmt: skip

    def build_tables(self) -> None:
        """Create the weights (a model called once on one example)."""
        one = np.zeros((1, 1), np.int32)
        self({"book": one, "link": one})


@keras.saving.register_keras_serializable(package="wikirec")
class LazyAdam(keras.optimizers.Adam):
    """Adam on the rows a step touches (see the module docstring); dense gradients get
    Keras' Adam. Same constants and bias correction (by the global step) as
    :mod:`wikirec.kernel`."""

    def __init__(self, learning_rate: float = 0.01, name: str = "lazy_adam", **kwargs) -> None:
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)

    def update_step(self, gradient, variable, learning_rate):
        if not isinstance(gradient, tf.IndexedSlices):
            return super().update_step(gradient, variable, learning_rate)
        dtype = variable.dtype
        step = ops.cast(self.iterations + 1, dtype)
        lr = ops.cast(learning_rate, dtype)
        beta_1, beta_2 = ops.cast(self.beta_1, dtype), ops.cast(self.beta_2, dtype)
        alpha = lr * ops.sqrt(1 - ops.power(beta_2, step)) / (1 - ops.power(beta_1, step))
        rows, position = tf.unique(gradient.indices)
        grad = tf.math.unsorted_segment_sum(
            tf.cast(gradient.values, dtype), position, tf.shape(rows)[0]
        )
        m = self._momentums[self._get_variable_index(variable)]
        v = self._velocities[self._get_variable_index(variable)]
        m_rows = beta_1 * tf.gather(m.value, rows) + (1 - beta_1) * grad
        v_rows = beta_2 * tf.gather(v.value, rows) + (1 - beta_2) * tf.square(grad)
        self.assign(m, tf.IndexedSlices(m_rows, rows))
        self.assign(v, tf.IndexedSlices(v_rows, rows))
        step_rows = alpha * m_rows / (tf.sqrt(v_rows) + self.epsilon)
        self.assign_sub(variable, tf.IndexedSlices(step_rows, rows))


@keras.saving.register_keras_serializable(package="wikirec")
class RowSumAdam(keras.optimizers.Adam):
    """Keras' Adam with sparse gradients summed per row first (textbook Adam; see the
    module docstring). Dense gradients are untouched."""

    def update_step(self, gradient, variable, learning_rate):
        if isinstance(gradient, tf.IndexedSlices):
            gradient = tf.convert_to_tensor(gradient)  # sums the repeated rows
        super().update_step(gradient, variable, learning_rate)


def build_net(
    recipe: str,
    n_books: int,
    n_links: int,
    dim: int,
    mode: str = "classification",
    scale: float = 5.0,
) -> keras.Model:
    """The uncompiled Keras model of a recipe: ``reference`` (the tutorial's, ``mode``
    classification or regression) or ``cosine_bias`` / ``link_mean`` (:class:`CosineBias`,
    built, its weights created)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    if dim < 1 or n_books < 1 or n_links < 1:
        raise ValueError(f"dim, n_books and n_links must be positive ({dim}, {n_books}, {n_links})")
    if recipe == "reference":
        return reference(n_books, n_links, dim=dim, mode=mode)
    if recipe in ("cosine_bias", "link_mean"):
        net = CosineBias(n_books, n_links, dim=dim, scale=scale, name=recipe)
        net.build_tables()
        return net
    raise ValueError(f"unknown model {recipe!r}")


def compile_net(
    net: keras.Model, optimizer: keras.optimizers.Optimizer, mode: str = "classification",
    **compile_kwargs,
) -> keras.Model:  # fmt: skip
    """Compile ``net`` with ``optimizer`` and its loss: the binary cross-entropy of the
    logit for :class:`CosineBias`, the mode's loss for the reference."""
    loss = keras.losses.BinaryCrossentropy(from_logits=True) if isinstance(net, CosineBias) \
        else LOSSES[mode]  # fmt: skip
    net.compile(optimizer=optimizer, loss=loss, **compile_kwargs)
    return net
