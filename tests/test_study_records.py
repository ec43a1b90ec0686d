"""The committed studies (docs/studies/NAME/study.json) stay reproducible: today's plan finds every one of
their runs by its identity (`sweeps.spec.run_name`), however old the file's key names; rerunning one
into a copy of its directory measures nothing and gives its summary and report.md unchanged; and
`--recompute` rebuilds a study.json byte for byte from its runs, changing nothing but the statistics."""

import dataclasses
import json
import re
import shutil

import pytest

from conftest import ROOT
from lstmlab.config import RunConfig
from lstmlab.core import workdir
from lstmlab.studies import STUDIES
from lstmlab.errors import UserError
from lstmlab.studies.runner import finished_runs, points, recompute_study, run_study
from lstmlab.sweeps.spec import run_name

DOCS = ROOT / "docs" / "studies"
COMMITTED = sorted(path.name for path in DOCS.iterdir() if (path / "study.json").exists())
# Studies whose code is merged but whose first run (or, for a study in parts, first part) is still to be
# made and committed. Remove a name when its docs/studies/NAME/study.json is committed.
NOT_RUN_YET = ()


def record(name: str) -> dict:
    return json.loads((DOCS / name / "study.json").read_text())


def test_every_study_has_a_committed_record():
    assert sorted(STUDIES) == sorted(COMMITTED + list(NOT_RUN_YET))
    assert not set(NOT_RUN_YET) & set(COMMITTED)  # committed now: take it off NOT_RUN_YET


@pytest.mark.parametrize("name", COMMITTED)
def test_todays_plan_finds_every_committed_run_by_its_identity(name):
    committed = record(name)
    found = {run_name(RunConfig.from_dict(run["config"]), run["seed"]) for run in committed["runs"]}
    by_name = {run_name(RunConfig.from_dict(run["config"]), run["seed"]): run for run in committed["runs"]}
    planned = points(STUDIES[committed["study"]], committed["seeds"], committed["quick"], by_name)
    if "parts" in committed:  # a study in parts, committed part by part: the parts made so far
        planned = [p for p in planned if committed["parts"][p.group["part"]]["complete"]]
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
    for part in [p for p, state in committed.get("parts", {}).items() if state["complete"]] or [None]:
        again = run_study(study, out, tmp_path / "cache", seeds=committed["seeds"], quick=committed["quick"],
                          verbose=False, workers=0, part=part)  # a study in parts: each part made so far
    assert again["summary"] == committed["summary"] and again["runs"] == committed["runs"]
    assert (out / "report.md").read_text() == report


# The statistics issue 19 added to every test of a study's summary; "resolved" changed its meaning.
NEW_STATISTICS = ("t_low", "t_high", "p", "p_t", "primary", "p_holm", "margin", "tost_p", "equivalent")


def without_new_statistics(summary):
    """The summary as the bootstrap-only code wrote it: every test reduced to describe()'s fields."""
    if isinstance(summary, dict):
        return {k: without_new_statistics(v) for k, v in summary.items() if k not in NEW_STATISTICS + ("resolved",)}
    if isinstance(summary, list):
        return [without_new_statistics(v) for v in summary]
    return summary


@pytest.mark.parametrize("name", COMMITTED)
def test_recompute_rebuilds_a_committed_study_byte_for_byte_changing_only_the_statistics(name, tmp_path):
    committed_text = (DOCS / name / "study.json").read_text()
    committed = json.loads(committed_text)
    out = tmp_path / name
    workdir.claim(out, "study", "--out")
    older = {**committed, "summary": without_new_statistics(committed["summary"])}  # as before the new statistics
    (out / "study.json").write_text(json.dumps(older, indent=2) + "\n")
    report = (DOCS / name / "report.md").read_text()
    figures = re.findall(r"^!\[(.+?)\]\(", report, flags=re.MULTILINE)  # drawn elsewhere (tests/test_plots.py)
    study = dataclasses.replace(STUDIES[committed["study"]], measure=refuse_to_measure,
                                draw=lambda record, out: figures)
    again = recompute_study(study, out, verbose=False)
    assert (out / "study.json").read_text() == committed_text  # runs, environment, times: every byte
    assert (out / "report.md").read_text() == report
    assert without_new_statistics(again["summary"]) == without_new_statistics(committed["summary"])


def test_recompute_refuses_what_it_cannot_recompute(cli, tmp_path):
    empty = cli("study", "cells", "--recompute", "--out", "none", cwd=tmp_path)
    assert empty.returncode != 0 and "run the study into --out first" in empty.stderr
    assert not (tmp_path / "none").exists()
    out = tmp_path / "s"
    workdir.claim(out, "study", "--out")
    shutil.copy(DOCS / "adding" / "study.json", out / "study.json")
    other = cli("study", "cells", "--recompute", "--out", "s", cwd=tmp_path)
    assert other.returncode != 0 and "holds the 'adding' study" in other.stderr and "Traceback" not in other.stderr
    both = cli("study", "adding", "--recompute", "--force", "--out", "s", cwd=tmp_path)
    assert both.returncode != 0 and "pass one of the two" in both.stderr
    unfinished = {**record("adding"), "complete": False}
    (out / "study.json").write_text(json.dumps(unfinished))
    half = cli("study", "adding", "--recompute", "--out", "s", cwd=tmp_path)
    assert half.returncode != 0 and "is not complete" in half.stderr
    assert json.loads((out / "study.json").read_text()) == unfinished  # nothing written


@pytest.mark.parametrize("edit", [
    lambda run: run["metrics"].__setitem__("test_accuracy", 0.999),
    lambda run: run["metrics"].__setitem__("test_accuracy", "0.9"),
    lambda run: run.__setitem__("seconds", -1),
    lambda run: run.pop("digest"),
])
def test_a_run_edited_in_study_json_is_made_again_and_refused_by_recompute(tmp_path, edit):
    committed = record("adding")
    out = tmp_path / "adding"
    workdir.claim(out, "study", "--out")
    edited = json.loads(json.dumps(committed))
    edit(edited["runs"][3])
    (out / "study.json").write_text(json.dumps(edited, indent=2) + "\n")

    with pytest.raises(UserError, match=r"1 run\(s\) in .* changed after lstmlab wrote them"):
        recompute_study("adding", out, verbose=False)
    assert json.loads((out / "study.json").read_text()) == edited  # nothing written

    original = {run_name(RunConfig.from_dict(run["config"]), run["seed"]): run for run in committed["runs"]}
    measured = []

    def measure_again(config, context):  # what measuring it again gives: the committed metrics
        name = run_name(config, config.train.init_seed)
        measured.append(name)
        return original[name]["metrics"]

    study = dataclasses.replace(STUDIES["adding"], measure=measure_again, draw=lambda record, out: [])
    again = run_study(study, out, tmp_path / "cache", seeds=committed["seeds"], quick=committed["quick"],
                      verbose=False, workers=0)
    assert measured == [run_name(RunConfig.from_dict(committed["runs"][3]["config"]), committed["runs"][3]["seed"])]
    assert [run["metrics"] for run in again["runs"]] == [run["metrics"] for run in committed["runs"]]
