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

from lstmlab.cells.base import RecurrentCell, tanh
from lstmlab.cells.rnn import CellRNN


@keras.saving.register_keras_serializable(package="lstmlab")
class GRUCell(RecurrentCell):
    """Gated recurrent unit: one state h, an update gate z and a reset gate r; biases start at zero.

    Args:
        units: size of the hidden state h.
        seed: integer seed of the weight initializers.
        **kwargs: the weight options of `RecurrentCell` and Keras layer arguments; Keras's
            `reset_after` only as True (the form computed here).

    Example:
        >>> h, (h,) = GRUCell(25)(ops.ones((32, 1)), [ops.zeros((32, 25))])
        >>> h.shape
        (32, 25)
    """

    kind = "gru"
    gate_blocks = 3  # z, r, h
    KERAS_ONLY = {**RecurrentCell.KERAS_ONLY, "recurrent_activation": ("sigmoid",), "reset_after": (True,),
                  "implementation": (2, 1)}

    def build(self, input_shape):
        self.add_kernels(input_shape[-1])
        self.add_bias((2, 3 * self.units))  # row 0: input bias, row 1: recurrent bias

    def set_memory_biases(self, keep, admit=None):
        """Update-gate biases `keep` (u,): z = sigmoid(x_z + h_z + b_in_z + b_rec_z) is the share of h_tm1
        kept, so a positive bias keeps the state. The input row takes `keep`, the recurrent row 0, so
        their sum is `keep`. `admit` is ignored: the GRU admits 1 - z, tied to the keep gate, and
        sigmoid(-b) = 1 - sigmoid(b) is the LSTM's chrono input bias already (core/gate_init.py)."""
        self._require_bias()
        u, bias = self.units, ops.convert_to_numpy(self.bias).copy()  # (2, 3u), gates z, r, h
        bias[0, :u], bias[1, :u] = keep, 0.0
        self.bias.assign(bias)

    def project_inputs(self, inputs):
        """(..., in) -> (..., 3u): x W + b_in for the z, r and h parts."""
        projected = ops.matmul(inputs, self.kernel)
        return projected if self.bias is None else projected + self.bias[0]

    def step(self, projected, states):
        """One step from projected inputs (B, 3u) and [h_tm1] (B, u) -> (h, [h])."""
        (h_tm1,) = states
        u = self.units
        recurrent = ops.matmul(h_tm1, self.recurrent_kernel)  # (B, 3u)
        if self.bias is not None:
            recurrent = recurrent + self.bias[1]
        # z and r in one elementwise kernel: sigmoid(a) = (1 + tanh(a / 2)) / 2, as in the LSTM cell.
        z, r = ops.split(0.5 + 0.5 * tanh(0.5 * (projected[:, : 2 * u] + recurrent[:, : 2 * u])), 2, axis=-1)
        candidate = tanh(projected[:, 2 * u:] + r * recurrent[:, 2 * u:])  # (B, u)
        h = z * h_tm1 + (1 - z) * candidate
        return h, [h]


@keras.saving.register_keras_serializable(package="lstmlab")
class GRU(CellRNN):
    """A GRU layer, a drop-in for `keras.layers.GRU` (its default `reset_after=True` form): `GRU(units, ...)`
    builds its own GRUCell and runs it over time. The class name is what Keras keys the weights file by,
    so a model of these layers saves the same layout as one of `keras.layers.GRU`.

    Args:
        units: size of the hidden state h.
        seed: integer seed of the default weight initializers.
        **kwargs: the cell's weight options (see `RecurrentCell`) and the layer's (see `CellRNN`).

    Example:
        >>> outputs = GRU(25, return_sequences=True)(ops.ones((32, 10, 1)))
        >>> outputs.shape
        (32, 10, 25)
    """

    cell_class = GRUCell


GRUCell.layer = GRU  # the layer SequenceModel stacks for this cell
