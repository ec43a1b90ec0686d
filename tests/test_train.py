import numpy as np
import pytest

from lstmlab.core.batches import stack_batches
from lstmlab.config import ModelConfig, TaskConfig, TrainConfig
from lstmlab.core.model import build_model
from lstmlab import tasks
from lstmlab.errors import NonFiniteLossError
from lstmlab.core.train import Trainer, fit
from conftest import assert_two_devices_train_as_one

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


def test_a_cosine_schedule_decays_the_rate_to_zero_at_the_runs_last_update():
    from lstmlab.core.train import learning_rate

    task = tasks.of(TaskConfig(seq_len=10, n_train=640, n_val=320, n_test=320, seed=2, target="per-step"))
    data = task.generate()
    config = TrainConfig(epochs=2, steps_per_call=7, lr_schedule="cosine", learning_rate=0.01, tbptt=4)
    trainer = Trainer(build_model(ModelConfig("lstm", 1, 8), seed=0, task=task), config, task)
    schedule = learning_rate(config, task.config.n_train, trainer.plan)
    updates = 2 * 20 * 3  # epochs x batches (640 / 32) x updates per batch (windows of 4 of 10 steps)
    assert schedule.decay_steps == updates and trainer.plan.updates_per_batch == 3
    assert float(schedule(0)) == pytest.approx(0.01) and float(schedule(updates // 2)) == pytest.approx(0.005)
    fit(trainer, data["train"], data["val"], verbose=False)
    trainer.sync_to_model()
    assert int(trainer.optimizer.iterations.value) == updates  # the run's last update had a rate of ~0
    assert learning_rate(TrainConfig(), 640, trainer.plan) == TrainConfig().learning_rate  # constant: a number
    constant = fit(_trainer(epochs=1), DATA["train"], DATA["val"], verbose=False).history[-1].val_loss
    cosine = fit(_trainer(epochs=1, lr_schedule="cosine"), DATA["train"], DATA["val"], verbose=False).history[-1]
    assert cosine.val_loss != constant  # the schedule is in the training, not only in the config


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


# mid-epoch 1, mid-epoch 2, just before the end; and a decaying learning rate, which must resume mid-decay
@pytest.mark.parametrize("stop_at,schedule", [(1, "constant"), (4, "constant"), (6, "constant"), (4, "cosine")])
def test_an_interrupted_fit_resumes_to_the_identical_result(tmp_path, monkeypatch, stop_at, schedule):
    from lstmlab.core.checkpoint import Checkpoint

    config = dict(epochs=2, steps_per_call=7, lr_schedule=schedule)
    reference_trainer = _trainer(**config)
    reference = fit(reference_trainer, DATA["train"], DATA["val"], verbose=False)  # never interrupted

    calls = {"n": 0}

    def interrupt(name):
        if name == "train:chunk":
            calls["n"] += 1
            if calls["n"] == stop_at:
                raise _Stop

    checkpoint = Checkpoint(tmp_path / "c.npz", {"test": 1}, every=5)
    monkeypatch.setattr("lstmlab.core.fit.fault_point", interrupt)
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


@pytest.mark.parametrize("target, tbptt, every, scheme", [
    ("final", 0, 0, "per-loss"), ("final", 4, 0, "per-loss"), ("per-step", 3, 0, "per-loss"),
    ("per-step", 3, 10, "per-loss"), ("per-step", 3, 0, "chunked")])
def test_two_devices_train_as_one_to_float32_rounding(target, tbptt, every, scheme):
    # The batch is split over two CPU devices and the gradients summed: the same updates as on one
    # device, up to the order of that sum; with either TBPTT scheme, and k1 != k2.
    task = tasks.of(TaskConfig(seq_len=10, n_train=640, n_val=320, n_test=32, seed=2, target=target))
    assert_two_devices_train_as_one(task, ModelConfig("lstm", 2, 8), epochs=2, steps_per_call=7, tbptt=tbptt,
                                    tbptt_every=every, tbptt_scheme=scheme)


def test_an_odd_split_or_too_few_devices_is_refused():
    from lstmlab.errors import ConfigError, UserError

    with pytest.raises(ConfigError, match="does not split evenly"):
        TrainConfig(batch_size=33, devices=2)
    with pytest.raises(UserError, match="needs 64 CPU devices"):
        Trainer(build_model(ModelConfig("lstm", 1, 4), seed=0, task=TASK), TrainConfig(batch_size=64, devices=64), TASK)


# Keras callbacks, per-step losses and gradient norms from the engine.

HIGH_LR = dict(learning_rate=0.3)  # val loss rises in some epochs: epochs 1-5 give 0.368, 0.369, 0.257, 0.599, 0.253


class _Recorder:
    """A keras Callback (built lazily, keras imported by the module) recording every hook in order."""

    @staticmethod
    def make():
        import keras

        class Recorder(keras.callbacks.Callback):
            def __init__(self):
                super().__init__()
                self.events, self.weights, self.steps = [], {}, []

            def on_train_begin(self, logs=None):
                self.events.append(("train_begin",))

            def on_epoch_begin(self, epoch, logs=None):
                self.events.append(("epoch_begin", epoch))

            def on_train_batch_begin(self, batch, logs=None):
                self.events.append(("batch_begin", batch))

            def on_train_steps(self, steps, logs):
                self.steps.append((steps.tolist(), {k: np.asarray(v).tolist() for k, v in logs.items()}))

            def on_train_batch_end(self, batch, logs=None):
                self.events.append(("batch_end", batch, logs["loss"]))

            def on_epoch_end(self, epoch, logs=None):
                self.events.append(("epoch_end", epoch, dict(logs)))
                self.weights[epoch] = self.model.get_weights()

            def on_train_end(self, logs=None):
                self.events.append(("train_end",))

        return Recorder()


def test_a_callback_sees_the_hooks_in_order_once_per_compiled_call():
    import math

    recorder = _Recorder.make()
    trainer = _trainer(epochs=2, steps_per_call=7)
    result = fit(trainer, DATA["train"], DATA["val"], verbose=False, callbacks=[recorder])
    assert recorder.model is trainer.model
    assert recorder.params == {"epochs": 2, "steps": 20, "verbose": 0}
    losses = result.step_losses
    expected = [("train_begin",)]
    for e in (0, 1):
        expected.append(("epoch_begin", e))
        for first, stop in ((0, 7), (7, 14), (14, 20)):  # the batch index: the call's last step
            mean = math.fsum(losses[20 * e + first:20 * e + stop]) / (stop - first)
            expected += [("batch_begin", stop - 1), ("batch_end", stop - 1, mean)]
        h = result.history[e + 1]
        expected.append(("epoch_end", e, {"loss": h.train_loss, "val_loss": h.val_loss,
                                          "val_accuracy": h.val_accuracy}))
    expected.append(("train_end",))
    assert recorder.events == expected
    # lstmlab's per-step hook: every step once, numbered over the run from 1, with each layer's gradient norm.
    assert [n for steps, _ in recorder.steps for n in steps] == list(range(1, 41))
    assert [v for _, logs in recorder.steps for v in logs["loss"]] == losses
    assert set(recorder.steps[0][1]) == {"loss", "grad_norm/lstm_1", "grad_norm/readout"}


def test_csv_logger_writes_one_row_per_epoch_equal_to_the_history(tmp_path):
    import csv

    import keras

    path = tmp_path / "log.csv"
    result = fit(_trainer(epochs=3), DATA["train"], DATA["val"], verbose=False,
                 callbacks=[keras.callbacks.CSVLogger(str(path))])
    rows = list(csv.DictReader(open(path)))
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2]  # Keras counts epochs from 0: lstmlab's 1, 2, 3
    for row, h in zip(rows, result.history[1:]):
        assert (float(row["loss"]), float(row["val_loss"]), float(row["val_accuracy"])) == (
            h.train_loss, h.val_loss, h.val_accuracy)


def test_callbacks_leave_the_training_unchanged():
    import keras

    plain_trainer, hooked_trainer = _trainer(), _trainer()
    plain = fit(plain_trainer, DATA["train"], DATA["val"], verbose=False)
    hooked = fit(hooked_trainer, DATA["train"], DATA["val"], verbose=False,
                 callbacks=[keras.callbacks.Callback(), _Recorder.make()])
    assert [(h.train_loss, h.val_loss) for h in hooked.history] == [(h.train_loss, h.val_loss) for h in plain.history]
    assert hooked.step_losses == plain.step_losses
    for a, b in zip(hooked_trainer.get_state(), plain_trainer.get_state()):
        np.testing.assert_array_equal(a, b)


def test_early_stopping_ends_training_after_the_first_epoch_without_improvement():
    import keras

    reference = fit(_trainer(epochs=5, **HIGH_LR), DATA["train"], DATA["val"], verbose=False).history
    rise = next(h.epoch for previous, h in zip(reference[1:], reference[2:]) if h.val_loss >= previous.val_loss)
    assert rise < 5  # the rate makes the validation loss rise before the last epoch
    stopped = fit(_trainer(epochs=5, **HIGH_LR), DATA["train"], DATA["val"], verbose=False,
                  callbacks=[keras.callbacks.EarlyStopping(monitor="val_loss", patience=0)])
    assert [h.epoch for h in stopped.history] == list(range(rise + 1))
    assert [h.val_loss for h in stopped.history] == [h.val_loss for h in reference[: rise + 1]]
    assert len(stopped.step_losses) == 20 * rise
    assert stopped.stopped_at == (rise, 20)


def test_early_stopping_restores_the_best_epochs_weights_into_model_and_trainer():
    import keras

    recorder = _Recorder.make()
    trainer = _trainer(epochs=4, **HIGH_LR)
    result = fit(trainer, DATA["train"], DATA["val"], verbose=False,
                 callbacks=[recorder, keras.callbacks.EarlyStopping(monitor="val_loss", patience=10,
                                                                    restore_best_weights=True)])
    val_losses = [h.val_loss for h in result.history[1:]]
    best = int(np.argmin(val_losses))
    assert best != len(val_losses) - 1  # the last epoch is not the best: restoring changes something
    for got, kept in zip(trainer.model.get_weights(), recorder.weights[best]):
        np.testing.assert_array_equal(got, kept)
    assert trainer.evaluate(*DATA["val"]).loss == pytest.approx(val_losses[best], rel=1e-6)  # the state too
    assert not np.array_equal(recorder.weights[best][0], recorder.weights[len(val_losses) - 1][0])


def test_step_losses_cover_every_epoch_and_average_to_its_train_loss():
    import math

    result = fit(_trainer(epochs=3), DATA["train"], DATA["val"], verbose=False)
    assert len(result.step_losses) == 60 and all(isinstance(v, float) for v in result.step_losses)
    for e in (1, 2, 3):
        assert math.fsum(result.step_losses[20 * (e - 1):20 * e]) / 20 == result.history[e].train_loss


@pytest.mark.parametrize("stop_at", [2, 5])  # mid-epoch 1; mid-epoch 2, epoch 1's losses only in the checkpoint
def test_step_losses_survive_an_interruption_exactly(tmp_path, monkeypatch, stop_at):
    from lstmlab.core.checkpoint import Checkpoint

    reference = fit(_trainer(), DATA["train"], DATA["val"], verbose=False)
    calls = {"n": 0}

    def interrupt(name):
        calls["n"] += name == "train:chunk"
        if calls["n"] == stop_at:
            raise _Stop

    checkpoint = Checkpoint(tmp_path / "c.npz", {"test": 1}, every=5)
    monkeypatch.setattr("lstmlab.core.fit.fault_point", interrupt)
    with pytest.raises(_Stop):
        fit(_trainer(), DATA["train"], DATA["val"], verbose=False, checkpoint=checkpoint)
    monkeypatch.undo()
    resumed = fit(_trainer(), DATA["train"], DATA["val"], verbose=False, checkpoint=checkpoint)
    assert resumed.step_losses == reference.step_losses


def test_a_checkpoint_without_its_step_losses_is_refused(tmp_path):
    from lstmlab.core.checkpoint import Checkpoint
    from lstmlab.errors import UserError

    checkpoint = Checkpoint(tmp_path / "c.npz", {"test": 1})
    trainer = _trainer(epochs=1)
    fit(trainer, DATA["train"], DATA["val"], verbose=False, checkpoint=checkpoint)
    arrays, progress = checkpoint.load()
    checkpoint.save(arrays[:-1], progress)  # as written before step losses were kept
    with pytest.raises(UserError, match="does not fit|damaged"):
        fit(_trainer(epochs=2), DATA["train"], DATA["val"], verbose=False, checkpoint=checkpoint)
    checkpoint.save(arrays[:-1] + [np.zeros(3)], progress)  # the wrong number of losses
    with pytest.raises(UserError, match="damaged"):
        fit(_trainer(epochs=2), DATA["train"], DATA["val"], verbose=False, checkpoint=checkpoint)


def test_gradient_norms_per_layer_are_those_of_the_batch_gradient():
    import jax

    trainer = _trainer()
    assert trainer.layer_names == ("lstm_1", "readout")
    xs, ys, ws = stack_batches(*DATA["train"], 32)
    trainable, non_trainable, _ = (list(group) for group in trainer.state)
    task, model = trainer.task, trainer.model

    def loss(params):
        return task.loss(ys[0], model.stateless_call(params, non_trainable, xs[0])[0], ws[0])

    grads = jax.grad(loss)(trainable)
    layer = [v.path.split("/")[1] for v in model.trainable_variables]
    expected = [np.sqrt(sum(float(np.sum(np.square(g))) for g, name in zip(grads, layer) if name == wanted))
                for wanted in trainer.layer_names]
    trainer.train_steps(xs[:3], ys[:3], ws[:3])
    assert trainer.grad_norms.shape == (3, 2)
    np.testing.assert_allclose(trainer.grad_norms[0], expected, rtol=1e-5)


def test_gradient_norms_with_tbptt_are_the_chunk_weighted_mean_of_the_updates():
    import jax

    # Per-step targets, T = 10 in chunks of 4: updates on 4, 4 and 2 steps; the step's norm weighs them 4:4:2.
    task = tasks.of(TaskConfig(seq_len=10, n_train=64, n_val=32, n_test=32, seed=2, target="per-step"))
    x, y = task.generate()["train"]
    xs, ys, ws = stack_batches(x, y, 32)
    chunked = Trainer(build_model(ModelConfig("lstm", 2, 8), seed=0, task=task),
                      TrainConfig(tbptt=4, tbptt_scheme="chunked"), task)
    chunked.train_steps(xs[:1], ys[:1], ws[:1])
    manual = Trainer(build_model(ModelConfig("lstm", 2, 8), seed=0, task=task), TrainConfig(), task)
    norms, carried = [], manual.model.initial_state(32)
    for start, stop in ((0, 4), (4, 8), (8, 10)):  # each chunk as one full-BPTT update from the carried state
        carry = (*manual.state, carried)

        def chunk_loss(params, carry=carry, start=start, stop=stop):
            (p, state), _ = manual.model.stateless_call(params, carry[1], xs[0][:, start:stop],
                                                         initial_state=carry[3], return_state=True)
            return task.loss(ys[0][:, start:stop], p, ws[0]), state

        (_, carried), grads = jax.value_and_grad(chunk_loss, has_aux=True)(list(carry[0]))
        layer = [v.path.split("/")[1] for v in manual.model.trainable_variables]
        norms.append([np.sqrt(sum(float(np.sum(np.square(g))) for g, n in zip(grads, layer) if n == wanted))
                      for wanted in chunked.layer_names])
        trainable, opt = manual.optimizer.stateless_apply(list(manual.state[2]), grads, list(carry[0]))
        manual.state = (trainable, manual.state[1], opt)
    expected = (4 * np.array(norms[0]) + 4 * np.array(norms[1]) + 2 * np.array(norms[2])) / 10
    np.testing.assert_allclose(chunked.grad_norms[0], expected, rtol=1e-4)


# Stopping between compiled calls: fit's stop signal.

def test_a_stop_signal_ends_training_after_that_call_with_the_metrics_of_that_point():
    import math

    reference = fit(_trainer(), DATA["train"], DATA["val"], verbose=False)
    asked, trainer = [], _trainer()
    result = fit(trainer, DATA["train"], DATA["val"], verbose=False,
                 should_stop=lambda epoch, step: asked.append((epoch, step)) or (epoch, step) == (2, 7))
    assert asked == [(1, 7), (1, 14), (1, 20), (2, 7)]  # after every compiled call, until it says stop
    assert result.stopped_at == (2, 7)
    assert result.step_losses == reference.step_losses[:27]  # the same training up to there
    assert [h.epoch for h in result.history] == [0, 1, 2]
    assert (result.history[1].train_loss, result.history[1].val_loss) == (reference.history[1].train_loss,
                                                                          reference.history[1].val_loss)
    stopped = result.history[-1]  # epoch 2 so far: its 7 steps, and the validation metrics of that point
    assert stopped.train_loss == math.fsum(result.step_losses[20:]) / 7
    val = trainer.evaluate(*DATA["val"])
    assert (stopped.val_loss, stopped.val_accuracy) == (val.loss, val.accuracy)
    for variable, value in zip(trainer.model.trainable_variables, trainer.state.trainable):  # the model synced
        np.testing.assert_array_equal(np.asarray(variable.value), np.asarray(value))


def test_a_stop_signal_at_an_epochs_end_finishes_that_epoch():
    reference = fit(_trainer(epochs=3), DATA["train"], DATA["val"], verbose=False)
    result = fit(_trainer(epochs=3), DATA["train"], DATA["val"], verbose=False,
                 should_stop=lambda epoch, step: (epoch, step) == (1, 20))
    assert result.stopped_at == (1, 20)
    strip = lambda history: [(h.epoch, h.train_loss, h.val_loss, h.val_accuracy) for h in history]  # noqa: E731
    assert strip(result.history) == strip(reference.history[:2])
    assert result.step_losses == reference.step_losses[:20]
    assert fit(_trainer(), DATA["train"], DATA["val"], verbose=False).stopped_at is None


def test_training_without_measuring_the_untrained_model_is_the_same_training():
    import math

    reference = fit(_trainer(), DATA["train"], DATA["val"], verbose=False)
    result = fit(_trainer(), DATA["train"], DATA["val"], verbose=False, measure_untrained=False)
    untrained = result.history[0]
    assert untrained.epoch == 0 and all(math.isnan(v) for v in (untrained.train_loss, untrained.val_loss,
                                                                  untrained.val_accuracy))
    strip = lambda history: [(h.epoch, h.train_loss, h.val_loss, h.val_accuracy) for h in history]  # noqa: E731
    assert strip(result.history[1:]) == strip(reference.history[1:])
    assert result.step_losses == reference.step_losses


# Call boundaries with steps_per_call 7 and a checkpoint every 5 steps: 5, 7, 10, 14, 15, 20. Stopped
# mid-epoch 1 (on and off the checkpoint cadence), at its end, and mid-epoch 2.
@pytest.mark.parametrize("stop", [(1, 7), (1, 14), (1, 15), (1, 20), (2, 10)])
def test_a_stopped_fit_resumes_from_its_checkpoint_to_the_uninterrupted_result(tmp_path, stop):
    from lstmlab.core.checkpoint import Checkpoint

    reference_trainer = _trainer()
    reference = fit(reference_trainer, DATA["train"], DATA["val"], verbose=False)
    checkpoint = Checkpoint(tmp_path / "c.npz", {"test": 1}, every=5)
    stopped = fit(_trainer(), DATA["train"], DATA["val"], verbose=False, checkpoint=checkpoint,
                  should_stop=lambda epoch, step: (epoch, step) == stop)
    assert stopped.stopped_at == stop
    assert stopped.step_losses == reference.step_losses[:20 * (stop[0] - 1) + stop[1]]
    _, progress = checkpoint.load()
    assert (progress.epoch, progress.step) == ((stop[0], 0) if stop[1] == 20 else (stop[0] - 1, stop[1]))
    resumed_trainer = _trainer()  # a fresh process would build a fresh model
    resumed = fit(resumed_trainer, DATA["train"], DATA["val"], verbose=False, checkpoint=checkpoint)
    assert resumed.stopped_at is None
    strip = lambda history: [(h.epoch, h.train_loss, h.val_loss, h.val_accuracy) for h in history]  # noqa: E731
    assert strip(resumed.history) == strip(reference.history)
    assert resumed.step_losses == reference.step_losses
    for a, b in zip(resumed_trainer.get_state(), reference_trainer.get_state()):
        np.testing.assert_array_equal(a, b)
