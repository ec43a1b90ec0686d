"""Summaries over seeds, for sweeps and studies: mean, sample standard deviation and a bootstrap 95%
interval of the mean, of values (`describe`), of the finite ones (`describe_finite`), and of paired
differences (`paired`). Report tables format them with `studies/tables.py`.

The interval is scipy's bias-corrected and accelerated (BCa) bootstrap with a fixed generator seed,
so the same runs always give the same interval. With one value there is no interval (NaN); with
values that are all equal it is that value.
"""

import warnings

import numpy as np

RESAMPLES = 10_000
LEVEL = 0.95


def interval(values, level: float = LEVEL) -> tuple[float, float]:
    """Bootstrap `level` interval of the mean of `values` (BCa; percentile where BCa is undefined)."""
    from scipy.stats import bootstrap

    values = np.asarray(values, dtype=np.float64)
    if len(values) < 2:
        return float("nan"), float("nan")
    if np.ptp(values) == 0:
        return float(values[0]), float(values[0])
    for method in ("BCa", "percentile"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # BCa warns, and answers NaN, on degenerate resamples
            ci = bootstrap((values,), np.mean, confidence_level=level, n_resamples=RESAMPLES, method=method,
                           rng=np.random.default_rng(0)).confidence_interval
        if np.isfinite(ci.low) and np.isfinite(ci.high):
            return float(ci.low), float(ci.high)
    return float("nan"), float("nan")


def describe(values) -> dict:
    """{"n", "mean", "std", "ci_low", "ci_high"} of `values` (std: sample, ddof 1; NaN for one value)."""
    values = np.asarray(values, dtype=np.float64)
    low, high = interval(values)
    return {"n": len(values), "mean": float(values.mean()),
            "std": float(values.std(ddof=1)) if len(values) > 1 else float("nan"), "ci_low": low, "ci_high": high}


def mean_std(values) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof 1; 0 for a single value)."""
    values = np.asarray(values, dtype=np.float64)
    return float(values.mean()), float(values.std(ddof=1)) if len(values) > 1 else 0.0


def describe_finite(values) -> dict:
    """`describe` over the finite values, with "n" counting all of them and "infinite" the others (σ̂ is
    infinite for a model at most half right: it has no integration noise to speak of)."""
    values = np.asarray([np.inf if v is None else v for v in values], dtype=np.float64)
    finite = values[np.isfinite(values)]
    stats = describe(finite) if len(finite) else {"mean": np.nan, "std": np.nan, "ci_low": np.nan, "ci_high": np.nan}
    return {**stats, "n": len(values), "infinite": int(len(values) - len(finite))}


MIN_PAIRS = 5  # below this a bootstrap interval is little more than the range: nothing counts as resolved


def paired(a: dict, b: dict) -> dict:
    """`describe` of the differences b - a over the keys (seeds) both hold, with "resolved": does its
    interval exclude 0 (with at least MIN_PAIRS pairs)? Seeds share data and initial weights, so
    pairing removes their variation. A seed with an infinite value in either arm is left out."""
    keys = [k for k in sorted(set(a) & set(b)) if np.isfinite(a[k]) and np.isfinite(b[k])]
    summary = describe([b[k] - a[k] for k in keys])
    excludes_zero = summary["ci_low"] > 0 or summary["ci_high"] < 0  # NaN compares False
    summary["resolved"] = bool(excludes_zero and len(keys) >= MIN_PAIRS)
    return summary


def verdict(summary: dict) -> str:
    """A paired difference in words: which way its interval says, or 'unresolved' where it holds 0."""
    if not summary["resolved"]:
        return "unresolved"
    return "higher" if summary["mean"] > 0 else "lower"
