"""The one resumable grid runner: runs named by their content, the finished ones skipped, the rest on any executor.

A sweep (`sweep.py`) and a study (`studies/runner.py`) both plan a list of `Point`s (a group of the
settings varied, a seed and a RunConfig), each named by `spec.run_name`: the one run identity, so a
rerun finds every finished run whatever order the plan lists them in. Each finds its finished runs in
its own files (a sweep's run directories, a study's study.json) and hands the rest to `run_grid`,
which yields every outcome as it arrives, so the caller records it before the next one: an
interruption (Ctrl-C, a lost node) loses no finished run.
"""

from typing import Any, Callable, Container, Iterator

from lstmlab.executors import Job, Outcome
from lstmlab.executors.progress import run_jobs
from lstmlab.sweeps.spec import Point


def label(point: Point) -> str:
    """A run in a progress line: 'cell lstm, seq_len 25, seed 3'."""
    return ", ".join([f"{k} {v}" for k, v in point.group.items()] + [f"seed {point.seed}"])


def finished(points: list[Point], lookup: Callable[[Point], Any]) -> dict[str, Any]:
    """{name: what `lookup` found} of the points it finds finished (anything but None), in plan order."""
    found = {}
    for point in points:
        value = lookup(point)
        if value is not None:
            found[point.name] = value
    return found


def run_grid(executor, points: list[Point], fn: Callable, args: Callable[[Point], tuple], done: Container[str],
             headline: Callable[[Any], str], say) -> Iterator[tuple[Point, Outcome]]:
    """Run `fn(*args(point))` for every point whose name is not in `done` on `executor`; yield (point, outcome)
    as each finishes, after its progress line (`[i/len(points)] label: headline(value)  bar  ETA`).

    `fn` is a module-level function (a worker imports it by name); `outcome.ok` says whether it returned.
    """
    todo = [p for p in points if p.name not in done]
    by_name = {p.name: p for p in todo}
    jobs = [Job(p.name, fn, args(p)) for p in todo]
    for outcome in run_jobs(executor, jobs, lambda name: label(by_name[name]), headline, say,
                            done_before=len(points) - len(todo), total=len(points)):
        yield by_name[outcome.key], outcome
