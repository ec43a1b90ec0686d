"""Typed configuration: frozen dataclasses whose defaults reproduce the reference experiment.

A run writes its `RunConfig` as JSON into its output directory; `RunConfig.from_dict` rebuilds it,
so the file alone is enough to repeat the run. Fields a task decides (its default length, variant
and settings) may be left None and are filled in from the task, so a stored config is complete.
"""

import dataclasses
import math
from dataclasses import dataclass, field

from lstmlab import cells, tasks
from lstmlab.core.tbptt import SCHEMES
from lstmlab.errors import ConfigError

LR_SCHEDULES = ("constant", "cosine")  # TrainConfig.lr_schedule

# Seeds are kept below a million: a model's initializer seeds are seed * 1000 + small offsets, which
# must stay inside the 32-bit range the initializers accept.
MAX_SEED = 999_999

# A run's settings under flat names, as the command line's flags and a sweep spec spell them -> where
# each one goes in RunConfig.to_dict().
FIELDS = {
    "task": ("task", "name"), "seq_len": ("task", "seq_len"), "threshold": ("task", "threshold"),
    "target": ("task", "target"), "objective": ("task", "objective"), "n_train": ("task", "n_train"),
    "n_val": ("task", "n_val"), "n_test": ("task", "n_test"), "data_seed": ("task", "seed"),
    "cells": ("cells",), "layers": ("layers",), "units": ("units",),
    "epochs": ("train", "epochs"), "batch_size": ("train", "batch_size"), "lr": ("train", "learning_rate"),
    "lr_schedule": ("train", "lr_schedule"),
    "init_seed": ("train", "init_seed"), "tbptt": ("train", "tbptt"), "tbptt_every": ("train", "tbptt_every"),
    "tbptt_scheme": ("train", "tbptt_scheme"), "devices": ("train", "devices"),
    "steps_per_call": ("train", "steps_per_call"), "eval_batch_size": ("train", "eval_batch_size"),
    "checkpoint_every": ("train", "checkpoint_every"),
}


def with_values(base: dict, values: dict) -> dict:
    """`base` (a RunConfig dict, possibly partial) with `values` ({path in the dict: value}) put in."""
    merged = {key: dict(value) if isinstance(value, dict) else value for key, value in base.items()}
    for path, value in values.items():
        where = merged
        for key in path[:-1]:
            where = where.setdefault(key, {})
        where[path[-1]] = list(value) if isinstance(value, tuple) else value
    return merged


@dataclass(frozen=True)
class TaskConfig:
    """Which task (`name`, see lstmlab.tasks), its variant, sequence length, split sizes and data seed.

    `target` "final" asks about the whole sequence on its last step; "per-step" at every step.
    `objective` "classification" trains a probability with cross-entropy, "regression" a value with
    squared error, "label-regression" (integration) a value with squared error on the 0/1 label. `threshold` belongs to the integration task (label: sum > threshold).
    """

    name: str = "integration"
    seq_len: int | None = None
    threshold: float | None = None
    n_train: int = 64_000
    n_val: int = 16_000
    n_test: int = 16_000
    seed: int = 0
    target: str | None = None
    objective: str | None = None

    def __post_init__(self):
        task = tasks.get(self.name)
        for key, value in task.defaults().items():
            if getattr(self, key) is None:
                object.__setattr__(self, key, value)
        others = {key for other in tasks.TASKS.values() for key in other.settings} - set(task.settings)
        for key in sorted(others):  # another task's setting must be left unset
            if getattr(self, key) is not None:
                raise ConfigError(f"{key} does not apply to the {self.name} task: drop --{key}")
        _positive_int("seq_len", self.seq_len, "--seq-len")
        for name in ("n_train", "n_val", "n_test"):
            _positive_int(name, getattr(self, name), "--samples TRAIN,VAL,TEST")
        _seed(self.seed, "--data-seed or --seed")
        task.check(self)  # the variant, the length and the task's own settings


@dataclass(frozen=True)
class ModelConfig:
    """A stack of `layers` recurrent layers of `cell` with `units` each, and a read-out."""

    cell: str = "lstm"
    layers: int = 1
    units: int = 25

    def __post_init__(self):
        cells.check(self.cell)
        _positive_int("layers", self.layers, "--layers")
        _positive_int("units", self.units, "--units")

    @property
    def name(self) -> str:
        return f"{self.cell}-{self.layers}layer"


