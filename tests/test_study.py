"""The study driver: resuming, refusing, summarising. A stub study stands in for training."""

import dataclasses
import json

import pytest

from lstmlab.config import RunConfig, TaskConfig, TrainConfig
from lstmlab.core import workdir
from lstmlab.errors import UserError
from lstmlab.studies.base import RunContext, Study, groups
from lstmlab.studies.runner import run_study
from lstmlab.studies.tables import pm
from lstmlab.sweeps.stats import mean_std

calls = []  # the configs the stub study "measured", in order
contexts = []  # what each measurement was told


def _measure(config, context):
    calls.append(config)
    contexts.append(context)
    return {"score": config.task.seq_len + config.task.seed}


STUB = Study(
    name="stub", question="a study of 2 settings x seeds whose 'measurement' is counted instead of trained",
    plan=lambda seeds, quick: [({"setting": s}, RunConfig(task=TaskConfig(seed=seed, seq_len=5 + s), layers=(1,),
                                                          train=TrainConfig(init_seed=seed)))
                               for s in (1, 2) for seed in range(seeds)],
    measure=_measure,
    headline=lambda metrics: f"score {metrics['score']}",
    summarise=lambda runs: [{"setting": key[0], "score": mean_std([r["metrics"]["score"] for r in members])}
                            for key, members in groups(runs, ("setting",)).items()],
    draw=lambda study, out: [],
    render=lambda study, figures: f"{len(study['runs'])} runs\n",
)


@pytest.fixture
def stub_study():
    calls.clear()
    contexts.clear()
    return calls


def test_a_study_records_every_run_and_summarises(stub_study, tmp_path):
    study = run_study(STUB, tmp_path / "s", tmp_path / "cache", seeds=3, verbose=False, workers=0)
    saved = json.loads((tmp_path / "s" / "study.json").read_text())
    assert saved == json.loads(json.dumps(study)) and saved["complete"]
    assert [(r["group"]["setting"], r["seed"]) for r in saved["runs"]] == [(s, seed) for s in (1, 2) for seed in range(3)]
    assert RunConfig.from_dict(saved["runs"][4]["config"]).task.seed == 1
    assert saved["summary"][0]["score"] == [7.0, 1.0]  # 6, 7, 8
    assert (tmp_path / "s" / "report.md").read_text() == "6 runs\n"


def test_a_rerun_reuses_finished_runs_and_force_starts_over(stub_study, tmp_path):
    run_study(STUB, tmp_path / "s", tmp_path / "cache", seeds=2, verbose=False, workers=0)
    assert len(stub_study) == 4
    run_study(STUB, tmp_path / "s", tmp_path / "cache", seeds=3, verbose=False, workers=0)  # only seed 2 is new
    assert len(stub_study) == 6
    run_study(STUB, tmp_path / "s", tmp_path / "cache", seeds=3, force=True, verbose=False, workers=0)
    assert len(stub_study) == 12


def test_measure_is_told_the_cache_and_whether_the_study_is_quick(stub_study, tmp_path):
    run_study(STUB, tmp_path / "s", tmp_path / "cache", seeds=1, quick=True, verbose=False, workers=0)
    assert contexts == [RunContext(cache_dir=(tmp_path / "cache").resolve(), quick=True)] * 2
    run_study(STUB, tmp_path / "full", tmp_path / "cache", seeds=1, verbose=False, workers=0)
    assert [c.quick for c in contexts] == [True, True, False, False]


def test_a_study_is_found_by_name_and_an_unknown_name_is_one_line(tmp_path):
    from lstmlab.studies.runner import _study

    assert _study("tbptt").name == "tbptt" and _study(STUB) is STUB
    with pytest.raises(UserError, match="no study named 'tbbpt'; choose from tbptt, "):
        run_study("tbbpt", tmp_path / "s", tmp_path / "cache", verbose=False, workers=0)
    assert not (tmp_path / "s").exists()


def test_a_failed_run_keeps_the_others_and_a_rerun_retries_only_it(stub_study, tmp_path):
    from lstmlab.errors import RunsFailedError

    def fails_on_setting_2_seed_1(config, context):
        if (config.task.seq_len, config.task.seed) == (7, 1):
            raise ValueError("no good")
        return _measure(config, context)

    with pytest.raises(RunsFailedError, match="1 of 4 runs failed, first setting 2, seed 1: ValueError: no good"):
        run_study(dataclasses.replace(STUB, measure=fails_on_setting_2_seed_1), tmp_path / "s", tmp_path / "cache",
                  seeds=2, verbose=False, workers=0)
    kept = json.loads((tmp_path / "s" / "study.json").read_text())
    assert not kept["complete"]
    assert [(r["group"]["setting"], r["seed"]) for r in kept["runs"]] == [(1, 0), (1, 1), (2, 0)]
    study = run_study(STUB, tmp_path / "s", tmp_path / "cache", seeds=2, verbose=False, workers=0)
    assert len(stub_study) == 4 and study["complete"]  # 3, then only the failed one


