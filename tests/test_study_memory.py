"""The memory study: its plan and parts, its measurements on tiny runs, its censored statistics on crafted runs,
and its report on partial data; the quick study end to end (slow)."""

import json
import math

import pytest

from lstmlab.config import RunConfig
from lstmlab.studies import STUDIES
from lstmlab.studies.base import RunContext
from lstmlab.studies.memory import (COPY_SOLVED, FULL, PAPER, STUDY, arms, config_of, group_of, measure, plan,
                                    plan_part)
from lstmlab.studies.memory_stats import (best_init, capped_log, censored_median, choose, median_interval,
                                          order_ranks, summarise)
from lstmlab.studies.runner import plan_parts
from lstmlab.sweeps.spec import run_name


def crafted(part, task, delay, cell, init, seed, reached, budget=1_000, lr=1e-2, clip=0.0, val_loss=0.1):
    """A finished run as study.json holds it, with the metrics the summary reads."""
    return {"group": group_of(part, task, delay, cell, init, lr, clip), "seed": seed, "seconds": 60.0,
            "metrics": {"sequences_to_criterion": reached, "budget": budget, "final_val_loss": val_loss,
                        "diverged": False, "test_failures": 0 if reached else 2_560, "test_sequences": 2_560,
                        "parameters": 2_851}}


def search_runs(quick: bool, best=(3e-3, 1.0)) -> list[dict]:
    """The search's runs, every setting unsolved but `best`, which reaches the criterion on every seed."""
    runs = []
    for group, config in plan(seeds=10, quick=quick):
        won = (group["lr"], group["clip"]) == best
        run = crafted("search", group["task"], group["T"], group["cell"], group["init"], config.train.init_seed,
                      5_000 if won else None, lr=group["lr"], clip=group["clip"])
        runs.append(run)
    return runs


def test_the_search_is_every_arm_at_every_setting_on_its_own_seeds_on_both_tasks():
    runs = plan(seeds=10, quick=False)
    assert len(arms()) == 7 and ("rnn", "default") in arms() and ("rnn", "chrono") not in arms()
    assert len(runs) == 2 * 7 * 3 * 2 * 3  # tasks x arms x learning rates x clips x search seeds
    assert {c.train.init_seed for _, c in runs} == {1000, 1001, 1002} == {c.task.seed for _, c in runs}
    assert {(g["lr"], g["clip"]) for g, _ in runs} == {(lr, clip) for lr in (1e-3, 3e-3, 1e-2) for clip in (0.0, 1.0)}
    for group, config in runs:
        train, task = config.train, config.task
        assert (train.learning_rate, train.clip_norm) == (group["lr"], group["clip"])
        assert train.stream and train.batch_size == 32 and config.units == 25 and config.layers == (1,)
        assert train.epochs * config.steps_per_epoch * 32 == 192_000  # the search's budget
        assert task.seq_len == (120 if group["task"] == "copy" else 100)  # the copy task's seq_len is T + 20
        assert train.stop == ("paper" if group["task"] == "adding" else "epochs")
        expected = {"forget-1": (1.0, "default"), "forget-5": (5.0, "default"), "chrono": (None, "chrono"),
                    "default": (None, "default")}[group["init"]]
        assert (train.forget_bias, train.init) == expected
    assert len({run_name(c, c.train.init_seed) for _, c in runs}) == len(runs)


