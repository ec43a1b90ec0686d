import numpy as np
import pytest
from keras import ops

from lstmlab.rnn import LSTM

from lstm_equivalence import SHAPES, max_differences


@pytest.mark.parametrize("shape", SHAPES)
def test_equals_keras_lstm_in_outputs_and_gradients(shape):
    # Weights copied into keras.layers.LSTM: outputs, final state and all gradients agree.
    diffs = max_differences(*shape)
    assert max(diffs.values()) < 1e-5, diffs


def test_returns_every_step_and_the_final_state():
    layer = LSTM(6)
    outputs, (h, c) = layer(np.random.default_rng(0).standard_normal((3, 11, 2)).astype(np.float32))
    assert tuple(outputs.shape) == (3, 11, 6) and tuple(h.shape) == (3, 6) and tuple(c.shape) == (3, 6)
    np.testing.assert_array_equal(ops.convert_to_numpy(outputs[:, -1]), ops.convert_to_numpy(h))


def test_any_sequence_length_works_with_the_same_weights():
    layer = LSTM(4)
    x = np.random.default_rng(1).standard_normal((2, 30, 1)).astype(np.float32)
    full, _ = layer(x)
    prefix, _ = layer(x[:, :7])
    np.testing.assert_allclose(ops.convert_to_numpy(prefix), ops.convert_to_numpy(full[:, :7]), atol=1e-6)


def test_get_config_round_trips():
    layer = LSTM(5, forget_bias=2.0)
    clone = LSTM.from_config(layer.get_config())
    assert clone.units == 5 and clone.cell.forget_bias == 2.0
