"""The memory study's figure and report.md (`memory.py` runs it, `memory_stats.py` summarises it)."""

from pathlib import Path

from lstmlab.config import RunConfig
from lstmlab.studies.memory import CELLS, COPY_SOLVED, FULL, INITS, PAPER, PARTS, TASKS, TEST_SEQUENCES
from lstmlab.studies.tables import p_text, t_ci

STYLE = {"forget-1": ("C0", "o"), "forget-5": ("C1", "s"), "chrono": ("C2", "^"), "default": ("C3", "D")}


def draw(study: dict, out: Path) -> list[str]:
    """sequences_to_criterion.png: a panel per task (rows) and cell (columns), log-log, a line per init: the
    median over seeds with its order-statistic interval; a hollow marker at the budget where the median is
    not reached; the paper's LSTM in every adding panel."""
    from matplotlib.ticker import FuncFormatter

    from lstmlab.plots import plt

    rows = study["summary"]["rows"]
    fig, axes = plt.subplots(len(TASKS), len(CELLS), figsize=(13, 8), sharex="row", sharey="row",
                             layout="constrained", squeeze=False)
    for i, task in enumerate(TASKS):
        for j, cell in enumerate(CELLS):
            ax = axes[i][j]
            for init in (*INITS, "default"):
                mine = sorted((r for r in rows if (r["task"], r["cell"], r["init"]) == (task, cell, init)),
                              key=lambda r: r["T"])
                if mine:
                    _line(ax, mine, init)
            if task == "adding":
                ax.plot(list(PAPER), list(PAPER.values()), "k*", ms=11, label="the paper's LSTM (mean of 10)")
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))
            ax.xaxis.set_minor_formatter(FuncFormatter(lambda value, _: ""))
            ax.grid(alpha=0.3, which="both")
            ax.set_title(f"{task}: {cell}")
            if not any(r["task"] == task and r["cell"] == cell for r in rows):
                ax.text(0.5, 0.5, "no runs yet", transform=ax.transAxes, ha="center", color="grey")
            if i == len(TASKS) - 1:
                ax.set_xlabel("delay T (steps)")
            if j == 0:
                ax.set_ylabel("training sequences to criterion")
    handles = {}
    for ax in axes.flat:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(label, handle)
    if handles:
        fig.legend(list(handles.values()), list(handles), loc="outside lower center", ncol=4, fontsize=9)
    fig.suptitle("Training sequences to criterion: median over seeds, 95% order-statistic interval "
                 "(hollow: median not reached, drawn at the budget)")
    fig.savefig(out / "sequences_to_criterion.png", dpi=110)
    plt.close(fig)
    return ["sequences_to_criterion.png"]


def _line(ax, rows: list[dict], init: str) -> None:
    colour, marker = STYLE[init]
    reached = [r for r in rows if r["median"] is not None]
    ts = [r["T"] for r in reached]
    medians = [r["median"] for r in reached]
    lows = [m - (r["low"] if r["low"] is not None else m) for r, m in zip(reached, medians)]
    highs = [(r["high"] if r["high"] is not None else r["budget"]) - m for r, m in zip(reached, medians)]
    if reached:
        ax.errorbar(ts, medians, yerr=[lows, highs], color=colour, marker=marker, capsize=3, lw=1.4, label=init)
    missed = [r for r in rows if r["median"] is None]
    if missed:
        ax.plot([r["T"] for r in missed], [r["budget"] for r in missed], marker, mfc="none", mec=colour, ms=9,
                label=f"{init}: median not reached (at the budget)")


def _number(value) -> str:
    return "–" if value is None else f"{value:,.0f}"


def _median_text(row: dict) -> str:
    if row["median"] is None:
        return f"> {row['budget']:,} (not reached)"
    if row["coverage"] is None:
        return f"{row['median']:,.0f}"
    high = "∞" if row["high"] is None else f"{row['high']:,.0f}"
    return f"{row['median']:,.0f} [{_number(row['low'])}, {high}]"


def render(study: dict, figures: list[str]) -> str:
    summary, runs = study["summary"], study["runs"]
    parts = study.get("parts", {})
    missing = [name for name, state in parts.items() if not state["complete"]]
    lines = [
        "# Long memory: training sequences to criterion against the delay T",
        "",
        f"`lstmlab study memory{' --quick' if study['quick'] else ''} --seeds {study['seeds']} --part PART`, part by "
        f"part: {len(runs)} runs, {study['seconds'] / 3600:.2f} CPU-hours of runs on Keras backend "
        f"`{study['environment']['backend']}`.",
        "",
    ]
    if missing:
        lines += ["**Incomplete.** Parts still to run: " + "; ".join(
            f"`{name}` ({parts[name]['finished']} of {_number(parts[name]['planned'])} runs: {parts[name]['what']})"
            for name in missing) + ". Every table below holds only the runs made.", ""]
    lines += _setup(study) + _main_table(summary["rows"]) + [""] + _comparison_table(summary["comparisons"])
    lines += [""] + _search_table(summary["search"]) + [""] + _differences(study)
    lines += [f"![{name}]({name})" for name in figures]
    return "\n".join(lines) + "\n"


