"""The Python API: train a run, load a finished one, load a task's data. `lstmlab` re-exports these.

    import lstmlab
    run = lstmlab.train(lstmlab.RunConfig(cells=("lstm", "gru"), layers=(1,)), out="runs/mine")
    run.results["models"][0]["test_accuracy"]
    model = lstmlab.load_run("runs/mine").models["gru-1layer"]   # a keras.Model
    splits = lstmlab.load_data(lstmlab.TaskConfig(name="adding"))  # {"train": (x (n, T, F), y), ...}
    table = lstmlab.sweep("examples/sweep-quick.toml", out="runs/q")["summary"]  # rows of summary.csv
    record = lstmlab.study("cells", out="runs/cells", quick=True)  # what study.json holds
    found = lstmlab.analyze("runs/mine")["gru-1layer"]  # fixed points etc.: what its analysis.json holds

A run directory is the same whether the CLI or this API made it.
"""

import os
from dataclasses import dataclass, field
from pathlib import Path

from lstmlab import tasks
from lstmlab.config import RunConfig, TaskConfig
from lstmlab.errors import UserError

DEFAULT_CACHE = Path("cache")


@dataclass
class Run:
    """A finished run directory: its config, its results (results.json) and its trained models.

    `models` maps a model's name (`{cell}-{n}layer`) to a built `keras.Model` holding the trained
    weights; `task` is the run's task, which scores predictions (`task.score(model.predict(x), y)`).
    """

    path: Path
    config: RunConfig
    results: dict
    models: dict = field(default_factory=dict)

    @property
    def task(self) -> tasks.Task:
        return tasks.of(self.config.task)


def train(config: RunConfig | dict | None = None, out="runs/run", cache_dir=DEFAULT_CACHE, force: bool = False,
          verbose: bool = True, callbacks=None, tensorboard=None, workers: int | None = None) -> Run:
    """Run the experiment `config` (default: the reference experiment; a dict is read as config.json is) into
    `out`; returns the Run. Every argument is checked before anything is created.

    `callbacks`: Keras callbacks called by the training loop of every model (see `core.train.fit`);
    `tensorboard`: a directory to write TensorBoard event files to; `workers`: how many models train
    side by side in worker processes (default: one per model, up to the cores; with `callbacks`, one
    after another in this process). The same rules as the CLI hold:
    `out` must be new, empty or a run directory lstmlab made, and a finished run is overwritten
    only with `force`.
    """
    from lstmlab.experiment import run_experiment

    config = _run_config(config)
    out, cache_dir = _path(out, "out"), _path(cache_dir, "cache_dir")
    tensorboard = None if tensorboard is None else _path(tensorboard, "tensorboard")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise UserError(f"workers must be a positive integer or None, got {workers!r}")
    from lstmlab.executors.local import check_workers

    check_workers(workers)
    callbacks = _callbacks(callbacks)  # all checked before anything is created
    run_experiment(config, out, cache_dir, force=force, verbose=verbose, callbacks=callbacks, tensorboard=tensorboard,
                   workers=workers)
    return load_run(out)


def _run_config(config) -> RunConfig:
    """A RunConfig from a RunConfig, a dict as config.json holds it, or None (the reference experiment)."""
    if config is None:
        return RunConfig()
    if isinstance(config, dict):
        return RunConfig.from_dict(config)
    if not isinstance(config, RunConfig):
        raise UserError(f"config must be a lstmlab.RunConfig or a dict of one, got {type(config).__name__}")
    return config


def _path(value, name: str) -> Path:
    if not isinstance(value, (str, os.PathLike)) or not str(value):
        raise UserError(f"{name} must be a path (a str or pathlib.Path), got {value!r}")
    return Path(value)


def _callbacks(callbacks) -> list:
    """A list of keras.callbacks.Callback objects, or a UserError naming what else was given."""
    import keras

    if callbacks is None:
        return []
    if isinstance(callbacks, keras.callbacks.Callback):
        callbacks = [callbacks]
    if isinstance(callbacks, keras.callbacks.CallbackList):
        callbacks = callbacks.callbacks
    if not isinstance(callbacks, (list, tuple)) or not all(isinstance(c, keras.callbacks.Callback) for c in callbacks):
        raise UserError(f"callbacks must be a list of keras.callbacks.Callback objects, got {callbacks!r}")
    return list(callbacks)


