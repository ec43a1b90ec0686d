"""The two ways to train a read-out: a probability under binary cross-entropy, or a value under
squared error. A task picks one per variant; nothing here knows what a task asks.
"""

import numpy as np

EPSILON = 1e-7  # probabilities are clipped to [EPSILON, 1 - EPSILON] in the loss, as Keras does


class Objective:
    """A read-out activation and its loss, in `keras.ops` (training) and in NumPy float64 (scoring)."""

    name: str
    activation: str | None
    loss_name: str
    prediction: str  # what the read-out gives, as a column name: "p" (a probability) or "value"

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


CLASSIFICATION = BinaryCrossEntropy()
REGRESSION = SquaredError()
