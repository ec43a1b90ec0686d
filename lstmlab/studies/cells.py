"""LSTM, GRU or simple RNN: test accuracy against sequence length, and where their gradients vanish.

For each cell, length T and seed, one 1-layer model of 25 units is trained on the integration task
(final-step label) with the reference budget at every length: the same 64,000 training sequences
and 3 epochs. Every cell of a seed trains on the same sequences, so the cells are compared in pairs
(per seed) with a bootstrap 95% interval of the mean difference.

The gradient profile: on a fixed probe batch (the first validation sequences), the mean over
sequences of log10 |∂L_i/∂x_{i,t}| (sequence i's loss against its own input at step t) by distance
T - 1 - t from the loss, at initialisation and after training. Where it falls with distance, the
early inputs barely move the loss: vanishing gradients (Bengio et al. 1994), the simple RNN's
expected fate and what the gates of LSTM and GRU are meant to prevent.
"""

from pathlib import Path

import numpy as np

from lstmlab import tasks
from lstmlab.config import RunConfig, TaskConfig, TrainConfig
from lstmlab.studies.base import RunContext, Study, groups
from lstmlab.studies.noise import integration_noise
from lstmlab.studies.tables import TEST_COLUMNS, interval_text, pm, result_cells, statistics_note
from lstmlab.studies.training import train_one
from lstmlab.sweeps.stats import MARGIN, adjust, describe_finite, paired, verdict

CELLS = ("lstm", "gru", "rnn")
SEQ_LENS = (25, 50, 100, 200)
QUICK_SEQ_LENS = (6, 12)
PROBE, QUICK_PROBE = 256, 64  # probe sequences: the first of the validation split
# |∂L/∂x_t| can be exactly 0 in float32 (underflow through a long simple RNN): log10 of this floor
# (-30) stands for it instead of -inf, far below any gradient that is not 0.
FLOOR = 1e-30
DISTANCES = (0, 5, 10, 25, 50, 100, 199)  # T - t columns of the report's gradient table
RISING = 0.005  # a mean last-epoch validation gain above this is marked (a mean over seeds, not a test)


def plan(seeds: int, quick: bool) -> list[tuple[dict, RunConfig]]:
    runs = []
    for cell in CELLS:
        for seq_len in QUICK_SEQ_LENS if quick else SEQ_LENS:
            for seed in range(seeds):  # task seed = seed: every cell of a seed sees the same sequences
                if quick:
                    task = TaskConfig(seq_len=seq_len, n_train=640, n_val=256, n_test=256, seed=seed)
                    train = TrainConfig(epochs=2, init_seed=seed, steps_per_call=5)
                else:
                    # The reference training set and budget; 4,000 validation sequences (scored after every
                    # epoch) instead of 16,000, as scoring dominates a run's time at T = 200.
                    task = TaskConfig(seq_len=seq_len, n_val=4_000, seed=seed)
                    train = TrainConfig(init_seed=seed)
                config = RunConfig(task=task, cells=(cell,), layers=(1,), train=train)
                runs.append(({"cell": cell, "seq_len": seq_len}, config))
    return runs


def input_gradient_profile(trainer, x, y) -> np.ndarray:
    """(T,) mean over the batch of log10 |∂L_i/∂x_{i,t}| at the trainer's parameters, indexed by
    T - 1 - t (steps before the loss). x (B, T) or (B, T, F), y the batch's targets; L_i is
    sequence i's own loss; with F > 1 features |.| is the norm over them."""
    import jax

    model, task = trainer.model, trainer.task
    trainable, non_trainable = trainer.state[0], trainer.state[1]
    x = np.asarray(x, np.float32).reshape(len(x), x.shape[1], -1)  # (B, T, F)
    w = np.ones(len(x), np.float32)

    def summed_loss(inputs):
        # task.loss is the batch mean: times B it is the sum, so row i of the gradient is ∂L_i/∂x_i alone
        # (sequence i's loss depends on no other sequence's input).
        return task.loss(y, model.stateless_call(trainable, non_trainable, inputs)[0], w) * len(x)

    grads = np.asarray(jax.grad(summed_loss)(x), np.float64)  # (B, T, F)
    size = np.sqrt(np.sum(grads ** 2, axis=-1))  # (B, T)
    return np.log10(size + FLOOR).mean(axis=0)[::-1].copy()  # (T,), index T - 1 - t


