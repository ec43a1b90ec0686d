"""Does the truncation depth set the memory time scale? And do the time scales an initialisation sets survive training?

Integration task: the TBPTT study's final-target arms at its budget and a constant rate, the same
configs (`tbptt.plan`, so the same data, initial weights and training): truncation depths k2 of its
GRID (T = 25: 1, 2, 5, 10; T = 100: 1, 10, 25, 50) and full BPTT (k2 = T). The TBPTT study keeps
no weights, so each model is trained again here, then measured:

    eigenvalue      λ along the sum (`leaky.along_sum`): at every fixed and slow point `lstmlab analyze`
                    finds with the input at 0 (`analysis.analyze_model`), how much of a change in the
                    held sum the read-out still sees after T steps (T: the training length) of the
                    linearised dynamics, as a retention per step; the median over the points. Along the
                    sum the model is then the leaky integrator z_t = λ z_{t-1} + x_t that keeps as much
                    after T steps, with time constant τ = −1/ln λ steps. Beside it, the single-mode
                    reading (|λ| of the eigenvector closest to the sum's direction) and that
                    eigenvector's alignment with it.
    decay_rate      −ln|λ| = 1/τ, the quantity averaged and paired (finite where τ is ∞).
    test accuracy, noise_sigma   as the TBPTT study measures them (σ̂: `noise.py`).
    by_length       accuracy at the length study's test lengths 5 to 1,000 on its fresh sequences
                    (`length.length_scores`, the same sequences per seed).

The leaky integrator with that λ and noise added at every step (`leaky.leaky_accuracy`), as much as
builds up to σ̂ over the training length T, predicts each model's accuracy at every test length. Beside
it: the same λ with σ̂ as read-out noise instead (the same at every length), a perfect integrator with
the same per-step noise (λ = 1: what the noise alone predicts), and the leak alone (no noise). σ̂ is
measured at the training length, where it already holds the leak's own errors: the leaky predictions
count them twice there, so they fall below the model near T, and their test is at the other lengths.

Adding problem, T = 100, fresh sequences (`--stream`) for the adding study's budget: the default
LSTM init (forget bias 1) against `--init chrono`; per seed the same measure at initialisation and
after training, and the time constants the init gives each unit (−1/ln σ(b_f), from its forget bias).

Paired by seed (the arms of a seed share data and initial weights). Primary comparison: the decay
rate at k2 = 1 against full BPTT at T = 25; every other test Holm-adjusted within the study.
"""

from pathlib import Path

import numpy as np

from lstmlab import tasks
from lstmlab.config import RunConfig, TaskConfig, TrainConfig
from lstmlab.studies import adding, length, tbptt
from lstmlab.studies.base import RunContext, Study, groups
from lstmlab.studies.leaky import along_sum, decay_rate, leaky_accuracy, per_step_noise
from lstmlab.studies.noise import integration_noise
from lstmlab.studies.tables import ci, result_cells, statistics_note, TEST_COLUMNS
from lstmlab.studies.training import train_one
from lstmlab.sweeps.stats import MARGIN, adjust, describe, describe_finite, paired

STARTS, QUICK_STARTS = 1024, 128  # starting states of the fixed-point search (`lstmlab analyze`'s default)
SEQUENCES = 256  # test sequences whose trajectories give the starts and the sum's direction (analyze's)
INITS = ("default", "chrono")
# The adding arms: the adding study's T, splits and budget (its rate and batch in `plan`); quick: the shortest T.
ADDING = {"seq_len": 100, "samples": adding.FULL["samples"], "epochs": adding.FULL["epochs"]}
QUICK_ADDING = {"seq_len": adding.Adding.min_seq_len, "samples": (640, 128, 128), "epochs": 1}
# (λ, per-step noise that builds up to σ̂ over T) · (λ, read-out noise σ̂) · (1, per-step noise σ̂ / √T) · (λ, 0)
PREDICTIONS = ("leaky", "leaky_readout", "perfect", "leak_only")


