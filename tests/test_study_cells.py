"""The cells study: its plan pairs the cells by seed, its gradient profile matches independent
derivatives, its summary and report word the paired comparisons by their intervals, and the quick
study runs end to end."""

import json

import numpy as np
import pytest

from lstmlab import tasks
from lstmlab.config import ModelConfig, TaskConfig, TrainConfig
from lstmlab.core.model import build_model
from lstmlab.core.train import Trainer
from lstmlab.studies.cells import CELLS, SEQ_LENS, draw, input_gradient_profile, plan, render, summarise


def test_plan_crosses_cells_lengths_and_seeds_on_shared_data():
    runs = plan(seeds=3, quick=False)
    assert len(runs) == 3 * 4 * 3
    assert {(g["cell"], g["seq_len"]) for g, _ in runs} == {(c, t) for c in CELLS for t in SEQ_LENS}
    for group, config in runs:
        assert config.cells == (group["cell"],) and config.layers == (1,) and config.units == 25
        assert config.task.seq_len == group["seq_len"] and config.task.target == "final"
        assert (config.task.n_train, config.task.n_val, config.task.n_test) == (64_000, 4_000, 16_000)
        assert config.train == TrainConfig(init_seed=config.train.init_seed)  # Adam 1e-3, batch 32, 3 epochs
        assert config.task.seed == config.train.init_seed
    tasks_by_cell = {}
    for group, config in runs:  # same (length, seed) -> the very same task config, whatever the cell
        tasks_by_cell.setdefault((group["seq_len"], config.train.init_seed), set()).add(config.task)
    assert all(len(configs) == 1 for configs in tasks_by_cell.values()) and len(tasks_by_cell) == 4 * 3


def _trainer(cell: str, units: int = 4, seq_len: int = 8, seed: int = 1) -> Trainer:
    task = tasks.of(TaskConfig(seq_len=seq_len))
    return Trainer(build_model(ModelConfig(cell, 1, units), seed=seed, task=task), TrainConfig(), task)


def _batch(trainer: Trainer, n: int = 3, seed: int = 0):
    x = np.random.default_rng(seed).standard_normal((n, trainer.task.config.seq_len)).astype(np.float32)
    return x, trainer.task.targets_of(x)


def test_simple_rnn_profile_matches_a_float64_finite_difference():
    trainer = _trainer("rnn")
    x, y = _batch(trainer)
    cell, readout = trainer.model.rnns[0].cell, trainer.model.readout
    kernel, recurrent, bias = (np.asarray(v, np.float64) for v in (cell.kernel, cell.recurrent_kernel, cell.bias))
    v, c = np.asarray(readout.kernel, np.float64)[:, 0], float(np.asarray(readout.bias)[0])

    def loss(sequence, label):  # an independent float64 forward pass: Elman cell, sigmoid read-out, BCE
        h = np.zeros(len(bias))
        for x_t in sequence:
            h = np.tanh(x_t * kernel[0] + bias + h @ recurrent)
        p = 1 / (1 + np.exp(-(h @ v + c)))
        return -(label * np.log(p) + (1 - label) * np.log(1 - p))

    eps, seq_len = 1e-5, x.shape[1]
    logs = np.zeros((len(x), seq_len))
    for i in range(len(x)):
        for t in range(seq_len):
            up, down = x[i].astype(np.float64), x[i].astype(np.float64)
            up[t] += eps
            down[t] -= eps
            logs[i, t] = np.log10(abs(loss(up, y[i]) - loss(down, y[i])) / (2 * eps))
    expected = logs.mean(axis=0)[::-1]  # index T - 1 - t
    np.testing.assert_allclose(input_gradient_profile(trainer, x, y), expected, atol=2e-4)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_profile_matches_the_jacobian_of_per_sequence_losses(cell):
    import jax
    from keras import ops

    trainer = _trainer(cell)
    x, y = _batch(trainer)
    model = trainer.model
    trainable = [v.value for v in model.trainable_variables]
    non_trainable = [v.value for v in model.non_trainable_variables]

    def losses(inputs):  # (B,) every sequence's own loss, taken without the task's batch mean
        p = model.stateless_call(trainable, non_trainable, inputs)[0]
        return ops.binary_crossentropy(y, p)

    jacobian = np.asarray(jax.jacobian(losses)(x[:, :, None]), np.float64)[..., 0]  # (B, B, T)
    own = jacobian[np.arange(len(x)), np.arange(len(x))]  # (B, T): ∂L_i/∂x_{i,t}
    others = jacobian.copy()
    others[np.arange(len(x)), np.arange(len(x))] = 0
    assert np.all(others == 0)  # a loss never depends on another sequence: summing the losses is safe
    expected = np.log10(np.abs(own)).mean(axis=0)[::-1]
    np.testing.assert_allclose(input_gradient_profile(trainer, x, y), expected, atol=1e-5)


def test_simple_rnn_with_tiny_recurrent_weights_forgets_geometrically():
    trainer = _trainer("rnn")
    recurrent = trainer.model.rnns[0].cell.recurrent_kernel
    recurrent.assign(np.asarray(recurrent) * 0.05)
    trainer.load_from_model()
    profile = input_gradient_profile(trainer, *_batch(trainer))
    assert np.all(np.diff(profile) < -0.5)  # at least a factor 3 per step further from the loss
    assert profile[0] - profile[-1] > 5


