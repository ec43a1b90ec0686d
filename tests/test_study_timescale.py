"""The timescale study: the leaky integrator's accuracy against known answers, λ along the sum on maps and a
model with known answers, the plan against the TBPTT study's, the summary on crafted runs, and the quick
study end to end."""

import json

import numpy as np
import pytest

from lstmlab import tasks
from lstmlab.config import TaskConfig
from lstmlab.studies import tbptt
from lstmlab.studies.leaky import along_sum, decay_rate, leaky_accuracy, per_step_noise
from lstmlab.studies.timescale import plan, predictions, summarise, timescale


def closed_form_at_zero(lam: float, sigma: float, length: int) -> float:
    """Threshold 0: (z + η, S) are a centred Gaussian pair with correlation ρ, so P(same sign) = 1/2 + arcsin(ρ)/π."""
    powers = lam ** np.arange(length)
    rho = powers.sum() / np.sqrt(((powers**2).sum() + sigma**2) * length)
    return 0.5 + np.arcsin(rho) / np.pi


def test_a_perfect_noiseless_integrator_is_always_right():
    for length in (1, 5, 25, 1000):
        for threshold in (0.0, 1.0, -3.0):
            assert leaky_accuracy(1.0, 0.0, length, threshold) == pytest.approx(1.0, abs=1e-9)


@pytest.mark.parametrize("lam, sigma, length", [(0.9, 0.0, 25), (0.5, 0.3, 10), (1.0, 0.5, 5), (0.0, 0.0, 7),
                                                (0.99, 1.0, 1000), (0.3, 2.0, 100)])
def test_leaky_accuracy_at_threshold_zero_is_the_arcsine_law(lam, sigma, length):
    assert leaky_accuracy(lam, sigma, length, 0.0) == pytest.approx(closed_form_at_zero(lam, sigma, length), abs=1e-8)


def test_a_memoryless_reader_at_threshold_zero():
    # λ = 0: the answer is the last input's sign, right with probability 1/2 + arcsin(1/√L)/π.
    for length in (1, 4, 100):
        assert leaky_accuracy(0.0, 0.0, length, 0.0) == pytest.approx(0.5 + np.arcsin(length ** -0.5) / np.pi,
                                                                      abs=1e-8)


@pytest.mark.parametrize("lam, sigma, length", [(0.9, 0.2, 25), (1.0, 0.5, 5), (0.8, 0.0, 100)])
def test_leaky_accuracy_at_threshold_one_agrees_with_monte_carlo(lam, sigma, length):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((100_000, length))
    weights = lam ** np.arange(length)[::-1]  # (L,) the weight of x_t in z_{L-1}
    z = x @ weights + sigma * rng.standard_normal(len(x))  # z_{L-1} + η
    simulated = np.mean((z > 1.0) == (x.sum(axis=1) > 1.0))
    assert leaky_accuracy(lam, sigma, length, 1.0) == pytest.approx(simulated, abs=0.005)  # 5 standard errors
    # Per-step noise: z_t = λ z_{t-1} + x_t + ε_t, simulated step by step.
    z = np.zeros(len(x))
    for t in range(length):
        z = lam * z + x[:, t] + sigma * rng.standard_normal(len(x))
    simulated = np.mean((z > 1.0) == (x.sum(axis=1) > 1.0))
    assert leaky_accuracy(lam, sigma, length, 1.0, per_step=True) == pytest.approx(simulated, abs=0.005)


def test_per_step_noise_of_a_perfect_integrator_keeps_the_accuracy_at_threshold_zero():
    # λ = 1: noise and signal both grow as L, so ρ = 1/√(1 + σ²) whatever the length.
    for length in (1, 10, 1000):
        assert leaky_accuracy(1.0, 0.7, length, 0.0, per_step=True) == pytest.approx(
            0.5 + np.arcsin(1 / np.sqrt(1 + 0.7**2)) / np.pi, abs=1e-8)


