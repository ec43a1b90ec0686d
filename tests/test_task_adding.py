"""The adding problem against its definition (Hochreiter & Schmidhuber 1997, experiment 4), checked
sequence by sequence with plain loops rather than the task's own vectorised code."""

import numpy as np
import pytest

from lstmlab import tasks
from lstmlab.config import TaskConfig

T = 40
CONFIG = TaskConfig(name="adding", seq_len=T, n_train=2000, n_val=50, n_test=50, seed=7)


@pytest.fixture(scope="module")
def train():
    return tasks.of(CONFIG).generate()["train"]


def test_markers_follow_the_papers_rules(train):
    x, _ = train
    assert x.shape == (2000, T, 2)
    for seq in x:
        values, markers = seq[:, 0], seq[:, 1]
        assert np.all((values >= -1) & (values <= 1))
        marked = np.flatnonzero(markers == 1.0)
        assert len(marked) == 2
        first, second = marked if marked[0] < 10 else marked[::-1]
        assert first < 10  # one of the first ten steps
        assert second != first and second < T // 2  # among the first T/2 - 1 unmarked steps
        for end in (0, T - 1):  # the first and last step carry -1 unless marked
            assert markers[end] == (1.0 if end in marked else -1.0)
        assert set(np.unique(markers)) <= {-1.0, 0.0, 1.0}
        assert np.sum(markers == 0.0) == T - 2 - np.sum(markers[[0, T - 1]] == -1.0)


def test_target_is_the_scaled_sum_of_the_two_marked_values(train):
    x, y = train
    for seq, target in zip(x, y):
        marked = [t for t in range(T) if seq[t, 1] == 1.0]
        x1, x2 = (0.0 if t == 0 else float(seq[t, 0]) for t in marked)  # X1 = 0 when the first step is marked
        assert target == pytest.approx(0.5 + (x1 + x2) / 4, abs=1e-6)
    assert 0 <= y.min() and y.max() <= 1


def test_positions_are_spread_over_their_windows(train):
    x, _ = train
    first = np.argmax(x[:, :10, 1] == 1.0, axis=1)
    assert set(first.tolist()) == set(range(10))
    assert np.all(x[x[:, 0, 1] == 1.0, 0, 0] == 0.0)  # a first-step mark zeroes its value ...
    second = [max(np.flatnonzero(seq[:, 1] == 1.0)) for seq in x]
    assert max(second) == T // 2 - 1  # ... and the second mark reaches step T/2 - 1 (0-based)


def test_targets_of_a_users_sequences_use_the_same_rule(train):
    x, y = train
    np.testing.assert_array_equal(tasks.of(CONFIG).targets_of(x), y)
