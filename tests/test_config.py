import pytest

from lstmlab.config import ConfigError, ModelConfig, RunConfig, TaskConfig, TrainConfig


def test_defaults_reproduce_the_reference_experiment():
    c = RunConfig()
    assert (c.task.seq_len, c.task.threshold) == (25, 1.0)
    assert (c.task.n_train, c.task.n_val, c.task.n_test) == (64_000, 16_000, 16_000)
    assert (c.train.batch_size, c.train.learning_rate, c.train.epochs) == (32, 1e-3, 3)
    assert [m.layers for m in c.models] == [1, 2] and {m.units for m in c.models} == {25}


def test_round_trips_through_a_dict():
    c = RunConfig(task=TaskConfig(seq_len=7, seed=3), layers=(3,), units=4, train=TrainConfig(epochs=1))
    assert RunConfig.from_dict(c.to_dict()) == c


def test_unknown_keys_fail_loudly():
    d = RunConfig().to_dict()
    d["train"]["batchsize"] = 3
    with pytest.raises(ConfigError, match="batchsize"):
        RunConfig.from_dict(d)


@pytest.mark.parametrize(
    "build, fragment",
    [
        (lambda: TaskConfig(seq_len=0), "seq_len"),
        (lambda: TaskConfig(seq_len=2.5), "seq_len"),
        (lambda: TaskConfig(settings={"threshold": float("nan")}), "threshold"),
        (lambda: TaskConfig(n_val=-1), "n_val"),
        (lambda: ModelConfig(units=0), "units"),
        (lambda: TrainConfig(learning_rate=0.0), "learning_rate must be in"),
        (lambda: TrainConfig(lr_schedule="linear"), "lr_schedule must be one of constant, cosine"),
        (lambda: TrainConfig(batch_size=True), "batch_size"),
        (lambda: RunConfig(layers=()), "layers"),
        (lambda: RunConfig(layers=(1, 0)), "layers"),
        (lambda: RunConfig(task=TaskConfig(n_test=10)), "at least one batch"),
    ],
)
def test_invalid_values_name_the_field(build, fragment):
    with pytest.raises(ConfigError, match=fragment):
        build()


@pytest.mark.parametrize("edit, fragment", [
    ({"cells": [["lstm"]]}, "list of strs"),
    ({"layers": [[1]]}, "list of ints"),
    ({"task": {"name": {}}}, "a task is a name"),
    ({"task": {"objective": {}}}, "objective"),
    ({"task": {"threshold": "x"}}, "threshold must be a float"),
    ({"task": {"threshold": float("inf")}}, "threshold must be a finite number"),
    ({"task": {"name": "adding", "threshold": 1.0}}, "threshold is not a setting of the adding task"),
    ({"train": {"epochs": [1]}}, "epochs"),
])
def test_a_config_file_of_the_wrong_shape_is_a_config_error(edit, fragment):
    # What a hand-written JSON or TOML file can hold: nested lists and tables where names go.
    with pytest.raises(ConfigError, match=fragment):
        RunConfig.from_dict(edit)
