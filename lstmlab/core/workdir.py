"""The directories lstmlab writes into: claimed, marked with their kind, and locked while written.

The rule: lstmlab writes or deletes only inside a directory that it created and marked as its own
kind, or that was empty when it claimed it, and never through a link it did not make (`no_links`):
clearing deletes only the files lstmlab writes there, by name (`remove_own`), never a user's file
beside them nor what a link points to. The mark is a small file, `.lstmlab`, holding the
directory's kind ("run", "study", "bench", "cache", "tensorboard"); `--force` only ever clears a directory of the
kind the command makes, so a study can never be cleared by `run --force` and the current directory
(`--out ""` or `--out .`) is never taken unless it is empty. While a command writes a directory it
holds an exclusive lock on `.lstmlab.lock` there, so a second writer is refused at once instead of
crashing the first.
"""

import contextlib
import fcntl
import glob
import json
import os
from pathlib import Path

from lstmlab.core.files import write_atomic
from lstmlab.errors import UserError

MARKER = ".lstmlab"
LOCK = ".lstmlab.lock"
KINDS = ("run", "study", "sweep", "bench", "cache", "tensorboard")


class DirectoryError(UserError):
    """A directory lstmlab was asked to write is not its own to write."""


def kind_of(path: Path) -> str | None:
    """The kind lstmlab marked `path` with, or None when it carries no mark."""
    marker = Path(path) / MARKER
    if not marker.exists():
        return None
    try:
        kind = json.loads(marker.read_text())["kind"]
    except (OSError, ValueError, KeyError, TypeError):
        kind = None
    if kind not in KINDS:
        raise DirectoryError(f"{path} has a damaged {MARKER} mark: it is not safe to write there; choose another "
                             "directory")
    return kind


def nearest_existing(path: Path) -> Path:
    """`path` itself, or its nearest ancestor that exists."""
    while not path.exists():
        path = path.parent
    return path


def _as_one_line(check_function):
    """Let a path the system cannot handle (a name too long, a loop of links) be a DirectoryError too."""

    def checked(path, *args):
        try:
            return check_function(path, *args)
        except OSError as err:
            raise DirectoryError(f"{args[-1]} {path}: {err.strerror or err}; choose another path") from None

    checked.__doc__ = check_function.__doc__
    return checked


@_as_one_line
def check(path: Path, kind: str, flag: str) -> None:
    """Raise DirectoryError unless lstmlab may write a directory of `kind` at `path` (nothing is written)."""
    path = Path(path)
    shown = f"{flag} {str(path) or '.'}"
    if path.is_symlink() or (path.exists() and not path.is_dir()):
        raise DirectoryError(f"{shown} is not a directory lstmlab made (it is a file or a link): choose another path")
    existing = nearest_existing(path)
    if not existing.is_dir():
        raise DirectoryError(f"{shown}: {existing} is a file, not a directory; choose another path")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise DirectoryError(f"{shown}: {existing} is not writable; choose a directory you can write to")
    if not path.exists():
        return
    # Listed before the mark is read: a claiming process writes its mark before anything else, so any
    # file of its in this list means the mark is there to read. The mark, its lock and a mark being
    # written (write_atomic's ".<name>.XXXX.tmp") are lstmlab's own.
    entries = [entry.name for entry in path.iterdir()]
    found = kind_of(path)
    if found is None and any(not name.startswith((MARKER, f".{MARKER}.")) for name in entries):
        raise DirectoryError(f"{shown} holds files lstmlab did not create: choose a new or empty directory")
    if found is not None and found != kind:
        raise DirectoryError(f"{shown} is a lstmlab {found} directory, not a {kind} directory: choose another path")


@_as_one_line
def check_new_file(path: Path, flag: str) -> None:
    """Raise DirectoryError unless `path` names no existing thing, in a directory that can be written.

    A file lstmlab writes outside its own directories (evaluate's --predictions) is always new: it
    never replaces what is there, the command's own inputs included.
    """
    path = Path(path)
    if path.exists() or path.is_symlink():
        what = "a directory" if path.is_dir() else "a file" if path.is_file() else "something"
        raise DirectoryError(f"{flag} {path} is {what} that exists already; lstmlab writes only new files: choose "
                             "another name or move it away")
    parent = path.parent
    if not parent.is_dir():
        raise DirectoryError(f"{flag} {path}: {parent} is not an existing directory; create it or choose another path")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise DirectoryError(f"{flag} {path}: {parent} is not writable; choose a directory you can write to")


def claim(path: Path, kind: str, flag: str) -> Path:
    """Check `path`, then create it and mark it as a `kind` directory; returns it."""
    check(path, kind, flag)
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    if kind_of(path) is None:
        write_atomic(path / MARKER, json.dumps({"kind": kind}) + "\n")
    return path


@contextlib.contextmanager
def held(path: Path, kind: str, flag: str):
    """Claim `path` and hold its lock until the block ends; a second holder is refused at once."""
    path = claim(path, kind, flag)
    with open(path / LOCK, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise DirectoryError(f"{flag} {path} is being written by {holder}: wait for it to finish, or choose "
                                 "another directory") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"lstmlab process {os.getpid()}")
        handle.flush()
        try:
            yield path
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def no_links(root: Path, *parts: str) -> Path:
    """`root`/parts..., refusing a symbolic link at any of `parts`: lstmlab writes through none it did not make."""
    path = Path(root)
    for part in parts:
        path = path / part
        if path.is_symlink():
            raise DirectoryError(f"{path} is a link lstmlab did not make, and it writes through none: remove the link, "
                                 "or choose another directory")
        if path.exists() and not path.is_dir() and part != parts[-1]:
            raise DirectoryError(f"{path} is a file where lstmlab keeps a directory: move it away, or choose another "
                                 "directory")
    return path


def remove_own(directory: Path, names) -> None:
    """Delete the files called `names` in `directory` (a link is removed itself, never what it points to),
    then `directory` if that left it empty; whatever else it holds stays."""
    directory = Path(directory)
    if directory.is_symlink() or not directory.is_dir():
        return
    for name in names:
        # The file, and what a killed write_atomic left of it (".NAME.XXXX.tmp").
        for path in (directory / name, *directory.glob(f".{glob.escape(name)}.*.tmp")):
            if path.is_symlink() or path.is_file():
                path.unlink()
    with contextlib.suppress(OSError):  # not empty: it holds someone else's files, which stay
        directory.rmdir()