def plan(seeds: int, quick: bool) -> list[tuple[dict, RunConfig]]:
    runs = []
    grid = tbptt.QUICK_GRID if quick else tbptt.GRID
    for group, config in tbptt.plan(seeds, quick):  # the TBPTT study's configs, unchanged
        if (group["target"] == "final" and group["scheme"] == "per-loss" and group["lr_schedule"] == "constant"
                and group["epochs"] == grid[group["seq_len"]][2]):
            runs.append(({"task": "integration", "seq_len": group["seq_len"], "k2": group["k2"], "init": "default"},
                         config))
    settings = QUICK_ADDING if quick else ADDING
    n_train, n_val, n_test = settings["samples"]
    for init in INITS:
        for seed in range(seeds):
            task = TaskConfig(name="adding", seq_len=settings["seq_len"], n_train=n_train, n_val=n_val,
                              n_test=n_test, seed=seed)
            train = TrainConfig(epochs=settings["epochs"], batch_size=32, learning_rate=adding.LEARNING_RATE,
                                init_seed=seed, init=init, stream=True, steps_per_call=50 if quick else 250)
            runs.append(({"task": "adding", "seq_len": settings["seq_len"], "k2": settings["seq_len"], "init": init},
                         RunConfig(task=task, cells=("lstm",), layers=(1,), units=adding.UNITS, train=train)))
    return runs


def timescale(model, task, x, starts: int) -> dict:
    """`leaky.along_sum` of `model` on sequences x (B, T) or (B, T, m) over T steps, the input held at
    0, at the fixed and slow points `lstmlab analyze` finds from `starts` states along x; plus the
    slowest mode's |λ| (median over the points), how many points are fixed and slow, and the R² of the
    sum's linear probe."""
    from lstmlab.analysis.analyze import analyze_model

    x = np.asarray(x)[:SEQUENCES]
    x = x if x.ndim == 3 else x[..., None]  # (B, T, m)
    record, arrays, _ = analyze_model(model, task, x, np.zeros(x.shape[2], np.float32), starts)
    found = along_sum(arrays["jacobian"], arrays["encoding"], arrays["readout"], horizon=x.shape[1])
    slowest = record["slowest_mode"]
    return {**found, "slowest_mode": None if slowest is None else slowest["median_abs_eigenvalue"],
            "fixed": record["fixed"], "slow_points": record["slow_points"],
            "probe_r2": record["line_attractor"].get("probe_r2")}


def keep_time_constants(model) -> list[float] | None:
    """The time constant −1/ln σ(b_f) each unit's forget-gate bias gives an LSTM's first layer (its
    keep rate with the gate's other inputs at 0); None for another cell."""
    from keras import ops

    if model.cell_name != "lstm":
        return None
    cell = model.rnns[0].cell
    units = cell.units
    bias = np.asarray(ops.convert_to_numpy(cell.bias), np.float64)[units:2 * units]  # gates i, f, c, o
    return [float(-1 / np.log(1 / (1 + np.exp(-b)))) for b in bias]


def measure(config: RunConfig, context: RunContext) -> dict:
    starts = QUICK_STARTS if context.quick else STARTS
    task = tasks.of(config.task)
    at_init = {}

    def observe(trainer, data, epoch, step):
        if epoch == 0 and config.task.name == "adding":  # what the init sets, before any update
            at_init.update(timescale(trainer.model, task, data["test"][0], starts),
                           keep_time_constants=keep_time_constants(trainer.model))

    trainer, data, _ = train_one(config, context.cache_dir, observe=observe)
    x_test, y_test = data["test"]
    metrics = {"trained": timescale(trainer.model, task, x_test, starts)}
    if config.task.name == "adding":
        return {"test_accuracy": float(trainer.evaluate(x_test, y_test).accuracy), **metrics, "init": at_init}
    # The TBPTT study's test accuracy and σ̂, and the length study's accuracy at every test length.
    correct = task.correct(trainer.predict(x_test), task.truth(y_test))
    metrics["test_accuracy"] = float(correct.mean())
    metrics["noise_sigma"] = integration_noise(np.abs(x_test.astype(np.float64).sum(axis=1) - config.task.threshold),
                                               correct)
    majority = bool(np.mean(task.truth(data["train"][1])) > 0.5)
    lengths = length.QUICK_TEST_LENGTHS if context.quick else length.TEST_LENGTHS
    metrics["by_length"] = length.length_scores(trainer.predict, config.task, majority, lengths,
                                                length.QUICK_SEQUENCES if context.quick else length.SEQUENCES)
    return metrics


def time_constant_text(eigenvalue) -> str:
    rate = decay_rate(eigenvalue)
    return "–" if not np.isfinite(rate) else ("∞" if rate <= 0 else f"{1 / rate:.1f}")


