import json

import pytest

from lstmlab.bench import format_table, run_bench, steps_per_unit


def test_bench_measures_side_by_side_and_writes_the_documented_rows(tmp_path):
    lines = []
    report = run_bench(tmp_path, quick=True, reps=2, impls=["lstmlab", "keras_fit"], log=lines.append)
    on_disk = json.loads((tmp_path / "bench.json").read_text())
    assert on_disk["results"] == report["results"]
    rows = {r["impl"]: r for r in on_disk["results"]}
    assert set(rows) == {"lstmlab", "keras_fit"}
    for row in rows.values():
        assert (row["batch_size"], row["seq_len"]) == (32, 25)
        assert row["ms_per_step"] > 0 and len(row["ms_per_step_reps"]) == 2
        assert abs(row["samples_per_s"] - 32 / row["ms_per_step"] * 1000) < 1e-6
    assert rows["lstmlab"]["ratio_to_lstmlab"] == 1.0
    assert abs(rows["keras_fit"]["ratio_to_lstmlab"] - rows["keras_fit"]["ms_per_step"] / rows["lstmlab"]["ms_per_step"]) < 1e-9
    assert on_disk["machine"]["cores"] >= 1 and on_disk["machine"]["versions"]["keras"]
    assert 0 < on_disk["evaluation"][0]["fraction"] < 10
    table = format_table(report)
    assert "| lstmlab | 32 | 25 |" in table and "| keras_fit | 32 | 25 |" in table


def test_a_missing_optional_backend_is_skipped_with_a_reason(tmp_path, monkeypatch):
    monkeypatch.setattr("lstmlab.bench.NEEDS", {"torch": "a_module_that_is_not_installed"})
    report = run_bench(tmp_path, quick=True, reps=1, impls=["torch"], log=lambda m: None)
    assert report["results"] == []
    assert report["skipped"][0]["impl"] == "torch" and "not installed" in report["skipped"][0]["reason"]


def test_units_follow_how_each_implementation_is_used():
    assert steps_per_unit("lstmlab", 25) == 250 and steps_per_unit("keras_fit", 25) == 100
    assert steps_per_unit("seed_style", 200) < steps_per_unit("seed_style", 25)


def test_a_worker_that_dies_is_reported_with_its_last_error_line():
    from lstmlab.bench import Worker

    worker = Worker("lstmlab", 32, 25)
    worker.process.kill()
    try:
        with pytest.raises(RuntimeError, match="lstmlab worker died"):
            worker.ask()
    finally:
        worker.close()
