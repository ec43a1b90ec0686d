"""The copy task: its layout, its determinism, its baseline and scoring, a softmax read-out that trains, and a
categorical plug-in task of the user's own."""

import json
import math

import numpy as np
import pytest
from keras import ops

from lstmlab import cells, tasks
from lstmlab.config import ModelConfig, TaskConfig, TrainConfig
from lstmlab.core.batches import stack_batches
from lstmlab.core.model import build_model
from lstmlab.core.train import Trainer
from lstmlab.errors import ConfigError
from lstmlab.tasks import Task
from lstmlab.tasks.base import FINAL
from lstmlab.tasks.objectives import CATEGORICAL
from conftest import assert_two_devices_train_as_one

T = 7
CONFIG = TaskConfig(name="copy", seq_len=T + 20, n_train=300, n_val=50, n_test=200, seed=4)


@pytest.fixture(scope="module")
def data():
    return tasks.of(CONFIG).generate()


def test_the_layout_is_arjovsky_et_als(data):
    x, y = data["train"]
    assert x.shape == (300, T + 20, 10) and y.shape == (300, T + 20)
    categories = np.argmax(x, axis=-1)  # 0 blank, 1..8 symbols, 9 delimiter
    np.testing.assert_array_equal(x.sum(axis=-1), 1.0)  # one-hot
    assert np.all((categories[:, :10] >= 1) & (categories[:, :10] <= 8))
    assert np.all(categories[:, 10:T + 9] == 0)  # T - 1 blanks
    assert np.all(categories[:, T + 9] == 9)  # the delimiter at 0-based step T + 9
    assert np.all(categories[:, T + 10:] == 0)  # 10 blanks while the answer is written
    assert np.all(y[:, :T + 10] == 0)  # blanks as targets up to and with the delimiter
    np.testing.assert_array_equal(y[:, T + 10:], categories[:, :10])  # then the symbols, in order
    assert y.dtype == np.float32


def test_symbols_are_uniform_over_the_alphabet(data):
    symbols = np.argmax(data["train"][0][:, :10], axis=-1).ravel()
    counts = np.bincount(symbols, minlength=9)[1:]
    assert counts.sum() == 3000 and counts.min() > 300 and counts.max() < 450  # 375 each expected


def test_the_same_seed_gives_the_same_data_and_another_seed_other_data(data):
    again = tasks.of(CONFIG).generate()
    assert all(again[s][0].tobytes() == data[s][0].tobytes() and again[s][1].tobytes() == data[s][1].tobytes()
               for s in data)
    other = tasks.of(TaskConfig.from_dict({**CONFIG.to_dict(), "seed": 5})).generate()
    assert other["train"][0].tobytes() != data["train"][0].tobytes()


def test_settings_change_the_widths_and_the_layout():
    task = tasks.of(TaskConfig(name="copy", seq_len=11, settings={"symbols": 3, "alphabet": 4}, n_train=20,
                               n_val=1, n_test=1))
    x, y = task.generate()["train"]
    assert (task.input_width, task.classes, task.delay, x.shape) == (6, 5, 5, (20, 11, 6))
    assert np.all(np.argmax(x, -1)[:, 7] == 5) and np.all(y[:, -3:] >= 1) and np.all(y[:, -3:] <= 4)


@pytest.mark.parametrize("settings, seq_len, fragment", [
    ({}, 20, "seq_len >= 21, got 20"),
    ({"symbols": 3}, 6, "seq_len >= 7, got 6"),
    ({"alphabet": 1}, 30, "alphabet must be in|alphabet must be >= 2"),
    ({"symbols": 0}, 30, "symbols must be"),
])
def test_a_sequence_too_short_or_a_bad_setting_is_refused_in_one_line(settings, seq_len, fragment):
    with pytest.raises(ConfigError, match=fragment) as error:
        TaskConfig(name="copy", seq_len=seq_len, settings=settings)
    assert "\n" not in str(error.value)


def test_the_memoryless_baseline_is_the_papers_formula(data):
    task = tasks.of(CONFIG)
    assert task.memoryless_loss() == pytest.approx(10 * math.log(8) / (T + 20))
    (baseline,) = task.baselines(data["train"][1], data["test"][1])
    assert baseline["loss"] == pytest.approx(10 * math.log(8) / (T + 20), rel=1e-6)
    assert 0.08 < baseline["accuracy"] < 0.17  # one fixed symbol of 8 is right about 1/8 of the time


