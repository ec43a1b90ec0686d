"""TensorBoard logging (lstmlab/core/tensorboard.py): events written without TensorFlow, read back by TensorBoard."""

import csv
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT

pytest.importorskip("tensorboard")

# A small fit in a process where `import tensorflow` fails; prints what the events must hold.
NO_TENSORFLOW_FIT = """
import json, sys
sys.modules["tensorflow"] = None  # import tensorflow now raises ImportError
import lstmlab
from lstmlab import tasks
from lstmlab.config import ModelConfig, TaskConfig, TrainConfig
from lstmlab.core.model import build_model
from lstmlab.core.tensorboard import TensorBoardLogger
from lstmlab.core.train import Trainer, fit
import keras

class Norms(keras.callbacks.Callback):
    seen = {}
    def on_train_steps(self, steps, logs):
        for key, values in logs.items():
            self.seen.setdefault(key, []).extend(float(v) for v in values)

task = tasks.of(TaskConfig(seq_len=10, n_train=320, n_val=96, n_test=96, seed=2))
data = task.generate()
trainer = Trainer(build_model(ModelConfig("lstm", 2, 6), seed=0, task=task), TrainConfig(epochs=2, steps_per_call=4),
                  task)
result = fit(trainer, data["train"], data["val"], verbose=False, callbacks=[TensorBoardLogger(sys.argv[1]), Norms()])
try:
    import tensorflow
    blocked = False
except ImportError:
    blocked = True
print(json.dumps({"blocked": blocked, "history": [h.__dict__ for h in result.history],
                  "step_losses": result.step_losses, "seen": Norms.seen}))
"""


def _scalars(log_dir) -> dict:
    """{tag: [(step, value), ...]} as TensorBoard reads the event files in `log_dir`."""
    from tensorboard.backend.event_processing import event_accumulator

    accumulator = event_accumulator.EventAccumulator(str(log_dir), size_guidance={event_accumulator.SCALARS: 0})
    accumulator.Reload()
    return {tag: [(e.step, e.value) for e in accumulator.Scalars(tag)] for tag in accumulator.Tags()["scalars"]}


def _f32(values) -> list:
    return np.asarray(values, np.float32).tolist()  # TensorBoard keeps scalars as float32


def test_events_written_without_tensorflow_read_back_as_the_fit_history(tmp_path):
    log_dir = tmp_path / "tb" / "lstm-2layer"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "KERAS_BACKEND": "jax"}
    done = subprocess.run([sys.executable, "-c", NO_TENSORFLOW_FIT, str(log_dir)], env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    fitted = json.loads(done.stdout.strip().splitlines()[-1])
    assert fitted["blocked"]
    steps = 10  # 320 / 32 per epoch
    scalars = _scalars(log_dir)
    assert set(scalars) == {"train/loss", "grad_norm/lstm_1", "grad_norm/lstm_2", "grad_norm/readout",
                            "epoch/loss", "epoch/val_loss", "epoch/val_accuracy"}
    assert scalars["train/loss"] == list(zip(range(1, 2 * steps + 1), _f32(fitted["step_losses"])))
    for layer in ("lstm_1", "lstm_2", "readout"):
        tag = f"grad_norm/{layer}"
        assert scalars[tag] == list(zip(range(1, 2 * steps + 1), _f32(fitted["seen"][tag])))
        assert all(v > 0 for _, v in scalars[tag])
    epochs = fitted["history"][1:]
    for tag, key in (("epoch/loss", "train_loss"), ("epoch/val_loss", "val_loss"),
                     ("epoch/val_accuracy", "val_accuracy")):
        # At each epoch's last step, so they line up with train/loss.
        assert scalars[tag] == list(zip([steps, 2 * steps], _f32([h[key] for h in epochs])))


def test_writing_events_does_not_import_an_installed_tensorflow(tmp_path):
    # The writer's file access would import TensorFlow where it is installed: seconds, in a JAX process.
    script = ("import sys, lstmlab\nfrom lstmlab.core.tensorboard import TensorBoardLogger\n"
              "logger = TensorBoardLogger(sys.argv[1])\nlogger.on_train_begin()\nlogger.on_train_end()\n"
              "print('tensorflow' in sys.modules)")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "KERAS_BACKEND": "jax"}
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "tb")], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["False"]
    assert [p.name.startswith("events.out.tfevents.") for p in (tmp_path / "tb").iterdir()] == [True]


