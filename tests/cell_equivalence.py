"""Compare every lstmlab cell, run by `RNN`, with its `keras.layers` counterpart on the current backend.

Same random weights in both; then outputs, final states and the gradients with respect to every
weight and the inputs must agree. Used by test_cells.py (JAX) and by test_tensorflow_backend.py,
which runs this file as a script with KERAS_BACKEND=tensorflow: one line per cell and shape, exit
status 1 if any difference reaches TOLERANCE.
"""

import lstmlab  # noqa: F401  (first: picks the JAX backend unless KERAS_BACKEND is set)
import keras
import numpy as np

from lstmlab import cells
from lstmlab.cells.rnn import RNN

SHAPES = [(1, 1, 1, 1), (4, 7, 3, 5), (32, 25, 1, 25), (3, 40, 2, 8)]  # (batch, steps, features, units)
TOLERANCE = 1e-5
KERAS_LAYERS = {"lstm": "LSTM", "gru": "GRU", "rnn": "SimpleRNN"}  # cell name -> keras.layers class


def keras_layer(name: str, units: int) -> keras.layers.Layer:
    """The Keras layer that computes what cell `name` does, returning (outputs, *final states)."""
    if name not in KERAS_LAYERS:
        raise KeyError(f"cell {name!r} has no Keras counterpart: add it to KERAS_LAYERS in {__file__}")
    # Keras defaults (GRU: reset_after=True, the form GRUCell implements), except zero initial weights:
    # the tests overwrite them, and an orthogonal initializer costs a compilation per shape on JAX.
    return getattr(keras.layers, KERAS_LAYERS[name])(units, return_sequences=True, return_state=True,
                                                     kernel_initializer="zeros", recurrent_initializer="zeros")


def max_differences(name, batch, steps, features, units, seed=0):
    """Max |ours - keras| over outputs, each final state, and gradients wrt each weight and the inputs."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, steps, features)).astype(np.float32)
    probe = rng.standard_normal((batch, steps, units)).astype(np.float32)  # random cotangent for the outputs

    ours = RNN(cells.get(name)(units), return_sequences=True, return_state=True)
    ours.build(x.shape)
    reference = keras_layer(name, units)
    reference.build(x.shape)
    # set_weights checks shapes only: equal names make sure each array lands in the same role in both.
    names = [v.name for v in ours.trainable_variables]
    assert names == [v.name for v in reference.trainable_variables], (names, reference.trainable_variables)
    # N(0, 0.5^2) weights, but the recurrent kernel with std 1/sqrt(units) (spectral radius about 1):
    # with 0.5 the simple RNN at 25 units is chaotic (radius ~2.7) and amplifies float32 rounding
    # geometrically, so Keras and lstmlab both drift ~1e-4 from a float64 run and the comparison
    # would measure rounding, not the equations.
    scales = [units ** -0.5 if v.name == "recurrent_kernel" else 0.5 for v in ours.weights]
    weights = [rng.standard_normal(v.shape).astype(np.float32) * scale for v, scale in zip(ours.weights, scales)]
    ours.set_weights(weights)
    reference.set_weights(weights)

    results = [_forward_and_grads(ours, x, probe), _forward_and_grads(reference, x, probe)]
    assert results[0].keys() == results[1].keys(), (results[0].keys(), results[1].keys())
    return {key: float(np.max(np.abs(np.asarray(results[0][key]) - np.asarray(results[1][key])))) for key in results[0]}


def _objective(outputs, states, probe):
    # Means keep every gradient O(1), so an absolute tolerance means the same at every shape; distinct
    # weights per state make a swapped state (h for c) show up in the gradients.
    ops = keras.ops
    return ops.mean(outputs * probe) + sum((k + 1) * ops.mean(state) for k, state in enumerate(states))


def _split(result):  # (outputs, *states), as both layers return it -> (outputs, [states])
    outputs, *states = result
    return outputs, states


def _forward_and_grads(layer, x, probe):
    """{outputs, states[k], grad_<weight name>, grad_inputs} for `layer` on x (B, T, in)."""
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        def loss_fn(weights, inputs):
            # stateless_call runs layer.call with `weights` in place of the variables
            outputs, states = _split(layer.stateless_call(weights, frozen, inputs)[0])
            return _objective(outputs, states, probe), (outputs, states)

        weights = [v.value for v in layer.trainable_variables]
        frozen = [v.value for v in layer.non_trainable_variables]  # Keras's RNN layers hold a seed state
        grad_fn = jax.jit(jax.value_and_grad(loss_fn, argnums=(0, 1), has_aux=True))  # one compiled program
        (_, (outputs, states)), (g_w, g_x) = grad_fn(weights, x)
    elif backend == "tensorflow":
        import tensorflow as tf

        inputs = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            outputs, states = _split(layer(inputs))
            total = _objective(outputs, states, probe)
        *g_w, g_x = tape.gradient(total, [*layer.trainable_variables, inputs])
    else:
        raise RuntimeError(f"no gradient helper for backend {backend}")
    out = {"outputs": outputs, **{f"states[{k}]": state for k, state in enumerate(states)}, "grad_inputs": g_x}
    for variable, g in zip(layer.trainable_variables, g_w):
        out[f"grad_{variable.name}"] = g
    return out


if __name__ == "__main__":
    worst = 0.0
    for name in cells.NAMES:
        if name not in KERAS_LAYERS:  # allowed (README: "if it has a Keras counterpart"), but said
            print(keras.backend.backend(), name, "has no Keras counterpart: not compared", flush=True)
            continue
        for shape in SHAPES:
            diffs = max_differences(name, *shape)
            worst = max(worst, max(diffs.values()))
            print(keras.backend.backend(), name, shape, {k: f"{v:.2e}" for k, v in diffs.items()}, flush=True)
    print(f"max abs difference {worst:.3e} (tolerance {TOLERANCE:.0e})")
    raise SystemExit(0 if worst < TOLERANCE else 1)
