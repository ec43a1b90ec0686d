"""Runs an LSTMCell over time as a compiled scan."""

import keras
from keras import ops

from lstmlab.cell import LSTMCell


@keras.saving.register_keras_serializable(package="lstmlab")
class LSTM(keras.layers.Layer):
    """An LSTM layer: the cell applied at every step of a (B, T, in) sequence, state starting at zero.

    The input projection of all T steps is one matmul before the loop; the loop itself is
    `keras.ops.scan`, which compiles the step once (a Python loop over time would unroll it T times).

    Args:
        units: size of the hidden and cell state.
        forget_bias: initial forget-gate bias of the cell.
        seed: integer seed of the cell's weight initializers.

    Example:
        >>> outputs, (h, c) = LSTM(25)(ops.ones((32, 10, 1)))
        >>> outputs.shape, h.shape
        ((32, 10, 25), (32, 25))
    """

    def __init__(self, units: int, forget_bias: float = 1.0, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.cell = LSTMCell(units, forget_bias=forget_bias, seed=seed, name="cell")
        self.units = units

    def build(self, input_shape):
        self.cell.build(input_shape)

    def call(self, inputs, initial_state=None):
        """inputs (B, T, in) -> outputs (B, T, u) and the final state [h, c] (B, u) each."""
        projected = ops.transpose(self.cell.project_inputs(inputs), (1, 0, 2))  # (T, B, 4u), time first
        if initial_state is None:
            zeros = ops.zeros_like(projected[0, :, : self.units])  # (B, u); works for unknown B
            initial_state = [zeros, zeros]

        def step(carry, projected_t):
            _, (h, c) = self.cell.step(projected_t, list(carry))
            # ys mirror the carry: the TensorFlow backend's scan requires it.
            return (h, c), (h, c)

        (h, c), (hs, _) = ops.scan(step, tuple(initial_state), projected)  # hs: (T, B, u)
        return ops.transpose(hs, (1, 0, 2)), [h, c]

    def compute_output_spec(self, inputs, initial_state=None):
        batch, steps = inputs.shape[0], inputs.shape[1]
        state = keras.KerasTensor((batch, self.units), dtype=self.compute_dtype)
        return keras.KerasTensor((batch, steps, self.units), dtype=self.compute_dtype), [state, state]

    def get_config(self):
        return {**super().get_config(), "units": self.units, "forget_bias": self.cell.forget_bias, "seed": self.cell.seed}
