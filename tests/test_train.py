import numpy as np
import pytest

from lstmlab.core.batches import stack_batches
from lstmlab.config import ModelConfig, TaskConfig, TrainConfig
from lstmlab.core.model import build_model
from lstmlab import tasks
from lstmlab.errors import NonFiniteLossError
from lstmlab.core.train import Trainer, fit

TASK = tasks.of(TaskConfig(seq_len=10, n_train=640, n_val=320, n_test=320, seed=2))
DATA = TASK.generate()


def _trainer(**overrides):
    config = TrainConfig(**{"epochs": 2, "steps_per_call": 7, **overrides})
    return Trainer(build_model(ModelConfig("lstm", 1, 8), seed=0, task=TASK), config, TASK)


def test_learning_curve_observer_sees_every_compiled_call():
    seen = []
    fit(_trainer(epochs=2, steps_per_call=7), DATA["train"], DATA["val"], verbose=False,
        observe=lambda epoch, step: seen.append((epoch, step)))
    assert seen == [(1, 7), (1, 14), (1, 20), (2, 7), (2, 14), (2, 20)]  # 640 / 32 = 20 steps per epoch


@pytest.mark.parametrize("target,objective", [("per-step", "classification"), ("final", "regression"),
                                              ("per-step", "regression")])
def test_every_task_variant_learns(target, objective):
    task = tasks.of(TaskConfig(seq_len=10, n_train=640, n_val=320, n_test=320, seed=2, target=target,
                               objective=objective))
    data = task.generate()
    train = TrainConfig(epochs=3, learning_rate=0.01, tbptt=4)  # a high rate: 60 steps must show learning
    trainer = Trainer(build_model(ModelConfig("lstm", 1, 8), seed=0, task=task), train, task)
    result = fit(trainer, data["train"], data["val"], verbose=False)
    assert result.history[-1].val_loss < result.history[0].val_loss * 0.7
    assert trainer.evaluate(*data["test"]).accuracy > 0.75


def test_padding_rows_do_not_change_the_loss():
    x, y = DATA["train"]
    x, y = x[:20], y[:20]
    exact = _trainer().train_steps(*stack_batches(x, y, 20))  # one batch, no padding
    padded = _trainer().train_steps(*stack_batches(x, y, 32))  # one batch, 12 padding rows
    np.testing.assert_allclose(padded, exact, rtol=1e-6)


def test_training_learns_and_records_every_epoch():
    trainer = _trainer(epochs=3)
    result = fit(trainer, DATA["train"], DATA["val"], verbose=False)
    assert [h.epoch for h in result.history] == [0, 1, 2, 3]
    assert result.history[-1].val_loss < result.history[0].val_loss - 0.05
    assert result.history[-1].val_accuracy > 0.8


def test_same_seed_gives_identical_training():
    a = fit(_trainer(), DATA["train"], DATA["val"], verbose=False)
    b = fit(_trainer(), DATA["train"], DATA["val"], verbose=False)
    assert [(h.train_loss, h.val_loss) for h in a.history] == [(h.train_loss, h.val_loss) for h in b.history]


def test_chunking_does_not_change_the_result():
    # 20 steps per epoch run as chunks of 7 (7+7+6) or 20 in one call: same arithmetic.
    a = fit(_trainer(steps_per_call=7), DATA["train"], DATA["val"], verbose=False)
    b = fit(_trainer(steps_per_call=20), DATA["train"], DATA["val"], verbose=False)
    np.testing.assert_allclose([h.val_loss for h in a.history], [h.val_loss for h in b.history], rtol=1e-5)


def test_trained_weights_are_written_back_to_the_model():
    trainer = _trainer()
    before = [w.copy() for w in trainer.model.get_weights()]
    fit(trainer, DATA["train"], DATA["val"], verbose=False)
    after = trainer.model.get_weights()
    assert all(not np.array_equal(a, b) for a, b in zip(before, after))
    probs = trainer.predict(DATA["test"][0])
    np.testing.assert_allclose(np.asarray(trainer.model(DATA["test"][0][:, :, None])), probs, atol=1e-5)


def test_a_non_finite_loss_stops_training():
    x, y = DATA["train"]
    x = x.copy()
    x[5, 3] = np.nan
    with pytest.raises(NonFiniteLossError, match="epoch 1"):
        fit(_trainer(), (x, y), DATA["val"], verbose=False)


