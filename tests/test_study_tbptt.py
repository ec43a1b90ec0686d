import json

import pytest

from lstmlab.studies.tbptt import (CHUNKED, COSINE, GRID, LONGER, WILLIAMS_PENG, arms, compute_per_update, plan,
                                   summarise)


def test_every_arm_of_a_seed_shares_its_data_and_weights_and_full_bptt_is_in_every_group():
    runs = plan(seeds=3, quick=False)
    per_seed = sum(len(arms(t, target, depths, epochs, CHUNKED.get(t, ()), t in COSINE, WILLIAMS_PENG.get(t, ())))
                   for t, (targets, _, epochs) in GRID.items() for target, depths in targets.items())
    assert len(runs) == 3 * per_seed
    for seq_len, (targets, _, _) in GRID.items():
        for target in targets:
            keys = {(g["k2"], g["k1"], g["epochs"]) for g, _ in runs
                    if g["scheme"] == "per-loss" and g["lr_schedule"] == "constant"
                    if g["seq_len"] == seq_len and g["target"] == target}
            assert (seq_len, seq_len, 3) in keys  # the full-BPTT arm every difference is paired with
            assert (seq_len, seq_len, 3 * LONGER) in keys  # and its convergence checks
            assert (seq_len, seq_len, 3 * LONGER ** 2) in keys
    group, config = runs[0]
    assert group == {"seq_len": 25, "target": "final", "k2": 25, "k1": 25, "epochs": 3, "scheme": "per-loss",
                     "lr_schedule": "constant"}
    assert (config.task.n_train, config.train.epochs, config.layers) == (64_000, 3, (1,))
    assert {(c.task.seed, c.train.init_seed) for _, c in runs} == {(s, s) for s in range(3)}
    for group, config in runs:
        assert config.train.tbptt_scheme == group["scheme"] and config.train.lr_schedule == group["lr_schedule"]
        assert config.train.tbptt_every == (0 if group["scheme"] == "chunked" else group["k1"])
    assert {g["k2"] for g, _ in runs if g["scheme"] == "chunked"} == {5, 10}
    assert all(g["target"] == "per-step" and g["k1"] == g["k2"] for g, _ in runs if g["scheme"] == "chunked")
    # Williams & Peng at their h = 2h', at every budget, beside per-loss k2 = k1 = h' and chunked k = h, h'
    wp = {(g["k2"], g["k1"], g["epochs"], g["lr_schedule"]) for g, _ in runs if g["scheme"] == "williams-peng"}
    assert wp == {(10, 5, 3, "constant"), (10, 5, 12, "cosine")}  # not 12 at a constant rate: the time
    beside = {(g["scheme"], g["k2"], g["k1"]) for g, _ in runs if g["target"] == "per-step" and g["epochs"] == 3}
    assert {("per-loss", 5, 5), ("chunked", 5, 5), ("chunked", 10, 10), ("per-loss", 25, 25)} <= beside


def test_per_step_arms_are_matched_on_updates_with_k1_equal_t_and_on_samples_with_k1_equal_k2():
    constant = lambda arms: [(*arm, "constant") for arm in arms]  # noqa: E731
    full = [(25, 25, 3, "per-loss"), (25, 25, 3 * LONGER, "per-loss"), (25, 25, 3 * LONGER ** 2, "per-loss")]
    per_step = lambda e: [(1, 25, e, "per-loss"), (1, 1, e, "per-loss"), (5, 25, e, "per-loss"),  # noqa: E731
                          (5, 5, e, "per-loss"), (5, 5, e, "chunked")]
    expected = constant(full + per_step(3) + per_step(12))
    assert arms(25, "per-step", (1, 5), 3, chunked=(5,)) == expected
    decayed = full[1:] + per_step(12)  # full BPTT also at 16x
    assert arms(25, "per-step", (1, 5), 3, chunked=(5,), cosine=True) == expected + [(*a, "cosine") for a in decayed]
    final = [(1, 25, 3), (5, 25, 3), (1, 25, 3 * LONGER), (5, 25, 3 * LONGER)]
    assert arms(25, "final", (1, 5), 3, chunked=(5,)) == constant(full + [(*a, "per-loss") for a in final])
    with_wp = arms(25, "per-step", (1, 5), 3, chunked=(5,), cosine=True, williams_peng=(2,))
    assert [a for a in with_wp if a[3] == "williams-peng"] == [(4, 2, 3, "williams-peng", "constant"),
                                                               (4, 2, 12, "williams-peng", "cosine")]
    assert [a for a in with_wp if a[3] != "williams-peng"] == expected + [(*a, "cosine") for a in decayed]
    assert arms(25, "final", (1, 5), 3, williams_peng=(2,)) == arms(25, "final", (1, 5), 3)  # per-step targets only


