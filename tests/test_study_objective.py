import json

import numpy as np

from lstmlab.studies.objective import (DISTANCE_EDGES, LEARNING_RATES, OBJECTIVES, TARGETS, distance_bins, plan,
                                       summarise)


def test_every_arm_gets_the_same_data_initial_weights_and_budget():
    runs = plan(seeds=3, quick=False)
    assert len(runs) == len(OBJECTIVES) * len(TARGETS) * len(LEARNING_RATES) * 3
    by_seed = {}
    for group, config in runs:
        assert config.task.objective == group["objective"] and config.task.target == group["target"]
        assert config.train.learning_rate == group["learning_rate"] and config.task.n_train == 64_000
        by_seed.setdefault(config.train.init_seed, set()).add((config.task.seed, config.train.epochs, repr(config.models)))
    assert all(len(same) == 1 for same in by_seed.values())  # only the objective, target and rate differ


def test_distance_bins():
    sums = np.array([1.05, 0.8, 1.3, 2.5, -3.0, 7.0])  # distances 0.05 0.2 0.3 1.5 4 6
    assert distance_bins(sums, 1.0).tolist() == [0, 1, 2, 4, 6, 6]
    assert len(DISTANCE_EDGES) == 8


def _run(objective, target, rate, seed, val, test):
    metrics = {"test_accuracy": test, "noise_sigma": 1 - test,
               "curve": {"samples": [0, 10], "val_accuracy": [0.5, val]},
               "by_distance": {"count": [1] * 7, "accuracy": [test] * 7}}
    group = {"objective": objective, "target": target, "learning_rate": rate}
    return {"group": group, "seed": seed, "metrics": metrics}


def test_the_best_rate_is_chosen_on_validation_and_comparisons_pair_seeds():
    runs = []
    for seed in range(6):  # six pairs: the sign-flip p can reach 2 / 64
        # the test set favours the rate that validation does not: the choice must follow validation
        for rate, val, test in ((1e-3, 0.90, 0.99), (3e-3, 0.95, 0.90)):
            runs.append(_run("classification", "final", rate, seed, val, test + 0.001 * seed))
        runs.append(_run("label-regression", "final", 1e-3, seed, 0.9, 0.92 + 0.001 * seed + 0.0001 * (seed % 2)))
    summary = summarise(runs)
    assert summary["best"] == {"classification final": 3e-3, "label-regression final": 1e-3}
    [loss] = summary["comparisons"]  # the only one both of whose arms ran
    assert loss["a"] == "classification final" and loss["b"] == "label-regression final"
    assert loss["test_accuracy"]["n"] == 6 and abs(loss["test_accuracy"]["mean"] - 0.02005) < 1e-9
    assert loss["test_accuracy"]["resolved"] and loss["test_accuracy"]["p"] == 2 / 64
    assert not loss["test_accuracy"]["primary"] and loss["test_accuracy"]["margin"] == 0.002


def test_quick_study_end_to_end_and_a_rerun_reuses_it(cli, tmp_path):
    first = cli("study", "objective", "--quick", "--seeds", "2", "--out", "s", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    study = json.loads((tmp_path / "s" / "study.json").read_text())
    assert len(study["runs"]) == 3 * 2 * 2 * 2
    for run in study["runs"]:
        curve = run["metrics"]["curve"]
        assert curve["samples"][0] == 0 and curve["samples"][-1] == 2 * 960  # 2 epochs
        assert sum(run["metrics"]["by_distance"]["count"]) == 512
        assert run["metrics"]["noise_sigma"] >= 0
    assert len(study["summary"]["best"]) == 6 and len(study["summary"]["comparisons"]) == 8
    for name in ("comparisons.png", "by_learning_rate.png", "accuracy_by_distance.png", "learning_curves.png"):
        assert (tmp_path / "s" / name).stat().st_size > 10_000
    report = (tmp_path / "s" / "report.md").read_text()
    assert "## Paired differences" in report and "label-regression" in report

    again = cli("study", "objective", "--quick", "--seeds", "2", "--out", "s", cwd=tmp_path)
    assert again.returncode == 0 and "24 finished runs reused" in again.stdout and "[" not in again.stdout
    assert json.loads((tmp_path / "s" / "study.json").read_text())["runs"] == study["runs"]
