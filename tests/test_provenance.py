import json
import os
import shutil
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest

import lstmlab
from lstmlab import provenance
from lstmlab.provenance import environment, git_revision

ROOT = Path(__file__).resolve().parents[1]
FIELDS = {"lstmlab", "git", "python", "platform", "machine", "cpu", "cores", "backend", "versions", "distributions"}
needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def git(cwd, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")} | {"GIT_OPTIONAL_LOCKS": "0"}
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, check=True).stdout


def test_the_record_has_every_field():
    record = environment()
    assert set(record) == FIELDS
    assert set(record["versions"]) == set(record["distributions"]) == {"keras", "jax", "jaxlib", "numpy", "tensorflow",
                                                                      "torch"}
    assert record["lstmlab"] == lstmlab.__version__
    assert record["python"].count(".") == 2 and record["platform"] and record["machine"]
    assert record["cpu"] is None or (isinstance(record["cpu"], str) and record["cpu"])
    if hasattr(os, "sched_getaffinity"):
        assert record["cores"] == len(os.sched_getaffinity(0))
    import keras

    assert record["backend"] == keras.backend.backend()
    for name in ("keras", "jax", "jaxlib", "numpy"):  # lstmlab's own dependencies are always there
        assert record["versions"][name]
    assert record["git"] is None or set(record["git"]) == {"commit", "dirty"}
    json.dumps(record)  # written as JSON as it is


def test_versions_are_those_of_the_installed_distributions():
    record = environment()
    for name, distribution in record["distributions"].items():
        if distribution is None:  # none of its distributions is installed
            assert record["versions"][name] is None
            for candidate in provenance.LIBRARIES[name]:
                with pytest.raises(PackageNotFoundError):
                    version(candidate)
        else:
            assert distribution in provenance.LIBRARIES[name]
            assert record["versions"][name] == version(distribution)
    import keras
    import numpy

    assert record["versions"]["keras"] == keras.__version__ and record["versions"]["numpy"] == numpy.__version__


def test_tensorflow_is_found_under_the_distribution_the_extra_installs(monkeypatch):
    assert provenance.LIBRARIES["tensorflow"][:2] == ("tensorflow", "tensorflow-cpu")  # the extra: tensorflow-cpu
    monkeypatch.setattr(provenance, "LIBRARIES", {"tensorflow": ("no-such-distribution-x", "numpy"), "torch": ("no-such-y",)})
    record = environment()
    assert record["versions"] == {"tensorflow": version("numpy"), "torch": None}
    assert record["distributions"] == {"tensorflow": "numpy", "torch": None}


def test_lstmlab_version_is_the_installed_distributions():
    try:
        installed = version("lstmlab")
    except PackageNotFoundError:
        pytest.skip("lstmlab is not installed (run from the source tree only)")
    assert installed == lstmlab.__version__  # pyproject.toml reads the version from lstmlab.__version__


@needs_git
def test_the_commit_is_the_checkouts_head():
    try:
        head = git(ROOT, "rev-parse", "HEAD").strip()
        changed = git(ROOT, "status", "--porcelain", "--untracked-files=no").strip()
    except subprocess.CalledProcessError:
        pytest.skip("the tests are not run from a git checkout")
    record = environment()["git"]
    assert record == {"commit": head, "dirty": bool(changed)}
    assert git_revision(ROOT / "lstmlab") == record


def test_a_directory_outside_any_checkout_gives_none(tmp_path):
    (tmp_path / "lstmlab").mkdir()
    (tmp_path / "lstmlab" / "__init__.py").write_text("")
    assert git_revision(tmp_path / "lstmlab") is None
    assert git_revision(tmp_path / "missing") is None


def test_no_git_gives_none(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no git on it
    assert git_revision(ROOT / "lstmlab") is None


@needs_git
def test_a_git_that_hangs_gives_none(monkeypatch):
    monkeypatch.setattr(provenance, "GIT_TIMEOUT", 1e-6)
    assert git_revision(ROOT / "lstmlab") is None


@needs_git
def test_an_untracked_copy_inside_a_checkout_is_not_that_checkouts_code(tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    (repo / "src").mkdir(parents=True)
    (repo / "src" / "code.py").write_text("x = 1\n")
    git(repo, "init", "-q")
    git(repo, "add", "src/code.py")
    git(repo, "commit", "-q", "-m", "one")
    head = git(repo, "rev-parse", "HEAD").strip()
    assert git_revision(repo / "src") == {"commit": head, "dirty": False}
    (repo / "src" / "code.py").write_text("x = 2\n")
    assert git_revision(repo / "src") == {"commit": head, "dirty": True}
    (repo / "venv" / "site-packages" / "lstmlab").mkdir(parents=True)  # e.g. a virtual environment in the checkout
    (repo / "venv" / "site-packages" / "lstmlab" / "__init__.py").write_text("")
    assert git_revision(repo / "venv" / "site-packages" / "lstmlab") is None
    monkeypatch.setenv("GIT_DIR", str(tmp_path / "elsewhere"))  # the caller's git variables are not followed
    assert git_revision(repo / "src") == {"commit": head, "dirty": True}


def test_runs_studies_and_the_bench_record_the_same_environment(trained_run):
    from lstmlab.bench import driver
    from lstmlab.studies import runner

    results = json.loads((trained_run / "results.json").read_text())
    assert set(results["environment"]) == FIELDS and results["environment"]["backend"] == "jax"
    assert results["environment"]["versions"] == environment()["versions"]
    assert runner.environment is environment  # study.json's "environment"
    assert set(driver.machine_info()) == FIELDS  # bench.json's "machine"
