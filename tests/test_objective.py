import numpy as np
import pytest
from keras import ops

from lstmlab.config import TaskConfig
from lstmlab.objective import accuracy, decisions, score, weighted_loss

CLASSIFY = TaskConfig()
REGRESS = TaskConfig(objective="regression", threshold=1.0)


def test_classification_scores_cross_entropy_and_accuracy():
    m = score(CLASSIFY, np.array([0.9, 0.2, 0.6]), np.array([1.0, 0.0, 0.0]))
    assert m.accuracy == pytest.approx(2 / 3)
    assert m.loss == pytest.approx(-(np.log(0.9) + np.log(0.8) + np.log(0.4)) / 3)


def test_regression_is_scored_by_thresholding_the_predicted_sum():
    sums = np.array([3.0, 0.5, 1.2, -2.0])
    predictions = np.array([2.0, 1.5, 0.9, -2.0])  # yes, yes, no, no; truth yes, no, yes, no
    m = score(REGRESS, predictions, sums)
    assert m.accuracy == pytest.approx(0.5)
    assert m.loss == pytest.approx(np.mean((predictions - sums) ** 2))


def test_per_step_predictions_are_scored_on_the_last_step():
    task = TaskConfig(target="per-step")
    predictions = np.array([[0.9, 0.1], [0.2, 0.8]])
    assert decisions(task, predictions).tolist() == [False, True]
    assert accuracy(task, predictions, np.array([0.0, 1.0])) == 1.0
    y = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert score(task, predictions, y).loss == pytest.approx(-(np.log(0.9) + np.log(0.8)) / 2)  # every step counts


def test_weighted_loss_averages_steps_then_weighted_samples():
    y = np.array([[0.0, 2.0], [1.0, 1.0], [5.0, 5.0]], np.float32)
    p = np.array([[1.0, 2.0], [1.0, 3.0], [0.0, 0.0]], np.float32)
    w = np.array([1.0, 1.0, 0.0], np.float32)  # a padding row counts for nothing
    loss = float(ops.convert_to_numpy(weighted_loss(REGRESS, y, p, w)))
    assert loss == pytest.approx((0.5 + 2.0) / 2)
