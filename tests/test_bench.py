import json

import numpy as np
import pytest

from lstmlab.bench import impls
from lstmlab.bench.driver import BACKENDS, Worker, format_table, run_bench, steps_per_unit


def test_bench_measures_side_by_side_and_writes_the_documented_rows(tmp_path):
    lines = []
    report = run_bench(tmp_path, quick=True, reps=2, impls=["lstmlab", "jax_minimal", "keras_fit"], log=lines.append)
    on_disk = json.loads((tmp_path / "bench.json").read_text())
    assert on_disk["results"] == report["results"]
    rows = {r["impl"]: r for r in on_disk["results"]}
    assert set(rows) == {"lstmlab", "jax_minimal", "keras_fit"}
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
    assert "| jax_minimal | 32 | 25 |" in table


def test_an_implementation_asked_for_that_cannot_run_is_refused_before_any_work(tmp_path, monkeypatch):
    from lstmlab.errors import UserError

    monkeypatch.setattr("lstmlab.bench.driver.NEEDS", {"torch": "a_module_that_is_not_installed"})
    with pytest.raises(UserError, match="--impls torch: it cannot run here"):
        run_bench(tmp_path / "b", quick=True, reps=1, impls=["torch"], log=lambda m: None)
    assert not (tmp_path / "b" / "bench.json").exists()


def test_a_missing_optional_backend_is_skipped_with_a_reason_when_none_was_asked_for(monkeypatch):
    from lstmlab.bench import driver

    monkeypatch.setattr("lstmlab.bench.driver.NEEDS", {"torch": "a_module_that_is_not_installed"})
    assert "not installed" in driver.available("torch")


def test_units_follow_how_each_implementation_is_used():
    assert steps_per_unit("lstmlab", 25) == 250 and steps_per_unit("keras_fit", 25) == 100
    for seq_len in (25, 200):  # the plain-JAX floor runs as many steps per compiled call as lstmlab
        assert steps_per_unit("jax_minimal", seq_len) == steps_per_unit("lstmlab", seq_len)
    assert steps_per_unit("seed_style", 200) < steps_per_unit("seed_style", 25)


def test_a_worker_that_dies_is_reported_with_its_last_error_line():
    worker = Worker("lstmlab", 32, 25)
    worker.process.kill()
    try:
        with pytest.raises(RuntimeError, match="lstmlab worker died"):
            worker.ask()
    finally:
        worker.close()


