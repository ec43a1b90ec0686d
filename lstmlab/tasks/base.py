"""What every task is: the protocol the data cache, the model, the trainer and the reports use.

A task is one module holding one `Task` subclass. The class says what its sequences look like
(input width, default length), which variants it has (`targets` x `objectives`, the first of each
the default), and how it generates them; an instance, made for one `TaskConfig`, knows its
variant's loss and read-out and how a prediction answers the task's question. Nothing outside a
task's own module compares its variant strings.

Shapes: x is (n, T) float32 for one input channel, (n, T, F) for F channels; targets are (n,) for a
final-step target, (n, T) for per-step targets; `truth` is (n,), the answer each sequence's last step
is scored against, or (n, m) for a task whose answer is m values (the copy task's m symbols).
Predictions have the targets' shape, plus a trailing axis of K class log-probabilities under a
categorical objective (the task's `classes`: a softmax read-out over K classes per step, given as
log-probabilities; the targets then class indices 0 .. K-1 held as float32).
"""

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from lstmlab.errors import ConfigError
from lstmlab.tasks.objectives import Objective

SPLITS = ("train", "val", "test")
# What every task's config has (config.TaskConfig); a task's own settings (Task.settings) sit beside them.
TASK_FIELDS = ("name", "seq_len", "n_train", "n_val", "n_test", "seed", "target", "objective")
FINAL, PER_STEP = "final", "per-step"