def test_compute_per_update_counts_each_arm_once_against_full_bptt():
    def run(k2, k1, scheme, seconds):
        train = {"tbptt": k2, "tbptt_every": 0 if scheme == "chunked" else k1, "tbptt_scheme": scheme}
        group = {"seq_len": 25, "target": "per-step", "k2": k2, "k1": k1, "scheme": scheme}
        return {"group": group, "config": {"train": train}, "metrics": {"epoch_seconds": seconds}}

    runs = [run(25, 25, "per-loss", 1.0), run(25, 25, "per-loss", 3.0), run(5, 5, "per-loss", 4.0),
            run(10, 5, "williams-peng", 2.0), run(5, 5, "chunked", 1.5)]
    rows = {(r["scheme"], r["k2"]): r for r in compute_per_update(runs)}
    assert list(rows) == [("per-loss", 25), ("per-loss", 5), ("williams-peng", 10), ("chunked", 5)]
    full, per_loss, wp, chunked = rows.values()
    assert (full["per_batch"], full["per_update"], full["relative"], full["epoch_seconds"]) == (75, 75, 1, 2.0)
    assert (per_loss["updates"], per_loss["per_update"], per_loss["relative"]) == (5, 80, 400 / 75)
    assert (wp["updates"], wp["per_update"], wp["relative"]) == (5, 35, 175 / 75)
    assert (chunked["per_update"], chunked["relative"]) == (15, 1)


def _run(k2, seed, accuracy, epochs=3, schedule="constant"):
    metrics = {"test_accuracy": accuracy, "noise_sigma": 1 - accuracy, "val_accuracy": [0.5, 0.9, accuracy],
               "epoch_seconds": 1.0, "step_memory_bytes": 1024 * k2, "updates_per_batch": 1}
    group = {"seq_len": 10, "target": "final", "k2": k2, "k1": 10, "epochs": epochs, "scheme": "per-loss",
             "lr_schedule": schedule}
    return {"group": group, "seed": seed, "metrics": metrics}


