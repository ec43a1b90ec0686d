"""The task protocol, checked the same way for every task: registry, variants, scoring, baselines."""

import numpy as np
import pytest
from keras import ops

from lstmlab import tasks
from lstmlab.config import TaskConfig
from lstmlab.errors import ConfigError

SMALL = dict(n_train=400, n_val=64, n_test=300, seed=3)


def every_variant():
    for name, task in tasks.TASKS.items():
        for target in task.targets:
            for objective in task.objectives:
                yield TaskConfig(name=name, target=target, objective=objective, seq_len=task.min_seq_len + 9, **SMALL)


VARIANTS = list(every_variant())
IDS = [f"{c.name}-{c.target}-{c.objective}" for c in VARIANTS]


def test_registry_finds_every_task_by_name_and_refuses_others():
    assert set(tasks.TASKS) == {"integration", "adding", "copy"}
    for name, task in tasks.TASKS.items():
        assert tasks.get(name) is task and task.name == name
    with pytest.raises(ConfigError, match="unknown task 'parity'"):
        TaskConfig(name="parity")


def test_unset_fields_take_the_task_defaults():
    assert (TaskConfig().seq_len, TaskConfig().threshold, TaskConfig().objective) == (25, 1.0, "classification")
    adding = TaskConfig(name="adding")
    assert (adding.seq_len, adding.target, adding.objective, dict(adding.settings)) == (100, "final", "regression", {})
    with pytest.raises(AttributeError, match="threshold"):
        adding.threshold  # the integration task's setting, not the adding task's


@pytest.mark.parametrize("build, fragment", [
    (lambda: TaskConfig(name="adding", objective="classification"), "objective regression"),
    (lambda: TaskConfig(name="adding", target="per-step"), "target final"),
    (lambda: TaskConfig(name="adding", settings={"threshold": 2.0}), "threshold is not a setting of the adding task"),
    (lambda: TaskConfig(name="adding", seq_len=21), "seq_len >= 22"),
    (lambda: TaskConfig(target="every"), "target final or per-step"),
])
def test_a_variant_the_task_lacks_is_refused_in_one_line(build, fragment):
    with pytest.raises(ConfigError, match=fragment) as error:
        build()
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("config", VARIANTS, ids=IDS)
def test_targets_have_the_variants_shape_and_generation_repeats(config):
    task = tasks.of(config)
    data = task.generate()
    for split, n in zip(("train", "val", "test"), (config.n_train, config.n_val, config.n_test)):
        x, y = data[split]
        width = () if task.input_width == 1 else (task.input_width,)
        assert x.shape == (n, config.seq_len, *width) and x.dtype == np.float32
        assert y.shape == ((n, config.seq_len) if task.per_step else (n,)) and y.dtype == np.float32
        np.testing.assert_array_equal(task.targets_of(x), y)
    again = task.generate()
    assert all(again[s][0].tobytes() == data[s][0].tobytes() for s in data)


@pytest.mark.parametrize("config", VARIANTS, ids=IDS)
def test_baselines_equal_what_the_labels_give(config):
    task = tasks.of(config)
    data = task.generate()
    y_train, y_test = data["train"][1], data["test"][1]
    found = {b["name"]: b for b in task.baselines(y_train, y_test)}
    # The final answers, computed here from the raw targets, not through the task.
    final_train = y_train[:, -1] if y_train.ndim == 2 else y_train
    final_test = y_test[:, -1] if y_test.ndim == 2 else y_test
    if config.name == "integration":
        if config.objective in ("classification", "label-regression"):  # targets that are the 0/1 labels
            labels_train, labels_test = final_train, final_test
        else:
            labels_train, labels_test = final_train > config.threshold, final_test > config.threshold
        majority = np.mean(labels_train) > 0.5
        assert found["majority class"]["accuracy"] == pytest.approx(np.mean(labels_test == majority))
    if config.objective in ("regression", "label-regression"):
        mean = y_train.mean(axis=0, dtype=np.float64)
        assert found["predict the mean"]["loss"] == pytest.approx(np.mean((y_test - mean) ** 2), rel=1e-5)
        if config.name == "adding":
            expected = np.mean(np.abs(np.float32(mean) - final_test) < 0.04)
        else:  # a fitted label answers yes above 1/2, a fitted sum above the threshold
            cut = 0.5 if config.objective == "label-regression" else config.threshold
            expected = np.mean((np.float32(mean[-1] if mean.ndim else mean) > cut) == labels_test)
        assert found["predict the mean"]["accuracy"] == pytest.approx(expected)
    if config.name == "copy":  # blanks, then a uniform guess: the paper's m ln A / (T + 2m); the commonest symbol
        m, a = config.symbols, config.alphabet
        assert found["memoryless"]["loss"] == pytest.approx(m * np.log(a) / config.seq_len, rel=1e-5)
        symbols_train, symbols_test = y_train[:, -m:], y_test[:, -m:]
        guess = np.argmax(np.bincount(symbols_train.astype(int).ravel(), minlength=a + 1)[1:]) + 1
        assert found["memoryless"]["accuracy"] == pytest.approx(np.mean(symbols_test == guess))


