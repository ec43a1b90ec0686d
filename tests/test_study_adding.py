import json

import pytest

from lstmlab.config import RunConfig
from lstmlab.studies import STUDIES
from lstmlab.studies.adding import (CELLS, MAX_WRONG, PAPER_TEST, allowed_wrong, budget, plan, schedule,
                                    sequences_to_criterion)


def test_the_full_plan_is_one_1_layer_model_per_cell_and_seed_at_t_100():
    runs = plan(seeds=3, quick=False)
    assert [g["cell"] for g, _ in runs] == ["lstm"] * 3 + ["gru"] * 3 + ["rnn"] * 3
    for group, config in runs:
        assert config.cells == (group["cell"],) and config.layers == (1,) and config.units == 25
        assert len(config.models) == 1
        task, train = config.task, config.train
        assert (task.name, task.seq_len, task.n_train, task.n_test) == ("adding", 100, 64_000, PAPER_TEST)
        assert (train.batch_size, train.learning_rate, train.steps_per_call) == (32, 1e-2, 100)
        assert budget(config) == 320_000
    assert {(c.task.seed, c.train.init_seed) for _, c in runs} == {(s, s) for s in range(3)}
    assert "adding" in STUDIES


def test_the_criterion_is_max_wrong_of_the_papers_test_set_scaled():
    assert allowed_wrong(PAPER_TEST) == MAX_WRONG == 5
    assert allowed_wrong(256) == 0 and allowed_wrong(2 * PAPER_TEST) == 10


def test_the_first_point_within_the_criterion_decides():
    curve = {"sequences": [0, 3200, 6400, 9600, 12800], "wrong": [2500, 40, 5, 7, 0]}
    assert sequences_to_criterion(curve, 5) == 6400  # 5 is allowed; a later relapse does not matter
    assert sequences_to_criterion(curve, 4) == 12800
    assert sequences_to_criterion(curve, 0) == 12800
    assert sequences_to_criterion({"sequences": [0, 3200], "wrong": [2500, 6]}, 5) is None
    assert sequences_to_criterion({"sequences": [0], "wrong": [0]}, 0) == 0


def test_the_schedule_counts_sequences_across_epochs_and_partial_batches():
    calls = list(schedule(n_train=64_000, batch_size=32, epochs=5, every=100))
    assert len(calls) == 5 * 20 and calls[0] == (1, 0, 100, 3200) and calls[20] == (2, 0, 100, 67_200)
    assert calls[-1] == (5, 1900, 2000, 320_000)
    # 100 sequences in batches of 32: 4 steps, the last one partial; calls of 3 steps.
    assert list(schedule(100, 32, 2, 3)) == [(1, 0, 3, 96), (1, 3, 4, 100), (2, 0, 3, 196), (2, 3, 4, 200)]


def test_a_run_stops_at_the_first_evaluation_within_the_criterion(tmp_path, monkeypatch):
    from lstmlab.studies import adding

    monkeypatch.setattr(adding, "allowed_wrong", lambda n_test: n_test)  # any model meets it, even untrained
    _, config = plan(seeds=1, quick=True)[0]
    metrics = adding.measure(config, tmp_path / "cache")
    assert metrics["sequences_to_criterion"] == 0 == metrics["sequences_seen"]
    assert metrics["curve"]["sequences"] == [0] and metrics["train_seconds"] == 0
    json.dumps(metrics)


@pytest.fixture(scope="module")
def quick_study(tmp_path_factory):
    from conftest import lstmlab_cli

    root = tmp_path_factory.mktemp("adding")
    result = lstmlab_cli("study", "adding", "--quick", "--seeds", "2", "--out", "s", "--cache-dir", "cache",
                         "--quiet", cwd=root)
    assert result.returncode == 0, result.stderr
    return root / "s", result


def test_quick_study_writes_every_run_a_figure_and_a_report(quick_study):
    out, result = quick_study
    study = json.loads((out / "study.json").read_text())
    assert study["complete"] and study["study"] == "adding"
    assert [(r["group"]["cell"], r["seed"]) for r in study["runs"]] == [(c, s) for c in CELLS for s in (0, 1)]
    assert [r["cell"] for r in study["summary"]] == list(CELLS)
    assert all(row["seeds"] == 2 and 0 <= row["reached"] <= 2 for row in study["summary"])
    assert (out / "learning_curves.png").stat().st_size > 10_000
    report = (out / "report.md").read_text()
    assert "lstmlab study adding --quick --seeds 2" in report and "±" in report and "74,000" in report
    assert "report.md" in result.stdout


def test_quick_study_metrics_are_consistent(quick_study):
    study = json.loads((quick_study[0] / "study.json").read_text())
    for run in study["runs"]:
        config, m = RunConfig.from_dict(run["config"]), run["metrics"]
        curve = m["curve"]
        assert config.task.seq_len == 22 and m["max_wrong"] == allowed_wrong(config.task.n_test)
        assert curve["sequences"][0] == 0 and curve["sequences"] == sorted(curve["sequences"])
        assert len(curve["sequences"]) == len(curve["solved"]) == len(curve["wrong"]) == len(curve["mse"])
        for solved, wrong in zip(curve["solved"], curve["wrong"]):
            assert wrong == round((1 - solved) * config.task.n_test)
        assert (m["final_solved"], m["final_wrong"], m["final_mse"]) == (
            curve["solved"][-1], curve["wrong"][-1], curve["mse"][-1])
        assert m["sequences_seen"] == curve["sequences"][-1] <= m["budget"] == budget(config)
        if m["sequences_to_criterion"] is not None:
            assert m["final_wrong"] <= m["max_wrong"] and m["sequences_to_criterion"] == m["sequences_seen"]
            assert all(w > m["max_wrong"] for w in curve["wrong"][:-1])
        elif not m["diverged"]:
            assert m["sequences_seen"] == m["budget"]
            assert all(w > m["max_wrong"] for w in curve["wrong"])
        assert 0 <= m["train_seconds"] <= m["seconds"]
