"""One GRU step, written from scratch with `keras.ops`, as `keras.layers.GRU` computes it by default
(`reset_after=True`, the cuDNN-compatible form; Cho et al. 2014):

    x_z, x_r, x_h = split(x W + b_in)           (B, u) each, gates in the order z, r, h
    h_z, h_r, h_h = split(h_tm1 U + b_rec)      (B, u) each
    z = sigmoid(x_z + h_z)   r = sigmoid(x_r + h_r)
    h~ = tanh(x_h + r * h_h)                    the reset gate acts after the recurrent matmul
    h = z * h_tm1 + (1 - z) * h~

Weights as in `keras.layers.GRU`: `kernel` (in, 3u), `recurrent_kernel` (u, 3u), `bias` (2, 3u) with
the input bias in row 0 and the recurrent bias in row 1.
"""

import keras
from keras import ops

from lstmlab.cells.base import RecurrentCell
from lstmlab.core.rnn import RNN


@keras.saving.register_keras_serializable(package="lstmlab")
class GRUCell(RecurrentCell):
    """Gated recurrent unit: one state h, an update gate z and a reset gate r; biases start at zero.

    Args:
        units: size of the hidden state h.
        seed: integer seed of the weight initializers.

    Example:
        >>> h, (h,) = GRUCell(25)(ops.ones((32, 1)), [ops.zeros((32, 25))])
        >>> h.shape
        (32, 25)
    """

    kind = "gru"

    def build(self, input_shape):
        u = self.units
        kernel_init, recurrent_init = self._initializers()
        self.kernel = self.add_weight(shape=(input_shape[-1], 3 * u), initializer=kernel_init, name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(u, 3 * u), initializer=recurrent_init, name="recurrent_kernel")
        self.bias = self.add_weight(shape=(2, 3 * u), initializer="zeros", name="bias")

    def project_inputs(self, inputs):
        """(..., in) -> (..., 3u): x W + b_in for the z, r and h parts."""
        return ops.matmul(inputs, self.kernel) + self.bias[0]

    def step(self, projected, states):
        """One step from projected inputs (B, 3u) and [h_tm1] (B, u) -> (h, [h])."""
        (h_tm1,) = states
        u = self.units
        recurrent = ops.matmul(h_tm1, self.recurrent_kernel) + self.bias[1]  # (B, 3u)
        # z and r in one elementwise kernel: sigmoid(a) = (1 + tanh(a / 2)) / 2, as in the LSTM cell.
        z, r = ops.split(0.5 + 0.5 * ops.tanh(0.5 * (projected[:, : 2 * u] + recurrent[:, : 2 * u])), 2, axis=-1)
        candidate = ops.tanh(projected[:, 2 * u:] + r * recurrent[:, 2 * u:])  # (B, u)
        h = z * h_tm1 + (1 - z) * candidate
        return h, [h]


@keras.saving.register_keras_serializable(package="lstmlab")
class GRU(RNN):
    """GRUCell run over time. The class name is what Keras keys the weights file by, so a model of these
    layers saves the same layout as one of `keras.layers.GRU` and the weights load into either."""


GRUCell.layer = GRU  # the layer SequenceModel stacks for this cell
