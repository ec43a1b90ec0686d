"""The truncated-BPTT study: accuracy, time and memory against the chunk length k.

For each sequence length T, each k and each target (final-step, per-step), one 1-layer model of
25 units per seed, trained with the chunked scheme of `core/tbptt.py`. Measured per run: test accuracy,
wall time of an epoch (the mean of the epochs after the first, which also compiles), the working
memory XLA allocates for one train step, and the number of parameter updates per batch.

T = 25 uses the reference experiment's data and budget; T = 200, where truncation matters for cost,
uses 16,000 training sequences (an epoch at T = 200 costs 8x one at T = 25 per sequence).
"""

from pathlib import Path

from lstmlab import tasks
from lstmlab.config import RunConfig, TaskConfig, TrainConfig
from lstmlab.core.tbptt import Truncation
from lstmlab.studies.base import Study, groups, mean_std, pm
from lstmlab.studies.runner import train_one
from lstmlab.tasks.integration import Integration

TARGETS = Integration.targets

# seq_len -> (chunk lengths k, (n_train, n_val, n_test), epochs)
GRID = {25: ((1, 2, 5, 10, 25), (64_000, 16_000, 16_000), 3),
        200: ((1, 10, 50, 200), (16_000, 4_000, 4_000), 3)}
QUICK_GRID = {8: ((1, 4, 8), (640, 256, 256), 2),
              24: ((1, 24), (640, 256, 256), 2)}


def plan(seeds: int, quick: bool) -> list[tuple[dict, RunConfig]]:
    runs = []
    for seq_len, (chunks, (n_train, n_val, n_test), epochs) in (QUICK_GRID if quick else GRID).items():
        for target in TARGETS:
            for k in chunks:
                for seed in range(seeds):
                    task = TaskConfig(seq_len=seq_len, n_train=n_train, n_val=n_val, n_test=n_test, seed=seed,
                                      target=target)
                    train = TrainConfig(epochs=epochs, seed=seed, tbptt=k, tbptt_scheme="chunked",
                                        steps_per_call=50 if quick else 250)
                    runs.append(({"seq_len": seq_len, "target": target, "k": k},
                                 RunConfig(task=task, layers=(1,), train=train)))
    return runs


def measure(config: RunConfig, cache_dir: Path) -> dict:
    trainer, data, fitted = train_one(config, cache_dir)
    test = trainer.evaluate(*data["test"])
    epochs = [h.seconds for h in fitted.history[1:]]
    return {
        "test_accuracy": test.accuracy,
        "test_loss": test.loss,
        "epoch_seconds": sum(epochs[1:]) / len(epochs[1:]) if len(epochs) > 1 else epochs[0],
        "first_epoch_seconds": epochs[0],
        "step_memory_bytes": trainer.step_memory_bytes(),
        "updates_per_batch": trainer.plan.updates_per_batch,
        "history": [h.__dict__ for h in fitted.history],
    }


def headline(metrics: dict) -> str:
    return f"test accuracy {metrics['test_accuracy']:.4f}, {metrics['epoch_seconds']:.2f} s/epoch"


def summarise(runs: list[dict]) -> list[dict]:
    rows = []
    for (seq_len, target, k), members in groups(runs, ("seq_len", "target", "k")).items():
        metrics = [r["metrics"] for r in members]
        per_step = tasks.of(RunConfig.from_dict(members[0]["config"]).task).per_step
        row = {"seq_len": seq_len, "target": target, "k": k, "seeds": len(members),
               "backprop_steps": Truncation.create(seq_len, k, per_step, scheme="chunked").backprop_steps}
        for name in ("test_accuracy", "epoch_seconds"):
            row[name], row[f"{name}_std"] = mean_std([m[name] for m in metrics])
        memory = [m["step_memory_bytes"] for m in metrics]
        row["step_memory_bytes"] = max(memory)  # the same for every seed
        row["updates_per_batch"] = metrics[0]["updates_per_batch"]
        rows.append(row)
    return rows