def test_a_resumed_fit_logs_every_step_once(tmp_path, monkeypatch):
    from lstmlab import tasks
    from lstmlab.config import ModelConfig, TaskConfig, TrainConfig
    from lstmlab.core.checkpoint import Checkpoint
    from lstmlab.core.model import build_model
    from lstmlab.core.tensorboard import TensorBoardLogger
    from lstmlab.core.train import Trainer, fit

    task = tasks.of(TaskConfig(seq_len=10, n_train=640, n_val=320, n_test=320, seed=2))
    data = task.generate()

    def _trainer():
        return Trainer(build_model(ModelConfig("lstm", 1, 8), seed=0, task=task),
                       TrainConfig(epochs=2, steps_per_call=7), task)

    reference = fit(_trainer(), data["train"], data["val"], verbose=False)
    calls = {"n": 0}

    def interrupt(name):
        calls["n"] += name == "train:chunk"
        if calls["n"] == 9:  # epoch 2's call of its steps 8-10 (runs 6 calls an epoch: 7 a call, 5 a checkpoint)
            raise RuntimeError("interrupted")

    checkpoint = Checkpoint(tmp_path / "c.npz", {"test": 1}, every=5)
    first = TensorBoardLogger(tmp_path / "tb")
    monkeypatch.setattr("lstmlab.core.fit.fault_point", interrupt)
    with pytest.raises(RuntimeError, match="interrupted"):
        fit(_trainer(), data["train"], data["val"], verbose=False, checkpoint=checkpoint, callbacks=[first])
    monkeypatch.undo()
    first.on_train_end()  # what it wrote reaches the file: up to step 27, of which 26 and 27 came after the
    # last checkpoint (step 25) and are trained and logged again
    fit(_trainer(), data["train"], data["val"], verbose=False, checkpoint=checkpoint,
        callbacks=[TensorBoardLogger(tmp_path / "tb")])
    scalars = _scalars(tmp_path / "tb")
    assert scalars["train/loss"] == list(zip(range(1, 41), _f32(reference.step_losses)))
    assert [step for step, _ in scalars["epoch/val_loss"]] == [20, 40]


def test_a_missing_tensorboard_package_is_one_clear_line(monkeypatch, tmp_path):
    from lstmlab.core.tensorboard import TensorBoardLogger
    from lstmlab.errors import UserError

    for name in [name for name in sys.modules if name == "tensorboard" or name.startswith("tensorboard.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "tensorboard", None)
    with pytest.raises(UserError) as raised:
        TensorBoardLogger(tmp_path / "tb")
    message = str(raised.value)
    assert "\n" not in message and "pip install 'lstmlab[tensorboard]'" in message


def test_run_experiment_gives_every_model_the_callbacks_and_its_own_log_dir(tmp_path):
    import keras

    from lstmlab.config import RunConfig, TaskConfig, TrainConfig
    from lstmlab.experiment import run_experiment

    class Count(keras.callbacks.Callback):
        models, epochs = [], 0

        def on_train_begin(self, logs=None):
            self.models.append(self.model.name)

        def on_epoch_end(self, epoch, logs=None):
            Count.epochs += 1

    config = RunConfig(task=TaskConfig(seq_len=8, n_train=320, n_val=96, n_test=96, seed=4), layers=(1, 2), units=6,
                       train=TrainConfig(epochs=2, init_seed=4))
    results = run_experiment(config, tmp_path / "run", tmp_path / "cache", verbose=False, callbacks=[Count()],
                             tensorboard=tmp_path / "tb")
    assert Count.models == ["lstm-1layer", "lstm-2layer"] and Count.epochs == 4
    on_disk = json.loads((tmp_path / "run" / "results.json").read_text())
    for model in on_disk["models"]:
        name = model["name"]
        assert len(model["step_losses"]) == 20  # 2 epochs of 10 steps
        rows = list(csv.DictReader(open(tmp_path / "run" / "models" / name / "step_losses.csv")))
        assert [(int(r["step"]), int(r["epoch"])) for r in rows] == [(i + 1, i // 10 + 1) for i in range(20)]
        assert [float(r["loss"]) for r in rows] == model["step_losses"]
        assert [v for _, v in _scalars(tmp_path / "tb" / name)["train/loss"]] == _f32(model["step_losses"])
    assert [m["step_losses"] for m in results["models"]] == [m["step_losses"] for m in on_disk["models"]]
