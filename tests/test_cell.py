import keras
import numpy as np
import pytest
from keras import ops

from lstmlab.cells.lstm import LSTMCell


def test_one_step_matches_the_lstm_equations_with_constant_weights():
    # Golden values by hand: kernel 0.1, recurrent 0.2, bias default (f gate 1), x = 1, h = c = 0.5.
    cell = LSTMCell(2)
    cell.build((1, 1))
    cell.kernel.assign(np.full((1, 8), 0.1, np.float32))
    cell.recurrent_kernel.assign(np.full((2, 8), 0.2, np.float32))
    h, (h2, c) = cell(np.ones((1, 1), np.float32), [np.full((1, 2), 0.5, np.float32)] * 2)
    z = 0.1 + 0.2 * 0.5 * 2  # 0.3 before bias
    sig = lambda v: 1 / (1 + np.exp(-v))
    c_expected = sig(z + 1) * 0.5 + sig(z) * np.tanh(z)
    h_expected = sig(z) * np.tanh(c_expected)
    np.testing.assert_allclose(ops.convert_to_numpy(c), np.full((1, 2), c_expected), rtol=1e-6)
    np.testing.assert_allclose(ops.convert_to_numpy(h), np.full((1, 2), h_expected), rtol=1e-6)
    np.testing.assert_array_equal(ops.convert_to_numpy(h), ops.convert_to_numpy(h2))


def test_weights_use_the_keras_layout_and_the_forget_bias_starts_at_one():
    cell = LSTMCell(3)
    cell.build((None, 2))
    assert [w.path.split("/")[-1] for w in cell.weights] == ["kernel", "recurrent_kernel", "bias"]
    assert [tuple(w.shape) for w in cell.weights] == [(2, 12), (3, 12), (12,)]
    bias = ops.convert_to_numpy(cell.bias)
    assert bias[3:6].tolist() == [1, 1, 1] and not bias[:3].any() and not bias[6:].any()


def test_gate_activations_equal_sigmoid_and_tanh():
    cell = LSTMCell(4)
    z = np.linspace(-30, 30, 5 * 16, dtype=np.float32).reshape(5, 16)
    got = ops.convert_to_numpy(cell.gate_activations(z))
    sig = 1 / (1 + np.exp(-z.astype(np.float64)))
    expected = np.concatenate([sig[:, :8], np.tanh(z[:, 8:12]), sig[:, 12:]], axis=1)
    np.testing.assert_allclose(got, expected, atol=1e-6)


def test_get_config_round_trips():
    cell = LSTMCell(7, forget_bias=0.5, name="c")
    clone = LSTMCell.from_config(cell.get_config())
    assert (clone.units, clone.forget_bias, clone.name) == (7, 0.5, "c")
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(cell))
    assert isinstance(restored, LSTMCell) and restored.units == 7


@pytest.mark.parametrize("units", [0, -3, 2.5, "4", True])
def test_invalid_units_are_rejected_with_the_value(units):
    with pytest.raises(ValueError, match="units"):
        LSTMCell(units)
