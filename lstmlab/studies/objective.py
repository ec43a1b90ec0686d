"""The objective study: classification (binary cross-entropy on the label) against regression (mean
squared error on the sum, prediction thresholded), on the same data with the same budget.

Per run: the learning curve (validation accuracy every `steps_per_call` steps), the test accuracy,
and the test accuracy by distance of the sum from the threshold, |sum - threshold| (where the
errors are). One 1-layer model of 25 units per objective and seed, on the reference experiment's
data and budget.
"""

from pathlib import Path

import numpy as np

from lstmlab import tasks
from lstmlab.config import RunConfig, TaskConfig, TrainConfig
from lstmlab.studies.base import Study, groups, mean_std, pm
from lstmlab.studies.noise import integration_noise
from lstmlab.studies.runner import train_one
from lstmlab.tasks.integration import Integration

# Edges of the |sum - threshold| bins; the sum of 25 N(0, 1) numbers has standard deviation 5.
DISTANCE_EDGES = (0.0, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, np.inf)


def plan(seeds: int, quick: bool) -> list[tuple[dict, RunConfig]]:
    runs = []
    for objective in Integration.objectives:
        for seed in range(seeds):
            if quick:
                task = TaskConfig(n_train=960, n_val=256, n_test=512, seed=seed, objective=objective)
                train = TrainConfig(epochs=2, seed=seed, steps_per_call=10)
            else:
                task = TaskConfig(seed=seed, objective=objective)  # the reference data and budget
                train = TrainConfig(seed=seed)
            runs.append(({"objective": objective}, RunConfig(task=task, layers=(1,), train=train)))
    return runs


def distance_bins(sums: np.ndarray, threshold: float) -> np.ndarray:
    """(n,) sums -> (n,) index of each one's |sum - threshold| bin in DISTANCE_EDGES."""
    return np.digitize(np.abs(sums - threshold), DISTANCE_EDGES[1:-1])


def measure(config: RunConfig, cache_dir: Path) -> dict:
    task, batch = tasks.of(config.task), config.train.batch_size
    curve = []

    def observe(trainer, data, epoch, step):
        if epoch == 0:  # before training: the history's epoch 0 has it
            return
        samples = (epoch - 1) * config.task.n_train + min(step * batch, config.task.n_train)
        curve.append((samples, trainer.evaluate(*data["val"]).accuracy))

    trainer, data, fitted = train_one(config, cache_dir, observe=observe)
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
    return f"test accuracy {metrics['test_accuracy']:.4f}"


def summarise(runs: list[dict]) -> list[dict]:
    rows = []
    for (objective,), members in groups(runs, ("objective",)).items():
        metrics = [r["metrics"] for r in members]
        curves = np.array([m["curve"]["val_accuracy"] for m in metrics], dtype=np.float64)  # (seeds, points)
        by_distance = np.array([m["by_distance"]["accuracy"] for m in metrics], dtype=np.float64)  # (seeds, bins); NaN: empty
        test_accuracy, test_accuracy_std = mean_std([m["test_accuracy"] for m in metrics])
        test_loss, test_loss_std = mean_std([m["test_loss"] for m in metrics])
        noise, noise_std = mean_std([m["noise_sigma"] for m in metrics])
        rows.append({
            "objective": objective, "seeds": len(members),
            "test_accuracy": test_accuracy, "test_accuracy_std": test_accuracy_std,
            "test_loss": test_loss, "test_loss_std": test_loss_std,
            "noise_sigma": noise, "noise_sigma_std": noise_std,
            "curve_samples": metrics[0]["curve"]["samples"],
            "curve_mean": curves.mean(axis=0).tolist(), "curve_std": curves.std(axis=0, ddof=min(1, len(curves) - 1)).tolist(),
            "by_distance_mean": np.nanmean(by_distance, axis=0).tolist(),
            "by_distance_std": np.nanstd(by_distance, axis=0, ddof=min(1, len(by_distance) - 1)).tolist(),
            "by_distance_count": np.sum([m["by_distance"]["count"] for m in metrics], axis=0).tolist(),
        })
    return rows


def _bin_labels() -> list[str]:
    edges = [f"{e:g}" for e in DISTANCE_EDGES[:-1]]
    return [f"{a}–{b}" for a, b in zip(edges, edges[1:])] + [f">{edges[-1]}"]


