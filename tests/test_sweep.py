"""`lstmlab sweep` end to end: the same numbers on every executor, resuming, refusing, a killed worker."""

import csv
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import ROOT, child_processes, process_alive

SPEC = """
seeds = 2
[base]
epochs = 1
n_train = 256
n_val = 64
n_test = 64
units = 4
steps_per_call = 8
[grid]
cell = ["lstm", "gru"]
seq_len = [5, 8]
"""
METRIC_COLUMNS = ("name", "cell", "seq_len", "seed", "status", "test_accuracy", "test_loss", "val_accuracy",
                  "val_loss", "train_loss")


def rows(path):
    with open(path) as table:
        return list(csv.DictReader(table))


def metrics(path):
    """runs.csv without its timings, which differ between executors."""
    return [{k: row[k] for k in METRIC_COLUMNS} for row in rows(path)]


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """A spec file and one dataset/compilation cache for the module's sweeps."""
    root = tmp_path_factory.mktemp("sweep")
    (root / "spec.toml").write_text(SPEC)
    return root


def sweep(cli, shared, out, *flags, spec="spec.toml"):
    return cli("sweep", spec, "--out", out, "--cache-dir", "cache", *flags, cwd=shared)


@pytest.mark.slow  # about 60 s: a sweep trained on one and on two workers (test_experiment checks workers bit for bit in the default run)
def test_sequential_and_parallel_workers_give_the_same_numbers_bit_for_bit(cli, shared):
    one = sweep(cli, shared, "one", "--workers", "1", "--plot", "y=test_accuracy,x=seq_len,hue=cell")
    assert one.returncode == 0, one.stderr
    two = sweep(cli, shared, "two", "--workers", "2")
    here = sweep(cli, shared, "here", "--workers", "0")
    assert two.returncode == 0 and here.returncode == 0, two.stderr + here.stderr
    table = metrics(shared / "one" / "runs.csv")
    assert len(table) == 8 and all(row["status"] == "ok" for row in table)
    assert table == metrics(shared / "two" / "runs.csv") == metrics(shared / "here" / "runs.csv")
    assert "[8/8]" in one.stdout and "left" in one.stdout
    for row in table:  # each run is a complete run directory, named by its content
        results = json.loads((shared / "one" / "runs" / row["name"] / "results.json").read_text())
        assert repr(results["models"][0]["test_accuracy"]) == row["test_accuracy"]
    summary = rows(shared / "one" / "summary.csv")
    assert [(r["cell"], r["seq_len"], r["n"]) for r in summary] == [
        ("lstm", "5", "2"), ("lstm", "8", "2"), ("gru", "5", "2"), ("gru", "8", "2")]
    first = [float(r["test_accuracy"]) for r in table[:2]]
    assert float(summary[0]["test_accuracy_mean"]) == pytest.approx(sum(first) / 2)
    assert float(summary[0]["test_accuracy_ci_low"]) <= float(summary[0]["test_accuracy_mean"])
    assert (shared / "one" / "plot-test_accuracy-vs-seq_len.png").stat().st_size > 10_000


def test_a_rerun_reuses_every_run_and_a_changed_spec_needs_force(cli, shared):
    first = sweep(cli, shared, "re", "--workers", "2")
    assert first.returncode == 0, first.stderr
    before = rows(shared / "re" / "runs.csv")
    again = sweep(cli, shared, "re")
    assert again.returncode == 0 and "8 finished runs reused" in again.stdout and "[" not in again.stdout
    assert rows(shared / "re" / "runs.csv") == before  # timings included: nothing was run again

    (shared / "more.toml").write_text(SPEC.replace("seeds = 2", "seeds = 3"))
    refused = sweep(cli, shared, "re", spec="more.toml")
    assert refused.returncode == 2 and "holds a sweep of another spec" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    forced = sweep(cli, shared, "re", "--force", spec="more.toml")
    assert forced.returncode == 0 and len(rows(shared / "re" / "runs.csv")) == 12


