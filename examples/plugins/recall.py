"""A task of your own, in a file of its own: recall the number seen `delay` steps before the end.

Every step shows a number drawn from N(0, 1); on the last step the network answers with the number it
saw `delay` steps earlier. The task has a setting of its own, `delay`, which reaches the command line
(`--delay 5`), config files and sweep specs as any other field does:

    lstmlab run --task examples/plugins/recall.py:Recall --delay 3 --cell lstm --layers 1

A memory task where the answer is neither a sum nor a threshold: an integrator cannot solve it, a
network must hold one value while later ones pass.

x (n, T) float32; y (n,) float32: x[:, T - 1 - delay].
"""

import numpy as np

from lstmlab.tasks import Setting, Task
from lstmlab.tasks.base import predict_the_mean
from lstmlab.tasks.objectives import REGRESSION

TOLERANCE = 0.1  # an answer within 0.1 of the recalled number counts as right (the numbers' sd is 1)


class Recall(Task):
    name = "recall"
    summary = "output the number seen `delay` steps before the last"
    input_width = 1
    default_seq_len = 20
    objectives = {"regression": REGRESSION}
    settings = {"delay": Setting(5, "how many steps before the last the number to recall was seen", minimum=0)}

    @classmethod
    def check(cls, config) -> None:
        super().check(config)
        if config.delay >= config.seq_len:
            from lstmlab.errors import ConfigError

            raise ConfigError(f"delay {config.delay} must be shorter than the sequence ({config.seq_len} steps)",
                              field="delay")

    def sample_inputs(self, n, rng):
        return rng.standard_normal((n, self.config.seq_len), dtype=np.float32)  # (n, T)

    def targets_of(self, x):
        return x[:, x.shape[1] - 1 - self.config.delay].astype(np.float32)  # (n,)

    def truth(self, y):
        return y

    def correct(self, predictions, truth):
        return np.abs(self.final_predictions(predictions).astype(np.float64) - truth) < TOLERANCE

    def baselines(self, y_train, y_test):
        return [predict_the_mean(self, y_train, y_test)]

    def describe(self):
        return (f"recall: {self.config.seq_len} N(0, 1) numbers; output the one {self.config.delay} steps before "
                f"the last, right within {TOLERANCE} (trained with {self.objective.loss_name})")