def test_per_step_majority_class_is_that_of_the_final_labels():
    # At seed 0 the reference test set's majority answer ("no") is right for 0.588 of sequences.
    task = tasks.of(TaskConfig(target="per-step", n_train=64_000, n_val=32, n_test=16_000))
    data = task.generate()
    (majority,) = task.baselines(data["train"][1], data["test"][1])
    assert majority["accuracy"] == pytest.approx(0.58825)


def perfect(task, y):
    """The predictions that are the targets: the targets themselves, or log-probabilities of the classes
    (0 for the target's, -100 for the others)."""
    return (np.eye(task.classes, dtype=np.float32)[y.astype(int)] - 1) * 100 if task.objective.categorical else y


@pytest.mark.parametrize("config", VARIANTS, ids=IDS)
def test_perfect_predictions_score_every_sequence_right(config):
    task = tasks.of(config)
    x, y = task.generate()["test"]
    assert task.score(perfect(task, y), y).accuracy == 1.0
    assert task.score(perfect(task, y), y).loss < 1e-6 or config.objective == "classification"


@pytest.mark.parametrize("config", VARIANTS, ids=IDS)
def test_the_numpy_score_is_the_training_loss(config):
    task = tasks.of(config)
    x, y = task.generate()["val"]
    rng = np.random.default_rng(0)
    if task.objective.categorical:  # (n, T, K) log-probabilities
        p = np.log(rng.dirichlet(np.ones(task.classes), y.shape)).astype(np.float32)
    else:
        p = rng.uniform(0.05, 0.95, y.shape).astype(np.float32)
    trained = float(ops.convert_to_numpy(task.loss(y, p, np.ones(len(y), np.float32))))
    assert task.score(p, y).loss == pytest.approx(trained, rel=1e-4)


def test_classification_scores_cross_entropy_and_accuracy():
    task = tasks.of(TaskConfig())
    m = task.score(np.array([0.9, 0.2, 0.6]), np.array([1.0, 0.0, 0.0]))
    assert m.accuracy == pytest.approx(2 / 3)
    assert m.loss == pytest.approx(-(np.log(0.9) + np.log(0.8) + np.log(0.4)) / 3)


def test_regression_is_scored_by_thresholding_the_predicted_sum():
    task = tasks.of(TaskConfig(objective="regression"))
    sums = np.array([3.0, 0.5, 1.2, -2.0])
    predictions = np.array([2.0, 1.5, 0.9, -2.0])  # yes, yes, no, no; truth yes, no, yes, no
    m = task.score(predictions, sums)
    assert m.accuracy == pytest.approx(0.5)
    assert m.loss == pytest.approx(np.mean((predictions - sums) ** 2))


def test_per_step_predictions_are_scored_on_the_last_step():
    task = tasks.of(TaskConfig(target="per-step"))
    predictions = np.array([[0.9, 0.1], [0.2, 0.8]])
    assert task.decisions(predictions).tolist() == [False, True]
    assert task.accuracy(predictions, np.array([0.0, 1.0])) == 1.0
    y = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert task.score(predictions, y).loss == pytest.approx(-(np.log(0.9) + np.log(0.8)) / 2)  # every step counts


def test_adding_counts_a_sequence_solved_within_the_papers_tolerance():
    task = tasks.of(TaskConfig(name="adding"))
    truth = np.array([0.5, 0.5, 0.5, 0.2])
    predictions = np.array([0.539, 0.461, 0.541, 0.2])
    assert task.correct(predictions, truth).tolist() == [True, True, False, True]


def test_weighted_loss_averages_steps_then_weighted_samples():
    task = tasks.of(TaskConfig(objective="regression"))
    y = np.array([[0.0, 2.0], [1.0, 1.0], [5.0, 5.0]], np.float32)
    p = np.array([[1.0, 2.0], [1.0, 3.0], [0.0, 0.0]], np.float32)
    w = np.array([1.0, 1.0, 0.0], np.float32)  # a padding row counts for nothing
    loss = float(ops.convert_to_numpy(task.loss(y, p, w)))
    assert loss == pytest.approx((0.5 + 2.0) / 2)


def test_user_given_answers_are_checked_by_the_task():
    integration, adding = tasks.of(TaskConfig()), tasks.of(TaskConfig(name="adding"))
    assert "0 or 1" in integration.check_truth(np.array([0.0, 0.5]))
    assert integration.check_truth(np.array([0.0, 1.0])) is None
    assert adding.check_truth(np.array([0.3, 0.7])) is None
    assert "NaN" in adding.check_truth(np.array([np.nan]))
