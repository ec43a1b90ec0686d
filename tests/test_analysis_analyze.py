"""`lstmlab analyze` on every cell and task, on a trained GRU against scipy's root finder, and through
the command line: its files, its report section, and one-line errors for bad input."""

import json
import shutil

import jax
import numpy as np
import pytest
import scipy.optimize

from conftest import ROOT
from lstmlab import tasks
from lstmlab.analysis.analyze import FILES, analyze_model, held_input, read_analysis
from lstmlab.analysis.state import model_step
from lstmlab.config import ModelConfig, RunConfig, TaskConfig, TrainConfig
from lstmlab.core.model import build_model
from lstmlab.errors import UserError
from lstmlab.experiment import MODEL_FILES

RECALL = f"{ROOT / 'examples/plugins/recall.py'}:Recall"  # a plug-in task with no quantity to hold
MGU = f"{ROOT / 'examples/plugins/mgu.py'}:MGUCell"


@pytest.mark.parametrize("cell, task_name", [("lstm", "integration"), ("gru", "adding"), ("rnn", RECALL), ("gru", "copy"),
                                             (MGU, "integration")])
def test_every_cell_and_task(cell, task_name):
    task = tasks.of(TaskConfig(name=task_name, seq_len=max(tasks.get(task_name).min_seq_len, 12)))
    model = build_model(ModelConfig(cell=cell, layers=1, units=4), seed=0, task=task)
    x = task.sample_inputs(16, np.random.default_rng(0))
    x = x if x.ndim == 3 else x[..., None]
    record, arrays, trajectories = analyze_model(model, task, x, np.zeros(task.input_width, np.float32), starts=32)
    json.dumps(record, allow_nan=False)  # what analysis.json holds is plain JSON
    assert trajectories.shape == (16, x.shape[1] + 1, model_step(model).size)
    kept = record["kept"]
    assert len(arrays["points"]) == len(arrays["eigenvalues"]) == kept
    assert record["fixed"] + record["slow_points"] == kept == record["stable"] + record["unstable"]
    assert record["fixed"] == len(record["fixed_points"])
    assert np.all(arrays["q"] < record["finder"]["q_tol"])
    assert sum(record["dropped"].values()) + kept == 32
    if task_name in (RECALL, "copy"):  # tasks with no scalar to hold
        assert "skipped" in record["line_attractor"]
    else:
        assert record["line_attractor"]["points"] == kept and "probe_r2" in record["line_attractor"]


def test_the_held_input():
    assert held_input(None, 2).tolist() == [0, 0]
    assert held_input("0.5", 2).tolist() == [0.5, 0.5]
    assert held_input("0.5,1", 2).tolist() == [0.5, 1]
    assert held_input([0.25], 1).tolist() == [0.25]
    for bad in ("a", "1,2,3", "nan"):
        with pytest.raises(UserError, match="--input must be"):
            held_input(bad, 2)


@pytest.fixture(scope="module")
def gru_run(tmp_path_factory):
    from lstmlab.experiment import run_experiment

    root = tmp_path_factory.mktemp("gru")
    config = RunConfig(task=TaskConfig(seq_len=10, n_train=1600, n_val=64, n_test=256), cells=("gru",), layers=(1,),
                       units=6, train=TrainConfig(epochs=2))
    run_experiment(config, root / "run", root / "cache", verbose=False)
    return root


def test_a_trained_grus_fixed_points_agree_with_scipys_root_finder(gru_run):
    import lstmlab
    from lstmlab.evaluate import load_trained

    found = lstmlab.analyze(gru_run / "run", cache_dir=gru_run / "cache", starts=128, verbose=False)["gru-1layer"]
    arrays = np.load(gru_run / "run/models/gru-1layer/fixed_points.npz")
    fixed = arrays["points"][~arrays["slow"]]
    assert found["fixed"] == len(fixed) >= 1
    step = model_step(load_trained(gru_run / "run", "gru-1layer")[0].model).step
    u = np.zeros(1, np.float32)
    residual = jax.jit(lambda s: step(s, u) - s)
    jacobian = jax.jit(jax.jacfwd(lambda s: step(s, u) - s))
    roots = []
    for start in arrays["starts"]:  # the same starting states, an independent method (MINPACK's hybrid Powell)
        solution = scipy.optimize.root(lambda s: np.asarray(residual(s.astype(np.float32)), np.float64), start,
                                       jac=lambda s: np.asarray(jacobian(s.astype(np.float32)), np.float64))
        if solution.success and np.linalg.norm(residual(solution.x.astype(np.float32))) < 1e-5:
            roots.append(solution.x)
    roots = np.array(roots)
    assert len(roots) > 0
    centre = arrays["starts"].mean(axis=0)
    reach = np.max(np.linalg.norm(arrays["starts"] - centre, axis=1))
    roots = roots[np.linalg.norm(roots - centre, axis=1) <= 2 * reach]  # the finder drops outliers beyond that
    nearest = lambda a, b: np.min(np.linalg.norm(a[:, None] - b[None], axis=2), axis=1)  # noqa: E731
    assert np.all(nearest(roots, fixed) < 1e-3)  # every root scipy finds is one of ours
    assert np.all(nearest(fixed, roots) < 1e-3)  # and every fixed point of ours is one scipy finds


