"""One step of the simple (Elman) recurrent network, as `keras.layers.SimpleRNN` computes it:

    h = tanh(x W + h_tm1 U + b)                 (B, u)

Weights as in `keras.layers.SimpleRNN`: `kernel` (in, u), `recurrent_kernel` (u, u), `bias` (u).
With no gate to keep a state, its gradients through time shrink or grow geometrically: the
baseline the gated cells are measured against.
"""

import keras
from keras import ops

from lstmlab.cells.base import RecurrentCell, tanh
from lstmlab.cells.rnn import CellRNN


@keras.saving.register_keras_serializable(package="lstmlab")
class SimpleRNNCell(RecurrentCell):
    """Elman cell with a tanh activation; bias starts at zero.

    Args:
        units: size of the hidden state h.
        seed: integer seed of the weight initializers.
        **kwargs: the weight options of `RecurrentCell` and Keras layer arguments.

    Example:
        >>> h, (h,) = SimpleRNNCell(25)(ops.ones((32, 1)), [ops.zeros((32, 25))])
        >>> h.shape
        (32, 25)
    """

    kind = "rnn"
    gate_blocks = 1

    def build(self, input_shape):
        self.add_kernels(input_shape[-1])
        self.add_bias((self.units,))

    def project_inputs(self, inputs):
        """(..., in) -> (..., u): x W + b."""
        projected = ops.matmul(inputs, self.kernel)
        return projected if self.bias is None else projected + self.bias

    def step(self, projected, states):
        """One step from projected inputs (B, u) and [h_tm1] (B, u) -> (h, [h])."""
        (h_tm1,) = states
        h = tanh(projected + ops.matmul(h_tm1, self.recurrent_kernel))
        return h, [h]


@keras.saving.register_keras_serializable(package="lstmlab")
class SimpleRNN(CellRNN):
    """A simple RNN layer, a drop-in for `keras.layers.SimpleRNN`: `SimpleRNN(units, ...)` builds its own
    SimpleRNNCell and runs it over time. The class name is what Keras keys the weights file by, so a
    model of these layers saves the same layout as one of `keras.layers.SimpleRNN`.

    Args:
        units: size of the hidden state h.
        seed: integer seed of the default weight initializers.
        **kwargs: the cell's weight options (see `RecurrentCell`) and the layer's (see `CellRNN`).

    Example:
        >>> output = SimpleRNN(25)(ops.ones((32, 10, 1)))
        >>> output.shape
        (32, 25)
    """

    cell_class = SimpleRNNCell


SimpleRNNCell.layer = SimpleRNN  # the layer SequenceModel stacks for this cell
