"""Nothing lost, nothing silently wrong, memory bounded: the rules of the README's "what happens when
things go wrong", each through the real CLI (a subprocess, as a user runs it)."""

import json
import os
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest

from conftest import ROOT

TINY = ("--samples", "320,64,64", "--epochs", "1", "--layers", "1", "--units", "4", "--seq-len", "6", "--quiet")


def _one_line_error(result, code=2):
    lines = result.stderr.strip().splitlines()
    return result.returncode == code and len(lines) == 1 and "Traceback" not in result.stderr


def _snapshot(path):
    return {p.relative_to(path): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


@pytest.fixture
def run_copy(trained_run, tmp_path):
    """A private copy of the shared trained run, to edit by hand."""
    shutil.copytree(trained_run, tmp_path / "run")
    return tmp_path / "run"


def test_predictions_never_overwrite_the_input_or_any_existing_file(cli, run_copy, tmp_path):
    np.save(tmp_path / "d.npy", np.zeros((4, 10), np.float32))
    (tmp_path / "d.csv").write_text("0,0,0\n1,1,1\n")
    (tmp_path / "old.csv").write_text("the user's file\n")
    before = _snapshot(tmp_path)
    for data, predictions in (("d.csv", "d.csv"), ("d.npy", "old.csv"), ("d.npy", "run"), ("d.npy", "no/dir/p.csv")):
        result = cli("evaluate", run_copy, "--data", data, "--predictions", predictions, cwd=tmp_path)
        assert _one_line_error(result) and "--predictions" in result.stderr, result.stderr
    assert _snapshot(tmp_path) == before


def test_an_empty_out_is_the_current_directory_and_is_not_taken(cli, tmp_path):
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "mine.txt").write_text("keep me")
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "report.md").write_text("my report")
    before = _snapshot(tmp_path)
    result = cli("run", *TINY, "--out", "", "--force", cwd=tmp_path)
    assert _one_line_error(result) and "did not create" in result.stderr
    assert _snapshot(tmp_path) == before


def test_a_run_and_a_study_never_write_into_each_others_directories(cli, tmp_path):
    assert cli("run", *TINY, "--out", "r", cwd=tmp_path).returncode == 0
    run_before = _snapshot(tmp_path / "r")
    study = cli("study", "objective", "--quick", "--seeds", "1", "--out", "r", "--force", cwd=tmp_path)
    assert _one_line_error(study) and "run directory, not a study" in study.stderr
    assert _snapshot(tmp_path / "r") == run_before
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / ".lstmlab").write_text('{"kind": "study"}\n')
    run = cli("run", *TINY, "--out", "s", "--force", cwd=tmp_path)
    assert _one_line_error(run) and "study directory, not a run" in run.stderr


@pytest.mark.slow  # about 35 s: a quick study trained through the CLI
def test_a_study_rerun_with_fewer_seeds_keeps_its_finished_runs(cli, tmp_path):
    assert cli("study", "objective", "--quick", "--seeds", "2", "--out", "s", "--quiet", cwd=tmp_path).returncode == 0
    before = (tmp_path / "s" / "study.json").read_bytes()
    for fewer in (["--seeds", "1", "--quick"], ["--seeds", "2"]):  # fewer seeds; the full plan instead of --quick
        result = cli("study", "objective", *fewer, "--out", "s", "--quiet", cwd=tmp_path)
        assert _one_line_error(result) and "outside this plan" in result.stderr
    assert (tmp_path / "s" / "study.json").read_bytes() == before


