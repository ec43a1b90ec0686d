"""The truncated-BPTT study: what truncation costs in accuracy, and buys in time and memory, per scheme.

Three schemes (`core/tbptt.py`). Per-loss, TBPTT(k1, k2): each loss truncated to its own last k2
steps (its own cut); per-step targets update every k1 steps. Williams & Peng's BPTT(h; h'): every h'
steps the losses of those h' steps are backpropagated together to one cut h steps back, at their
recommended h = 2h'. Chunked: BPTT(k; k). Each arm is compared with full BPTT on the same seeds (same
data, same initial weights), paired by seed:

    final target      one loss per sequence, so one update per batch whatever k2: every arm is
                      matched to full BPTT on samples and on updates.
    per-step targets  k1 = T: one update per batch from all T losses, each truncated to k2 steps:
                      matched on samples and on updates.
                      k1 = k2: an update every k2 steps (T / k2 per batch), the online form:
                      matched on samples, with T / k2 times the updates.
    chunked           per-step targets, the "detach every k" scheme: chunks of k steps from the start,
                      an update after each, so a loss reaches back 1 to k steps. Beside per-loss
                      k2 = k1 = k: the same samples and updates, each loss's depth shortened.
    williams-peng     per-step targets, h = 2h': an update every h' steps, its losses reaching back
                      h - h' + 1 to h steps. Beside per-loss k2 = k1 = h' and chunked k = h' (the same
                      updates) and chunked k = h (the same deepest reach, half the updates).

Budgets: T = 25 uses the reference data and budget (64,000 sequences, 3 epochs); T = 100, final
target only (a per-step arm at T = 100 costs up to k2 times full BPTT's compute), 32,000 training
sequences for 3 epochs and 4,000 for validation. Whether a budget let full BPTT converge is
measured, not assumed: every arm also trains LONGER times as long, and full BPTT LONGER² times; full
BPTT at each longer budget is paired with full BPTT at LONGER times fewer epochs, so the report gives
what LONGER times the budget buys at the budget and at LONGER times it (and every arm's validation gain
over its last epoch). At T = 25 a constant rate never let full BPTT settle (Adam's noise around the
optimum), so there (COSINE) the arms also train LONGER times the budget with the rate decayed to 0,
and full BPTT LONGER² times so: the comparison at a budget where full BPTT has converged. Measured
per run: test accuracy, σ̂ (`noise.py`), the validation accuracy after every epoch, seconds per
epoch and the train step's working memory; `compute_per_update` adds each arm's compute per update
and per batch in forward-step equivalents (`tbptt.compute`), which unlike seconds do not depend on the
machine or its load.
"""

from pathlib import Path

import numpy as np

from lstmlab import tasks
from lstmlab.config import RunConfig, TaskConfig, TrainConfig
from lstmlab.core.tbptt import Truncation, compute
from lstmlab.studies.base import RunContext, Study, groups
from lstmlab.studies.noise import integration_noise
from lstmlab.studies.tables import ci
from lstmlab.studies.training import train_one
from lstmlab.sweeps.stats import describe, describe_finite, paired, verdict

# seq_len -> ({target: depths k2 below T}, (n_train, n_val, n_test), epochs); full BPTT is added to each.
GRID = {25: ({"final": (1, 2, 5, 10), "per-step": (1, 5, 10)}, (64_000, 16_000, 16_000), 3),
        100: ({"final": (1, 10, 25, 50)}, (32_000, 4_000, 16_000), 3)}