Splits = dict[str, tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class Setting:
    """One of a task's own settings (`Task.settings`): its default, one line of help, the values it takes.

    The setting's type is its default's (bool, int, float or str; an int is taken for a float). It
    reaches the command line as --NAME (underscores as dashes), config files and sweep specs as NAME
    beside the task's other fields, and the task's code as `self.config.NAME`.
    """

    default: bool | int | float | str
    help: str
    minimum: float | None = None  # inclusive bounds of a number
    maximum: float | None = None
    choices: tuple = ()  # the values allowed, where they are a fixed few

    @property
    def kind(self) -> type:
        return type(self.default)

    def check(self, name: str, value):
        """`value` as this setting's type, or ConfigError naming `name`."""
        kind = self.kind
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            raise ConfigError(f"{name} must be a {kind.__name__}, got {value!r}", field=name)
        if kind is float and not math.isfinite(value):
            raise ConfigError(f"{name} must be a finite number, got {value!r}", field=name)
        if (self.minimum is not None and value < self.minimum) or (self.maximum is not None and value > self.maximum):
            bounds = f"in [{self.minimum}, {self.maximum}]" if self.maximum is not None else f">= {self.minimum}"
            if self.minimum is None:
                bounds = f"<= {self.maximum}"
            raise ConfigError(f"{name} must be {bounds}, got {value!r}", field=name)
        if self.choices and value not in self.choices:
            raise ConfigError(f"{name} must be one of {', '.join(map(str, self.choices))}, got {value!r}", field=name)
        return value


@dataclass
class Metrics:
    loss: float
    accuracy: float


class Task:
    """A sequence task. Subclasses set the class attributes and implement the methods marked so."""

    name: ClassVar[str]
    summary: ClassVar[str]  # one line for --help and reports
    input_width: ClassVar[int]  # input channels per step (F); a property where a setting decides it
    # Classes per step (K) of a categorical objective's softmax read-out; a property where a setting
    # decides it. Unused by the other objectives, whose read-out is one unit.
    classes: ClassVar[int] = 1
    default_seq_len: ClassVar[int]
    min_seq_len: ClassVar[int] = 1
    targets: ClassVar[tuple[str, ...]] = (FINAL,)
    objectives: ClassVar[dict[str, Objective]]
    # The task's own settings, beyond what every task has (seq_len, samples, seed, target, objective):
    # TaskConfig.settings holds their values, each checked by its Setting.
    settings: ClassVar[dict[str, Setting]] = {}

    def __init__(self, config):
        self.config = config  # a TaskConfig, already checked by `check`

    # -- configuration ------------------------------------------------------------------------------

    @classmethod
    def defaults(cls) -> dict:
        """The values TaskConfig takes for fields left unset."""
        return {"seq_len": cls.default_seq_len, "target": cls.targets[0], "objective": next(iter(cls.objectives))}

    @classmethod
    def check_class(cls) -> None:
        """Raise ConfigError if the class itself is incomplete (a plug-in task written outside lstmlab)."""
        missing = [attr for attr in ("name", "summary", "input_width", "default_seq_len", "objectives")
                   if not hasattr(cls, attr)]
        if missing:
            raise ConfigError(f"task {cls.__name__} does not set {', '.join(missing)}: see tasks/base.py's Task")
        if not isinstance(cls.name, str) or not cls.name.replace("-", "_").isidentifier():
            raise ConfigError(f"task {cls.__name__}: name must be a short identifier (it names cache entries), "
                              f"got {cls.name!r}")
        for name, setting in cls.settings.items():
            if not isinstance(setting, Setting):
                raise ConfigError(f"task {cls.name}: settings[{name!r}] must be a lstmlab.tasks.Setting, got "
                                  f"{setting!r}")
            if name in TASK_FIELDS or not name.isidentifier():
                raise ConfigError(f"task {cls.name}: a setting cannot be called {name!r} (every task has "
                                  f"{', '.join(TASK_FIELDS)})")

    @classmethod
    def least_seq_len(cls, config) -> int:
        """The shortest sequence `config`'s settings allow: `min_seq_len` (that of the default settings) unless
        the task says otherwise."""
        return cls.min_seq_len

    @classmethod
    def check(cls, config) -> None:
        """Raise ConfigError for a value this task cannot take (after defaults are filled)."""
        if config.seq_len < cls.least_seq_len(config):
            raise ConfigError(f"the {cls.name} task needs seq_len >= {cls.least_seq_len(config)}, got {config.seq_len}",
                              field="seq_len")
        if not isinstance(config.target, str) or config.target not in cls.targets:
            raise ConfigError(f"the {cls.name} task has target {' or '.join(cls.targets)}, got {config.target!r}",
                              field="target")
        if not isinstance(config.objective, str) or config.objective not in cls.objectives:
            raise ConfigError(f"the {cls.name} task has objective {' or '.join(cls.objectives)}, got "
                              f"{config.objective!r}", field="objective")
        if cls.objectives[config.objective].categorical and not _at_least_two(cls(config).classes):
            raise ConfigError(f"task {cls.name}: a categorical objective needs classes >= 2 (the softmax's width), "
                              f"got {cls(config).classes!r}")

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

    @property
    def read_out_width(self) -> int:
        """Read-out units per step: K (`classes`) under a categorical objective, else 1."""
        return self.classes if self.objective.categorical else 1

    def loss(self, y, p, w):
        """The weighted training loss (keras.ops): targets y (B,) or (B, k), predictions p of y's shape (plus
        K classes under a categorical objective); weights w (B,).

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
        """Predictions (n,) or (n, T) and `truth` (n,) -> (n,) booleans: is the last step's answer right?
        ((n, m) booleans for an answer of m values; accuracy is the mean of them all.)"""
        raise NotImplementedError

    def check_inputs(self, x: np.ndarray) -> str | None:
        """Why sequences x (n, T, F) a user brings cannot be this task's (a sentence), or None if they can."""
        return None

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
        """(n,) or (n, T) -> (n,): the last step's prediction (a task answering m values: (n, m))."""
        return predictions[:, -1] if predictions.ndim == 2 else predictions

    def describe(self) -> str:
        """One sentence: the task and its variant, for reports and figure titles. Subclasses implement this."""
        raise NotImplementedError


def _at_least_two(classes) -> bool:
    return isinstance(classes, int) and not isinstance(classes, bool) and classes >= 2


def predict_the_mean(task: Task, y_train: np.ndarray, y_test: np.ndarray) -> dict:
    """The constant prediction that minimises squared error on the training targets, scored on test."""
    constant = np.full_like(y_test, np.mean(y_train, axis=0, dtype=np.float64), dtype=np.float32)
    return {"name": "predict the mean", "accuracy": task.accuracy(constant, task.truth(y_test)),
            "loss": task.objective.numpy_loss(y_test, constant)}
