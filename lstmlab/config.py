"""Typed configuration: frozen dataclasses whose defaults reproduce the reference experiment.

A run writes its `RunConfig` as JSON into its output directory; `RunConfig.from_dict` rebuilds it,
so the file alone is enough to repeat the run. Fields a task decides (its default length, variant
and settings) may be left None and are filled in from the task, so a stored config is complete.
"""

import dataclasses
import math
from dataclasses import dataclass, field

from lstmlab import cells, tasks
from lstmlab.errors import ConfigError
from lstmlab.tasks.base import TASK_FIELDS

LR_SCHEDULES = ("constant", "cosine")  # TrainConfig.lr_schedule
TBPTT_SCHEMES = ("per-loss", "chunked", "williams-peng")  # TrainConfig.tbptt_scheme; core/tbptt.py implements them
INITS = ("default", "chrono")  # TrainConfig.init; core/gate_init.py implements them
STOPS = ("epochs", "paper")  # TrainConfig.stop; core/criterion.py implements the paper's rule

# Seeds are kept below a million: a model's initializer seeds are seed * 1000 + small offsets, which
# must stay inside the 32-bit range the initializers accept.
MAX_SEED = 999_999

# A run's settings under flat names, as the command line's flags and a sweep spec spell them -> where
# each one goes in RunConfig.to_dict(). A task's own settings join them under their names (`fields`).
FIELDS = {
    "task": ("task", "name"), "seq_len": ("task", "seq_len"),
    "target": ("task", "target"), "objective": ("task", "objective"), "n_train": ("task", "n_train"),
    "n_val": ("task", "n_val"), "n_test": ("task", "n_test"), "data_seed": ("task", "seed"),
    "cells": ("cells",), "layers": ("layers",), "units": ("units",),
    "epochs": ("train", "epochs"), "batch_size": ("train", "batch_size"), "lr": ("train", "learning_rate"),
    "lr_schedule": ("train", "lr_schedule"),
    "init_seed": ("train", "init_seed"), "tbptt": ("train", "tbptt"), "tbptt_every": ("train", "tbptt_every"),
    "tbptt_scheme": ("train", "tbptt_scheme"), "devices": ("train", "devices"),
    "steps_per_call": ("train", "steps_per_call"), "eval_batch_size": ("train", "eval_batch_size"),
    "checkpoint_every": ("train", "checkpoint_every"),
    "forget_bias": ("train", "forget_bias"), "init": ("train", "init"), "chrono_max": ("train", "chrono_max"),
    "clip_norm": ("train", "clip_norm"), "stream": ("train", "stream"), "stop": ("train", "stop"),
}
# Train keys of files written before they were renamed -> today's names (config.json, study.json).
RENAMED_TRAIN = {"seed": "init_seed", "checkpoint_steps": "checkpoint_every"}


