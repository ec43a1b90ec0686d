"""Hochreiter & Schmidhuber's (1997) stopping rule for the adding problem (`--stop paper`), and its test.

Training stops once the average training error is below 0.01 and the last 2,000 training sequences
were all within 0.04 of their targets. lstmlab reads "average training error" as the mean squared
error over those same 2,000 sequences, and a sequence's error as the training forward pass's (the
prediction its update started from, `Trainer.predictions`), as an online learner scores it. The rule
is checked at the end of every batch (the paper checked after every sequence: sequences of a batch
share their weights), from the errors of every compiled call, so the count of sequences at which it
first held (`sequences_to_criterion`) does not depend on `steps_per_call`; training itself stops at
the end of that call. Then `fresh_test` scores the final weights on 2,560 fresh sequences (a set of
their own, seeded by the data seed; not the cached test set), counting failures |error| >= 0.04
(the paper: never more than 3).
"""

import numpy as np

from lstmlab.tasks.adding import TOLERANCE  # the paper's 0.04, which also scores the adding task

WINDOW = 2_000  # sequences that must all be within TOLERANCE
MEAN_SQUARED = 0.01  # the bound on their mean squared error
TEST_SEQUENCES = 2_560
TEST_KEY = 0x7E57  # joined to the data seed: the fresh test set's own draws


class PaperCriterion:
    """The rule's state: the last WINDOW errors, the sequences seen, where the rule first held (or None).

    `state()` is JSON-able and `PaperCriterion(**state)` rebuilds it, so a checkpoint carries it and a
    resumed run stops exactly where an uninterrupted one does.
    """

    def __init__(self, recent=(), seen: int = 0, met_at: int | None = None):
        self.recent = np.asarray(recent, np.float64)[-WINDOW:]
        self.seen, self.met_at = int(seen), met_at

    def feed(self, errors: np.ndarray, weights: np.ndarray) -> bool:
        """One call's errors (S, B) (prediction - target) with weights (S, B) (0: a padding row); True
        once the rule has held at the end of some batch (`met_at`: the sequences seen by then)."""
        real = weights > 0
        ends = np.cumsum(real.sum(axis=1))  # (S,): sequences of this call by the end of each batch
        fresh = np.asarray(errors, np.float64)[real]  # in training order
        every = np.concatenate([self.recent, fresh])
        offset = len(self.recent)  # every[offset + i] is this call's i-th sequence
        if self.met_at is None:
            # At batch end e (an index into `every`): the window is every[e - WINDOW: e].
            stops = offset + ends
            stops = stops[stops >= WINDOW]
            if len(stops):
                squares = np.concatenate([[0.0], np.cumsum(np.square(every))])
                mse = (squares[stops] - squares[stops - WINDOW]) / WINDOW
                bad = np.where(np.abs(every) >= TOLERANCE, np.arange(len(every)), -1)
                last_bad = np.maximum.accumulate(bad)[stops - 1]  # the last failure before each end
                held = (mse < MEAN_SQUARED) & (last_bad < stops - WINDOW)
                if held.any():
                    self.met_at = self.seen + int(stops[np.argmax(held)]) - offset
        self.recent = every[-WINDOW:]
        self.seen += len(fresh)
        return self.met_at is not None

    def state(self) -> dict:
        return {"recent": self.recent.tolist(), "seen": self.seen, "met_at": self.met_at}


def fresh_test(trainer, task) -> dict:
    """The trained model on TEST_SEQUENCES fresh sequences of `task` (its config's length and seed):
    {"test_sequences", "test_failures": |error| >= TOLERANCE, "test_max_error"}."""
    rng = np.random.default_rng(np.random.SeedSequence([task.config.seed, TEST_KEY]))
    x = task.sample_inputs(TEST_SEQUENCES, rng)
    errors = np.abs(trainer.predict(x).astype(np.float64) - task.targets_of(x))
    return {"test_sequences": TEST_SEQUENCES, "test_failures": int(np.sum(errors >= TOLERANCE)),
            "test_max_error": float(errors.max())}
