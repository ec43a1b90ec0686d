"""What a model is trained to predict and how it is scored, for each task variant.

Classification trains sigmoid probabilities with binary cross-entropy; regression trains a linear
read-out with mean squared error. Either way accuracy asks the task's question about the whole
sequence, on the last step: is its sum > threshold? A probability answers yes above 0.5, a
regression prediction above the threshold. So the two objectives are scored on the same scale.
"""

from dataclasses import dataclass

import numpy as np
from keras import ops

from lstmlab.config import TaskConfig
from lstmlab.task import final_labels

EPSILON = 1e-7  # probabilities are clipped to [EPSILON, 1 - EPSILON] in the loss, as Keras does


def readout_activation(task: TaskConfig) -> str | None:
    return "sigmoid" if task.objective == "classification" else None


def loss_name(task: TaskConfig) -> str:
    return "binary cross-entropy" if task.objective == "classification" else "mean squared error"


def weighted_loss(task: TaskConfig, y, p, w):
    """The training loss (keras.ops): targets y and predictions p, (B,) or (B, k); weights w (B,).

    Per-step targets average over their steps first, so every sample weighs the same.
    """
    if task.objective == "classification":
        per_element = ops.binary_crossentropy(y, p)  # clipped like keras.losses
    else:
        per_element = ops.square(y - p)
    per_sample = ops.mean(per_element, axis=-1) if len(per_element.shape) == 2 else per_element  # (B,)
    return ops.sum(per_sample * w) / ops.maximum(ops.sum(w), 1.0)


@dataclass
class Metrics:
    loss: float
    accuracy: float


def score(task: TaskConfig, predictions: np.ndarray, y: np.ndarray) -> Metrics:
    """The loss (as trained, in float64) and the accuracy of the final-step answer."""
    p, y64 = predictions.astype(np.float64), y.astype(np.float64)
    if task.objective == "classification":
        p = np.clip(p, EPSILON, 1 - EPSILON)
        loss = -np.mean(y64 * np.log(p) + (1 - y64) * np.log(1 - p))
    else:
        loss = np.mean((p - y64) ** 2)
    return Metrics(float(loss), accuracy(task, predictions, final_labels(y, task)))


def decisions(task: TaskConfig, predictions: np.ndarray) -> np.ndarray:
    """Predictions (n,) or (n, T) -> (n,) booleans: does the model say the sum is > threshold?"""
    final = predictions[:, -1] if predictions.ndim == 2 else predictions
    return final > (0.5 if task.objective == "classification" else task.threshold)


def accuracy(task: TaskConfig, predictions: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of sequences whose decision matches the 0/1 `labels` (n,)."""
    return float(np.mean(decisions(task, predictions) == (labels > 0.5)))