def test_a_second_writer_of_one_out_is_refused_and_the_first_finishes(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = [sys.executable, "-m", "lstmlab", "run", "--samples", "6400,320,320", "--epochs", "2", "--layers", "1",
            "--out", "r", "--force", "--quiet"]
    first = subprocess.Popen(args, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lock = tmp_path / "r" / ".lstmlab.lock"
    deadline = time.monotonic() + 120
    while not (lock.exists() and lock.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    second = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    out, err = first.communicate(timeout=300)
    assert _one_line_error(second) and "being written by lstmlab process" in second.stderr, second.stderr
    assert first.returncode == 0, err
    assert json.loads((tmp_path / "r" / "results.json").read_text())["models"][0]["name"] == "lstm-1layer"


def test_weights_of_another_model_are_refused(cli, tmp_path):
    assert cli("run", *TINY, "--layers", "1,2", "--out", "r", cwd=tmp_path).returncode == 0
    models = tmp_path / "r" / "models"
    shutil.copy(models / "lstm-2layer" / "model.weights.h5", models / "lstm-1layer" / "model.weights.h5")
    np.save(tmp_path / "x.npy", np.zeros((3, 6), np.float32))
    result = cli("evaluate", "r", "--data", "x.npy", cwd=tmp_path)  # the run's digest tells first
    assert _one_line_error(result) and "changed after lstmlab wrote them" in result.stderr
    from lstmlab.errors import UserError
    from lstmlab.evaluate import load_trained

    with pytest.raises(UserError, match="does not hold this model's weights"):  # and the layout check after it
        load_trained(tmp_path / "r", "lstm-1layer")


@pytest.mark.parametrize("name, content", [
    ("config.json", "{not json"),
    ("config.json", json.dumps({"task": {"seq_len": -4}})),
    ("results.json", json.dumps({"models": "x"})),
    ("models/lstm-1layer/config.json", json.dumps({"model": {"cell": "lstm", "layers": 3, "units": 8}})),
    ("models/lstm-1layer/model.weights.h5", "not hdf5"),
])
def test_hand_edited_run_files_are_checked_like_flags(cli, run_copy, tmp_path, name, content):
    (run_copy / name).write_text(content)
    np.save(tmp_path / "x.npy", np.zeros((3, 10), np.float32))
    result = cli("evaluate", run_copy, "--data", "x.npy", cwd=tmp_path)
    assert _one_line_error(result), result.stderr


def test_a_damaged_record_of_a_finished_model_is_refused_on_resume(cli, tmp_path):
    # An unfinished run whose finished model's record.json was edited: the rerun says so in one line.
    assert cli("run", *TINY, "--layers", "1,2", "--out", "r", cwd=tmp_path).returncode == 0
    (tmp_path / "r" / "results.json").unlink()  # as if interrupted while training the second model
    (tmp_path / "r" / "models" / "lstm-1layer" / "record.json").write_text('{"name": "lstm-1layer"}')
    result = cli("run", *TINY, "--layers", "1,2", "--out", "r", cwd=tmp_path)
    assert _one_line_error(result) and "record.json is damaged" in result.stderr


def test_sizes_that_cannot_fit_are_refused_before_any_work(cli, tmp_path):
    result = cli("run", "--units", "30000", "--out", "big", cwd=tmp_path)
    assert _one_line_error(result) and "memory" in result.stderr and "--units" in result.stderr
    assert not (tmp_path / "big").exists() and not (tmp_path / "cache").exists()
    dry = cli("run", *TINY, "--dry-run", "--out", "r", cwd=tmp_path)
    assert dry.returncode == 0 and "needs about" in dry.stderr and json.loads(dry.stdout)["units"] == 4


def test_one_long_sequence_is_scored_in_bounded_memory(cli, run_copy, tmp_path):
    np.save(tmp_path / "long.npy", np.random.default_rng(0).standard_normal((1, 20_000)).astype(np.float32))
    result = cli("evaluate", run_copy, "--data", "long.npy", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "on 1 sequences of length 20000" in result.stdout


@pytest.mark.parametrize("args, env, fragment", [
    (["run", "--seed", "4294968", "--dry-run"], {}, "seed must be at most"),
    (["run", *TINY], {"KERAS_BACKEND": "torch"}, "JAX"),
    (["study", "tbptt", "--quick"], {"KERAS_BACKEND": "tensorflow"}, "JAX"),
    (["evaluate", "r" * 300, "--data", "x.npy"], {}, "File name too long"),
    (["run", "--config", "c" * 300 + ".json", "--dry-run"], {}, "File name too long"),
    (["run", "--workers", "64", "--dry-run"], {}, "--workers 64 is more than the"),
    (["sweep", "spec.toml", "--workers", "64"], {}, "--workers 64 is more than the"),
    (["run", *TINY, "--out", "d", "--cache-dir", "d"], {}, "--out and --cache-dir are both d"),
])
def test_user_mistakes_in_flags_and_environment_are_one_line(cli, tmp_path, args, env, fragment):
    (tmp_path / "spec.toml").write_text('[grid]\ncell = ["lstm"]\n')
    result = cli(*args, cwd=tmp_path, env=env)
    assert _one_line_error(result) and fragment in result.stderr, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spec.toml"]  # nothing written


def test_a_config_value_no_flag_sets_is_named_in_the_config_file(cli, tmp_path):
    (tmp_path / "c.json").write_text(json.dumps({"train": {"steps_per_call": 0, "learning_rate": 1}}))
    result = cli("run", "--config", "c.json", "--dry-run", cwd=tmp_path)
    assert _one_line_error(result) and "fix steps_per_call in the --config file" in result.stderr, result.stderr
    (tmp_path / "c.json").write_text(json.dumps({"train": {"learning_rate": 1}}))  # an integer rate is Adam's 1.0
    result = cli("run", "--config", "c.json", "--dry-run", cwd=tmp_path)
    assert result.returncode == 0 and json.loads(result.stdout)["train"]["learning_rate"] == 1.0


def test_a_full_disk_is_one_line_and_leaves_no_partial_files(monkeypatch, capsys, tmp_path):
    import errno

    from lstmlab.cli import main

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "r" / "config.json"))

    monkeypatch.setattr("lstmlab.experiment.write_atomic", full)
    code = main(["run", *TINY, "--out", str(tmp_path / "r"), "--cache-dir", str(tmp_path / "c")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1 and "No space left on device" in err[0]
    assert not any(p.name.endswith(".tmp") for p in tmp_path.rglob("*"))


def test_a_data_path_the_system_cannot_handle_is_a_user_error(cli, run_copy, tmp_path):
    result = cli("evaluate", run_copy, "--data", "x" * 300 + ".npy", cwd=tmp_path)
    assert _one_line_error(result) and "File name too long" in result.stderr


# -- links, --force and records read back (each class, not one example) --------------------------------------

def _unfinished_run(cli, tmp_path):
    """A run of two models whose second never finished (as if interrupted), and a user's own folder."""
    assert cli("run", *TINY, "--layers", "1,2", "--out", "r", cwd=tmp_path).returncode == 0
    (tmp_path / "r" / "results.json").unlink()
    shutil.rmtree(tmp_path / "r" / "models" / "lstm-2layer")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "config.json").write_text("my own notes")
    return tmp_path / "r", mine


@pytest.mark.slow  # about 40 s: four runs trained through the CLI
@pytest.mark.parametrize("where", ["models/lstm-2layer", "models"])
@pytest.mark.parametrize("force", [False, True])
def test_a_link_inside_a_run_directory_is_never_written_through(cli, tmp_path, where, force):
    run, mine = _unfinished_run(cli, tmp_path)
    target = run / where
    if where == "models":  # the whole models folder moved away, a link left in its place
        shutil.move(target, tmp_path / "moved")
        shutil.copytree(tmp_path / "moved", mine, dirs_exist_ok=True)
    before = _snapshot(mine)
    target.symlink_to(mine, target_is_directory=True)
    result = cli("run", *TINY, "--layers", "1,2", "--out", "r", *(["--force"] if force else []), cwd=tmp_path)
    assert _one_line_error(result) and "is a link lstmlab did not make" in result.stderr, result.stderr
    assert _snapshot(mine) == before


@pytest.mark.slow  # about 40 s: runs trained through the CLI (the property in test_cli_fuzz covers clear_run in the default run)
def test_force_deletes_only_what_lstmlab_wrote(cli, tmp_path):
    assert cli("run", *TINY, "--out", "r", cwd=tmp_path).returncode == 0
    (tmp_path / "r" / "models" / "notes.txt").write_text("mine")
    (tmp_path / "r" / "models" / "lstm-1layer" / "mine.txt").write_text("mine too")
    assert cli("run", *TINY, "--out", "r", "--force", cwd=tmp_path).returncode == 0
    assert (tmp_path / "r" / "models" / "notes.txt").read_text() == "mine"
    assert (tmp_path / "r" / "models" / "lstm-1layer" / "mine.txt").read_text() == "mine too"


@pytest.mark.parametrize("value", [0.999, 5, -1, "0.9", True, None])
def test_an_edited_result_is_refused_by_evaluate_and_by_a_sweep_that_would_reuse_it(cli, run_copy, tmp_path, value):
    results = json.loads((run_copy / "results.json").read_text())
    results["models"][0]["test_accuracy"] = value
    (run_copy / "results.json").write_text(json.dumps(results))
    np.save(tmp_path / "x.npy", np.zeros((3, 10), np.float32))
    result = cli("evaluate", run_copy, "--data", "x.npy", cwd=tmp_path)
    assert _one_line_error(result) and "changed after lstmlab wrote them" in result.stderr, result.stderr


@pytest.mark.parametrize("name, path, value", [
    ("config.json", ("task", "objective"), "regression"),
    ("config.json", ("task", "threshold"), 0.5),
    ("config.json", ("units",), 9),
    ("models/lstm-1layer/config.json", ("task", "threshold"), 0.5),
    ("models/lstm-1layer/config.json", ("train", "learning_rate"), 0.5),
    ("models/lstm-1layer/config.json", ("model", "units"), 9),
])
def test_a_config_file_edited_after_the_run_finished_is_refused(run_copy, name, path, value):
    # evaluate and load_run build the task and the models from these files: an objective or a
    # threshold changed there would change every score, so they must still say what results.json says.
    from lstmlab.errors import UserError
    from lstmlab.experiment import read_results

    read_results(run_copy)  # as lstmlab wrote it
    config = json.loads((run_copy / name).read_text())
    inner = config
    for key in path[:-1]:
        inner = inner[key]
    inner[path[-1]] = value
    (run_copy / name).write_text(json.dumps(config))
    with pytest.raises(UserError, match="changed after the run finished|damaged"):
        read_results(run_copy)


def test_evaluate_refuses_a_run_whose_threshold_was_edited(cli, run_copy, tmp_path):
    config = json.loads((run_copy / "config.json").read_text())
    config["task"]["threshold"] = 0.5
    (run_copy / "config.json").write_text(json.dumps(config))
    np.save(tmp_path / "x.npy", np.zeros((3, 10), np.float32))
    result = cli("evaluate", run_copy, "--data", "x.npy", cwd=tmp_path)
    assert _one_line_error(result) and "changed after the run finished" in result.stderr, result.stderr


def test_an_edited_record_of_a_finished_model_is_refused_on_resume(cli, tmp_path):
    run, _ = _unfinished_run(cli, tmp_path)
    record = json.loads((run / "models" / "lstm-1layer" / "record.json").read_text())
    record["test_accuracy"] = 0.999  # a plausible value: only the digest tells it from the real one
    (run / "models" / "lstm-1layer" / "record.json").write_text(json.dumps(record))
    result = cli("run", *TINY, "--layers", "1,2", "--out", "r", cwd=tmp_path)
    assert _one_line_error(result) and "changed after lstmlab wrote them" in result.stderr, result.stderr


@pytest.mark.slow  # a sweep trained, then rerun
def test_a_sweep_refuses_to_reuse_an_edited_run(cli, tmp_path):
    (tmp_path / "spec.toml").write_text('seeds = 1\n[base]\nn_train = 320\nn_val = 64\nn_test = 64\nseq_len = 6\n'
                                        'epochs = 1\nunits = 4\n[grid]\ncell = ["lstm"]\n')
    assert cli("sweep", "spec.toml", "--out", "s", "--workers", "1", "--quiet", cwd=tmp_path).returncode == 0
    (path,) = (tmp_path / "s" / "runs").glob("*/results.json")
    results = json.loads(path.read_text())
    results["models"][0]["test_accuracy"] = 0.999
    path.write_text(json.dumps(results))
    result = cli("sweep", "spec.toml", "--out", "s", "--workers", "1", "--quiet", cwd=tmp_path)
    assert _one_line_error(result) and "changed after lstmlab wrote them" in result.stderr, result.stderr
