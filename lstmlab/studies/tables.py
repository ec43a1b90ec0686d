"""How a study's report writes its statistics (`sweeps/stats.py`) in a table cell."""

import numpy as np


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