QUICK_GRID = {12: ({"final": (1, 4), "per-step": (1, 4)}, (640, 256, 256), 2)}
# seq_len -> chunk lengths k of the chunked scheme's per-step arms, beside per-loss k2 = k1 = k (the same
# updates; each loss reaches back 1 to k steps instead of k). k = 1 is per-loss k2 = k1 = 1 itself.
CHUNKED, QUICK_CHUNKED = {25: (5, 10)}, {12: (4,)}
# seq_len -> h' of Williams & Peng's per-step arms, BPTT(h; h') at their recommended h = 2h': beside per-loss
# k2 = k1 = h' and chunked k = h' (the same updates) and chunked k = h (the same reach). One arm fits the
# time the study could add (at T = 25: 3 epochs, and 12 decayed; 10 seeds).
WILLIAMS_PENG, QUICK_WILLIAMS_PENG = {25: (5,)}, {12: (4,)}
# Lengths whose arms also train LONGER times the budget with the learning rate decayed to 0 (cosine), and
# full BPTT LONGER² times so: with a constant rate full BPTT kept gaining there.
COSINE, QUICK_COSINE = (25,), (12,)
LONGER = 4  # the convergence checks: every arm also trains LONGER times the budget, full BPTT LONGER² times
METRICS = ("test_accuracy", "noise_sigma")
MARKERS = "osv^DPXh*<>pd8H"  # one per drawn line: a line per target, scheme and budget


def arms(seq_len: int, target: str, depths: tuple, epochs: int, chunked: tuple = (),
         cosine: bool = False, williams_peng: tuple = ()) -> list[tuple]:
    """(k2, k1, epochs, scheme, lr_schedule) of every arm. Constant rate: full BPTT (T, T) first, at the
    budget, LONGER and LONGER² times it, then every depth, at the budget and at LONGER times it;
    per-step targets get k1 = T and k1 = k2 per depth, the chunked scheme's chunk lengths k (as
    k2 = k1 = k), and Williams & Peng's h' (as k2 = h = 2h', k1 = h'; at the budget only). With `cosine`,
    then: full BPTT at LONGER and LONGER² times the budget and every other arm at LONGER times it, the
    rate decayed to 0. Williams & Peng's arms, added later, skip LONGER times the budget at a constant
    rate (a convergence check of the others) to fit the time the study could add."""
    def truncated(budget: int, wp: bool = True) -> list[tuple]:
        if target == "final":
            return [(k2, seq_len, budget, "per-loss") for k2 in depths]
        per_loss = [(k2, k1, budget, "per-loss") for k2 in depths for k1 in (seq_len, k2)]
        return (per_loss + [(k, k, budget, "chunked") for k in chunked]
                + [(2 * h, h, budget, "williams-peng") for h in williams_peng if wp])

    full = [(seq_len, seq_len, budget, "per-loss") for budget in (epochs, LONGER * epochs, LONGER ** 2 * epochs)]
    constant = full + truncated(epochs) + truncated(LONGER * epochs, wp=False)
    decayed = full[1:] + truncated(LONGER * epochs)
    return [(*arm, "constant") for arm in constant] + ([(*arm, "cosine") for arm in decayed] if cosine else [])


def plan(seeds: int, quick: bool) -> list[tuple[dict, RunConfig]]:
    runs = []
    chunked, cosine = (QUICK_CHUNKED, QUICK_COSINE) if quick else (CHUNKED, COSINE)
    williams_peng = QUICK_WILLIAMS_PENG if quick else WILLIAMS_PENG
    for seq_len, (targets, (n_train, n_val, n_test), budget) in (QUICK_GRID if quick else GRID).items():
        for target, depths in targets.items():
            for k2, k1, epochs, scheme, schedule in arms(seq_len, target, depths, budget, chunked.get(seq_len, ()),
                                                         seq_len in cosine, williams_peng.get(seq_len, ())):
                for seed in range(seeds):
                    task = TaskConfig(seq_len=seq_len, n_train=n_train, n_val=n_val, n_test=n_test, seed=seed,
                                      target=target)
                    train = TrainConfig(epochs=epochs, init_seed=seed, tbptt=k2, tbptt_scheme=scheme,
                                        tbptt_every=0 if scheme == "chunked" else k1,  # chunked: every chunk
                                        lr_schedule=schedule, steps_per_call=50 if quick else 250)
                    group = {"seq_len": seq_len, "target": target, "k2": k2, "k1": k1, "epochs": epochs,
                             "scheme": scheme, "lr_schedule": schedule}
                    runs.append((group, RunConfig(task=task, layers=(1,), train=train)))
    return runs


