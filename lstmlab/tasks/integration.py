"""The integration task: sequences of N(0, 1) numbers, labelled 1 when their sum exceeds a threshold.

Six variants (target x objective) share the same sequences x (n, T):

    final,    classification    y (n,)   1.0 where sum(x) > threshold   (the reference task)
    per-step, classification    y (n, T) 1.0 where sum(x[:t+1]) > threshold, at every step t
    final,    regression        y (n,)   sum(x)
    per-step, regression        y (n, T) sum(x[:t+1])
    final,    label-regression  y (n,)   the classification labels, fitted by a linear read-out
    per-step, label-regression  y (n, T) under squared error (a least-squares classifier)

label-regression separates the loss from the target's information: against classification only the
loss (and read-out) differs, against regression only the target (the 0/1 label instead of the sum).

Whatever the variant, a model is scored on the task's question about the whole sequence: is its sum
> threshold? A label model (probability or fitted 0/1 value) answers yes above 0.5, a predicted sum
above the threshold.
"""


import numpy as np

from lstmlab.tasks.base import FINAL, PER_STEP, Setting, Task, predict_the_mean
from lstmlab.tasks.objectives import CLASSIFICATION, REGRESSION


def labels(x: np.ndarray, threshold: float) -> np.ndarray:
    """(n, T) sequences -> (n,) float32 labels, 1.0 where the sum is > threshold.

    The sum is taken in float64 so that a label does not depend on float32 summation order.
    """
    return (x.astype(np.float64).sum(axis=1) > threshold).astype(np.float32)


class Integration(Task):
    name = "integration"
    summary = "is the sum of seq_len N(0, 1) numbers > threshold?"
    input_width = 1
    default_seq_len = 25
    targets = (FINAL, PER_STEP)
    objectives = {"classification": CLASSIFICATION, "regression": REGRESSION, "label-regression": REGRESSION}
    settings = {"threshold": Setting(1.0, "the label is 1 where the sum is > threshold")}

    @property
    def _on_labels(self) -> bool:
        """Is the target the 0/1 label (classification, label-regression), else the sum?"""
        return self.config.objective != "regression"

    def sample_inputs(self, n, rng):
        return rng.standard_normal((n, self.config.seq_len), dtype=np.float32)  # (n, T)

    def targets_of(self, x):
        x = x.reshape(len(x), -1).astype(np.float64)  # (n, T); a label must not depend on float32 summation order
        sums = np.cumsum(x, axis=1) if self.per_step else x.sum(axis=1)  # (n, T) or (n,)
        if self._on_labels:
            return (sums > self.config.threshold).astype(np.float32)
        return sums.astype(np.float32)

    def truth(self, y):
        """(n,) 0/1 labels of the whole sequence.

        For a regression target the label is float32(sum) > threshold; it differs from the float64
        label only for a sum within float32 rounding (~1e-7) of the threshold.
        """
        final = self.final_predictions(y)
        return final.astype(np.float32) if self._on_labels else (final > self.config.threshold).astype(np.float32)

    def decisions(self, predictions: np.ndarray) -> np.ndarray:
        """(n,) booleans: does the model say the sum is > threshold?"""
        return self.final_predictions(predictions) > (0.5 if self._on_labels else self.config.threshold)

    def correct(self, predictions, truth):
        return self.decisions(predictions) == (truth > 0.5)

    def check_truth(self, truth):
        if not np.all((truth == 0) | (truth == 1)):
            return f"labels must be 0 or 1, found {sorted(set(np.unique(truth).tolist()) - {0, 1})[:3]}"
        return None

    def baselines(self, y_train, y_test):
        truth_train, truth_test = self.truth(y_train), self.truth(y_test)
        majority = float(np.mean(truth_train) > 0.5)  # the more frequent answer in training
        rows = [{"name": "majority class", "accuracy": float(np.mean(truth_test == majority)), "loss": None}]
        if self.objective is REGRESSION:
            rows.append(predict_the_mean(self, y_train, y_test))
        return rows

    def describe(self):
        c = self.config
        target = "a target at every step (the running sum)" if self.per_step else "the target on the last step"
        trained = "the 0/1 label" if self._on_labels else "the sum itself"
        return (f"integration task: {c.seq_len} numbers from N(0, 1), is the sum > {c.threshold:g}? Trained on "
                f"{trained} with {self.objective.loss_name}, {target}")