def test_a_memoryless_predictor_scores_the_baseline_and_a_perfect_one_zero(data):
    task = tasks.of(CONFIG)
    x, y = data["test"]
    memoryless = np.full((*y.shape, 9), -1e4, np.float32)  # log-probabilities: about 0 for all but the ones set
    memoryless[:, :T + 10, 0] = 0.0  # blanks are predictable without memory
    memoryless[:, T + 10:, 1:] = -math.log(8)  # the symbols are not
    assert task.score(memoryless, y).loss == pytest.approx(10 * math.log(8) / (T + 20), rel=1e-6)
    perfect = (np.eye(9, dtype=np.float32)[y.astype(int)] - 1) * 100  # log 1 for the target, -100 elsewhere
    assert task.score(perfect, y).loss < 1e-6 and task.score(perfect, y).accuracy == 1.0
    # Accuracy is the fraction of the 10 output symbols right: get 3 of each sequence's 10 wrong.
    wrong = perfect.copy()
    wrong[:, -3:] = np.roll(wrong[:, -3:], 1, axis=-1)  # another class at the last 3 steps
    assert task.score(wrong, y).accuracy == pytest.approx(0.7)
    # The training loss (keras.ops) is the same cross-entropy, averaged over all T + 20 steps.
    trained = float(ops.convert_to_numpy(task.loss(y, memoryless, np.ones(len(y), np.float32))))
    assert trained == pytest.approx(10 * math.log(8) / (T + 20), rel=1e-5)


def test_answers_a_user_gives_are_checked():
    task = tasks.of(CONFIG)
    assert task.check_truth(np.array([[1.0, 8.0]])) is None
    assert "1 to 8" in task.check_truth(np.array([[0.0, 9.0]]))
    assert "one-hot" in task.check_inputs(np.full((2, 27, 10), 0.1, np.float32))
    assert "21 steps" in task.check_inputs(np.eye(10, dtype=np.float32)[np.zeros((2, 20), int)])


@pytest.mark.parametrize("cell", cells.NAMES)
def test_every_cell_gets_a_log_softmax_read_out_at_every_step(cell, data):
    task = tasks.of(CONFIG)
    model = build_model(ModelConfig(cell, 2, 5), seed=0, task=task)
    p = ops.convert_to_numpy(model(data["val"][0][:4]))
    assert p.shape == (4, T + 20, 9)
    np.testing.assert_allclose(np.exp(p).sum(axis=-1), 1.0, atol=1e-5)  # log-probabilities
    assert model.get_config()["classes"] == 9


class LastClass(Task):
    """A plug-in task with a categorical final-step target: which of 3 classes was the first input?"""

    name, summary, input_width, default_seq_len, classes = "last_class", "the first input's class", 3, 4, 3
    targets = (FINAL,)
    objectives = {"categorical": CATEGORICAL}

    def sample_inputs(self, n, rng):
        return np.eye(3, dtype=np.float32)[rng.integers(0, 3, (n, self.config.seq_len))]  # (n, T, 3)

    def targets_of(self, x):
        return np.argmax(x[:, 0], axis=-1).astype(np.float32)  # (n,)

    def truth(self, y):
        return y

    def correct(self, predictions, truth):
        return np.argmax(predictions, axis=-1) == truth  # predictions (n, 3)

    def baselines(self, y_train, y_test):
        return []

    def describe(self):
        return "the first input's class"


def test_a_plug_in_task_declares_its_classes_and_trains_a_final_softmax_read_out():
    config = TaskConfig(name=LastClass, n_train=512, n_val=64, n_test=256, seed=1)
    task = tasks.of(config)
    data = task.generate()
    model = build_model(ModelConfig("gru", 1, 8), seed=0, task=task)
    trainer = Trainer(model, TrainConfig(learning_rate=0.05), task)
    x, y = data["train"]
    for _ in range(6):
        trainer.train_steps(*stack_batches(x, y, 32))
    p = trainer.predict(data["test"][0])
    assert p.shape == (256, 3)
    assert trainer.evaluate(*data["test"]).accuracy > 0.9  # a third by chance


def test_a_categorical_objective_without_classes_is_refused():
    class NoClasses(LastClass):
        name, classes = "no_classes", 1

    with pytest.raises(ConfigError, match="classes >= 2"):
        TaskConfig(name=NoClasses)