def measure(config: RunConfig, context: RunContext) -> dict:
    trainer, data, fitted = train_one(config, context.cache_dir)
    x_test, y_test = data["test"]
    predictions = trainer.predict(x_test)
    task = tasks.of(config.task)
    correct = task.correct(predictions, task.truth(y_test))
    epochs = [h.seconds for h in fitted.history[1:]]
    return {
        "test_accuracy": float(correct.mean()),
        "noise_sigma": integration_noise(np.abs(x_test.astype(np.float64).sum(axis=1) - config.task.threshold),
                                         correct),
        "val_accuracy": [h.val_accuracy for h in fitted.history],  # before training, then after every epoch
        "epoch_seconds": sum(epochs[1:]) / len(epochs[1:]) if len(epochs) > 1 else epochs[0],  # the first compiles
        "step_memory_bytes": trainer.step_memory_bytes(),
        "updates_per_batch": trainer.plan.updates_per_batch,
    }


def headline(metrics: dict) -> str:
    return f"test accuracy {metrics['test_accuracy']:.4f}, {metrics['epoch_seconds']:.2f} s/epoch"


def summarise(runs: list[dict]) -> list[dict]:
    """A row per arm: each metric described over seeds, and paired (`against`) with full BPTT of its
    seeds trained as long at the same rate schedule. Full BPTT beyond the budget (the fewest epochs of
    its length and target) is paired with full BPTT at LONGER times fewer epochs instead, the
    convergence checks; where there is none at its schedule (the first decayed budget), with full
    BPTT as long at a constant rate: what the decay buys. `times`: epochs / budget."""
    fields = ("seq_len", "target", "k2", "k1", "epochs", "scheme", "lr_schedule")
    by_arm = {key: {r["seed"]: r["metrics"] for r in members} for key, members in groups(runs, fields).items()}
    budget = {}
    for seq_len, target, _, _, epochs, _, _ in by_arm:
        budget[seq_len, target] = min(epochs, budget.get((seq_len, target), epochs))
    rows = []
    for (seq_len, target, k2, k1, epochs, scheme, schedule), seeds in by_arm.items():
        metrics = list(seeds.values())
        times = epochs // budget[seq_len, target]
        against = (epochs, schedule)
        if k2 == seq_len and k1 == seq_len and times > 1:  # full BPTT: a convergence check
            against = (epochs // LONGER, schedule)
            if (seq_len, target, seq_len, seq_len, epochs // LONGER, "per-loss", schedule) not in by_arm:
                against = (epochs, "constant")
        full = by_arm.get((seq_len, target, seq_len, seq_len, against[0], "per-loss", against[1]), {})
        curves = np.array([m["val_accuracy"] for m in metrics], dtype=np.float64)  # (seeds, epochs + 1)
        row = {"seq_len": seq_len, "target": target, "k2": k2, "k1": k1, "epochs": epochs, "scheme": scheme,
               "lr_schedule": schedule, "times": times, "seeds": len(seeds),
               "against": {"epochs": against[0], "lr_schedule": against[1]},
               "updates_per_batch": metrics[0]["updates_per_batch"],
               "step_memory_bytes": max(m["step_memory_bytes"] for m in metrics),  # the same for every seed
               "epoch_seconds": describe([m["epoch_seconds"] for m in metrics]),
               "val_curve": curves.mean(axis=0).tolist(),
               "last_epoch_gain": describe(curves[:, -1] - curves[:, -2])}
        for name in METRICS:
            row[name] = (describe_finite if name == "noise_sigma" else describe)([m[name] for m in metrics])
            row[f"{name}_vs_full"] = paired({s: m[name] for s, m in full.items()},
                                            {s: m[name] for s, m in seeds.items()})
        rows.append(row)
    return rows


def compute_per_update(runs: list[dict]) -> list[dict]:
    """A row per scheme and depth (seq_len, target, scheme, k2, k1), in the runs' order: its compute per
    sequence in forward-step equivalents (`tbptt.compute`: forward steps + 2 x backward steps, replays
    included) per batch and per update, the updates per batch, and both against full BPTT's
    (`relative`: per batch; the epochs are the same). `epoch_seconds`: the mean wall time per epoch
    over the arm's runs, for comparison; it depends on the machine and its load, the compute does not."""
    rows, seconds = {}, {}
    for run in runs:
        group, train = run["group"], run["config"]["train"]
        key = (group["seq_len"], group["target"], group["scheme"], group["k2"], group["k1"])
        seconds.setdefault(key, []).append(run["metrics"]["epoch_seconds"])
        if key in rows:
            continue
        plan = Truncation.create(group["seq_len"], train["tbptt"], per_step=group["target"] == "per-step",
                                 every=train["tbptt_every"], scheme=train["tbptt_scheme"])
        rows[key] = {"seq_len": key[0], "target": key[1], "scheme": key[2], "k2": key[3], "k1": key[4],
                     **compute(plan)}
    for key, row in rows.items():
        full = rows.get((key[0], key[1], "per-loss", key[0], key[0]))
        row["relative"] = row["per_batch"] / full["per_batch"] if full else None
        row["epoch_seconds"] = float(np.mean(seconds[key]))
    return list(rows.values())


def _is_full(row: dict) -> bool:
    return row["k2"] == row["seq_len"] and row["k1"] == row["seq_len"]


def _label(row: dict) -> str:
    longer = (f", {row['epochs']} epochs" if row["times"] > 1 else "") + _rate(row["lr_schedule"])
    if _is_full(row):
        return f"full BPTT{longer}"
    if row["target"] == "final":
        return f"k2 = {row['k2']}{longer}"
    if row["scheme"] == "chunked":
        return f"chunked, k = {row['k2']}{longer}"
    if row["scheme"] == "williams-peng":
        return f"Williams & Peng, h = {row['k2']}, h' = {row['k1']}{longer}"
    return f"k2 = {row['k2']}, k1 = {'T' if row['k1'] == row['seq_len'] else row['k1']}{longer}"


def _rate(schedule: str) -> str:
    return ", cosine" if schedule == "cosine" else ""


def _pair(row: dict) -> str:
    """What a row's paired difference is taken against."""
    if not _is_full(row):
        return "full BPTT as long"
    if row["times"] == 1:
        return ""
    against = row["against"]
    rate = ", constant rate" if against["lr_schedule"] != row["lr_schedule"] else _rate(against["lr_schedule"])
    return f"full BPTT, {against['epochs']} epochs{rate}"


def _lines(rows: list[dict], seq_len: int):
    """(label, rows over k2) per drawn line of one length: per target and budget (1 and LONGER times
    at a constant rate, LONGER times decayed), the final target's depths, or the per-step depths with
    k1 = T and with k1 = k2. Full BPTT (k2 = T) ends every line."""
    full = lambda r: r["k2"] == seq_len  # noqa: E731
    kinds = {"final": (("final target", lambda r: True),),
             "per-step": (("per-step, k1 = T", lambda r: r["k1"] == seq_len),
                          ("per-step, k1 = k2", lambda r: r["scheme"] == "per-loss" and r["k1"] == r["k2"]
                           or full(r)),
                          ("per-step, chunked (k1 = k2 = k)", lambda r: r["scheme"] == "chunked" or full(r)))}
    for target, lines in kinds.items():
        for times, schedule in ((1, "constant"), (LONGER, "constant"), (LONGER, "cosine")):
            same = [r for r in rows if r["seq_len"] == seq_len and r["target"] == target and r["times"] == times
                    and r["lr_schedule"] == schedule]
            for name, member in lines:
                line = sorted((r for r in same if member(r)), key=lambda r: r["k2"])
                if len(line) > 1:
                    yield name + (f", {line[0]['epochs']} epochs" if times > 1 else "") + _rate(schedule), line


def draw(study: dict, out: Path) -> list[str]:
    rows = study["summary"]
    _draw_against_full(rows, "test_accuracy_vs_full", "test accuracy - full BPTT's (paired)", out / "accuracy.png")
    _draw_against_full(rows, "noise_sigma_vs_full", "σ̂ - full BPTT's (paired)", out / "noise.png")
    _draw_cost(rows, out / "cost.png")
    return ["accuracy.png", "noise.png", "cost.png"]


def _draw_against_full(rows: list[dict], metric: str, ylabel: str, path: Path) -> None:
    """A panel per length: each kind of arm's paired difference from full BPTT against k2."""
    from lstmlab.plots import plt

    lengths = sorted({r["seq_len"] for r in rows})
    fig, axes = plt.subplots(1, len(lengths), figsize=(6.5 * len(lengths), 4.8), squeeze=False)
    for ax, seq_len in zip(axes[0], lengths):
        for (label, line), marker in zip(_lines(rows, seq_len), MARKERS):
            line = [r for r in line if r["k2"] < seq_len]
            mean = np.array([r[metric]["mean"] for r in line])
            errors = np.abs(np.array([[r[metric]["ci_low"], r[metric]["ci_high"]] for r in line]).T - mean)
            ax.errorbar([r["k2"] for r in line], mean, yerr=np.nan_to_num(errors), marker=marker, capsize=3,
                        label=label)
        ax.axhline(0, color="grey", lw=1)
        _convergence_lines(ax, rows, seq_len, metric)
        _depth_axis(ax, sorted({r["k2"] for r in rows if r["seq_len"] == seq_len and r["k2"] < seq_len}))
        ax.set_xlabel("truncation depth k2 (steps each loss backpropagates), log scale")
        ax.set_ylabel(ylabel)
        ax.set_title(f"T = {seq_len}: mean and 95% interval of the paired difference")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, ncol=2, loc="upper center", bbox_to_anchor=(0.5, -0.2))  # below: the lines are many
    fig.tight_layout()
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)