def draw(study: dict, out: Path) -> list[str]:
    from lstmlab.plots import plt

    rows = study["summary"]
    lengths = sorted({r["seq_len"] for r in rows})
    fig, axes = plt.subplots(1, len(lengths), figsize=(5.5 * len(lengths), 4.4), squeeze=False)
    for ax, seq_len in zip(axes[0], lengths):
        for target, marker in zip(TARGETS, "os"):
            line = [r for r in rows if r["seq_len"] == seq_len and r["target"] == target]
            ax.errorbar([r["k"] for r in line], [r["test_accuracy"] for r in line],
                        yerr=[r["test_accuracy_std"] for r in line], marker=marker, capsize=3, label=f"{target} target")
        _k_axis(ax, seq_len, [r["k"] for r in rows if r["seq_len"] == seq_len])
        ax.set_ylabel("test accuracy (sum > threshold?)")
        ax.set_title(f"seq_len {seq_len}: mean ± std over seeds")
        ax.grid(alpha=0.3)
        _legend(ax)
    fig.tight_layout()
    fig.savefig(out / "accuracy.png", dpi=120)
    plt.close(fig)

    fig, axes = plt.subplots(2, len(lengths), figsize=(5.5 * len(lengths), 7.4), squeeze=False, sharex="col")
    for column, seq_len in enumerate(lengths):
        time_ax, memory_ax = axes[0, column], axes[1, column]
        for target, marker in zip(TARGETS, "os"):
            line = [r for r in rows if r["seq_len"] == seq_len and r["target"] == target]
            ks = [r["k"] for r in line]
            time_ax.errorbar(ks, [r["epoch_seconds"] for r in line], yerr=[r["epoch_seconds_std"] for r in line],
                             marker=marker, capsize=3, label=f"{target} target")
            memory_ax.plot(ks, [r["step_memory_bytes"] / 2**20 for r in line], marker=marker, label=f"{target} target")
        time_ax.set_title(f"seq_len {seq_len}")
        time_ax.set_ylabel("seconds per epoch (mean ± std over seeds)")
        memory_ax.set_ylabel("train-step working memory (MiB)")
        for ax in (time_ax, memory_ax):
            _k_axis(ax, seq_len, [r["k"] for r in rows if r["seq_len"] == seq_len])
            ax.grid(alpha=0.3)
            _legend(ax)
        time_ax.set_xlabel("")  # the column shares its k axis with the memory panel below
    fig.tight_layout()
    fig.savefig(out / "cost.png", dpi=120)
    plt.close(fig)
    return ["accuracy.png", "cost.png"]


def _k_axis(ax, seq_len: int, ks: list[int]) -> None:
    """A log k axis ticked at the k tested, in plain numbers, with full BPTT (k = seq_len) marked."""
    from matplotlib.ticker import NullLocator

    ks = sorted(set(ks))
    ax.set_xscale("log")
    ax.axvline(seq_len, color="grey", ls=":", lw=1.2, label=f"full BPTT (k = T = {seq_len})")
    ax.set_xticks(ks, [f"{k}\nT (full)" if k == seq_len else f"{k}" for k in ks])
    ax.xaxis.set_minor_locator(NullLocator())  # only the k tested
    for label, k in zip(ax.get_xticklabels(), ks):
        if k == seq_len:
            label.set_fontweight("bold")
    ax.set_xlim(ks[0] / 1.35, max(ks[-1], seq_len) * 1.35)
    ax.set_xlabel("truncation length k (chunks of k steps), log scale")


def _legend(ax) -> None:
    """The targets first, then the full-BPTT line, in every panel."""
    handles, labels = ax.get_legend_handles_labels()
    order = sorted(range(len(labels)), key=lambda i: labels[i].startswith("full BPTT"))
    ax.legend([handles[i] for i in order], [labels[i] for i in order])


def render(study: dict, figures: list[str]) -> str:
    seeds = study["seeds"]
    lines = [
        "# Truncated BPTT on the integration task",
        "",
        f"`lstmlab study tbptt{' --quick' if study['quick'] else ''} --seeds {seeds}`: one 1-layer LSTM of 25 units "
        f"per cell and seed ({len(study['runs'])} runs, {study['seconds'] / 60:.1f} min of training and testing on "
        f"Keras backend `{study['environment']['backend']}`). Mean ± sample standard deviation over {seeds} seeds; "
        "each seed draws its own data and initial weights, and every k of a seed sees the same data.",
        "",
        "k is the chunk length: the sequence is cut into chunks of k steps from its start, the state is carried "
        "between chunks with its gradient stopped, and the parameters are updated after every chunk with a loss "
        "(one update per batch for a final-step target, one per chunk for per-step targets). "
        "'backprop steps' is how many steps the gradient of the final answer reaches back: for a final-step "
        "target that is the last chunk's length, which is why k that leave the same last chunk train identically. "
        "Time per epoch excludes the first epoch, which also compiles. Memory is what XLA allocates for one train "
        "step beyond its inputs and outputs.",
        "",
    ]
    for seq_len in sorted({r["seq_len"] for r in study["summary"]}):
        config = next(r["config"] for r in study["runs"] if r["group"]["seq_len"] == seq_len)
        task, train = config["task"], config["train"]
        lines += [
            f"## seq_len {seq_len}",
            "",
            f"{task['n_train']:,} / {task['n_val']:,} / {task['n_test']:,} sequences, {train['epochs']} epochs, "
            f"batch {train['batch_size']}, Adam at {train['learning_rate']:g}.",
            "",
            "| target | k | backprop steps | updates per batch | test accuracy | s / epoch | step memory (KiB) |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for row in (r for r in study["summary"] if r["seq_len"] == seq_len):
            memory = f"{row['step_memory_bytes'] / 1024:,.0f}"
            lines.append(
                f"| {row['target']} | {row['k']} | {row['backprop_steps']} | {row['updates_per_batch']} | "
                f"{pm(row['test_accuracy'], row['test_accuracy_std'])} | "
                f"{pm(row['epoch_seconds'], row['epoch_seconds_std'], 2)} | {memory} |"
            )
        lines.append("")
    lines += [f"![{name}]({name})" for name in figures]
    return "\n".join(lines) + "\n"


STUDY = Study(name="tbptt", question="truncated BPTT: accuracy, time and memory against the chunk length",
              plan=plan, measure=measure, headline=headline, summarise=summarise, draw=draw, render=render)
