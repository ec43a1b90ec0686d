"""Typed configuration: frozen dataclasses whose defaults reproduce the reference experiment.

A run writes its `RunConfig` as JSON into its output directory; `RunConfig.from_dict` rebuilds it,
so the file alone is enough to repeat the run.
"""

import dataclasses
import math
from dataclasses import dataclass, field

from lstmlab.errors import UserError


class ConfigError(UserError, ValueError):
    """A configuration value a user gave is invalid; the message says which and how to fix it."""


TARGETS = ("final", "per-step")
OBJECTIVES = ("classification", "regression")


@dataclass(frozen=True)
class TaskConfig:
    """The integration task: label 1 when the sum of `seq_len` N(0, 1) numbers exceeds `threshold`.

    `target` "final" asks about the whole sequence, on its last step; "per-step" asks at every step
    t about the running sum up to t. `objective` "classification" trains on the 0/1 label with
    binary cross-entropy; "regression" trains on the sum itself with mean squared error, and its
    prediction is thresholded at `threshold` to score accuracy.
    """

    seq_len: int = 25
    threshold: float = 1.0
    n_train: int = 64_000
    n_val: int = 16_000
    n_test: int = 16_000
    seed: int = 0
    target: str = "final"
    objective: str = "classification"

    def __post_init__(self):
        _positive_int("seq_len", self.seq_len, "--seq-len")
        for name in ("n_train", "n_val", "n_test"):
            _positive_int(name, getattr(self, name), "--samples TRAIN,VAL,TEST")
        _finite("threshold", self.threshold, "--threshold")
        _non_negative_int("seed", self.seed, "--seed")
        _one_of("target", self.target, TARGETS, "--target")
        _one_of("objective", self.objective, OBJECTIVES, "--objective")


@dataclass(frozen=True)
class ModelConfig:
    """A stack of `layers` LSTM layers of `units` each and a read-out (its kind follows the task variant)."""

    layers: int = 1
    units: int = 25

    def __post_init__(self):
        _positive_int("layers", self.layers, "--layers")
        _positive_int("units", self.units, "--units")

    @property
    def name(self) -> str:
        return f"lstm-{self.layers}layer"


@dataclass(frozen=True)
class TrainConfig:
    """Adam on the task's loss, a fresh seeded shuffle every epoch."""

    epochs: int = 3
    batch_size: int = 32
    learning_rate: float = 1e-3
    seed: int = 0
    # Train steps per compiled call: amortises dispatch; also how often the progress bar moves.
    steps_per_call: int = 250
    eval_batch_size: int = 1024
    # Save a checkpoint every this many steps (and at every epoch end); 0: at epoch ends only.
    checkpoint_steps: int = 1000
    # Truncated BPTT: process sequences in chunks of this many steps, the state carried between
    # chunks with its gradient stopped, an update after every chunk with a loss; 0: full BPTT.
    tbptt: int = 0

    def __post_init__(self):
        _positive_int("epochs", self.epochs, "--epochs")
        _positive_int("batch_size", self.batch_size, "--batch-size")
        _positive_int("steps_per_call", self.steps_per_call, "--steps-per-call")
        _positive_int("eval_batch_size", self.eval_batch_size, "--eval-batch-size")
        _non_negative_int("seed", self.seed, "--seed")
        _non_negative_int("checkpoint_steps", self.checkpoint_steps, "--checkpoint-every")
        _non_negative_int("tbptt", self.tbptt, "--tbptt")
        _finite("learning_rate", self.learning_rate, "--lr")
        if self.learning_rate <= 0:
            raise ConfigError(f"learning_rate must be > 0, got {self.learning_rate}: pass e.g. --lr 0.001")


@dataclass(frozen=True)
class RunConfig:
    """One experiment: a task, the models to compare on it (one per entry of `layers`), training."""

    task: TaskConfig = field(default_factory=TaskConfig)
    layers: tuple[int, ...] = (1, 2)
    units: int = 25
    train: TrainConfig = field(default_factory=TrainConfig)

    def __post_init__(self):
        if not self.layers:
            raise ConfigError("layers is empty: pass e.g. --layers 1,2")
        object.__setattr__(self, "layers", tuple(self.layers))
        for layers in self.layers:
            ModelConfig(layers=layers, units=self.units)  # raises ConfigError for a bad entry
        if min(self.task.n_train, self.task.n_val, self.task.n_test) < self.train.batch_size:
            raise ConfigError(
                f"every split needs at least one batch of {self.train.batch_size} samples, got "
                f"{self.task.n_train},{self.task.n_val},{self.task.n_test}: raise --samples or lower --batch-size"
            )

    @property
    def models(self) -> list[ModelConfig]:
        return [ModelConfig(layers=n, units=self.units) for n in self.layers]

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "RunConfig":
        """Rebuild from `to_dict` output; unknown keys are an error, missing keys take defaults."""
        d = dict(d)
        task = _build(TaskConfig, d.pop("task", {}), "task")
        train = _build(TrainConfig, d.pop("train", {}), "train")
        return _build(cls, d, "run", task=task, train=train)


def _build(cls, values: dict, where: str, **extra):
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(f"unknown {where} config key(s) {unknown}; known keys are {sorted(known)}")
    if "layers" in values:
        values = {**values, "layers": tuple(values["layers"])}
    return cls(**values, **extra)


def _positive_int(name, value, flag):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{name} must be a positive integer, got {value!r}: fix {flag}")


def _non_negative_int(name, value, flag):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"{name} must be a non-negative integer, got {value!r}: fix {flag}")


def _finite(name, value, flag):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"{name} must be a finite number, got {value!r}: fix {flag}")


def _one_of(name, value, choices, flag):
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {value!r}: fix {flag}")