def _convergence_lines(ax, rows: list[dict], seq_len: int, metric: str) -> None:
    """A horizontal line per convergence check: what LONGER times the epochs buys full BPTT."""
    checks = (r for r in rows if r["seq_len"] == seq_len and r["times"] > 1 and r["k2"] == seq_len
              and r["against"]["epochs"] < r["epochs"])
    styles = (":", "-.", "--", (0, (1, 4)), (0, (5, 2, 1, 2)), (0, (3, 1, 1, 1, 1, 1)))
    for row, style in zip(checks, styles):
        ax.axhline(row[metric]["mean"], color="grey", linestyle=style,
                   label=f"full BPTT at {row['epochs']} epochs - at {row['against']['epochs']}"
                         f"{_rate(row['lr_schedule'])}, {row['target']} target")


def _depth_axis(ax, depths: list[int]) -> None:
    """A log axis of k2 with a tick at each depth tried, and only those."""
    from matplotlib.ticker import NullLocator

    ax.set_xscale("log")
    ax.set_xticks(depths, [str(k) for k in depths])
    ax.xaxis.set_minor_locator(NullLocator())


def _draw_cost(rows: list[dict], path: Path) -> None:
    """Seconds per epoch and the train step's memory against k2, a column per length (budget arms only)."""
    from lstmlab.plots import plt

    lengths = sorted({r["seq_len"] for r in rows})
    fig, axes = plt.subplots(2, len(lengths), figsize=(5.5 * len(lengths), 7.4), squeeze=False, sharex="col")
    for column, seq_len in enumerate(lengths):
        for (label, line), marker in zip(_lines(rows, seq_len), MARKERS):
            if line[0]["times"] > 1:  # the same cost per epoch as at the budget
                continue
            ks = [r["k2"] for r in line]
            axes[0, column].plot(ks, [r["epoch_seconds"]["mean"] for r in line], marker=marker, label=label)
            axes[1, column].plot(ks, [r["step_memory_bytes"] / 2**20 for r in line], marker=marker, label=label)
        axes[0, column].set_title(f"T = {seq_len}")
        axes[0, column].set_ylabel("seconds per epoch (mean over seeds)")
        axes[1, column].set_ylabel("train-step working memory (MiB)")
        axes[1, column].set_xlabel("truncation depth k2, log scale (k2 = T: full BPTT)")
        for ax in axes[:, column]:
            _depth_axis(ax, sorted({r["k2"] for r in rows if r["seq_len"] == seq_len}))
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def render(study: dict, figures: list[str]) -> str:
    seeds = study["seeds"]
    lines = [
        "# Truncated BPTT, as Williams & Peng define it",
        "",
        f"`lstmlab study tbptt{' --quick' if study['quick'] else ''} --seeds {seeds}`: one 1-layer LSTM of 25 units "
        f"per arm and seed ({len(study['runs'])} runs, {study['seconds'] / 60:.1f} min of training and testing on "
        f"Keras backend `{study['environment']['backend']}`). TBPTT(k1, k2): every loss backpropagates through "
        "exactly its own last k2 steps; per-step targets update every k1 steps. A final target has one loss, so "
        "every k2 makes one update per batch, as full BPTT does; per-step arms with k1 = T also make one update per "
        "batch (matched on samples and updates), those with k1 = k2 make T / k2 (matched on samples only), as "
        "do the chunked scheme's arms (chunks of k steps from the start, one update each: a loss reaches back 1 "
        "to k steps). "
        "Every arm of a seed trains on the same sequences from the same initial weights, so differences from full "
        "BPTT are paired by seed. Brackets: 95% BCa bootstrap intervals over seeds; a difference is 'unresolved' "
        "where its interval holds 0 (or there are fewer than 5 pairs). Time per epoch excludes the first epoch "
        "(it also compiles) and was measured with the runs sharing the cores; memory is what XLA allocates for "
        "one train step beyond its inputs and outputs.",
        "",
    ]
    for seq_len in sorted({r["seq_len"] for r in study["summary"]}):
        lines += _section(study, seq_len) + [""]
    lines += [f"![{name}]({name})" for name in figures]
    return "\n".join(lines) + "\n"


