"""lstmlab: recurrent cells written from scratch, trained on small sequence tasks (Keras 3 on JAX).

The Python API (see the docs' "Python API" page, docs/usage/python-api.md):

    RunConfig, TaskConfig, ModelConfig, TrainConfig    the configuration (frozen dataclasses)
    train(config, out=...) -> Run                       run an experiment into a run directory
    load_run(path) -> Run                               a finished run: .config, .results, .models
    load_data(task_config) -> {split: (x, y)}           a task's data, from the verified cache
    sweep(spec, out=...) -> {"runs", "summary", ...}    a grid of configurations x seeds
    study(name, out=...) -> study.json's record         a question answered by a grid of runs over seeds
    analyze(run_dir) -> {model: analysis.json}          fixed points, linearisation, line attractors
    layers.LSTM, layers.GRU, layers.SimpleRNN           drop-in Keras layers of lstmlab's cells
    tasks.get(name), cells.get(name)                    the task and cell registries (names, specs, classes)

They are loaded on first use, so `import lstmlab` stays light.

Importing the package picks the JAX backend for Keras unless the user chose one with KERAS_BACKEND,
and lets XLA show the CPU as HOST_DEVICES devices unless XLA_FLAGS already sets a count, so that
`--devices 2` can split a batch over two cores. The flag alone changes neither the speed nor the
numbers of a one-device run (measured bit for bit). Both must happen before anything imports keras
or jax, which is why this lives here and imports nothing heavy.
"""

import os as _os
import sys as _sys
import warnings as _warnings

HOST_DEVICES = 2
DEVICE_FLAG = "--xla_force_host_platform_device_count"

if "keras" in _sys.modules and _sys.modules["keras"].backend.backend() != "jax":
    # Too late to choose: the layers work on any backend, but lstmlab trains on JAX only.
    _warnings.warn(f"keras was imported before lstmlab with the {_sys.modules['keras'].backend.backend()!r} backend: "
                   "lstmlab's layers work there, but to train with lstmlab set KERAS_BACKEND=jax before importing "
                   "keras, or import lstmlab first", stacklevel=2)
_os.environ.setdefault("KERAS_BACKEND", "jax")
if DEVICE_FLAG not in _os.environ.get("XLA_FLAGS", ""):
    _os.environ["XLA_FLAGS"] = f"{_os.environ.get('XLA_FLAGS', '')} {DEVICE_FLAG}={HOST_DEVICES}".strip()

__version__ = "0.1.0"

_API = {"RunConfig": "lstmlab.config", "TaskConfig": "lstmlab.config", "ModelConfig": "lstmlab.config",
        "TrainConfig": "lstmlab.config", "Run": "lstmlab.api", "train": "lstmlab.api", "load_run": "lstmlab.api",
        "load_data": "lstmlab.api", "sweep": "lstmlab.api", "study": "lstmlab.api", "analyze": "lstmlab.api",
        "layers": "lstmlab.layers",
        "tasks": "lstmlab.tasks", "cells": "lstmlab.cells"}
__all__ = [*_API, "__version__"]


def __getattr__(name):
    """Load an API name on first use (PEP 562), so that importing lstmlab imports neither Keras nor JAX."""
    if name not in _API:
        raise AttributeError(f"module 'lstmlab' has no attribute {name!r}")
    import importlib

    module = importlib.import_module(_API[name])
    value = module if module.__name__ == f"lstmlab.{name}" else getattr(module, name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(__all__)
