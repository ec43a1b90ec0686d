"""The Python API: train a run, load a finished one, load a task's data. `lstmlab` re-exports these.

    import lstmlab
    run = lstmlab.train(lstmlab.RunConfig(cells=("lstm", "gru"), layers=(1,)), out="runs/mine")
    run.results["models"][0]["test_accuracy"]
    model = lstmlab.load_run("runs/mine").models["gru-1layer"]   # a keras.Model
    splits = lstmlab.load_data(lstmlab.TaskConfig(name="adding"))  # {"train": (x, y), ...}
    table = lstmlab.sweep("examples/sweep-quick.toml", out="runs/q")["summary"]  # rows of summary.csv
    record = lstmlab.study("cells", out="runs/cells", quick=True)  # what study.json holds

A run directory is the same whether the CLI or this API made it.
"""

import json
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


def train(config: RunConfig | None = None, out="runs/run", cache_dir=DEFAULT_CACHE, force: bool = False,
          verbose: bool = True, callbacks=None, tensorboard=None, workers: int | None = None) -> Run:
    """Run the experiment `config` (default: the reference experiment) into `out`; returns the Run.

    `callbacks`: Keras callbacks called by the training loop of every model (see `core.train.fit`);
    `tensorboard`: a directory to write TensorBoard event files to; `workers`: how many models train
    side by side in worker processes (default: one per model, up to the cores; with `callbacks`, one
    after another in this process). The same rules as the CLI hold:
    `out` must be new, empty or a run directory lstmlab made, and a finished run is overwritten
    only with `force`.
    """
    from lstmlab.experiment import run_experiment

    run_experiment(config or RunConfig(), Path(out), Path(cache_dir), force=force, verbose=verbose,
                   callbacks=callbacks, tensorboard=tensorboard, workers=workers)
    return load_run(out)


def load_run(path) -> Run:
    """The finished run in directory `path`, its models loaded with their trained weights."""
    from lstmlab.evaluate import load_trained, model_names
    from lstmlab.experiment import RESULTS, saved_config

    path = Path(path)
    names = model_names(path)  # refuses a missing or unfinished run in one sentence
    config = saved_config(path)
    try:
        results = json.loads((path / RESULTS).read_text())
    except (OSError, ValueError) as err:
        raise UserError(f"{path / RESULTS} is damaged ({err}): rerun the run with force") from None
    models = {name: load_trained(path, name)[0].model for name in names}
    return Run(path=path, config=config, results=results, models=models)


def load_data(config: TaskConfig | None = None, cache_dir=DEFAULT_CACHE) -> dict:
    """The task's three splits {"train", "val", "test"}: (x, targets) each, from the verified cache
    (generated and cached on first use). x is (n, T) for one input channel, (n, T, F) otherwise."""
    from lstmlab.core.data import load_or_create

    return load_or_create(config or TaskConfig(), Path(cache_dir), log=lambda message: None)[0]


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
