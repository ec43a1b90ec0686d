"""The objective study, decomposed: what the loss, the target's information and dense supervision buy.

Three objectives on the same sequences (`tasks/integration.py`):

    classification     binary cross-entropy on the 0/1 label, sigmoid read-out, yes when p > 0.5
    label-regression   squared error on the 0/1 label, linear read-out, yes when the value > 0.5
    regression         squared error on the sum, linear read-out, yes when the value > threshold

each with a final-step target and per-step targets (the label or running sum at every step), each at
three learning rates. Per (objective, target) the learning rate with the best mean validation
accuracy is reported (chosen on validation, so the test numbers carry no selection bias), and the
arms are compared pairwise by seed: the seeds share data and initial weights.

    label-regression - classification   the loss, with the same target information
    regression - label-regression       the target's information (the sum, not its sign), same loss
    per-step - final                    dense supervision, per objective

Per run: the learning curve (validation accuracy every `steps_per_call` steps), the test accuracy,
σ̂ (`noise.py`), and the test accuracy by distance of the sum from the threshold (where the errors
are). One 1-layer LSTM of 25 units on the reference experiment's data and budget.
"""

from pathlib import Path

import numpy as np

from lstmlab import tasks
from lstmlab.config import RunConfig, TaskConfig, TrainConfig
from lstmlab.studies.base import RunContext, Study, groups
from lstmlab.studies.noise import integration_noise
from lstmlab.studies.tables import TEST_COLUMNS, ci, result_cells, statistics_note
from lstmlab.studies.training import train_one
from lstmlab.sweeps.stats import MARGIN, adjust, describe, describe_finite, paired

OBJECTIVES = ("classification", "label-regression", "regression")
TARGETS = ("final", "per-step")
LEARNING_RATES = (3e-4, 1e-3, 3e-3)
QUICK_LEARNING_RATES = (1e-3, 3e-3)
# Edges of the |sum - threshold| bins; the sum of 25 N(0, 1) numbers has standard deviation 5.
DISTANCE_EDGES = (0.0, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, np.inf)
METRICS = ("test_accuracy", "noise_sigma")
# (name, arm a, arm b): the paired difference b - a, each arm an (objective, target) at its best rate.
COMPARISONS = (
    [(f"loss: squared error - cross-entropy on the label, {t}", ("classification", t), ("label-regression", t))
     for t in TARGETS]
    + [(f"information: the sum - the label under squared error, {t}", ("label-regression", t), ("regression", t))
       for t in TARGETS]
    + [(f"dense supervision: per-step - final, {o}", (o, "final"), (o, "per-step")) for o in OBJECTIVES]
    + [("all three: regression per-step - classification final", ("classification", "final"),
        ("regression", "per-step"))]
)
# The primary comparison, judged on its raw p: the study's question in one test, what all three changes
# together buy in test accuracy. The others (and every σ̂ difference) are Holm-adjusted within the study.
PRIMARY = COMPARISONS[-1][0]


def plan(seeds: int, quick: bool) -> list[tuple[dict, RunConfig]]:
    runs = []
    for objective in OBJECTIVES:
        for target in TARGETS:
            for rate in QUICK_LEARNING_RATES if quick else LEARNING_RATES:
                for seed in range(seeds):
                    if quick:
                        task = TaskConfig(n_train=960, n_val=256, n_test=512, seed=seed, objective=objective,
                                          target=target)
                        train = TrainConfig(epochs=2, init_seed=seed, learning_rate=rate, steps_per_call=10)
                    else:  # the reference data and budget
                        task = TaskConfig(seed=seed, objective=objective, target=target)
                        train = TrainConfig(init_seed=seed, learning_rate=rate)
                    group = {"objective": objective, "target": target, "learning_rate": rate}
                    runs.append((group, RunConfig(task=task, layers=(1,), train=train)))
    return runs


def distance_bins(sums: np.ndarray, threshold: float) -> np.ndarray:
    """(n,) sums -> (n,) index of each one's |sum - threshold| bin in DISTANCE_EDGES."""
    return np.digitize(np.abs(sums - threshold), DISTANCE_EDGES[1:-1])


