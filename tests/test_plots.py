import json
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest

from lstmlab.plots import curves_figure, plot_curves, plt

from sample_results import sample_results

DOCS = Path(__file__).resolve().parents[1] / "docs" / "studies"


def with_step_losses(results: dict, per_epoch: int = 5) -> dict:
    for model in results["models"]:
        epochs = len(model["history"]) - 1  # epoch 0 is the untrained model
        model["step_losses"] = [0.8 / (1 + i) for i in range(epochs * per_epoch)]
    return results


def six_models() -> dict:
    results = sample_results()
    one, two = results["models"]
    results["models"] = [dict(model, name=f"{cell}-{model['layers']}layer", cell=cell,
                              test_accuracy=model["test_accuracy"] - 0.1 * i)
                         for i, cell in enumerate(("lstm", "gru", "rnn")) for model in (one, two)]
    return with_step_losses(results)


@pytest.fixture
def figures(monkeypatch):
    """The figures a draw function makes, kept open (not closed) to be inspected."""
    kept = []
    monkeypatch.setattr(plt, "close", kept.append)
    yield kept
    monkeypatch.undo()
    for fig in kept:
        plt.close(fig)


def loss_axes(fig):
    return [ax for ax in fig.axes if "loss" in " ".join(line.get_label() for line in ax.get_lines())]


def by_ylabel(fig, word):
    return [ax for ax in fig.axes if word in ax.get_ylabel()]


def assert_every_line_is_in_its_legend(ax):
    legend = ax.get_legend()
    entries = {text.get_text() for text in legend.get_texts()} if legend else set()
    for line in ax.get_lines():
        assert not line.get_label().startswith("_"), f"an unlabelled line in {ax.get_title()!r}"
        assert line.get_label() in entries, f"{line.get_label()!r} missing from the legend of {ax.get_title()!r}"


