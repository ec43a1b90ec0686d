"""The generic recurrent layer `RNN(cell)`, for every cell: it only knows the cell's protocol, so each
property must hold whatever the state looks like (LSTM: [h, c]; GRU, simple RNN: [h])."""

import keras
import numpy as np
import pytest
from keras import ops

from lstmlab import cells
from lstmlab.cells.rnn import RNN

pytestmark = pytest.mark.parametrize("name", cells.NAMES)


# One batch size, width and input width throughout: JAX compiles each op once per shape, so shared
# shapes keep this file fast; only the sequence lengths vary.
B, F, U = 2, 3, 4  # batch, features, units


def layer_for(name, seed=0, **options):
    """RNN(cell) returning every step and the final states, as SequenceModel runs it."""
    return RNN(cells.get(name)(U, seed=seed, **options), return_sequences=True, return_state=True)


def numpy(tensors):
    return [ops.convert_to_numpy(t) for t in tensors]


def sequence(steps, seed=0):
    return np.random.default_rng(seed).standard_normal((B, steps, F)).astype(np.float32)  # (B, T, F)


def test_returns_every_step_and_one_final_state_per_state_size_entry(name):
    layer = layer_for(name)
    outputs, *states = layer(sequence(11))
    assert tuple(outputs.shape) == (B, 11, U)
    assert [tuple(s.shape) for s in states] == [(B, width) for width in layer.cell.state_size]


def test_the_scan_equals_a_python_loop_over_the_cells_steps(name):
    # The layer's compiled loop must compute what calling the cell step by step does.
    layer = layer_for(name)
    x = sequence(9)
    outputs, *states = layer(x)
    loop_states = layer.cell.zero_state(x[:, 0])
    loop_outputs = []
    for t in range(x.shape[1]):
        h, loop_states = layer.cell(x[:, t], loop_states)
        loop_outputs.append(ops.convert_to_numpy(h))
    np.testing.assert_allclose(ops.convert_to_numpy(outputs), np.stack(loop_outputs, axis=1), atol=1e-6)
    for got, expected in zip(numpy(states), numpy(loop_states)):
        np.testing.assert_allclose(got, expected, atol=1e-6)


@pytest.mark.parametrize("steps", [1, 7])
def test_any_sequence_length_works_with_the_same_weights(name, steps):
    layer = layer_for(name)
    x = sequence(30)
    full, *_ = layer(x)
    prefix, *_ = layer(x[:, :steps])
    np.testing.assert_allclose(ops.convert_to_numpy(prefix), ops.convert_to_numpy(full[:, :steps]), atol=1e-6)


def test_initial_state_is_honoured_so_a_sequence_can_be_run_in_two_parts(name):
    # T steps at once == the first k steps, then the rest from the returned state (truncated BPTT relies on it).
    layer = layer_for(name)
    x, k = sequence(20), 8
    full, *full_states = layer(x)
    first, *middle_states = layer(x[:, :k])
    rest, *final_states = layer(x[:, k:], initial_state=middle_states)
    np.testing.assert_allclose(ops.convert_to_numpy(ops.concatenate([first, rest], axis=1)),
                               ops.convert_to_numpy(full), atol=1e-6)
    for got, expected in zip(numpy(final_states), numpy(full_states)):
        np.testing.assert_allclose(got, expected, atol=1e-6)
    # and the state matters: starting the rest from zeros gives other outputs
    from_zero, *_ = layer(x[:, k:])
    assert not np.allclose(ops.convert_to_numpy(from_zero), ops.convert_to_numpy(rest), atol=1e-3)


def test_works_in_a_functional_model_with_unknown_batch_and_length(name):
    # compute_output_spec: symbolic shapes come from the cell's units and state_size.
    inputs = keras.Input((None, F))  # (B, T, F) with B and T unknown
    outputs, *states = layer_for(name)(inputs)
    assert tuple(outputs.shape) == (None, None, U)
    assert [tuple(s.shape) for s in states] == [(None, U)] * len(states)
    model = keras.Model(inputs, outputs)
    assert tuple(model(sequence(4)).shape) == (B, 4, U)


OPTIONS = {"lstm": {"forget_bias": 2.0}}  # a cell's own options must survive too


def round_trip(layer):
    return keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))


def test_serializes_with_its_cell(name):
    cell_class = cells.get(name)
    layer = RNN(cell_class(U, seed=3, name="c", **OPTIONS.get(name, {})), return_sequences=True, name="r")
    restored = round_trip(layer)
    assert isinstance(restored, RNN) and restored.name == "r" and restored.units == U and restored.return_sequences
    assert type(restored.cell) is cell_class and restored.cell.get_config() == layer.cell.get_config()
    # the same weights give the same outputs: nothing the computation needs was lost
    x = sequence(6)
    expected = layer(x)
    restored.build(x.shape)
    restored.set_weights(layer.get_weights())
    got = restored(x)
    np.testing.assert_array_equal(ops.convert_to_numpy(got), ops.convert_to_numpy(expected))


def test_a_built_layer_deserializes(name):
    layer = layer_for(name)
    layer(sequence(6))  # builds it; its serialization now carries build configs
    restored = round_trip(layer)
    assert restored.built and [tuple(w.shape) for w in restored.weights] == [tuple(w.shape) for w in layer.weights]
