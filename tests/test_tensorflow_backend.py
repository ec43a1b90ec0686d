"""lstmlab's layers on the TensorFlow backend (the seed's framework). Needs the `tensorflow` extra.

lstmlab trains on JAX only (the CLI refuses another backend), but its cells, RNN layer and model are
plain Keras and must still compute the same thing, and train, inside a TensorFlow Keras program.
Each check runs in a subprocess: the backend is fixed once Keras is imported.
"""

import importlib.util
import json
import os
import subprocess
import sys

import pytest

from cell_equivalence import KERAS_LAYERS
from conftest import ROOT
from lstmlab import cells

pytestmark = [
    pytest.mark.tensorflow,
    pytest.mark.skipif(importlib.util.find_spec("tensorflow") is None, reason="tensorflow extra not installed"),
]
TF = {"KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "3"}


def run_script(name, *args):
    """Run tests/<name> with KERAS_BACKEND=tensorflow; the CompletedProcess."""
    return subprocess.run([sys.executable, str(ROOT / "tests" / name), *args], capture_output=True, text=True,
                          timeout=600,
                          env={**os.environ, **TF, "PYTHONPATH": f"{ROOT}:{ROOT / 'tests'}"})


def test_every_cell_equals_its_keras_layer_on_tensorflow():
    result = run_script("cell_equivalence.py")
    assert result.returncode == 0, result.stdout + result.stderr
    for name in cells.NAMES:  # one line per cell and shape, so a cell left out shows up
        if name in KERAS_LAYERS:
            assert f"tensorflow {name} (32, 25, 1, 25)" in result.stdout, result.stdout
            assert f"tensorflow {name} (4, 7, 3, 5)" in result.stdout, result.stdout  # several features
        else:
            assert f"tensorflow {name} has no Keras counterpart" in result.stdout, result.stdout


def test_keras_fit_trains_a_sequence_model_of_every_cell_on_tensorflow():
    result = run_script("tensorflow_fit.py")
    assert result.returncode == 0, result.stdout + result.stderr
    fits = {fit["cell"]: fit for fit in map(json.loads, result.stdout.splitlines())}
    assert sorted(fits) == sorted(cells.NAMES)
    for name, fit in fits.items():
        assert fit["backend"] == "tensorflow"
        assert fit["loss"] < 0.5 * fit["initial_loss"], fit  # held-out cross-entropy
        assert fit["accuracy"] > fit["majority"] + 0.15, fit  # majority class: ~0.65
        assert fit["recurrent_weights_moved"] > 1e-3, fit  # gradients reached every weight of the cell


def test_drop_in_layers_train_in_a_keras_sequential_on_tensorflow():
    # lstmlab.layers.LSTM(8, return_sequences=True) and its siblings inside a TensorFlow Keras program.
    result = run_script("tensorflow_fit.py", "sequential")
    assert result.returncode == 0, result.stdout + result.stderr
    (fit,) = map(json.loads, result.stdout.splitlines())
    assert fit["backend"] == "tensorflow" and fit["cell"] == "sequential"
    assert fit["loss"] < 0.5 * fit["initial_loss"], fit
    assert fit["accuracy"] > fit["majority"] + 0.15, fit
    assert fit["recurrent_weights_moved"] > 1e-3, fit  # gradients reached the first (LSTM) layer


def test_the_cli_refuses_to_train_on_tensorflow(cli, tmp_path):
    # Training runs on JAX only: a clear one-line refusal (exit 2) before any work, not a traceback.
    result = cli("run", "--samples", "320,64,64", "--epochs", "1", "--out", "r", cwd=tmp_path, env=TF)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "JAX" in lines[0], result.stderr
    assert not (tmp_path / "r").exists()