def test_differences_from_full_bptt_are_paired_by_seed():
    # Seeds differ by 0.05 in both arms; k2 = 2 is always 0.01 below: only pairing resolves that.
    runs = [_run(k2, seed, 0.9 + 0.05 * (seed % 2) - (0.01 if k2 == 2 else 0)) for k2 in (10, 2) for seed in range(6)]
    runs += [_run(10, seed, 0.9 + 0.05 * (seed % 2) + 0.02, epochs=12) for seed in range(6)]  # trained 4x as long
    runs += [_run(2, seed, 0.9 + 0.05 * (seed % 2) + 0.015, epochs=12) for seed in range(6)]
    runs += [_run(10, seed, 0.9 + 0.05 * (seed % 2) + 0.025, epochs=48) for seed in range(6)]  # and 16x
    runs += [_run(10, seed, 0.9 + 0.05 * (seed % 2) + 0.03, 12, "cosine") for seed in range(6)]  # decayed
    runs += [_run(10, seed, 0.9 + 0.05 * (seed % 2) + 0.031, 48, "cosine") for seed in range(6)]
    runs += [_run(2, seed, 0.9 + 0.05 * (seed % 2) + 0.02, 12, "cosine") for seed in range(6)]
    rows = {(row["k2"], row["epochs"], row["lr_schedule"]): row for row in summarise(runs)}
    decayed, decayed_longest = rows.pop((10, 12, "cosine")), rows.pop((10, 48, "cosine"))
    assert decayed["test_accuracy_vs_full"]["mean"] == pytest.approx(0.01)  # against a constant rate, as long
    assert decayed["against"] == {"epochs": 12, "lr_schedule": "constant"}
    assert decayed_longest["test_accuracy_vs_full"]["mean"] == pytest.approx(0.001)  # against 12 epochs, cosine
    assert rows.pop((2, 12, "cosine"))["test_accuracy_vs_full"]["mean"] == pytest.approx(-0.01)  # against decayed
    rows = {(k2, epochs): row for (k2, epochs, _), row in rows.items()}
    longer, longest = rows.pop((10, 12)), rows.pop((10, 48))
    assert longer["times"] == 4 and longer["test_accuracy_vs_full"]["mean"] == pytest.approx(0.02)  # against 3 epochs
    assert longest["times"] == 16 and longest["test_accuracy_vs_full"]["mean"] == pytest.approx(0.005)  # against 12
    assert rows.pop((2, 12))["test_accuracy_vs_full"]["mean"] == pytest.approx(-0.005)  # against full at 12 epochs
    rows = {k2: row for (k2, _), row in rows.items()}
    shallow = rows[2]["test_accuracy_vs_full"]
    assert shallow["mean"] == pytest.approx(-0.01) and shallow["resolved"] and shallow["ci_high"] < 0
    assert rows[10]["test_accuracy_vs_full"]["mean"] == 0 and not rows[10]["test_accuracy_vs_full"]["resolved"]
    # the validation curve's last two points are 0.9 and the test accuracy
    assert rows[2]["last_epoch_gain"]["mean"] == pytest.approx(rows[2]["test_accuracy"]["mean"] - 0.9)


@pytest.mark.slow  # about 40 s
def test_quick_study_end_to_end(cli, tmp_path):
    result = cli("study", "tbptt", "--quick", "--seeds", "2", "--out", "s", "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = tmp_path / "s"
    study = json.loads((out / "study.json").read_text())
    assert study["complete"] and len(study["runs"]) == 2 * (7 + 11 + 2 + 4 + 7 + 2)  # + W&P at 2 and 8 cosine epochs
    rows = {(r["target"], r["k2"], r["k1"]): r for r in study["summary"] if r["times"] == 1}
    assert {r["against"]["lr_schedule"] for r in study["summary"] if r["lr_schedule"] == "cosine"} == {
        "cosine", "constant"}  # the arms against decayed full BPTT, its first arm against a constant rate
    assert rows[("per-step", 4, 4)]["updates_per_batch"] == 3 and rows[("per-step", 4, 12)]["updates_per_batch"] == 1
    assert rows[("final", 1, 12)]["step_memory_bytes"] < rows[("final", 12, 12)]["step_memory_bytes"]
    chunked = next(r for r in study["summary"] if r["scheme"] == "chunked" and r["times"] == 1)
    assert chunked["updates_per_batch"] == 3 and chunked["test_accuracy_vs_full"]["n"] == 2  # paired with full
    for run in study["runs"]:
        epochs = run["config"]["train"]["epochs"]  # 2, or 4x or 16x that for the convergence arms
        assert 0.5 < run["metrics"]["test_accuracy"] <= 1 and len(run["metrics"]["val_accuracy"]) == epochs + 1
    for name in ("accuracy.png", "noise.png", "cost.png"):
        assert (out / name).stat().st_size > 10_000
    report = (out / "report.md").read_text()
    assert "## T = 12" in report and "k2 = 4, k1 = T" in report and "full BPTT, 32 epochs" in report
    assert "chunked, k = 4" in report and "full BPTT, 32 epochs, cosine" in report
    assert "Williams & Peng, h = 8, h' = 4" in report
    wp = next(r for r in study["summary"] if r["scheme"] == "williams-peng" and r["times"] == 1)
    assert wp["updates_per_batch"] == 3 and wp["test_accuracy_vs_full"]["n"] == 2