def test_compiled_calls_end_at_call_and_checkpoint_boundaries():
    from lstmlab.core.train import call_bounds

    assert list(call_bounds(0, 63, 250, 20)) == [(0, 20), (20, 40), (40, 60), (60, 63)]
    assert list(call_bounds(40, 63, 250, 20)) == [(40, 60), (60, 63)]
    assert list(call_bounds(0, 10, 4, 0)) == [(0, 4), (4, 8), (8, 10)]
    assert list(call_bounds(0, 10, 4, 6)) == [(0, 4), (4, 6), (6, 8), (8, 10)]


class _Stop(Exception):
    pass


@pytest.mark.parametrize("stop_at", [1, 4, 6])  # mid-epoch 1, mid-epoch 2, just before the end
def test_an_interrupted_fit_resumes_to_the_identical_result(tmp_path, monkeypatch, stop_at):
    from lstmlab.core.checkpoint import Checkpoint

    config = dict(epochs=2, steps_per_call=7)
    reference_trainer = _trainer(**config)
    reference = fit(reference_trainer, DATA["train"], DATA["val"], verbose=False)  # never interrupted

    calls = {"n": 0}

    def interrupt(name):
        if name == "train:chunk":
            calls["n"] += 1
            if calls["n"] == stop_at:
                raise _Stop

    checkpoint = Checkpoint(tmp_path / "c.npz", {"test": 1}, every_steps=5)
    monkeypatch.setattr("lstmlab.core.train.fault_point", interrupt)
    with pytest.raises(_Stop):
        fit(_trainer(**config), DATA["train"], DATA["val"], verbose=False, checkpoint=checkpoint)
    monkeypatch.undo()
    resumed_trainer = _trainer(**config)  # a fresh process would build a fresh model
    resumed = fit(resumed_trainer, DATA["train"], DATA["val"], verbose=False, checkpoint=checkpoint)
    strip = lambda history: [(h.epoch, h.train_loss, h.val_loss, h.val_accuracy) for h in history]  # noqa: E731
    assert strip(resumed.history) == strip(reference.history)
    for a, b in zip(resumed_trainer.model.get_weights(), reference_trainer.model.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("target", ["final", "per-step"])
def test_long_inputs_are_predicted_in_windows_with_the_same_result(monkeypatch, target):
    task = tasks.of(TaskConfig(seq_len=10, n_train=64, n_val=32, n_test=32, target=target))
    trainer = Trainer(build_model(ModelConfig("gru", 2, 8), seed=0, task=task), TrainConfig(), task)
    x = np.random.default_rng(3).standard_normal((50, 37)).astype(np.float32)
    whole = trainer.predict(x)
    # Room for 4 steps of a 50-row batch: windows of 4 steps, the state carried between them.
    monkeypatch.setattr("lstmlab.core.train.PREDICT_FLOATS", 4 * 50 * (2 * 5 * 8 + 1))
    windowed = trainer.predict(x)
    assert windowed.shape == whole.shape == ((50, 37) if target == "per-step" else (50,))
    np.testing.assert_allclose(windowed, whole, atol=1e-6)


@pytest.mark.parametrize("target, tbptt", [("final", 0), ("final", 4), ("per-step", 3)])
def test_two_devices_train_as_one_to_float32_rounding(target, tbptt):
    # The batch is split over two CPU devices and the gradients summed: the same updates as on one
    # device, up to the order of that sum.
    task = tasks.of(TaskConfig(seq_len=10, n_train=640, n_val=320, n_test=32, seed=2, target=target))
    data = task.generate()
    results = []
    for devices in (1, 2):
        trainer = Trainer(build_model(ModelConfig("lstm", 2, 8), seed=0, task=task),
                          TrainConfig(epochs=2, steps_per_call=7, devices=devices, tbptt=tbptt), task)
        history = fit(trainer, data["train"], data["val"], verbose=False).history
        results.append(([h.train_loss for h in history], trainer.get_state()))
    np.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-5)
    for two, one in zip(results[1][1], results[0][1]):
        np.testing.assert_allclose(two, one, rtol=1e-4, atol=1e-6)


def test_an_odd_split_or_too_few_devices_is_refused():
    from lstmlab.errors import ConfigError, UserError

    with pytest.raises(ConfigError, match="does not split evenly"):
        TrainConfig(batch_size=33, devices=2)
    with pytest.raises(UserError, match="needs 64 CPU devices"):
        Trainer(build_model(ModelConfig("lstm", 1, 4), seed=0, task=TASK), TrainConfig(batch_size=64, devices=64), TASK)