@pytest.mark.slow  # about 25 s: sweeps trained until the interval narrows
def test_ci_width_adds_seeds_until_the_interval_is_narrow_enough_or_max_seeds(cli, shared):
    result = sweep(cli, shared, "ci", "--ci-width", "1e-9", "--max-seeds", "3")
    assert result.returncode == 0, result.stderr
    table = rows(shared / "ci" / "runs.csv")
    assert len(table) == 12 and sorted({row["seed"] for row in table}) == ["0", "1", "2"]
    assert "--ci-width 1e-09: adding seeds to 4 grid point(s)" in result.stdout
    wide = sweep(cli, shared, "ci-wide", "--ci-width", "1.0", "--max-seeds", "3")  # already narrow: no seed added
    assert wide.returncode == 0 and len(rows(shared / "ci-wide" / "runs.csv")) == 8


@pytest.mark.parametrize("spec, message", [
    ('[grid]\nsequence_length = [5]\n', "unknown field(s) ['sequence_length'] in [grid]"),
    ('[grid]\nseq_len = [5, -1]\n', "grid point seq_len=-1, seed 0: seq_len must be a positive integer"),
    ('[base]\nunits = 4\n[grid]\n', "the grid is empty"),
    ('[grid\n', "cannot read it as TOML"),
])
def test_a_bad_spec_is_one_line_exit_2_and_nothing_written(cli, tmp_path, spec, message):
    (tmp_path / "bad.toml").write_text(spec)
    result = cli("sweep", "bad.toml", "--out", "s", cwd=tmp_path)
    assert result.returncode == 2 and message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "s").exists()


def test_bad_flags_are_one_line(cli, shared):
    plot = sweep(cli, shared, "p", "--plot", "y=test_accuracy,x=units")
    assert plot.returncode == 2 and "not a grid field of this spec" in plot.stderr
    ray = cli("sweep", "spec.toml", "--workers", "2", "--ray", "auto", cwd=shared)
    assert ray.returncode == 2 and "not allowed with argument" in ray.stderr
    assert not (shared / "p").exists()


