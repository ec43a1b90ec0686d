"""How biased is truncated BPTT's gradient? Its cosine and norm ratio to the full gradient, against k2.

For each sequence length T, target and seed, one 1-layer LSTM of 25 units is trained with full BPTT
(the TBPTT study's budget). At initialisation and at fixed points of training, on a fixed probe batch
(the first validation sequences), the gradient that per-loss TBPTT with depth k2 would follow (every
loss backpropagated through its last k2 steps, `core/tbptt.py`) is compared with the full gradient:
their cosine and the ratio of their norms. A cosine below 1 is the truncation bias Tallec & Ollivier
(2017) describe: the direction TBPTT descends is not the loss's.
"""

from pathlib import Path

import numpy as np

from lstmlab.config import RunConfig, TaskConfig, TrainConfig
from lstmlab.studies.base import RunContext, Study, groups
from lstmlab.studies.tables import pm
from lstmlab.studies.training import train_one
from lstmlab.sweeps.stats import describe

TARGETS = ("final", "per-step")
# seq_len -> (depths k2 below T, (n_train, n_val, n_test), epochs)
GRID = {25: ((1, 2, 5, 10), (64_000, 16_000, 16_000), 3),
        100: ((1, 5, 10, 25, 50), (16_000, 4_000, 4_000), 3)}
QUICK_GRID = {8: ((1, 4), (640, 256, 256), 2)}
PROBE, QUICK_PROBE = 512, 64  # probe sequences: the first of the validation split
BLOCK = 20  # per-step losses replayed together, which bounds the replay's memory
POINTS = (0.0, 1 / 64, 1 / 8, 1 / 3, 1.0)  # where gradients are compared: fractions of the training budget


def plan(seeds: int, quick: bool) -> list[tuple[dict, RunConfig]]:
    runs = []
    for seq_len, (_, (n_train, n_val, n_test), epochs) in (QUICK_GRID if quick else GRID).items():
        for target in TARGETS:
            for seed in range(seeds):
                task = TaskConfig(seq_len=seq_len, n_train=n_train, n_val=n_val, n_test=n_test, seed=seed,
                                  target=target)
                # Calls of 25 steps (800 sequences): the points are measured within one call of their place.
                train = TrainConfig(epochs=epochs, init_seed=seed, steps_per_call=5 if quick else 25)
                runs.append(({"seq_len": seq_len, "target": target}, RunConfig(task=task, layers=(1,), train=train)))
    return runs


def gradient_agreement(trainer, x, y, w, depths) -> dict:
    """{k2: (cosine, norm ratio)} of the depth-k2 truncated gradient against the full one, at the
    trainer's current parameters, on the batch x (B, T, F), y, w."""
    import jax

    from lstmlab.core.tbptt import empty_states, forward_states, replay_predictions

    model, task = trainer.model, trainer.task
    trainable, non_trainable, _ = trainer.state
    seq_len = x.shape[1]
    states = forward_states(model, trainable, non_trainable, x, empty_states(model, len(x), seq_len), 0, seq_len)

    def full_loss(params):
        return task.loss(y, model.stateless_call(params, non_trainable, x)[0], w)

    def truncated_loss(params, depth):
        if not task.per_step:  # one loss, on the last step
            p, _ = replay_predictions(model, params, non_trainable, x, states, seq_len - 1, 1, depth)
            return task.loss(y, p[:, 0], w)
        total = 0.0
        for start in range(0, seq_len, BLOCK):  # the mean over steps, a block of losses at a time
            size = min(BLOCK, seq_len - start)
            p, _ = replay_predictions(model, params, non_trainable, x, states, start, size, depth)
            total += task.loss(y[:, start:start + size], p, w) * size / seq_len
        return total

    flat = lambda grads: np.concatenate([np.asarray(g, np.float64).ravel() for g in grads])  # noqa: E731
    full = flat(jax.jit(jax.grad(full_loss))(trainable))
    agreement = {}
    for depth in depths:
        truncated = flat(jax.jit(jax.grad(truncated_loss), static_argnums=1)(trainable, depth))
        cosine = float(truncated @ full / (np.linalg.norm(truncated) * np.linalg.norm(full)))
        agreement[depth] = (cosine, float(np.linalg.norm(truncated) / np.linalg.norm(full)))
    return agreement


def measure(config: RunConfig, context: RunContext) -> dict:
    seq_len, n_train = config.task.seq_len, config.task.n_train
    depths = (QUICK_GRID if context.quick else GRID)[seq_len][0]
    probe = QUICK_PROBE if context.quick else PROBE
    budget = n_train * config.train.epochs
    wanted = [round(f * budget) for f in POINTS]
    points = []

    def observe(trainer, data, epoch, step):  # called before training, then after every compiled call
        seen = max(0, (epoch - 1) * n_train + min(step * config.train.batch_size, n_train))
        if wanted and seen >= wanted[0]:
            points.append(_point(trainer, data, seen, depths, probe))
            while wanted and seen >= wanted[0]:
                wanted.pop(0)

    trainer, data, fitted = train_one(config, context.cache_dir, observe=observe)
    return {"test_accuracy": trainer.evaluate(*data["test"]).accuracy, "points": points,
            "final_val_accuracy": fitted.history[-1].val_accuracy}


