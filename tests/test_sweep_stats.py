"""The summary statistics of a sweep: the bootstrap interval is reproducible and covers what it should."""

import math

import numpy as np

from lstmlab.sweeps.stats import describe, interval


def test_the_interval_is_reproducible_and_brackets_the_mean():
    values = np.random.default_rng(3).normal(0.97, 0.01, size=10)
    assert interval(values) == interval(values)
    low, high = interval(values)
    assert low < values.mean() < high
    assert high - low < 4 * values.std(ddof=1) / math.sqrt(len(values)) * 1.96  # about a t interval's width


def test_the_interval_covers_the_true_mean_about_95_percent_of_the_time():
    rng = np.random.default_rng(0)
    covered = 0
    for _ in range(200):
        low, high = interval(rng.normal(0.0, 1.0, size=20))
        covered += low <= 0.0 <= high
    assert 0.88 <= covered / 200 <= 0.99  # the bootstrap is a little narrow at n = 20


def test_degenerate_samples():
    assert all(math.isnan(v) for v in interval([0.5]))
    assert interval([0.9, 0.9, 0.9]) == (0.9, 0.9)
    summary = describe([0.98, 0.99, 0.97])
    assert summary["n"] == 3 and math.isclose(summary["mean"], 0.98) and math.isclose(summary["std"], 0.01)
    assert math.isnan(describe([1.0])["std"])
