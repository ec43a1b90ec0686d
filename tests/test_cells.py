"""Every recurrent cell: its equations (golden values), its Keras weight layout, its config, and
equality with the matching keras.layers RNN (JAX here; TensorFlow in test_tensorflow_backend.py)."""

import keras
import numpy as np
import pytest
from keras import ops

from lstmlab import cells
from lstmlab.cells.gru import GRUCell
from lstmlab.cells.lstm import LSTMCell
from lstmlab.cells.simple_rnn import SimpleRNNCell
from lstmlab.errors import ConfigError

from cell_equivalence import KERAS_LAYERS, SHAPES, TOLERANCE, keras_layer, max_differences


def sig(v):
    return 1 / (1 + np.exp(-v))


def one_step(cell, weights, x, states):
    """Build `cell` for x (B, in), set `weights` (in cell.weights order) and run one step -> NumPy (h, states)."""
    cell.build(x.shape)
    for variable, value in zip(cell.weights, weights):
        variable.assign(np.asarray(value, np.float32))
    h, new_states = cell(np.asarray(x, np.float32), [np.asarray(s, np.float32) for s in states])
    return ops.convert_to_numpy(h), [ops.convert_to_numpy(s) for s in new_states]


# --- golden values: one step with constant weights, the equations written out by hand ---


def test_lstm_one_step_matches_the_lstm_equations_with_constant_weights():
    # Golden values by hand: kernel 0.1, recurrent 0.2, bias default (f gate 1), x = 1, h = c = 0.5.
    cell = LSTMCell(2)
    cell.build((1, 1))
    cell.kernel.assign(np.full((1, 8), 0.1, np.float32))
    cell.recurrent_kernel.assign(np.full((2, 8), 0.2, np.float32))
    h, (h2, c) = cell(np.ones((1, 1), np.float32), [np.full((1, 2), 0.5, np.float32)] * 2)
    z = 0.1 + 0.2 * 0.5 * 2  # 0.3 before bias
    c_expected = sig(z + 1) * 0.5 + sig(z) * np.tanh(z)
    h_expected = sig(z) * np.tanh(c_expected)
    np.testing.assert_allclose(ops.convert_to_numpy(c), np.full((1, 2), c_expected), rtol=1e-6)
    np.testing.assert_allclose(ops.convert_to_numpy(h), np.full((1, 2), h_expected), rtol=1e-6)
    np.testing.assert_array_equal(ops.convert_to_numpy(h), ops.convert_to_numpy(h2))


def test_gru_one_step_matches_the_gru_equations_with_constant_weights():
    # A different constant per gate block (z, r, h) and per bias row, so a swapped gate or bias row
    # changes the result. x = 1 (B=1, in=1), h_tm1 = 0.5 in both units, so h_tm1 U = 0.5 * 2 * U.
    kernel = np.repeat([0.1, 0.2, 0.3], 2)[None]  # (1, 6): z, r, h
    recurrent = np.tile(np.repeat([-0.2, 0.1, 0.4], 2), (2, 1))  # (2, 6)
    bias = np.array([np.repeat([0.0, 0.1, -0.1], 2), np.repeat([0.2, 0.0, 0.3], 2)])  # (2, 6): input, recurrent
    h, (h2,) = one_step(GRUCell(2), [kernel, recurrent, bias], np.ones((1, 1)), [np.full((1, 2), 0.5)])
    z = sig((0.1 + 0.0) + (-0.2 * 0.5 * 2 + 0.2))
    r = sig((0.2 + 0.1) + (0.1 * 0.5 * 2 + 0.0))
    candidate = np.tanh((0.3 - 0.1) + r * (0.4 * 0.5 * 2 + 0.3))  # reset applied after the recurrent matmul
    expected = z * 0.5 + (1 - z) * candidate
    np.testing.assert_allclose(h, np.full((1, 2), expected), rtol=1e-6)
    np.testing.assert_array_equal(h, h2)


def test_simple_rnn_one_step_matches_tanh_of_the_affine_map():
    # Two inputs x = (1, -2) so the kernel's (in, u) orientation matters; h_tm1 = 0.5.
    kernel = np.array([[0.1, 0.1], [0.3, 0.3]])  # (2, 2)
    h, (h2,) = one_step(SimpleRNNCell(2), [kernel, np.full((2, 2), 0.2), np.full((2,), 0.05)],
                        np.array([[1.0, -2.0]]), [np.full((1, 2), 0.5)])
    expected = np.tanh(0.1 * 1 + 0.3 * -2 + 0.2 * 0.5 * 2 + 0.05)
    np.testing.assert_allclose(h, np.full((1, 2), expected), rtol=1e-6)
    np.testing.assert_array_equal(h, h2)


def test_gate_activations_equal_sigmoid_and_tanh():
    cell = LSTMCell(4)
    z = np.linspace(-30, 30, 5 * 16, dtype=np.float32).reshape(5, 16)
    got = ops.convert_to_numpy(cell.gate_activations(z))
    sigmoid = sig(z.astype(np.float64))
    expected = np.concatenate([sigmoid[:, :8], np.tanh(z[:, 8:12]), sigmoid[:, 12:]], axis=1)
    np.testing.assert_allclose(got, expected, atol=1e-6)


# --- weights: Keras's names, shapes and initial biases ---

# cell -> shapes of kernel, recurrent_kernel, bias for 2 inputs and 3 units
WEIGHT_SHAPES = {"lstm": [(2, 12), (3, 12), (12,)], "gru": [(2, 9), (3, 9), (2, 9)], "rnn": [(2, 3), (3, 3), (3,)]}