def test_the_short_parts_take_each_arms_chosen_setting_and_pair_every_arm_by_seed():
    for delay, budget in ((100, 192_000), (200, 320_000), (500, 512_000)):
        runs = plan_part(f"adding-{delay}", 10, False, search_runs(quick=False))
        assert len(runs) == 7 * 10 and {(g["T"], g["stage"]) for g, _ in runs} == {(delay, "short")}
        assert {(g["lr"], g["clip"]) for g, _ in runs} == {(3e-3, 1.0)}
        seeds = {(g["cell"], g["init"]): sorted(c.train.init_seed for g2, c in runs if g2 == g) for g, _ in runs}
        assert len(seeds) == 7 and all(s == list(range(10)) for s in seeds.values())
        assert {c.train.epochs * c.steps_per_epoch * 32 for _, c in runs} == {budget}
    copy = [c for t in (100, 200, 500) for _, c in plan_part(f"copy-{t}", 12, False, search_runs(quick=False))]
    assert sorted({c.task.seq_len for c in copy}) == [120, 220, 520] and len(copy) == 3 * 7 * 12


def test_the_long_parts_run_each_gated_cells_best_init_at_the_longest_short_t_on_3_seeds():
    search = search_runs(quick=False)
    short = [crafted("adding-500", "adding", g["T"], g["cell"], g["init"], c.train.init_seed,
                     # lstm: forget-5 solves all, chrono 6 of 10; gru: chrono and forget-5 all, chrono faster
                     None if (g["cell"], g["init"]) == ("lstm", "chrono") and c.train.init_seed >= 6 else
                     (1_000 if g["init"] == "chrono" else 2_000 if g["init"] == "forget-5" else None))
             for g, c in plan_part("adding-500", 10, False, search)]
    assert best_init(short, "adding", 500, "lstm") == "forget-5" and best_init(short, "adding", 500, "gru") == "chrono"
    for delay in (1_000, 5_000):
        runs = plan_part(f"adding-{delay}", 10, False, search + short)
        assert [(g["T"], g["stage"], g["cell"], g["init"], c.train.init_seed) for g, c in runs] == [
            (delay, "long", cell, init, s) for cell, init in (("lstm", "forget-5"), ("gru", "chrono"))
            for s in range(3)]
        assert {c.train.epochs * c.steps_per_epoch * 32 for _, c in runs} == {1_024_000 if delay == 1_000 else 512_000}


def test_parts_wait_for_the_parts_they_come_after_and_every_run_has_one_identity():
    search = {run_name(c, c.train.init_seed): r for (g, c), r in zip(plan(10, False), search_runs(False))}
    plans = plan_parts(STUDY, 10, False, {})
    assert isinstance(plans["search"], list) and "run `--part search`" in plans["adding-100"]
    plans = plan_parts(STUDY, 10, False, search)
    short = [f"{task}-{t}" for task in ("adding", "copy") for t in (100, 200, 500)]
    assert all(isinstance(plans[p], list) for p in ["search", *short])
    assert "--part adding-500" in plans["adding-1000"] and "--part copy-500" in plans["copy-1000"]
    names = [p.name for part in ["search", *short] for p in plans[part]]
    assert len(names) == len(set(names)) == 252 + 6 * 70  # the search's seeds are not the grid's
    assert "memory" in STUDIES and [p.name for p in STUDY.parts] == [
        "search", "adding-100", "adding-200", "adding-500", "adding-1000", "adding-5000", "copy-100", "copy-200",
        "copy-500", "copy-1000"]


def test_the_search_chooses_by_most_reached_then_median_then_validation_loss():
    def arm(lr, reached, loss=0.1):
        return [crafted("search", "adding", 100, "lstm", "chrono", 1000 + i, r, lr=lr, val_loss=loss)
                for i, r in enumerate(reached)]
    assert choose(arm(1e-3, [9_000, 9_000, None]) + arm(1e-2, [50_000, 60_000, 70_000])) == {
        ("adding", "lstm", "chrono"): (1e-2, 0.0)}  # 3 reached beat 2, however fast
    assert choose(arm(1e-3, [9_000, 9_000, None]) + arm(1e-2, [5_000, None, 6_000]))[
        ("adding", "lstm", "chrono")] == (1e-2, 0.0)  # as many: the lower median
    assert choose(arm(1e-3, [None] * 3, 0.2) + arm(1e-2, [None] * 3, 0.1))[("adding", "lstm", "chrono")] == (1e-2, 0.0)