def _point(trainer, data, seen: int, depths, probe: int) -> dict:
    x, y = data["val"]
    n = min(probe, len(x))
    w = np.ones(n, np.float32)
    agreement = gradient_agreement(trainer, x[:n].reshape(n, x.shape[1], -1), y[:n], w, depths)
    return {"samples": seen, "cosine": {str(k): c for k, (c, _) in agreement.items()},
            "norm_ratio": {str(k): r for k, (_, r) in agreement.items()}}


def headline(metrics: dict) -> str:
    start, end = metrics["points"][0]["cosine"], metrics["points"][-1]["cosine"]
    k = min(start, key=int)
    return f"cosine at k2 = {k}: {start[k]:.3f} at init, {end[k]:.3f} at the end"


def summarise(runs: list[dict]) -> list[dict]:
    rows = []
    for (seq_len, target), members in groups(runs, ("seq_len", "target")).items():
        for index in range(len(members[0]["metrics"]["points"])):
            points = [m["metrics"]["points"][index] for m in members]
            for depth in points[0]["cosine"]:
                row = {"seq_len": seq_len, "target": target, "samples": points[0]["samples"], "k2": int(depth),
                       "seeds": len(members)}
                for name in ("cosine", "norm_ratio"):
                    stats = describe([p[name][depth] for p in points])
                    row.update({name: stats["mean"], f"{name}_std": stats["std"], f"{name}_ci": [stats["ci_low"],
                                                                                                  stats["ci_high"]]})
                rows.append(row)
    return rows


def draw(study: dict, out: Path) -> list[str]:
    _draw_agreement(study["summary"], "cosine", "cosine(truncated, full gradient)", out / "cosine.png")
    _draw_agreement(study["summary"], "norm_ratio", "|truncated| / |full|", out / "norm_ratio.png")
    return ["cosine.png", "norm_ratio.png"]


def _draw_agreement(rows: list[dict], name: str, label: str, path: Path) -> None:
    """`name` ("cosine" or "norm_ratio") against k2, a panel per length and target, a line per point of training."""
    from lstmlab.plots import plt

    lengths = sorted({r["seq_len"] for r in rows})
    fig, axes = plt.subplots(len(lengths), len(TARGETS), figsize=(11, 4.2 * len(lengths)), squeeze=False)
    for r_index, seq_len in enumerate(lengths):
        for c_index, target in enumerate(TARGETS):
            ax = axes[r_index, c_index]
            mine = [r for r in rows if r["seq_len"] == seq_len and r["target"] == target]
            for samples in sorted({r["samples"] for r in mine}):
                line = sorted((r for r in mine if r["samples"] == samples), key=lambda r: r["k2"])
                ax.errorbar([r["k2"] for r in line], [r[name] for r in line], yerr=[r[f"{name}_std"] for r in line],
                            marker="o", capsize=3, label=f"after {samples:,} sequences")
            ax.set_xscale("log")
            ks = sorted({r["k2"] for r in mine})
            ax.set_xticks(ks, [str(k) for k in ks])
            ax.minorticks_off()
            ax.set_xlabel(f"truncation depth k2 (full BPTT: {seq_len})")
            ax.set_ylabel(label)
            ax.set_title(f"T = {seq_len}, {target} target (mean ± std over seeds)")
            ax.grid(alpha=0.3)
            ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def render(study: dict, figures: list[str]) -> str:
    seeds, probe = study["seeds"], QUICK_PROBE if study["quick"] else PROBE
    lines = [
        "# The bias of truncated BPTT's gradient",
        "",
        f"`lstmlab study tbptt-bias{' --quick' if study['quick'] else ''} --seeds {seeds}`: "
        f"{len(study['runs'])} runs, one 1-layer LSTM of 25 units per length, target and seed, trained with full "
        f"BPTT. At initialisation and during training, on the first {probe} validation sequences, the gradient of "
        "per-loss TBPTT with depth k2 (every loss backpropagated through its last k2 steps) is compared with the "
        "full gradient. Mean ± sample standard deviation over seeds, and a 95% bootstrap interval of the mean.",
        "",
    ]
    for seq_len in sorted({r["seq_len"] for r in study["summary"]}):
        lines += [f"## T = {seq_len}", "", "| target | after sequences | k2 | cosine | 95% interval | norm ratio |",
                  "|---|---:|---:|---:|---:|---:|"]
        for r in (r for r in study["summary"] if r["seq_len"] == seq_len):
            low, high = r["cosine_ci"]
            lines.append(f"| {r['target']} | {r['samples']:,} | {r['k2']} | {pm(r['cosine'], r['cosine_std'], 3)} | "
                         f"[{low:.3f}, {high:.3f}] | {pm(r['norm_ratio'], r['norm_ratio_std'], 3)} |")
        lines.append("")
    lines += [f"![{name}]({name})" for name in figures]
    return "\n".join(lines) + "\n"


STUDY = Study(name="tbptt-bias", question="the truncated gradient's cosine and norm against full BPTT's, against k2",
              plan=plan, measure=measure, headline=headline, summarise=summarise, draw=draw, render=render)
