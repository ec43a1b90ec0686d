"""The reference experiment: data -> train each model -> test -> results, figure and report.

A run directory holds everything the run produced:

    config.json                  the RunConfig; `RunConfig.from_dict` rebuilds the run from it
    results.json                 per model: parameters, history, test metrics; baselines; wall time
    curves.png, report.md        the figure and a table
    models/NAME/config.json      the model's architecture and training config
    models/NAME/metrics.csv      per-epoch metrics
    models/NAME/model.weights.h5 trained weights, loaded by `lstmlab evaluate`
"""

import csv
import io
import json
import platform
import time
from dataclasses import asdict
from pathlib import Path

from lstmlab.config import ModelConfig, RunConfig
from lstmlab.data import load_or_create
from lstmlab.errors import UserError
from lstmlab.files import save_weights_atomic, write_atomic

RESULTS = "results.json"


class RunExistsError(UserError):
    """The output directory holds a finished run and overwriting was not asked for."""


def run_experiment(config: RunConfig, out: Path, cache_dir: Path, force: bool = False, verbose: bool = True) -> dict:
    """Run the experiment described by `config` and write the run directory `out`; returns results."""
    import keras
    import numpy as np

    from lstmlab.model import build_model
    from lstmlab.plots import plot_curves
    from lstmlab.report import render_report
    from lstmlab.train import Trainer, enable_compilation_cache, fit

    out = Path(out)
    if (out / RESULTS).exists() and not force:
        raise RunExistsError(f"{out} already holds a finished run: pass --force to overwrite it or choose another --out")
    started = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / "config.json", json.dumps(config.to_dict(), indent=2) + "\n")

    enable_compilation_cache(Path(cache_dir) / "xla")  # compiled programs, next to the datasets
    data, entry = load_or_create(config.task, cache_dir, log=_say if verbose else _quiet)
    _say(f"data: {entry}", verbose)
    (x_train, y_train), val, (x_test, y_test) = data["train"], data["val"], data["test"]

    models = []
    for model_config in config.models:
        _say(f"training {model_config.name} ({config.train.epochs} epochs)", verbose)
        model = build_model(model_config, seed=config.train.seed)
        trainer = Trainer(model, config.train)
        fitted = fit(trainer, (x_train, y_train), val, verbose=verbose)
        test = trainer.evaluate(x_test, y_test)
        _say(f"{model_config.name}: test accuracy {test.accuracy:.4f}", verbose)
        record = {
            "name": model_config.name,
            "layers": model_config.layers,
            "units": model_config.units,
            "parameters": int(model.count_params()),
            "test_accuracy": test.accuracy,
            "test_loss": test.loss,
            "train_seconds": fitted.train_seconds,
            "history": [asdict(h) for h in fitted.history],
        }
        _save_model(out / "models" / model_config.name, model, model_config, config, record)
        models.append(record)

    majority_label = float(np.mean(y_train) > 0.5)
    results = {
        "models": models,
        "baselines": {"majority_class_accuracy": float(np.mean(y_test == majority_label))},
        "config": config.to_dict(),
        "data": {"cache_entry": str(entry)},
        "environment": {
            "backend": keras.backend.backend(),
            "keras": keras.__version__,
            "numpy": np.__version__,
            "python": platform.python_version(),
            "machine": platform.machine(),
        },
        "wall_seconds": time.perf_counter() - started,
    }
    plot_curves(results, out / "curves.png")
    write_atomic(out / "report.md", render_report(results))
    write_atomic(out / RESULTS, json.dumps(results, indent=2) + "\n")  # last: marks the run finished
    _say(f"wrote {out / RESULTS}, {out / 'report.md'}, {out / 'curves.png'}", verbose)
    return results


def _save_model(directory: Path, model, model_config: ModelConfig, config: RunConfig, record: dict) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    description = {"model": asdict(model_config), "task": asdict(config.task), "train": asdict(config.train)}
    write_atomic(directory / "config.json", json.dumps(description, indent=2) + "\n")
    table = io.StringIO()
    writer = csv.DictWriter(table, fieldnames=list(record["history"][0]))
    writer.writeheader()
    writer.writerows(record["history"])
    write_atomic(directory / "metrics.csv", table.getvalue())
    save_weights_atomic(model, directory / "model.weights.h5")


def _say(message: str, verbose: bool = True) -> None:
    if verbose:
        print(message, flush=True)


def _quiet(message: str) -> None:
    pass
