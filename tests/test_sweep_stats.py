"""The statistics of sweeps and studies: the bootstrap interval is reproducible; the t-interval covers at
its level at 10 seeds; the sign-flip p-value equals brute-force enumeration; Holm and TOST match hand-worked
cases; a study's tests are adjusted as one family, its primary comparisons left raw."""

import itertools
import math

import numpy as np
import pytest

from lstmlab.sweeps.stats import (DRAWS, adjust, describe, holm, interval, one_sample, paired, results_in,
                                  sign_flip_p, t_interval, t_test_p, tost_p, verdict)


def test_the_interval_is_reproducible_and_brackets_the_mean():
    values = np.random.default_rng(3).normal(0.97, 0.01, size=10)
    assert interval(values) == interval(values)
    low, high = interval(values)
    assert low < values.mean() < high
    assert high - low < 4 * values.std(ddof=1) / math.sqrt(len(values)) * 1.96  # about a t interval's width


def test_degenerate_samples():
    assert all(math.isnan(v) for v in interval([0.5]))
    assert interval([0.9, 0.9, 0.9]) == (0.9, 0.9)
    summary = describe([0.98, 0.99, 0.97])
    assert summary["n"] == 3 and math.isclose(summary["mean"], 0.98) and math.isclose(summary["std"], 0.01)
    assert math.isnan(describe([1.0])["std"])
    assert all(math.isnan(v) for v in t_interval([0.5]))
    assert math.isnan(sign_flip_p([])) and sign_flip_p([0.0, 0.0, 0.0]) == 1.0


def test_the_t_interval_is_the_textbook_one():
    values = [1.0, 2.0, 3.0, 4.0]  # mean 2.5, s = 1.2910, t_{0.975, 3} = 3.18245
    low, high = t_interval(values)
    half = 3.182446305284263 * 1.2909944487358056 / 2
    assert math.isclose(low, 2.5 - half, rel_tol=1e-9) and math.isclose(high, 2.5 + half, rel_tol=1e-9)


@pytest.mark.parametrize("draw", [lambda rng, n: rng.normal(0.0, 1.0, n), lambda rng, n: rng.standard_t(3, n)],
                         ids=["normal", "t3"])
def test_the_t_interval_covers_the_true_mean_at_ten_seeds(draw):
    rng = np.random.default_rng(0)
    covered = [low <= 0.0 <= high for low, high in (t_interval(draw(rng, 10)) for _ in range(3000))]  # true mean 0
    assert np.mean(covered) >= 0.93


def brute_force_p(d) -> float:
    """Every sign pattern, one at a time: the definition the vectorised count must equal."""
    observed = abs(sum(d))
    hits = sum(abs(sum(s * x for s, x in zip(signs, d))) >= observed - 1e-12
               for signs in itertools.product((-1, 1), repeat=len(d)))
    return hits / 2 ** len(d)


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 11])
def test_the_sign_flip_p_value_equals_brute_force_enumeration(n):
    rng = np.random.default_rng(n)
    for shift in (0.0, 0.3, 1.5):
        d = rng.normal(shift, 1.0, n)
        assert sign_flip_p(d) == pytest.approx(brute_force_p(d), abs=1e-12)
    ties = np.array([1.0, -1.0, 2.0, 1.0, -1.0, 2.0, 0.0, 1.0, 1.0, 1.0, -2.0])[:n]  # equal |sums|: ties count
    assert sign_flip_p(ties) == pytest.approx(brute_force_p(ties), abs=1e-12)


def test_the_smallest_exact_p_at_ten_pairs_is_two_in_1024():
    assert sign_flip_p(np.linspace(0.01, 0.02, 10)) == 2 / 1024
    assert sign_flip_p(np.linspace(0.01, 0.02, 4)) == 2 / 16  # below 5 pairs nothing reaches 0.05


def test_beyond_twenty_pairs_the_p_value_is_a_seeded_monte_carlo_estimate_of_the_exact_one(monkeypatch):
    from lstmlab.sweeps import stats

    d = np.random.default_rng(1).normal(0.2, 1.0, 21)
    estimate = sign_flip_p(d)
    assert estimate == sign_flip_p(d)  # seeded
    monkeypatch.setattr(stats, "EXACT_UP_TO", 21)  # the same sample enumerated: 2^21 patterns
    truth = sign_flip_p(d)
    assert abs(estimate - truth) < 4 * math.sqrt(truth * (1 - truth) / DRAWS)
    monkeypatch.undo()
    assert sign_flip_p(np.full(30, 0.1)) == 1 / (1 + DRAWS)  # never 0


def test_holm_against_a_hand_worked_example():
    # sorted 0.01, 0.02, 0.03, 0.04 (m = 4): 0.04, 0.06, 0.06 (0.03 x 2, raised to 0.06), 0.06 (0.04 x 1)
    assert holm([0.03, 0.01, 0.04, 0.02]) == pytest.approx([0.06, 0.04, 0.06, 0.06])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])  # 0.5 x 2 caps at 1; then never lower
    assert holm([0.2, float("nan")])[0] == 0.2 and math.isnan(holm([0.2, float("nan")])[1])


def reference_holm(p):
    """Holm's procedure as a rejection rule: reject the i-th smallest while p_(i) <= alpha / (m - i + 1)."""
    order = sorted(range(len(p)), key=lambda i: p[i])
    rejected = set()
    for rank, i in enumerate(order):
        if p[i] > 0.05 / (len(p) - rank):
            break
        rejected.add(i)
    return rejected


