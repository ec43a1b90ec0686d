"""The adding problem (Hochreiter & Schmidhuber 1997, "Long short-term memory", experiment 4).

Each step is a pair (value, marker): the value is uniform in [-1, 1]; the marker is 1.0 at two
positions and 0.0 elsewhere, except -1.0 on the first and last step when those are not marked. The
first marked position is one of the first 10 steps, the second one of the first T/2 - 1 steps still
unmarked. The target, given on the last step only, is 0.5 + (X1 + X2) / 4, the two marked values'
sum scaled to [0, 1] (a marked first step's value is set to 0, as the paper does for X1). A
sequence counts as solved when the absolute error is < 0.04, as in the paper.

One difference from the paper: every sequence has exactly T steps (the paper drew lengths between
T and T + T/10), so that batches have one shape.

x (n, T, 2) float32: [..., 0] values, [..., 1] markers; y (n,) float32.
"""

import numpy as np

from lstmlab.tasks.base import Task, predict_the_mean
from lstmlab.tasks.objectives import REGRESSION

TOLERANCE = 0.04  # the paper's criterion: |prediction - target| < 0.04
FIRST_WINDOW = 10  # the first marked position is among the first 10 steps


class Adding(Task):
    name = "adding"
    summary = "output 0.5 + (X1 + X2) / 4 for the two marked values X1, X2"
    input_width = 2
    default_seq_len = 100
    # The second mark is among the first T/2 - 1 steps, which must leave room beyond the first 10.
    min_seq_len = 2 * (FIRST_WINDOW + 1)
    objectives = {"regression": REGRESSION}

    def sample_inputs(self, n, rng):
        t = self.config.seq_len
        values = rng.uniform(-1.0, 1.0, (n, t)).astype(np.float32)  # (n, T)
        first = rng.integers(0, FIRST_WINDOW, n)  # (n,)
        # One of the first T/2 - 1 unmarked positions: draw among T/2 - 1 slots, skip the first mark.
        second = rng.integers(0, t // 2 - 1, n)
        second = second + (second >= first)
        markers = np.zeros((n, t), np.float32)
        markers[:, 0] = markers[:, -1] = -1.0
        rows = np.arange(n)
        markers[rows, first] = 1.0
        markers[rows, second] = 1.0
        values[markers[:, 0] == 1.0, 0] = 0.0  # the paper's rule: a marked first step counts as 0
        return np.stack([values, markers], axis=-1)  # (n, T, 2)

    def targets_of(self, x):
        marked = np.where(x[..., 1] == 1.0, x[..., 0].astype(np.float64), 0.0)  # (n, T)
        return (0.5 + marked.sum(axis=1) / 4.0).astype(np.float32)

    def truth(self, y):
        return y

    def correct(self, predictions, truth):
        return np.abs(self.final_predictions(predictions).astype(np.float64) - truth) < TOLERANCE

    def baselines(self, y_train, y_test):
        return [predict_the_mean(self, y_train, y_test)]

    def describe(self):
        return (f"adding problem: {self.config.seq_len} steps of (value in [-1, 1], marker); output "
                f"0.5 + (X1 + X2) / 4 of the two marked values, solved when within {TOLERANCE} "
                f"(trained with {self.objective.loss_name})")