def headline(metrics: dict) -> str:
    trained = metrics["trained"]
    return (f"τ {time_constant_text(trained['eigenvalue'])} steps along the sum (|λ| "
            f"{trained['eigenvalue'] if trained['eigenvalue'] is not None else float('nan'):.4f}), "
            f"test accuracy {metrics['test_accuracy']:.4f}")


def predictions(eigenvalue, sigma, lengths, threshold: float, seq_len: int) -> dict:
    """{name: accuracy at each test length} of PREDICTIONS for one model trained at `seq_len`, from its λ
    along the sum and its σ̂ there; None where λ or σ̂ is missing or σ̂ is ∞."""
    usable = eigenvalue is not None and np.isfinite(eigenvalue) and sigma is not None and np.isfinite(sigma)
    if not usable:
        return {name: None for name in PREDICTIONS}
    settings = {"leaky": (eigenvalue, per_step_noise(eigenvalue, sigma, seq_len), True),
                "leaky_readout": (eigenvalue, sigma, False),
                "perfect": (1.0, per_step_noise(1.0, sigma, seq_len), True),
                "leak_only": (eigenvalue, 0.0, False)}
    return {name: [leaky_accuracy(lam, noise, n, threshold, per_step=step) for n in lengths]
            for name, (lam, noise, step) in settings.items()}


def is_primary(seq_len: int, k2: int, shortest: int) -> bool:
    """The primary comparison (raw p): the shallowest truncation against full BPTT at the shortest
    training length (T = 25; the quick study's only length)."""
    return k2 == 1 and seq_len == shortest


def summarise(runs: list[dict]) -> dict:
    integration = [r for r in runs if r["group"]["task"] == "integration"]
    added = [r for r in runs if r["group"]["task"] == "adding"]
    return adjust({"integration": _integration_rows(integration), "adding": _adding_rows(added)})


def _nan(value) -> float:
    return float("nan") if value is None else float(value)


def _paired(a: dict, b: dict, **options) -> dict | None:
    """`stats.paired`, or None where no seed has a finite value in both (no fixed point found, no prediction)."""
    both = [s for s in a if s in b and np.isfinite(a[s]) and np.isfinite(b[s])]
    return paired(a, b, **options) if both else None


def _present(values) -> dict:
    """`describe` over the finite values; "n" counts all, "missing" those without one (no fixed point
    found, or no prediction). Not `describe_finite`: a missing value here is not an infinite one."""
    values = np.asarray([_nan(v) for v in values], np.float64)
    finite = values[np.isfinite(values)]
    stats = describe(finite) if len(finite) else {"mean": np.nan, "std": np.nan, "ci_low": np.nan, "ci_high": np.nan}
    return {**stats, "n": len(values), "infinite": 0, "missing": int(len(values) - len(finite))}


