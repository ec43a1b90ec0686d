"""The model code on the TensorFlow backend (the seed's framework). Needs the `tensorflow` extra."""

import importlib.util

import pytest

from conftest import ROOT

pytestmark = [
    pytest.mark.tensorflow,
    pytest.mark.skipif(importlib.util.find_spec("tensorflow") is None, reason="tensorflow extra not installed"),
]
TF = {"KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "3"}


def test_lstm_equals_keras_lstm_on_tensorflow():
    import os
    import subprocess
    import sys

    result = subprocess.run([sys.executable, str(ROOT / "tests" / "lstm_equivalence.py")], capture_output=True,
                            text=True, env={**os.environ, **TF, "PYTHONPATH": f"{ROOT}:{ROOT / 'tests'}"}, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "tensorflow (32, 25, 1, 25)" in result.stdout


def test_lstmlab_run_trains_on_tensorflow(cli, tmp_path):
    result = cli("run", "--samples", "3200,320,320", "--epochs", "2", "--layers", "1", "--tbptt", "20", "--out", "r",
                 "--quiet", cwd=tmp_path, env=TF)
    assert result.returncode == 0, result.stderr
    import json

    results = json.loads((tmp_path / "r" / "results.json").read_text())
    assert results["environment"]["backend"] == "tensorflow"
    assert results["models"][0]["test_accuracy"] > 0.8


def test_truncated_bptt_on_per_step_regression_trains_on_tensorflow(cli, tmp_path):
    result = cli("run", "--samples", "1600,320,320", "--epochs", "2", "--layers", "1", "--seq-len", "12",
                 "--target", "per-step", "--objective", "regression", "--tbptt", "5", "--out", "r", "--quiet",
                 cwd=tmp_path, env=TF)
    assert result.returncode == 0, result.stderr
    import json

    model = json.loads((tmp_path / "r" / "results.json").read_text())["models"][0]
    assert model["history"][-1]["val_loss"] < 0.5 * model["history"][0]["val_loss"]  # squared error on the sums
    assert model["test_accuracy"] > 0.7
