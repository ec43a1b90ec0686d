"""Do the cells integrate, or memorise a length? Models trained at one length, tested at 5 to 1,000.

Per cell, objective and training length (25, 100) and seed, one 1-layer model of 25 units is trained
on the integration task (final-step target, threshold 1, the reference data and budget). It is then
tested on fresh sequences of every length in TEST_LENGTHS: its accuracy, its integration noise σ̂
(`noise.py`), and the accuracy of the training majority answer on the same sequences (the line a
model that learned nothing reaches; it falls towards 1/2 as the sum spreads with the length).

A linear probe asks whether the state holds the running sum S_t = x_0 + ... + x_t: on probe
sequences of 4x the training length (--quick: 2x) the hidden state h_t (and the LSTM's cell state
c_t) at every step t is regressed on S_t by least squares on half of them, and R² is measured on
the other half; the best single unit's |correlation| with S_t says whether one unit integrates.
The untrained model (the same initial weights) is the control.

Regression against classification is compared in pairs: the same cell, training length and seed
share the training data, the initial weights and the test sequences, so the per-seed difference of
accuracy at each test length gets a bootstrap interval (`stats.paired`).
"""

import dataclasses
from pathlib import Path

import numpy as np

from lstmlab import tasks
from lstmlab.analysis.probe import probe_r2
from lstmlab.config import RunConfig, TaskConfig, TrainConfig
from lstmlab.studies.base import RunContext, Study, groups
from lstmlab.studies.noise import integration_noise
from lstmlab.studies.tables import ci, p_text, statistics_note, t_ci
from lstmlab.studies.training import train_one
from lstmlab.sweeps.stats import MARGIN, adjust, describe, describe_finite, paired, verdict
from lstmlab.tasks.integration import labels

CELLS = ("lstm", "gru", "rnn")
OBJECTIVES = ("classification", "regression")
TRAIN_LENGTHS, QUICK_TRAIN_LENGTHS = (25, 100), (6,)
TEST_LENGTHS, QUICK_TEST_LENGTHS = (5, 10, 25, 50, 100, 250, 500, 1000), (3, 6, 24)
SEQUENCES, QUICK_SEQUENCES = 2000, 512  # fresh sequences per test length, and probe sequences
PROBE_SPAN, QUICK_PROBE_SPAN = 4, 2  # probe sequences are this many training lengths long
TEST, PROBE = 0, 1  # the streams of fresh sequences, so that test and probe sequences differ


def plan(seeds: int, quick: bool) -> list[tuple[dict, RunConfig]]:
    runs = []
    for cell in CELLS:
        for objective in OBJECTIVES:
            for train_len in QUICK_TRAIN_LENGTHS if quick else TRAIN_LENGTHS:
                for seed in range(seeds):
                    if quick:
                        task = TaskConfig(seq_len=train_len, n_train=640, n_val=256, n_test=256, seed=seed,
                                          objective=objective)
                        train = TrainConfig(epochs=2, init_seed=seed, steps_per_call=5)
                    else:  # the reference training set and budget at either length; 4,000 validation
                        # sequences (scored after every epoch) instead of 16,000, which would dominate at T = 100
                        task = TaskConfig(seq_len=train_len, n_val=4_000, seed=seed, objective=objective)
                        train = TrainConfig(init_seed=seed)
                    group = {"cell": cell, "objective": objective, "train_len": train_len}
                    runs.append((group, RunConfig(task=task, cells=(cell,), layers=(1,), train=train)))
    return runs


def fresh_sequences(seed: int, length: int, n: int, stream: int) -> np.ndarray:
    """(n, length) N(0, 1) sequences, the same for every cell and objective of a seed; their generator's
    seed (seed, length, stream) is none of the data cache's (children of SeedSequence(seed))."""
    return np.random.default_rng((seed, length, stream)).standard_normal((n, length), dtype=np.float32)