def steps_per_epoch(n: int, batch_size: int) -> int:
    """Train steps (batches) in an epoch of n samples: the last one partial when batch_size does not divide n."""
    return -(-n // batch_size)


def fields(*task_classes) -> dict:
    """FIELDS and the own settings of `task_classes`, flat name -> path in RunConfig.to_dict()."""
    found = dict(FIELDS)
    for task in task_classes:
        found.update({name: ("task", name) for name in task.settings})
    return found


def with_values(base: dict, values: dict) -> dict:
    """`base` (a RunConfig dict, possibly partial) with `values` ({path in the dict: value}) put in."""
    merged = {key: dict(value) if isinstance(value, dict) else value for key, value in base.items()}
    for path, value in values.items():
        where = merged
        for key in path[:-1]:
            where = where.setdefault(key, {})
        where[path[-1]] = list(value) if isinstance(value, tuple) else value
    return merged


class Settings(dict):
    """A task's own settings {name: value}: a dict that cannot change, so a config stays hashable."""

    def __hash__(self):
        return hash(tuple(sorted(self.items())))

    def _frozen(self, *args, **kwargs):
        raise TypeError("a TaskConfig's settings cannot change: use dataclasses.replace(config, settings={...})")

    __setitem__ = __delitem__ = update = pop = popitem = clear = setdefault = __ior__ = _frozen

    def __reduce__(self):  # pickle (to a worker) rebuilds it whole: its item setter refuses
        return Settings, (dict(self),)


@dataclass(frozen=True)
class TaskConfig:
    """Which task, its variant, sequence length, split sizes, data seed and the task's own settings.

    `name`: a registered task ("integration", "adding"), a spec of your own task class
    ("mymodule:MyTask", "./my_task.py:MyTask"), or the class itself (stored as its spec).
    `target` "final" asks about the whole sequence on its last step; "per-step" at every step.
    `objective` "classification" trains a probability with cross-entropy, "regression" a value with
    squared error, "label-regression" (integration) a value with squared error on the 0/1 label,
    "categorical" (copy) a softmax over the task's classes with cross-entropy.
    `settings`: the task's own (its `Task.settings`, e.g. the integration task's `threshold`), each
    defaulted and checked by the task, and readable as an attribute: `config.threshold`.
    """

    name: str = "integration"
    seq_len: int | None = None
    n_train: int = 64_000
    n_val: int = 16_000
    n_test: int = 16_000
    seed: int = 0
    target: str | None = None
    objective: str | None = None
    settings: dict = field(default_factory=Settings)

    def __post_init__(self):
        spec, task = tasks.resolve(self.name)
        object.__setattr__(self, "name", spec)
        for key, value in task.defaults().items():
            if getattr(self, key) is None:
                object.__setattr__(self, key, value)
        object.__setattr__(self, "settings", _task_settings(task, self.settings))
        _positive_int("seq_len", self.seq_len)
        for name in ("n_train", "n_val", "n_test"):
            _positive_int(name, getattr(self, name))
        _seed("data_seed", self.seed)
        task.check(self)  # the variant and the length

    def __getattr__(self, name):
        """A task's own setting, read as an attribute (`config.threshold`)."""
        settings = self.__dict__.get("settings", {})
        if name in settings:
            return settings[name]
        raise AttributeError(f"TaskConfig has no field or {self.__dict__.get('name')} setting {name!r}")

    def to_dict(self) -> dict:
        """The fields, with the task's own settings beside them (as config files and sweep specs give them)."""
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "settings"}
        return {**d, **self.settings}

    @classmethod
    def from_dict(cls, d: dict) -> "TaskConfig":
        """Rebuild from `to_dict` output: keys beyond TASK_FIELDS are the task's own settings."""
        if not isinstance(d, dict):
            raise ConfigError(f"the task config must be a JSON object, got {type(d).__name__}")
        settings = {k: v for k, v in d.items() if k not in TASK_FIELDS}
        return _build(cls, {k: v for k, v in d.items() if k in TASK_FIELDS}, "task", settings=settings)


def _task_settings(task, given) -> Settings:
    """The task's own settings: `given` checked by the task's Settings, defaults for the rest."""
    if not isinstance(given, dict):
        raise ConfigError(f"settings must be a table of the task's own settings, got {given!r}", field="settings")
    # None means "the task's default" (files written before settings moved into the tasks hold e.g.
    # "threshold": null for the adding task).
    given = {k: v for k, v in given.items() if v is not None}
    unknown = sorted(set(given) - set(task.settings))
    if unknown:
        own = f"its settings are {', '.join(task.settings)}" if task.settings else "it has no settings of its own"
        raise ConfigError(f"{', '.join(map(str, unknown))} is not a setting of the {task.name} task ({own})",
                          field=str(unknown[0]))
    return Settings({name: setting.check(name, given.get(name, setting.default))
                     for name, setting in task.settings.items()})


@dataclass(frozen=True)
class ModelConfig:
    """A stack of `layers` recurrent layers of `cell` with `units` each, and a read-out.

    `cell`: a registered cell ("lstm", "gru", "rnn"), a spec of your own cell class ("mymodule:MyCell",
    "./my_cell.py:MyCell"), or the class itself (stored as its spec).
    """

    cell: str = "lstm"
    layers: int = 1
    units: int = 25

    def __post_init__(self):
        object.__setattr__(self, "cell", _cell_spec(self.cell))
        _positive_int("layers", self.layers)
        _positive_int("units", self.units)

    @property
    def name(self) -> str:
        """`{cell kind}-{layers}layer`, e.g. lstm-2layer: the model's directory and its name in results."""
        return f"{cells.kind(self.cell)}-{self.layers}layer"