def test_the_censored_median_is_finite_only_when_more_than_half_reached():
    assert censored_median([1, 2, 3, None, None]) == 3
    assert censored_median([1, 2, None, None]) is None  # half is not more than half
    assert censored_median([1, 2, 3, None]) == 2.5
    assert censored_median([None, None, None]) is None and censored_median([]) is None


def test_the_order_statistic_interval_of_the_median():
    k, upper, coverage = order_ranks(10)
    assert (k, upper) == (2, 9) and coverage == pytest.approx(1 - 2 * 11 / 1024)
    assert order_ranks(5) is None and order_ranks(6)[:2] == (1, 6)
    values = [10, 20, 30, 40, 50, 60, 70, 80, None, None]
    assert median_interval(values) == {"median": 55.0, "low": 20.0, "high": None, "coverage": coverage}  # x_(9): inf
    assert median_interval(list(range(1, 11)))["high"] == 9.0
    assert median_interval([1, None, 3])["coverage"] is None


def test_comparisons_pair_by_seed_on_capped_log_sequences_and_holm_spares_the_primary():
    runs = []
    for delay in (100, 500):
        for seed in range(10):
            part = f"adding-{delay}"
            runs += [crafted(part, "adding", delay, "lstm", "forget-1", seed, None),  # never: the budget
                     crafted(part, "adding", delay, "lstm", "chrono", seed, 10 * (seed + 1)),
                     crafted(part, "adding", delay, "gru", "chrono", seed, 10 * (seed + 1) * 2)]
    assert capped_log(runs[0]["metrics"]) == 3.0 and capped_log(runs[1]["metrics"]) == 1.0
    summary = json.loads(json.dumps(summarise(runs)))
    tests = {(t["T"], tuple(t["a"]), tuple(t["b"])): t for t in summary["comparisons"]}
    assert set(tests) == {(d, a, b) for d in (100, 500) for a, b in [
        (("lstm", "forget-1"), ("lstm", "chrono")), (("lstm", "chrono"), ("gru", "chrono"))]}
    primary = tests[100, ("lstm", "forget-1"), ("lstm", "chrono")]
    expected = sum(math.log10(10 * (s + 1)) - 3 for s in range(10)) / 10
    assert primary["primary"] and primary["n"] == 10 and primary["mean"] == pytest.approx(expected)
    assert primary["p_holm"] == primary["p_t"] and primary["p"] == pytest.approx(2 / 1024) and primary["resolved"]
    gru = tests[100, ("lstm", "chrono"), ("gru", "chrono")]
    assert not gru["primary"] and gru["mean"] == pytest.approx(math.log10(2))
    assert gru["p_holm"] == pytest.approx(min(1, 2 * gru["p_t"]))  # Holm over the two non-primary tests
    rows = {(r["T"], r["cell"], r["init"]): r for r in summary["rows"]}
    assert rows[100, "lstm", "forget-1"]["median"] is None and rows[100, "lstm", "forget-1"]["reached"] == 0
    assert rows[100, "lstm", "chrono"]["median"] == 55.0 and rows[100, "lstm", "chrono"]["low"] == 20.0
    assert rows[100, "lstm", "chrono"]["paper"] == PAPER[100] and rows[100, "gru", "chrono"]["paper"] is None


