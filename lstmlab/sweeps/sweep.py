"""Runs a sweep: every grid point x seed of a `Spec` as its own run directory, on any executor.

    DIR/sweep.json       the spec, the options, and whether the sweep completed
    DIR/runs/NAME/       one `lstmlab run` directory per run, NAME from its content (spec.run_name)
    DIR/runs.csv         one row per run: grid fields, seed, status, metrics, seconds, error
    DIR/summary.csv      one row per grid point: n, failed, and per metric mean, std, 95% interval
    DIR/plot-Y-vs-X.png  with --plot

The runs go through the grid runner (`grid.py`), as a study's do. A rerun reuses every run whose
directory holds its results, so an interrupted sweep (Ctrl-C, a lost node) continues; a run cut off
mid-training continues from its checkpoint. With `ci_width`, seeds are added to each grid point, a
round at a time, until the 95% interval of `metric` is narrower than `ci_width` or the point has
`max_seeds` runs.
"""

import csv
import io
import json
import math
from pathlib import Path

from lstmlab.config import RunConfig
from lstmlab.core import workdir
from lstmlab.core.files import write_atomic
from lstmlab.errors import RunsFailedError, UserError
from lstmlab.executors import make_executor
from lstmlab.executors.progress import printer
from lstmlab.sweeps.grid import finished, run_grid
from lstmlab.sweeps.spec import Point, Spec
from lstmlab.sweeps.stats import describe

SWEEP_FILE = "sweep.json"
METRICS = ("test_accuracy", "test_loss", "val_accuracy", "val_loss", "train_loss", "train_seconds")


def metrics_of(results: dict) -> dict:
    """A finished run's metrics (its one model's) and wall time ("seconds") from its results.json."""
    model = results["models"][0]
    last = model["history"][-1]
    return {"test_accuracy": model["test_accuracy"], "test_loss": model["test_loss"],
            "val_accuracy": last["val_accuracy"], "val_loss": last["val_loss"], "train_loss": last["train_loss"],
            "train_seconds": model["train_seconds"], "seconds": results["wall_seconds"]}


def train_run(config: dict, out: str, cache_dir: str) -> dict:
    """A sweep's job: `lstmlab run` of `config` into `out` (continuing it if unfinished); its metrics."""
    from lstmlab.experiment import run_experiment

    return metrics_of(run_experiment(RunConfig.from_dict(config), Path(out), Path(cache_dir), verbose=False))


def run_sweep(spec: Spec, out: Path, cache_dir: Path, workers: int | None = None, ray: str | None = None,
              force: bool = False, ci_width: float | None = None, max_seeds: int = 20,
              metric: str = "test_accuracy", plot: dict | None = None, verbose: bool = True) -> dict:
    """Run `spec` into `out`; returns {"runs": rows, "summary": rows, "figure": path or None}.

    Raises RunsFailedError at the end, after every table is written, if any run failed.
    """
    if metric not in METRICS:
        raise UserError(f"--metric {metric!r} is not a sweep metric; choose from {', '.join(METRICS)}")
    if plot is not None:
        check_plot(plot, spec)
    points = spec.points()  # validates every run before anything is written
    from lstmlab.core.train import require_jax

    require_jax()
    with workdir.held(out, "sweep", "--out"):
        out = Path(out).resolve()  # workers (a Ray node's included) may run in another directory
        _start(out, spec, force)
        say = printer(verbose)
        rows = _run_rounds(spec, points, out, Path(cache_dir).resolve(), workers, ray, ci_width, max_seeds, metric, say)
        summary = summarise(rows, spec.group_fields())
        figure = draw(summary, plot, out) if plot is not None else None
        write_atomic(out / "summary.csv", _csv(summary))
        write_atomic(out / SWEEP_FILE, json.dumps({"spec": spec.to_dict(), "complete": True}, indent=2) + "\n")
        say(f"wrote {out / 'runs.csv'}, {out / 'summary.csv'}" + (f" and {figure}" if figure else ""))
    failed = [row for row in rows if row["status"] != "ok"]
    if failed:
        raise RunsFailedError(f"{len(failed)} of {len(rows)} runs failed, first {failed[0]['name']}: "
                              f"{failed[0]['error']} (all in {out / 'runs.csv'}); rerun the sweep to retry them")
    return {"runs": rows, "summary": summary, "figure": figure}


