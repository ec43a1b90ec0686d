"""What a study is (a typed `Study`), and the statistics its summaries share."""

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from lstmlab.config import RunConfig

Plan = list[tuple[dict, RunConfig]]  # (group: the settings the study varies, the run's config)


@dataclass(frozen=True)
class Study:
    """A question answered by a grid of single-model runs over seeds; `runner.run_study` runs it.

    plan(seeds, quick) -> the runs to make; measure(config, cache_dir) -> one run's metrics (a
    JSON-able dict); headline(metrics) -> a progress line; summarise(runs) -> the summary (rows, or
    a dict of tables); draw(study, out) -> the figure files it wrote into out; render(study, figures) -> report.md.
    """

    name: str
    question: str  # one line for --help
    plan: Callable[[int, bool], Plan]
    measure: Callable[[RunConfig, Path], dict]
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


def mean_std(values) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof 1; 0 for a single value)."""
    values = np.asarray(values, dtype=np.float64)
    return float(values.mean()), float(values.std(ddof=1)) if len(values) > 1 else 0.0


def pm(mean: float, std: float, digits: int = 4) -> str:
    """'mean ± std' for a report table."""
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def describe_finite(values) -> dict:
    """`describe` over the finite values, with "n" counting all of them and "infinite" the others (σ̂ is
    infinite for a model at most half right: it has no integration noise to speak of)."""
    from lstmlab.sweeps.stats import describe

    values = np.asarray([np.inf if v is None else v for v in values], dtype=np.float64)
    finite = values[np.isfinite(values)]
    stats = describe(finite) if len(finite) else {"mean": np.nan, "std": np.nan, "ci_low": np.nan, "ci_high": np.nan}
    return {**stats, "n": len(values), "infinite": int(len(values) - len(finite))}


def interval(stats: dict, digits: int = 4) -> str:
    """'[low, high]' of a describe()/paired()/describe_finite() summary; '' where it has none (one seed)."""
    low, high = stats["ci_low"], stats["ci_high"]
    finite = low is not None and high is not None and np.isfinite(low) and np.isfinite(high)
    return f"[{low:.{digits}f}, {high:.{digits}f}]" if finite else ""


def ci(stats: dict, digits: int = 4) -> str:
    """'mean [low, high]' of a describe()/paired()/describe_finite() summary, for a report table: the
    mean alone where there is no interval, and how many seeds were infinite where some were."""
    mean = stats["mean"]
    if mean is None or not np.isfinite(mean):
        return f"∞ ({stats.get('infinite', stats['n'])} of {stats['n']})" if stats.get("infinite", 1) else "–"
    text = f"{mean:.{digits}f} {interval(stats, digits)}".rstrip()
    return text + (f" ({stats['infinite']} of {stats['n']}: ∞)" if stats.get("infinite") else "")