@pytest.mark.parametrize("name", KERAS_LAYERS)
def test_weights_have_the_names_and_shapes_of_the_keras_layer(name):
    cell = cells.get(name)(3)
    cell.build((None, 2))
    reference = keras_layer(name, 3)
    reference.build((None, 5, 2))
    layout = [(w.path.split("/")[-1], tuple(w.shape)) for w in cell.weights]
    assert layout == [(w.path.split("/")[-1], tuple(w.shape)) for w in reference.weights]
    assert layout == list(zip(["kernel", "recurrent_kernel", "bias"], WEIGHT_SHAPES[name]))


def test_lstm_forget_bias_starts_at_one_and_the_other_biases_at_zero():
    cell = LSTMCell(3)
    cell.build((None, 2))
    bias = ops.convert_to_numpy(cell.bias)  # (12,): i, f, c, o
    assert bias[3:6].tolist() == [1, 1, 1] and not bias[:3].any() and not bias[6:].any()


def test_lstm_forget_bias_is_configurable():
    cell = LSTMCell(2, forget_bias=2.5)
    cell.build((None, 1))
    assert ops.convert_to_numpy(cell.bias).tolist() == [0, 0, 2.5, 2.5, 0, 0, 0, 0]


@pytest.mark.parametrize("name", ["gru", "rnn"])
def test_gru_and_simple_rnn_biases_start_at_zero(name):
    cell = cells.get(name)(3)
    cell.build((None, 2))
    bias = ops.convert_to_numpy(cell.bias)
    assert bias.size > 0 and not bias.any()


@pytest.mark.parametrize("name", cells.NAMES)
def test_a_seed_fixes_the_initial_weights(name):
    # The model's reproducibility rests on this: same seed, same weights; another seed, others.
    def weights(seed):
        cell = cells.get(name)(4, seed=seed)
        cell.build((None, 2))
        return [ops.convert_to_numpy(w) for w in (cell.kernel, cell.recurrent_kernel)]

    first, again, other = weights(3), weights(3), weights(4)
    for a, b, c in zip(first, again, other):
        np.testing.assert_array_equal(a, b)
        assert not np.allclose(a, c)


# --- configuration ---


@pytest.mark.parametrize("name", cells.NAMES)
def test_get_config_round_trips(name):
    cls = cells.get(name)
    cell = cls(7, seed=11, name="c")
    clone = cls.from_config(cell.get_config())
    assert (type(clone), clone.units, clone.seed, clone.name) == (cls, 7, 11, "c")
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(cell))
    assert type(restored) is cls and restored.get_config() == cell.get_config()


def test_lstm_config_keeps_the_forget_bias():
    cell = LSTMCell(7, forget_bias=0.5, name="c")
    clone = LSTMCell.from_config(cell.get_config())
    assert (clone.units, clone.forget_bias, clone.name) == (7, 0.5, "c")
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(cell))
    assert isinstance(restored, LSTMCell) and restored.forget_bias == 0.5


@pytest.mark.parametrize("name", cells.NAMES)
@pytest.mark.parametrize("units", [0, -3, 2.5, "4", True, None])
def test_invalid_units_are_rejected_with_the_value(name, units):
    with pytest.raises(ValueError, match="units"):
        cells.get(name)(units)


@pytest.mark.parametrize("name", cells.NAMES)
@pytest.mark.parametrize("seed", [1.5, "3", True])
def test_invalid_seeds_are_rejected(name, seed):
    with pytest.raises(ValueError, match="seed"):
        cells.get(name)(2, seed=seed)


# --- equality with Keras's own layers ---


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("name", cells.NAMES)
def test_equals_the_keras_layer_in_outputs_states_and_gradients(name, shape):
    # Same random weights in RNN(cell) and keras.layers.<LSTM|GRU|SimpleRNN>: everything agrees.
    if name not in KERAS_LAYERS:
        pytest.skip(f"cell {name!r} has no Keras counterpart")
    diffs = max_differences(name, *shape)
    assert max(diffs.values()) < TOLERANCE, diffs


# --- the registry ---


def test_names_are_the_kinds_the_registry_returns():
    assert tuple(cells.get(name).kind for name in cells.NAMES) == cells.NAMES
    assert sorted(cells._classes()) == sorted(cells.NAMES)  # no registered class missing from NAMES
    assert set(KERAS_LAYERS) <= set(cells.NAMES)  # the comparison names real cells


def test_an_unknown_cell_is_a_config_error_listing_the_choices():
    with pytest.raises(ConfigError, match="lstm, gru, rnn"):
        cells.get("lsmt")


# --- gate blocks: declared by each cell, used by the memory estimate ---


@pytest.mark.parametrize("name", cells.NAMES)
def test_gate_blocks_are_the_blocks_of_the_kernels(name):
    cell = cells.get(name)(3)
    cell.build((None, 2))
    assert tuple(cell.kernel.shape) == (2, cell.gate_blocks * 3)
    assert tuple(cell.recurrent_kernel.shape) == (3, cell.gate_blocks * 3)


def test_the_memory_estimate_follows_the_cells_gate_blocks():
    from lstmlab.config import RunConfig
    from lstmlab.core.budget import estimate

    memory = {name: estimate(RunConfig(cells=(name,))).memory_bytes for name in cells.NAMES}
    assert memory["lstm"] > memory["gru"] > memory["rnn"]  # 4, 3 and 1 gate blocks
    assert estimate(RunConfig(cells=("rnn", "lstm"))).memory_bytes == memory["lstm"]  # the largest cell sizes it
