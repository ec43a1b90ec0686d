import json

import numpy as np

from lstmlab.studies.objective import DISTANCE_EDGES, distance_bins, plan


def test_both_objectives_get_the_same_data_and_budget():
    runs = plan(seeds=5, quick=False)
    assert [g["objective"] for g, _ in runs] == ["classification"] * 5 + ["regression"] * 5
    for (_, a), (_, b) in zip(runs[:5], runs[5:]):
        assert a.train == b.train
        assert a.task.seed == b.task.seed and a.task.n_train == b.task.n_train == 64_000


def test_distance_bins():
    sums = np.array([1.05, 0.8, 1.3, 2.5, -3.0, 7.0])  # distances 0.05 0.2 0.3 1.5 4 6
    assert distance_bins(sums, 1.0).tolist() == [0, 1, 2, 4, 6, 6]
    assert len(DISTANCE_EDGES) == 8


def test_quick_study_end_to_end_and_a_rerun_reuses_it(cli, tmp_path):
    first = cli("study", "objective", "--quick", "--seeds", "2", "--out", "s", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    study = json.loads((tmp_path / "s" / "study.json").read_text())
    assert [r["group"]["objective"] for r in study["runs"]] == ["classification"] * 2 + ["regression"] * 2
    for run in study["runs"]:
        curve = run["metrics"]["curve"]
        assert curve["samples"][0] == 0 and curve["samples"][-1] == 2 * 960  # 2 epochs
        assert sum(run["metrics"]["by_distance"]["count"]) == 512
        assert run["metrics"]["noise_sigma"] >= 0
    rows = {r["objective"]: r for r in study["summary"]}
    assert rows["classification"]["curve_mean"][-1] > rows["classification"]["curve_mean"][0]
    for name in ("learning_curves.png", "accuracy_by_distance.png", "test_accuracy.png"):
        assert (tmp_path / "s" / name).stat().st_size > 10_000
    assert "± " in (tmp_path / "s" / "report.md").read_text()

    again = cli("study", "objective", "--quick", "--seeds", "2", "--out", "s", cwd=tmp_path)
    assert again.returncode == 0 and "4 finished runs reused" in again.stdout and "[" not in again.stdout
    assert json.loads((tmp_path / "s" / "study.json").read_text())["runs"] == study["runs"]
