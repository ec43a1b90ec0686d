"""Figures from run records (plain dicts loaded from results.json); no training code here."""

import matplotlib

matplotlib.use("Agg")  # headless: runs on servers and in CI
import matplotlib.pyplot as plt  # noqa: E402

from lstmlab.config import TaskConfig  # noqa: E402
from lstmlab.objective import loss_name  # noqa: E402


def plot_curves(results: dict, path) -> None:
    """The seed's figure, per model: train/validation loss and validation accuracy against epoch."""
    models = results["models"]
    task = TaskConfig(**results["config"]["task"])
    fig, axes = plt.subplots(2, len(models), figsize=(5 * len(models), 7), squeeze=False, sharex="col")
    for column, model in enumerate(models):
        epochs = [h["epoch"] for h in model["history"]]
        loss_ax, acc_ax = axes[0, column], axes[1, column]
        loss_ax.plot(epochs, [h["train_loss"] for h in model["history"]], "o-", label="train loss")
        loss_ax.plot(epochs, [h["val_loss"] for h in model["history"]], "s--", label="validation loss")
        loss_ax.set_ylabel(loss_name(task))
        loss_ax.set_title(f"{model['name']}: test accuracy {model['test_accuracy']:.4f}")
        loss_ax.legend()
        acc_ax.plot(epochs, [h["val_accuracy"] for h in model["history"]], "o-", color="tab:green")
        acc_ax.axhline(results["baselines"]["majority_class_accuracy"], color="grey", ls=":", label="majority class")
        acc_ax.set_ylabel("validation accuracy")
        acc_ax.set_xlabel("epoch (0 = before training)")
        acc_ax.set_xticks(epochs)
        acc_ax.legend(loc="lower right")
        for ax in (loss_ax, acc_ax):
            ax.grid(alpha=0.3)
    fig.suptitle(f"Integration task: sum of {task.seq_len} N(0,1) numbers > {task.threshold:g}?")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