def test_a_rerun_that_would_drop_finished_runs_is_refused(stub_study, tmp_path):
    run_study(STUB, tmp_path / "s", tmp_path / "cache", seeds=3, verbose=False, workers=0)
    with pytest.raises(UserError, match="holds 2 finished run\\(s\\) outside this plan"):
        run_study(STUB, tmp_path / "s", tmp_path / "cache", seeds=2, verbose=False, workers=0)  # seed 2 would go
    assert len(json.loads((tmp_path / "s" / "study.json").read_text())["runs"]) == 6 and len(stub_study) == 6


def test_a_rerun_gives_reused_runs_the_groups_of_todays_plan(stub_study, tmp_path):
    run_study(STUB, tmp_path / "s", tmp_path / "cache", seeds=2, verbose=False, workers=0)
    more = [({**group, "budget": "short"}, config) for group, config in STUB.plan(2, False)]  # a setting named anew
    grown = dataclasses.replace(STUB, plan=lambda seeds, quick: more,
                                summarise=lambda runs: [r["group"]["budget"] for r in runs])
    study = run_study(grown, tmp_path / "s", tmp_path / "cache", seeds=2, verbose=False, workers=0)
    assert len(stub_study) == 4 and study["summary"] == ["short"] * 4  # nothing measured again


def test_an_interrupted_study_keeps_its_finished_runs(stub_study, tmp_path):
    def dies_on_the_third(config, context):
        if len(stub_study) == 2:
            raise KeyboardInterrupt
        return _measure(config, context)

    with pytest.raises(KeyboardInterrupt):
        run_study(dataclasses.replace(STUB, measure=dies_on_the_third), tmp_path / "s", tmp_path / "cache", seeds=2,
                  verbose=False, workers=0)
    partial = json.loads((tmp_path / "s" / "study.json").read_text())
    assert not partial["complete"] and len(partial["runs"]) == 2
    run_study(STUB, tmp_path / "s", tmp_path / "cache", seeds=2, verbose=False, workers=0)
    assert len(stub_study) == 4  # 2 before the interruption, 2 after


def test_another_studys_directory_or_a_damaged_file_is_refused(stub_study, tmp_path):
    workdir.claim(tmp_path / "s", "study", "--out")  # a study directory lstmlab made ...
    (tmp_path / "s" / "study.json").write_text(json.dumps({"study": "tbptt", "runs": []}))  # ... for another study
    with pytest.raises(UserError, match="holds the 'tbptt' study"):
        run_study(STUB, tmp_path / "s", tmp_path / "cache", seeds=1, verbose=False, workers=0)
    (tmp_path / "s" / "study.json").write_text("{not json")
    with pytest.raises(UserError, match="damaged"):
        run_study(STUB, tmp_path / "s", tmp_path / "cache", seeds=1, verbose=False, workers=0)
    assert (tmp_path / "s" / "study.json").read_text() == "{not json"  # nothing overwritten


def test_mean_and_sample_standard_deviation():
    assert mean_std([1.0, 2.0, 3.0]) == (2.0, 1.0)
    assert mean_std([0.5]) == (0.5, 0.0)
    assert pm(*mean_std([0.98, 0.99]), 3) == "0.985 ± 0.007"


def test_the_cli_offers_exactly_the_studies_there_are():
    from lstmlab.cli import build_parser
    from lstmlab.studies import STUDIES

    study_parser = build_parser()._subparsers._group_actions[0].choices["study"]
    (name,) = [a for a in study_parser._actions if a.dest == "name"]
    assert list(name.choices) == list(STUDIES) and all(isinstance(s, Study) for s in STUDIES.values())


def test_describe_finite_counts_infinite_seeds_apart_and_ci_says_so():
    from lstmlab.studies.tables import ci, interval_text as interval
    from lstmlab.sweeps.stats import describe_finite

    mixed = describe_finite([0.2, 0.3, float("inf"), None, 0.25])  # None: a σ̂ stored as "infinite"
    assert mixed["n"] == 5 and mixed["infinite"] == 2 and mixed["mean"] == pytest.approx(0.25)
    assert ci(mixed, 2).startswith("0.25 [") and ci(mixed, 2).endswith("(2 of 5: ∞)")
    assert ci(describe_finite([float("inf")] * 3)) == "∞ (3 of 3)"
    assert ci(describe_finite([0.5])) == "0.5000"  # one value: no interval
    assert ci({"mean": 0.1, "ci_low": 0.05, "ci_high": 0.15, "n": 9}, 2) == "0.10 [0.05, 0.15]"
    assert interval({"mean": 0.1, "ci_low": 0.05, "ci_high": 0.15, "n": 9}, 2) == "[0.05, 0.15]"
    assert interval(describe_finite([0.5])) == "" and interval(describe_finite([float("inf")] * 2)) == ""


def test_the_python_api_runs_a_study_as_the_cli_does(stub_study, tmp_path, monkeypatch):
    import lstmlab

    monkeypatch.chdir(tmp_path)
    record = lstmlab.study(STUB, seeds=2, cache_dir=tmp_path / "cache", verbose=False, workers=0)
    assert record["complete"] and len(record["runs"]) == 4 and len(stub_study) == 4
    assert json.loads((tmp_path / "runs" / "study-stub" / "study.json").read_text()) == json.loads(json.dumps(record))