def length_scores(predict, task: TaskConfig, majority: bool, lengths, n: int) -> dict:
    """Accuracy, σ̂ and the majority answer's accuracy on n fresh sequences of each length.

    predict: (n, L) sequences -> (n,) predictions of `task`'s variant, answered by its decision rule at
    length L. σ̂ is None where it is infinite (at most half right).
    """
    scores = {"lengths": list(lengths), "accuracy": [], "sigma": [], "majority": []}
    for length in lengths:
        x = fresh_sequences(task.seed, length, n, TEST)  # (n, L)
        at_length = tasks.of(dataclasses.replace(task, seq_len=length))
        truth = labels(x, task.threshold)  # (n,) 1.0 where the float64 sum is > threshold
        correct = at_length.correct(predict(x), truth)
        sigma = integration_noise(np.abs(x.astype(np.float64).sum(axis=1) - task.threshold), correct)
        scores["accuracy"].append(float(correct.mean()))
        scores["sigma"].append(sigma if np.isfinite(sigma) else None)
        scores["majority"].append(float(np.mean((truth > 0.5) == majority)))
    return scores


def probe(trainer, x) -> dict:
    """The probe of the last recurrent layer's states on sequences x (B, T): {"h": ..., "c": ...}
    (c for a cell that has one), each {"r2", "best_unit"} as lists over t."""
    from lstmlab.core.tbptt import empty_states, forward_states

    trainable, non_trainable, _ = trainer.state
    b, t = x.shape
    kept = forward_states(trainer.model, trainable, non_trainable, x[:, :, None], empty_states(trainer.model, b, t),
                          0, t)  # per layer, per state array: (T + 1, B, u), the state before step 0 first
    running_sum = np.cumsum(x.astype(np.float64), axis=1)  # (B, T)
    result = {}
    for name, state in zip(("h", "c"), kept[-1]):
        fitted = probe_r2(np.asarray(state[1:]).transpose(1, 0, 2), running_sum)  # h_t after reading x_0..x_t
        result[name] = {key: np.round(values, 5).tolist() for key, values in fitted.items()}
    return result


def measure(config: RunConfig, context: RunContext) -> dict:
    quick = context.quick
    n = QUICK_SEQUENCES if quick else SEQUENCES
    probe_x = fresh_sequences(config.task.seed, (QUICK_PROBE_SPAN if quick else PROBE_SPAN) * config.task.seq_len, n,
                              PROBE)
    at_init = {}

    def observe(trainer, data, epoch, step):
        if epoch == 0:  # before training: the control
            at_init.update(probe(trainer, probe_x))

    trainer, data, _ = train_one(config, context.cache_dir, observe=observe)
    task = tasks.of(config.task)
    majority = bool(np.mean(task.truth(data["train"][1])) > 0.5)  # the more frequent training answer
    # trainer.predict bounds memory at any length: batches of eval_batch_size, long sequences in windows.
    scores = length_scores(trainer.predict, config.task, majority, QUICK_TEST_LENGTHS if quick else TEST_LENGTHS, n)
    return {"test_accuracy": trainer.evaluate(*data["test"]).accuracy, "majority_answer": majority,
            "by_length": scores, "probe": {"trained": probe(trainer, probe_x), "init": at_init}}


def headline(metrics: dict) -> str:
    scores, curve = metrics["by_length"], metrics["probe"]["trained"]["h"]["r2"]
    span = QUICK_PROBE_SPAN if len(scores["lengths"]) == len(QUICK_TEST_LENGTHS) else PROBE_SPAN
    return (f"accuracy {scores['accuracy'][0]:.3f} at length {scores['lengths'][0]}, {scores['accuracy'][-1]:.3f} at "
            f"{scores['lengths'][-1]}; probe R²(h) {curve[len(curve) // span - 1]:.3f} at the training length")


