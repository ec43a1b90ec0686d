"""The long-memory options (--forget-bias, --init chrono, --chrono-max, --clip-norm, --stream, --stop paper)
reach the config the same way from flags, --config files and sweep specs, and a run with all of them
resumes after an interruption to exactly the uninterrupted result."""

import json

import numpy as np
import pytest

from lstmlab.config import RunConfig
from lstmlab.sweeps.spec import Spec

VALUES = {"init": "chrono", "chrono_max": 40, "clip_norm": 0.5, "stream": True, "stop": "paper"}
FLAGS = ["--task", "adding", "--init", "chrono", "--chrono-max", "40", "--clip-norm", "0.5", "--stream",
         "--stop", "paper"]


def expect(config: RunConfig):
    assert {name: getattr(config.train, name) for name in VALUES} == VALUES


def test_flags_config_files_and_sweep_specs_set_them_alike(tmp_path):
    from lstmlab.cli import _run_config, build_parser

    argv = ["run", *FLAGS]
    expect(_run_config(build_parser(argv).parse_args(argv)))
    path = tmp_path / "run.toml"
    path.write_text('[task]\nname = "adding"\n[train]\n' + "".join(
        f"{k} = {json.dumps(v)}\n" for k, v in VALUES.items()))
    argv = ["run", "--config", str(path)]
    expect(_run_config(build_parser(argv).parse_args(argv)))
    (point,) = Spec.from_dict({"base": {"task": "adding", **VALUES}, "grid": {"cell": ["lstm"]}}).points()
    expect(point.config)
    grid = Spec.from_dict({"base": {"task": "adding", "cell": "gru"}, "grid": {"forget_bias": [1.0, 3.0]}}).points()
    assert [p.config.train.forget_bias for p in grid] == [1.0, 3.0] and grid[0].name != grid[1].name


def test_a_bad_value_is_one_line_naming_its_flag(capsys):
    from lstmlab.cli import main

    for argv, message in ((["--init", "chrono", "--chrono-max", "2"], "chrono_max must be an integer >= 3"),
                          (["--cell", "rnn", "--forget-bias", "2"], "the rnn cell has no gate"),
                          (["--stop", "paper"], "stop paper needs a final-step regression target")):
        code = main(["run", *argv, "--dry-run"])
        err = capsys.readouterr().err
        assert code != 0 and message in err and len(err.strip().splitlines()) == 1


class _Crash(Exception):
    pass


@pytest.mark.slow
def test_a_run_with_every_option_resumes_to_the_uninterrupted_result(tmp_path, monkeypatch):
    from lstmlab.config import TaskConfig, TrainConfig
    from lstmlab.experiment import run_experiment

    config = RunConfig(task=TaskConfig(name="adding", seq_len=22, n_train=640, n_val=64, n_test=64),
                       cells=("gru",), layers=(1,), units=4,
                       train=TrainConfig(epochs=2, steps_per_call=5, checkpoint_every=5, learning_rate=0.01,
                                         **VALUES))
    cache = tmp_path / "cache"
    reference = run_experiment(config, tmp_path / "a", cache, verbose=False, workers=1)
    (model,) = reference["models"]
    assert model["paper_test"]["test_sequences"] == 2560 and "sequences_to_criterion" in model
    report = (tmp_path / "a" / "report.md").read_text()
    assert f"{model['paper_test']['test_failures']} of 2,560 fresh test sequences" in report
    calls = {"n": 0}

    def crash(name):
        if name == "train:chunk":
            calls["n"] += 1
            if calls["n"] == 6:  # epoch 1's last call... then epoch 2's second
                raise _Crash

    monkeypatch.setattr("lstmlab.core.fit.fault_point", crash)
    with pytest.raises(_Crash):
        run_experiment(config, tmp_path / "b", cache, verbose=False, workers=1)
    monkeypatch.undo()
    resumed = run_experiment(config, tmp_path / "b", cache, verbose=False, workers=1)
    (again,) = resumed["models"]
    assert again["step_losses"] == model["step_losses"] and again["paper_test"] == model["paper_test"]
    np.testing.assert_equal(again["history"][-1]["val_loss"], model["history"][-1]["val_loss"])


@pytest.mark.slow
def test_a_stream_run_gives_the_same_numbers_in_worker_processes(tmp_path):
    from lstmlab.config import TaskConfig, TrainConfig
    from lstmlab.experiment import run_experiment

    config = RunConfig(task=TaskConfig(name="adding", seq_len=22, n_train=320, n_val=64, n_test=64),
                       cells=("lstm", "gru"), layers=(1,), units=4,
                       train=TrainConfig(epochs=1, steps_per_call=5, learning_rate=0.01, **VALUES))
    inline = run_experiment(config, tmp_path / "inline", tmp_path / "cache", verbose=False, workers=1)
    workers = run_experiment(config, tmp_path / "workers", tmp_path / "cache", verbose=False, workers=2)
    for a, b in zip(inline["models"], workers["models"]):
        assert a["step_losses"] == b["step_losses"] and a["paper_test"] == b["paper_test"]
