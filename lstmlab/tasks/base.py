"""What every task is: the protocol the data cache, the model, the trainer and the reports use.

A task is one module holding one `Task` subclass. The class says what its sequences look like
(input width, default length), which variants it has (`targets` x `objectives`, the first of each
the default), and how it generates them; an instance, made for one `TaskConfig`, knows its
variant's loss and read-out and how a prediction answers the task's question. Nothing outside a
task's own module compares its variant strings.

Shapes: x is (n, T) float32 for one input channel, (n, T, F) for F channels; targets are (n,) for a
final-step target, (n, T) for per-step targets; `truth` is (n,), the answer each sequence's last step
is scored against.
"""

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from lstmlab.errors import ConfigError
from lstmlab.tasks.objectives import Objective

SPLITS = ("train", "val", "test")
FINAL, PER_STEP = "final", "per-step"

Splits = dict[str, tuple[np.ndarray, np.ndarray]]


@dataclass
class Metrics:
    loss: float
    accuracy: float


class Task:
    """A sequence task. Subclasses set the class attributes and implement the methods marked so."""

    name: ClassVar[str]
    summary: ClassVar[str]  # one line for --help and reports
    input_width: ClassVar[int]  # input channels per step (F)
    default_seq_len: ClassVar[int]
    min_seq_len: ClassVar[int] = 1
    targets: ClassVar[tuple[str, ...]] = (FINAL,)
    objectives: ClassVar[dict[str, Objective]]
    # Task-specific settings of TaskConfig (besides seq_len, samples, seed, target, objective),
    # with their defaults; a setting of another task must be left unset.
    settings: ClassVar[dict[str, object]] = {}

    def __init__(self, config):
        self.config = config  # a TaskConfig, already checked by `check`

    # -- configuration ------------------------------------------------------------------------------

    @classmethod
    def defaults(cls) -> dict:
        """The values TaskConfig takes for fields left unset."""
        return {"seq_len": cls.default_seq_len, "target": cls.targets[0], "objective": next(iter(cls.objectives)),
                **cls.settings}

    @classmethod
    def check(cls, config) -> None:
        """Raise ConfigError for a value this task cannot take (after defaults are filled)."""
        if config.seq_len < cls.min_seq_len:
            raise ConfigError(f"the {cls.name} task needs seq_len >= {cls.min_seq_len}, got {config.seq_len}: "
                              "fix --seq-len")
        if not isinstance(config.target, str) or config.target not in cls.targets:
            raise ConfigError(f"the {cls.name} task has target {' or '.join(cls.targets)}, got {config.target!r}: "
                              "fix --target")
        if not isinstance(config.objective, str) or config.objective not in cls.objectives:
            raise ConfigError(f"the {cls.name} task has objective {' or '.join(cls.objectives)}, got "
                              f"{config.objective!r}: fix --objective")

    # -- data -----------------------------------------------------------------------------------------

    def generate(self) -> Splits:
        """All three splits as {split: (x, targets)}; byte-identical per seed.

        Each split draws from its own child of the seed, so changing one split's size leaves the
        others unchanged, and the inputs do not depend on the variant: every variant of a seed sees
        the same sequences.
        """
        c = self.config
        streams = np.random.SeedSequence(c.seed).spawn(len(SPLITS))
        data = {}
        for split, n, stream in zip(SPLITS, (c.n_train, c.n_val, c.n_test), streams):
            x = self.sample_inputs(n, np.random.default_rng(stream))
            data[split] = (x, self.targets_of(x))
        return data

    def sample_inputs(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """n input sequences of config.seq_len steps. Subclasses implement this."""
        raise NotImplementedError

    def targets_of(self, x: np.ndarray) -> np.ndarray:
        """The variant's training targets of inputs x (also used for a user's own sequences)."""
        raise NotImplementedError

    # -- training and scoring -------------------------------------------------------------------------

    @property
    def per_step(self) -> bool:
        """Does the variant have a target at every step (else only at the last)?"""
        return self.config.target == PER_STEP

    @property
    def objective(self) -> Objective:
        return self.objectives[self.config.objective]

    def loss(self, y, p, w):
        """The weighted training loss (keras.ops): targets y and predictions p, (B,) or (B, k); weights w (B,).

        Per-step targets average over their steps first, so every sample weighs the same.
        """
        from keras import ops

        per_element = self.objective.loss(y, p)
        per_sample = ops.mean(per_element, axis=-1) if len(per_element.shape) == 2 else per_element  # (B,)
        return ops.sum(per_sample * w) / ops.maximum(ops.sum(w), 1.0)

    def truth(self, y: np.ndarray) -> np.ndarray:
        """Targets of the variant -> (n,) the answer each sequence is scored against. Subclasses implement this."""
        raise NotImplementedError

    def correct(self, predictions: np.ndarray, truth: np.ndarray) -> np.ndarray:
        """Predictions (n,) or (n, T) and `truth` (n,) -> (n,) booleans: is the last step's answer right?"""
        raise NotImplementedError

    def check_truth(self, truth: np.ndarray) -> str | None:
        """Why values a user gave as `truth` cannot be (a sentence), or None if they can."""
        if not np.all(np.isfinite(truth)):
            return "contains NaN or infinite values"
        return None

    def score(self, predictions: np.ndarray, y: np.ndarray) -> Metrics:
        """The loss (as trained, in float64) and the accuracy of the last step's answer."""
        return Metrics(self.objective.numpy_loss(y, predictions), self.accuracy(predictions, self.truth(y)))

    def accuracy(self, predictions: np.ndarray, truth: np.ndarray) -> float:
        return float(np.mean(self.correct(predictions, truth)))

    def baselines(self, y_train: np.ndarray, y_test: np.ndarray) -> list[dict]:
        """Trivial predictors fitted on the training targets, scored on the test targets.

        Each is {"name", "accuracy", "loss"} (loss None where the baseline is no prediction of the
        trained kind). Subclasses implement this.
        """
        raise NotImplementedError

    def final_predictions(self, predictions: np.ndarray) -> np.ndarray:
        """(n,) or (n, T) -> (n,): the last step's prediction."""
        return predictions[:, -1] if predictions.ndim == 2 else predictions

    def describe(self) -> str:
        """One sentence: the task and its variant, for reports and figure titles. Subclasses implement this."""
        raise NotImplementedError


def predict_the_mean(task: Task, y_train: np.ndarray, y_test: np.ndarray) -> dict:
    """The constant prediction that minimises squared error on the training targets, scored on test."""
    constant = np.full_like(y_test, np.mean(y_train, axis=0, dtype=np.float64), dtype=np.float32)
    return {"name": "predict the mean", "accuracy": task.accuracy(constant, task.truth(y_test)),
            "loss": task.objective.numpy_loss(y_test, constant)}
