"""The committed studies (docs/studies/NAME/study.json) stay reproducible: today's plan finds every one of
their runs by its identity (`sweeps.spec.run_name`), however old the file's key names, and rerunning one
into a copy of its directory measures nothing and gives its summary and report.md unchanged."""

import dataclasses
import json
import re
import shutil

import pytest

from conftest import ROOT
from lstmlab.config import RunConfig
from lstmlab.core import workdir
from lstmlab.studies import STUDIES
from lstmlab.studies.runner import finished_runs, points, run_study
from lstmlab.sweeps.spec import run_name

DOCS = ROOT / "docs" / "studies"
COMMITTED = sorted(path.name for path in DOCS.iterdir() if (path / "study.json").exists())


def record(name: str) -> dict:
    return json.loads((DOCS / name / "study.json").read_text())


def test_every_study_has_a_committed_record():
    assert sorted(STUDIES) == COMMITTED


@pytest.mark.parametrize("name", COMMITTED)
def test_todays_plan_finds_every_committed_run_by_its_identity(name):
    committed = record(name)
    found = {run_name(RunConfig.from_dict(run["config"]), run["seed"]) for run in committed["runs"]}
    planned = points(STUDIES[committed["study"]], committed["seeds"], committed["quick"])
    assert [p.name for p in planned if p.name not in found] == []
    assert len(planned) == len(found) == len(committed["runs"])  # and nothing committed is outside the plan


@pytest.mark.parametrize("name", COMMITTED)
def test_the_committed_summary_recomputes_from_its_runs(name):
    committed = record(name)
    summary = STUDIES[committed["study"]].summarise(committed["runs"])
    assert json.loads(json.dumps(summary)) == committed["summary"]  # the bootstrap is seeded: exactly equal


def refuse_to_measure(config, context):
    raise AssertionError(f"a committed run was measured again: {run_name(config, config.train.init_seed)}")


@pytest.mark.parametrize("name", COMMITTED)
def test_rerunning_a_committed_study_into_a_copy_of_its_directory_reuses_every_run(name, tmp_path):
    committed = record(name)
    out = tmp_path / name
    workdir.claim(out, "study", "--out")  # a study directory, as `lstmlab study` leaves one
    shutil.copy(DOCS / name / "study.json", out / "study.json")
    assert len(finished_runs(out, committed["study"])) == len(committed["runs"])
    report = (DOCS / name / "report.md").read_text()
    figures = re.findall(r"^!\[(.+?)\]\(", report, flags=re.MULTILINE)  # drawn elsewhere (tests/test_plots.py)
    study = dataclasses.replace(STUDIES[committed["study"]], measure=refuse_to_measure,
                                draw=lambda record, out: figures)
    again = run_study(study, out, tmp_path / "cache", seeds=committed["seeds"], quick=committed["quick"],
                      verbose=False, workers=0)
    assert again["summary"] == committed["summary"] and again["runs"] == committed["runs"]
    assert (out / "report.md").read_text() == report
