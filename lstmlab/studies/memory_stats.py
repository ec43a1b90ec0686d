"""The memory study's statistics: sequences to criterion with runs that never reach it, the search's choice,
and the paired comparisons (`sweeps/stats.py`).

A run that does not reach its criterion within its budget has no sequences to criterion: it is censored at
the budget, its value "more than B". So:

- The median over seeds treats such a run as +inf: it is finite only when more than half of the seeds
  reached the criterion, and then it is exact (every value at or below it is observed).
- Its 95% interval is the distribution-free order-statistic interval [x_(k), x_(n+1-k)], the largest k
  with P(k <= Bin(n, 1/2) <= n - k) >= 0.95 (n = 10: [x_(2), x_(9)], 97.9%); it needs n >= 6, and an
  upper end at an unsolved run is +inf. Order statistics are defined with +inf values, so the interval
  stays valid under censoring.
- Paired comparisons (by seed: both arms of a seed share its data stream) are on log10 of sequences to
  criterion capped at the budget, min(S, B), an unsolved run scoring log10 B. The cap is the same for both
  arms (one T, one budget), so the capped value is a well-defined outcome of every run, and the sign-flip
  test on it is exact under the null that the two arms are exchangeable; capping can only move a
  difference towards 0 (a run solved at S < B against an unsolved one counts as log10(B / S), less than
  its true gap), so a difference resolved on it is not an artefact of censoring. Two unsolved runs differ
  by 0. Log scale: sequences to criterion spread over orders of magnitude, and a ratio is what is compared.
  There is no equivalence margin on this scale: a comparison is 'lower', 'higher' or not shown.
"""

import math

import numpy as np

from lstmlab.studies.memory import GATED, INITS, PAPER
from lstmlab.sweeps.stats import adjust, paired

LEVEL = 0.95
PRIMARY = (("adding", 100), ("adding", 500))  # chrono against forget bias 1 for the LSTM: the question's test