def _cell_spec(cell) -> str:
    """A cell name or class as the string a config stores (lstmlab's own are checked without Keras)."""
    if isinstance(cell, str) and cell in cells.NAMES:
        return cell
    return cells.resolve(cell)[0]


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
    # Truncated BPTT (core/tbptt.py), 0: full BPTT. Scheme "per-loss": each loss truncated to its own last
    # `tbptt` steps (k2); per-step targets update every `tbptt_every` steps (k1; 0: every k2). "chunked":
    # chunks of `tbptt` steps from the start, the gradient stopped between them. "williams-peng":
    # Williams & Peng's BPTT(h; h'), h = `tbptt`: every `tbptt_every` = h' steps (0: h), the losses of those
    # h' steps backpropagated together to one cut h steps back.
    tbptt: int = 0
    tbptt_every: int = 0
    tbptt_scheme: str = "per-loss"
    # Split every batch over this many CPU devices (data parallel, gradients summed across them).
    # Part of the configuration, so the same config gives the same numbers wherever it runs; the sum
    # is taken in another order than on one device, so 1 and 2 agree only to float32 rounding.
    devices: int = 1
    # Long memory. The initial bias of the gate that keeps the state (LSTM: forget gate, GRU:
    # update gate); None: the cell's own (LSTM 1, GRU 0). `init` "chrono" (Tallec & Ollivier 2018) draws
    # those biases per unit as log(u), u ~ U(1, chrono_max - 1) (None: the task's seq_len); see core/gate_init.py.
    forget_bias: float | None = None
    init: str = "default"
    chrono_max: int | None = None
    # Scale the whole gradient down to this global L2 norm before Adam's update when it is larger; 0: off.
    clip_norm: float = 0.0
    # Train on fresh sequences, every batch a pure function of (data seed, step) (core/batches.py's
    # Stream); an epoch is steps_per_epoch(n_train, batch_size) such batches.
    stream: bool = False
    # "epochs": train all epochs; "paper": stop at Hochreiter & Schmidhuber's criterion (core/criterion.py).
    stop: str = "epochs"

    def __post_init__(self):
        for name in ("epochs", "batch_size", "steps_per_call", "eval_batch_size", "devices"):
            _positive_int(name, getattr(self, name))
        _seed("init_seed", self.init_seed)
        for name in ("checkpoint_every", "tbptt", "tbptt_every"):
            _non_negative_int(name, getattr(self, name))
        _choice("tbptt_scheme", self.tbptt_scheme, TBPTT_SCHEMES)
        if self.tbptt_scheme == "chunked" and self.tbptt_every:
            raise ConfigError("tbptt_every applies to the per-loss scheme (chunks update once each): set it to 0 "
                              "or use tbptt_scheme per-loss", field="tbptt_every")
        if self.tbptt_scheme == "williams-peng" and self.tbptt and self.tbptt_every > self.tbptt:
            raise ConfigError(f"tbptt_every (h' = {self.tbptt_every}) must be at most tbptt (h = {self.tbptt}) under "
                              "tbptt_scheme williams-peng", field="tbptt_every")
        if self.batch_size % self.devices:
            raise ConfigError(f"batch_size {self.batch_size} does not split evenly over {self.devices} devices",
                              field="batch_size")
        _finite("lr", self.learning_rate)
        object.__setattr__(self, "learning_rate", float(self.learning_rate))  # a file's 1 is Adam's 1.0
        if not 0 < self.learning_rate <= 1:
            raise ConfigError(f"learning_rate must be in (0, 1], got {self.learning_rate!r} (e.g. 0.001)", field="lr")
        _choice("lr_schedule", self.lr_schedule, LR_SCHEDULES)
        self._check_long_memory()

    def _check_long_memory(self):
        if self.forget_bias is not None:
            _finite("forget_bias", self.forget_bias)
            object.__setattr__(self, "forget_bias", float(self.forget_bias))
        _choice("init", self.init, INITS)
        if self.chrono_max is not None:
            if self.init != "chrono":
                raise ConfigError("chrono_max applies to init chrono: add --init chrono or drop --chrono-max",
                                  field="chrono_max")
            if isinstance(self.chrono_max, bool) or not isinstance(self.chrono_max, int) or self.chrono_max < 3:
                raise ConfigError(f"chrono_max must be an integer >= 3 (u ~ U(1, chrono_max - 1)), got "
                                  f"{self.chrono_max!r}", field="chrono_max")
        if self.init == "chrono" and self.forget_bias is not None:
            raise ConfigError("forget_bias and init chrono both set the forget biases: drop one of them",
                              field="forget_bias")
        _finite("clip_norm", self.clip_norm)
        object.__setattr__(self, "clip_norm", float(self.clip_norm))
        if self.clip_norm < 0:
            raise ConfigError(f"clip_norm must be >= 0 (0: off), got {self.clip_norm!r}", field="clip_norm")
        if not isinstance(self.stream, bool):
            raise ConfigError(f"stream must be true or false, got {self.stream!r}", field="stream")
        _choice("stop", self.stop, STOPS)


