import csv
import json
import os

import pytest

from lstmlab.config import RunConfig, TaskConfig, TrainConfig
from lstmlab.experiment import RunExistsError, run_experiment

TINY = RunConfig(task=TaskConfig(seq_len=8, n_train=320, n_val=96, n_test=96, seed=4), layers=(1, 2), units=6,
                 train=TrainConfig(epochs=2, init_seed=4))


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("exp")
    results = run_experiment(TINY, root / "run", root / "cache", verbose=False)
    return root, results


def test_writes_the_whole_run_directory(run):
    root, results = run
    out = root / "run"
    for name in ("config.json", "results.json", "curves.png", "report.md"):
        assert (out / name).is_file(), name
    for model in ("lstm-1layer", "lstm-2layer"):
        for name in ("config.json", "metrics.csv", "model.weights.h5"):
            assert (out / "models" / model / name).is_file()
        rows = list(csv.DictReader(open(out / "models" / model / "metrics.csv")))
        assert [int(r["epoch"]) for r in rows] == [0, 1, 2]


def test_results_follow_the_documented_schema(run):
    root, results = run
    on_disk = json.loads((root / "run" / "results.json").read_text())
    assert on_disk == json.loads(json.dumps(results))
    assert [m["layers"] for m in on_disk["models"]] == [1, 2]
    for m in on_disk["models"]:
        assert {"name", "cell", "layers", "units", "test_accuracy", "history"} <= set(m)
        assert 0 <= m["test_accuracy"] <= 1
        assert set(m["history"][0]) >= {"epoch", "train_loss", "val_loss", "val_accuracy"}
    (baseline,) = on_disk["baselines"]
    assert baseline["name"] == "majority class" and 0.5 < baseline["accuracy"] < 0.7
    assert on_disk["wall_seconds"] > 0


def test_the_config_file_alone_repeats_the_run(run):
    root, results = run
    config = RunConfig.from_dict(json.loads((root / "run" / "config.json").read_text()))
    assert config == TINY
    again = run_experiment(config, root / "again", root / "cache", verbose=False)
    assert [m["test_accuracy"] for m in again["models"]] == [m["test_accuracy"] for m in results["models"]]
    assert [m["history"] for m in again["models"]] == [
        [{**h, "seconds": g["seconds"]} for h, g in zip(m["history"], n["history"])]
        for m, n in zip(results["models"], again["models"])
    ]


def test_a_finished_run_is_not_overwritten_without_force(run):
    root, _ = run
    before = (root / "run" / "results.json").read_text()
    with pytest.raises(RunExistsError, match="--force"):
        run_experiment(TINY, root / "run", root / "cache", verbose=False)
    assert (root / "run" / "results.json").read_text() == before


def test_an_unfinished_run_of_another_config_is_refused_and_force_starts_over(tmp_path):
    from lstmlab.config import RunConfig
    from lstmlab.errors import UserError
    from lstmlab.experiment import prepare_run_dir

    out = tmp_path / "run"
    (out / "models" / "lstm-1layer").mkdir(parents=True)
    (out / "config.json").write_text(json.dumps(TINY.to_dict()))
    (out / "models" / "lstm-1layer" / "checkpoint.npz").write_bytes(b"x")
    assert prepare_run_dir(TINY, out, force=False) is True  # same config: continue
    other = RunConfig.from_dict({**TINY.to_dict(), "units": 7})
    with pytest.raises(UserError, match="another configuration"):
        prepare_run_dir(other, out, force=False)
    assert prepare_run_dir(other, out, force=True) is False
    assert not (out / "models").exists() and not (out / "config.json").exists()


def test_models_trained_in_worker_processes_match_one_after_another_bit_for_bit(tmp_path):
    config = RunConfig(task=TaskConfig(seq_len=6, n_train=320, n_val=64, n_test=64), cells=("lstm", "gru"),
                       layers=(1,), units=4, train=TrainConfig(epochs=2, steps_per_call=5))
    here = run_experiment(config, tmp_path / "here", tmp_path / "cache", verbose=False, workers=1)
    side_by_side = run_experiment(config, tmp_path / "workers", tmp_path / "cache", verbose=False, workers=2)
    for one, other in zip(here["models"], side_by_side["models"], strict=True):
        assert one["name"] == other["name"]
        assert one["step_losses"] == other["step_losses"] and one["history"] != []
        assert (one["test_accuracy"], one["test_loss"]) == (other["test_accuracy"], other["test_loss"])
    assert (tmp_path / "workers" / "models" / "gru-1layer" / "model.weights.h5").exists()


def test_the_default_workers_train_in_one_process_when_one_model_holds_most_of_the_work():
    from lstmlab.config import ModelConfig
    from lstmlab.experiment import default_workers

    assert default_workers([ModelConfig(layers=1), ModelConfig(layers=2)]) == 1  # the reference run
    assert default_workers([ModelConfig(cell="lstm"), ModelConfig(cell="gru")]) >= min(2, len(os.sched_getaffinity(0)))
    assert default_workers([ModelConfig()]) == 1