def summarise(runs: list[dict]) -> list[dict]:
    rows, by_seed = [], {}  # by_seed: (cell, objective, train_len) -> {seed: accuracy at each test length}
    for (cell, objective, train_len), members in groups(runs, ("cell", "objective", "train_len")).items():
        by_seed[cell, objective, train_len] = {r["seed"]: r["metrics"]["by_length"]["accuracy"] for r in members}
        metrics = [r["metrics"] for r in members]
        by_length = [m["by_length"] for m in metrics]
        lengths = range(len(by_length[0]["lengths"]))
        probes = {}
        for phase in ("trained", "init"):
            for state in metrics[0]["probe"][phase]:
                for key in ("r2", "best_unit"):
                    curves = np.array([m["probe"][phase][state][key] for m in metrics])  # (seeds, T)
                    probes.setdefault(state, {}).setdefault(phase, {})[key] = np.round(curves.mean(axis=0), 5).tolist()
        rows.append({
            "cell": cell, "objective": objective, "train_len": train_len, "seeds": len(members),
            "test_accuracy": describe([m["test_accuracy"] for m in metrics]),
            "lengths": by_length[0]["lengths"],
            "accuracy": [describe([b["accuracy"][i] for b in by_length]) for i in lengths],
            "sigma": [describe_finite([b["sigma"][i] for b in by_length]) for i in lengths],  # None: ∞
            "majority": [float(np.mean([b["majority"][i] for b in by_length])) for i in lengths],
            "probe": probes,
        })
    # Regression - classification per test length, paired by seed (shared data, weights, test sequences).
    for row in (r for r in rows if r["objective"] == "regression"):
        classifier = by_seed.get((row["cell"], "classification", row["train_len"]))
        if classifier:
            mine = by_seed[row["cell"], "regression", row["train_len"]]
            row["accuracy_vs_classification"] = [
                paired({s: a[i] for s, a in classifier.items()}, {s: a[i] for s, a in mine.items()}, margin=MARGIN,
                       primary=is_primary(row["cell"], length, row["lengths"]))
                for i, length in enumerate(row["lengths"])]
    return adjust(rows)


def is_primary(cell: str, test_length: int, lengths: list[int]) -> bool:
    """The primary comparisons (raw p): the LSTM's regression - classification at the longest test
    length, at each training length: does reading out the sum carry further? The others are
    Holm-adjusted within the study."""
    return cell == "lstm" and test_length == max(lengths)


def _label(row: dict) -> str:
    return f"{row['cell']} {row['objective']}"


def draw(study: dict, out: Path) -> list[str]:
    rows = study["summary"]
    _draw_by_length(rows, "accuracy", "test accuracy", out / "accuracy_vs_length.png")
    _draw_by_length(rows, "sigma", "σ̂ (integration noise, log scale)", out / "sigma_vs_length.png")
    _draw_probe(rows, out / "probe.png")
    _draw_versus(rows, out / "regression_vs_classification.png")
    return ["accuracy_vs_length.png", "regression_vs_classification.png", "sigma_vs_length.png", "probe.png"]


