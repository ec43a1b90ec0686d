"""The length study: its plan, the probe against known answers, the test labels, and the quick study end to end."""

import json

import numpy as np
import pytest

from lstmlab import tasks
from lstmlab.config import TaskConfig
from lstmlab.studies.tables import ci
from lstmlab.studies.length import TEST, fresh_sequences, length_scores, plan, probe_r2, probe_steps, summarise


def test_plan_counts_groups_and_shared_data():
    runs = plan(seeds=3, quick=False)
    assert len(runs) == 3 * 2 * 2 * 3
    assert {tuple(g.values()) for g, _ in runs} == {(c, o, t) for c in ("lstm", "gru", "rnn")
                                                  for o in ("classification", "regression") for t in (25, 100)}
    for group, config in runs:
        assert config.cells == (group["cell"],) and config.layers == (1,) and config.units == 25
        assert config.task.seq_len == group["train_len"] and config.task.objective == group["objective"]
        assert (config.task.n_train, config.task.n_val, config.task.n_test) == (64_000, 4_000, 16_000)
        assert config.task.threshold == 1.0 and config.task.target == "final"
        assert config.task.seed == config.train.init_seed  # every cell and objective of a seed sees the same data
        assert config.train.epochs == 3 and config.train.learning_rate == 1e-3 and config.train.batch_size == 32
    quick = plan(seeds=2, quick=True)
    assert len(quick) == 3 * 2 * 2 and {c.task.seq_len for _, c in quick} == {6}


def test_probe_finds_a_unit_that_holds_the_sum_and_nothing_in_noise():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2000, 12))
    running_sum = np.cumsum(x, axis=1)  # (B, T)
    noise = rng.standard_normal((2000, 12, 8))  # (B, T, u)
    holding = noise.copy()
    holding[:, :, 3] = 0.5 * running_sum - 2  # one unit integrates (up to scale and offset)
    found = probe_r2(holding, running_sum)
    assert np.allclose(found["r2"], 1, atol=1e-9) and np.allclose(found["best_unit"], 1, atol=1e-9)
    blind = probe_r2(noise, running_sum)
    assert np.all(blind["r2"] <= 0.1) and np.all(blind["best_unit"] <= 0.15)
    assert found["r2"].shape == blind["best_unit"].shape == (12,)


def test_probe_r2_agrees_with_lstsq():
    rng = np.random.default_rng(1)
    running_sum = np.cumsum(rng.standard_normal((300, 5)), axis=1)  # (B, T)
    states = np.tanh(running_sum[:, :, None] * rng.standard_normal(6) + rng.standard_normal((300, 5, 6)))  # (B, T, u)
    r2 = probe_r2(states, running_sum)["r2"]
    for t in range(5):
        design = np.column_stack([np.ones(150), states[:150, t]])
        weights = np.linalg.lstsq(design, running_sum[:150, t], rcond=None)[0]
        held = running_sum[150:, t]
        residual = held - np.column_stack([np.ones(150), states[150:, t]]) @ weights
        assert r2[t] == pytest.approx(1 - residual @ residual / np.sum((held - held.mean()) ** 2), abs=1e-9)


def test_the_test_lengths_score_fresh_sequences_against_their_own_labels():
    seen = {}

    def always_no(x):  # a classifier with p = 0 everywhere: the majority answer "no"
        seen[x.shape[1]] = x
        return np.zeros(len(x), np.float32)

    config = TaskConfig(seq_len=6, seed=3)
    scores = length_scores(always_no, config, majority=False, lengths=(3, 50), n=400)
    for i, length in enumerate((3, 50)):
        below = np.mean(seen[length].astype(np.float64).sum(axis=1) <= 1.0)  # recomputed here
        assert scores["majority"][i] == pytest.approx(below) and scores["accuracy"][i] == pytest.approx(below)
        assert scores["sigma"][i] is None or scores["sigma"][i] > 0
    assert not np.array_equal(seen[3][:5], tasks.of(TaskConfig(seq_len=3, seed=3)).generate()["train"][0][:5])
    assert np.array_equal(fresh_sequences(3, 50, 400, TEST), seen[50])  # reproducible

    regression = TaskConfig(seq_len=6, seed=3, objective="regression")  # the exact sum: every answer right
    exact = length_scores(lambda x: x.astype(np.float64).sum(axis=1), regression, False, (3, 50), 400)
    assert exact["accuracy"] == [1.0, 1.0] and exact["sigma"] == [0.0, 0.0]