def _start(out: Path, spec: Spec, force: bool) -> None:
    """Refuse another spec's directory unless `force`, which empties it; record the spec."""
    path = out / SWEEP_FILE
    if force:
        from lstmlab.experiment import clear_run

        runs = workdir.no_links(out, "runs")
        for run in sorted(runs.iterdir()) if runs.is_dir() else ():
            if workdir.kind_of(workdir.no_links(runs, run.name)) == "run":  # lstmlab's run directories, no other
                clear_run(run)
                workdir.remove_own(run, (workdir.MARKER, workdir.LOCK))
        workdir.remove_own(runs, ())
        for name in (SWEEP_FILE, "runs.csv", "summary.csv"):
            (out / name).unlink(missing_ok=True)
        for figure in out.glob("plot-*.png"):
            figure.unlink()
    elif path.exists():
        try:
            previous = json.loads(path.read_text())["spec"]
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise UserError(f"{path} is damaged ({err}): pass --force to start the sweep over") from None
        if previous != spec.to_dict():
            raise UserError(f"{out} holds a sweep of another spec: pass --force to discard it, or choose another --out")
    write_atomic(path, json.dumps({"spec": spec.to_dict(), "complete": False}, indent=2) + "\n")


def _run_rounds(spec, points, out, cache_dir, workers, ray, ci_width, max_seeds, metric, say) -> list[dict]:
    """Run `points`, then (with ci_width) more seeds for the points whose interval is still too wide."""
    rows: dict[str, dict] = {}  # run name -> runs.csv row
    seeds = {_key(p.group): list(spec.seeds) for p in points}
    with make_executor(workers, ray, notify=say) as executor:
        say(f"sweep of {len(points)} runs on {executor.describe}")
        while True:
            _run_points(executor, points, out, cache_dir, rows, metric, say)
            if ci_width is None:
                break
            wide = _too_wide(_ordered(rows, points), spec, seeds, ci_width, max_seeds, metric)
            if not wide:
                break
            # Enough new seeds per point to keep every worker busy, up to max_seeds.
            more = max(1, math.ceil(getattr(executor, "parallel", 1) / len(wide)))
            for key in wide:
                start = max(seeds[key]) + 1
                seeds[key] += list(range(start, start + min(more, max_seeds - len(seeds[key]))))
            points = [Point(p.group, s, spec.config(p.group, s))
                      for p in _one_per_group(points) for s in seeds[_key(p.group)]]
            say(f"--ci-width {ci_width}: adding seeds to {len(wide)} grid point(s)")
    return _ordered(rows, points)


def _run_points(executor, points, out, cache_dir, rows, metric, say) -> None:
    """Fill `rows` for every point: reused from its run directory if finished there, else run."""
    reused = finished([p for p in points if p.name not in rows], lambda p: _finished(out / "runs" / p.name, p))
    if reused:
        say(f"{len(reused)} finished runs reused from {out / 'runs'}")
    by_name = {p.name: p for p in points}
    rows.update({name: _row(by_name[name], "ok", metrics) for name, metrics in reused.items()})
    for point, outcome in run_grid(executor, points, train_run,
                                   lambda p: (p.config.to_dict(), str(out / "runs" / p.name), str(cache_dir)), rows,
                                   lambda m: f"{metric} {m[metric]:.4f}", say):
        rows[point.name] = _row(point, "ok" if outcome.ok else "failed", outcome.value, outcome.error)
        write_atomic(out / "runs.csv", _csv(_ordered(rows, points)))  # progress survives an interruption
    write_atomic(out / "runs.csv", _csv(_ordered(rows, points)))


def _too_wide(rows, spec, seeds, ci_width, max_seeds, metric) -> list[str]:
    """Grid points whose `metric` interval is at least ci_width wide (or undefined) and may get more seeds."""
    wide = []
    for summary in summarise(rows, spec.group_fields()):
        key = _key({f: summary[f] for f in spec.group_fields()})
        low, high = summary[f"{metric}_ci_low"], summary[f"{metric}_ci_high"]
        if len(seeds[key]) < max_seeds and not (high - low < ci_width):  # NaN (too few runs) counts as wide
            wide.append(key)
    return wide


