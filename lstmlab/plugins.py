"""Cells and tasks from outside the package: a class in the user's own module or file, found by a spec string.

A spec names where a class lives, so that a config file, a sweep spec, a worker process or a Ray node
can find it again:

    "integration"                    a registered name: lstmlab's own, or an installed package's entry
                                     point (group "lstmlab.tasks" or "lstmlab.cells")
    "mypackage.tasks:Countdown"      a module on the Python path (the current directory included)
    "./my_task.py:Countdown"         a Python file; stored as its absolute path, so that a worker in
                                     another directory finds the same file

`resolve` turns a spec or a class into (spec, class); a class passed directly (the Python API) gets the
spec of the module or file it was defined in. A file is imported once per process, under a module name
derived from its path, so its classes pickle by reference and compare equal across calls. A class
defined in a notebook or an interactive session has no file to find again: it trains in this process
only, and a worker that is handed it says so.
"""

import hashlib
import importlib
import importlib.util
import os
import sys
from importlib.metadata import entry_points
from pathlib import Path

from lstmlab.errors import ConfigError

# Classes this process resolved, by spec: a file is imported once, and a class defined in __main__
# (a notebook) can be used in-process.
_RESOLVED: dict[str, type] = {}


def is_spec(text: str) -> bool:
    """Does `text` name a class by module or file ("module:Class", "path.py:Class"), not by registered name?"""
    return isinstance(text, str) and ":" in text


def in_process_only(spec: str) -> bool:
    """Is `spec` a class only this process can find (defined in a notebook, an interactive session or a
    function)?"""
    return spec.startswith("__main__:") or "<locals>" in spec


def registered(group: str) -> dict[str, object]:
    """Entry points of `group` ("lstmlab.cells", "lstmlab.tasks") installed packages offer, by name (not loaded)."""
    return {ep.name: ep for ep in entry_points(group=group)}


def resolve(value, base: type, builtin: dict[str, type], group: str, kind: str) -> tuple[str, type]:
    """(spec, class) of `value`: a registered name, a "module:Class" or "file.py:Class" spec, or a class.

    `base` is the class it must subclass (RecurrentCell, Task); `builtin` lstmlab's own by name; `group`
    the entry-point group; `kind` "cell" or "task", for messages. Raises ConfigError in one line.
    """
    if isinstance(value, type):
        cls, spec = value, spec_of(value, builtin)
    elif not isinstance(value, str) or not value:
        raise ConfigError(f"a {kind} is a name, a 'module:Class' or 'file.py:Class' spec, or a class; got {value!r}")
    elif value in builtin:
        return value, builtin[value]
    elif value in _RESOLVED:
        cls, spec = _RESOLVED[value], value
    elif not is_spec(value):
        cls, spec = _entry_point(value, group, kind, builtin), value
    else:
        spec = normal_spec(value)
        cls = _RESOLVED.get(spec) or _load(spec, kind)
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise ConfigError(f"{kind} {spec!r} is {cls!r}, not a subclass of lstmlab's {base.__name__}: see the "
                          f"docs' 'Extending' pages")
    _RESOLVED[spec] = cls
    return spec, cls


def normal_spec(spec: str) -> str:
    """A spec with a file path made absolute (the same file from any working directory)."""
    where, _, name = spec.rpartition(":")
    if where.endswith(".py"):
        return f"{os.path.abspath(where)}:{name}"
    return spec


def spec_of(cls: type, builtin: dict[str, type]) -> str:
    """The spec that finds `cls` again: its registered name, its file's path, or its module's name."""
    for name, known in builtin.items():
        if known is cls:
            return name
    for spec, known in _RESOLVED.items():
        if known is cls:
            return spec
    module = sys.modules.get(cls.__module__)
    qualname = cls.__qualname__
    path = getattr(module, "__file__", None)
    if "<locals>" in qualname:  # defined inside a function: usable here, by no other process
        spec = f"{cls.__module__}:{qualname}"
    elif cls.__module__ == "__main__":
        spec = f"{os.path.abspath(path)}:{qualname}" if path else f"__main__:{qualname}"
    elif "." not in cls.__module__ and path and not _installed(path):
        # A lone module found through the script's own folder, which a worker's path lacks: by its file.
        spec = f"{os.path.abspath(path)}:{qualname}"
    else:
        spec = f"{cls.__module__}:{qualname}"
    _RESOLVED[spec] = cls
    return spec


