"""Compare lstmlab's LSTM with keras.layers.LSTM on the current backend: outputs and gradients.

Used by test_cell.py (JAX) and by test_tensorflow_backend.py, which runs this file as a script with
KERAS_BACKEND=tensorflow.
"""

import lstmlab  # noqa: F401  (first: picks the JAX backend unless KERAS_BACKEND is set)
import keras
import numpy as np
from lstmlab.core.rnn import LSTM

SHAPES = [(1, 1, 1, 1), (4, 7, 3, 5), (32, 25, 1, 25), (3, 40, 2, 8)]  # (batch, steps, features, units)


def max_differences(batch, steps, features, units, seed=0):
    """Max |ours - keras| over outputs, final states, and gradients wrt weights and inputs."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, steps, features)).astype(np.float32)
    probe = rng.standard_normal((batch, steps, units)).astype(np.float32)  # random cotangent

    ours = LSTM(units)
    ours.build(x.shape)
    weights = [rng.standard_normal(w.shape).astype(np.float32) * 0.5 for w in ours.weights]
    ours.set_weights(weights)
    reference = keras.layers.LSTM(units, return_sequences=True, return_state=True)
    reference.build(x.shape)
    reference.set_weights(weights)

    def run_ours(layer, inputs):
        outputs, (h, c) = layer(inputs)
        return outputs, h, c

    def run_reference(layer, inputs):
        return tuple(layer(inputs))

    results = [_forward_and_grads(run_ours, ours, x, probe), _forward_and_grads(run_reference, reference, x, probe)]
    return {key: float(np.max(np.abs(np.asarray(results[0][key]) - np.asarray(results[1][key])))) for key in results[0]}


def _objective(outputs, h, c, probe):
    # Means keep every gradient O(1), so an absolute tolerance means the same at every shape.
    ops = keras.ops
    return ops.mean(outputs * probe) + ops.mean(h) + 2 * ops.mean(c)


def _forward_and_grads(run, layer, x, probe):
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        def loss_fn(weights, inputs):
            # stateless_call runs layer.call with `weights` in place of the variables
            outputs, h, c = _unpack(layer.stateless_call(weights, frozen, inputs)[0])
            return _objective(outputs, h, c, probe), (outputs, h, c)

        weights = [v.value for v in layer.trainable_variables]
        frozen = [v.value for v in layer.non_trainable_variables]  # keras.layers.LSTM has a seed state
        (_, (outputs, h, c)), (g_w, g_x) = jax.value_and_grad(loss_fn, argnums=(0, 1), has_aux=True)(weights, x)
    elif backend == "tensorflow":
        import tensorflow as tf

        inputs = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            outputs, h, c = run(layer, inputs)
            total = _objective(outputs, h, c, probe)
        *g_w, g_x = tape.gradient(total, [*layer.trainable_variables, inputs])
    else:
        raise RuntimeError(f"no gradient helper for backend {backend}")
    out = {"outputs": outputs, "h": h, "c": c, "grad_inputs": g_x}
    for name, g in zip(["kernel", "recurrent_kernel", "bias"], g_w):
        out[f"grad_{name}"] = g
    return out


def _unpack(result):
    """(outputs, [h, c]) from lstmlab or [outputs, h, c] from keras -> (outputs, h, c)."""
    if len(result) == 2:
        outputs, (h, c) = result
        return outputs, h, c
    return tuple(result)


if __name__ == "__main__":
    worst = 0.0
    for shape in SHAPES:
        diffs = max_differences(*shape)
        worst = max(worst, max(diffs.values()))
        print(keras.backend.backend(), shape, {k: f"{v:.2e}" for k, v in diffs.items()})
    print(f"max abs difference {worst:.3e}")
    raise SystemExit(0 if worst < 1e-5 else 1)
