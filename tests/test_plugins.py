"""Every cell on every task, 1 and 2 layers, through the real CLI: train a few steps, then evaluate.

This is the promise of the plug-in layout: a cell or a task added in one file works with every
command, with nothing else to change.
"""

import json

import numpy as np
import pytest

from lstmlab import cells, tasks
from lstmlab.config import TaskConfig


@pytest.mark.parametrize("task_name", list(tasks.TASKS))
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
