"""A sweep spec: a base configuration, a grid over any of its fields, and the seeds.

    # examples/sweep-quick.toml
    seeds = 2                      # seeds 0, 1 (or a list: [0, 5, 7])
    [base]                         # any run field (config.FIELDS) or setting of the task, by its flat name
    epochs = 1
    n_train = 2048
    [grid]                         # every combination of these, each with every seed
    cell = ["lstm", "gru"]
    seq_len = [10, 25]

A sweep run trains one model, so `cell` and `layers` take one value each (a grid over them makes
separate runs). `task` and `cell` take lstmlab's names or specs of your own classes
("./my_task.py:MyTask", "mymodule:MyCell"), and a task's own settings (e.g. the integration task's
`threshold`) are fields like any other. A seed sets both the data seed and the init seed, unless the spec fixes one of
them (`data_seed` or `init_seed` in base or grid), in which case it sets the other.

Every run is named by its content: the model, the seed, and a digest of its full RunConfig. A rerun
or a resumed sweep therefore finds each finished run by name, whatever order the grid lists things in.
"""

import hashlib
import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path

from lstmlab import tasks
from lstmlab.config import RunConfig, fields, with_values
from lstmlab.errors import ConfigError, UserError

SPEC_KEYS = ("base", "grid", "seeds")
# The most runs one sweep or study may plan: far beyond what a machine trains, small enough that the plan
# itself (a config per run) fits in memory and is checked in seconds.
MAX_RUNS = 100_000


def _tasks_named(base: dict, grid: dict) -> list:
    """The tasks a spec's runs use: the grid's, else the base's, else the default."""
    named = grid.get("task", [base.get("task", "integration")])
    return named if isinstance(named, list) else [named]


def sweep_fields(base: dict, grid: dict) -> dict:
    """A spec's field names -> paths in RunConfig.to_dict(): the flat run fields (with one `cell` per run
    in place of `cells`) and the own settings of every task the spec names."""
    found = fields(*(tasks.get(name) for name in _tasks_named(base, grid)))
    found["cell"] = found.pop("cells")
    return found


@dataclass(frozen=True)
class Point:
    """One run of a sweep: its grid values, seed and configuration."""

    group: dict  # {grid field: value}
    seed: int
    config: RunConfig

    @property
    def name(self) -> str:
        return run_name(self.config, self.seed)


