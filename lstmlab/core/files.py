"""Atomic file writes: a reader (or a crash) never sees a half-written file."""

import os
import tempfile
from pathlib import Path

from lstmlab.core.faults import fault_point


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write `data` to a temporary file beside `path`, fsync it, then rename it over `path`.

    The file gets the permissions a plain `open` would give (0o666 less the umask), not mkstemp's 0o600.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())
        fault_point(f"write:{path.name}")  # the crash tests stop here: written but not yet in place
        os.replace(tmp, path)
    except OSError as err:  # a full disk: the message names the file being written, not a temporary one
        Path(tmp).unlink(missing_ok=True)
        raise OSError(err.errno, err.strerror, str(path)) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_new(path: Path, data: str | bytes) -> None:
    """Write `data` to `path`, which must not exist: written beside it, then linked into place,
    which fails rather than replace a file that appeared meanwhile."""
    path = Path(path)
    # A new, unique and short temporary name (any name the user's file may have fits beside it).
    fd, tmp = tempfile.mkstemp(prefix=".lstmlab-", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())
        os.link(tmp, path)  # FileExistsError if something took the name
    finally:
        Path(tmp).unlink(missing_ok=True)  # ours: mkstemp made it


def save_weights_atomic(model, path: Path) -> None:
    """`model.save_weights` through a temporary file (Keras wants the name to end in .weights.h5)."""
    path = Path(path)
    tmp = path.with_name(f".{os.getpid()}.tmp.{path.name}")
    try:
        model.save_weights(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def weights_layout(path: Path) -> dict[str, tuple]:
    """{dataset path: shape} of every variable in a Keras .weights.h5 file."""
    import h5py

    layout = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, item: layout.__setitem__(name, item.shape) if isinstance(item, h5py.Dataset) else None)
    return layout


def load_weights_checked(model, path: Path) -> None:
    """`model.load_weights(path)`, refused with ValueError unless the file holds exactly the model's
    variables (same paths, same shapes): Keras alone loads what matches and silently drops the rest."""
    with tempfile.TemporaryDirectory() as scratch:
        expected_path = Path(scratch) / "expected.weights.h5"
        model.save_weights(expected_path)  # the layout this model writes, hence the one it must read
        expected = weights_layout(expected_path)
    found = weights_layout(path)
    if found != expected:
        missing = sorted(set(expected) - set(found))
        extra = sorted(set(found) - set(expected))
        reshaped = sorted(k for k in set(found) & set(expected) if found[k] != expected[k])
        first = (f"missing {missing[0]}" if missing else f"unexpected {extra[0]}" if extra
                 else f"{reshaped[0]} has shape {found[reshaped[0]]}, the model needs {expected[reshaped[0]]}")
        raise ValueError(f"{path} does not hold this model's weights ({first})")
    model.load_weights(path)


MAX_TABLE_BYTES = 1 << 20  # a config file or sweep spec is a page of settings: anything past 1 MiB is not one


def read_table(path: Path, what: str) -> object:
    """A config file or sweep spec, TOML by its suffix, else JSON -> what it holds (usually a dict).

    The size is checked before anything is read, and a file too deeply nested to parse is refused like
    any unreadable one: one UserError naming `what` (a flag) and the reason.
    """
    import json
    import tomllib

    from lstmlab.errors import UserError

    path = Path(path)
    kind = "TOML" if path.suffix.lower() == ".toml" else "JSON"
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_TABLE_BYTES + 1)  # never more: /dev/zero or a huge file is refused unread
        if len(raw) > MAX_TABLE_BYTES:
            raise UserError(f"{what} {path}: larger than {MAX_TABLE_BYTES >> 20} MiB, which no configuration is; "
                            "check the path")
        text = raw.decode()
        return tomllib.loads(text) if kind == "TOML" else json.loads(text)
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        if isinstance(err, RecursionError):
            reason = "nested too deeply"
        raise UserError(f"{what} {path}: cannot read it as {kind} ({reason})") from None


def seal(record: dict, *files: Path) -> dict:
    """`record` with a "digest" over its contents and the bytes of `files` (a model's weights): what lstmlab
    wrote, so that a record edited or damaged afterwards is told from it (`check_seal`)."""
    return {**record, "digest": _digest(record, files)}


def check_seal(record, *files: Path) -> bool:
    """Does `record` (read back from disk) still hold the digest `seal` gave it, over the same `files`?"""
    if not isinstance(record, dict) or not isinstance(record.get("digest"), str):
        return False
    try:
        return record["digest"] == _digest({k: v for k, v in record.items() if k != "digest"}, files)
    except (OSError, TypeError, ValueError):
        return False


def _digest(record: dict, files) -> str:
    import hashlib
    import json

    digest = hashlib.sha256(json.dumps(record, sort_keys=True).encode())
    for path in files:
        digest.update(hashlib.sha256(Path(path).read_bytes()).digest())
    return digest.hexdigest()
