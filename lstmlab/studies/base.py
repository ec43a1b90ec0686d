"""What a study is (a typed `Study`), what one of its runs is told (`RunContext`), and grouping its runs."""

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from lstmlab.config import RunConfig

Plan = list[tuple[dict, RunConfig]]  # (group: the settings the study varies, the run's config)


@dataclass(frozen=True)
class RunContext:
    """What a study's `measure` is told besides the run's config: where the data cache is, and whether
    the study is the quick version (the tests') or the full one."""

    cache_dir: Path
    quick: bool


@dataclass(frozen=True)
class Study:
    """A question answered by a grid of single-model runs over seeds; `runner.run_study` runs it.

    plan(seeds, quick) -> the runs to make; measure(config, context) -> one run's metrics (a
    JSON-able dict; a module-level function, so a worker can import it); headline(metrics) -> a
    progress line; summarise(runs) -> the summary (rows, or a dict of tables); draw(study, out) -> the
    figure files it wrote into out; render(study, figures) -> report.md.
    """

    name: str
    question: str  # one line for --help
    plan: Callable[[int, bool], Plan]
    measure: Callable[[RunConfig, RunContext], dict]
    headline: Callable[[dict], str]
    summarise: Callable[[list[dict]], list[dict] | dict]  # JSON-able: study.json holds it
    draw: Callable[[dict, Path], list[str]]
    render: Callable[[dict, list[str]], str]


def groups(runs: list[dict], fields: tuple[str, ...]) -> dict[tuple, list[dict]]:
    """Runs grouped by the values of `fields` in their group, in first-seen order."""
    grouped: dict[tuple, list[dict]] = {}
    for run in runs:
        grouped.setdefault(tuple(run["group"][f] for f in fields), []).append(run)
    return grouped
