"""The summary statistics of a sweep: the bootstrap interval is reproducible and covers what it should."""

import math

import numpy as np

from lstmlab.sweeps.stats import describe, interval, paired, verdict


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


def test_paired_differences_pair_by_seed_and_say_whether_the_interval_excludes_zero():
    rng = np.random.default_rng(3)
    seed_effect = rng.normal(0, 1, 10)  # shared by both arms of a seed: pairing removes it
    a = {seed: 0.9 + e for seed, e in enumerate(seed_effect)}
    b = {seed: 0.9 + e + 0.01 + rng.normal(0, 0.002) for seed, e in enumerate(seed_effect)}
    b[99] = 5.0  # a seed only one arm has is left out
    shift = paired(a, b)
    assert shift["n"] == 10 and 0.005 < shift["ci_low"] < 0.01 < shift["ci_high"] < 0.015
    assert shift["resolved"] and verdict(shift) == "higher" and verdict(paired(b, a)) == "lower"
    noise = paired(a, {seed: v + (0.01 if seed % 2 else -0.01) for seed, v in a.items()})  # mean difference 0
    assert noise["ci_low"] < 0 < noise["ci_high"] and verdict(noise) == "unresolved"
    assert verdict(paired({0: 1.0}, {0: 2.0})) == "unresolved"  # one pair: no interval
    assert verdict(paired({s: 1.0 for s in range(4)}, {s: 2.0 + s for s in range(4)})) == "unresolved"  # too few
