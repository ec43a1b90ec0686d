"""How a study's report writes its statistics (`sweeps/stats.py`) in a table cell."""

import numpy as np

from lstmlab.sweeps.stats import ALPHA, MARGIN, results_in, verdict

# The columns `result_cells` fills, for a report table's header.
TEST_COLUMNS = ("difference [95% t-interval]", "p (sign-flip)", "p (t, Holm)", "verdict")


def pm(mean: float, std: float, digits: int = 4) -> str:
    """'mean ± std' for a report table."""
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def interval_text(stats: dict, digits: int = 4) -> str:
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
    text = f"{mean:.{digits}f} {interval_text(stats, digits)}".rstrip()
    return text + (f" ({stats['infinite']} of {stats['n']}: ∞)" if stats.get("infinite") else "")


def t_ci(result: dict, digits: int = 4) -> str:
    """'+mean [t_low, t_high]' of a one_sample()/paired() test: its Student t 95% interval."""
    low, high = result["t_low"], result["t_high"]
    if not (np.isfinite(low) and np.isfinite(high)):
        return f"{result['mean']:+.{digits}f}"
    return f"{result['mean']:+.{digits}f} [{low:+.{digits}f}, {high:+.{digits}f}]"


def p_text(p: float) -> str:
    """A p-value for a table: three decimals, scientific below 0.001, '–' where there is none."""
    if p is None or not np.isfinite(p):
        return "–"
    return f"{p:.3f}" if p >= 0.001 else f"{p:.1e}"


def result_cells(result: dict, digits: int = 4) -> list[str]:
    """The TEST_COLUMNS of a test: its difference and t-interval, exact sign-flip p, the t-test's p
    Holm-adjusted within the study (a primary comparison's raw p, marked 'primary') and verdict."""
    holm = f"{p_text(result['p_t'])} primary" if result["primary"] else p_text(result["p_holm"])
    return [t_ci(result, digits), p_text(result["p"]), holm, verdict(result)]


def statistics_note(summary, primary: str) -> str:
    """The paragraph a report gives on how its differences are tested: the interval, both p-values, the
    Holm family's size, the `primary` comparisons (in words) and what each verdict means."""
    found = results_in(summary)
    return (
        "Statistics (`lstmlab/sweeps/stats.py`): means over seeds with 95% BCa bootstrap intervals; each "
        "difference as its mean [95% Student t-interval] over the seeds' paired differences, with two p-values "
        "for a mean of 0: the exact two-sided sign-flip permutation p (all 2^n sign patterns; its floor is "
        f"2 / 2^n) and the t-test's p, Holm-adjusted over the study's {len(found)} tests. The primary "
        f"comparison(s), judged on the raw t-test p: {primary or 'none'}. 'higher'/'lower': resolved (Holm p "
        f"below {ALPHA:g}, a primary's raw p, and the sign-flip p below {ALPHA:g}); 'the same (±m)': shown "
        f"equivalent within ±m by two one-sided t-tests (TOST at {ALPHA:g}; m = {MARGIN:g}, {MARGIN * 100:g} "
        "accuracy points, for accuracy); otherwise the difference is not shown either way.")