def test_per_step_noise_calibrated_at_the_training_length_matches_the_read_out_noise_there():
    for lam in (1.0, 0.99, 0.6, 1.02):
        step = per_step_noise(lam, 1.3, 25)
        assert step**2 * np.sum(lam ** (2 * np.arange(25))) == pytest.approx(1.3**2)
        assert leaky_accuracy(lam, step, 25, per_step=True) == pytest.approx(leaky_accuracy(lam, 1.3, 25), abs=1e-9)
        longer = leaky_accuracy(lam, step, 250, per_step=True), leaky_accuracy(lam, 1.3, 250)
        if lam == 0.6:  # the state forgets its noise as fast as it takes it in: the same by 25 steps, so at 250
            assert longer[0] == pytest.approx(longer[1], abs=1e-9)
        else:  # per-step noise keeps building up where the state keeps it: less accurate than read-out noise
            assert longer[0] < longer[1] - 1e-3


def test_a_perfect_integrator_with_noise_is_the_probit_model():
    # λ = 1: right with probability Φ(|S - θ| / σ), `noise.py`'s model, averaged over S ~ N(0, L).
    from scipy.integrate import quad
    from scipy.stats import norm

    length, sigma = 25, 1.5
    expected = quad(lambda s: norm.cdf(abs(s - 1.0) / sigma) * norm.pdf(s, scale=np.sqrt(length)), -60, 60,
                    points=[1.0])[0]
    assert leaky_accuracy(1.0, sigma, length, 1.0) == pytest.approx(expected, abs=1e-8)


def test_accuracy_falls_with_the_leak_at_long_lengths():
    at_1000 = [leaky_accuracy(lam, 0.5, 1000) for lam in (1.0, 0.99, 0.9, 0.5)]
    assert all(a > b for a, b in zip(at_1000, at_1000[1:]))


def test_along_sum_of_linear_maps():
    # One mode holds the sum: λ is its eigenvalue, whatever the horizon.
    diagonal = np.diag([0.9, 0.5])[None]
    found = along_sum(diagonal, np.array([1.0, 0.0]), np.array([1.0, 0.3]), horizon=7)
    assert found["eigenvalue"] == pytest.approx(0.9, abs=1e-12) and found["mode"] == pytest.approx(0.9)
    assert found["alignment"] == pytest.approx(1.0) and found["points"] == 1
    # A perfect integrator beside a fast mode: 1.
    found = along_sum(np.diag([1.0, 0.2])[None], np.array([1.0, 0.0]), np.array([1.0, 0.5]), horizon=25)
    assert found["eigenvalue"] == pytest.approx(1.0, abs=1e-12)
    # Non-normal, the sum spread over two modes: the read-out's own retention |r J^{H+1} e / r J e|^(1/H).
    j = np.array([[0.9, 0.3], [0.0, 0.6]])
    e, r = np.array([1.0, 1.0]), np.array([1.0, 0.0])
    expected = abs(r @ np.linalg.matrix_power(j, 11) @ e / (r @ j @ e)) ** (1 / 10)
    found = along_sum(np.stack([j, j, np.diag([0.5, 0.5])]), e, r, horizon=10)
    assert found["eigenvalue"] == pytest.approx(expected, abs=1e-12)  # the median of three points
    # By hand: J^n e = (2 * 0.9^n - 0.6^n, 0.6^n); mode 2 feeds mode 1, so the read-out keeps more than 0.9 per step.
    assert expected == pytest.approx(((2 * 0.9**11 - 0.6**11) / (2 * 0.9 - 0.6)) ** 0.1, abs=1e-12) and expected > 0.9
    assert along_sum(np.zeros((0, 2, 2)), e, r, 5)["eigenvalue"] is None


def test_decay_rate():
    assert decay_rate(1.0) == 0.0 and decay_rate(np.exp(-0.25)) == pytest.approx(0.25)
    assert np.isnan(decay_rate(None)) and np.isnan(decay_rate(0.0))


def test_a_saturated_lstm_holds_the_sum_with_lambda_one():
    from test_analysis_linearise import perfect_integrator

    task = tasks.of(TaskConfig(seq_len=10, n_train=64, n_val=64, n_test=64))
    x = np.random.default_rng(0).standard_normal((64, 10)).astype(np.float32)
    found = timescale(perfect_integrator(2), task, x, starts=64)
    assert found["points"] > 0 and found["eigenvalue"] == pytest.approx(1.0, abs=1e-5)
    assert found["mode"] == pytest.approx(1.0, abs=1e-5)