def _installed(path: str) -> bool:
    """Is `path` inside an installed package's folder (site-packages), where every process finds it?"""
    real = os.path.realpath(path)
    return any(real.startswith(os.path.realpath(root) + os.sep) for root in sys.path
               if root.endswith(("site-packages", "dist-packages")))


def _entry_point(name: str, group: str, kind: str, builtin: dict) -> type:
    found = registered(group)
    if name not in found:
        known = ", ".join([*builtin, *sorted(found)])
        raise ConfigError(f"unknown {kind} {name!r}; choose from {known}, or name your own class as "
                          f"'module:Class' or 'file.py:Class'")
    try:
        return found[name].load()
    except Exception as err:  # noqa: BLE001 - whatever the package raises, one line
        raise ConfigError(f"{kind} {name!r}: its entry point {found[name].value} failed to load "
                          f"({type(err).__name__}: {err})") from None


def _load(spec: str, kind: str) -> type:
    """Import the module or file of `spec` and take the class."""
    where, _, qualname = spec.rpartition(":")
    if not where or not qualname:
        raise ConfigError(f"{kind} {spec!r}: expected 'module:Class' or 'file.py:Class'")
    if in_process_only(spec):
        raise ConfigError(f"{kind} {spec!r} was defined in an interactive session or inside a function, where other "
                          "processes cannot find it: put the class at the top level of a .py file, or train in this "
                          "process (workers=1, or --workers 0 for a sweep or study)")
    try:
        module = _import_file(Path(where)) if where.endswith(".py") else _import_module(where)
    except ConfigError:
        raise
    except Exception as err:  # noqa: BLE001 - an error inside the user's module, in one line
        raise ConfigError(f"{kind} {spec!r}: importing {where} failed ({type(err).__name__}: {err})") from None
    value = module
    for part in qualname.split("."):
        value = getattr(value, part, None)
        if value is None:
            raise ConfigError(f"{kind} {spec!r}: {where} has no {qualname!r}")
    return value


def _import_module(name: str):
    """Import `name`, looking in the current directory too (as `python -m` does; the console script does not)."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as err:
        if err.name != name.split(".")[0] or os.getcwd() in sys.path:
            raise ConfigError(f"cannot import {name!r} ({err}): is it on the Python path?") from None
    sys.path.append(os.getcwd())
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as err:
        raise ConfigError(f"cannot import {name!r} ({err}): is it on the Python path or in the current "
                          "directory?") from None


def shipped() -> list[str]:
    """The files and package folders of the plug-ins this process resolved that live outside installed
    packages: what a Ray job must carry to nodes that do not share this machine's files (`py_modules`)."""
    found = []
    for spec in _RESOLVED:
        where = spec.rpartition(":")[0]
        if where.endswith(".py"):
            path = where
        else:
            module = sys.modules.get(where.split(".")[0])
            path = getattr(module, "__file__", None)
            if path is None:
                continue
            if os.path.basename(path) == "__init__.py":  # a package: its folder
                path = os.path.dirname(path)
        real = os.path.realpath(path)
        if os.path.exists(real) and not _installed(real) and real not in found \
                and not real.startswith(os.path.dirname(os.path.realpath(__file__)) + os.sep):
            found.append(real)
    return found


def _import_file(path: Path):
    """Import the Python file `path` once per process, as a module named after its absolute path.

    On a Ray node that does not share the driver's files, the file arrived with the job as a module
    named after it (`shipped`, Ray's py_modules): that module is taken instead.
    """
    if not path.is_file():
        try:
            return importlib.import_module(path.stem)
        except ImportError:
            raise ConfigError(f"{path}: no such Python file") from None
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:10]
    name = f"lstmlab_plugin_{path.stem}_{digest}"  # unique per file, a valid identifier for pickling
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # before executing: a dataclass or pickle inside it looks itself up
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module