def _section(study: dict, seq_len: int) -> list[str]:
    """One length's budget and its table of arms."""
    config = next(r["config"] for r in study["runs"] if r["group"]["seq_len"] == seq_len)
    task, train = config["task"], config["train"]
    lines = [
        f"## T = {seq_len}",
        "",
        f"{task['n_train']:,} / {task['n_val']:,} / {task['n_test']:,} sequences, {train['epochs']} epochs, "
        f"batch {train['batch_size']}, Adam at {train['learning_rate']:g}. 'last-epoch gain' is the validation "
        "accuracy gained over the last epoch (mean over seeds). Each arm's difference is paired by seed with "
        "full BPTT trained as long at the same rate schedule. Full BPTT's own longer arms are the convergence "
        f"checks, each paired with full BPTT at {LONGER}x fewer epochs: what {LONGER}x the epochs still buys it. "
        "'cosine': the rate decays from its start to 0 over the run (`--lr-schedule cosine`); the first "
        "decayed full-BPTT arm is paired with full BPTT as long at a constant rate: what the decay buys.",
        "",
        "| target | arm | updates / batch | test accuracy | paired with | difference | | σ̂ | difference | "
        "last-epoch gain | s / epoch | step memory (KiB) |",
        "|---|---|---:|---:|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    for row in (r for r in study["summary"] if r["seq_len"] == seq_len):
        full = _label(row) == "full BPTT"
        difference = row["test_accuracy_vs_full"]
        lines.append(
            f"| {row['target']} | {_label(row)} | {row['updates_per_batch']} | {ci(row['test_accuracy'])} | "
            f"{_pair(row)} | {'' if full else ci(difference)} | {'' if full else verdict(difference)} | "
            f"{ci(row['noise_sigma'], 3)} | {'' if full else ci(row['noise_sigma_vs_full'], 3)} | "
            f"{row['last_epoch_gain']['mean']:+.4f} | {row['epoch_seconds']['mean']:.2f} | "
            f"{row['step_memory_bytes'] / 1024:,.0f} |")
    return lines

STUDY = Study(name="tbptt", question="TBPTT(k1, k2): accuracy against full BPTT, paired, and time and memory",
              plan=plan, measure=measure, headline=headline, summarise=summarise, draw=draw, render=render)

