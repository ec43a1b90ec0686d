"""The dataset cache: generate a task's splits once, save them as plain .npy files, load them after.

An entry is a directory named after the task config's hash, holding `{split}_{x,y}.npy` and a
`manifest.json` with the config and a SHA-256 of every file. Nothing in it depends on a framework
version. Entries are written into a temporary directory and renamed into place in one atomic step,
so a crash never leaves a half-written entry and two processes creating the same entry both end up
reading one complete copy. Every load re-checks the manifest and the checksums; a damaged entry is
reported, never used.
"""

import dataclasses
import hashlib
import io
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from lstmlab import tasks
from lstmlab.config import RunConfig, TaskConfig
from lstmlab.core import workdir
from lstmlab.core.faults import fault_point
from lstmlab.errors import UserError
from lstmlab.tasks.base import SPLITS, Splits

FORMAT_VERSION = 2  # 2: the config names its task
MANIFEST = "manifest.json"



class CacheError(UserError):
    """A cache entry is damaged or does not match its config; the message says what was wrong."""


def entry_path(config: TaskConfig, cache_dir: Path) -> Path:
    """Where the entry for `config` lives: the name shows the main fields, the hash makes it unique."""
    key = json.dumps({"format": FORMAT_VERSION, **config.to_dict()}, sort_keys=True)
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    variant = f"{config.target}-{config.objective}"
    return Path(cache_dir) / f"{tasks.get(config.name).name}-T{config.seq_len}-{variant}-seed{config.seed}-{digest}"


def cached_task(config: RunConfig) -> TaskConfig:
    """The task config whose splits a run caches: its own, or with --stream (whose training batches are
    drawn fresh, batches.Stream) one with a single batch of training samples; the validation and test
    splits are the same either way (each split draws from its own child of the seed)."""
    if not config.train.stream:
        return config.task
    return dataclasses.replace(config.task, n_train=config.train.batch_size)


def training_data(config: RunConfig, splits: Splits):
    """What `fit` trains on: the cached (x, y) training split, or with --stream a batches.Stream."""
    if not config.train.stream:
        return splits["train"]
    from lstmlab.core.batches import Stream

    return Stream(tasks.of(config.task), config.train.batch_size, config.task.n_train)


def load_or_create(config: TaskConfig, cache_dir: Path, rebuild: bool = True, log=print) -> tuple[Splits, Path]:
    """The task's splits, from the cache when a valid entry exists, else generated and cached.

    A damaged entry is reported through `log` and rebuilt, or refused with CacheError when
    `rebuild` is False.
    """
    path = entry_path(config, cache_dir)
    if path.exists():
        try:
            return load(path, config), path
        except CacheError as err:
            if not rebuild:
                raise CacheError(f"{err}; delete {path} or drop --no-rebuild to rebuild it") from None
            log(f"lstmlab: {err}; rebuilding it")
    workdir.claim(cache_dir, "cache", "--cache-dir")  # only lstmlab's own cache is written
    if path.exists():
        _discard(path)
    _write_atomically(path, config, tasks.of(config).generate())
    return load(path, config), path


def load(path: Path, config: TaskConfig) -> Splits:
    """Read and verify an entry: the manifest must match `config` and every checksum its file."""
    try:
        manifest = json.loads((path / MANIFEST).read_text())
    except FileNotFoundError:
        raise CacheError(f"cache entry {path} has no {MANIFEST}") from None
    except (OSError, ValueError, RecursionError) as err:
        raise CacheError(f"cache entry {path} has an unreadable {MANIFEST} ({err})") from None
    if not isinstance(manifest, dict):
        raise CacheError(f"cache entry {path} has a {MANIFEST} that is not a JSON object")
    expected = {"format": FORMAT_VERSION, "task": config.to_dict()}
    if {k: manifest.get(k) for k in expected} != expected:
        raise CacheError(f"cache entry {path} was made for another config (stale manifest)")
    files = manifest.get("files")
    if not isinstance(files, dict) or set(files) != set(_file_names()):
        raise CacheError(f"cache entry {path} lists the wrong files in its manifest")
    arrays = {}
    for name, digest in files.items():
        try:
            raw = (path / name).read_bytes()
        except OSError:
            raise CacheError(f"cache entry {path} is missing {name}") from None
        if hashlib.sha256(raw).hexdigest() != digest:
            raise CacheError(f"cache entry {path} has a corrupt {name} (checksum mismatch)")
        arrays[name] = np.load(io.BytesIO(raw), allow_pickle=False)  # the very bytes that were verified
    return {s: (arrays[f"{s}_x.npy"], arrays[f"{s}_y.npy"]) for s in SPLITS}


def _file_names() -> list[str]:
    return [f"{s}_{part}.npy" for s in SPLITS for part in ("x", "y")]


def _write_atomically(path: Path, config: TaskConfig, data: Splits) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_orphans(path)
    # The creator's pid is in the name, so a later run can tell a crashed writer's leftovers.
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-{os.getpid()}-", dir=path.parent))
    try:
        files = {}
        for split, (x, y) in data.items():
            for part, array in (("x", x), ("y", y)):
                name = f"{split}_{part}.npy"
                with open(tmp / name, "wb") as f:
                    np.save(f, array, allow_pickle=False)
                    f.flush()
                    os.fsync(f.fileno())
                files[name] = hashlib.sha256((tmp / name).read_bytes()).hexdigest()
        manifest = {"format": FORMAT_VERSION, "task": config.to_dict(), "files": files}
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        fault_point("cache:rename")
        try:
            os.rename(tmp, path)  # atomic; fails if another process renamed its copy first
        except OSError:
            if not path.exists():
                raise
            # Another process won the race; its entry is as good as ours and is verified on load.
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _remove_orphans(path: Path) -> None:
    """Delete temporary directories for `path` left by writers that died (killed mid-write)."""
    for leftover in path.parent.glob(f".{path.name}.tmp-*-*"):
        pid = leftover.name[len(f".{path.name}.tmp-"):].split("-")[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(leftover, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


def _discard(path: Path) -> None:
    """Move a damaged entry out of the way atomically, then delete it."""
    trash = path.with_name(f".{path.name}.trash-{os.getpid()}")
    try:
        os.rename(path, trash)
    except FileNotFoundError:
        return  # another process discarded it already
    shutil.rmtree(trash, ignore_errors=True)