@pytest.mark.slow
def test_the_command_writes_its_files_and_report_and_refuses_bad_input(trained_run, tmp_path, cli):
    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    cache = trained_run.parent / "cache"
    assert set(FILES) <= set(MODEL_FILES)  # lstmlab's own names in a model's directory: `run --force` clears them
    done = cli("analyze", run, "--starts", "64", "--cache-dir", cache)
    assert done.returncode == 0, done.stderr
    assert "lstm-1layer: fixed points: 64 starts" in done.stdout
    record = read_analysis(run, "lstm-1layer")
    assert record is not None and record["starts"] == 64
    assert all((run / "models/lstm-1layer" / name).is_file() for name in FILES)
    report = (run / "report.md").read_text()
    assert report.startswith((trained_run / "report.md").read_text()) and "## Dynamics" in report
    again = cli("analyze", run, "--model", "lstm-1layer", "--input", "0.5", "--starts", "16", "--cache-dir", cache)
    assert again.returncode == 0, again.stderr
    assert read_analysis(run, "lstm-1layer")["input"] == [0.5]

    analysis = run / "models/lstm-1layer/analysis.json"
    edited = json.loads(analysis.read_text())
    edited["kept"] += 1
    analysis.write_text(json.dumps(edited))
    assert read_analysis(run, "lstm-1layer") is None  # an edited record is not lstmlab's any more

    before = {p: p.stat().st_mtime_ns for p in run.rglob("*")}
    unfinished = tmp_path / "unfinished"
    unfinished.mkdir()
    for args, message in (((run, "--model", "gru-1layer"), "has no model 'gru-1layer': choose one of lstm-1layer"),
                          ((run, "--input", "1,2"), "--input must be a number"),
                          ((tmp_path / "missing",), "does not exist"),
                          ((unfinished,), "holds no finished run")):
        result = cli("analyze", *args, "--cache-dir", cache)
        assert result.returncode == 2 and message in result.stderr and len(result.stderr.splitlines()) == 1, result
    assert {p: p.stat().st_mtime_ns for p in run.rglob("*")} == before  # nothing written on a refusal


def test_bad_input_is_one_line_and_writes_nothing(trained_run, tmp_path, capsys):
    from lstmlab.cli import main

    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    before = {p: p.stat().st_mtime_ns for p in run.rglob("*")}
    unfinished = tmp_path / "unfinished"
    unfinished.mkdir()
    for args, message in (((run, "--model", "gru-1layer"), "has no model 'gru-1layer': choose one of lstm-1layer"),
                          ((run, "--input", "x"), "--input must be a number"),
                          ((run, "--starts", "0"), "--starts"),
                          ((tmp_path / "missing",), "does not exist"),
                          ((unfinished,), "holds no finished run")):
        try:
            status = main(["analyze", *map(str, args), "--cache-dir", str(trained_run.parent / "cache")])
        except SystemExit as exit_:  # a flag's own type refuses it (argparse)
            status = exit_.code
        assert status == 2
        err = capsys.readouterr().err
        assert message in err and len(err.splitlines()) == 1, err
    assert {p: p.stat().st_mtime_ns for p in run.rglob("*")} == before



def test_files_lstmlab_did_not_write_are_never_replaced(trained_run, tmp_path, capsys):
    from lstmlab.cli import main

    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    mine = run / "models/lstm-1layer/spectra.png"
    mine.write_text("my own figure")
    assert main(["analyze", str(run), "--cache-dir", str(trained_run.parent / "cache")]) == 2
    err = capsys.readouterr().err
    assert "holds spectra.png that lstmlab's last analysis did not leave" in err and len(err.splitlines()) == 1
    assert mine.read_text() == "my own figure"
    assert not (run / "models/lstm-1layer/analysis.json").exists()
