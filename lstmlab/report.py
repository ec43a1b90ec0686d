"""report.md from a run record: a table of the models and the figure."""

from lstmlab.config import TaskConfig
from lstmlab.objective import loss_name


def render_report(results: dict, figure_name: str = "curves.png") -> str:
    config = results["config"]
    task, train = config["task"], config["train"]
    target = "a target at every step (the running sum)" if task["target"] == "per-step" else "the target on the last step"
    truncation = f"truncated BPTT in chunks of {train['tbptt']} steps" if 0 < train["tbptt"] < task["seq_len"] else "full BPTT"
    lines = [
        "# lstmlab run",
        "",
        f"Integration task: {task['seq_len']} numbers from N(0, 1), label 1 when the sum is > {task['threshold']:g}; "
        f"{task['n_train']:,} / {task['n_val']:,} / {task['n_test']:,} samples (train / validation / test), "
        f"data seed {task['seed']}.",
        f"Objective: {task['objective']} ({loss_name(TaskConfig(**task))}) on {target}; accuracy asks whether the "
        f"whole sequence's sum is > {task['threshold']:g}.",
        f"Training: Adam (lr {train['learning_rate']:g}), batch {train['batch_size']}, {train['epochs']} epochs, "
        f"{truncation}, seed {train['seed']}; Keras backend `{results['environment']['backend']}`.",
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
    majority = results["baselines"]["majority_class_accuracy"]
    lines += [
        f"| majority class (baseline) | 0 | {majority:.4f} | | | | | |",
        "",
        f"Wall time of the whole run: {results['wall_seconds']:.1f} s.",
        "",
        f"![training curves]({figure_name})",
        "",
    ]
    return "\n".join(lines)