def load_run(path) -> Run:
    """The finished run in directory `path`, its models loaded with their trained weights."""
    from lstmlab.evaluate import load_trained, model_names
    from lstmlab.experiment import read_results, saved_config

    path = Path(path)
    names = model_names(path)  # refuses a missing or unfinished run in one sentence
    config = saved_config(path)
    results = read_results(path)  # checked against its digest
    models = {name: load_trained(path, name)[0].model for name in names}
    return Run(path=path, config=config, results=results, models=models)


def load_data(config: TaskConfig | None = None, cache_dir=DEFAULT_CACHE) -> dict:
    """The task's three splits {"train", "val", "test"}: (x, targets) each, from the verified cache
    (generated and cached on first use). x is (n, T, F), as the models take it (F = 1 for the
    integration task, whose cache holds (n, T))."""
    from lstmlab.core.data import load_or_create

    splits = load_or_create(config or TaskConfig(), _path(cache_dir, "cache_dir"), log=lambda message: None)[0]
    return {split: (x if x.ndim == 3 else x[..., None], y) for split, (x, y) in splits.items()}


def sweep(spec, out="runs/sweep", cache_dir=DEFAULT_CACHE, workers: int | None = None, ray: str | None = None,
          force: bool = False, ci_width: float | None = None, max_seeds: int = 20, metric: str = "test_accuracy",
          plot: str | None = None, verbose: bool = True) -> dict:
    """Run a sweep, as `lstmlab sweep` does; returns {"runs": runs.csv rows, "summary": summary.csv rows,
    "figure": its path or None}.

    `spec`: a spec file's path (TOML or JSON), its contents as a dict, or a `sweeps.spec.Spec`;
    `plot`: "y=METRIC,x=FIELD[,hue=FIELD]". Raises RunsFailedError, after writing every table, if a
    run failed.
    """
    from lstmlab.sweeps.spec import Spec, load_spec
    from lstmlab.sweeps.sweep import parse_plot, run_sweep

    spec = spec if isinstance(spec, Spec) else Spec.from_dict(spec) if isinstance(spec, dict) else load_spec(spec)
    return run_sweep(spec, Path(out), Path(cache_dir), workers=workers, ray=ray, force=force, ci_width=ci_width,
                     max_seeds=max_seeds, metric=metric, plot=parse_plot(plot) if plot else None, verbose=verbose)


def study(name, out=None, cache_dir=DEFAULT_CACHE, seeds: int = 5, quick: bool = False, force: bool = False,
          verbose: bool = True, workers: int | None = None, ray: str | None = None) -> dict:
    """Run a study, as `lstmlab study NAME` does; returns what its study.json holds ("runs", "summary", ...).

    `name`: one of `lstmlab.studies.STUDIES` or a `Study` of your own; `out` defaults to runs/study-NAME.
    A rerun into the same `out` reuses every finished run; the figures and report.md are written there.
    """
    from lstmlab.studies.runner import run_study

    label = name if isinstance(name, str) else getattr(name, "name", "study")
    return run_study(name, Path(out or f"runs/study-{label}"), Path(cache_dir), seeds=seeds, quick=quick,
                     force=force, verbose=verbose, workers=workers, ray=ray)


def analyze(run, model: str | None = None, input=None, cache_dir=DEFAULT_CACHE, starts: int = 1024,
            verbose: bool = True) -> dict:
    """Fixed and slow points, linearisation and line-attractor measures of a finished run's models, as
    `lstmlab analyze` finds them; returns {model name: what its analysis.json holds}.

    `run`: a run directory (or a `Run`); `model`: one model's name (default: every model); `input`: the
    constant input (a number, or one per input channel; default 0). Writes analysis.json,
    fixed_points.npz and two figures into each model's directory and a section into report.md.
    """
    from lstmlab.analysis.analyze import analyze_run

    path = run.path if isinstance(run, Run) else _path(run, "run")
    if model is not None and not isinstance(model, str):
        raise UserError(f"model must be a model's name (a str) or None, got {model!r}")
    if input is not None and not isinstance(input, str):
        import numpy as np

        try:
            input = np.ravel(np.asarray(input, dtype=float)).tolist()  # a number, a list or an array
        except (TypeError, ValueError):
            raise UserError(f"input must be a number or a list of numbers, got {input!r}") from None
    return analyze_run(path, model=model, u=input, cache_dir=_path(cache_dir, "cache_dir"), starts=starts,
                       verbose=verbose)
