"""The sweep's figure: a metric's mean over seeds, with its 95% interval, against one grid field."""

import math
from pathlib import Path


def plot_sweep(summary: list[dict], plot: dict, path: Path) -> None:
    """One line per value of `hue` (and of any other grid field), x = plot["x"], y = plot["y"] mean ± 95%."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x, y, hue = plot["x"], plot["y"], plot.get("hue")
    others = [f for f in summary[0] if f not in (x, "n", "failed") and not f.startswith(_METRIC_PREFIXES)]
    lines: dict[tuple, list[dict]] = {}
    for entry in summary:
        lines.setdefault(tuple(entry[f] for f in others), []).append(entry)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    numeric = all(isinstance(e[x], (int, float)) and not isinstance(e[x], bool) for e in summary)
    for values, entries in lines.items():
        entries = sorted(entries, key=lambda e: e[x]) if numeric else entries
        xs = [e[x] for e in entries] if numeric else [str(e[x]) for e in entries]
        means = [e[f"{y}_mean"] for e in entries]
        low = [m - e[f"{y}_ci_low"] if math.isfinite(e[f"{y}_ci_low"]) else 0 for m, e in zip(means, entries)]
        high = [e[f"{y}_ci_high"] - m if math.isfinite(e[f"{y}_ci_high"]) else 0 for m, e in zip(means, entries)]
        label = ", ".join(f"{f} {v}" if f != hue else str(v) for f, v in zip(others, values)) or None
        ax.errorbar(xs, means, yerr=[low, high], marker="o", capsize=3, label=label)
    ax.set_xlabel(x)
    ax.set_ylabel(f"{y} (mean, 95% bootstrap interval)")
    if numeric and len({e[x] for e in summary}) > 2 and min(e[x] for e in summary) > 0 and \
            max(e[x] for e in summary) / min(e[x] for e in summary) >= 10:
        ax.set_xscale("log")
    if any(values for values in lines):
        ax.legend(title=hue if hue and len(others) == 1 else None, fontsize="small")
    counts = sorted({e["n"] for e in summary})
    ax.set_title(f"{y} against {x}, {counts[0] if len(counts) == 1 else f'{counts[0]}–{counts[-1]}'} seeds per point")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


_METRIC_PREFIXES = ("test_", "val_", "train_")