def _synthetic_study(seeds: int = 3) -> dict:
    runs, rng = [], np.random.default_rng(0)
    accuracy = {"lstm": 0.95, "gru": 0.96, "rnn": 0.80}
    for cell in CELLS:
        for seq_len in (6, 12):
            for seed in range(seeds):
                acc = accuracy[cell] - 0.01 * seq_len / 6 + 0.001 * seed + (0.0005 * rng.standard_normal())
                gradient = (-2 - (0.3 if cell == "rnn" else 0.02) * np.arange(seq_len)).tolist()
                runs.append({"group": {"cell": cell, "seq_len": seq_len}, "seed": seed, "seconds": 1.0,
                             "config": {"units": 25, "task": {"threshold": 1.0, "n_train": 640, "n_val": 256,
                                                              "n_test": 256}, "train": {"epochs": 2, "batch_size": 32,
                                                                                         "learning_rate": 1e-3}},
                             "metrics": {"test_accuracy": acc, "test_loss": 0.2, "majority_accuracy": 0.55,
                                         "noise_sigma": float("inf") if cell == "rnn" and seed == 0 else 0.3,
                                         "val_accuracy": [0.5, acc - (0.01 if cell == "rnn" else 0.001), acc],
                                         "gradient_init": gradient, "gradient_trained": [g + 1 for g in gradient]}})
    return {"study": "cells", "seeds": seeds, "quick": True, "runs": runs, "environment": {"backend": "jax"},
            "seconds": 36.0}


def test_summary_pairs_by_seed_and_the_report_words_claims_by_their_intervals(tmp_path):
    study = _synthetic_study(seeds=6)  # 2 / 2^6 = 0.031: the fewest seeds whose sign-flip p can clear 0.05 well
    study["summary"] = summarise(study["runs"])
    arms = [r for r in study["summary"] if r["kind"] == "arm"]
    differences = {(r["seq_len"], r["cell"]): r["test_accuracy"] for r in study["summary"] if r["kind"] == "difference"}
    assert len(arms) == 6 and set(differences) == {(t, c) for t in (6, 12) for c in ("gru", "rnn")}
    assert differences[6, "gru"]["mean"] == pytest.approx(0.01, abs=0.002) and differences[6, "gru"]["n"] == 6
    assert differences[6, "rnn"]["t_high"] < 0 and differences[6, "rnn"]["resolved"]
    assert differences[12, "rnn"]["primary"] and not differences[6, "rnn"]["primary"]  # the longest length
    rnn6 = next(r for r in arms if r["cell"] == "rnn" and r["seq_len"] == 6)
    assert rnn6["noise_sigma"]["infinite"] == 1 and rnn6["noise_sigma"]["mean"] == pytest.approx(0.3)
    assert rnn6["last_gain"]["mean"] > 0.005 and len(rnn6["gradient_init"]) == 6


    figures = draw(study, tmp_path)
    assert figures == ["accuracy.png", "gradients.png"]
    assert all((tmp_path / name).stat().st_size > 10_000 for name in figures)
    report = render(study, figures)
    assert "`lstmlab study cells --quick --seeds 6`" in report
    assert "| 6 | rnn − lstm |" in report and "rnn lower than lstm" in report
    assert "+0.0100 rose" in report and "(1 of 6: ∞)" in report
    assert "| lstm | 12 | initialisation | -2.00 | -2.10 | -2.20 |" in report  # T - t = 0, 5, 10
    assert "![gradients.png](gradients.png)" in report

    few = _synthetic_study(seeds=3)  # 3 pairs: the sign-flip p is at least 0.25, however narrow the interval
    few["summary"] = summarise(few["runs"])
    assert "lower than" not in render(few, figures) and "| 6 | rnn − lstm |" in render(few, figures)


@pytest.mark.slow  # 1-2 minutes on two shared cores (45 s of CPU, most of it compiling)
def test_quick_study_end_to_end(cli, tmp_path):
    result = cli("study", "cells", "--quick", "--seeds", "2", "--out", "s", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    study = json.loads((tmp_path / "s" / "study.json").read_text())
    assert study["complete"] and len(study["runs"]) == 3 * 2 * 2
    for run in study["runs"]:
        m, seq_len = run["metrics"], run["group"]["seq_len"]
        assert len(m["gradient_init"]) == len(m["gradient_trained"]) == seq_len
        assert len(m["val_accuracy"]) == 3 and 0 <= m["test_accuracy"] <= 1 and m["noise_sigma"] >= 0
        assert np.all(np.isfinite(m["gradient_init"]))
    assert sum(r["kind"] == "difference" for r in study["summary"]) == 2 * 2
    for name in ("accuracy.png", "gradients.png"):
        assert (tmp_path / "s" / name).stat().st_size > 10_000
    report = (tmp_path / "s" / "report.md").read_text()
    assert "| gru − lstm |" in report and "| rnn | 12 | trained |" in report and "T−t = 10" in report
