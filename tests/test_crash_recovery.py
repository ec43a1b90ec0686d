"""A real `lstmlab run` killed with SIGKILL at exact points, then rerun: the result equals a run that
was never interrupted (slow: about a dozen short training processes)."""

import json

import h5py
import numpy as np
import pytest

pytestmark = pytest.mark.slow

ARGS = ["run", "--samples", "1600,320,320", "--seq-len", "10", "--epochs", "2", "--layers", "1,2", "--units", "8",
        "--checkpoint-every", "20", "--quiet"]


def _results(out):
    results = json.loads((out / "results.json").read_text())
    for model in results["models"]:
        model.pop("train_seconds")
        for h in model["history"]:
            h.pop("seconds")
    return results["models"]


def _weights(out, name):
    with h5py.File(out / "models" / name / "model.weights.h5") as f:
        arrays = []
        f.visititems(lambda key, item: arrays.append((key, item[()])) if isinstance(item, h5py.Dataset) else None)
        return arrays


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    from conftest import lstmlab_cli

    root = tmp_path_factory.mktemp("reference")
    result = lstmlab_cli(*ARGS, "--out", "run", cwd=root)
    assert result.returncode == 0, result.stderr
    return root / "run"


@pytest.mark.parametrize("kill_at", [
    "cache:rename",                  # data written, not yet renamed into the cache
    "train:chunk:3",                 # mid-epoch 1 of the first model, after a checkpoint
    "train:chunk:9",                 # in the second model, after the first finished
    "write:checkpoint.npz:2",        # a checkpoint written to a temporary file, not yet in place
    "write:record.json",             # the first model saved, not yet marked finished
])
def test_killed_run_resumes_to_the_uninterrupted_result(cli, tmp_path, reference, kill_at):
    killed = cli(*ARGS, "--out", "run", cwd=tmp_path, env={"LSTMLAB_KILL_AT": kill_at})
    assert killed.returncode == -9, killed.stderr  # SIGKILL
    assert not (tmp_path / "run" / "results.json").exists()
    resumed = cli(*ARGS, "--out", "run", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert not list((tmp_path / "cache").glob(".*tmp-*"))  # a killed writer's leftovers are gone
    assert _results(tmp_path / "run") == _results(reference)
    for name in ("lstm-1layer", "lstm-2layer"):
        for (key_a, a), (key_b, b) in zip(_weights(tmp_path / "run", name), _weights(reference, name)):
            assert key_a == key_b
            np.testing.assert_array_equal(a, b)
        assert not (tmp_path / "run" / "models" / name / "checkpoint.npz").exists()