def _integration_rows(runs: list[dict]) -> list[dict]:
    by_arm = {key: {r["seed"]: (r["metrics"], r["config"]) for r in members}
              for key, members in groups(runs, ("seq_len", "k2")).items()}
    rates = {key: {s: decay_rate(m["trained"]["eigenvalue"]) for s, (m, _) in seeds.items()}
             for key, seeds in by_arm.items()}
    rows, shortest = [], min((seq_len for seq_len, _ in by_arm), default=0)
    for (seq_len, k2), seeds in by_arm.items():
        metrics = [m for m, _ in seeds.values()]
        lengths = metrics[0]["by_length"]["lengths"]
        threshold = next(iter(seeds.values()))[1]["task"]["threshold"]
        predicted = {s: predictions(m["trained"]["eigenvalue"], m["noise_sigma"], lengths, threshold, seq_len)
                     for s, (m, _) in seeds.items()}
        measured = {s: m["by_length"]["accuracy"] for s, (m, _) in seeds.items()}
        eigenvalues = [_nan(m["trained"]["eigenvalue"]) for m in metrics]
        full = rates.get((seq_len, seq_len))
        row = {"seq_len": seq_len, "k2": k2, "seeds": len(seeds),
               "eigenvalue": _present(eigenvalues),
               "decay_rate": _present(list(rates[seq_len, k2].values())),
               "alignment": _present([_nan(m["trained"]["alignment"]) for m in metrics]),
               "mode": _present([_nan(m["trained"]["mode"]) for m in metrics]),
               "readout_vs_sum": _present([_nan(m["trained"]["readout_vs_sum"]) for m in metrics]),
               "slowest_mode": _present([_nan(m["trained"]["slowest_mode"]) for m in metrics]),
               "test_accuracy": describe([m["test_accuracy"] for m in metrics]),
               "noise_sigma": describe_finite([m["noise_sigma"] for m in metrics]),
               "decay_rate_vs_full": None if k2 == seq_len or full is None else _paired(
                   full, rates[seq_len, k2], primary=is_primary(seq_len, k2, shortest)),
               "lengths": lengths,
               "measured": [describe([a[i] for a in measured.values()]) for i in range(len(lengths))]}
        for name in PREDICTIONS:
            mine = {s: p[name] for s, p in predicted.items() if p[name] is not None}
            row[name] = [_present([p[i] for p in mine.values()]) for i in range(len(lengths))]
            # The prediction's error at each length, paired with the model it predicts (TOST: within MARGIN).
            row[f"{name}_error"] = [_paired({s: measured[s][i] for s in mine}, {s: p[i] for s, p in mine.items()},
                                            margin=MARGIN) if name == "leaky" else
                                    _present([p[i] - measured[s][i] for s, p in mine.items()])
                                    for i in range(len(lengths))]
        # Does the leak help? Mean |error| over the lengths, leaky minus perfect, per seed (negative: it helps).
        errors = {name: {s: float(np.mean(np.abs(np.subtract(p[name], measured[s]))))
                         for s, p in predicted.items() if p[name] is not None} for name in ("leaky", "perfect")}
        row["mean_abs_error"] = {name: _present(list(e.values())) for name, e in errors.items()}
        row["leaky_vs_perfect"] = _paired(errors["perfect"], errors["leaky"])
        rows.append(row)
    return sorted(rows, key=lambda r: (r["seq_len"], r["k2"]))


def _adding_rows(runs: list[dict]) -> list[dict]:
    by_init = {init: {r["seed"]: r["metrics"] for r in members} for (init,), members in groups(runs, ("init",)).items()}
    trained = {init: {s: decay_rate(m["trained"]["eigenvalue"]) for s, m in seeds.items()}
               for init, seeds in by_init.items()}
    rows = []
    for init, seeds in by_init.items():
        metrics = list(seeds.values())
        at_init = {s: decay_rate(m["init"]["eigenvalue"]) for s, m in seeds.items()}
        spreads = [m["init"]["keep_time_constants"] for m in metrics if m["init"].get("keep_time_constants")]
        row = {"init": init, "seq_len": runs[0]["group"]["seq_len"], "seeds": len(seeds),
               "test_accuracy": describe([m["test_accuracy"] for m in metrics]),
               "eigenvalue": _present([_nan(m["trained"]["eigenvalue"]) for m in metrics]),
               "decay_rate": _present(list(trained[init].values())),
               "init_eigenvalue": _present([_nan(m["init"]["eigenvalue"]) for m in metrics]),
               "init_decay_rate": _present(list(at_init.values())),
               "alignment": _present([_nan(m["trained"]["alignment"]) for m in metrics]),
               # The units' time constants at init (from the forget biases): their spread, median over seeds.
               "keep_time_constants": {q: float(np.median([np.quantile(t, p) for t in spreads])) if spreads else None
                                       for q, p in (("min", 0), ("median", 0.5), ("max", 1))},
               "within_init_range": _within(metrics),
               "trained_vs_init": _paired(at_init, trained[init]),
               "vs_default": None if init == "default" or "default" not in trained else _paired(
                   trained["default"], trained[init])}
        rows.append(row)
    return rows


def _within(metrics: list[dict]) -> float | None:
    """The share of seeds whose trained τ along the held sum lies within the range of time constants
    its init gave the units (from the forget biases)."""
    inside = []
    for m in metrics:
        spread = m["init"].get("keep_time_constants")
        rate = decay_rate(m["trained"]["eigenvalue"])
        if spread and np.isfinite(rate):
            tau = np.inf if rate <= 0 else 1 / rate
            inside.append(min(spread) <= tau <= max(spread))
    return float(np.mean(inside)) if inside else None