@dataclass(frozen=True)
class Spec:
    base: dict
    grid: dict  # {field: [values]}, in the spec's order
    seeds: tuple[int, ...]

    @classmethod
    def from_dict(cls, d) -> "Spec":
        """Check a spec's shape and every field name; the values are checked by `points`."""
        if not isinstance(d, dict):
            raise ConfigError(f"a sweep spec is a table with {', '.join(SPEC_KEYS)}; got a {type(d).__name__}")
        unknown = sorted(set(d) - set(SPEC_KEYS))
        if unknown:
            raise ConfigError(f"unknown sweep spec key(s) {unknown}: a spec holds only {', '.join(SPEC_KEYS)}")
        base, grid, seeds = d.get("base", {}), d.get("grid", {}), d.get("seeds", 1)
        for name, table in (("base", base), ("grid", grid)):
            if not isinstance(table, dict):
                raise ConfigError(f"[{name}] must be a table of run fields, got a {type(table).__name__}")
        known = sweep_fields(base, grid)
        for name, table in (("base", base), ("grid", grid)):
            unknown = sorted(set(table) - set(known))
            if unknown:
                named = ", ".join(tasks.get(t).name for t in _tasks_named(base, grid))
                raise ConfigError(f"unknown field(s) {unknown} in [{name}] (not a run field, nor a setting of the "
                                  f"{named} task); known fields are {', '.join(sorted(known))}")
        if not grid:
            raise ConfigError('the grid is empty: give at least one field and its values, e.g. [grid] cell = ["lstm", "gru"]')
        for field, values in grid.items():
            if not isinstance(values, list) or not values:
                raise ConfigError(f"grid.{field} must be a non-empty list of values, got {values!r}")
            if len({json.dumps(v) for v in values}) != len(values):
                raise ConfigError(f"grid.{field} lists a value twice: {values!r}")
        both = sorted(set(base) & set(grid))
        if both:
            raise ConfigError(f"{', '.join(both)} is set in both [base] and [grid]: keep it in one of them")
        spec = cls(dict(base), {k: list(v) for k, v in grid.items()}, _seeds(seeds))
        runs = math.prod(len(values) for values in spec.grid.values()) * len(spec.seeds)
        if runs > MAX_RUNS:
            raise ConfigError(f"this spec plans {runs:,} runs (grid points x seeds), more than the {MAX_RUNS:,} a "
                              "sweep may hold: split it into several sweeps")
        return spec

    def to_dict(self) -> dict:
        return {"base": self.base, "grid": self.grid, "seeds": list(self.seeds)}

    def group_fields(self) -> list[str]:
        return list(self.grid)

    def points(self, seeds=None) -> list[Point]:
        """Every grid combination with every seed (`seeds`, default the spec's), grid-major; each validated."""
        seeds = self.seeds if seeds is None else seeds
        fixed = {"data_seed", "init_seed"} & (set(self.base) | set(self.grid))
        if len(fixed) == 2 and len(seeds) > 1:
            raise ConfigError("data_seed and init_seed are both fixed, so every seed would repeat the same run: "
                              "drop one of them or give one seed")
        points = []
        for values in itertools.product(*self.grid.values()):
            group = dict(zip(self.grid, values))
            for seed in seeds:
                points.append(Point(group, seed, self.config(group, seed)))
        return points

    def config(self, group: dict, seed: int) -> RunConfig:
        """The RunConfig of one grid point and seed; a ConfigError names the point."""
        given = {**self.base, **group}
        paths = sweep_fields(self.base, self.grid)
        values = {paths[f]: v for f, v in given.items() if f not in ("cell", "layers")}
        values[paths["cell"]] = [given.get("cell", "lstm")]
        values[paths["layers"]] = [given.get("layers", 1)]
        for field in ("data_seed", "init_seed"):
            if field not in given:
                values[paths[field]] = seed
        where = ", ".join(f"{k}={v!r}" for k, v in group.items())
        try:
            if isinstance(given.get("cell", "lstm"), list) or isinstance(given.get("layers", 1), list):
                raise ConfigError("a sweep run trains one model: give cell and layers one value each, and put "
                                  "several in [grid]")
            return RunConfig.from_dict(with_values({}, values))
        except ConfigError as err:
            raise ConfigError(f"grid point {where}, seed {seed}: {err}") from None


def _seeds(seeds) -> tuple[int, ...]:
    if isinstance(seeds, int) and not isinstance(seeds, bool):
        if not 1 <= seeds <= MAX_RUNS:
            raise ConfigError(f"seeds must be a count from 1 to {MAX_RUNS:,} or a list of seeds, got {seeds}")
        return tuple(range(seeds))
    if (not isinstance(seeds, list) or not seeds
            or any(isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in seeds)):
        raise ConfigError(f"seeds must be a positive count or a non-empty list of non-negative integers, got {seeds!r}")
    if len(set(seeds)) != len(seeds):
        raise ConfigError(f"seeds lists a seed twice: {seeds!r}")
    return tuple(seeds)


def run_name(config: RunConfig, seed: int) -> str:
    """A run's directory name, from its content: e.g. lstm-1layer-seed0-3f2a9c1b0d."""
    digest = hashlib.sha256(json.dumps(config.to_dict(), sort_keys=True).encode()).hexdigest()[:10]
    return f"{config.models[0].name}-seed{seed}-{digest}"


def load_spec(path: Path) -> Spec:
    """Read a spec file (.toml, else JSON) -> Spec; one-line UserError for a file that cannot be read."""
    from lstmlab.core.files import read_table

    return Spec.from_dict(read_table(path, "sweep spec"))
