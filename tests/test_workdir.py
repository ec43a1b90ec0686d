"""What lstmlab may write: its own marked directories, empty ones, and new files; one writer at a time."""

import json
import os
import subprocess
import sys

import pytest

from lstmlab.core import workdir
from lstmlab.core.workdir import DirectoryError


def test_a_new_or_empty_directory_is_claimed_and_marked(tmp_path):
    path = workdir.claim(tmp_path / "a" / "b", "run", "--out")
    assert workdir.kind_of(path) == "run" and json.loads((path / ".lstmlab").read_text()) == {"kind": "run"}
    (tmp_path / "empty").mkdir()
    assert workdir.kind_of(workdir.claim(tmp_path / "empty", "study", "--out")) == "study"
    workdir.claim(tmp_path / "a" / "b", "run", "--out")  # its own kind again: fine


@pytest.mark.parametrize("setup, fragment", [
    (lambda p: (p / "mine.txt").write_text("user data"), "did not create"),
    (lambda p: workdir.claim(p, "study", "--out"), "study directory, not a run"),
    (lambda p: (p / ".lstmlab").write_text("garbage"), "damaged"),
])
def test_a_directory_lstmlab_does_not_own_is_refused(tmp_path, setup, fragment):
    target = tmp_path / "d"
    target.mkdir()
    setup(target)
    before = sorted(p.name for p in target.iterdir())
    with pytest.raises(DirectoryError, match=fragment):
        workdir.claim(target, "run", "--out")
    assert sorted(p.name for p in target.iterdir()) == before


def test_files_links_and_unwritable_places_are_refused(tmp_path):
    (tmp_path / "file").write_text("x")
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    for path, fragment in ((tmp_path / "file", "not a directory"), (tmp_path / "file" / "sub", "is a file"),
                           (tmp_path / "link", "link")):
        with pytest.raises(DirectoryError, match=fragment):
            workdir.check(path, "run", "--out")


def test_the_current_directory_is_taken_only_when_empty(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(DirectoryError, match=r"--out \. holds files"):
        workdir.check("", "run", "--out")  # an empty shell variable


def test_a_second_holder_is_refused_while_the_first_holds(tmp_path):
    with workdir.held(tmp_path / "r", "run", "--out"):
        with pytest.raises(DirectoryError, match=f"being written by lstmlab process {os.getpid()}"):
            with workdir.held(tmp_path / "r", "run", "--out"):
                pass
    with workdir.held(tmp_path / "r", "run", "--out"):  # released: free again
        pass


def test_the_lock_holds_across_processes(tmp_path):
    with workdir.held(tmp_path / "r", "run", "--out"):
        code = ("from lstmlab.core import workdir\n"
                f"with workdir.held({str(tmp_path / 'r')!r}, 'run', '--out'): pass\n")
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "being written by" in result.stderr


def test_new_files_never_replace_anything(tmp_path):
    (tmp_path / "there.csv").write_text("user's")
    (tmp_path / "dir").mkdir()
    for path, fragment in ((tmp_path / "there.csv", "a file that exists"), (tmp_path / "dir", "a directory"),
                           (tmp_path / "nope" / "p.csv", "not an existing directory")):
        with pytest.raises(DirectoryError, match=fragment):
            workdir.check_new_file(path, "--predictions")
    workdir.check_new_file(tmp_path / "new.csv", "--predictions")
    assert (tmp_path / "there.csv").read_text() == "user's"


def test_write_new_refuses_a_name_taken_meanwhile(tmp_path):
    from lstmlab.core.files import write_new

    write_new(tmp_path / "a.csv", "first")
    with pytest.raises(FileExistsError):
        write_new(tmp_path / "a.csv", "second")
    assert (tmp_path / "a.csv").read_text() == "first" and [p.name for p in tmp_path.iterdir()] == ["a.csv"]


def test_a_directory_another_process_is_claiming_this_moment_is_not_refused(tmp_path):
    # Between mkdir and the rename of its mark, a claiming process leaves only its temporary mark file.
    (tmp_path / "..lstmlab.abc123.tmp").write_text('{"kind": "cache"}')  # write_atomic's temporary name
    assert workdir.kind_of(workdir.claim(tmp_path, "cache", "--cache-dir")) == "cache"
