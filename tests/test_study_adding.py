import json

import numpy as np
import pytest

from lstmlab.config import RunConfig
from lstmlab.studies import STUDIES
from lstmlab.studies.base import RunContext
from lstmlab.studies.adding import (CELLS, MAX_WRONG, PAPER_TEST, allowed_wrong, budget, plan, sequences_seen,
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


# The study's own training loop before it used fit: the oracle its results must still equal.

def _schedule(n_train: int, batch_size: int, epochs: int, every: int):
    """(epoch, first step, stop step, sequences seen at stop) of each compiled call, in order."""
    steps = -(-n_train // batch_size)
    for epoch in range(1, epochs + 1):
        for first in range(0, steps, every):
            stop = min(steps, first + every)
            yield epoch, first, stop, (epoch - 1) * n_train + min(stop * batch_size, n_train)


def _measure_by_its_own_loop(config, cache_dir) -> dict:
    """`measure` as it was: the test split scored at step 0 and after every call of `_schedule`."""
    from lstmlab import tasks
    from lstmlab.core.batches import epoch_permutation, stack_batches
    from lstmlab.core.data import load_or_create
    from lstmlab.core.model import build_model
    from lstmlab.core.train import Trainer

    task = tasks.of(config.task)
    data, _ = load_or_create(config.task, cache_dir)
    (x_train, y_train), (x_test, y_test) = data["train"], data["test"]
    trainer = Trainer(build_model(config.models[0], seed=config.train.init_seed, task=task), config.train, task)
    max_wrong, truth = allowed_wrong(len(x_test)), task.truth(y_test)
    curve = {"sequences": [], "solved": [], "wrong": [], "mse": []}

    def evaluate(sequences: int) -> bool:
        predictions = trainer.predict(x_test)
        correct = task.correct(predictions, truth)
        curve["sequences"].append(sequences)
        curve["solved"].append(float(correct.mean()))
        curve["wrong"].append(int(np.sum(~correct)))
        curve["mse"].append(task.objective.numpy_loss(y_test, predictions))
        return curve["wrong"][-1] <= max_wrong

    diverged, train = False, config.train
    calls = () if evaluate(0) else _schedule(len(x_train), train.batch_size, train.epochs, train.steps_per_call)
    stacked_epoch = None
    for epoch, first, stop, sequences in calls:
        if stacked_epoch != epoch:
            order = epoch_permutation(len(x_train), train.init_seed, epoch)
            xs, ys, ws = stack_batches(x_train, y_train, train.batch_size, order)
            stacked_epoch = epoch
        losses = trainer.train_steps(xs[first:stop], ys[first:stop], ws[first:stop])
        if not np.all(np.isfinite(losses)):
            diverged = True
            break
        if evaluate(sequences):
            break
    return {"sequences_to_criterion": sequences_to_criterion(curve, max_wrong), "diverged": diverged, "curve": curve}


def test_fits_calls_and_sequences_are_those_of_the_studys_own_schedule():
    from lstmlab.config import steps_per_epoch
    from lstmlab.core.train import call_bounds

    calls = list(_schedule(n_train=64_000, batch_size=32, epochs=5, every=100))
    assert len(calls) == 5 * 20 and calls[0] == (1, 0, 100, 3200) and calls[20] == (2, 0, 100, 67_200)
    assert calls[-1] == (5, 1900, 2000, 320_000)
    # 100 sequences in batches of 32: 4 steps, the last one partial; calls of 3 steps.
    assert list(_schedule(100, 32, 2, 3)) == [(1, 0, 3, 96), (1, 3, 4, 100), (2, 0, 3, 196), (2, 3, 4, 200)]
    # fit's calls without a checkpoint cadence, and the sequences the study counts at each: the same.
    for n_train, batch_size, epochs, every in [(64_000, 32, 5, 100), (100, 32, 2, 3), (1_600, 32, 4, 25),
                                               (1_000, 32, 3, 7), (50, 64, 2, 5)]:
        through_fit = [(epoch, first, stop, sequences_seen(n_train, batch_size, epoch, stop))
                       for epoch in range(1, epochs + 1)
                       for first, stop in call_bounds(0, steps_per_epoch(n_train, batch_size), every, 0)]
        assert through_fit == list(_schedule(n_train, batch_size, epochs, every))
    assert sequences_seen(1_600, 32, 1, 0) == 0


@pytest.mark.parametrize("cell", CELLS)
def test_measure_through_fit_gives_the_curve_of_the_studys_own_loop(tmp_path, cell):
    from lstmlab.studies import adding

    config = next(c for group, c in plan(seeds=1, quick=True) if group["cell"] == cell)
    metrics = adding.measure(config, RunContext(cache_dir=tmp_path / "cache", quick=True))
    expected = _measure_by_its_own_loop(config, tmp_path / "cache")
    assert metrics["curve"] == expected["curve"]  # every point, exactly
    assert len(metrics["curve"]["sequences"]) > 2
    assert (metrics["sequences_to_criterion"], metrics["diverged"]) == (expected["sequences_to_criterion"], False)


def test_a_non_finite_loss_ends_a_run_as_diverged_where_the_studys_own_loop_did(tmp_path, monkeypatch):
    from lstmlab.core.train import Trainer
    from lstmlab.studies import adding

    calls, train_steps = {"n": 0}, Trainer.train_steps

    def diverging(self, *batches):  # the third compiled call's losses become NaN
        calls["n"] += 1
        losses = train_steps(self, *batches)
        return losses * np.nan if calls["n"] == 3 else losses

    monkeypatch.setattr(Trainer, "train_steps", diverging)
    _, config = plan(seeds=1, quick=True)[0]
    metrics = adding.measure(config, RunContext(cache_dir=tmp_path / "cache", quick=True))
    calls["n"] = 0
    expected = _measure_by_its_own_loop(config, tmp_path / "cache")
    assert metrics["diverged"] and expected["diverged"] and metrics["sequences_to_criterion"] is None
    assert metrics["curve"] == expected["curve"] and metrics["curve"]["sequences"] == [0, 800, 1600]
    assert metrics["sequences_seen"] == 1600 and 0 < metrics["train_seconds"] <= metrics["seconds"]


def test_a_run_stops_at_the_first_evaluation_within_the_criterion(tmp_path, monkeypatch):
    from lstmlab.studies import adding

    monkeypatch.setattr(adding, "allowed_wrong", lambda n_test: n_test)  # any model meets it, even untrained
    _, config = plan(seeds=1, quick=True)[0]
    metrics = adding.measure(config, RunContext(cache_dir=tmp_path / "cache", quick=True))
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