def draw(study: dict, out: Path) -> list[str]:
    from lstmlab.plots import plt

    rows = study["summary"]["integration"]
    lengths_t = sorted({r["seq_len"] for r in rows})
    fig, axes = plt.subplots(1 + len(lengths_t), 1, figsize=(7, 3.4 * (1 + len(lengths_t))), squeeze=False)
    ax = axes[0, 0]
    for seq_len, marker in zip(lengths_t, "os^"):
        line = [r for r in rows if r["seq_len"] == seq_len and np.isfinite(r["decay_rate"]["mean"])]
        ax.errorbar([r["k2"] for r in line], [r["decay_rate"]["mean"] for r in line],
                    yerr=np.nan_to_num(np.abs(np.array([[_nan(r["decay_rate"]["ci_low"]), _nan(r["decay_rate"]["ci_high"])]
                                                        for r in line]).T - [r["decay_rate"]["mean"] for r in line])),
                    marker=marker, capsize=3, label=f"T = {seq_len} (k2 = T: full BPTT)")
    ax.set_xscale("log")
    ax.set_xlabel("truncation depth k2 (log scale)")
    ax.set_ylabel("decay rate −ln|λ| = 1/τ per step")
    ax.set_title("forgetting along the sum: mean and 95% bootstrap interval over seeds", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    for ax, seq_len in zip(axes[1:, 0], lengths_t):
        for row in (r for r in rows if r["seq_len"] == seq_len):
            shown = ax.plot(row["lengths"], [m["mean"] for m in row["measured"]], marker="o", label=f"k2 = {row['k2']}")
            ax.plot(row["lengths"], [_nan(p["mean"]) for p in row["leaky"]], ls="--", color=shown[0].get_color())
        ax.set_xscale("log")
        ax.set_xlabel("test length (log scale)")
        ax.set_ylabel("accuracy")
        ax.set_title(f"T = {seq_len}: measured (solid) and the leaky integrator's prediction (dashed)", fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "timescale.png", dpi=110)
    plt.close(fig)
    return ["timescale.png"]


def render(study: dict, figures: list[str]) -> str:
    summary = study["summary"]
    lines = [
        "# Does the truncation depth set the memory time scale?",
        "",
        f"`lstmlab study timescale{' --quick' if study['quick'] else ''} --seeds {study['seeds']}` "
        f"({len(study['runs'])} runs, {study['seconds'] / 60:.1f} min). λ along the sum: at the model's fixed and "
        "slow points (input 0), the share of a change in the held sum its read-out still sees after T steps of "
        "the linearised dynamics (T: the training length), per step; the median over the points "
        "(`lstmlab/studies/leaky.py`). τ = −1/ln λ. 'single mode': |λ| of the Jacobian's eigenvector closest to "
        "the sum's direction, and 'alignment' that eigenvector's |cos| with it. The table pairs the decay rate "
        "1/τ with full BPTT's by seed.",
        "",
        statistics_note(summary, "; ".join(f"T = {r['seq_len']}, k2 = 1 against full BPTT, decay rate −ln λ"
                                           for r in summary["integration"]
                                           if (r["decay_rate_vs_full"] or {}).get("primary"))),
        "",
        "| T | k2 | λ along the sum | τ (steps) | decay rate 1/τ | single mode | alignment | test accuracy | σ̂ | "
        + " | ".join(TEST_COLUMNS) + " |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|" + "---:|---:|---:|---|",
    ]
    for row in summary["integration"]:
        test = result_cells(row["decay_rate_vs_full"]) if row["decay_rate_vs_full"] else [""] * len(TEST_COLUMNS)
        lines.append(f"| {row['seq_len']} | {row['k2']} | {ci(row['eigenvalue'])} | "
                     f"{time_constant_text(row['eigenvalue']['mean'])} | {ci(row['decay_rate'])} | "
                     f"{ci(row['mode'])} | {ci(row['alignment'], 3)} | {ci(row['test_accuracy'])} | {ci(row['noise_sigma'], 3)} | "
                     f"{' | '.join(test)} |")
    lines += ["", "## The leaky integrator's prediction of accuracy by test length", "",
              "Measured accuracy, then the prediction of the leaky integrator (λ, with per-step noise that builds up "
              "to σ̂ over the training length) and its error paired with the model (a verdict 'the same' means "
              "within the margin); then the same λ with σ̂ as read-out noise, a perfect integrator with the same "
              "per-step noise (λ = 1), and the leak alone (λ, no noise). σ̂ is fitted at the training length, "
              "where it already holds the leak's own errors: there the leaky predictions count them twice and "
              "fall below the model.", "",
              "| T | k2 | test length | measured | leaky | " + " | ".join(TEST_COLUMNS)
              + " | leaky, read-out noise | perfect | leak alone |",
              "|---:|---:|---:|---:|---:|" + "---:|---:|---:|---|" + "---:|---:|---:|"]
    for row in summary["integration"]:
        for i, n in enumerate(row["lengths"]):
            error = row["leaky_error"][i]
            cells = result_cells(error) if error else [""] * len(TEST_COLUMNS)
            lines.append(f"| {row['seq_len']} | {row['k2']} | {n} | {ci(row['measured'][i])} | {ci(row['leaky'][i])} | "
                         f"{' | '.join(cells)} | {ci(row['leaky_readout'][i])} | {ci(row['perfect'][i])} | "
                         f"{ci(row['leak_only'][i])} |")
    lines += ["", "Mean |error| over the test lengths, leaky minus perfect integrator (both with per-step "
              "noise), paired by seed (lower: the leak explains the length curve better than the noise alone):", "",
              "| T | k2 | leaky | perfect | " + " | ".join(TEST_COLUMNS) + " |",
              "|---:|---:|---:|---:|" + "---:|---:|---:|---|"]
    for row in summary["integration"]:
        test = result_cells(row["leaky_vs_perfect"]) if row["leaky_vs_perfect"] else [""] * len(TEST_COLUMNS)
        lines.append(f"| {row['seq_len']} | {row['k2']} | {ci(row['mean_abs_error']['leaky'])} | "
                     f"{ci(row['mean_abs_error']['perfect'])} | {' | '.join(test)} |")
    lines += ["", "## Adding problem: do the init's time scales survive training?", "",
              "| init | T | test accuracy | λ trained | τ trained | λ at init | units' τ at init (min / median / max) "
              "| trained τ within it | trained − init, decay rate [t] | verdict | chrono − default, decay rate [t] "
              "| verdict |",
              "|---|---:|---:|---:|---:|---:|---|---:|---:|---|---:|---|"]
    for row in summary["adding"]:
        spread = row["keep_time_constants"]
        spread_text = " / ".join("–" if v is None else f"{v:.1f}" for v in spread.values())
        blank = [""] * len(TEST_COLUMNS)
        versus = result_cells(row["trained_vs_init"]) if row["trained_vs_init"] else blank
        against = result_cells(row["vs_default"]) if row["vs_default"] else blank
        within = "–" if row["within_init_range"] is None else f"{row['within_init_range']:.0%}"
        lines.append(f"| {row['init']} | {row['seq_len']} | {ci(row['test_accuracy'])} | {ci(row['eigenvalue'])} | "
                     f"{time_constant_text(row['eigenvalue']['mean'])} | {ci(row['init_eigenvalue'])} | {spread_text} | "
                     f"{within} | {versus[0]} | {versus[3]} | {against[0]} | {against[3]} |")
    lines += [""] + [f"![{name}]({name})" for name in figures]
    return "\n".join(lines) + "\n"


STUDY = Study(name="timescale", question="does the truncation depth set the memory time scale (τ along the sum), "
              "and does a leaky integrator with that τ and σ̂ predict accuracy by test length",
              plan=plan, measure=measure, headline=headline, summarise=summarise, draw=draw, render=render)


def time_one_run(task: str, seq_len: int, k2: int, init: str, cache_dir: Path = Path("cache")) -> float:
    """Measure seed 0's run of the full plan with these settings in this process, as a study's worker
    would; prints its headline and returns its seconds (the cost estimate in docs/usage/study.md)."""
    import time

    for group, config in plan(1, quick=False):
        if (group["task"], group["seq_len"], group["k2"], group["init"]) == (task, seq_len, k2, init):
            started = time.perf_counter()
            metrics = measure(config, RunContext(Path(cache_dir).resolve(), quick=False))
            seconds = time.perf_counter() - started
            print(f"{group}: {headline(metrics)} ({seconds:.0f} s)")
            return seconds
    raise ValueError(f"no run of the plan has task {task}, T = {seq_len}, k2 = {k2}, init {init}")


if __name__ == "__main__":  # python -m lstmlab.studies.timescale TASK T K2 INIT
    import sys

    time_one_run(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
