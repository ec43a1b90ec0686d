"""Every cell on every task, 1 and 2 layers, through the real CLI: train a few steps, then evaluate.

This is the promise of the plug-in layout: a cell or a task added in one file works with every
command, with nothing else to change, whether it is registered in lstmlab or lives in the user's own
file, module or installed package (`lstmlab/plugins.py`).
"""

import csv
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT
from lstmlab import cells, tasks
from lstmlab.config import TaskConfig


# The integration task in the default run; the others (about 35 s each) with -m slow.
@pytest.mark.parametrize("task_name", [name if name == "integration" else pytest.param(name, marks=pytest.mark.slow)
                                       for name in tasks.TASKS])
def test_every_cell_and_depth_trains_and_evaluates(cli, tmp_path, task_name):
    task = tasks.get(task_name)
    seq_len = task.min_seq_len + 2
    run = cli("run", "--task", task_name, "--seq-len", seq_len, "--samples", "320,64,64", "--epochs", "1",
              "--cell", ",".join(cells.NAMES), "--layers", "1,2", "--units", "4", "--out", "r", "--quiet", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    results = json.loads((tmp_path / "r" / "results.json").read_text())
    names = [f"{cell}-{n}layer" for cell in cells.NAMES for n in (1, 2)]
    assert [m["name"] for m in results["models"]] == names
    assert all(0 <= m["test_accuracy"] <= 1 and np.isfinite(m["test_loss"]) for m in results["models"])
    assert results["baselines"] and (tmp_path / "r" / "curves.png").is_file()

    # The user's own sequences, of another length, in the task's input width.
    x = tasks.of(TaskConfig(name=task_name, seq_len=seq_len + 5, n_train=40, n_val=1, n_test=1)).generate()["train"][0]
    np.save(tmp_path / "x.npy", x)
    scored = cli("evaluate", "r", "--data", "x.npy", "--predictions", "p.csv", cwd=tmp_path)
    assert scored.returncode == 0, scored.stderr
    assert [line.split(":")[0] for line in scored.stdout.splitlines()[: len(names)]] == names
    rows = (tmp_path / "p.csv").read_text().splitlines()
    assert len(rows) == 41 and rows[0].count(",") == 1 + len(names)


# -- cells and tasks from outside the package -------------------------------------------------------------

EXAMPLES = ROOT / "examples" / "plugins"
TASK_FILE, CELL_FILE = f"{EXAMPLES / 'recall.py'}:Recall", f"{EXAMPLES / 'mgu.py'}:MGUCell"
TINY = ("--seq-len", "6", "--samples", "256,64,64", "--epochs", "1", "--layers", "1", "--units", "4", "--quiet")


def test_a_task_and_a_cell_in_the_users_own_files_train_through_the_cli_and_evaluate(cli, tmp_path):
    run = cli("run", "--task", TASK_FILE, "--delay", "2", "--cell", f"{CELL_FILE},lstm", *TINY, "--out", "r",
              cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    results = json.loads((tmp_path / "r" / "results.json").read_text())
    assert [m["name"] for m in results["models"]] == ["mgu-1layer", "lstm-1layer"]
    config = json.loads((tmp_path / "r" / "config.json").read_text())
    assert config["task"]["name"] == TASK_FILE and config["task"]["delay"] == 2  # the task's own setting
    assert config["cells"] == [CELL_FILE, "lstm"]
    # The recall task's truth is the number `delay` steps before the last: evaluate computes it from x.
    x = np.random.default_rng(0).standard_normal((30, 9)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    scored = cli("evaluate", "r", "--data", "x.npy", cwd=tmp_path)
    assert scored.returncode == 0, scored.stderr
    assert scored.stdout.startswith("mgu-1layer: accuracy")


def test_a_module_on_the_path_is_named_as_module_colon_class(cli, tmp_path):
    # `recall` is importable from the working directory, as `python -m` and the console script both allow.
    (tmp_path / "recall.py").write_text((EXAMPLES / "recall.py").read_text())
    run = cli("run", "--task", "recall:Recall", "--delay", "1", *TINY, "--out", "r", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert json.loads((tmp_path / "r" / "config.json").read_text())["task"]["name"] == "recall:Recall"


def test_an_installed_package_offers_a_task_and_a_cell_through_entry_points(cli, tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "recall.py").write_text((EXAMPLES / "recall.py").read_text())
    (site / "mgu.py").write_text((EXAMPLES / "mgu.py").read_text())
    info = site / "lstmlab_extras-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: lstmlab-extras\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[lstmlab.tasks]\nrecall = recall:Recall\n\n"
                                           "[lstmlab.cells]\nmgu = mgu:MGUCell\n")
    env = {"PYTHONPATH": f"{ROOT}{os.pathsep}{site}"}
    run = cli("run", "--task", "recall", "--cell", "mgu", *TINY, "--out", "r", cwd=tmp_path, env=env)
    assert run.returncode == 0, run.stderr
    config = json.loads((tmp_path / "r" / "config.json").read_text())
    assert (config["task"]["name"], config["cells"]) == ("recall", ["mgu"])


@pytest.mark.slow  # about 30 s: eight runs, twice
def test_a_sweep_of_the_users_own_task_and_cell_gives_the_same_numbers_on_one_and_two_workers(cli, tmp_path):
    spec = (EXAMPLES / "sweep.toml").read_text().replace("examples/plugins/", f"{EXAMPLES}/")
    spec = spec.replace("n_train = 1024", "n_train = 256").replace("seeds = 2", "seeds = 1")
    (tmp_path / "spec.toml").write_text(spec)
    tables = []
    for workers in ("1", "2"):
        swept = cli("sweep", "spec.toml", "--out", f"w{workers}", "--workers", workers, "--quiet", cwd=tmp_path)
        assert swept.returncode == 0, swept.stderr
        rows = list(csv.DictReader((tmp_path / f"w{workers}" / "runs.csv").open()))
        tables.append({(row["cell"], row["delay"]): row["test_loss"] for row in rows})
    assert len(tables[0]) == 4 and tables[0] == tables[1]


def test_the_python_api_takes_the_classes_themselves(tmp_path):
    script = f"""
import sys
sys.path.insert(0, {str(EXAMPLES)!r})
import lstmlab
from mgu import MGUCell
from recall import Recall
config = lstmlab.RunConfig(task=lstmlab.TaskConfig(name=Recall, seq_len=6, n_train=256, n_val=64, n_test=64,
                                                   settings={{"delay": 1}}),
                           cells=(MGUCell,), layers=(1,), units=4, train=lstmlab.TrainConfig(epochs=1))
run = lstmlab.train(config, out="r", cache_dir="cache", verbose=False, workers=1)
print(run.config.task.name, run.config.cells[0], run.results["models"][0]["name"])
"""
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    task, cell, model = done.stdout.split()
    assert (task, cell, model) == (f"{EXAMPLES / 'recall.py'}:Recall", f"{EXAMPLES / 'mgu.py'}:MGUCell", "mgu-1layer")


@pytest.mark.parametrize("flags, message", [
    (["--task", "nowhere.py:Recall"], "no such Python file"),
    (["--task", f"{EXAMPLES / 'recall.py'}:Recal"], "has no 'Recal'"),
    (["--task", f"{EXAMPLES / 'mgu.py'}:MGUCell"], "not a subclass of lstmlab's Task"),
    (["--cell", f"{EXAMPLES / 'recall.py'}:Recall"], "not a subclass of lstmlab's RecurrentCell"),
    (["--task", "no_such_module:Recall"], "cannot import 'no_such_module'"),
    (["--task", "parity"], "unknown task 'parity'"),
    (["--task", TASK_FILE, "--delay", "9"], "delay 9 must be shorter than the sequence"),
    (["--task", TASK_FILE, "--delay", "-1"], "delay must be >= 0"),
    (["--task", TASK_FILE, "--threshold", "2"], "threshold is not a setting of the recall task"),
])
def test_a_plug_in_that_cannot_be_used_is_refused_in_one_line(cli, tmp_path, flags, message):
    run = cli("run", *flags, "--seq-len", "6", "--dry-run", cwd=tmp_path)
    assert run.returncode == 2 and message in run.stderr and len(run.stderr.strip().splitlines()) == 1, run.stderr


def test_a_class_only_this_process_knows_is_refused_where_another_process_needs_it():
    from lstmlab import plugins
    from lstmlab.errors import ConfigError

    with pytest.raises(ConfigError, match="interactive session"):
        plugins.resolve("__main__:Mine", tasks.Task, tasks.TASKS, tasks.GROUP, "task")
    local = TaskConfig(name=_local_task(), seq_len=6).name  # usable in this process, by its own spec
    assert local.endswith("_local_task.<locals>.Local") and plugins.in_process_only(local)
    with pytest.raises(ConfigError, match="inside a function"):  # as another process would look it up
        plugins._load(local, "task")


def _local_task():
    from lstmlab.tasks.integration import Integration

    class Local(Integration):
        name = "local"
    return Local


def test_ray_jobs_carry_the_users_own_files():
    from lstmlab import plugins

    TaskConfig(name=TASK_FILE, seq_len=6)
    assert str(EXAMPLES / "recall.py") in plugins.shipped()
    assert not any("site-packages" in path or path.endswith("lstmlab") for path in plugins.shipped())
