"""--forget-bias and --init chrono (core/gate_init.py): the biases they set, the defaults they leave alone,
the cells they refuse, and that training sees them."""

import numpy as np
import pytest

from lstmlab import tasks
from lstmlab.config import ConfigError, ModelConfig, RunConfig, TaskConfig, TrainConfig
from lstmlab.core.gate_init import chrono_biases, initialize_gates
from lstmlab.core.model import build_model

TASK = tasks.of(TaskConfig(name="adding", seq_len=22, n_train=64, n_val=32, n_test=32))
U = 6


def biases(cell: str, **train):
    model = build_model(ModelConfig(cell, 2, U), seed=0, task=TASK)
    initialize_gates(model, TrainConfig(**train), TASK.config.seq_len)
    return [np.asarray(rnn.cell.bias) for rnn in model.rnns], model


def test_the_defaults_leave_todays_initial_weights_exactly():
    model = build_model(ModelConfig("lstm", 1, U), seed=0, task=TASK)
    before = [np.array(w) for w in model.get_weights()]
    initialize_gates(model, TrainConfig(), TASK.config.seq_len)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    (lstm, _), _ = biases("lstm")
    np.testing.assert_array_equal(lstm, np.r_[np.zeros(U), np.ones(U), np.zeros(2 * U)])  # forget bias 1
    (gru, _), _ = biases("gru")
    np.testing.assert_array_equal(gru, np.zeros((2, 3 * U)))


def test_forget_bias_sets_the_lstm_forget_gate_and_the_gru_update_gate_only():
    (lstm, _), _ = biases("lstm", forget_bias=3.0)
    np.testing.assert_array_equal(lstm, np.r_[np.zeros(U), np.full(U, 3.0), np.zeros(2 * U)])
    (gru, _), model = biases("gru", forget_bias=3.0)
    np.testing.assert_array_equal(gru[0], np.r_[np.full(U, 3.0), np.zeros(2 * U)])
    np.testing.assert_array_equal(gru[1], np.zeros(3 * U))
    # The update gate keeps the state: with a large bias and no input the GRU's state barely moves.
    from keras import ops

    cell = model.rnns[1].cell
    h = np.full((1, U), 0.5, np.float32)
    new, _ = cell(ops.zeros((1, U)), [ops.convert_to_tensor(h)])
    kept = 1 / (1 + np.exp(-3.0))
    assert np.all(np.abs(np.asarray(new) - 0.5) <= (1 - kept) * 1.5 + 1e-6)


def test_chrono_draws_log_u_per_unit_with_input_biases_their_negatives():
    keep, admit = chrono_biases(10_000, 100, np.random.default_rng(0))
    u = np.exp(keep.astype(np.float64))
    assert 1 <= u.min() < 1.1 and 98 < u.max() <= 99  # u ~ U(1, T_max - 1)
    np.testing.assert_array_equal(admit, -keep)
    (first, second), _ = biases("lstm", init="chrono", chrono_max=50)
    for bias in (first, second):
        assert np.all((bias[U: 2 * U] >= 0) & (bias[U: 2 * U] <= np.log(49) + 1e-6))
        np.testing.assert_array_equal(bias[:U], -bias[U: 2 * U])
        np.testing.assert_array_equal(bias[2 * U:], 0)
    assert not np.array_equal(first, second)  # each layer its own draw
    again, _ = biases("lstm", init="chrono", chrono_max=50)
    np.testing.assert_array_equal(again[0], first)  # a function of the init seed
    other, _ = biases("lstm", init="chrono", chrono_max=50, init_seed=1)
    assert not np.array_equal(other[0], first)


def test_chrono_for_the_gru_gives_the_lstms_keep_and_admit_rates():
    (lstm, _), _ = biases("lstm", init="chrono")
    (gru, _), _ = biases("gru", init="chrono")
    sigmoid = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    np.testing.assert_allclose(sigmoid(gru[0, :U] + gru[1, :U]), sigmoid(lstm[U: 2 * U]))  # keep z = f
    np.testing.assert_allclose(1 - sigmoid(gru[0, :U]), sigmoid(lstm[:U]), rtol=1e-5)  # admit 1 - z = i


def test_chrono_max_defaults_to_the_tasks_length():
    (bias, _), _ = biases("lstm", init="chrono")
    assert np.log(TASK.config.seq_len - 1) >= bias[U: 2 * U].max()
    keep, _ = chrono_biases(U, TASK.config.seq_len, np.random.default_rng([0, 0xC40E0, 0]))
    np.testing.assert_array_equal(bias[U: 2 * U], keep)


@pytest.mark.parametrize("train,message", [
    ({"forget_bias": 2.0}, "the rnn cell has no gate that keeps its state"),
    ({"init": "chrono"}, "the rnn cell has no gate that keeps its state"),
])
def test_the_simple_rnn_is_refused_in_one_line(train, message):
    with pytest.raises(ConfigError, match=message):
        RunConfig(cells=("lstm", "rnn"), train=TrainConfig(**train))


@pytest.mark.parametrize("train,message", [
    ({"chrono_max": 10}, "chrono_max applies to init chrono"),
    ({"init": "chrono", "chrono_max": 2}, "chrono_max must be an integer >= 3"),
    ({"init": "chrono", "forget_bias": 2.0}, "both set the forget biases"),
    ({"init": "warm"}, "init must be one of default, chrono"),
    ({"forget_bias": float("nan")}, "forget_bias must be a finite number"),
])
def test_bad_values_are_refused(train, message):
    with pytest.raises(ConfigError, match=message):
        TrainConfig(**train)


def test_a_plug_in_cell_without_a_keep_gate_refuses_at_build(tmp_path):
    from lstmlab.cells.simple_rnn import SimpleRNNCell

    model = build_model(ModelConfig(SimpleRNNCell, 1, U), seed=0, task=TASK)
    with pytest.raises(ConfigError, match="no gate that keeps its state"):
        initialize_gates(model, TrainConfig(forget_bias=2.0), 22)


def test_the_forget_bias_changes_training():
    from lstmlab.core.batches import stack_batches
    from lstmlab.core.train import Trainer

    data = TASK.generate()
    losses = {}
    for bias in (None, 4.0):
        train = TrainConfig(forget_bias=bias, learning_rate=0.01)
        model = build_model(ModelConfig("lstm", 1, U), seed=0, task=TASK)
        initialize_gates(model, train, 22)
        losses[bias] = Trainer(model, train, TASK).train_steps(*stack_batches(*data["train"], 32))
    assert not np.allclose(losses[None], losses[4.0])