def measure(config: RunConfig, context: RunContext) -> dict:
    task, batch = tasks.of(config.task), config.train.batch_size
    curve = []

    def observe(trainer, data, epoch, step):
        if epoch == 0:  # before training: the history's epoch 0 has it
            return
        samples = (epoch - 1) * config.task.n_train + min(step * batch, config.task.n_train)
        curve.append((samples, trainer.evaluate(*data["val"]).accuracy))

    trainer, data, fitted = train_one(config, context.cache_dir, observe=observe)
    curve.insert(0, (0, fitted.history[0].val_accuracy))  # the untrained model
    x_test, y_test = data["test"]
    predictions = trainer.predict(x_test)  # once: scored overall and per distance bin
    test = task.score(predictions, y_test)
    correct = task.correct(predictions, task.truth(y_test))
    sums = x_test.astype(np.float64).sum(axis=1)
    bins = distance_bins(sums, config.task.threshold)
    return {
        "test_accuracy": test.accuracy,
        "test_loss": test.loss,
        "noise_sigma": integration_noise(np.abs(sums - config.task.threshold), correct),
        "curve": {"samples": [c[0] for c in curve], "val_accuracy": [c[1] for c in curve]},
        "by_distance": {"count": [int(np.sum(bins == b)) for b in range(len(DISTANCE_EDGES) - 1)],
                        "accuracy": [float(correct[bins == b].mean()) if np.any(bins == b) else None
                                     for b in range(len(DISTANCE_EDGES) - 1)]},
    }


def headline(metrics: dict) -> str:
    return f"test accuracy {metrics['test_accuracy']:.4f}, σ̂ {metrics['noise_sigma']:.3f}"


def summarise(runs: list[dict]) -> dict:
    """{"arms": a row per (objective, target, rate), "best": the rate chosen per (objective, target),
    "comparisons": the paired differences of COMPARISONS between best arms}."""
    arms, by_arm = [], {}
    for (objective, target, rate), members in groups(runs, ("objective", "target", "learning_rate")).items():
        metrics = [r["metrics"] for r in members]
        by_arm[objective, target, rate] = {r["seed"]: r["metrics"] for r in members}
        curves = np.array([m["curve"]["val_accuracy"] for m in metrics], dtype=np.float64)  # (seeds, points)
        by_distance = np.array([m["by_distance"]["accuracy"] for m in metrics], dtype=np.float64)  # (seeds, bins)
        arms.append({
            "objective": objective, "target": target, "learning_rate": rate,
            "test_accuracy": describe([m["test_accuracy"] for m in metrics]),
            "noise_sigma": describe_finite([m["noise_sigma"] for m in metrics]),
            "val_accuracy": describe(curves[:, -1]),
            "curve_samples": metrics[0]["curve"]["samples"], "curve_mean": curves.mean(axis=0).tolist(),
            "by_distance_mean": np.nanmean(by_distance, axis=0).tolist(),
            "by_distance_count": np.sum([m["by_distance"]["count"] for m in metrics], axis=0).tolist(),
        })
    best = {}
    for row in arms:  # the rate with the best mean validation accuracy; the first on a tie
        key = f"{row['objective']} {row['target']}"
        if key not in best or row["val_accuracy"]["mean"] > best[key]["val_accuracy"]["mean"]:
            best[key] = row
    comparisons = []
    for name, a, b in COMPARISONS:
        arm_a, arm_b = best.get(" ".join(a)), best.get(" ".join(b))
        if arm_a is None or arm_b is None:
            continue
        seeds_a = by_arm[(*a, arm_a["learning_rate"])]
        seeds_b = by_arm[(*b, arm_b["learning_rate"])]
        accuracy = {"margin": MARGIN, "primary": name == PRIMARY}  # TOST and the primary flag: accuracy only
        comparisons.append({"name": name, "a": " ".join(a), "b": " ".join(b), **{
            metric: paired({s: m[metric] for s, m in seeds_a.items()}, {s: m[metric] for s, m in seeds_b.items()},
                           **(accuracy if metric == "test_accuracy" else {}))
            for metric in METRICS}})
    return adjust({"arms": arms, "best": {key: row["learning_rate"] for key, row in best.items()},
                   "comparisons": comparisons})


def _bin_labels() -> list[str]:
    edges = [f"{e:g}" for e in DISTANCE_EDGES[:-1]]
    return [f"{a}–{b}" for a, b in zip(edges, edges[1:])] + [f">{edges[-1]}"]


def _best_arms(summary: dict) -> list[dict]:
    return [row for row in summary["arms"]
            if summary["best"][f"{row['objective']} {row['target']}"] == row["learning_rate"]]


def _label(row: dict) -> str:
    return f"{row['objective']}, {row['target']}"


COLOURS = {objective: f"C{i}" for i, objective in enumerate(OBJECTIVES)}
STYLES = {target: style for target, style in zip(TARGETS, ("-", "--"))}


def draw(study: dict, out: Path) -> list[str]:
    summary = study["summary"]
    _draw_comparisons(summary["comparisons"], out / "comparisons.png")
    _draw_by_rate(summary["arms"], study["seeds"], out / "by_learning_rate.png")
    _draw_by_distance(_best_arms(summary), out / "accuracy_by_distance.png")
    _draw_curves(_best_arms(summary), out / "learning_curves.png")
    return ["comparisons.png", "by_learning_rate.png", "accuracy_by_distance.png", "learning_curves.png"]