@dataclass(frozen=True)
class TrainConfig:
    """Adam on the task's loss, a fresh seeded shuffle every epoch."""

    epochs: int = 3
    batch_size: int = 32
    learning_rate: float = 1e-3
    # "constant", or "cosine": from learning_rate down to 0 over the run's updates (keras CosineDecay), so
    # the last updates are small and the run ends at a point of the loss, not in Adam's noise around it.
    lr_schedule: str = "constant"
    init_seed: int = 0  # the initial weights and each epoch's shuffle
    # Train steps per compiled call: amortises dispatch; also how often the progress bar moves.
    steps_per_call: int = 250
    eval_batch_size: int = 1024
    # Save a checkpoint every this many steps (and at every epoch end); 0: at epoch ends only.
    checkpoint_every: int = 1000
    # Truncated BPTT (core/tbptt.py): every loss backpropagates through its last `tbptt` steps (k2);
    # per-step targets update every `tbptt_every` steps (k1; 0: every k2). Scheme "chunked": chunks of
    # `tbptt` steps from the start, the gradient stopped between them. 0: full BPTT.
    tbptt: int = 0
    tbptt_every: int = 0
    tbptt_scheme: str = "per-loss"
    # Split every batch over this many CPU devices (data parallel, gradients summed across them).
    # Part of the configuration, so the same config gives the same numbers wherever it runs; the sum
    # is taken in another order than on one device, so 1 and 2 agree only to float32 rounding.
    devices: int = 1

    def __post_init__(self):
        _positive_int("epochs", self.epochs, "--epochs")
        _positive_int("batch_size", self.batch_size, "--batch-size")
        _positive_int("steps_per_call", self.steps_per_call, "--steps-per-call")
        _positive_int("eval_batch_size", self.eval_batch_size, "--eval-batch-size")
        _seed(self.init_seed, "--init-seed or --seed")
        _non_negative_int("checkpoint_every", self.checkpoint_every, "--checkpoint-every")
        _non_negative_int("tbptt", self.tbptt, "--tbptt")
        _non_negative_int("tbptt_every", self.tbptt_every, "--tbptt-every")
        if self.tbptt_scheme not in SCHEMES:
            raise ConfigError(f"tbptt_scheme must be one of {', '.join(SCHEMES)}, got {self.tbptt_scheme!r}: "
                              "fix --tbptt-scheme")
        if self.tbptt_scheme == "chunked" and self.tbptt_every:
            raise ConfigError("tbptt_every applies to the per-loss scheme (chunks update once each): drop "
                              "--tbptt-every or use --tbptt-scheme per-loss")
        _positive_int("devices", self.devices, "--devices")
        if self.batch_size % self.devices:
            raise ConfigError(f"batch_size {self.batch_size} does not split evenly over {self.devices} devices: "
                              "fix --batch-size or --devices")
        _finite("learning_rate", self.learning_rate, "--lr")
        if self.learning_rate <= 0:
            raise ConfigError(f"learning_rate must be > 0, got {self.learning_rate}: pass e.g. --lr 0.001")
        if self.lr_schedule not in LR_SCHEDULES:
            raise ConfigError(f"lr_schedule must be one of {', '.join(LR_SCHEDULES)}, got {self.lr_schedule!r}: "
                              "fix --lr-schedule")


@dataclass(frozen=True)
class RunConfig:
    """One experiment: a task, the models to compare on it (every cell x every depth), training."""

    task: TaskConfig = field(default_factory=TaskConfig)
    cells: tuple[str, ...] = ("lstm",)
    layers: tuple[int, ...] = (1, 2)
    units: int = 25
    train: TrainConfig = field(default_factory=TrainConfig)

    def __post_init__(self):
        for name, flag, example, kind in (("cells", "--cell", "lstm,gru", str), ("layers", "--layers", "1,2", int)):
            value = getattr(self, name)
            if (isinstance(value, str) or not isinstance(value, (list, tuple)) or not value
                    or any(isinstance(v, bool) or not isinstance(v, kind) for v in value)):
                raise ConfigError(f"{name} must be a non-empty list of {kind.__name__}s, got {value!r}: pass e.g. "
                                  f"{flag} {example}")
            if len(set(value)) != len(value):
                raise ConfigError(f"{name} lists an entry twice ({list(value)}): fix {flag}")
            object.__setattr__(self, name, tuple(value))
        self.models  # raises ConfigError for a bad entry
        if min(self.task.n_train, self.task.n_val, self.task.n_test) < self.train.batch_size:
            raise ConfigError(
                f"every split needs at least one batch of {self.train.batch_size} samples, got "
                f"{self.task.n_train},{self.task.n_val},{self.task.n_test}: raise --samples or lower --batch-size"
            )

    @property
    def models(self) -> list[ModelConfig]:
        """One model per cell and depth, cell-major: lstm-1layer, lstm-2layer, gru-1layer, ..."""
        return [ModelConfig(cell=c, layers=n, units=self.units) for c in self.cells for n in self.layers]

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "RunConfig":
        """Rebuild from `to_dict` output; unknown keys are an error, missing keys take defaults."""
        if not isinstance(d, dict):
            raise ConfigError(f"a run config must be a JSON object, got {type(d).__name__}")
        d = dict(d)
        task = _build(TaskConfig, d.pop("task", {}), "task")
        train = _build(TrainConfig, d.pop("train", {}), "train")
        return _build(cls, d, "run", task=task, train=train)


def _build(cls, values, where: str, **extra):
    if not isinstance(values, dict):
        raise ConfigError(f"the {where} config must be a JSON object, got {type(values).__name__}")
    known = {f.name for f in dataclasses.fields(cls)} - set(extra)
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(f"unknown {where} config key(s) {unknown}; known keys are {sorted(known)}")
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
    try:
        return cls(**values, **extra)
    except TypeError as err:  # a value of a type no check expected (a list where a name goes, ...)
        raise ConfigError(f"the {where} config holds a value of the wrong type ({err})") from None


def _positive_int(name, value, flag):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{name} must be a positive integer, got {value!r}: fix {flag}")


def _non_negative_int(name, value, flag):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"{name} must be a non-negative integer, got {value!r}: fix {flag}")


def _seed(value, flag):
    _non_negative_int("seed", value, flag)
    if value > MAX_SEED:
        raise ConfigError(f"seed must be at most {MAX_SEED:,}, got {value}: fix {flag}")


def _finite(name, value, flag):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"{name} must be a finite number, got {value!r}: fix {flag}")