def test_every_implementation_is_registered_and_offered_by_the_cli(capsys):
    from lstmlab.cli import build_parser

    assert set(BACKENDS) == set(impls.IMPLEMENTATIONS)
    for impl in BACKENDS:
        steps_per_unit(impl, 25)  # raises KeyError for an implementation without a unit
    with pytest.raises(SystemExit):
        build_parser().parse_args(["bench", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert ", ".join(BACKENDS) in help_text


def test_the_jax_minimal_worker_trains_without_importing_keras(tmp_path, monkeypatch):
    for framework in ("keras", "tensorflow"):  # importing either in the worker would now fail
        (tmp_path / framework).mkdir()
        (tmp_path / framework / "__init__.py").write_text(f"raise ImportError('jax_minimal imported {framework}')\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    worker = Worker("jax_minimal", 8, 5)
    try:
        assert worker.ask() == {"ready": True}
        assert worker.ask("run 1")["seconds"] > 0
    finally:
        worker.close()


def test_jax_minimal_takes_the_same_steps_as_lstmlabs_trainer_from_the_same_weights():
    """Same weights and batches: lstmlab's Trainer (Keras, scan over batches) and the plain-JAX step give
    the same losses and the same weights after a few Adam updates."""
    from lstmlab import tasks
    from lstmlab.config import ModelConfig, TaskConfig, TrainConfig
    from lstmlab.core.batches import stack_batches
    from lstmlab.core.model import build_model
    from lstmlab.core.train import Trainer

    task = tasks.of(TaskConfig(seq_len=10))
    trainer = Trainer(build_model(ModelConfig(layers=1, units=8), seed=3, task=task),
                      TrainConfig(batch_size=16, steps_per_call=5), task)
    names = [v.path.split("/")[-2:] for v in trainer.model.trainable_variables]
    assert names == [["cell", "kernel"], ["cell", "recurrent_kernel"], ["cell", "bias"], ["readout", "kernel"],
                     ["readout", "bias"]]
    params = dict(zip(impls.MINIMAL_PARAMS, (np.array(a) for a in trainer.state[0])))  # copies: the state is donated
    xs, ys, ws = stack_batches(*impls.make_data(80, 10, seed=2), 16)

    lstmlab_losses = trainer.train_steps(xs, ys, ws)
    state, minimal_losses = impls.minimal_train_call()(impls.minimal_state(params), (xs, ys))

    np.testing.assert_allclose(np.asarray(minimal_losses), lstmlab_losses, rtol=1e-5)
    for name, lstmlab_value in zip(impls.MINIMAL_PARAMS, trainer.state[0]):
        np.testing.assert_allclose(np.asarray(state[0][name]), np.asarray(lstmlab_value), rtol=1e-4, atol=1e-6)
    assert float(state[3]) == 5  # Adam's step count


def test_jax_minimal_starts_as_keras_does_and_learns_the_integration_task():
    params = impls.minimal_init(seed=0)
    u = impls.UNITS
    recurrent = np.asarray(params["recurrent_kernel"])
    np.testing.assert_allclose(recurrent @ recurrent.T, np.eye(u), atol=1e-5)  # orthonormal rows
    np.testing.assert_array_equal(np.asarray(params["bias"]), np.repeat([0.0, 1.0, 0.0, 0.0], u))  # forget bias 1
    assert np.abs(np.asarray(params["kernel"])).max() <= (6 / (1 + 4 * u)) ** 0.5  # Glorot-uniform

    steps, batch, seq_len = 400, 32, 25
    x, y = impls.make_data(steps * batch, seq_len)
    batches = (x.reshape(steps, batch, seq_len, 1), y.reshape(steps, batch))
    _, losses = impls.minimal_train_call()(impls.minimal_state(params), batches)
    losses = np.asarray(losses)
    assert np.all(np.isfinite(losses))
    assert losses[-50:].mean() < 0.8 * losses[:50].mean()


def test_workers_do_not_run_code_from_the_working_directory(tmp_path, monkeypatch):
    # A keras.py or numpy.py where `lstmlab bench` is started must not be imported by the workers.
    for name in ("keras", "numpy", "jax"):
        (tmp_path / f"{name}.py").write_text(f"open({str(tmp_path / 'ran')!r}, 'a').write('{name}')\n")
    monkeypatch.chdir(tmp_path)
    worker = Worker("jax_minimal", 8, 5)
    try:
        assert worker.ask()["ready"]
    finally:
        worker.close()
    assert not (tmp_path / "ran").exists()


class FakeWorker:
    """A worker that answers at once: `SECONDS[impl]` per train step, so ratios are known exactly."""

    SECONDS = {"lstmlab": 1.0, "keras_fit": 2.0, "lstmlab_gru": 4.0, "keras_fit_gru": 3.0, "jax_minimal": 1.0}

    def __init__(self, impl, batch, seq_len):
        self.impl, self.steps = impl, steps_per_unit(impl, seq_len)

    def ask(self, command=None):
        if command is None:
            return {"ready": True}
        units = int(command.split()[1]) if command.startswith("run") else 1
        return {"seconds": self.SECONDS[self.impl] * units * self.steps}

    def close(self):
        pass


def test_gru_rows_are_compared_with_lstmlabs_gru_and_lstm_rows_with_lstmlabs_lstm(monkeypatch):
    from lstmlab.bench import driver

    monkeypatch.setattr(driver, "Worker", FakeWorker)
    rows, errors, _ = driver.bench_config(32, 25, ["lstmlab", "keras_fit", "lstmlab_gru", "keras_fit_gru"], 2, 0.5,
                                          lambda m: None)
    ratios = {r["impl"]: (r["cell"], r["ratio_to_lstmlab"]) for r in rows}
    assert not errors
    assert ratios == {"lstmlab": ("lstm", 1.0), "keras_fit": ("lstm", 2.0), "lstmlab_gru": ("gru", 1.0),
                      "keras_fit_gru": ("gru", 0.75)}


def test_the_full_bench_has_a_long_row_and_quick_leaves_the_gru_out_unless_asked(tmp_path, monkeypatch):
    from lstmlab.bench import driver
    from lstmlab.errors import UserError

    assert (32, 1000) in driver.FULL and driver.QUICK == [(32, 25)]
    timed = []
    monkeypatch.setattr(driver, "bench_config", lambda batch, seq_len, impls, *rest: (
        timed.append((batch, seq_len, tuple(impls))) or ([], {}, None)))
    with pytest.raises(UserError, match="no implementation could be timed"):  # nothing timed here
        driver.run_bench(tmp_path / "q", quick=True, reps=1, log=lambda m: None)
    assert timed and not set(timed[0][2]) & set(driver.QUICK_SKIPS) and "lstmlab" in timed[0][2]
    timed.clear()
    with pytest.raises(UserError, match="no implementation could be timed"):
        driver.run_bench(tmp_path / "g", quick=True, reps=1, impls=["lstmlab_gru"], log=lambda m: None)
    assert timed == [(32, 25, ("lstmlab_gru",))]
    for impl in BACKENDS:  # a unit at 1,000 steps is no longer than at 200
        assert steps_per_unit(impl, 1000) <= steps_per_unit(impl, 200)


def test_torch_gru_is_refused_by_name_where_torch_is_missing(tmp_path):
    import importlib.util

    from lstmlab.errors import UserError

    if importlib.util.find_spec("torch") is not None:
        pytest.skip("torch is installed here")
    with pytest.raises(UserError, match="--impls torch_gru: it cannot run here"):
        run_bench(tmp_path / "b", quick=True, reps=1, impls=["lstmlab", "torch_gru"], log=lambda m: None)
    assert not (tmp_path / "b" / "bench.json").exists()


@pytest.mark.slow
@pytest.mark.parametrize("impl", ["lstmlab_gru", "keras_fit_gru"])
def test_the_gru_workers_train_a_gru(impl):
    worker = Worker(impl, 8, 5)
    try:
        assert worker.ask() == {"ready": True}
        assert worker.ask("run 1")["seconds"] > 0
    finally:
        worker.close()