def _key(group: dict) -> str:
    return json.dumps(group, sort_keys=True)


def _one_per_group(points: list[Point]) -> list[Point]:
    seen = {}
    for point in points:
        seen.setdefault(_key(point.group), point)
    return list(seen.values())


def _ordered(rows: dict, points: list[Point]) -> list[dict]:
    """The rows of `points` that have finished, in plan order (grid-major, then seed)."""
    return [rows[p.name] for p in points if p.name in rows]


def _finished(directory: Path, point: Point) -> dict | None:
    """The metrics of the run finished in `directory`, or None if it has not finished."""
    from lstmlab.experiment import read_results

    path = workdir.no_links(directory.parent, directory.name) / "results.json"
    if not path.exists():
        return None
    results = read_results(directory)  # refuses a record edited or damaged since lstmlab wrote it
    try:
        if RunConfig.from_dict(results["config"]) != point.config:
            raise ValueError("it holds another configuration")
        return metrics_of(results)
    except (OSError, ValueError, KeyError, IndexError, TypeError) as err:
        raise UserError(f"{path} is damaged ({err}): delete {directory} to run it again, or pass --force") from None


def _row(point: Point, status: str, metrics: dict | None, error: str | None = None) -> dict:
    """A runs.csv row; a failed run's metrics are NaN. "seconds" is the run's own wall time."""
    return {"name": point.name, **point.group, "seed": point.seed, "status": status,
            **{m: (metrics or {}).get(m, float("nan")) for m in (*METRICS, "seconds")}, "error": error or ""}


def summarise(rows: list[dict], fields: list[str]) -> list[dict]:
    """Per grid point (in first-seen order): n finished, failed, and each metric's describe() over seeds."""
    groups: dict[str, list[dict]] = {}
    for row in rows:
        groups.setdefault(_key({f: row[f] for f in fields}), []).append(row)
    summary = []
    for members in groups.values():
        ok = [row for row in members if row["status"] == "ok"]
        entry = {f: members[0][f] for f in fields}
        entry.update({"n": len(ok), "failed": len(members) - len(ok)})
        for metric in METRICS:
            stats = describe([row[metric] for row in ok]) if ok else {}
            for name in ("mean", "std", "ci_low", "ci_high"):
                entry[f"{metric}_{name}"] = stats.get(name, float("nan"))
        summary.append(entry)
    return summary


def _csv(rows: list[dict]) -> str:
    if not rows:
        return ""
    table = io.StringIO()
    writer = csv.DictWriter(table, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: repr(v) if isinstance(v, float) and math.isfinite(v) else v for k, v in row.items()}
                     for row in rows)
    return table.getvalue()


def parse_plot(text: str) -> dict:
    """'y=test_accuracy,x=seq_len,hue=cell' -> {"y": ..., "x": ..., "hue": ...}; hue may be left out."""
    parts = dict(part.split("=", 1) for part in text.split(",") if "=" in part)
    if len(parts) != len(text.split(",")) or not {"x", "y"} <= set(parts) or set(parts) - {"x", "y", "hue"}:
        raise UserError(f"--plot {text!r}: expected y=METRIC,x=FIELD[,hue=FIELD], e.g. "
                        "y=test_accuracy,x=seq_len,hue=cell")
    return parts


def check_plot(plot: dict, spec: Spec) -> None:
    fields = spec.group_fields()
    if plot["y"] not in METRICS:
        raise UserError(f"--plot y={plot['y']}: not a metric; choose from {', '.join(METRICS)}")
    for axis in ("x", "hue"):
        if axis in plot and plot[axis] not in fields:
            raise UserError(f"--plot {axis}={plot[axis]}: not a grid field of this spec; "
                            f"choose from {', '.join(fields)}")


def draw(summary: list[dict], plot: dict, out: Path) -> str:
    """Mean and 95% interval of plot["y"] against plot["x"], one line per value of the other grid fields."""
    from lstmlab.sweeps.plot import plot_sweep

    name = f"plot-{plot['y']}-vs-{plot['x']}.png"
    plot_sweep(summary, plot, out / name)
    return str(out / name)
