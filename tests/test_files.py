import os

import pytest

from lstmlab.core.files import write_atomic, write_new


def test_write_atomic_replaces_the_file_and_leaves_no_temporaries(tmp_path):
    target = tmp_path / "a.json"
    write_atomic(target, "one")
    write_atomic(target, b"two")
    assert target.read_text() == "two"
    assert os.listdir(tmp_path) == ["a.json"]


def test_written_files_get_the_usual_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        write_atomic(tmp_path / "a.json", "x")
    finally:
        os.umask(old)
    assert (tmp_path / "a.json").stat().st_mode & 0o777 == 0o644  # readable by others, like open() would make it


def test_a_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "a.json"
    write_atomic(target, "old")

    def fail(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", fail)
    with pytest.raises(OSError):
        write_atomic(target, "new")
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["a.json"]


def test_a_full_disk_while_writing_names_the_file_not_a_temporary_one(tmp_path, monkeypatch):
    import errno

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("lstmlab.core.files.os.fsync", full)
    with pytest.raises(OSError) as raised:
        write_atomic(tmp_path / "results.json", "{}")
    assert raised.value.errno == errno.ENOSPC and raised.value.filename == str(tmp_path / "results.json")
    assert list(tmp_path.iterdir()) == []  # nothing half-written


def test_a_new_file_may_have_the_longest_name_the_system_allows(tmp_path):
    path = tmp_path / ("p" * 250 + ".csv")
    write_new(path, "a,b\n")
    assert path.read_text() == "a,b\n" and len(list(tmp_path.iterdir())) == 1
