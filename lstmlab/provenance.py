"""Where a number came from: the one record of code, libraries and machine that every output carries.

`environment()` is written into a run's `results.json` ("environment"), a study's `study.json`
("environment") and `bench.json` ("machine"):

    lstmlab        lstmlab.__version__ (pyproject.toml reads its version from there)
    git            {"commit": HEAD, "dirty": tracked files changed} of the checkout lstmlab was imported
                   from; None when that is no git checkout (an installed copy), git is missing or slow
    python         e.g. "3.11.7"
    platform       platform.platform(); machine: platform.machine(), e.g. "x86_64"
    cpu, cores     the CPU model (/proc/cpuinfo, else platform.processor()); the cores this process
                   may run on (its affinity mask, not the machine's count)
    backend        the Keras backend (keras's own answer once keras is imported, else KERAS_BACKEND,
                   which lstmlab/__init__ sets and keras obeys)
    versions       the installed version of each library, read from its distribution's metadata; None
                   where not installed
    distributions  for each entry of versions, the distribution it was read from (the tensorflow
                   extra installs "tensorflow-cpu", not "tensorflow")

Reading it imports nothing heavy: no keras, jax or tensorflow is imported for it.
"""

import os
import platform
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import lstmlab

# Each library under the distribution names that install it, first found wins.
LIBRARIES = {
    "keras": ("keras",),
    "jax": ("jax",),
    "jaxlib": ("jaxlib",),
    "numpy": ("numpy",),
    "tensorflow": ("tensorflow", "tensorflow-cpu", "tensorflow-gpu", "tensorflow-intel", "tensorflow-macos"),
    "torch": ("torch",),
}
GIT_TIMEOUT = 5.0  # seconds, per git command
SOURCE_DIR = Path(lstmlab.__file__).resolve().parent


def environment() -> dict:
    """The provenance record written beside every result (see the module docstring)."""
    found = {name: installed(candidates) for name, candidates in LIBRARIES.items()}
    return {
        "lstmlab": lstmlab.__version__,
        "git": git_revision(SOURCE_DIR),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu": cpu_model(),
        "cores": core_count(),
        "backend": keras_backend(),
        "versions": {name: v for name, (_, v) in found.items()},
        "distributions": {name: d for name, (d, _) in found.items()},
    }


def installed(distributions: tuple[str, ...]) -> tuple[str | None, str | None]:
    """(distribution, version) of the first of `distributions` that is installed, else (None, None)."""
    for name in distributions:
        try:
            return name, version(name)
        except PackageNotFoundError:
            continue
    return None, None


def git_revision(directory: Path) -> dict | None:
    """{"commit", "dirty"} of the git checkout whose tracked files include `directory`, else None.

    None when git is missing, fails or takes longer than GIT_TIMEOUT, when `directory` is in no
    checkout, and when it lies in a checkout without being part of it (an installed copy inside a
    virtual environment inside some repository is not that repository's code). "dirty": a tracked
    file differs from HEAD (untracked files do not count, as in `git describe --dirty`).
    """
    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", *args], cwd=directory, env=env, capture_output=True, text=True,
                                  timeout=GIT_TIMEOUT, stdin=subprocess.DEVNULL)
        except (OSError, subprocess.SubprocessError):  # no git, no such directory, too slow
            return None
        return done.stdout if done.returncode == 0 else None

    # The caller's GIT_DIR and the like must not point git elsewhere; no optional locks: reading the
    # status must never write the index under a commit in progress.
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")} | {"GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}
    if git("ls-files", "--error-unmatch", "--", ".") is None:  # not a checkout, or nothing here is tracked
        return None
    commit = git("rev-parse", "--verify", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no")
    if commit is None or status is None:  # e.g. a repository without a commit yet
        return None
    return {"commit": commit.strip(), "dirty": bool(status.strip())}


def cpu_model() -> str | None:
    """The CPU's model name from /proc/cpuinfo (Linux), else platform.processor(), else None."""
    try:
        for line in Path("/proc/cpuinfo").read_text(errors="replace").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip() or None
    except OSError:
        pass
    return platform.processor() or None


def core_count() -> int | None:
    """The cores this process may run on (its CPU affinity where the system has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count()


def keras_backend() -> str | None:
    """Keras's backend, without importing keras to learn it."""
    keras = sys.modules.get("keras")
    if keras is not None:
        try:
            return keras.backend.backend()
        except AttributeError:  # keras only half imported
            pass
    return os.environ.get("KERAS_BACKEND")
