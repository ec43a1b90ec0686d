"""The ways to train a read-out: a probability under binary cross-entropy, a value under squared error,
or a softmax over K classes under cross-entropy. A task picks one per variant; nothing here knows what
a task asks.
"""

import numpy as np

EPSILON = 1e-7  # probabilities are clipped to [EPSILON, 1 - EPSILON] in the loss, as Keras does


class Objective:
    """A read-out activation and its loss, in `keras.ops` (training) and in NumPy float64 (scoring)."""

    name: str
    activation: str | None
    loss_name: str
    prediction: str  # what the read-out gives, as a column name: "p" (a probability), "value" or "class"
    # Read-out units per step: False for one (a probability or a value), True for one per class, the
    # task's `classes` (K); targets are then class indices 0 .. K-1 (as float32).
    categorical: bool = False

    def loss(self, y, p):
        """Element-wise training loss of predictions p against targets y (same shape), keras.ops."""
        raise NotImplementedError

    def numpy_loss(self, y: np.ndarray, p: np.ndarray) -> float:
        """The mean of `loss` over every element, in float64."""
        raise NotImplementedError


class BinaryCrossEntropy(Objective):
    name, activation, loss_name, prediction = "classification", "sigmoid", "binary cross-entropy", "p"

    def loss(self, y, p):
        from keras import ops

        return ops.binary_crossentropy(y, p)  # clipped like keras.losses

    def numpy_loss(self, y, p):
        p = np.clip(p.astype(np.float64), EPSILON, 1 - EPSILON)
        y = y.astype(np.float64)
        return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


class SquaredError(Objective):
    name, activation, loss_name, prediction = "regression", None, "mean squared error", "value"

    def loss(self, y, p):
        from keras import ops

        return ops.square(y - p)

    def numpy_loss(self, y, p):
        return float(np.mean((p.astype(np.float64) - y.astype(np.float64)) ** 2))


class CategoricalCrossEntropy(Objective):
    """A softmax over the task's K classes, given as log-probabilities (a log-softmax read-out); targets y
    are class indices (float32 holding 0 .. K-1), p is y's shape plus a trailing axis of K.

    Log-probabilities, not probabilities: a probability clipped at EPSILON (as keras.losses clip) has
    no gradient below it, and a read-out that learns the common class first (the copy task's blanks)
    can push the rare classes under it and never come back. Log-probabilities are also logits, so
    Keras's losses take them with `from_logits=True`.
    """

    name, activation, loss_name, prediction = "categorical", "log_softmax", "cross-entropy", "class"
    categorical = True

    def loss(self, y, p):
        from keras import ops

        # (..., K) log-probabilities -> (...) the -log probability of class y
        return ops.sparse_categorical_crossentropy(ops.cast(y, "int32"), p, from_logits=True)

    def numpy_loss(self, y, p):
        logits = p.astype(np.float64)  # (..., K): renormalised, as from_logits does
        top = logits.max(axis=-1, keepdims=True)
        log_p = logits - top - np.log(np.exp(logits - top).sum(axis=-1, keepdims=True))
        picked = np.take_along_axis(log_p, y.astype(np.int64)[..., None], axis=-1)[..., 0]  # (...)
        return float(-np.mean(picked))


CLASSIFICATION = BinaryCrossEntropy()
REGRESSION = SquaredError()
CATEGORICAL = CategoricalCrossEntropy()