def draw(study: dict, out: Path) -> list[str]:
    from lstmlab.plots import plt

    rows = study["summary"]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for row in rows:
        samples = np.array(row["curve_samples"]) / 1000
        mean, std = np.array(row["curve_mean"]), np.array(row["curve_std"])
        ax.plot(samples, mean, marker=".", label=f"{row['objective']} (test {row['test_accuracy']:.4f})")
        ax.fill_between(samples, mean - std, mean + std, alpha=0.25)
    ax.set_xlabel("training samples seen (thousands)")
    ax.set_ylabel("validation accuracy")
    ax.set_title("Learning curves: mean ± std over seeds")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(out / "learning_curves.png", dpi=120)
    plt.close(fig)

    # Points, not bars: the interesting differences are near 1, which a bar axis from 0 would flatten
    # and a truncated bar axis would misstate. Whiskers are drawn whole (mean + std may pass 1).
    fig, ax = plt.subplots(figsize=(8, 4.8))
    positions = np.arange(len(DISTANCE_EDGES) - 1)
    offsets = (np.arange(len(rows)) - (len(rows) - 1) / 2) * 0.3
    for offset, row, marker in zip(offsets, rows, "os^v"):
        seeds = np.array([r["metrics"]["by_distance"]["accuracy"] for r in study["runs"]
                          if r["group"]["objective"] == row["objective"]], dtype=np.float64)  # (seeds, bins)
        shown = ax.errorbar(positions + offset, row["by_distance_mean"], yerr=row["by_distance_std"], fmt=marker,
                            markersize=7, capsize=4, label=f"{row['objective']}: mean ± std")
        ax.plot(np.repeat(positions + offset + 0.07, len(seeds)), seeds.T.ravel(), ".", color=shown[0].get_color(),
                alpha=0.45, markersize=4, label=f"{row['objective']}: one seed")
    ax.set_xticks(positions, _bin_labels())
    ax.set_xlim(positions[0] - 0.5, positions[-1] + 0.5)
    ax.set_xlabel("|sum - threshold| of the test sequence")
    ax.set_ylabel("test accuracy (axis not from 0)")
    ax.set_title(f"Where the errors are: accuracy by distance from the threshold ({study['seeds']} seeds)")
    ax.grid(alpha=0.3, axis="y")
    handles, labels = ax.get_legend_handles_labels()
    order = sorted(range(len(labels)), key=lambda i: labels[i].endswith("one seed"))  # the means first
    ax.legend([handles[i] for i in order], [labels[i] for i in order], loc="lower right", fontsize=9)
    fig.tight_layout()
    fig.savefig(out / "accuracy_by_distance.png", dpi=120)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(5, 4.5))
    for i, row in enumerate(rows):
        seeds = [r["metrics"]["test_accuracy"] for r in study["runs"] if r["group"]["objective"] == row["objective"]]
        ax.errorbar([i], [row["test_accuracy"]], yerr=[row["test_accuracy_std"]], marker="s", markersize=9, capsize=6)
        ax.plot([i + 0.15] * len(seeds), seeds, "k.", alpha=0.6)  # one dot per seed
    ax.set_xticks(range(len(rows)), [row["objective"] for row in rows])
    ax.set_xlim(-0.5, len(rows) - 0.5)
    ax.set_ylabel("test accuracy")
    ax.set_title("Final test accuracy: mean ± std, dots: seeds")
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    fig.savefig(out / "test_accuracy.png", dpi=120)
    plt.close(fig)
    return ["learning_curves.png", "accuracy_by_distance.png", "test_accuracy.png"]


def render(study: dict, figures: list[str]) -> str:
    seeds, rows = study["seeds"], study["summary"]
    config = study["runs"][0]["config"]
    task, train = config["task"], config["train"]
    lines = [
        "# Classification or regression?",
        "",
        f"`lstmlab study objective{' --quick' if study['quick'] else ''} --seeds {seeds}`: one 1-layer LSTM of 25 "
        f"units per objective and seed ({len(study['runs'])} runs, {study['seconds'] / 60:.1f} min on Keras backend "
        f"`{study['environment']['backend']}`). Both objectives train on the same sequences of each seed "
        f"({task['n_train']:,} / {task['n_val']:,} / {task['n_test']:,}, length {task['seq_len']}), {train['epochs']} "
        f"epochs, batch {train['batch_size']}, Adam at {train['learning_rate']:g}. Classification: sigmoid read-out, "
        "binary cross-entropy on the 0/1 label, answer yes when p > 0.5. Regression: linear read-out, squared error "
        f"on the sum, answer yes when the predicted sum is > {task['threshold']:g}. Mean ± sample standard deviation "
        f"over {seeds} seeds. σ̂ is the effective integration noise: the σ of a probit fit of the test answers' "
        "correctness against the distance d of the sum from the threshold, P(right) = Φ(d / σ) "
        "(`lstmlab/studies/noise.py`); the smaller, the more precisely the model integrates.",
        "",
        "| objective | test accuracy | test loss (as trained) | σ̂ |",
        "|---|---:|---:|---:|",
    ]
    for row in rows:
        name = Integration.objectives[row["objective"]].loss_name
        lines.append(f"| {row['objective']} | {pm(row['test_accuracy'], row['test_accuracy_std'])} | "
                     f"{pm(row['test_loss'], row['test_loss_std'])} ({name}) | "
                     f"{pm(row['noise_sigma'], row['noise_sigma_std'], 3)} |")
    lines += ["", "Test accuracy by |sum - threshold| (test sequences in the bin, summed over seeds, in brackets):", "",
              "| objective | " + " | ".join(f"{b} ({n:,})" for b, n in zip(_bin_labels(), rows[0]["by_distance_count"])) + " |",
              "|---|" + "---:|" * len(_bin_labels())]
    for row in rows:
        cells = [pm(m, s) for m, s in zip(row["by_distance_mean"], row["by_distance_std"])]
        lines.append(f"| {row['objective']} | " + " | ".join(cells) + " |")
    lines += ["", "Validation accuracy against training samples seen (mean over seeds):", "",
              "| samples seen | " + " | ".join(r["objective"] for r in rows) + " |", "|---:|" + "---:|" * len(rows)]
    for i, samples in enumerate(rows[0]["curve_samples"]):
        lines.append(f"| {samples:,} | " + " | ".join(pm(r["curve_mean"][i], r["curve_std"][i]) for r in rows) + " |")
    lines += [""] + [f"![{name}]({name})" for name in figures]
    return "\n".join(lines) + "\n"


STUDY = Study(name="objective", question="classification (cross-entropy on the label) or regression (squared error on the sum)?",
              plan=plan, measure=measure, headline=headline, summarise=summarise, draw=draw, render=render)
