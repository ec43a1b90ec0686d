"""Summaries and tests over seeds, for sweeps and studies. Report tables format them with `studies/tables.py`.

    describe(values)        mean, sample standard deviation and a bootstrap 95% interval of the mean
    describe_finite(values) the same over the finite values, counting the infinite ones
    one_sample(values)      a one-sample test of mean 0: `describe` plus a Student t 95% interval, the
                            exact sign-flip permutation p-value and, given a margin, a TOST equivalence test
    paired(a, b)            `one_sample` of the differences b - a over the seeds both hold
    adjust(summary)         Holm's correction over every test in a study's summary; sets "resolved"
    verdict(result)         a test in words: higher, lower, the same (within the margin), or not shown

Why these: with 10 seeds a bootstrap interval is too narrow (a nominal 95% BCa interval covered the true
mean about 90% of the time for normal data at n = 10), while the t-interval covers at its level for
normal and heavy-tailed (t3) data; the sign-flip test needs no normality at all. The BCa interval stays
in "ci_low"/"ci_high" as an extra column; "t_low"/"t_high" is the interval the reports quote.

The permutation p-value is exact up to EXACT_UP_TO pairs: all 2^n sign patterns of the differences,
enumerated vectorised (two halves of 2^(n/2) partial sums, counted against each other by sorting),
two-sided on |sum|. Beyond, it is a Monte-Carlo estimate from DRAWS random sign patterns with a fixed
generator seed, (1 + hits) / (1 + DRAWS) so that it is never 0. With n pairs the smallest exact p is
2 / 2^n (0.002 at n = 10); below 5 pairs it cannot reach 0.05.

Which p decides. With n seeds the exact sign-flip p cannot fall below 2 / 2^n (0.002 at 10 seeds), so
under Holm's correction over m tests nothing could be resolved once m > 25 whatever the effect: a
limit of the test's resolution, not of the evidence. So the multiplicity-controlled decision uses the
paired Student t-test's p ("p_t", the test that goes with the t-interval the reports quote), and the
exact sign-flip p ("p") guards it against non-normal differences. A study declares its primary
comparison(s) (`primary=True`): those answer its question and are judged on their raw p_t. Every other
test of the study is one family for Holm's step-down correction of p_t ("p_holm"; a primary's is its
raw p_t). "resolved": p_holm < ALPHA and p < ALPHA. Equivalence ("equivalent") is the two one-sided
t-tests (TOST) against a margin: both p < ALPHA, that is the 90% t-interval inside (-margin, +margin).
MARGIN is 0.2 accuracy points on the accuracy scale (0.002), for tests of accuracy.
"""

import math
import warnings

import numpy as np

RESAMPLES = 10_000
LEVEL = 0.95
ALPHA = 0.05
MARGIN = 0.002  # equivalence margin for accuracy (0 to 1 scale): 0.2 accuracy points
EXACT_UP_TO = 20  # pairs up to which the sign-flip p-value enumerates all 2^n patterns
DRAWS = 100_000  # random sign patterns beyond EXACT_UP_TO


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


def t_interval(values, level: float = LEVEL) -> tuple[float, float]:
    """Student t `level` interval of the mean: mean ± t_{(1+level)/2, n-1} s / √n (NaN below 2 values)."""
    from scipy.stats import t

    values = np.asarray(values, dtype=np.float64)
    n = len(values)
    if n < 2:
        return float("nan"), float("nan")
    mean, half = values.mean(), t.ppf((1 + level) / 2, n - 1) * values.std(ddof=1) / math.sqrt(n)
    return float(mean - half), float(mean + half)


def _half_sums(values: np.ndarray) -> np.ndarray:
    """(2^k,) the sums of every sign pattern of k values: ±v0 ± v1 ... (vectorised over patterns)."""
    signs = 1 - 2 * ((np.arange(2 ** len(values))[:, None] >> np.arange(len(values))) & 1)  # (2^k, k) of ±1
    return signs @ values


