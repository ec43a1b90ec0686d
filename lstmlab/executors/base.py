"""A `Job` (a function and its arguments, named by a key) and its `Outcome`; how a worker runs one.

A job's function must be defined at the top level of a module, so that it pickles by name into a
worker process or onto a Ray node. Whatever it raises comes back as a one-line error with a kind, so
a sweep can record a failed run and go on, and `lstmlab run` can raise the same error in the driver.
"""

import os
import time
import traceback
from dataclasses import dataclass
from typing import Any, Callable

from lstmlab.errors import NonFiniteLossError, UserError

# Environment variables that keep the numerical libraries of a worker to its share of the cores.
# XLA's CPU client otherwise starts one thread per core in every process: with one worker per core,
# the workers would fight over every core instead of owning one each.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


@dataclass(frozen=True)
class Job:
    key: str  # unique among the jobs an executor is given: a sweep's run name, a model's name
    fn: Callable  # a module-level function
    args: tuple


@dataclass(frozen=True)
class Outcome:
    key: str
    value: Any = None  # fn's return value, when it returned
    error: str | None = None  # one line, when it raised or its worker died too often
    kind: str | None = None  # user | diverged | os | bug | crash (its worker died)
    detail: str = ""  # a bug's traceback
    seconds: float = 0.0  # wall time of the last attempt

    @property
    def ok(self) -> bool:
        return self.error is None

    def reraise(self):
        """Raise the job's error in the driver as the class it had in the worker (a bug: with its traceback)."""
        if self.kind == "user":
            raise UserError(self.error)
        if self.kind == "diverged":
            raise NonFiniteLossError(self.error)
        if self.kind == "os":
            raise OSError(self.error)
        raise RuntimeError(f"{self.key}: {self.error}\n{self.detail}")


def call(job: Job) -> Outcome:
    """Run `job` here; every exception becomes a failed Outcome (KeyboardInterrupt and exits pass through)."""
    started = time.perf_counter()
    try:
        value = job.fn(*job.args)
    except Exception as err:  # noqa: BLE001 - the driver decides what a failure means
        kind = ("user" if isinstance(err, UserError) else "diverged" if isinstance(err, NonFiniteLossError)
                else "os" if isinstance(err, OSError) else "bug")
        text = str(err) if kind != "bug" else f"{type(err).__name__}: {err}"
        if isinstance(err, OSError) and err.filename:
            text = f"{err.strerror or err} ({err.filename})"
        return Outcome(job.key, error=" ".join(text.split()), kind=kind,
                       detail=traceback.format_exc() if kind == "bug" else "",
                       seconds=time.perf_counter() - started)
    return Outcome(job.key, value=value, seconds=time.perf_counter() - started)


def thread_environment(threads: int) -> dict[str, str]:
    """Environment variables that keep a process that has not imported JAX yet to `threads` threads."""
    flags = os.environ.get("XLA_FLAGS", "")
    keep = " ".join(f for f in flags.split() if not f.startswith(("--xla_cpu_multi_thread_eigen",
                                                                     "intra_op_parallelism_threads")))
    env = {name: str(threads) for name in THREAD_VARIABLES}
    env["XLA_FLAGS"] = f"{keep} --xla_cpu_multi_thread_eigen={'true' if threads > 1 else 'false'} " \
                       f"intra_op_parallelism_threads={threads}".strip()
    return env