def test_curves_are_written_as_a_png(tmp_path):
    path = tmp_path / "curves.png"
    plot_curves(with_step_losses(sample_results()), path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    height, width = matplotlib.image.imread(path).shape[:2]
    assert width > height


@pytest.mark.parametrize("results", [sample_results(), with_step_losses(sample_results()), six_models()],
                         ids=["2 models", "2 models, step losses", "6 models"])
def test_curves_share_y_axes_and_label_every_line(results):
    fig = curves_figure(results)
    try:
        losses = loss_axes(fig)
        assert len(losses) == len(results["models"])
        assert len({ax.get_ylim() for ax in losses}) == 1  # one loss scale for every model
        (val_ax,), (test_ax,) = by_ylabel(fig, "validation accuracy"), by_ylabel(fig, "test accuracy")
        assert val_ax.get_ylim() == test_ax.get_ylim()
        assert len(val_ax.get_lines()) == len(results["models"])  # every model overlaid
        for ax in (*losses, val_ax, test_ax):
            assert_every_line_is_in_its_legend(ax)
        assert "integration task" in fig.get_suptitle()
    finally:
        plt.close(fig)


def test_the_test_baselines_are_drawn_only_with_the_test_accuracy():
    results = sample_results()
    fig = curves_figure(results)
    try:
        baseline = results["baselines"][0]
        (test_ax,) = by_ylabel(fig, "test accuracy")
        drawn = [line for ax in fig.axes for line in ax.get_lines() if baseline["name"] in line.get_label()]
        assert len(drawn) == 1 and drawn[0].axes is test_ax
        assert set(drawn[0].get_ydata()) == {baseline["accuracy"]}
        assert test_ax.get_title().lower().startswith("test")
    finally:
        plt.close(fig)


def test_the_loss_of_every_step_is_drawn_at_its_fractional_epoch():
    results = with_step_losses(sample_results(), per_epoch=5)  # 3 trained epochs: 15 steps
    fig = curves_figure(results)
    try:
        for ax, model in zip(loss_axes(fig), results["models"]):
            (steps,) = [line for line in ax.get_lines() if "each step" in line.get_label()]
            assert list(steps.get_ydata()) == model["step_losses"]
            np.testing.assert_allclose(steps.get_xdata(), np.arange(1, 16) / 5)  # epoch e's steps in (e - 1, e]
            assert steps.get_alpha() < 1 and steps.get_linewidth() < 1
            assert steps.zorder <= min(line.zorder for line in ax.get_lines())
            assert ax.get_lines().index(steps) == 0  # drawn first: under the epoch lines
    finally:
        plt.close(fig)
    fig = curves_figure(sample_results())  # records without step losses
    try:
        assert not any("each step" in line.get_label() for ax in fig.axes for line in ax.get_lines())
    finally:
        plt.close(fig)


def test_tbptt_figures_draw_each_arm_against_full_bptt_in_small_multiples(tmp_path, figures):
    from lstmlab.studies import tbptt

    study = json.loads((DOCS / "tbptt" / "study.json").read_text())
    assert tbptt.draw(study, tmp_path) == ["accuracy.png", "noise.png", "cost.png"]
    assert all((tmp_path / name).stat().st_size > 10_000 for name in ("accuracy.png", "noise.png", "cost.png"))
    rows = study["summary"]
    panels = sorted({(r["seq_len"], r["target"]) for r in rows})
    accuracy, noise, cost = figures
    columns = len(tbptt.BUDGETS) + 1  # a column per budget, then full BPTT's convergence checks
    assert len(accuracy.axes) == len(noise.axes) == len(panels) * columns
    lengths = sorted({r["seq_len"] for r in rows})
    assert len(cost.axes) == 2 * len(lengths)
    drawn_points, resolved_points = 0, 0
    for i, (seq_len, target) in enumerate(panels):
        for j, (times, schedule) in enumerate(tbptt.BUDGETS):
            ax = accuracy.axes[i * columns + j]
            arms = [r for r in rows if not tbptt._is_full(r)
                    and (r["seq_len"], r["target"], r["times"], r["lr_schedule"]) == (seq_len, target, times, schedule)]
            if not arms:
                assert not ax.axison  # an empty panel is switched off
                continue
            points = {(x, round(y, 9)) for c in ax.containers for x, y in zip(*c.lines[0].get_data())}
            assert points == {(r["k2"], round(100 * r["test_accuracy_vs_full"]["mean"], 9)) for r in arms}  # in points
            from matplotlib.collections import PathCollection  # the filled markers; bars are LineCollections

            filled = sum(len(c.get_offsets()) for c in ax.collections if isinstance(c, PathCollection))
            resolved_points += sum(r["test_accuracy_vs_full"]["resolved"] for r in arms)
            drawn_points += filled
            assert any(list(line.get_ydata()) == [0, 0] for line in ax.get_lines())  # the zero line
            assert ax.patches  # the shaded equivalence margin
        checks = [r for r in rows if (r["seq_len"], r["target"]) == (seq_len, target) and tbptt._is_full(r)
                  and r["test_accuracy_vs_full"]]
        ax = accuracy.axes[i * columns + columns - 1]
        assert len(ax.containers[0].lines[0].get_xdata()) == len(checks) > 0
    assert drawn_points == resolved_points > 0  # a filled marker for each resolved difference, and only those


def test_accuracy_by_distance_is_points_for_each_arm_at_its_best_rate(tmp_path, figures):
    from lstmlab.studies import objective

    study = json.loads((DOCS / "objective" / "study.json").read_text())
    assert "accuracy_by_distance.png" in objective.draw(study, tmp_path)
    (ax,) = next(fig for fig in figures if "Where the errors are" in fig.axes[0].get_title()).axes
    assert not ax.patches  # no bars
    best = [row for row in study["summary"]["arms"]
            if study["summary"]["best"][f"{row['objective']} {row['target']}"] == row["learning_rate"]]
    assert len(ax.get_lines()) == len(best) == 6
    low, high = ax.get_ylim()
    assert all(low < m < high for row in best for m in row["by_distance_mean"])
    assert "not from 0" in ax.get_ylabel()


def test_adding_figure_labels_its_lines_and_keeps_zero_wrong_in_view(tmp_path, figures):
    from lstmlab.studies import adding

    runs = []
    for i, (group, config) in enumerate(adding.plan(seeds=2, quick=True)):
        reached = i % 2 == 0
        curve = {"sequences": [0, 800, 1600], "solved": [0.1, 0.6, 1.0 if reached else 0.7],
                 "wrong": [230, 100, 0 if reached else 77], "mse": [0.04, 0.01, 0.001]}
        metrics = {"curve": curve, "sequences_to_criterion": 1600 if reached else None, "baseline_solved": 0.08}
        runs.append({"group": group, "seed": config.train.init_seed, "config": config.to_dict(), "metrics": metrics})
    assert adding.draw({"runs": runs}, tmp_path) == ["learning_curves.png"]
    (fig,) = figures
    solved_ax, wrong_ax = fig.axes
    (legend,) = fig.legends
    entries = {text.get_text() for text in legend.get_texts()}
    for ax in (solved_ax, wrong_ax):
        assert ax.get_xlabel() and ax.get_ylabel()
        assert {line.get_label() for line in ax.get_lines() if not line.get_label().startswith("_")} == entries
        assert ax.get_ylim()[0] < 0  # the criterion (0 wrong at this test size) and solved 0 are not on the frame
    assert "criterion met: the run stops" in entries
    assert all(f"{cell} (one line per seed)" in entries for cell in adding.CELLS)
    assert wrong_ax.get_ylim()[1] > 256 and solved_ax.get_ylim()[1] > 1
