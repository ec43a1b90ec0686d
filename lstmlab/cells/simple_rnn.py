"""One step of the simple (Elman) recurrent network, as `keras.layers.SimpleRNN` computes it:

    h = tanh(x W + h_tm1 U + b)                 (B, u)

Weights as in `keras.layers.SimpleRNN`: `kernel` (in, u), `recurrent_kernel` (u, u), `bias` (u).
With no gate to keep a state, its gradients through time shrink or grow geometrically: the
baseline the gated cells are measured against.
"""

import keras
from keras import ops

from lstmlab.cells.base import RecurrentCell
from lstmlab.core.rnn import RNN


@keras.saving.register_keras_serializable(package="lstmlab")
class SimpleRNNCell(RecurrentCell):
    """Elman cell with a tanh activation; bias starts at zero.

    Args:
        units: size of the hidden state h.
        seed: integer seed of the weight initializers.

    Example:
        >>> h, (h,) = SimpleRNNCell(25)(ops.ones((32, 1)), [ops.zeros((32, 25))])
        >>> h.shape
        (32, 25)
    """

    kind = "rnn"

    def build(self, input_shape):
        kernel_init, recurrent_init = self._initializers()
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), initializer=kernel_init, name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(self.units, self.units), initializer=recurrent_init,
                                                name="recurrent_kernel")
        self.bias = self.add_weight(shape=(self.units,), initializer="zeros", name="bias")

    def project_inputs(self, inputs):
        """(..., in) -> (..., u): x W + b."""
        return ops.matmul(inputs, self.kernel) + self.bias

    def step(self, projected, states):
        """One step from projected inputs (B, u) and [h_tm1] (B, u) -> (h, [h])."""
        (h_tm1,) = states
        h = ops.tanh(projected + ops.matmul(h_tm1, self.recurrent_kernel))
        return h, [h]


@keras.saving.register_keras_serializable(package="lstmlab")
class SimpleRNN(RNN):
    """SimpleRNNCell run over time. The class name is what Keras keys the weights file by, so a model of these
    layers saves the same layout as one of `keras.layers.SimpleRNN` and the weights load into either."""


SimpleRNNCell.layer = SimpleRNN  # the layer SequenceModel stacks for this cell