def censored_median(values: list) -> float | None:
    """The median of `values`, None read as +inf; None where it is infinite (at most half are finite)."""
    if not values:
        return None
    x = np.sort(np.array([math.inf if v is None else v for v in values], np.float64))
    n = len(x)
    median = x[n // 2] if n % 2 else (x[n // 2 - 1] + x[n // 2]) / 2
    return float(median) if np.isfinite(median) else None


def order_ranks(n: int, level: float = LEVEL) -> tuple[int, int, float] | None:
    """(k, n + 1 - k, coverage): the 1-based ranks of the order-statistic interval of the median with the
    largest k whose coverage 1 - 2 P(Bin(n, 1/2) < k) is at least `level`; None where none is (n < 6)."""
    from scipy.stats import binom

    best = None
    for k in range(1, n // 2 + 1):
        coverage = 1 - 2 * binom.cdf(k - 1, n, 0.5)
        if coverage >= level:
            best = (k, n + 1 - k, float(coverage))
    return best


def median_interval(values: list) -> dict:
    """{"median", "low", "high", "coverage"}: the censored median and its order-statistic interval (None
    read as +inf; "high" None: unbounded, +inf; "coverage" None: too few seeds for a 95% interval)."""
    ranks = order_ranks(len(values))
    if ranks is None:
        return {"median": censored_median(values), "low": None, "high": None, "coverage": None}
    x = sorted(math.inf if v is None else v for v in values)
    low, high = x[ranks[0] - 1], x[ranks[1] - 1]
    return {"median": censored_median(values), "low": None if math.isinf(low) else float(low),
            "high": None if math.isinf(high) else float(high), "coverage": ranks[2]}


def capped_log(metrics: dict) -> float:
    """log10 of the sequences to criterion capped at the budget (an unsolved run scores the budget)."""
    reached = metrics["sequences_to_criterion"]
    return math.log10(max(1, min(reached if reached is not None else math.inf, metrics["budget"])))


def _rank(runs: list[dict]) -> tuple:
    """The search's order of a setting's runs (lower is better): most reached, then the lowest censored
    median, then the lowest mean final validation loss (NaN, a diverged run's, last)."""
    values = [r["metrics"]["sequences_to_criterion"] for r in runs]
    median = censored_median(values)
    losses = [r["metrics"]["final_val_loss"] for r in runs]
    loss = float(np.mean(losses)) if all(np.isfinite(losses)) else math.inf
    return (-sum(v is not None for v in values), math.inf if median is None else median, loss)


def choose(search: list[dict]) -> dict[tuple[str, str, str], tuple[float, float]]:
    """{(task, cell, init): (learning rate, clip norm)}: the best setting of each arm in the search's runs;
    ties go to the setting planned first."""
    settings: dict[tuple, dict[tuple, list]] = {}
    for run in search:
        g = run["group"]
        settings.setdefault((g["task"], g["cell"], g["init"]), {}).setdefault((g["lr"], g["clip"]), []).append(run)
    return {arm: min(by.items(), key=lambda item: _rank(item[1]))[0] for arm, by in settings.items()}


def best_init(short: list[dict], task: str, delay: int, cell: str) -> str:
    """The initialisation of `cell` that did best at delay T = `delay` of `task` in the short part's runs,
    ranked as the search ranks settings; ties go to INITS' order."""
    by_init = {init: [r for r in short if (r["group"]["task"], r["group"]["T"], r["group"]["cell"],
                                           r["group"]["init"]) == (task, delay, cell, init)] for init in INITS}
    return min((init for init in INITS if by_init[init]), key=lambda init: _rank(by_init[init]))


def summarise(runs: list[dict]) -> dict:
    """{"search": a row per searched setting, "rows": a row per task, T, cell and init of the main grid,
    "comparisons": the paired tests, Holm-adjusted}; on whatever parts the runs cover."""
    search = [r for r in runs if r["group"]["stage"] == "search"]
    main = [r for r in runs if r["group"]["stage"] != "search"]
    chosen = choose(search) if search else {}
    return adjust({"search": _search_rows(search, chosen), "rows": _rows(main), "comparisons": _comparisons(main)})


def _by(runs: list[dict], fields: tuple[str, ...]) -> dict[tuple, list[dict]]:
    grouped: dict[tuple, list[dict]] = {}
    for run in runs:
        grouped.setdefault(tuple(run["group"][f] for f in fields), []).append(run)
    return grouped


def _search_rows(search: list[dict], chosen: dict) -> list[dict]:
    rows = []
    fields = ("task", "T", "cell", "init", "lr", "clip")
    for (task, delay, cell, init, lr, clip), members in _by(search, fields).items():
        values = [r["metrics"]["sequences_to_criterion"] for r in members]
        losses = [r["metrics"]["final_val_loss"] for r in members]
        rows.append({"task": task, "T": delay, "cell": cell, "init": init, "lr": lr, "clip": clip,
                     "seeds": len(members), "reached": sum(v is not None for v in values),
                     "median": censored_median(values),
                     "val_loss": float(np.mean(losses)) if all(np.isfinite(losses)) else None,
                     "chosen": chosen.get((task, cell, init)) == (lr, clip)})
    return rows


def _rows(main: list[dict]) -> list[dict]:
    rows = []
    for (task, delay, cell, init), members in _by(main, ("task", "T", "cell", "init")).items():
        m = [r["metrics"] for r in members]
        values = [x["sequences_to_criterion"] for x in m]
        reached = sorted(v for v in values if v is not None)
        rows.append({
            "task": task, "T": delay, "cell": cell, "init": init, "part": members[0]["group"]["part"],
            "stage": members[0]["group"]["stage"],
            "lr": members[0]["group"]["lr"], "clip": members[0]["group"]["clip"],
            "seeds": len(members), "reached": len(reached), **median_interval(values),
            "min": reached[0] if reached else None, "max": reached[-1] if reached else None,
            "budget": m[0]["budget"], "diverged": sum(x["diverged"] for x in m),
            "test_failures_median": float(np.median([x["test_failures"] for x in m])),
            "test_failures_max": max(x["test_failures"] for x in m),
            "test_sequences": m[0]["test_sequences"],
            "seconds": float(np.mean([r["seconds"] for r in members])),
            "parameters": m[0]["parameters"],
            "paper": PAPER.get(delay) if task == "adding" and cell == "lstm" else None,
        })
    return rows


def _pairs(task: str, delay: int, present: set) -> list[tuple[tuple[str, str], tuple[str, str]]]:
    """The (a, b) arms compared at one task and T, b - a: inits within each gated cell, then cells at each
    init and each gated cell's chrono against the simple RNN; only those whose arms both ran."""
    pairs = [((cell, a), (cell, b)) for cell in GATED
             for a, b in (("forget-1", "forget-5"), ("forget-1", "chrono"), ("forget-5", "chrono"))]
    pairs += [(("lstm", init), ("gru", init)) for init in INITS]
    pairs += [((cell, "chrono"), ("rnn", "default")) for cell in GATED]
    return [(a, b) for a, b in pairs if a in present and b in present]


def _comparisons(main: list[dict]) -> list[dict]:
    """Paired tests of the short parts (10+ seeds; the long parts' 3 seeds cannot resolve a sign-flip test:
    their floor is 0.25), on `capped_log`."""
    short = [r for r in main if r["group"]["stage"] == "short"]
    tests = []
    for (task, delay), members in _by(short, ("task", "T")).items():
        arms = {key: {r["seed"]: capped_log(r["metrics"]) for r in runs}
                for key, runs in _by(members, ("cell", "init")).items()}
        for a, b in _pairs(task, delay, set(arms)):
            primary = (task, delay) in PRIMARY and (a, b) == (("lstm", "forget-1"), ("lstm", "chrono"))
            result = paired(arms[a], arms[b], primary=primary)
            tests.append({"task": task, "T": delay, "a": list(a), "b": list(b), **result})
    return tests