def _run(seed, objective, accuracy, sigma):
    curve = {"r2": [0.5, 0.9], "best_unit": [0.4, 0.8]}
    metrics = {"test_accuracy": 0.9, "by_length": {"lengths": [5, 25], "accuracy": accuracy, "sigma": sigma,
                                                   "majority": [0.6, 0.6]},
               "probe": {"trained": {"h": curve}, "init": {"h": curve}}}
    return {"group": {"cell": "rnn", "objective": objective, "train_len": 25}, "seed": seed, "metrics": metrics}


def test_summary_gives_sigma_over_the_finite_seeds_and_counts_the_infinite_ones():
    sigmas = ([None, 0.2], [0.4, 0.3], [0.6, 0.4])  # None: σ̂ infinite
    (row,) = summarise([_run(seed, "regression", [0.8, 0.9], sigma) for seed, sigma in enumerate(sigmas)])
    at_5, at_25 = row["sigma"]
    assert (at_5["n"], at_5["infinite"], at_5["mean"]) == (3, 1, pytest.approx(0.5))
    assert (at_25["infinite"], at_25["mean"]) == (0, pytest.approx(0.3))
    assert ci(at_5, 2).endswith("(1 of 3: ∞)")
    assert "accuracy_vs_classification" not in row  # no classifier to pair with


def test_regression_is_paired_with_the_classifier_of_its_seed():
    # Seeds differ by 0.1; regression is 0.02 above at length 5 in every seed, level at 25.
    runs = [_run(seed, "classification", [0.7 + 0.1 * (seed % 2), 0.9], [0.3, 0.2]) for seed in range(6)]
    runs += [_run(seed, "regression", [0.72 + 0.1 * (seed % 2), 0.9], [0.3, 0.2]) for seed in range(6)]
    regression = next(r for r in summarise(runs) if r["objective"] == "regression")
    at_5, at_25 = regression["accuracy_vs_classification"]
    assert at_5["mean"] == pytest.approx(0.02) and at_5["resolved"] and at_5["ci_low"] > 0
    assert at_25["mean"] == 0 and not at_25["resolved"]


def test_probe_steps():
    assert probe_steps(25, 100) == [1, 12, 25, 50, 99]
    assert probe_steps(6, 12) == [1, 3, 6, 11]


@pytest.mark.slow
def test_quick_study_end_to_end(cli, tmp_path):
    result = cli("study", "length", "--quick", "--seeds", "2", "--out", "s", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    study = json.loads((tmp_path / "s" / "study.json").read_text())
    assert study["complete"] and len(study["runs"]) == 12 and len(study["summary"]) == 6
    for run in study["runs"]:
        metrics = run["metrics"]
        assert metrics["by_length"]["lengths"] == [3, 6, 24] and metrics["majority_answer"] is False
        assert all(0 <= a <= 1 for a in metrics["by_length"]["accuracy"])
        states = {"h", "c"} if run["group"]["cell"] == "lstm" else {"h"}
        for phase in ("trained", "init"):
            assert set(metrics["probe"][phase]) == states
            assert len(metrics["probe"][phase]["h"]["r2"]) == 12  # 2 x the training length of 6
    for name in ("accuracy_vs_length.png", "regression_vs_classification.png", "sigma_vs_length.png", "probe.png"):
        assert (tmp_path / "s" / name).stat().st_size > 10_000
    report = (tmp_path / "s" / "report.md").read_text()
    assert "`lstmlab study length --quick --seeds 2`" in report
    assert "| lstm | classification | " in report and "| majority answer |" in report
    assert "| lstm | regression | c: R² |" in report
