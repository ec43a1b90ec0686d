import json

import pytest

from lstmlab.studies.tbptt import GRID, plan


def test_the_default_grid_spans_k_from_1_to_the_length_for_both_targets():
    runs = plan(seeds=5, quick=False)
    assert len(runs) == 5 * 2 * (5 + 4)
    for seq_len, (chunks, _, _) in GRID.items():
        assert chunks[0] == 1 and chunks[-1] == seq_len
    group, config = runs[0]
    assert group == {"seq_len": 25, "target": "final", "k": 1}
    assert (config.task.n_train, config.train.epochs, config.train.tbptt, config.layers) == (64_000, 3, 1, (1,))
    assert {(c.task.seed, c.train.seed) for _, c in runs} == {(s, s) for s in range(5)}


@pytest.fixture(scope="module")
def quick_study(tmp_path_factory):
    from conftest import lstmlab_cli

    root = tmp_path_factory.mktemp("tbptt")
    result = lstmlab_cli("study", "tbptt", "--quick", "--seeds", "2", "--out", "s", "--quiet", cwd=root)
    assert result.returncode == 0, result.stderr
    return root / "s", result


def test_quick_study_writes_runs_figures_and_report(quick_study):
    out, result = quick_study
    study = json.loads((out / "study.json").read_text())
    assert study["complete"] and len(study["runs"]) == 2 * 2 * (3 + 2)
    for run in study["runs"]:
        assert run["config"]["train"]["tbptt"] == run["group"]["k"] and run["seed"] in (0, 1)
        assert 0.5 < run["metrics"]["test_accuracy"] <= 1 and run["metrics"]["epoch_seconds"] > 0
    for name in ("accuracy.png", "cost.png"):
        assert (out / name).stat().st_size > 10_000
    report = (out / "report.md").read_text()
    assert "±" in report and "## seq_len 24" in report and "report.md" in result.stdout


def test_quick_study_measures_what_truncation_changes(quick_study):
    rows = {(r["seq_len"], r["target"], r["k"]): r for r in json.loads((quick_study[0] / "study.json").read_text())["summary"]}
    assert rows[(24, "per-step", 1)]["updates_per_batch"] == 24 and rows[(24, "final", 1)]["updates_per_batch"] == 1
    assert rows[(24, "per-step", 1)]["step_memory_bytes"] < rows[(24, "per-step", 24)]["step_memory_bytes"] / 5
    assert rows[(24, "final", 1)]["step_memory_bytes"] < rows[(24, "final", 24)]["step_memory_bytes"]
    assert rows[(8, "final", 4)]["backprop_steps"] == 4
