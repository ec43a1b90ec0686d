"""Figures from run records (plain dicts loaded from results.json); no training code here."""

import math

import matplotlib

matplotlib.use("Agg")  # headless: runs on servers and in CI
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import LogFormatter, MaxNLocator  # noqa: E402

from lstmlab import tasks  # noqa: E402
from lstmlab.config import TaskConfig  # noqa: E402

MAX_LOSS_COLUMNS = 3  # loss panels per row: 1-3 models in one row, 4-6 in two


def plot_curves(results: dict, path) -> None:
    """Write `curves_figure(results)` to `path`."""
    fig = curves_figure(results)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def curves_figure(results: dict):
    """The run's figure (the caller closes it).

    Top: one loss panel per model, all on one y-axis (train loss of every step when the record has
    `step_losses`, the epoch's mean train loss, validation loss). Bottom: the validation accuracy of
    every model against epoch, and beside it, on the same y-axis, each model's test accuracy with
    the task's trivial baselines, which are scored on the test split too.
    """
    models, baselines = results["models"], results["baselines"]
    task = tasks.of(TaskConfig.from_dict(results["config"]["task"]))
    colours = {model["name"]: f"C{i % 10}" for i, model in enumerate(models)}
    loss_rows = math.ceil(len(models) / MAX_LOSS_COLUMNS)
    loss_columns = math.ceil(len(models) / loss_rows)
    fig = plt.figure(figsize=(13, 3.3 * loss_rows + 4.4), layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=[3.3 * loss_rows, 4.0])

    loss_axes = []
    grid = top.add_gridspec(loss_rows, loss_columns)
    for i, model in enumerate(models):
        row, column = divmod(i, loss_columns)
        share = loss_axes[0] if loss_axes else None
        ax = top.add_subplot(grid[row, column], sharex=share, sharey=share)
        loss_axes.append(ax)
        _draw_losses(ax, model, colours[model["name"]])
        ax.set_title(f"{model['name']} ({model['parameters']:,} parameters)", color=colours[model["name"]])
        if column == 0:
            ax.set_ylabel(task.objective.loss_name)
        else:
            ax.tick_params(labelleft=False)
        ax.set_xlabel("epoch")
        ax.legend(fontsize=8, loc="upper right")
    if all(v > 0 and math.isfinite(v) for model in models for v in _losses(model)):
        loss_axes[0].set_yscale("log")  # losses fall by orders of magnitude; on a linear axis later epochs merge
        loss_axes[0].yaxis.set_major_formatter(_PlainLogFormatter())  # 0.1, not 10^-1
        loss_axes[0].yaxis.set_minor_formatter(_PlainLogFormatter(labelOnlyBase=False))

    val_ax, test_ax = bottom.subplots(1, 2, sharey=True, width_ratios=[2, 1])
    for model in models:
        epochs = [h["epoch"] for h in model["history"]]
        val_ax.plot(epochs, [h["val_accuracy"] for h in model["history"]], "o-", color=colours[model["name"]],
                    label=model["name"])
    val_ax.set_xlabel("epoch (0 = before training)")
    val_ax.set_ylabel("validation accuracy")
    val_ax.set_title("Validation accuracy")
    val_ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    val_ax.legend(fontsize=8, loc="lower right", title="model", title_fontsize=8)

    for i, model in enumerate(models):
        test_ax.plot([i], [model["test_accuracy"]], "D", markersize=8, color=colours[model["name"]],
                     label=f"{model['name']}: {model['test_accuracy']:.4f}")
    for baseline, style in zip(baselines, (":", "-.", "--", (0, (1, 3)))):
        test_ax.axhline(baseline["accuracy"], color="grey", ls=style,
                        label=f"{baseline['name']} baseline: {baseline['accuracy']:.4f}")
    test_ax.set_xticks(range(len(models)), [model["name"] for model in models],
                       rotation=30 if len(models) > 2 else 0, ha="right" if len(models) > 2 else "center")
    test_ax.set_xlim(-0.6, len(models) - 0.4)
    test_ax.set_ylabel("test accuracy")
    test_ax.tick_params(labelleft=True)
    test_ax.set_title("Test split: models and baselines")
    test_ax.legend(fontsize=8, loc="best")

    for ax in (*loss_axes, val_ax, test_ax):
        ax.grid(alpha=0.3)
    fig.suptitle(_wrap(task.describe()))
    return fig


def _draw_losses(ax, model: dict, colour: str) -> None:
    """One model's losses against (fractional) epoch: every train step's when the record has them,
    the epoch's mean train loss and the validation loss."""
    history = model["history"]
    epochs = [h["epoch"] for h in history]
    step_losses = model.get("step_losses") or []
    trained_epochs = sum(1 for e in epochs if e > 0)
    if step_losses and trained_epochs:
        per_epoch = len(step_losses) / trained_epochs  # epoch e's steps lie in (e - 1, e]
        ax.plot([(i + 1) / per_epoch for i in range(len(step_losses))], step_losses, "-", color=colour, lw=0.6,
                alpha=0.35, label="train loss, each step")
    ax.plot(epochs, [h["train_loss"] for h in history], "o-", color=colour, label="train loss, epoch mean")
    ax.plot(epochs, [h["val_loss"] for h in history], "s--", color="k", alpha=0.75, label="validation loss")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


class _PlainLogFormatter(LogFormatter):
    """Labels the ticks a log axis labels, as plain numbers (0.3, not 3e-01 or 3 x 10^-1)."""

    def __call__(self, x, pos=None):
        return f"{x:g}" if super().__call__(x, pos) else ""


def _losses(model: dict) -> list:
    history = model["history"]
    return [h["train_loss"] for h in history] + [h["val_loss"] for h in history] + list(model.get("step_losses") or [])


def _wrap(text: str, width: int = 110) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width))
