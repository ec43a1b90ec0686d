"""The Python API: what `import lstmlab` offers, and that it works as the README shows."""

import subprocess
import sys

import numpy as np
import pytest

import lstmlab
from conftest import ROOT


def test_the_package_exposes_the_api_and_nothing_else():
    assert dir(lstmlab) == sorted(["ModelConfig", "Run", "RunConfig", "TaskConfig", "TrainConfig", "__version__",
                                   "analyze", "cells", "layers", "load_data", "load_run", "study", "sweep", "tasks", "train"])
    assert lstmlab.tasks.get("adding").name == "adding" and lstmlab.cells.get("gru").kind == "gru"
    assert lstmlab.layers.LSTM(3).units == 3  # a drop-in Keras layer, as keras.layers.LSTM(3)
    with pytest.raises(AttributeError):
        lstmlab.os  # noqa: B018  (the package keeps its own imports private)


def test_importing_lstmlab_loads_neither_keras_nor_jax():
    code = "import sys, lstmlab; lstmlab.RunConfig(); print('keras' in sys.modules, 'jax' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert result.stdout.split() == ["False", "False"], result.stderr


def test_keras_imported_first_with_another_backend_gets_a_sentence_saying_what_to_do():
    code = "import keras, lstmlab"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "KERAS_BACKEND": "numpy"})
    assert result.returncode == 0, result.stderr
    assert "set KERAS_BACKEND=jax before importing keras, or import lstmlab first" in result.stderr
    jax_first = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                               env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "KERAS_BACKEND": "jax"})
    assert jax_first.returncode == 0 and "KERAS_BACKEND" not in jax_first.stderr


def test_train_then_load_run_gives_models_that_predict_what_the_run_measured(tmp_path):
    config = lstmlab.RunConfig(task=lstmlab.TaskConfig(seq_len=8, n_train=640, n_val=64, n_test=128),
                               cells=("gru",), layers=(1,), units=6, train=lstmlab.TrainConfig(epochs=1))
    run = lstmlab.train(config, out=tmp_path / "r", cache_dir=tmp_path / "cache", verbose=False)
    again = lstmlab.load_run(tmp_path / "r")
    assert again.config == config == run.config and again.results == run.results
    x, y = lstmlab.load_data(config.task, cache_dir=tmp_path / "cache")["test"]
    model = again.models["gru-1layer"]
    assert x.shape == (128, 8, 1)  # (n, T, F), as the models take it
    accuracy = again.task.score(model.predict(x, verbose=0), y).accuracy
    assert accuracy == pytest.approx(run.results["models"][0]["test_accuracy"], abs=1 / 128)


def test_load_run_of_nothing_is_a_clear_error(tmp_path):
    from lstmlab.errors import UserError

    with pytest.raises(UserError, match="does not exist"):
        lstmlab.load_run(tmp_path / "nope")


def test_keras_accuracy_metric_means_binary_accuracy_for_a_probability():
    import keras

    task = lstmlab.tasks.of(lstmlab.TaskConfig(seq_len=6, n_train=256, n_val=32, n_test=32))
    x, y = task.generate()["train"]
    from lstmlab.core.model import build_model

    model = build_model(lstmlab.ModelConfig("lstm", 1, 4), 0, task)
    model.compile(keras.optimizers.Adam(1e-2), "binary_crossentropy", metrics=["accuracy"])
    logs = model.evaluate(x[..., None], y, verbose=0, return_dict=True)
    expected = np.mean((model.predict(x[..., None], verbose=0) > 0.5) == (y > 0.5))
    assert logs["accuracy"] == pytest.approx(expected)


def test_sweep_from_python_takes_a_spec_as_a_dict(tmp_path):
    spec = {"seeds": [3], "base": {"epochs": 1, "n_train": 64, "n_val": 32, "n_test": 32, "units": 2,
                                   "seq_len": 4}, "grid": {"lr": [1e-3, 1e-2]}}
    result = lstmlab.sweep(spec, out=tmp_path / "s", cache_dir=tmp_path / "cache", workers=0, verbose=False,
                           plot="y=val_accuracy,x=lr")
    assert [(row["lr"], row["seed"], row["status"]) for row in result["runs"]] == [(1e-3, 3, "ok"), (1e-2, 3, "ok")]
    assert [row["n"] for row in result["summary"]] == [1, 1] and result["figure"].endswith("plot-val_accuracy-vs-lr.png")
    assert (tmp_path / "s" / "runs.csv").read_text().count("\n") == 3


@pytest.mark.parametrize("kwargs, message", [
    ({"out": None}, "out must be a path"),
    ({"config": 5}, "config must be a lstmlab.RunConfig or a dict"),
    ({"config": {"units": 0}}, "units must be a positive integer"),
    ({"callbacks": 5}, "callbacks must be a list of keras.callbacks.Callback"),
    ({"workers": 0}, "workers must be a positive integer"),
])
def test_train_checks_its_arguments_before_creating_anything(tmp_path, kwargs, message):
    from lstmlab.errors import UserError

    with pytest.raises(UserError, match=message):
        lstmlab.train(**{"out": tmp_path / "r", "cache_dir": tmp_path / "cache", **kwargs})
    assert not (tmp_path / "r").exists() and not (tmp_path / "cache").exists()
