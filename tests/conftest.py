import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("KERAS_BACKEND", "jax")
ROOT = Path(__file__).resolve().parents[1]


def lstmlab_cli(*args, cwd=None, env=None, timeout=600):
    """Run the real CLI in a subprocess (`python -m lstmlab`), as a user would."""
    import subprocess

    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run([sys.executable, "-m", "lstmlab", *map(str, args)], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=timeout)


def process_status(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of process `pid`, read from /proc/PID/stat; None once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()  # after "(name)": state, ppid, ...
    except OSError:
        return None
    return fields[0], int(fields[1])


def process_alive(pid: int) -> bool:
    """Is process `pid` still there and not a zombie (exited, waiting for its parent to reap it)?"""
    status = process_status(pid)
    return status is not None and status[0] != "Z"


def child_processes(pid: int) -> set[int]:
    """The live processes whose parent is `pid` (a driver's workers)."""
    return {int(path.name) for path in Path("/proc").glob("[0-9]*")
            if (status := process_status(int(path.name))) and status[1] == pid and status[0] != "Z"}


@pytest.fixture(scope="session", autouse=True)
def compilation_cache(tmp_path_factory):
    """One XLA compilation cache for the session: tests that build the same program compile it once."""
    from lstmlab.core.train import enable_compilation_cache

    enable_compilation_cache(tmp_path_factory.mktemp("xla"))


@pytest.fixture
def cli():
    return lstmlab_cli


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory):
    """A small finished run directory (one 1-layer model on sequences of 10), shared by the tests."""
    from lstmlab.config import RunConfig, TaskConfig, TrainConfig
    from lstmlab.experiment import run_experiment

    root = tmp_path_factory.mktemp("trained")
    config = RunConfig(task=TaskConfig(seq_len=10, n_train=1600, n_val=64, n_test=64), layers=(1,), units=8,
                       train=TrainConfig(epochs=2))
    run_experiment(config, root / "run", root / "cache", verbose=False)
    return root / "run"


def assert_two_devices_train_as_one(task, model_config, **train):
    """Fit `model_config` on `task`'s data with TrainConfig(**train) on one device and on two: the batch is
    split and the gradients summed, so the losses and the final state agree up to float32 rounding."""
    import numpy as np

    from lstmlab.config import TrainConfig
    from lstmlab.core.fit import fit
    from lstmlab.core.model import build_model
    from lstmlab.core.train import Trainer

    data = task.generate()
    results = []
    for devices in (1, 2):
        trainer = Trainer(build_model(model_config, seed=0, task=task), TrainConfig(devices=devices, **train), task)
        history = fit(trainer, data["train"], data["val"], verbose=False).history
        results.append(([h.train_loss for h in history], trainer.get_state()))
    np.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-5)
    for two, one in zip(results[1][1], results[0][1]):
        np.testing.assert_allclose(two, one, rtol=1e-4, atol=1e-6)