def sign_flip_p(differences, draws: int = DRAWS, seed: int = 0) -> float:
    """Two-sided sign-flip permutation p-value of mean 0: the share of sign patterns s whose |Σ s_i d_i|
    is at least the observed |Σ d_i|. Exact (all 2^n patterns) up to EXACT_UP_TO values, else a seeded
    Monte-Carlo estimate from `draws` patterns. NaN for no values."""
    d = np.asarray(differences, dtype=np.float64)
    n = len(d)
    if n == 0:
        return float("nan")
    observed = abs(d.sum())
    tolerance = 1e-9 * max(np.abs(d).sum(), 1e-300)  # a pattern that ties the observed sum counts as extreme
    if n <= EXACT_UP_TO:
        left, right = _half_sums(d[: n // 2]), np.sort(_half_sums(d[n // 2:]))
        # |l + r| >= observed  <=>  r >= observed - l  or  r <= -observed - l
        above = len(right) - np.searchsorted(right, observed - left - tolerance, side="left")
        below = np.searchsorted(right, -observed - left + tolerance, side="right")
        both = np.minimum(above + below, len(right))  # observed 0: every pattern, counted once
        return float(both.sum() / 2.0 ** n)
    rng = np.random.default_rng(seed)
    hits, left = 0, draws
    while left:  # chunks of 10,000 patterns bound the memory at any n
        size = min(left, 10_000)
        signs = rng.choice((-1.0, 1.0), size=(size, n))
        hits += int(np.sum(np.abs(signs @ d) >= observed - tolerance))
        left -= size
    return float((1 + hits) / (1 + draws))


def t_test_p(values) -> float:
    """Two-sided one-sample Student t-test p-value of mean 0 (NaN below 2 values; 0 or 1 where every
    value is equal, as it is non-zero or zero)."""
    from scipy.stats import t

    values = np.asarray(values, dtype=np.float64)
    n = len(values)
    if n < 2:
        return float("nan")
    mean, se = values.mean(), values.std(ddof=1) / math.sqrt(n)
    if se == 0:
        return 0.0 if mean != 0 else 1.0
    return float(2 * t.sf(abs(mean) / se, n - 1))


def tost_p(values, margin: float) -> float:
    """The TOST p-value that the mean lies within (-margin, +margin): the larger of the two one-sided
    t-tests' p (H0 mean <= -margin, H0 mean >= +margin). Below ALPHA: shown equivalent. NaN below 2 values."""
    from scipy.stats import t

    values = np.asarray(values, dtype=np.float64)
    n = len(values)
    if n < 2:
        return float("nan")
    mean, se = values.mean(), values.std(ddof=1) / math.sqrt(n)
    if se == 0:  # every value equal: inside the margin or not, for certain
        return 0.0 if abs(mean) < margin else 1.0
    return float(max(t.sf((mean + margin) / se, n - 1), t.cdf((mean - margin) / se, n - 1)))


def holm(pvalues) -> list[float]:
    """Holm's step-down adjusted p-values, in the given order: the i-th smallest of m p-values times
    (m - i + 1), made non-decreasing in that order and capped at 1. NaN stays NaN and is not counted."""
    p = np.asarray(pvalues, dtype=np.float64)
    adjusted = np.full(len(p), np.nan)
    finite = np.flatnonzero(np.isfinite(p))
    order = finite[np.argsort(p[finite], kind="stable")]
    m, running = len(order), 0.0
    for i, index in enumerate(order):
        running = max(running, min(1.0, (m - i) * p[index]))
        adjusted[index] = running
    return adjusted.tolist()


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


def one_sample(values, margin: float | None = None, primary: bool = False) -> dict:
    """A test that the mean of `values` is 0: `describe`, plus "t_low"/"t_high" (Student t 95%
    interval), "p" (exact sign-flip p-value), "p_t" (t-test p), "primary", "p_holm" and "resolved" (as
    a family of one until `adjust` sees the whole study), and with a `margin` "margin", "tost_p" and
    "equivalent"."""
    values = np.asarray(values, dtype=np.float64)
    result = describe(values)
    result["t_low"], result["t_high"] = t_interval(values)
    result["p"] = sign_flip_p(values)
    result["p_t"] = t_test_p(values)
    result["primary"] = bool(primary)
    result["p_holm"] = result["p_t"]
    result["resolved"] = _resolved(result)
    if margin is not None:
        result["margin"] = float(margin)
        result["tost_p"] = tost_p(values, margin)
        result["equivalent"] = bool(result["tost_p"] < ALPHA)
    return result


def _resolved(result: dict) -> bool:
    return bool(result["p_holm"] < ALPHA and result["p"] < ALPHA)  # NaN compares False


def paired(a: dict, b: dict, margin: float | None = None, primary: bool = False) -> dict:
    """`one_sample` of the differences b - a over the keys (seeds) both hold. Seeds share data and initial
    weights, so pairing removes their variation. A seed with an infinite value in either arm is left out."""
    keys = [k for k in sorted(set(a) & set(b)) if np.isfinite(a[k]) and np.isfinite(b[k])]
    return one_sample([b[k] - a[k] for k in keys], margin, primary)


def results_in(summary) -> list[dict]:
    """Every test result (a dict holding "p" and "primary") in a summary, depth first in its order."""
    found = []
    if isinstance(summary, dict):
        if "p" in summary and "primary" in summary:
            return [summary]
        for value in summary.values():
            found += results_in(value)
    elif isinstance(summary, list):
        for value in summary:
            found += results_in(value)
    return found


def adjust(summary):
    """Holm's correction within a study: the t-test p of every non-primary test of `summary` is one
    family; sets each test's "p_holm" (a primary's is its raw p_t) and "resolved"; returns `summary`."""
    family = [t for t in results_in(summary) if not t["primary"]]
    for result, adjusted in zip(family, holm([t["p_t"] for t in family])):
        result["p_holm"] = adjusted
    for result in results_in(summary):
        if result["primary"]:
            result["p_holm"] = result["p_t"]
        result["resolved"] = _resolved(result)
    return summary


def verdict(result: dict) -> str:
    """A test in words: 'higher' or 'lower' only where resolved, 'the same' only where TOST shows the
    mean within its margin ('higher, within ±margin' where both hold), else 'not shown either way'."""
    same = result.get("equivalent", False)
    if result["resolved"]:
        word = "higher" if result["mean"] > 0 else "lower"
        return f"{word}, within ±{result['margin']:g}" if same else word
    return f"the same (±{result['margin']:g})" if same else "not shown either way"