@pytest.mark.parametrize("tbptt", [0, 4])
def test_training_lowers_the_loss_with_and_without_truncation(tbptt):
    config = TaskConfig(name="copy", seq_len=22, settings={"symbols": 1, "alphabet": 2}, n_train=1024, n_val=64,
                        n_test=256, seed=0)
    task = tasks.of(config)
    data = task.generate()
    trainer = Trainer(build_model(ModelConfig("lstm", 1, 8), seed=0, task=task),
                      TrainConfig(learning_rate=0.02, tbptt=tbptt), task)
    x, y = data["train"]
    first = trainer.evaluate(*data["test"]).loss
    for _ in range(3):
        trainer.train_steps(*stack_batches(x, y, 32))
    metrics = trainer.evaluate(*data["test"])
    assert metrics.loss < first and np.isfinite(metrics.loss)


@pytest.mark.slow
def test_the_cli_trains_and_evaluates_the_copy_task(cli, tmp_path):
    run = cli("run", "--task", "copy", "--seq-len", "13", "--symbols", "3", "--alphabet", "4", "--samples",
              "256,64,64", "--epochs", "1", "--cell", "lstm", "--layers", "1", "--units", "4", "--out", "r", "--quiet",
              cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    results = json.loads((tmp_path / "r" / "results.json").read_text())
    assert results["baselines"][0]["loss"] == pytest.approx(3 * math.log(4) / 13, rel=1e-5)
    assert "memoryless" in (tmp_path / "r" / "report.md").read_text()
    x = tasks.of(TaskConfig(name="copy", seq_len=15, settings={"symbols": 3, "alphabet": 4}, n_train=5, n_val=1,
                            n_test=1)).generate()["train"][0]
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "labels.npy", x[:, :3].argmax(-1).astype(np.float32))  # the right answers, (5, 3)
    scored = cli("evaluate", "r", "--data", "x.npy", "--labels", "labels.npy", "--predictions", "p.csv", cwd=tmp_path)
    assert scored.returncode == 0, scored.stderr
    rows = (tmp_path / "p.csv").read_text().splitlines()
    assert rows[0] == "index,label,class_lstm-1layer" and len(rows[1].split(",")[1].split()) == 3
    np.save(tmp_path / "bad.npy", np.ones((5, 2), np.float32))
    refused = cli("evaluate", "r", "--data", "x.npy", "--labels", "bad.npy", cwd=tmp_path)
    assert refused.returncode != 0 and "expected 5 labels (3 per sequence" in refused.stderr
    assert "Traceback" not in refused.stderr


@pytest.mark.slow
@pytest.mark.parametrize("tbptt, scheme", [(0, "per-loss"), (5, "per-loss"), (5, "chunked")])
def test_two_devices_train_the_softmax_read_out_as_one_to_float32_rounding(tbptt, scheme):
    config = TaskConfig(name="copy", seq_len=13, settings={"symbols": 3, "alphabet": 4}, n_train=256, n_val=64,
                        n_test=32, seed=2)
    assert_two_devices_train_as_one(tasks.of(config), ModelConfig("gru", 1, 8), epochs=1, steps_per_call=4,
                                    tbptt=tbptt, tbptt_scheme=scheme)


def test_long_copy_inputs_are_predicted_in_windows_with_the_same_result(monkeypatch, data):
    task = tasks.of(CONFIG)
    trainer = Trainer(build_model(ModelConfig("lstm", 1, 6), seed=0, task=task), TrainConfig(), task)
    x = data["val"][0]
    whole = trainer.predict(x)
    monkeypatch.setattr("lstmlab.core.train.PREDICT_FLOATS", 4 * 50 * (5 * 6 + 1))  # a few steps at a time
    windowed = trainer.predict(x)
    assert windowed.shape == whole.shape == (50, T + 20, 9)
    np.testing.assert_allclose(windowed, whole, atol=1e-5)


def test_a_copy_model_saves_loads_and_trains_as_a_keras_model(tmp_path, data):
    import keras

    task = tasks.of(CONFIG)
    model = build_model(ModelConfig("gru", 1, 5), seed=0, task=task)
    x, y = data["train"]
    model.save(tmp_path / "copy.keras")
    again = keras.saving.load_model(tmp_path / "copy.keras")
    assert again.get_config()["classes"] == 9
    np.testing.assert_allclose(ops.convert_to_numpy(again(x[:3])), ops.convert_to_numpy(model(x[:3])), atol=1e-6)
    # Log-probabilities are logits to Keras's loss; "accuracy" is per-step class accuracy.
    again.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    logs = again.evaluate(x, y, verbose=0, return_dict=True)
    assert logs["loss"] == pytest.approx(task.score(ops.convert_to_numpy(again(x)), y).loss, rel=1e-4)
    assert 0 <= logs["accuracy"] <= 1
