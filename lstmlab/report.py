"""report.md from a run record: a table of the models and the figure."""

from lstmlab import tasks
from lstmlab.config import TaskConfig


def render_report(results: dict, figure_name: str = "curves.png") -> str:
    config = results["config"]
    task, train = config["task"], config["train"]
    truncation = _truncation(train, task["seq_len"])
    lines = [
        "# lstmlab run",
        "",
        f"Task: {tasks.of(TaskConfig.from_dict(task)).describe()}; {task['n_train']:,} / {task['n_val']:,} / "
        f"{task['n_test']:,} samples (train / validation / test), data seed {task['seed']}.",
        f"Training: Adam (lr {train['learning_rate']:g}), batch {train['batch_size']}, {train['epochs']} epochs, "
        f"{truncation}, seed {train['init_seed']}; Keras backend `{results['environment']['backend']}`.",
        "",
        "| model | parameters | test accuracy | test loss | final train loss | final val loss | "
        "final val accuracy | training time (s) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for m in results["models"]:
        last = m["history"][-1]
        lines.append(
            f"| {m['name']} | {m['parameters']:,} | {m['test_accuracy']:.4f} | {m['test_loss']:.4f} | "
            f"{last['train_loss']:.4f} | {last['val_loss']:.4f} | {last['val_accuracy']:.4f} | {m['train_seconds']:.1f} |"
        )
    for baseline in results["baselines"]:
        loss = "" if baseline["loss"] is None else f"{baseline['loss']:.4f}"
        lines.append(f"| {baseline['name']} (baseline) | 0 | {baseline['accuracy']:.4f} | {loss} | | | | |")
    stopped = [m for m in results["models"] if "paper_test" in m]
    if stopped:
        lines += ["", "The paper's stopping rule (`--stop paper`) and its test on fresh sequences:", ""]
        lines += [f"- {m['name']}: {paper_summary(m)}" for m in stopped]
    lines += [
        "",
        f"Wall time of the whole run: {results['wall_seconds']:.1f} s.",
        "",
        f"![training curves]({figure_name})",
        "",
    ]
    return "\n".join(lines)


def _truncation(train: dict, seq_len: int) -> str:
    """How the run backpropagated, in words (core/tbptt.py); configs older than the schemes are chunked."""
    k, every, scheme = train["tbptt"], train.get("tbptt_every", 0), train.get("tbptt_scheme", "chunked")
    if not 0 < k < seq_len and not 0 < every < seq_len:
        return "full BPTT"
    if scheme == "chunked":
        return f"truncated BPTT in chunks of {k} steps"
    depth = k if 0 < k < seq_len else seq_len
    if scheme == "williams-peng":
        return (f"Williams & Peng's BPTT(h = {depth}; h' = {every or depth}): every h' steps their losses "
                f"backpropagated together to one cut {depth} steps back")
    return f"TBPTT(k1 = {every or depth}, k2 = {depth}): each loss truncated to its own last {depth} steps"


def paper_summary(record: dict) -> str:
    """A model record's line on the paper's stopping rule and its test (`--stop paper`)."""
    seen, test = record["sequences_to_criterion"], record["paper_test"]
    reached = f"criterion after {seen:,} training sequences" if seen is not None else "criterion not reached"
    return (f"{reached}; {test['test_failures']} of {test['test_sequences']:,} fresh test sequences off by >= 0.04 "
            f"(largest error {test['test_max_error']:.4f})")


def render_dynamics(analyses: dict) -> str:
    """The report's section on what the networks compute: one row per model `lstmlab analyze` analysed.

    `analyses`: {model name: its analysis.json record}; "" when there is none.
    """
    if not analyses:
        return ""
    lines = [
        "## Dynamics (`lstmlab analyze`)",
        "",
        "Fixed points (q = ½‖F(s) − s‖² zero to float32 precision) and slow points of each model's state "
        "map with the input held constant, from states along its test trajectories.",
        "",
        "| model | input | starts | fixed | slow | stable | slowest mode: median \\|λ\\| (τ, steps) | "
        "variance on the first axis | \\|λ\\| along it | sum direction vs axis | time (s) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, record in analyses.items():
        slowest, line = record.get("slowest_mode"), record["line_attractor"]
        mode = "" if slowest is None else (f"{slowest['median_abs_eigenvalue']:.4f} "
                                           f"({_steps(slowest['median_time_constant'])})")
        share = line.get("variance_on_first_axis")
        along = line.get("eigenvalue_along_axis")
        direction = line.get("sum_direction_vs_axis")
        lines.append(
            f"| {name} | {', '.join(f'{v:g}' for v in record['input'])} | {record['starts']:,} | {record['fixed']} | "
            f"{record['slow_points']} | {record['stable']} | {mode} | {'' if share is None else f'{share:.3f}'} | "
            f"{'' if along is None else f'{along:.4f}'} | {'' if direction is None else f'{direction:.3f}'} | "
            f"{record['seconds']:.1f} |")
    lines.append("")
    for name, record in analyses.items():
        lines += [f"![{name}: trajectories and fixed points](models/{name}/dynamics.png)",
                  f"![{name}: eigenvalues](models/{name}/spectra.png)", ""]
    return "\n".join(lines)


def _steps(tau) -> str:
    return "∞" if tau is None else f"{tau:.1f}"
