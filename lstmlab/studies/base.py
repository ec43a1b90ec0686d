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
class Part:
    """A share of a long study that one command runs (`lstmlab study NAME --part NAME`), so that a study
    of many CPU-hours runs in passes that each fit a working session."""

    name: str
    what: str  # one line: which runs it makes
    after: tuple[str, ...] = ()  # the parts whose finished runs its plan reads: they must be complete first


@dataclass(frozen=True)
class Study:
    """A question answered by a grid of single-model runs over seeds; `runner.run_study` runs it.

    plan(seeds, quick) -> the runs to make; measure(config, context) -> one run's metrics (a
    JSON-able dict; a module-level function, so a worker can import it); headline(metrics) -> a
    progress line; summarise(runs) -> the summary (rows, or a dict of tables); draw(study, out) -> the
    figure files it wrote into out; render(study, figures) -> report.md.

    A study in `parts` (see `Part`; `runner.py` runs them) plans each part with plan_part(part, seeds,
    quick, earlier) -> that part's runs, `earlier` being the finished runs of the parts it comes after
    (a later part may use what an earlier one found: the memory study's main grid takes the learning
    rate its search chose); its `plan` is then the plan of the parts that come after none. Every run's
    group names its part ("part"); summarise, draw and render see the runs of the parts made so far,
    and study.json's "parts" says which parts are complete.
    """

    name: str
    question: str  # one line for --help
    plan: Callable[[int, bool], Plan]
    measure: Callable[[RunConfig, RunContext], dict]
    headline: Callable[[dict], str]
    summarise: Callable[[list[dict]], list[dict] | dict]  # JSON-able: study.json holds it
    draw: Callable[[dict, Path], list[str]]
    render: Callable[[dict, list[str]], str]
    parts: tuple[Part, ...] = ()
    plan_part: Callable[[str, int, bool, list[dict]], Plan] | None = None


def groups(runs: list[dict], fields: tuple[str, ...]) -> dict[tuple, list[dict]]:
    """Runs grouped by the values of `fields` in their group, in first-seen order."""
    grouped: dict[tuple, list[dict]] = {}
    for run in runs:
        grouped.setdefault(tuple(run["group"][f] for f in fields), []).append(run)
    return grouped