def _setup(study: dict) -> list[str]:
    config = RunConfig.from_dict(study["runs"][0]["config"]) if study["runs"] else None
    units = config.units if config else "?"
    return [
        f"One 1-layer model of {units} units per run, Adam, batch 32, trained on a stream of fresh sequences. "
        "Adding problem: the paper's stopping rule (the last 2,000 training sequences all within 0.04, each "
        "scored before its update), then the final weights on 2,560 fresh test sequences, failures "
        "|error| >= 0.04 counted (the paper: never more than 3). Copy task (T blanks between 10 symbols of 8 and "
        f"their recall): stop at the first evaluation where at least {COPY_SOLVED:.0%} of the validation sequences "
        f"have all 10 symbols right; failures on {TEST_SEQUENCES:,} fresh test sequences: any symbol wrong. "
        "A run that does not reach its criterion within its budget counts as unsolved (+∞).",
        "",
        "Parts: " + "; ".join(f"`{p.name}`: {p.what}" for p in PARTS) + ".",
        "",
    ]


def _main_table(rows: list[dict]) -> list[str]:
    lines = ["Sequences to criterion: the median over seeds, an unsolved seed as +∞ (finite only when more than "
             "half solved), with its 95% order-statistic interval (at least 6 seeds; ∞: its upper rank is unsolved).",
             "",
             "| task | T | cell | init | Adam lr | clip | reached | median [95% interval] | min–max reached | "
             "paper (LSTM) | fresh test failures: median (max) | minutes per run |",
             "|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in sorted(rows, key=lambda r: (TASKS.index(r["task"]), r["T"], CELLS.index(r["cell"]))):
        spread = f"{_number(r['min'])}–{_number(r['max'])}" if r["reached"] else "–"
        lines.append(
            f"| {r['task']} | {r['T']:,} | {r['cell']} | {r['init']} | {r['lr']:g} | {r['clip']:g} | "
            f"{r['reached']} of {r['seeds']} | {_median_text(r)} | {spread} | {_number(r['paper'])} | "
            f"{r['test_failures_median']:g} ({r['test_failures_max']}) | {r['seconds'] / 60:.1f} |")
    return lines


def _comparison_table(tests: list[dict]) -> list[str]:
    lines = ["Paired by seed (both arms share the seed's data stream), b − a on log10 of sequences to criterion "
             "capped at the budget (an unsolved run scores the budget; capping only moves a difference towards 0): "
             "mean [95% t-interval], exact sign-flip p, the t-test's p Holm-adjusted over the study's tests (the "
             "primary comparison, chrono against forget bias 1 for the LSTM on the adding problem at T = 100 and "
             "500, judged on its raw p). 'lower': b needs fewer sequences, resolved (both p below 0.05).",
             "",
             "| task | T | a | b | b − a, log10 [95% t-interval] | p (sign-flip) | p (t, Holm) | verdict |",
             "|---|---:|---|---|---:|---:|---:|---|"]
    from lstmlab.sweeps.stats import verdict

    for t in tests:
        holm = f"{p_text(t['p_t'])} primary" if t["primary"] else p_text(t["p_holm"])
        lines.append(f"| {t['task']} | {t['T']:,} | {' '.join(t['a'])} | {' '.join(t['b'])} | {t_ci(t, 3)} | "
                     f"{p_text(t['p'])} | {holm} | {verdict(t)} |")
    return lines


def _search_table(rows: list[dict]) -> list[str]:
    lines = ["The search (its own seeds; the setting chosen per task, cell and init: most seeds reached, then the "
             "lowest median, then the lowest mean final validation loss):", "",
             "| task | T | cell | init | Adam lr | clip | reached | median | final val loss | chosen |",
             "|---|---:|---|---|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        loss = "–" if r["val_loss"] is None else f"{r['val_loss']:.4g}"
        lines.append(f"| {r['task']} | {r['T']:,} | {r['cell']} | {r['init']} | {r['lr']:g} | {r['clip']:g} | "
                     f"{r['reached']} of {r['seeds']} | {_number(r['median'])} | {loss} | "
                     f"{'yes' if r['chosen'] else ''} |")
    return lines


def _differences(study: dict) -> list[str]:
    """Every difference from Hochreiter & Schmidhuber's setup for the adding problem."""
    budgets = ", ".join(f"T = {t:,}: {e * FULL['epoch']:,}" for t, e in FULL["budget_epochs"]["adding"].items())
    return [
        "Where this differs from the paper (Hochreiter & Schmidhuber 1997, experiment 4, Table 7):",
        "",
        "- Cell: an LSTM with a forget gate (Gers et al. 2000), initialised as each arm says; the paper's had none "
        "(its state kept a value by construction) and used input and output gates with its own bias initialisation.",
        "- Optimiser: Adam on mini-batches of 32 at the searched learning rate, with global-norm clipping where the "
        "search chose it; the paper trained online (one update per sequence) with its own learning rate. "
        "'Sequences' counts sequences, not updates: one update per 32 here.",
        "- Model: 25 units, far more weights than the paper's small LSTM.",
        "- Data: a fresh batch of sequences per update, as the paper drew a fresh sequence; every sequence has exactly "
        "T steps, where the paper drew lengths between T and T + T/10.",
        "- Criterion: the paper's rule, checked at the end of every batch rather than after every sequence (a batch "
        "shares its weights), on each sequence's error before its batch's update; then a fresh test of 2,560 "
        "sequences as the paper's, its failures reported beside.",
        f"- Budget: a run stops at its criterion or after a budget of sequences ({budgets}); the paper reports "
        "means over 10 trials that all succeeded, this study medians with unsolved runs counted.",
        "- Seeds: 10 (or --seeds) up to T = 500 and 3 at T >= 1,000; the paper, 10 trials per T.",
        "",
    ]
