"""Figures from run records (plain dicts loaded from results.json); no training code here."""

import matplotlib

matplotlib.use("Agg")  # headless: runs on servers and in CI
import matplotlib.pyplot as plt  # noqa: E402

from lstmlab import tasks  # noqa: E402
from lstmlab.config import TaskConfig  # noqa: E402


def plot_curves(results: dict, path) -> None:
    """The seed's figure, per model: train/validation loss and validation accuracy against epoch."""
    models = results["models"]
    task = tasks.of(TaskConfig(**results["config"]["task"]))
    fig, axes = plt.subplots(2, len(models), figsize=(5 * len(models), 7), squeeze=False, sharex="col")
    for column, model in enumerate(models):
        epochs = [h["epoch"] for h in model["history"]]
        loss_ax, acc_ax = axes[0, column], axes[1, column]
        loss_ax.plot(epochs, [h["train_loss"] for h in model["history"]], "o-", label="train loss")
        loss_ax.plot(epochs, [h["val_loss"] for h in model["history"]], "s--", label="validation loss")
        loss_ax.set_ylabel(task.objective.loss_name)
        loss_ax.set_title(f"{model['name']}: test accuracy {model['test_accuracy']:.4f}")
        loss_ax.legend()
        acc_ax.plot(epochs, [h["val_accuracy"] for h in model["history"]], "o-", color="tab:green")
        for baseline, style in zip(results["baselines"], (":", "-.")):
            acc_ax.axhline(baseline["accuracy"], color="grey", ls=style, label=f"{baseline['name']} (test)")
        acc_ax.set_ylabel("validation accuracy")
        acc_ax.set_xlabel("epoch (0 = before training)")
        acc_ax.set_xticks(epochs)
        acc_ax.legend(loc="lower right")
        for ax in (loss_ax, acc_ax):
            ax.grid(alpha=0.3)
    fig.suptitle(_wrap(task.describe()))
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _wrap(text: str, width: int = 110) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width))
