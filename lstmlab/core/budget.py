"""Memory and disk a run needs, estimated from its configuration alone, so that a size that cannot
fit is refused before any work (and `--dry-run` can say what a run will take).

The estimate is an upper bound of the same order as what XLA allocates, not an exact figure: each
cell is counted with the gate blocks it declares (`gate_blocks`: LSTM 4, GRU 3, simple RNN 1), the
largest of the run's cells sizing the run, and a train step's activations are counted three times
over (the forward values kept for the backward pass, their gradients, temporaries). Refused: a run
whose estimate exceeds the memory available now, or whose dataset exceeds the free disk under the
cache directory.
"""

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from lstmlab import cells, tasks
from lstmlab.core.workdir import nearest_existing
from lstmlab.errors import UserError

FLOAT = 4  # bytes per float32
RUNTIME = 2**30  # Python, NumPy, JAX and Keras themselves, measured at about 0.7 GiB for the reference run


class BudgetError(UserError):
    """A run that cannot fit in this machine's memory or disk."""


@dataclass(frozen=True)
class Estimate:
    memory_bytes: int  # peak while training: libraries, parameters with Adam's state, data, one compiled call
    disk_bytes: int  # the cache entry of the dataset

    def describe(self) -> str:
        return (f"needs about {size_text(self.memory_bytes)} of memory and {size_text(self.disk_bytes)} of disk for "
                "its data")


def estimate(config) -> Estimate:
    """The Estimate of a RunConfig."""
    task, train = config.task, config.train
    width = tasks.of(task).input_width  # of the instance: a task's setting may decide it (copy's alphabet)
    per_step_target = tasks.of(task).per_step
    read_out = tasks.of(task).read_out_width  # K for a softmax over K classes, else 1
    u, t, b = config.units, task.seq_len, train.batch_size
    n = task.n_train + task.n_val + task.n_test
    gates = max(cells.get(name).gate_blocks for name in config.cells)  # the largest cell sizes the run
    parameters = 0
    for layers in config.layers:
        first = gates * u * (width + u + 1)
        parameters = max(parameters, first + (layers - 1) * gates * u * (2 * u + 1) + (u + 1) * read_out)
    state = parameters * 4 * FLOAT  # parameters, Adam's two moments, gradients
    x_bytes = n * t * width * FLOAT
    y_bytes = n * (t if per_step_target else 1) * FLOAT
    data = 3 * (x_bytes + y_bytes)  # the arrays, an epoch's shuffled stack, a checksum's read
    depth = max(config.layers)
    step = 3 * b * t * depth * (gates + 2) * u * FLOAT  # gate pre-activations, h and c per step and layer
    batches = min(train.steps_per_call, config.steps_per_epoch) * b * t * (width + 1) * FLOAT
    return Estimate(memory_bytes=RUNTIME + state + data + step + batches, disk_bytes=x_bytes + y_bytes)


def check_data(task_config, cache_dir: Path) -> None:
    """Raise BudgetError if generating the dataset of `task_config` cannot fit here (`lstmlab data`)."""
    from lstmlab.config import RunConfig, TrainConfig

    batch = min(task_config.n_train, task_config.n_val, task_config.n_test, TrainConfig().batch_size)
    check(RunConfig(task=task_config, layers=(1,), train=TrainConfig(batch_size=batch)), cache_dir)


def available_memory() -> int | None:
    """Bytes of memory available to new work now (MemAvailable), or None where it cannot be read."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check(config, cache_dir: Path) -> Estimate:
    """Raise BudgetError if `config` cannot fit here; returns the estimate."""
    found = estimate(config)
    memory = available_memory()
    if memory is not None and found.memory_bytes > memory:
        raise BudgetError(f"this run {found.describe()}, but only {size_text(memory)} of memory is available: lower "
                          "--units, --batch-size, --seq-len or --samples")
    existing = nearest_existing(Path(cache_dir))
    free = shutil.disk_usage(existing).free
    if found.disk_bytes > free:
        raise BudgetError(f"this run {found.describe()}, but only {size_text(free)} of disk is free under {existing}: "
                          "lower --samples or --seq-len, or choose another --cache-dir")
    return found


def size_text(n: float) -> str:
    """1536 -> '1.5 KiB'."""
    if n < 1024:
        return f"{n:.0f} B"
    for unit in ("KiB", "MiB", "GiB"):
        n /= 1024
        if n < 1024 or unit == "GiB":
            return f"{n:.1f} {unit}"