def measure(config: RunConfig, context: RunContext) -> dict:
    task = tasks.of(config.task)
    probe = QUICK_PROBE if context.quick else PROBE
    profiles = {}

    def profile(trainer, data) -> list[float]:
        x, y = data["val"]
        return input_gradient_profile(trainer, x[:probe], y[:probe]).tolist()

    def observe(trainer, data, epoch, step):
        if epoch == 0:  # before training
            profiles["init"] = profile(trainer, data)

    trainer, data, fitted = train_one(config, context.cache_dir, observe=observe)
    x_test, y_test = data["test"]
    predictions = trainer.predict(x_test)
    test = task.score(predictions, y_test)
    correct = task.correct(predictions, task.truth(y_test))
    distances = np.abs(x_test.astype(np.float64).reshape(len(x_test), -1).sum(axis=1) - config.task.threshold)
    majority = next(b for b in task.baselines(data["train"][1], y_test) if b["name"] == "majority class")
    return {
        "test_accuracy": test.accuracy,
        "test_loss": test.loss,
        "noise_sigma": integration_noise(distances, correct),
        "majority_accuracy": majority["accuracy"],
        # fit's history has the validation accuracy before training and after every epoch
        "val_accuracy": [record.val_accuracy for record in fitted.history],
        "gradient_init": profiles["init"],
        "gradient_trained": profile(trainer, data),
    }


def headline(metrics: dict) -> str:
    far = len(metrics["gradient_init"]) - 1
    return (f"test accuracy {metrics['test_accuracy']:.4f}; log10 |dL/dx| {far} steps back: "
            f"{metrics['gradient_init'][far]:.1f} at init, {metrics['gradient_trained'][far]:.1f} trained")


def summarise(runs: list[dict]) -> list[dict]:
    """One "arm" row per (cell, seq_len), then one "difference" row per seq_len and other cell against LSTM."""
    rows = []
    for (cell, seq_len), members in groups(runs, ("cell", "seq_len")).items():
        metrics = [r["metrics"] for r in members]
        rows.append({
            "kind": "arm", "cell": cell, "seq_len": seq_len,
            "test_accuracy": describe_finite([m["test_accuracy"] for m in metrics]),
            "noise_sigma": describe_finite([m["noise_sigma"] for m in metrics]),
            "majority_accuracy": float(np.mean([m["majority_accuracy"] for m in metrics])),
            "last_gain": describe_finite([m["val_accuracy"][-1] - m["val_accuracy"][-2] for m in metrics]),
            "gradient_init": np.mean([m["gradient_init"] for m in metrics], axis=0).tolist(),  # (T,) over seeds
            "gradient_trained": np.mean([m["gradient_trained"] for m in metrics], axis=0).tolist(),
        })
    accuracy = {}  # (cell, seq_len) -> {seed: test accuracy}
    for r in runs:
        accuracy.setdefault((r["group"]["cell"], r["group"]["seq_len"]), {})[r["seed"]] = r["metrics"]["test_accuracy"]
    longest = max(r["group"]["seq_len"] for r in runs)
    for seq_len in dict.fromkeys(r["group"]["seq_len"] for r in runs):
        for cell in (c for c in CELLS if c != "lstm"):
            if (cell, seq_len) in accuracy and ("lstm", seq_len) in accuracy:
                # Paired by seed: the same sequences, so the data's share of the variance cancels. Primary
                # (raw p): each cell against the LSTM at the longest length, the study's question; the rest
                # are Holm-adjusted within the study.
                rows.append({"kind": "difference", "seq_len": seq_len, "cell": cell, "against": "lstm",
                             "test_accuracy": paired(accuracy["lstm", seq_len], accuracy[cell, seq_len],
                                                     margin=MARGIN, primary=seq_len == longest)})
    return adjust(rows)


