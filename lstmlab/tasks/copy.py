"""The copy task (Arjovsky, Shah & Bengio 2016, "Unitary evolution recurrent neural networks", after
Hochreiter & Schmidhuber 1997): remember m symbols over a delay of T steps, then write them out.

With m = `symbols` (10) drawn uniformly from an alphabet of A = `alphabet` (8), each step's input is
one of A + 2 categories, one-hot: 0 the blank, 1 .. A the symbols, A + 1 the delimiter. A sequence
of seq_len = T + 2m steps (the paper's T + 20) is, 0-based:

    steps 0 .. m-1              the m symbols                 target: blank
    steps m .. m+T-2            T - 1 blanks                  target: blank
    step  m+T-1                 the delimiter (T + 9 for m = 10)   target: blank
    steps m+T .. T+2m-1         m blanks                      target: the m symbols, in order

So `--seq-len` is the whole sequence: the paper's T = 100 is seq_len 120, and T = seq_len - 2m.
The target is a class at every step (K = A + 1 classes: the blank and the A symbols; the delimiter
is never an answer), trained with a softmax read-out (log-probabilities, `objectives.CATEGORICAL`)
under cross-entropy averaged over all T + 2m steps, as the paper reports it. A model that remembers nothing can still write blanks until the
delimiter and then guess: its best loss is m ln A / (T + 2m), the paper's baseline 10 ln 8 / (T + 20).
Accuracy is the fraction of the m output symbols right (over all sequences).

x (n, T + 2m, A + 2) float32 one-hot; y (n, T + 2m) float32 class indices; truth (n, m) the symbols.
"""

import math

import numpy as np

from lstmlab.tasks.base import PER_STEP, Setting, Task
from lstmlab.tasks.objectives import CATEGORICAL

BLANK = 0


class Copy(Task):
    name = "copy"
    summary = "write out the first `symbols` inputs after a delimiter, T steps later"
    default_seq_len = 120  # T = 100, the paper's shortest delay
    min_seq_len = 21  # 2m + 1 for the default m = 10 (T = 1); `least_seq_len` gives it for the m set
    targets = (PER_STEP,)
    objectives = {"categorical": CATEGORICAL}
    settings = {
        "symbols": Setting(10, "how many symbols a sequence starts with and the model writes out", minimum=1),
        "alphabet": Setting(8, "how many different symbols there are", minimum=2),
    }

    @property
    def input_width(self) -> int:
        return self.config.alphabet + 2  # blank, the symbols, the delimiter

    @property
    def classes(self) -> int:
        return self.config.alphabet + 1  # blank and the symbols

    @property
    def delay(self) -> int:
        """T: the steps from the last symbol to the delimiter, inclusive."""
        return self.config.seq_len - 2 * self.config.symbols

    @classmethod
    def least_seq_len(cls, config) -> int:
        return 2 * config.symbols + 1  # the symbols, a delay T >= 1 ending in the delimiter, the answer

    def sample_inputs(self, n, rng):
        m, t = self.config.symbols, self.config.seq_len
        categories = np.zeros((n, t), np.int64)  # (n, T + 2m), blanks
        categories[:, :m] = rng.integers(1, self.config.alphabet + 1, (n, m))
        categories[:, t - m - 1] = self.input_width - 1  # the delimiter
        return np.eye(self.input_width, dtype=np.float32)[categories]  # (n, T + 2m, A + 2)

    def targets_of(self, x):
        m = self.config.symbols
        categories = np.argmax(x, axis=-1)  # (n, L): any length L >= 2m + 1 (a user's own sequences)
        y = np.zeros(categories.shape, np.float32)
        y[:, -m:] = categories[:, :m]
        return y

    def truth(self, y):
        return y[:, -self.config.symbols:]  # (n, m)

    def final_predictions(self, predictions):
        """(n, L, K) log-probabilities -> (n, m) the symbols written out (the most probable class)."""
        return np.argmax(predictions[:, -self.config.symbols:], axis=-1).astype(np.float32)

    def correct(self, predictions, truth):
        return self.final_predictions(predictions) == truth  # (n, m)

    def check_inputs(self, x):
        m = self.config.symbols
        if x.shape[1] < 2 * m + 1:
            return f"copy sequences need at least 2 x symbols + 1 = {2 * m + 1} steps, got {x.shape[1]}"
        if not np.all((x == 0) | (x == 1)) or not np.all(x.sum(axis=-1) == 1):
            return f"every step must be one-hot over the {self.input_width} categories (blank, symbols, delimiter)"
        return None

    def check_truth(self, truth):
        problem = super().check_truth(truth)
        if problem is None and not np.all((truth == np.round(truth)) & (truth >= 1) & (truth <= self.config.alphabet)):
            problem = f"symbols must be whole numbers 1 to {self.config.alphabet}"
        return problem

    def baselines(self, y_train, y_test):
        """Memoryless: blanks, then at each output step the uniform guess (the least loss without memory,
        m ln A / L) and the symbol most frequent in training as its answer."""
        m, a = self.config.symbols, self.config.alphabet
        p = np.zeros((*y_test.shape, self.classes), np.float64)  # (n, L, K) probabilities
        p[:, :-m, BLANK] = 1.0
        p[:, -m:, 1:] = 1.0 / a
        p = np.log(np.maximum(p, 1e-300))  # the read-out's log-probabilities; exp(-690) adds nothing to the loss
        counts = np.bincount(self.truth(y_train).astype(np.int64).ravel(), minlength=a + 1)
        guess = float(np.argmax(counts[1:]) + 1)
        return [{"name": "memoryless", "accuracy": float(np.mean(self.truth(y_test) == guess)),
                 "loss": self.objective.numpy_loss(y_test, p)}]

    def memoryless_loss(self) -> float:
        """m ln A / (T + 2m): the paper's baseline, 10 ln 8 / (T + 20)."""
        return self.config.symbols * math.log(self.config.alphabet) / self.config.seq_len

    def describe(self):
        c = self.config
        return (f"copy task: {c.symbols} symbols of {c.alphabet}, a delay of T = {self.delay} steps ending in a "
                f"delimiter, then the symbols written out ({c.seq_len} steps; {self.objective.loss_name} over every "
                f"step, memoryless loss {self.memoryless_loss():.4f})")