@dataclass(frozen=True)
class RunConfig:
    """One experiment: a task, the models to compare on it (every cell x every depth), training."""

    task: TaskConfig = field(default_factory=TaskConfig)
    cells: tuple[str, ...] = ("lstm",)
    layers: tuple[int, ...] = (1, 2)
    units: int = 25
    train: TrainConfig = field(default_factory=TrainConfig)

    def __post_init__(self):
        for name, example, kinds in (("cells", "lstm,gru", (str, type)), ("layers", "1,2", (int,))):
            value = getattr(self, name)
            if (isinstance(value, str) or not isinstance(value, (list, tuple)) or not value
                    or any(isinstance(v, bool) or not isinstance(v, kinds) for v in value)):
                raise ConfigError(f"{name} must be a non-empty list of {kinds[0].__name__}s, got {value!r} (e.g. "
                                  f"{example})", field=name)
            if name == "cells":
                value = [_cell_spec(cell) for cell in value]
            if len(set(value)) != len(value):
                raise ConfigError(f"{name} lists an entry twice ({list(value)})", field=name)
            object.__setattr__(self, name, tuple(value))
        names = [model.name for model in self.models]  # raises ConfigError for a bad entry
        if len(set(names)) != len(names):
            raise ConfigError(f"two cells give their models the same name ({', '.join(names)}): give each cell its "
                              "own `kind`", field="cells")
        self._check_long_memory()
        if min(self.task.n_train, self.task.n_val, self.task.n_test) < self.train.batch_size:
            raise ConfigError(
                f"every split needs at least one batch of {self.train.batch_size} samples, got "
                f"{self.task.n_train},{self.task.n_val},{self.task.n_test} (or lower batch_size)",
                field="n_train")

    def _check_long_memory(self):
        """The long-memory options against the task and cells (TrainConfig checked each alone)."""
        train, task = self.train, self.task
        if train.forget_bias is not None or train.init != "default":
            gateless = [cell for cell in self.cells if cell in cells.GATELESS]
            if gateless:
                flag = "forget_bias" if train.forget_bias is not None else "init"
                raise ConfigError(f"the {gateless[0]} cell has no gate that keeps its state, so {flag} cannot apply: "
                                  f"drop it or leave {gateless[0]} out of cells", field=flag)
        if train.init == "chrono" and train.chrono_max is None and task.seq_len < 3:
            raise ConfigError(f"init chrono takes chrono_max from seq_len ({task.seq_len}), which is below 3: set "
                              "chrono_max (>= 3)", field="chrono_max")
        if train.stop == "paper" and (task.target != "final" or task.objective != "regression"):
            raise ConfigError(f"stop paper needs a final-step regression target (the adding task), not "
                              f"{task.target} {task.objective}: use stop epochs", field="stop")

    @property
    def models(self) -> list[ModelConfig]:
        """One model per cell and depth, cell-major: lstm-1layer, lstm-2layer, gru-1layer, ..."""
        return [ModelConfig(cell=c, layers=n, units=self.units) for c in self.cells for n in self.layers]

    @property
    def steps_per_epoch(self) -> int:
        """Train steps (batches) in one epoch."""
        return steps_per_epoch(self.task.n_train, self.train.batch_size)

    def to_dict(self) -> dict:
        """Plain JSON-able values: what config.json holds and `from_dict` reads."""
        d = dataclasses.asdict(self)
        d["task"] = self.task.to_dict()
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "RunConfig":
        """Rebuild from `to_dict` output; unknown keys are an error, missing keys take defaults."""
        if not isinstance(d, dict):
            raise ConfigError(f"a run config must be a JSON object, got {type(d).__name__}")
        d = dict(d)
        task = TaskConfig.from_dict(d.pop("task", {}))
        train = d.pop("train", {})
        if isinstance(train, dict):  # the names of files written before a rename
            train = {RENAMED_TRAIN.get(k, k) if RENAMED_TRAIN.get(k) not in train else k: v for k, v in train.items()}
        return _build(cls, d, "run", task=task, train=_build(TrainConfig, train, "train"))


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


# The checks name the flat field (FIELDS) at fault; the command line turns it into its flag.

def _positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{name} must be a positive integer, got {value!r}", field=name)


def _non_negative_int(name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"{name} must be a non-negative integer, got {value!r}", field=name)


def _seed(name, value):
    _non_negative_int(name, value)
    if value > MAX_SEED:
        raise ConfigError(f"{name} must be at most {MAX_SEED:,}, got {value}", field=name)


def _finite(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"{name} must be a finite number, got {value!r}", field=name)


def _choice(name, value, choices):
    if not isinstance(value, str) or value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {value!r}", field=name)
