"""Sweep specs: shape, field names and values checked before anything runs; runs named by content."""

import json
from pathlib import Path

import pytest

from lstmlab.config import RunConfig
from lstmlab.errors import ConfigError, UserError
from lstmlab.sweeps.spec import Spec, load_spec, run_name

BASE = {"epochs": 1, "n_train": 256, "n_val": 64, "n_test": 64, "units": 4}


def test_points_cover_the_grid_times_the_seeds_grid_major():
    spec = Spec.from_dict({"base": BASE, "grid": {"cell": ["lstm", "gru"], "seq_len": [5, 8]}, "seeds": 2})
    points = spec.points()
    assert [(p.group["cell"], p.group["seq_len"], p.seed) for p in points] == [
        (c, t, s) for c in ("lstm", "gru") for t in (5, 8) for s in (0, 1)]
    first = points[0].config
    assert first.cells == ("lstm",) and first.layers == (1,) and first.units == 4 and first.task.seq_len == 5
    assert first.task.seed == 0 and first.train.init_seed == 0 and points[1].config.task.seed == 1
    assert len({p.name for p in points}) == 8


def test_a_fixed_data_seed_leaves_the_seeds_to_the_initial_weights():
    spec = Spec.from_dict({"base": {**BASE, "data_seed": 7}, "grid": {"lr": [1e-3, 3e-3]}, "seeds": [0, 4]})
    configs = [p.config for p in spec.points()]
    assert {c.task.seed for c in configs} == {7} and [c.train.init_seed for c in configs] == [0, 4, 0, 4]
    assert configs[2].train.learning_rate == 3e-3


def test_a_run_is_named_by_its_content_not_its_place_in_the_grid():
    one = Spec.from_dict({"base": BASE, "grid": {"cell": ["lstm", "gru"]}}).points()
    other = Spec.from_dict({"base": BASE, "grid": {"cell": ["gru", "lstm"]}}).points()
    assert {p.name for p in one} == {p.name for p in other}
    config = one[0].config
    assert run_name(config, 0) == run_name(RunConfig.from_dict(json.loads(json.dumps(config.to_dict()))), 0)
    assert run_name(config, 0).startswith("lstm-1layer-seed0-")
    changed = RunConfig.from_dict({**config.to_dict(), "units": 5})
    assert run_name(changed, 0) != run_name(config, 0)


@pytest.mark.parametrize("spec, message", [
    ({"base": BASE, "grid": {"sequence_length": [5]}}, r"unknown field\(s\) \['sequence_length'\] in \[grid\]"),
    ({"base": {"colour": 1}, "grid": {"cell": ["lstm"]}}, r"unknown field\(s\) \['colour'\] in \[base\]"),
    ({"base": BASE, "grid": {}}, "the grid is empty"),
    ({"base": BASE}, "the grid is empty"),
    ({"base": BASE, "grid": {"cell": []}}, "grid.cell must be a non-empty list"),
    ({"base": BASE, "grid": {"cell": "lstm"}}, "grid.cell must be a non-empty list"),
    ({"base": BASE, "grid": {"cell": ["lstm", "lstm"]}}, "lists a value twice"),
    ({"base": {**BASE, "units": 8}, "grid": {"units": [4]}}, r"units is set in both \[base\] and \[grid\]"),
    ({"base": BASE, "grid": {"cell": ["lstm"]}, "seeds": 0}, "seeds must be a count from 1 to 100,000"),
    ({"base": BASE, "grid": {"cell": ["lstm"]}, "seeds": [1, 1]}, "lists a seed twice"),
    ({"base": BASE, "grid": {"cell": ["lstm"]}, "runs": 3}, r"unknown sweep spec key\(s\) \['runs'\]"),
    (["not", "a", "table"], "a sweep spec is a table"),
])
def test_a_spec_of_the_wrong_shape_is_refused_in_one_line(spec, message):
    with pytest.raises(ConfigError, match=message) as caught:
        Spec.from_dict(spec).points()
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("grid, message", [
    ({"seq_len": [5, 0]}, "grid point seq_len=0, seed 0: seq_len must be a positive integer"),
    ({"cell": ["lstm", "transformer"]}, "grid point cell='transformer'"),
    ({"lr": [1e-3, -1.0]}, r"grid point lr=-1.0, seed 0: learning_rate must be in \(0, 1\]"),
    ({"task": ["adding"], "threshold": [1.0]}, "not a run field, nor a setting of the adding task"),
])
def test_a_bad_value_anywhere_in_the_grid_is_refused_before_anything_runs(grid, message):
    with pytest.raises(ConfigError, match=message):
        Spec.from_dict({"base": BASE, "grid": grid}).points()


def test_both_seeds_fixed_with_several_seeds_would_repeat_one_run():
    with pytest.raises(ConfigError, match="both fixed"):
        Spec.from_dict({"base": {**BASE, "data_seed": 1, "init_seed": 2}, "grid": {"cell": ["lstm"]},
                        "seeds": 3}).points()


def test_spec_files_are_read_as_toml_or_json(tmp_path):
    (tmp_path / "s.toml").write_text('seeds = 2\n[base]\nunits = 4\n[grid]\ncell = ["lstm", "gru"]\n')
    (tmp_path / "s.json").write_text(json.dumps({"seeds": 2, "base": {"units": 4}, "grid": {"cell": ["lstm", "gru"]}}))
    assert load_spec(tmp_path / "s.toml") == load_spec(tmp_path / "s.json")
    (tmp_path / "bad.toml").write_text("seeds = \n")
    with pytest.raises(UserError, match="cannot read it as TOML"):
        load_spec(tmp_path / "bad.toml")
    with pytest.raises(UserError, match="cannot read it as JSON"):
        load_spec(tmp_path / "missing.json")


def test_the_example_specs_are_valid():
    root = Path(__file__).resolve().parents[1] / "examples"
    assert len(load_spec(root / "sweep-quick.toml").points()) == 8
    assert len(load_spec(root / "sweep-timing.toml").points()) == 8