def test_the_plan_reuses_the_tbptt_studys_final_target_configs():
    for quick in (False, True):
        runs = plan(seeds=3, quick=quick)
        integration = [(g, c) for g, c in runs if g["task"] == "integration"]
        theirs = {c for _, c in tbptt.plan(seeds=3, quick=quick)}
        assert all(c in theirs for _, c in integration)  # the TBPTT study's configs, unchanged
        grid = tbptt.QUICK_GRID if quick else tbptt.GRID
        for seq_len, (targets, _, epochs) in grid.items():
            depths = {g["k2"] for g, c in integration if g["seq_len"] == seq_len}
            assert depths == set(targets["final"]) | {seq_len}
            for group, config in integration:
                assert config.task.target == "final" and config.train.tbptt_scheme == "per-loss"
                assert config.train.lr_schedule == "constant" and config.train.tbptt_every == config.task.seq_len
                assert config.train.epochs == grid[config.task.seq_len][2]
        assert len(integration) == 3 * sum(len(t["final"]) + 1 for t, _, _ in grid.values())
    full = plan(seeds=3, quick=False)
    assert {g["k2"] for g, _ in full if g["task"] == "integration" and g["seq_len"] == 25} == {1, 2, 5, 10, 25}
    assert {g["k2"] for g, _ in full if g["task"] == "integration" and g["seq_len"] == 100} == {1, 10, 25, 50, 100}
    added = [(g, c) for g, c in full if g["task"] == "adding"]
    assert {(g["init"], c.train.init_seed) for g, c in added} == {(i, s) for i in ("default", "chrono") for s in range(3)}
    for group, config in added:
        assert config.task.name == "adding" and config.task.seq_len == 100 and config.train.stream
        assert config.train.init == group["init"] and config.cells == ("lstm",)
        assert config.task.seed == config.train.init_seed  # both inits of a seed: the same data and weights


def crafted_runs(seeds: int = 6) -> list[dict]:
    """T = 25: full BPTT with λ = 0.96 and k2 = 1 with λ = 0.9 (plus a seed-dependent wobble), σ̂ = 1; each
    measured curve is the leaky prediction plus ±0.0003. Adding: λ 0.9 at init, 0.95 (default) or 0.98
    (chrono) trained."""
    lengths = [5, 25, 100]
    runs = []
    for seed in range(seeds):
        wobble = 0.001 * (seed % 3)
        for k2, lam in ((25, 0.96), (1, 0.9)):
            lam += wobble
            predicted = predictions(lam, 1.0, lengths, 1.0, 25)["leaky"]
            offset = 0.0003 * (-1) ** seed
            runs.append({"group": {"task": "integration", "seq_len": 25, "k2": k2, "init": "default"}, "seed": seed,
                         "config": {"task": {"threshold": 1.0}},
                         "metrics": {"test_accuracy": 0.95, "noise_sigma": 1.0,
                                     "trained": {"eigenvalue": lam, "mode": lam, "alignment": 0.9,
                                                 "readout_vs_sum": 0.5, "slowest_mode": lam},
                                     "by_length": {"lengths": lengths, "accuracy": [a + offset for a in predicted]}}})
        for init, lam in (("default", 0.95), ("chrono", 0.98)):
            runs.append({"group": {"task": "adding", "seq_len": 100, "k2": 100, "init": init}, "seed": seed,
                         "config": {}, "metrics": {
                             "test_accuracy": 0.5,
                             "trained": {"eigenvalue": lam + wobble, "alignment": 0.5},
                             "init": {"eigenvalue": 0.9, "keep_time_constants": [3.0, 10.0, 50.0]}}})
    return runs


