"""Runs any recurrent cell (see `cells/base.py`) over time as a compiled scan."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="lstmlab")
class RNN(keras.layers.Layer):
    """A recurrent layer: `cell` applied at every step of a (B, T, in) sequence, state starting at zero.

    The input projection of all T steps is one matmul before the loop; the loop itself is
    `keras.ops.scan`, which compiles the step once (a Python loop over time would unroll it T times).
    The layer never looks inside the state: it carries whatever list `cell.state_size` describes.

    Args:
        cell: a `RecurrentCell` (lstmlab.cells).

    Example:
        >>> outputs, (h, c) = RNN(LSTMCell(25))(ops.ones((32, 10, 1)))
        >>> outputs.shape, h.shape
        ((32, 10, 25), (32, 25))
    """

    def __init__(self, cell, **kwargs):
        super().__init__(**kwargs)
        self.cell = cell
        self.units = cell.units

    def build(self, input_shape):
        if not self.cell.built:  # a deserialised cell arrives built from its saved build config
            self.cell.build(input_shape)

    def call(self, inputs, initial_state=None):
        """inputs (B, T, in) -> outputs (B, T, u) and the final states (one (B, width) array per state)."""
        projected = ops.transpose(self.cell.project_inputs(inputs), (1, 0, 2))  # (T, B, G), time first
        if initial_state is None:
            initial_state = self.cell.zero_state(projected[0])

        def step(carry, projected_t):
            h, states = self.cell.step(projected_t, list(carry))
            # ys mirror the carry (the TensorFlow backend's scan requires it); h rides along in front.
            return tuple(states), (h, *states)

        final, (hs, *_) = ops.scan(step, tuple(initial_state), projected)  # hs: (T, B, u)
        return ops.transpose(hs, (1, 0, 2)), list(final)

    def compute_output_spec(self, inputs, initial_state=None):
        batch, steps = inputs.shape[0], inputs.shape[1]
        states = [keras.KerasTensor((batch, width), dtype=self.compute_dtype) for width in self.cell.state_size]
        return keras.KerasTensor((batch, steps, self.units), dtype=self.compute_dtype), states

    def get_config(self):
        return {**super().get_config(), "cell": keras.saving.serialize_keras_object(self.cell)}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        cell = keras.saving.deserialize_keras_object(config.pop("cell"))
        return cls(cell, **config)