def test_holm_adjusted_p_below_alpha_rejects_exactly_what_the_step_down_rule_rejects():
    rng = np.random.default_rng(0)
    for _ in range(300):
        p = (rng.uniform(0, 0.08, rng.integers(1, 12))).tolist()
        assert {i for i, q in enumerate(holm(p)) if q <= 0.05} == reference_holm(p)


def test_tost_known_cases():
    tight = 0.0005 + np.array([-1, 1, -1, 1, 0, 0, -1, 1, 0, 0]) * 1e-4  # mean 0.0005, tiny spread
    assert tost_p(tight, 0.002) < 1e-6
    assert tost_p(tight + 0.01, 0.002) > 0.99  # far outside the margin
    wide = np.array([-0.02, 0.02, -0.015, 0.015, 0.0, 0.01, -0.01, 0.005, -0.005, 0.0])  # mean 0, wide spread
    assert tost_p(wide, 0.002) > 0.05  # no evidence of a difference, and none of equivalence
    # TOST at 0.05 is the 90% t-interval inside the margin
    from scipy.stats import t
    rng = np.random.default_rng(2)
    for _ in range(200):
        x = rng.normal(rng.uniform(-0.003, 0.003), 0.002, 10)
        half = t.ppf(0.95, 9) * x.std(ddof=1) / math.sqrt(10)
        assert (tost_p(x, 0.002) < 0.05) == (-0.002 < x.mean() - half and x.mean() + half < 0.002)
    assert tost_p([0.001] * 5, 0.002) == 0.0 and tost_p([0.003] * 5, 0.002) == 1.0


def test_paired_differences_pair_by_seed():
    rng = np.random.default_rng(3)
    seed_effect = rng.normal(0, 1, 10)  # shared by both arms of a seed: pairing removes it
    a = {seed: 0.9 + e for seed, e in enumerate(seed_effect)}
    b = {seed: 0.9 + e + 0.01 + rng.normal(0, 0.002) for seed, e in enumerate(seed_effect)}
    b[99] = 5.0  # a seed only one arm has is left out
    shift = paired(a, b, margin=0.002)
    assert shift["n"] == 10 and 0.005 < shift["t_low"] < 0.01 < shift["t_high"] < 0.015
    assert shift["p"] == 2 / 1024 and shift["resolved"] and not shift["equivalent"]
    assert verdict(shift) == "higher" and verdict(paired(b, a)) == "lower"
    noise = paired(a, {seed: v + (0.01 if seed % 2 else -0.01) for seed, v in a.items()}, margin=0.002)
    assert noise["t_low"] < 0 < noise["t_high"] and verdict(noise) == "not shown either way"
    level = paired(a, {seed: v + (1e-4 if seed % 2 else -1e-4) for seed, v in a.items()}, margin=0.002)
    assert verdict(level) == "the same (±0.002)"
    assert verdict(paired({0: 1.0}, {0: 2.0})) == "not shown either way"  # one pair: no test
    assert verdict(paired({s: 1.0 for s in range(4)}, {s: 2.0 + s for s in range(4)})) == "not shown either way"


def test_the_t_test_p_value_is_below_alpha_exactly_when_the_t_interval_excludes_zero():
    rng = np.random.default_rng(4)
    for _ in range(200):
        x = rng.normal(rng.uniform(-1, 1), 1.0, 10)
        low, high = t_interval(x)
        assert (t_test_p(x) < 0.05) == (low > 0 or high < 0)
    assert t_test_p([1.0, 2.0, 3.0, 4.0]) == pytest.approx(0.03047, abs=5e-5)  # t = 3.873 on 3 df (tables: 0.0305)


def test_a_study_is_one_holm_family_and_its_primary_comparisons_keep_their_raw_p():
    rng = np.random.default_rng(5)
    d = {"rows": [{"x": one_sample(rng.normal(0.5, 1.0, 10))} for _ in range(6)],
         "main": one_sample(rng.normal(1.0, 1.0, 10), primary=True)}
    adjust(d)
    family = [r for r in results_in(d) if not r["primary"]]
    assert len(family) == 6 and len(results_in(d)) == 7
    assert [r["p_holm"] for r in family] == pytest.approx(holm([r["p_t"] for r in family]))
    assert d["main"]["p_holm"] == d["main"]["p_t"]
    for r in results_in(d):  # resolved: the (adjusted) t-test and the exact sign-flip test both below 0.05
        assert r["resolved"] == (r["p_holm"] < 0.05 and r["p"] < 0.05)
    borderline = one_sample(np.linspace(-0.3, 2.7, 10))  # t-test p about 0.004 alone: resolved
    assert borderline["resolved"]
    crowd = {"a": borderline, "others": [one_sample([1.0, -1.0] * 5) for _ in range(30)]}  # p_t = 1
    adjust(crowd)  # 31 tests: Holm multiplies the smallest p by 31
    assert borderline["p_holm"] == pytest.approx(31 * borderline["p_t"]) and not borderline["resolved"]
    assert verdict(borderline) == "not shown either way"
    skewed = one_sample([5.0, 0.01, 0.01, 0.01])  # t p > 0.05; exact p 0.125: four pairs can never resolve
    assert not skewed["resolved"] and skewed["p"] == 0.125
