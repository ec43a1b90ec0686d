import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from lstmlab.config import TaskConfig
from lstmlab.core.data import MANIFEST, CacheError, entry_path, load, load_or_create
from lstmlab import tasks
from lstmlab.core import workdir

from conftest import ROOT

SMALL = TaskConfig(seq_len=6, n_train=64, n_val=32, n_test=32, seed=1)


def generate(config):
    return tasks.of(config).generate()


def test_miss_creates_an_entry_and_a_hit_loads_the_same_arrays(tmp_path):
    created, path = load_or_create(SMALL, tmp_path)
    assert (path / MANIFEST).is_file() and path.parent == tmp_path
    loaded, again = load_or_create(SMALL, tmp_path)
    assert again == path
    for split, (x, y) in generate(SMALL).items():
        np.testing.assert_array_equal(loaded[split][0], x)
        np.testing.assert_array_equal(loaded[split][1], y)
        np.testing.assert_array_equal(created[split][0], x)


def test_a_hit_does_not_regenerate(tmp_path, monkeypatch):
    load_or_create(SMALL, tmp_path)
    monkeypatch.setattr("lstmlab.tasks.integration.Integration.generate",
                        lambda task: pytest.fail("regenerated a cached entry"))
    load_or_create(SMALL, tmp_path)


def test_a_changed_config_gets_its_own_entry(tmp_path):
    _, a = load_or_create(SMALL, tmp_path)
    _, b = load_or_create(TaskConfig(seq_len=6, n_train=64, n_val=32, n_test=32, seed=1, settings={"threshold": 0.5}), tmp_path)
    assert a != b and len([p for p in tmp_path.iterdir() if not p.name.startswith(".")]) == 2


def test_manifest_records_config_and_checksums(tmp_path):
    _, path = load_or_create(SMALL, tmp_path)
    manifest = json.loads((path / MANIFEST).read_text())
    assert manifest["task"]["seq_len"] == 6 and len(manifest["files"]) == 6
    assert all(len(digest) == 64 for digest in manifest["files"].values())


def _truncate(path):
    f = path / "train_x.npy"
    f.write_bytes(f.read_bytes()[:-7])


def _flip_a_byte(path):
    f = path / "test_y.npy"
    raw = bytearray(f.read_bytes())
    raw[-3] ^= 0x01
    f.write_bytes(bytes(raw))


def _delete_a_file(path):
    (path / "val_x.npy").unlink()


def _stale_manifest(path):
    manifest = json.loads((path / MANIFEST).read_text())
    manifest["task"]["threshold"] = 2.0
    (path / MANIFEST).write_text(json.dumps(manifest))


def _manifest_of(value):
    def damage(path):
        (path / MANIFEST).write_text(json.dumps(value))
    return damage


@pytest.mark.parametrize("damage, fragment", [
    (_manifest_of([]), "not a JSON object"),
    (_manifest_of(None), "not a JSON object"),
    (_manifest_of("x"), "not a JSON object"),
    (_truncate, "corrupt train_x.npy"),
    (_flip_a_byte, "corrupt test_y.npy"),
    (_delete_a_file, "missing val_x.npy"),
    (_stale_manifest, "another config"),
])
def test_damaged_entries_are_detected_reported_and_rebuilt(tmp_path, damage, fragment):
    _, path = load_or_create(SMALL, tmp_path)
    damage(path)
    with pytest.raises(CacheError, match=fragment):
        load(path, SMALL)
    messages = []
    data, again = load_or_create(SMALL, tmp_path, log=messages.append)
    assert again == path and len(messages) == 1 and fragment in messages[0]
    np.testing.assert_array_equal(data["train"][0], generate(SMALL)["train"][0])
    load(path, SMALL)  # the rebuilt entry verifies


def test_no_rebuild_refuses_a_damaged_entry(tmp_path):
    _, path = load_or_create(SMALL, tmp_path)
    _flip_a_byte(path)
    with pytest.raises(CacheError, match="--no-rebuild"):
        load_or_create(SMALL, tmp_path, rebuild=False)


def test_two_processes_creating_the_same_entry_both_succeed(tmp_path):
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from lstmlab.config import TaskConfig
        from lstmlab.core.data import load_or_create
        config = TaskConfig(seq_len=50, n_train=40000, n_val=2000, n_test=2000, seed=9)
        data, path = load_or_create(config, sys.argv[1])
        print(path, float(data["train"][0].sum()))
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script, str(tmp_path)], stdout=subprocess.PIPE, text=True)
             for _ in range(2)]
    outputs = [p.communicate(timeout=120)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert outputs[0] == outputs[1]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".lstmlab", entry_path(
        TaskConfig(seq_len=50, n_train=40000, n_val=2000, n_test=2000, seed=9), tmp_path).name]


def test_leftovers_of_a_killed_writer_are_removed_and_a_live_writers_are_kept(tmp_path):
    path = entry_path(SMALL, tmp_path)
    workdir.claim(tmp_path, "cache", "--cache-dir")  # a cache lstmlab made, where writers were at work
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    orphan = tmp_path / f".{path.name}.tmp-{int(dead.stdout)}-abc"
    live = tmp_path / f".{path.name}.tmp-{os.getpid()}-xyz"  # this process is alive
    for directory in (orphan, live):
        directory.mkdir()
        (directory / "train_x.npy").write_bytes(b"partial")
    load_or_create(SMALL, tmp_path)
    assert not orphan.exists() and live.exists()