def claim(stats: dict, cell: str, against: str) -> str:
    """A paired difference (`stats.paired`) in words: 'CELL higher/lower than AGAINST' where resolved,
    'CELL the same as AGAINST (±margin)' where shown equivalent, else 'not shown either way'."""
    word = verdict(stats)
    if word.startswith(("higher", "lower")):
        return f"{cell} {word.replace(',', ' than ' + against + ',', 1) if ',' in word else word + ' than ' + against}"
    return f"{cell} {word.replace('the same', 'the same as ' + against)}" if stats.get("equivalent") else word


def _arms(study: dict) -> list[dict]:
    return [r for r in study["summary"] if r["kind"] == "arm"]


def draw(study: dict, out: Path) -> list[str]:
    arms = _arms(study)
    _draw_accuracy(arms, [r for r in study["summary"] if r["kind"] == "difference"], study["seeds"],
                   out / "accuracy.png")
    _draw_gradients(arms, out / "gradients.png")
    return ["accuracy.png", "gradients.png"]


def _draw_accuracy(arms: list[dict], differences: list[dict], seeds: int, path: Path) -> None:
    """Test accuracy against T per cell (mean and 95% interval) and the majority class's; then a panel
    per other cell of its paired difference from the LSTM in points, with the 95% t-interval (filled
    where resolved, open where not) and the equivalence margin shaded: the comparisons the claims rest on."""
    from lstmlab.plots import plt

    lengths = sorted({r["seq_len"] for r in arms})
    others = [c for c in CELLS if c != "lstm" and any(d["cell"] == c for d in differences)]
    fig, axes = plt.subplots(1, 1 + len(others), figsize=(6 + 4 * len(others), 4.5), squeeze=False)
    ax = axes[0, 0]
    for ax_d, cell in zip(axes[0, 1:], others):
        mine = sorted((d for d in differences if d["cell"] == cell), key=lambda d: d["seq_len"])
        tests = [d["test_accuracy"] for d in mine]
        mean = np.array([100 * t["mean"] for t in tests])
        bars = np.abs(np.array([[100 * t["t_low"], 100 * t["t_high"]] for t in tests]).T - mean)
        line = ax_d.errorbar([d["seq_len"] for d in mine], mean, yerr=np.nan_to_num(bars), marker="o", capsize=4,
                             markerfacecolor="none", label=f"{cell} − lstm")
        resolved = [(d["seq_len"], m) for d, m, t in zip(mine, mean, tests) if t["resolved"]]
        if resolved:
            ax_d.scatter(*zip(*resolved), color=line[0].get_color(), zorder=3)
        ax_d.axhline(0, color="grey", lw=1)
        ax_d.axhspan(-100 * MARGIN, 100 * MARGIN, color="grey", alpha=0.15, lw=0)
        ax_d.set_xscale("log")
        ax_d.set_xticks(lengths, [str(t) for t in lengths])
        ax_d.minorticks_off()
        ax_d.set_xlabel("sequence length T")
        ax_d.set_ylabel("paired difference, accuracy points")
        ax_d.set_title(f"{cell} − lstm: 95% t-interval; filled: resolved", fontsize=10)
        ax_d.grid(alpha=0.3)
    for i, cell in enumerate(CELLS):
        mine = sorted((r for r in arms if r["cell"] == cell), key=lambda r: r["seq_len"])
        mean = np.array([r["test_accuracy"]["mean"] for r in mine])
        low = np.nan_to_num(mean - [r["test_accuracy"]["ci_low"] for r in mine])  # no interval (1 seed): no bar
        high = np.nan_to_num(np.array([r["test_accuracy"]["ci_high"] for r in mine]) - mean)
        shift = 2.0 ** ((i - 1) * 0.03)  # side by side on the log axis, so the bars do not overlap
        ax.errorbar([r["seq_len"] * shift for r in mine], mean, yerr=[low, high], marker="o", capsize=4,
                    label=f"{cell} (mean, 95% interval)")
    majority = [np.mean([r["majority_accuracy"] for r in arms if r["seq_len"] == t]) for t in lengths]
    ax.plot(lengths, majority, "k--", alpha=0.6, label="majority class")
    ax.set_xscale("log")
    ax.set_xticks(lengths, [str(t) for t in lengths])
    ax.minorticks_off()
    ax.set_xlabel("sequence length T")
    ax.set_ylabel("test accuracy")
    ax.set_title(f"Test accuracy against length ({seeds} seeds)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _gradient_maps(arms: list[dict]) -> dict[tuple[str, str], dict[int, np.ndarray]]:
    """{(cell, "init" or "trained"): {T: (longest T,) profile}}: a length shorter than the longest leaves
    its far columns NaN (blank)."""
    longest = max(r["seq_len"] for r in arms)
    maps = {}
    for r in arms:
        for when in ("init", "trained"):
            row = np.full(longest, np.nan)
            row[: r["seq_len"]] = r[f"gradient_{when}"]
            maps.setdefault((r["cell"], when), {})[r["seq_len"]] = row
    return maps


def _draw_gradients(arms: list[dict], path: Path) -> None:
    """Heatmaps of the gradient profile, a column per cell, a row at init and trained: rows T, columns T - t."""
    from lstmlab.plots import plt

    lengths = sorted({r["seq_len"] for r in arms})
    longest = max(lengths)
    maps = _gradient_maps(arms)
    values = np.concatenate([np.concatenate(list(m.values())) for m in maps.values()])
    vmin, vmax = np.nanmin(values), np.nanmax(values)  # one colour scale for every panel
    cells = [c for c in CELLS if (c, "init") in maps]
    fig, axes = plt.subplots(2, len(cells), figsize=(4.6 * len(cells), 6.5), squeeze=False, layout="constrained")
    for column, cell in enumerate(cells):
        for row, when in enumerate(("init", "trained")):
            ax = axes[row, column]
            grid = np.array([maps[cell, when].get(t, np.full(longest, np.nan)) for t in lengths])  # (lengths, longest)
            image = ax.imshow(np.ma.masked_invalid(grid), aspect="auto", origin="lower", vmin=vmin, vmax=vmax,
                              interpolation="nearest", extent=(-0.5, longest - 0.5, -0.5, len(lengths) - 0.5))
            ax.set_facecolor("0.92")  # grey: no such step at this length
            ax.set_yticks(range(len(lengths)), [str(t) for t in lengths])
            ax.set_xlabel("T - t (steps before the loss)")
            ax.set_ylabel("training length T")
            ax.set_title(f"{cell}, {'at initialisation' if when == 'init' else 'after training'}")
    fig.colorbar(image, ax=axes, label="mean log10 |∂L/∂x_t| (probe sequences, seeds)")
    fig.savefig(path, dpi=120)
    plt.close(fig)


def render(study: dict, figures: list[str]) -> str:
    seeds, arms = study["seeds"], _arms(study)
    config = study["runs"][0]["config"]
    task, train = config["task"], config["train"]
    probe = QUICK_PROBE if study["quick"] else PROBE
    lines = [
        "# LSTM, GRU or simple RNN: accuracy and gradients against length",
        "",
        f"`lstmlab study cells{' --quick' if study['quick'] else ''} --seeds {seeds}`: one 1-layer model of "
        f"{config['units']} units per cell, length and seed ({len(study['runs'])} runs, {study['seconds'] / 60:.1f} "
        f"min on Keras backend `{study['environment']['backend']}`). Integration task, label on the last step "
        f"(is the sum > {task['threshold']:g}?), {task['n_train']:,} / {task['n_val']:,} / {task['n_test']:,} "
        f"sequences and {train['epochs']} epochs at every length, batch {train['batch_size']}, Adam at "
        f"{train['learning_rate']:g}. Every cell of a seed trains on the same sequences. Mean ± sample standard "
        f"deviation over {seeds} seeds and a bootstrap (BCa) 95% interval of the mean. σ̂ is the effective "
        "integration noise (`lstmlab/studies/noise.py`; ∞ for a model at chance). The last epoch's gain is the "
        f"validation accuracy's rise over the last epoch; 'rose' marks a mean gain above {RISING} (half a point): "
        "a mean over seeds, not a test, but a sign that longer training could move the arm.",
        "",
    ]
    lines += _arm_table(arms) + [""] + _difference_table(study["summary"]) + [""] + _gradient_table(arms, probe)
    lines += [""] + [f"![{name}]({name})" for name in figures]
    return "\n".join(lines) + "\n"


def _arm_table(arms: list[dict]) -> list[str]:
    lines = ["| cell | T | test accuracy | 95% interval | σ̂ | majority class | last epoch's gain |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for r in arms:
        acc, noise, gain = r["test_accuracy"], r["noise_sigma"], r["last_gain"]
        sigma = pm(noise["mean"], 0 if noise["n"] - noise["infinite"] < 2 else noise["std"], 3)
        if noise["infinite"]:
            sigma = "∞" if noise["infinite"] == noise["n"] else f"{sigma} ({noise['infinite']} of {noise['n']}: ∞)"
        rising = " rose" if gain["mean"] > RISING else ""
        lines.append(f"| {r['cell']} | {r['seq_len']} | {pm(acc['mean'], np.nan_to_num(acc['std']))} | "
                     f"{interval_text(acc) or '(no interval)'} | {sigma} | {r['majority_accuracy']:.4f} | "
                     f"{gain['mean']:+.4f}{rising} |")
    return lines


def _difference_table(summary: list[dict]) -> list[str]:
    longest = max(r["seq_len"] for r in summary)
    lines = ["Paired differences of test accuracy (per seed, the same sequences).", "",
             statistics_note(summary, f"GRU − LSTM and simple RNN − LSTM at T = {longest}"), "",
             "| T | difference | " + " | ".join(TEST_COLUMNS[:-1]) + " | verdict |", "|---:|---|---:|---:|---:|---|"]
    for r in (r for r in summary if r["kind"] == "difference"):
        stats = r["test_accuracy"]
        lines.append(f"| {r['seq_len']} | {r['cell']} − {r['against']} | " + " | ".join(result_cells(stats)[:-1])
                     + f" | {claim(stats, r['cell'], r['against'])} |")
    return lines


def _gradient_table(arms: list[dict], probe: int) -> list[str]:
    longest = max(r["seq_len"] for r in arms)
    shown = [d for d in DISTANCES if d < longest]
    lines = [f"Mean log10 |∂L/∂x_t| by steps before the loss T − t, on the first {probe} validation "
             f"sequences (mean over them, then over seeds; an exact 0 counts as {FLOOR:g}, i.e. -30):", "",
             "| cell | T | when | " + " | ".join(f"T−t = {d}" for d in shown) + " |",
             "|---|---:|---|" + "---:|" * len(shown)]
    for r in arms:
        for when, label in (("init", "initialisation"), ("trained", "trained")):
            profile = r[f"gradient_{when}"]
            values = [f"{profile[d]:.2f}" if d < len(profile) else "" for d in shown]
            lines.append(f"| {r['cell']} | {r['seq_len']} | {label} | " + " | ".join(values) + " |")
    return lines

STUDY = Study(name="cells", question="LSTM, GRU or simple RNN: test accuracy and vanishing gradients against length",
              plan=plan, measure=measure, headline=headline, summarise=summarise, draw=draw, render=render)