def _draw_comparisons(comparisons: list[dict], path: Path) -> None:
    """The paired differences the claims rest on: a row per comparison, test accuracy (points, the
    equivalence margin shaded) and σ̂ side by side, each a mean with its 95% t-interval, filled where
    resolved (Holm, or a primary's raw p) and open where not."""
    from lstmlab.plots import plt

    fig, axes = plt.subplots(1, 2, figsize=(13, 0.45 * len(comparisons) + 1.8), sharey=True)
    ys = np.arange(len(comparisons))[::-1]
    for ax, metric, scale, label in ((axes[0], "test_accuracy", 100, "test accuracy, b − a (points)"),
                                     (axes[1], "noise_sigma", 1, "σ̂, b − a")):
        tests = [c[metric] for c in comparisons]
        mean = np.array([scale * t["mean"] for t in tests])
        bars = np.abs(np.array([[scale * t["t_low"], scale * t["t_high"]] for t in tests]).T - mean)
        ax.errorbar(mean, ys, xerr=np.nan_to_num(bars), fmt="o", capsize=3, markerfacecolor="none", color="C0")
        resolved = [(m, y) for m, y, t in zip(mean, ys, tests) if t["resolved"]]
        if resolved:
            ax.scatter(*zip(*resolved), color="C0", zorder=3)
        ax.axvline(0, color="grey", lw=1)
        if metric == "test_accuracy":
            ax.axvspan(-100 * MARGIN, 100 * MARGIN, color="grey", alpha=0.15, lw=0)
        ax.set_xlabel(label)
        ax.grid(alpha=0.3)
    axes[0].set_yticks(ys, [c["name"] + (" (primary)" if c["test_accuracy"]["primary"] else "") for c in comparisons],
                       fontsize=8)
    fig.suptitle("Paired differences between the best arms: mean and 95% t-interval over seeds; filled: resolved",
                 fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _draw_by_rate(arms: list[dict], seeds: int, path: Path) -> None:
    """Test accuracy and σ̂ against the learning rate: how much the choice of rate matters per arm."""
    from matplotlib.ticker import NullLocator

    from lstmlab.plots import plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for ax, metric, label in zip(axes, METRICS, ("test accuracy", "σ̂ (effective integration noise)")):
        for objective in OBJECTIVES:
            for target in TARGETS:
                rows = [r for r in arms if r["objective"] == objective and r["target"] == target]
                if not rows:
                    continue
                rates = [r["learning_rate"] for r in rows]
                mean = np.array([r[metric]["mean"] for r in rows])
                errors = np.abs(np.array([[r[metric]["ci_low"], r[metric]["ci_high"]] for r in rows]).T - mean)
                ax.errorbar(rates, mean, yerr=np.nan_to_num(errors), color=COLOURS[objective], linestyle=STYLES[target],
                            marker="o", capsize=4, label=f"{objective}, {target}")
        ax.set_xscale("log")
        rates = sorted({r["learning_rate"] for r in arms})
        ax.set_xticks(rates, [f"{r:g}" for r in rates])  # only the rates tried
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xlabel("Adam learning rate")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    axes[1].set_yscale("log")
    fig.legend(*axes[0].get_legend_handles_labels(), loc="lower center", ncol=3, fontsize=9)
    fig.suptitle(f"Every arm at every rate: mean and 95% bootstrap interval over {seeds} seeds")
    fig.tight_layout(rect=(0, 0.12, 1, 1))
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _draw_by_distance(best: list[dict], path: Path) -> None:
    """Where the errors are, for each arm at its best rate. Points, not bars: the differences are near 1."""
    from lstmlab.plots import plt

    fig, ax = plt.subplots(figsize=(9, 4.8))
    positions = np.arange(len(DISTANCE_EDGES) - 1)
    offsets = (np.arange(len(best)) - (len(best) - 1) / 2) * 0.12
    for offset, row in zip(offsets, best):
        ax.plot(positions + offset, row["by_distance_mean"], marker="o" if row["target"] == "final" else "^",
                linestyle="none", color=COLOURS[row["objective"]], label=_label(row))
    ax.set_xticks(positions, _bin_labels())
    ax.set_xlabel("|sum - threshold| of the test sequence")
    ax.set_ylabel("test accuracy, mean over seeds (axis not from 0)")
    ax.set_title("Where the errors are: each arm at its best learning rate")
    ax.grid(alpha=0.3, axis="y")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _draw_curves(best: list[dict], path: Path) -> None:
    """Validation accuracy against the training samples seen, each arm at its best rate."""
    from lstmlab.plots import plt

    fig, ax = plt.subplots(figsize=(8, 4.5))
    for row in best:
        ax.plot(np.array(row["curve_samples"]) / 1000, row["curve_mean"], color=COLOURS[row["objective"]],
                linestyle=STYLES[row["target"]], label=f"{_label(row)}, lr {row['learning_rate']:g}")
    ax.set_xlabel("training samples seen (thousands)")
    ax.set_ylabel("validation accuracy, mean over seeds")
    ax.set_ylim(max(0.5, ax.get_ylim()[0]), 1.0)
    ax.set_title("Learning curves, each arm at its best learning rate")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def render(study: dict, figures: list[str]) -> str:
    seeds, summary = study["seeds"], study["summary"]
    config = study["runs"][0]["config"]
    task, train = config["task"], config["train"]
    rates = sorted({row["learning_rate"] for row in summary["arms"]})
    lines = [
        "# Classification or regression, decomposed",
        "",
        f"`lstmlab study objective{' --quick' if study['quick'] else ''} --seeds {seeds}`: one 1-layer LSTM of 25 "
        f"units per objective, target, learning rate and seed ({len(study['runs'])} runs, "
        f"{study['seconds'] / 60:.1f} min of training and testing on Keras backend "
        f"`{study['environment']['backend']}`). Every arm trains on the same sequences of each seed "
        f"({task['n_train']:,} / {task['n_val']:,} / {task['n_test']:,}, length {task['seq_len']}) from the same "
        f"initial weights, {train['epochs']} epochs, batch {train['batch_size']}, Adam at "
        f"{', '.join(f'{r:g}' for r in rates)}.",
        "",
        "- **classification**: sigmoid read-out, binary cross-entropy on the 0/1 label, yes when p > 0.5.",
        "- **label-regression**: linear read-out, squared error on the 0/1 label, yes when the value > 0.5.",
        f"- **regression**: linear read-out, squared error on the sum, yes when the value > {task['threshold']:g}.",
        "- **final**: one target, on the last step. **per-step**: the label (or running sum) at every step.",
        "",
        "σ̂ is the effective integration noise: the σ of a probit fit of the test answers' correctness against the "
        "distance d of the sum from the threshold, P(right) = Φ(d / σ) (`lstmlab/studies/noise.py`); the smaller, "
        "the more precisely the model integrates. Brackets hold 95% BCa bootstrap intervals over seeds. Each arm's "
        "learning rate is the one with the best mean validation accuracy.",
        "",
        "## Each arm at its best learning rate",
        "",
    ]
    lines += _tables(summary, seeds) + [""] + [f"![{name}]({name})" for name in figures]
    return "\n".join(lines) + "\n"


def _tables(summary: dict, seeds: int) -> list[str]:
    """The best arms, their paired differences, every arm, and the best arms' accuracy by distance."""
    best = _best_arms(summary)
    lines = ["| objective | target | best rate | test accuracy | σ̂ |", "|---|---|---:|---:|---:|"]
    for row in best:
        lines.append(f"| {row['objective']} | {row['target']} | {row['learning_rate']:g} | "
                     f"{ci(row['test_accuracy'])} | {ci(row['noise_sigma'], 3)} |")
    lines += ["", f"## Paired differences (b - a, same seeds; {seeds} pairs)", "",
              statistics_note(summary, f"{PRIMARY}, test accuracy"), "",
              "| comparison | test accuracy: " + " | ".join(TEST_COLUMNS) + " | σ̂, b - a [t] | p (sign-flip) | "
              "p (t, Holm) | verdict |", "|---|---:|---:|---:|---|---:|---:|---:|---|"]
    for row in summary["comparisons"]:
        lines.append(f"| {row['name']} | " + " | ".join(result_cells(row["test_accuracy"])) + " | "
                     + " | ".join(result_cells(row["noise_sigma"], 3)) + " |")
    lines += ["", "## Every arm at every learning rate", "",
              "| objective | target | rate | validation accuracy | test accuracy | σ̂ |",
              "|---|---|---:|---:|---:|---:|"]
    for row in summary["arms"]:
        lines.append(f"| {row['objective']} | {row['target']} | {row['learning_rate']:g} | "
                     f"{ci(row['val_accuracy'])} | {ci(row['test_accuracy'])} | {ci(row['noise_sigma'], 3)} |")
    lines += ["", "Test accuracy by |sum - threshold|, each arm at its best rate (test sequences in the bin, summed "
              "over seeds, in brackets):", "",
              "| arm | " + " | ".join(f"{b} ({n:,})" for b, n in zip(_bin_labels(), best[0]["by_distance_count"]))
              + " |",
              "|---|" + "---:|" * len(_bin_labels())]
    for row in best:
        lines.append(f"| {_label(row)} | " + " | ".join(f"{m:.4f}" for m in row["by_distance_mean"]) + " |")
    return lines

STUDY = Study(name="objective",
              question="what the objective buys: the loss, the target's information, dense supervision",
              plan=plan, measure=measure, headline=headline, summarise=summarise, draw=draw, render=render)
