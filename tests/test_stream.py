"""--stream (core/batches.py's Stream): fresh batches as a pure function of (data seed, step), the same in
another process and on resume, and validation and test sets cached as without it."""

import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT
from lstmlab import tasks
from lstmlab.config import RunConfig, TaskConfig, TrainConfig
from lstmlab.core.batches import STREAM_KEY, Stream

TASK = tasks.of(TaskConfig(name="adding", seq_len=22, n_train=320, n_val=64, n_test=64, seed=3))


def test_every_step_draws_its_own_batch_from_the_seed_and_the_step():
    stream = Stream(TASK, 32, 320)
    x, y = stream.batch(7)
    expected = TASK.sample_inputs(32, np.random.default_rng(np.random.SeedSequence([3, STREAM_KEY, 7])))
    np.testing.assert_array_equal(x, expected)
    np.testing.assert_array_equal(y, TASK.targets_of(expected))
    np.testing.assert_array_equal(stream.batch(7)[0], x)  # again: the same
    assert not np.array_equal(stream.batch(8)[0], x)  # the next step: fresh sequences
    other = Stream(tasks.of(TaskConfig(name="adding", seq_len=22, n_train=320, seed=4)), 32, 320)
    assert not np.array_equal(other.batch(7)[0], x)  # another data seed: another stream


def test_epochs_continue_the_stream_and_take_slices_it():
    stream = Stream(TASK, 32, 300)  # 300 sequences: 10 full batches an epoch
    assert stream.steps == 10 and len(stream.epoch(2)) == 10
    xs, ys, ws = stream.epoch(2).take(3, 5)
    assert xs.shape == (2, 32, 22, 2) and ys.shape == (2, 32) and np.all(ws == 1)
    np.testing.assert_array_equal(xs[0], stream.batch(13)[0])  # epoch 2, step 3: global step 10 + 3


def test_another_process_draws_the_same_batches():
    code = ("import sys, numpy as np; from lstmlab import tasks; from lstmlab.config import TaskConfig; "
            "from lstmlab.core.batches import Stream; "
            "t = tasks.of(TaskConfig(name='adding', seq_len=22, n_train=320, n_val=64, n_test=64, seed=3)); "
            "sys.stdout.buffer.write(Stream(t, 32, 320).batch(5)[0].tobytes())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True, cwd=ROOT,
                         env={"PYTHONPATH": str(ROOT), "PATH": ""}).stdout
    assert out == Stream(TASK, 32, 320).batch(5)[0].tobytes()


def test_a_stream_run_caches_one_batch_of_training_data_and_the_same_validation_and_test_sets():
    from lstmlab.core.data import cached_task, training_data

    config = RunConfig(task=TASK.config, train=TrainConfig(stream=True))
    assert cached_task(config).n_train == 32
    plain = TASK.generate()
    small = tasks.of(cached_task(config)).generate()
    for split in ("val", "test"):
        for a, b in zip(plain[split], small[split]):
            np.testing.assert_array_equal(a, b)
    assert isinstance(training_data(config, small), Stream)
    assert cached_task(RunConfig(task=TASK.config)) == TASK.config


def _trainer(**train):
    from lstmlab.config import ModelConfig
    from lstmlab.core.model import build_model
    from lstmlab.core.train import Trainer

    config = TrainConfig(**{"epochs": 2, "steps_per_call": 3, "stream": True, "learning_rate": 0.01, **train})
    return Trainer(build_model(ModelConfig("lstm", 1, 4), seed=0, task=TASK), config, TASK)


class _Stop(Exception):
    pass


def test_a_stream_run_trains_on_fresh_batches_and_resumes_to_the_identical_result(tmp_path, monkeypatch):
    from lstmlab.core.checkpoint import Checkpoint
    from lstmlab.core.fit import fit

    val = TASK.generate()["val"]
    stream = Stream(TASK, 32, 320)
    reference_trainer = _trainer()
    reference = fit(reference_trainer, stream, val, verbose=False)
    assert len(reference.step_losses) == 20
    cached = fit(_trainer(stream=False), TASK.generate()["train"], val, verbose=False)
    assert cached.step_losses[10:] != reference.step_losses[10:]  # not the cached epoch again

    calls = {"n": 0}

    def interrupt(name):
        if name == "train:chunk":
            calls["n"] += 1
            if calls["n"] == 6:  # epoch 2, after its second call
                raise _Stop

    checkpoint = Checkpoint(tmp_path / "c.npz", {"test": 1}, every=3)
    monkeypatch.setattr("lstmlab.core.fit.fault_point", interrupt)
    with pytest.raises(_Stop):
        fit(_trainer(), stream, val, verbose=False, checkpoint=checkpoint)
    monkeypatch.undo()
    resumed_trainer = _trainer()
    resumed = fit(resumed_trainer, stream, val, verbose=False, checkpoint=checkpoint)
    assert resumed.step_losses == reference.step_losses
    for a, b in zip(resumed_trainer.get_state(), reference_trainer.get_state()):
        np.testing.assert_array_equal(a, b)