def test_the_report_draws_and_says_which_parts_are_missing(tmp_path):
    from lstmlab.studies.memory_report import draw, render

    runs = search_runs(quick=False) + [crafted(f"adding-{t}", "adding", t, cell, init, s, 2_000 * t // 100)
                                       for t in (100, 200, 500) for cell, init in arms() for s in range(10)]
    for run in runs:
        run["config"] = config_of(run["group"]["task"], run["group"]["T"], run["group"]["cell"], run["group"]["init"],
                                  run["group"]["lr"], run["group"]["clip"], run["seed"], False).to_dict()
    done = ("search", "adding-100", "adding-200", "adding-500")
    parts = {p.name: {"what": p.what, "planned": 10, "finished": 10 if p.name in done else 0,
                      "complete": p.name in done} for p in STUDY.parts}
    study = {"study": "memory", "quick": False, "seeds": 10, "runs": runs, "parts": parts, "seconds": 3_600.0,
             "environment": {"backend": "jax"}, "complete": False, "summary": summarise(runs)}
    figures = draw(study, tmp_path)
    assert figures == ["sequences_to_criterion.png"] and (tmp_path / figures[0]).stat().st_size > 20_000
    report = render(study, figures)
    assert "**Incomplete.** Parts still to run: `adding-1000`" in report and "`copy-500`" in report
    assert "`adding-500` (" not in report
    assert "| adding | 500 | lstm | chrono | 0.01 | 0 | 10 of 10 | 10,000 [10,000, 10,000] |" in report
    assert "74,000" in report and "Where this differs from the paper" in report and "primary" in report


def test_a_copy_run_stops_at_the_first_evaluation_meeting_its_criterion(tmp_path, monkeypatch):
    from lstmlab.studies import memory

    config = config_of("copy", 4, "lstm", "chrono", 1e-2, 1.0, 0, quick=True)
    metrics = measure(config, RunContext(tmp_path / "cache", quick=True))
    assert metrics["sequences_to_criterion"] is None and metrics["sequences_seen"] == metrics["budget"] == 256
    assert metrics["curve"]["sequences"][0] == 0 and len(metrics["curve"]["sequences"]) == 256 // (4 * 32) + 1
    assert metrics["test_sequences"] == 2_560 and 0 <= metrics["test_failures"] <= 2_560
    json.dumps(metrics)
    monkeypatch.setattr(memory, "COPY_SOLVED", 0.0)  # any model meets it: the run stops after its first call
    metrics = measure(config, RunContext(tmp_path / "cache", quick=True))
    assert metrics["sequences_to_criterion"] == 0 and metrics["sequences_seen"] == 4 * 32
    assert COPY_SOLVED == 0.99


def test_an_adding_run_trains_on_the_stream_under_the_papers_rule(tmp_path):
    config = config_of("adding", 22, "gru", "forget-5", 1e-2, 0.0, 0, quick=True)
    assert config.train.stop == "paper" and config.train.stream and config.train.forget_bias == 5.0
    metrics = measure(config, RunContext(tmp_path / "cache", quick=True))
    assert metrics["sequences_to_criterion"] is None  # 256 sequences: the rule needs 2,000 at least
    assert metrics["sequences_seen"] == 256 and not metrics["diverged"] and 0 < metrics["train_seconds"]
    assert set(metrics["curve"]) == {"sequences", "val_loss", "val_solved"}


def test_step_seconds_times_a_run_of_the_study_by_the_difference_of_two_lengths(tmp_path, monkeypatch):
    from lstmlab.studies import memory

    made = []

    def timed(config, context):  # 3 s of set-up and compilation (the first run: 20 s), 0.05 s a step
        steps = config.train.epochs * config.steps_per_epoch
        made.append((config.task.seq_len, config.cells, config.train.init, steps))
        return {"train_seconds": (20.0 if len(made) == 1 else 3.0) + 0.05 * steps}

    monkeypatch.setattr(memory, "measure", timed)
    assert memory.step_seconds("copy", 1_000, tmp_path / "cache", steps=(50, 150)) == pytest.approx(0.05)
    assert made == [(1_020, ("lstm",), "chrono", 50), (1_020, ("lstm",), "chrono", 50),
                    (1_020, ("lstm",), "chrono", 150)]  # a warm-up run, then the two timed


def test_the_full_budgets_are_declared_per_task_and_t():
    assert FULL["budget_epochs"]["adding"].keys() == {100, 200, 500, 1_000, 5_000}
    assert FULL["budget_epochs"]["copy"].keys() == {100, 200, 500, 1_000}
    for t, paper in PAPER.items():  # at least the paper's count, and ten times the goal (a tenth of it)
        assert FULL["budget_epochs"]["adding"][t] * FULL["epoch"] >= paper


@pytest.mark.slow
def test_the_quick_study_part_by_part_reuses_runs_and_completes(tmp_path):
    from conftest import lstmlab_cli

    args = ("study", "memory", "--quick", "--seeds", "1", "--out", "s", "--cache-dir", "cache", "--quiet")
    early = lstmlab_cli(*args, "--part", "adding-100", cwd=tmp_path)
    assert early.returncode != 0 and "run `--part search`" in early.stderr and "Traceback" not in early.stderr
    assert lstmlab_cli(*args, "--part", "search", cwd=tmp_path).returncode == 0
    study = json.loads((tmp_path / "s" / "study.json").read_text())
    assert not study["complete"] and study["parts"]["search"]["complete"] and len(study["runs"]) == 28
    assert "**Incomplete.**" in (tmp_path / "s" / "report.md").read_text()
    dry = lstmlab_cli(*args[:-1], "--dry-run", cwd=tmp_path)
    assert "search: 28 runs, 28 already in" in dry.stdout and "adding-100: 7 runs, 0 already" in dry.stdout
    assert "adding-1000: not planned yet" in dry.stdout
    assert lstmlab_cli(*args, "--part", "adding-100", cwd=tmp_path).returncode == 0
    study = json.loads((tmp_path / "s" / "study.json").read_text())
    assert len(study["runs"]) == 35 and not study["complete"] and study["parts"]["adding-100"]["complete"]
    rest = lstmlab_cli(*args, cwd=tmp_path)  # every part left, in order
    assert rest.returncode == 0, rest.stderr
    study = json.loads((tmp_path / "s" / "study.json").read_text())
    assert study["complete"] and all(p["complete"] for p in study["parts"].values())
    assert len(study["runs"]) == 28 + 6 * 7 + 3 * 2 * 2  # search, 6 short parts x 7 arms, 3 long x 2 cells x 2 seeds
    assert (tmp_path / "s" / "sequences_to_criterion.png").exists()
    for run in study["runs"]:
        assert RunConfig.from_dict(run["config"]).train.stream


# The runner's parts, on a stub study whose 'measurement' is counted instead of trained.

def _stub_measure(config, context):
    return {"score": config.train.learning_rate}


def _stub_plan_part(part, seeds, quick, earlier):
    from lstmlab.config import TaskConfig, TrainConfig

    def config(lr, seed):
        return RunConfig(task=TaskConfig(seed=seed), layers=(1,), train=TrainConfig(learning_rate=lr, init_seed=seed))

    if part == "first":
        return [({"part": part, "lr": lr}, config(lr, 100 + s)) for lr in (1e-3, 1e-2) for s in range(2)]
    best = max(earlier, key=lambda run: run["metrics"]["score"])["group"]["lr"]  # the earlier part's choice
    return [({"part": part, "lr": best}, config(best, s)) for s in range(seeds)]


def _stub():
    import dataclasses

    from lstmlab.studies.base import Part

    return dataclasses.replace(
        STUDY, name="stub-parts", measure=_stub_measure, headline=lambda m: "", plan=lambda s, q: [],
        plan_part=_stub_plan_part, summarise=lambda runs: {"parts seen": sorted({r["group"]["part"] for r in runs})},
        draw=lambda study, out: [], render=lambda study, figures: json.dumps(study["parts"]) + "\n",
        parts=(Part("first", "a search"), Part("second", "the grid at its choice", after=("first",))))


def test_a_study_in_parts_runs_one_part_then_the_next_reusing_and_completing(tmp_path):
    from lstmlab.errors import UserError
    from lstmlab.studies.runner import run_study

    stub, out = _stub(), tmp_path / "s"
    with pytest.raises(UserError, match="needs part\\(s\\) first complete first: run `--part first`"):
        run_study(stub, out, tmp_path / "cache", seeds=3, verbose=False, workers=0, part="second")
    first = run_study(stub, out, tmp_path / "cache", seeds=3, verbose=False, workers=0, part="first")
    assert not first["complete"] and len(first["runs"]) == 4 and first["summary"] == {"parts seen": ["first"]}
    assert first["parts"]["first"]["complete"] and first["parts"]["second"] == {
        "what": "the grid at its choice", "planned": 3, "finished": 0, "complete": False}
    again = run_study(stub, out, tmp_path / "cache", seeds=3, verbose=False, workers=0, part="first")
    first = json.loads(json.dumps(first))
    assert again["runs"] == first["runs"]  # nothing made twice; the other part's absence refuses nothing
    second = run_study(stub, out, tmp_path / "cache", seeds=3, verbose=False, workers=0, part="second")
    second = json.loads(json.dumps(second))
    assert second["complete"] and len(second["runs"]) == 7 and second["runs"][:4] == first["runs"]
    assert {r["group"]["lr"] for r in second["runs"][4:]} == {1e-2}  # planned from the first part's runs
    with pytest.raises(UserError, match="outside this plan"):  # fewer seeds would drop the second part's runs
        run_study(stub, out, tmp_path / "cache", seeds=2, verbose=False, workers=0, part="first")


def test_a_study_in_parts_runs_every_part_in_order_without_part(tmp_path):
    from lstmlab.studies.runner import run_study

    study = run_study(_stub(), tmp_path / "s", tmp_path / "cache", seeds=2, verbose=False, workers=0)
    assert study["complete"] and [r["group"]["part"] for r in study["runs"]] == ["first"] * 4 + ["second"] * 2


def test_a_part_is_refused_in_one_line_where_it_does_not_exist(tmp_path):
    from lstmlab.errors import UserError
    from lstmlab.studies.runner import describe_plan, run_study

    with pytest.raises(UserError, match="has no part 'third'; choose from first, second"):
        run_study(_stub(), tmp_path / "s", tmp_path / "cache", verbose=False, workers=0, part="third")
    with pytest.raises(UserError, match="the tbptt study is not run in parts: drop --part first"):
        run_study("tbptt", tmp_path / "t", tmp_path / "cache", verbose=False, workers=0, part="first")
    assert not (tmp_path / "s").exists() and not (tmp_path / "t").exists()
    lines = describe_plan(_stub(), tmp_path / "s", 2, False)
    assert lines[0].startswith("first: 4 runs, 0 already in") and "at most" in lines[0]
    assert lines[1].startswith("second: not planned yet") and len(lines) == 2


def test_the_command_line_refuses_part_or_dry_run_with_recompute_in_one_line(tmp_path):
    from conftest import lstmlab_cli

    for flag in (("--part", "search"), ("--dry-run",)):
        result = lstmlab_cli("study", "memory", "--recompute", *flag, "--out", "s", cwd=tmp_path)
        assert result.returncode != 0 and "--recompute trains nothing" in result.stderr
        assert "Traceback" not in result.stderr and not (tmp_path / "s").exists()
    result = lstmlab_cli("study", "memory", "--part", "adding-100", "--out", "s", cwd=tmp_path)
    assert result.returncode != 0 and "needs part(s) search complete first: run `--part search`" in result.stderr
    assert not (tmp_path / "s").exists()  # refused before --out was claimed
    result = lstmlab_cli("study", "memory", "--part", "adding-7", "--out", "s", cwd=tmp_path)
    assert result.returncode != 0 and "has no part 'adding-7'; choose from search, adding-100" in result.stderr
    assert not (tmp_path / "s").exists()
