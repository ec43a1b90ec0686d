"""--stop paper (core/criterion.py): the 1997 rule stops at the right batch on crafted errors, keeps its
state across calls and checkpoints, ignores padding rows, and the fresh test counts failures."""

import numpy as np
import pytest

from lstmlab import tasks
from lstmlab.config import ConfigError, RunConfig, TaskConfig, TrainConfig
from lstmlab.core.criterion import TEST_SEQUENCES, PaperCriterion, fresh_test


def crafted(batches: int, bad: int, error: float = 0.1) -> np.ndarray:
    """(batches, 32) errors: the first `bad` sequences off by `error`, the rest by 0.01."""
    errors = np.full(batches * 32, 0.01)
    errors[:bad] = error
    return errors.reshape(batches, 32)


def test_the_rule_holds_at_the_first_batch_end_after_2000_good_sequences():
    criterion = PaperCriterion()
    assert criterion.feed(crafted(100, 320), np.ones((100, 32))) is True
    assert criterion.met_at == 73 * 32  # 2,336: the first batch end with 2,000 good ones after the 320 bad
    assert criterion.seen == 3200


def test_fed_in_calls_through_a_checkpoints_state_it_holds_at_the_same_sequence():
    errors, weights = crafted(100, 320), np.ones((100, 32))
    criterion = PaperCriterion()
    for first in range(0, 100, 7):
        criterion = PaperCriterion(**criterion.state())  # as a checkpoint saves and restores it
        criterion.feed(errors[first:first + 7], weights[first:first + 7])
    assert criterion.met_at == 73 * 32 and len(criterion.recent) == 2000


def test_one_error_of_0_04_restarts_the_window_and_padding_rows_do_not_count():
    errors = crafted(120, 0)
    errors[40, 5] = -0.04  # sequence 1,286 fails (|error| >= 0.04)
    criterion = PaperCriterion()
    criterion.feed(errors, np.ones((120, 32)))
    assert criterion.met_at == 103 * 32  # the first batch end 2,000 sequences past it (3,296)
    errors, weights = crafted(130, 0), np.ones((130, 32))
    errors[:, 16:], weights[:, 16:] = 1.0, 0.0  # half of every batch is padding, with errors that would fail
    padded = PaperCriterion()
    padded.feed(errors, weights)
    assert (padded.met_at, padded.seen) == (125 * 16, 130 * 16)


def test_the_fresh_test_counts_the_sequences_off_by_0_04_or_more():
    task = tasks.of(TaskConfig(name="adding", seq_len=30, n_train=64, n_val=32, n_test=32, seed=1))

    class Shifted:  # predicts the target, off by 0.05 for every 100th sequence
        def predict(self, x):
            y = task.targets_of(x).astype(np.float64)
            y[::100] += 0.05
            return y

    result = fresh_test(Shifted(), task)
    assert result == {"test_sequences": TEST_SEQUENCES, "test_failures": 26,
                      "test_max_error": pytest.approx(0.05, abs=1e-6)}


def test_the_rule_is_refused_where_it_does_not_apply():
    with pytest.raises(ConfigError, match="stop paper needs a final-step regression target"):
        RunConfig(task=TaskConfig(name="integration"), train=TrainConfig(stop="paper"))
    RunConfig(task=TaskConfig(name="adding"), train=TrainConfig(stop="paper"))


def test_fit_stops_at_the_end_of_the_call_where_the_rule_held(tmp_path, monkeypatch):
    from lstmlab.config import ModelConfig
    from lstmlab.core.checkpoint import Checkpoint
    from lstmlab.core.fit import fit
    from lstmlab.core.model import build_model
    from lstmlab.core.train import Trainer

    task = tasks.of(TaskConfig(name="adding", seq_len=22, n_train=3200, n_val=64, n_test=64))
    data = task.generate()
    steps = {"done": 0}
    real = Trainer.train_steps

    def crafted_errors(self, xs, ys, ws):  # the first 10 batches off by 0.1, then right on
        losses = real(self, xs, ys, ws)
        index = steps["done"] + np.arange(len(xs))[:, None]
        self.predictions = ys + np.where(index < 10, 0.1, 0.0).astype(np.float32)
        steps["done"] += len(xs)
        return losses

    monkeypatch.setattr(Trainer, "train_steps", crafted_errors)
    config = TrainConfig(epochs=2, steps_per_call=5, stop="paper", checkpoint_every=5)
    trainer = Trainer(build_model(ModelConfig("lstm", 1, 4), seed=0, task=task), config, task)
    checkpoint = Checkpoint(tmp_path / "c.npz", {"test": 1}, every=5)
    result = fit(trainer, data["train"], data["val"], verbose=False, checkpoint=checkpoint)
    assert result.sequences_to_criterion == 73 * 32  # as test_the_rule_holds_at_the_first_batch_end...
    assert result.stopped_at == (1, 75) and len(result.step_losses) == 75  # the end of the call of step 73
    again = fit(Trainer(build_model(ModelConfig("lstm", 1, 4), seed=0, task=task), config, task),
                data["train"], data["val"], verbose=False, checkpoint=checkpoint)
    assert steps["done"] == 75 and again.sequences_to_criterion == 73 * 32  # resumed: nothing more to train


def test_the_training_predictions_come_back_whole_from_two_devices():
    import jax

    from lstmlab.config import ModelConfig
    from lstmlab.core.batches import stack_batches
    from lstmlab.core.model import build_model
    from lstmlab.core.train import Trainer

    if len(jax.devices("cpu")) < 2:
        pytest.skip("needs 2 CPU devices")
    task = tasks.of(TaskConfig(name="adding", seq_len=22, n_train=64, n_val=32, n_test=32))
    xs, ys, ws = stack_batches(*task.generate()["train"], 32)
    first = {}
    for devices in (1, 2):
        trainer = Trainer(build_model(ModelConfig("lstm", 1, 4), seed=0, task=task),
                          TrainConfig(devices=devices), task)
        trainer.train_steps(xs, ys, ws)
        assert trainer.predictions.shape == (2, 32)
        first[devices] = trainer.predictions[0]  # before any update: the untrained model's on batch 1
    np.testing.assert_allclose(first[2], first[1], rtol=1e-5, atol=1e-6)
    untrained = Trainer(build_model(ModelConfig("lstm", 1, 4), seed=0, task=task), TrainConfig(), task)
    np.testing.assert_allclose(first[1], untrained.predict(xs[0]), rtol=1e-5, atol=1e-6)  # before the update
