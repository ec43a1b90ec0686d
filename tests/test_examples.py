"""The README's examples/ scripts, run as a user runs them (each in its own process)."""

import importlib.util
import subprocess
import sys

import pytest

from conftest import ROOT

EXAMPLES = ROOT / "examples"


def _run(script, *args, cwd):
    result = subprocess.run([sys.executable, str(EXAMPLES / script), *map(str, args)], cwd=cwd, capture_output=True,
                            text=True, timeout=600, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def example_run(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("examples")
    out = _run("train.py", "r", cwd=cwd)
    assert all(f"{cell}-1layer: test accuracy" in out for cell in ("lstm", "gru", "rnn"))
    return cwd


def test_evaluate_own_data(example_run):
    out = _run("evaluate_own_data.py", "r", cwd=example_run)
    assert out.count("on 500 sequences of length 40") == 3


def test_weights_load_into_plain_keras_layers(example_run):
    out = _run("plain_keras.py", "r", cwd=example_run)
    differences = [float(line.rsplit("=", 1)[1]) for line in out.splitlines()]
    assert len(differences) == 3 and max(differences) < 1e-5  # keras.layers.LSTM, GRU and SimpleRNN


def test_hidden_states_figure(example_run):
    _run("hidden_states.py", "r", "h.png", cwd=example_run)
    assert (example_run / "h.png").stat().st_size > 10_000


@pytest.mark.skipif(importlib.util.find_spec("tensorboard") is None, reason="tensorboard extra not installed")
def test_tensorboard_logs_are_written_and_read_back(tmp_path):
    out = _run("tensorboard_logs.py", "logs", cwd=tmp_path)
    lines = dict(line.split(": ", 1) for line in out.splitlines())
    assert lines["train/loss"].startswith("100 points")  # 1,600 / 32 = 50 steps per epoch, 2 epochs
    assert lines["epoch/val_accuracy"].startswith("2 points")
    assert any(tag.startswith("grad_norm/") for tag in lines)