def test_the_summary_of_crafted_runs():
    summary = summarise(crafted_runs())
    full, shallow = sorted(summary["integration"], key=lambda r: -r["k2"])
    assert (full["k2"], shallow["k2"]) == (25, 1) and full["decay_rate_vs_full"] is None
    test = shallow["decay_rate_vs_full"]
    wobble = 0.001 * (np.arange(6) % 3)
    expected = np.mean(np.log(0.96 + wobble) - np.log(0.9 + wobble))  # -ln λ at k2 = 1 minus full BPTT's
    assert test["primary"] and test["mean"] == pytest.approx(expected, abs=1e-12) and test["n"] == 6
    assert test["resolved"] and test["p_holm"] == test["p_t"]
    assert shallow["eigenvalue"]["mean"] == pytest.approx(0.901)
    for row in (full, shallow):
        for error in row["leaky_error"]:  # the measured curve is the prediction ± 0.0003: the same within ±0.002
            assert abs(error["mean"]) < 1e-12 and error["equivalent"] and error["margin"] == 0.002
        assert row["mean_abs_error"]["leaky"]["mean"] == pytest.approx(0.0003)
        assert row["leaky_vs_perfect"]["mean"] < 0  # the leak explains the curve better than σ̂ alone
    lam = 0.9 + 0.001  # seed 1's λ at k2 = 1
    assert shallow["leaky"][2]["n"] == 6
    assert shallow["perfect"][0]["mean"] == pytest.approx(leaky_accuracy(1.0, 1.0 / 5, 5, per_step=True))  # σ̂ / √T
    assert shallow["leaky_readout"][1]["mean"] == pytest.approx(np.mean([leaky_accuracy(0.9 + 0.001 * (s % 3), 1.0, 25)
                                                                         for s in range(6)]))
    found = predictions(lam, 1.0, [25, 100], 1.0, 25)
    assert found["leak_only"] == [leaky_accuracy(lam, 0.0, 25), leaky_accuracy(lam, 0.0, 100)]
    assert found["leaky"][0] == pytest.approx(found["leaky_readout"][0], abs=1e-9)  # the same at the training length
    assert predictions(None, 1.0, [5], 1.0, 25)["leaky"] is None
    assert predictions(0.9, np.inf, [5], 1.0, 25)["perfect"] is None
    default, chrono = summary["adding"]
    assert (default["init"], chrono["init"]) == ("default", "chrono") and default["vs_default"] is None
    expected = np.mean(np.log(0.95 + wobble) - np.log(0.98 + wobble))
    assert chrono["vs_default"]["mean"] == pytest.approx(expected, abs=1e-12)
    assert default["trained_vs_init"]["mean"] < 0  # trained keeps more than the init did
    assert default["keep_time_constants"] == {"min": 3.0, "median": 10.0, "max": 50.0}
    tau = -1 / np.log(0.95), -1 / np.log(0.951), -1 / np.log(0.952)
    assert default["within_init_range"] == 1.0 and all(3 <= t <= 50 for t in tau)


def test_a_run_without_fixed_points_is_left_out_not_counted_infinite():
    runs = crafted_runs()
    runs[0]["metrics"]["trained"]["eigenvalue"] = None  # seed 0, full BPTT: no point found
    summary = summarise(runs)
    full = next(r for r in summary["integration"] if r["k2"] == 25)
    assert full["eigenvalue"]["missing"] == 1 and full["eigenvalue"]["infinite"] == 0
    assert full["leaky"][0]["n"] == 5
    shallow = next(r for r in summary["integration"] if r["k2"] == 1)
    assert shallow["decay_rate_vs_full"]["n"] == 5


@pytest.mark.slow
def test_quick_study_end_to_end(cli, tmp_path):
    result = cli("study", "timescale", "--quick", "--seeds", "2", "--out", "s", "--workers", "1", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    study = json.loads((tmp_path / "s" / "study.json").read_text())
    assert study["complete"] and len(study["runs"]) == 10
    for run in study["runs"]:
        trained = run["metrics"]["trained"]
        assert trained["points"] >= 1 and 0 < trained["eigenvalue"] < 1.5
        if run["group"]["task"] == "integration":
            assert run["metrics"]["by_length"]["lengths"] == [3, 6, 24]
        else:
            assert len(run["metrics"]["init"]["keep_time_constants"]) == 25
    rows = study["summary"]["integration"]
    assert [(r["seq_len"], r["k2"]) for r in rows] == [(12, 1), (12, 4), (12, 12)]
    assert rows[0]["decay_rate_vs_full"]["primary"] and not rows[1]["decay_rate_vs_full"]["primary"]
    assert all(r["leaky"][0]["n"] == 2 for r in rows)
    assert [r["init"] for r in study["summary"]["adding"]] == ["default", "chrono"]
    report = (tmp_path / "s" / "report.md").read_text()
    assert "`lstmlab study timescale --quick --seeds 2`" in report and "T = 12, k2 = 1 against full BPTT" in report and "| chrono | 22 |" in report
    assert (tmp_path / "s" / "timescale.png").stat().st_size > 10_000
    again = cli("study", "timescale", "--recompute", "--out", "s", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