def _draw_versus(rows: list[dict], path: Path) -> None:
    """Regression - classification by test length, a panel per cell and training length: the paired
    difference in points with its 95% t-interval, filled where resolved (Holm, or a primary's raw p),
    open where not, the equivalence margin shaded."""
    from lstmlab.plots import plt

    versus = [r for r in rows if "accuracy_vs_classification" in r]
    train_lens = sorted({r["train_len"] for r in versus})
    cells = [c for c in CELLS if any(r["cell"] == c for r in versus)]
    fig, axes = plt.subplots(len(train_lens), len(cells), figsize=(4.5 * len(cells), 3.4 * len(train_lens)),
                             squeeze=False, sharex=True)
    for i, train_len in enumerate(train_lens):
        for j, cell in enumerate(cells):
            ax = axes[i, j]
            row = next(r for r in versus if r["cell"] == cell and r["train_len"] == train_len)
            tests = row["accuracy_vs_classification"]
            mean = np.array([100 * t["mean"] for t in tests])
            bars = np.abs(np.array([[100 * t["t_low"], 100 * t["t_high"]] for t in tests]).T - mean)
            ax.errorbar(row["lengths"], mean, yerr=np.nan_to_num(bars), marker="o", capsize=3, markerfacecolor="none",
                        color="C0")
            resolved = [(L, m) for L, m, t in zip(row["lengths"], mean, tests) if t["resolved"]]
            if resolved:
                ax.scatter(*zip(*resolved), color="C0", zorder=3)
            ax.axhline(0, color="grey", lw=1)
            ax.axhspan(-100 * MARGIN, 100 * MARGIN, color="grey", alpha=0.15, lw=0)
            ax.axvline(train_len, color="grey", alpha=0.6, ls=":")
            ax.set_xscale("log")
            ax.set_xticks(row["lengths"], [str(L) for L in row["lengths"]], fontsize=7)
            ax.minorticks_off()
            ax.set_title(f"{cell}, trained at {train_len}", fontsize=9)
            ax.grid(alpha=0.3)
            if j == 0:
                ax.set_ylabel("regression − classification (points)", fontsize=8)
            if i == len(train_lens) - 1:
                ax.set_xlabel("test sequence length", fontsize=8)
    fig.suptitle("Regression − classification, paired by seed: mean and 95% t-interval; filled: resolved",
                 fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _draw_by_length(rows: list[dict], key: str, label: str, path: Path) -> None:
    """`key` ("accuracy" or "sigma") against the test length, a panel per training length."""
    from lstmlab.plots import plt

    train_lens = sorted({r["train_len"] for r in rows})
    fig, axes = plt.subplots(1, len(train_lens), figsize=(7 * len(train_lens), 5), squeeze=False)
    for ax, train_len in zip(axes[0], train_lens):
        mine = [r for r in rows if r["train_len"] == train_len]
        left_out = _by_length_lines(ax, mine, key)
        if key == "accuracy":
            ax.plot(mine[0]["lengths"], mine[0]["majority"], "k--", label="majority answer")
            ax.set_ylim(top=1.005)
        else:
            ax.set_yscale("log")
            if left_out:
                ax.set_title(f"{left_out} point(s) left out: σ̂ infinite (≤ half right) in a seed, or 0",
                             fontsize=9, loc="right")
        ax.axvline(train_len, color="grey", alpha=0.6, label=f"training length {train_len}")
        ax.set_xscale("log")
        ax.set_xticks(mine[0]["lengths"], [str(L) for L in mine[0]["lengths"]])
        ax.minorticks_off()
        ax.set_xlabel("test sequence length")
        ax.set_ylabel(label)
        ax.set_title(f"trained at length {train_len}: mean, 95% bootstrap CI over {mine[0]['seeds']} seeds",
                     loc="left", fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _by_length_lines(ax, rows: list[dict], key: str) -> int:
    """A line per row (cell and objective) of one training length; how many points were left out."""
    colours = {cell: f"C{i}" for i, cell in enumerate(CELLS)}
    styles = {"classification": ("-", "o"), "regression": (":", "s")}
    left_out = 0
    for k, row in enumerate(rows):
        lengths = np.array(row["lengths"], np.float64) * np.exp(0.04 * (k - (len(rows) - 1) / 2))  # apart
        stats = row[key]
        # σ̂ drawn only where every seed's is finite (a mean over the finite ones alone would flatter)
        shown = [i for i, s in enumerate(stats) if key == "accuracy" or (not s["infinite"] and s["mean"] > 0)]
        left_out += len(stats) - len(shown)
        mean = np.array([stats[i]["mean"] for i in shown])
        low = np.nan_to_num(mean - np.array([stats[i]["ci_low"] for i in shown], np.float64))  # NaN: one seed
        high = np.nan_to_num(np.array([stats[i]["ci_high"] for i in shown], np.float64) - mean)
        line, marker = styles[row["objective"]]
        ax.errorbar(lengths[shown], mean, yerr=[low, high], color=colours[row["cell"]], linestyle=line,
                    marker=marker, markersize=5, capsize=3, label=_label(row))
    return left_out


def _draw_probe(rows: list[dict], path: Path) -> None:
    """The probe's held-out R² against t, a panel per training length and cell: trained and untrained."""
    from lstmlab.plots import plt

    train_lens = sorted({r["train_len"] for r in rows})
    fig, axes = plt.subplots(len(train_lens), len(CELLS), figsize=(5.5 * len(CELLS), 4.2 * len(train_lens)),
                             squeeze=False)
    for r_index, train_len in enumerate(train_lens):
        for c_index, cell in enumerate(CELLS):
            ax = axes[r_index, c_index]
            mine = [r for r in rows if r["train_len"] == train_len and r["cell"] == cell]
            for k, row in enumerate(mine):
                for state, line in (("h", "-"), ("c", "--")):
                    if state in row["probe"]:
                        ax.plot(row["probe"][state]["trained"]["r2"], line, color=f"C{k}",
                                label=f"{row['objective']}: {state}_t")
            for state, line in (("h", "-"), ("c", "--")):  # the initial recurrent weights: the same for both objectives
                if mine and state in mine[0]["probe"]:
                    ax.plot(mine[0]["probe"][state]["init"]["r2"], line, color="grey", label=f"untrained: {state}_t")
            ax.axvline(train_len - 1, color="black", alpha=0.4, linewidth=1)  # the last step of training
            ax.set_ylim(-0.2, 1.02)
            ax.set_xlabel(f"step t (training length {train_len}: the vertical line)")
            ax.set_ylabel("held-out R² of the running sum")
            ax.set_title(f"{cell}, trained at {train_len} (mean over seeds)", fontsize=10)
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def probe_steps(train_len: int, steps: int) -> list[int]:
    """The steps t the report's probe table shows: 1, T/2, T, 2T and the last, those the probe reached."""
    return sorted({t for t in (1, train_len // 2, train_len, 2 * train_len, steps - 1) if t < steps})


def render(study: dict, figures: list[str]) -> str:
    seeds, rows = study["seeds"], study["summary"]
    config = study["runs"][0]["config"]
    task, train = config["task"], config["train"]
    n = QUICK_SEQUENCES if study["quick"] else SEQUENCES
    span = QUICK_PROBE_SPAN if study["quick"] else PROBE_SPAN
    lines = [
        "# Trained at one length, tested at many: do the cells integrate?",
        "",
        f"`lstmlab study length{' --quick' if study['quick'] else ''} --seeds {seeds}`: {len(study['runs'])} runs "
        f"({study['seconds'] / 60:.1f} min on Keras backend `{study['environment']['backend']}`), one 1-layer model "
        f"of 25 units per cell, objective, training length and seed, trained on the integration task (is the sum "
        f"> {task['threshold']:g}?, answer on the last step; {task['n_train']:,} training sequences, {train['epochs']} "
        f"epochs, batch {train['batch_size']}, Adam at {train['learning_rate']:g}). Classification trains a "
        "probability with cross-entropy on the label and answers yes when p > 0.5; regression trains the sum "
        f"with squared error and answers yes when the predicted sum is > {task['threshold']:g}. Each model is "
        f"tested on {n:,} fresh sequences of every length (the same ones for every cell and objective of a "
        "seed). σ̂ is the σ of a probit fit P(right) = Φ(d / σ), d = |sum - threshold| (`studies/noise.py`): "
        "how precisely the model reads the sum; ∞ where at most half the answers are right (the count of such "
        "seeds in brackets). The majority line is the training majority answer (no) scored on the same "
        "sequences. Mean over seeds and a bootstrap 95% interval of the mean [BCa, over seeds]. Regression and "
        "classification of a cell are compared in pairs (the same seed's data, initial weights and test "
        "sequences); other differences between rows are shown only where their intervals do not overlap.",
        "",
        statistics_note(rows, "the LSTM's regression − classification at the longest test length, at each "
                              "training length"),
        "",
    ]
    for train_len in sorted({r["train_len"] for r in rows}):
        mine = [r for r in rows if r["train_len"] == train_len]
        lines += [f"## Trained at length {train_len}", ""] + _score_tables(mine) + [""]
        lines += _above_majority(mine) + [""] + _probe_table(mine, train_len, n, span) + [""]
    lines += [f"![{name}]({name})" for name in figures]
    return "\n".join(lines) + "\n"


def _score_tables(rows: list[dict]) -> list[str]:
    """Accuracy and σ̂ by test length for the rows of one training length, and regression - classification."""
    columns, numbers = " | ".join(f"L = {L}" for L in rows[0]["lengths"]), "---:|" * len(rows[0]["lengths"])
    header, rule = f"| cell | objective | {columns} |", "|---|---|" + numbers
    lines = ["Test accuracy [95% CI]:", "", header, rule]
    lines += [f"| {r['cell']} | {r['objective']} | " + " | ".join(ci(s, 3) for s in r["accuracy"]) + " |"
              for r in rows]
    lines.append("| majority answer | | " + " | ".join(f"{m:.3f}" for m in rows[0]["majority"]) + " |")
    lines += ["", "σ̂ [95% CI]:", "", header, rule]
    lines += [f"| {r['cell']} | {r['objective']} | " + " | ".join(ci(s, 3) for s in r["sigma"]) + " |"
              for r in rows]
    versus = [r for r in rows if "accuracy_vs_classification" in r]
    if versus:
        lines += ["", "Regression − classification, test accuracy paired by seed (the same data, initial weights "
                  "and test sequences): mean [95% t-interval], then the verdict (↑ higher, ↓ lower, ≈ the same "
                  f"within ±{MARGIN:g}, ? not shown either way) and the t-test p, Holm-adjusted (a primary "
                  "comparison's raw p, marked *):", "", f"| cell | {columns} |", "|---|" + numbers]
        lines += [f"| {r['cell']} | " + " | ".join(_difference(d) for d in r["accuracy_vs_classification"]) + " |"
                  for r in versus]
    return lines


def _difference(result: dict) -> str:
    """A paired difference in a by-length table cell: '+0.012 [+0.003, +0.021] ↑ p 0.004'."""
    word = verdict(result)
    mark = ("↑" if word.startswith("higher") else "↓" if word.startswith("lower")
            else "≈" if "same" in word else "?")
    return (f"{t_ci(result, 3)} {mark} p {p_text(result['p_holm'])}{'*' if result['primary'] else ''}"
            + (" ≈" if result.get("equivalent") and mark in "↑↓" else ""))


def _above_majority(rows: list[dict]) -> list[str]:
    lines = ["Where the accuracy is above the majority line by its interval (its lower end above the line):", ""]
    for r in rows:
        above = [np.isfinite(s["ci_low"]) and s["ci_low"] > m for s, m in zip(r["accuracy"], r["majority"])]
        yes = ", ".join(str(L) for L, a in zip(r["lengths"], above) if a)
        no = ", ".join(str(L) for L, a in zip(r["lengths"], above) if not a)
        lines.append(f"- {_label(r)}: " + "; ".join([f"above at L = {yes}"] * bool(yes)
                                                    + [f"not shown above at L = {no}"] * bool(no)))
    return lines


def _probe_table(rows: list[dict], train_len: int, n: int, span: int) -> list[str]:
    steps = span * train_len
    shown = probe_steps(train_len, steps)
    lines = [f"Linear probe of the running sum S_t = x_0 + ... + x_t on {n:,} sequences of {steps} steps "
             f"(t from 0; h_t has read x_0 ... x_t, so t = {train_len - 1} is the last step of training): "
             "held-out R² of a least-squares read-out of all units, and the |correlation| of the best single "
             "unit, trained (untrained in brackets), mean over seeds:", "",
             "| cell | objective | state | " + " | ".join(f"t = {t}" for t in shown) + " |",
             "|---|---|---|" + "---:|" * len(shown)]
    for r in rows:
        for state in r["probe"]:
            for key, what in (("r2", "R²"), ("best_unit", "best unit abs(r)")):
                trained, init = r["probe"][state]["trained"][key], r["probe"][state]["init"][key]
                lines.append(f"| {r['cell']} | {r['objective']} | {state}: {what} | "
                             + " | ".join(f"{trained[t]:.3f} ({init[t]:.3f})" for t in shown) + " |")
    return lines

STUDY = Study(name="length",
              question="trained at 25 (or 100), tested at 5 to 1,000, and probes of the running sum: "
                       "do the cells integrate",
              plan=plan, measure=measure, headline=headline, summarise=summarise, draw=draw, render=render)
