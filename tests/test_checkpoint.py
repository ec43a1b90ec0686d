import numpy as np
import pytest

from lstmlab.core.checkpoint import Checkpoint, EpochRecord, Progress
from lstmlab.errors import UserError

STARTED = Progress(history=[EpochRecord(0, 1.0, 1.0, 0.5, 0.0)])  # as fit begins: the untrained model's record


def test_save_and_load_round_trip(tmp_path):
    checkpoint = Checkpoint(tmp_path / "c.npz", {"a": 1}, every=5)
    arrays = [np.arange(6, dtype=np.float32).reshape(2, 3), np.array(7, dtype=np.int64)]
    history = [EpochRecord(e, 0.7, 0.6, 0.5, 1.0 * e) for e in range(3)]  # epoch 0 (untrained), 1 and 2 done
    progress = Progress(epoch=2, step=2, step_losses=[0.5, 0.25], history=history, train_seconds=3.0)
    checkpoint.save(arrays, progress)
    loaded_arrays, loaded_progress = checkpoint.load()
    assert loaded_progress == progress
    for a, b in zip(arrays, loaded_arrays):
        np.testing.assert_array_equal(a, b)
        assert a.dtype == b.dtype


def test_no_checkpoint_loads_as_none_and_remove_is_idempotent(tmp_path):
    checkpoint = Checkpoint(tmp_path / "c.npz", {})
    assert checkpoint.load() is None
    checkpoint.remove()


def test_a_checkpoint_of_another_configuration_is_refused(tmp_path):
    Checkpoint(tmp_path / "c.npz", {"lr": 0.1}).save([np.zeros(2)], STARTED)
    with pytest.raises(UserError, match="another configuration"):
        Checkpoint(tmp_path / "c.npz", {"lr": 0.2}).load()


def test_a_damaged_checkpoint_is_reported(tmp_path):
    path = tmp_path / "c.npz"
    Checkpoint(path, {}).save([np.zeros(200)], STARTED)
    path.write_bytes(path.read_bytes()[:50])
    with pytest.raises(UserError, match="damaged"):
        Checkpoint(path, {}).load()


@pytest.mark.parametrize("edit", [
    lambda meta: meta["progress"].update(step=3),  # losses no longer match the position
    lambda meta: meta["progress"].update(epoch=-1),
    lambda meta: meta["progress"].update(history=[{"epoch": "x"}]),
    lambda meta: meta.pop("fingerprint"),
    lambda meta: meta["progress"].update(unknown=1),
])
def test_an_edited_checkpoint_is_refused_in_one_line(tmp_path, edit):
    import json

    path = tmp_path / "c.npz"
    Checkpoint(path, {"a": 1}).save([np.zeros(2)], STARTED)
    with np.load(path) as archive:
        meta, state = json.loads(str(archive["meta"])), archive["state_0"]
    edit(meta)
    np.savez(path, meta=np.array(json.dumps(meta)), state_0=state)
    with pytest.raises(UserError, match="damaged") as error:
        Checkpoint(path, {"a": 1}).load()
    assert "\n" not in str(error.value)