@pytest.mark.slow  # a process-level fault test, like tests/test_crash_recovery.py
def test_a_worker_killed_mid_run_is_replaced_and_its_run_continues_to_the_same_numbers(cli, shared):
    (shared / "long.toml").write_text(SPEC.replace("n_train = 256", "n_train = 6400").replace(
        "epochs = 1", "epochs = 2\ncheckpoint_every = 20").replace('seq_len = [5, 8]', 'seq_len = [8]')
                                      .replace("seeds = 2", "seeds = 1").replace(', "gru"', ""))
    clean = sweep(cli, shared, "clean", "--workers", "1", spec="long.toml")
    assert clean.returncode == 0, clean.stderr

    sweep_process = subprocess.Popen(
        [sys.executable, "-m", "lstmlab", "sweep", "long.toml", "--out", "killed", "--cache-dir", "cache",
         "--workers", "1"], cwd=shared, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    deadline, killed = time.monotonic() + 120, None
    while killed is None and time.monotonic() < deadline and sweep_process.poll() is None:
        for checkpoint in (shared / "killed" / "runs").glob("*/models/*/checkpoint.npz"):
            run_dir = checkpoint.parents[2]
            holder = (run_dir / ".lstmlab.lock").read_text().split()[-1]  # "lstmlab process PID": the worker
            os.kill(int(holder), signal.SIGKILL)
            killed = run_dir
            break
        time.sleep(0.02)
    out, err = sweep_process.communicate(timeout=300)
    assert killed is not None, "the run finished before the test could kill its worker"
    assert sweep_process.returncode == 0, err
    assert "its worker process died (signal 9); giving it to a new one" in out
    assert metrics(shared / "killed" / "runs.csv") == metrics(shared / "clean" / "runs.csv")
    resumed = json.loads((killed / "results.json").read_text())["models"][0]
    uninterrupted = json.loads((shared / "clean" / "runs" / killed.name / "results.json").read_text())["models"][0]
    assert resumed["step_losses"] == uninterrupted["step_losses"]


def test_without_ray_the_flag_says_how_to_install_it(cli, tmp_path):
    (tmp_path / "spec.toml").write_text(SPEC)  # a fake ray module that cannot be imported stands in for none
    blocked = tmp_path / "no-ray"
    blocked.mkdir()
    (blocked / "ray.py").write_text("raise ImportError('ray is not installed here')\n")
    result = cli("sweep", "spec.toml", "--ray", "auto", cwd=tmp_path,
                 env={"PYTHONPATH": f"{blocked}:{ROOT}"})
    assert result.returncode == 2 and 'pip install "lstmlab[ray]"' in result.stderr


@pytest.mark.slow  # a process-level fault test, like tests/test_crash_recovery.py
@pytest.mark.parametrize("stop, returncode, said", [
    (signal.SIGINT, 130, "interrupted"),  # Ctrl-C
    (signal.SIGTERM, 143, "terminated"),  # kill, a scheduler's stop
], ids=["ctrl-c", "sigterm"])
def test_a_stopped_sweep_leaves_no_worker_and_a_rerun_continues(cli, shared, stop, returncode, said):
    out_dir = f"interrupted-{stop.name}"
    (shared / "interrupt.toml").write_text(SPEC.replace("n_train = 256", "n_train = 3200").replace(
        "epochs = 1", "epochs = 2\ncheckpoint_every = 20"))
    driver = subprocess.Popen(
        [sys.executable, "-m", "lstmlab", "sweep", "interrupt.toml", "--out", out_dir, "--cache-dir", "cache",
         "--workers", "2"], cwd=shared, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
        # As in a terminal: a shell without job control starts background jobs with SIGINT ignored, which a
        # Python child would inherit (no KeyboardInterrupt at all) when the tests run in the background.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while not (shared / out_dir / "runs.csv").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    workers = child_processes(driver.pid)
    assert len(workers) == 2, workers
    driver.send_signal(stop)
    out, err = driver.communicate(timeout=60)
    assert driver.returncode == returncode and said in err, err
    time.sleep(1)
    alive = [pid for pid in workers if process_alive(pid)]
    assert not alive, f"worker processes {alive} outlived the sweep"
    # A worker may finish its run between the driver's last runs.csv row and the signal, so the runs a
    # rerun must reuse are the ones whose results.json is on disk, at least every row already written.
    finished = len(list((shared / out_dir / "runs").glob("*/results.json")))
    assert 1 <= len(rows(shared / out_dir / "runs.csv")) <= finished < 8
    again = sweep(cli, shared, out_dir, spec="interrupt.toml")
    assert again.returncode == 0 and f"{finished} finished runs reused" in again.stdout
    assert len(rows(shared / out_dir / "runs.csv")) == 8


def _square(x):
    if x == 3:
        raise ValueError("three")
    return x * x


def test_the_grid_runner_runs_only_the_unfinished_points_and_yields_each_outcome():
    from lstmlab.config import RunConfig, TaskConfig, TrainConfig
    from lstmlab.executors import make_executor
    from lstmlab.sweeps.grid import finished, label, run_grid
    from lstmlab.sweeps.spec import Point

    points = [Point({"seq_len": 5 + x}, x, RunConfig(task=TaskConfig(seq_len=5 + x, seed=x), layers=(1,),
                                                    train=TrainConfig(init_seed=x))) for x in range(4)]
    assert len({p.name for p in points}) == 4 and label(points[1]) == "seq_len 6, seed 1"
    done = finished(points, lambda p: "kept" if p.seed == 0 else None)
    assert done == {points[0].name: "kept"}
    lines = []
    with make_executor(0) as executor:
        outcomes = list(run_grid(executor, points, _square, lambda p: (p.seed,), done, str, lines.append))
    assert [(p.seed, o.value, o.error) for p, o in outcomes] == [
        (1, 1, None), (2, 4, None), (3, None, "ValueError: three")]  # point 0 was done: not run
    assert lines[0].startswith("[2/4] seq_len 6, seed 1: 1 (") and "FAILED: ValueError: three" in lines[-1]
