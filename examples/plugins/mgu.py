"""A cell of your own, in a file of its own: the minimal gated unit (Zhou et al. 2016).

One gate, f, decides both how much of the state to keep and how much of the state the candidate sees:

    f  = sigmoid(x W_f + h_tm1 U_f + b_f)                  (B, u)
    h~ = tanh(x W_h + (f * h_tm1) U_h + b_h)               (B, u)
    h  = (1 - f) * h_tm1 + f * h~

Half a GRU's gates, a third fewer parameters. Trained by every lstmlab command without touching lstmlab:

    lstmlab run --cell examples/plugins/mgu.py:MGUCell --layers 1
"""

import keras
from keras import ops

from lstmlab.cells.base import RecurrentCell


@keras.saving.register_keras_serializable(package="lstmlab_examples")
class MGUCell(RecurrentCell):
    """Minimal gated unit: one state h and one gate f.

    Args:
        units: size of the hidden state h.
        seed: integer seed of the weight initializers.
    """

    kind = "mgu"  # names its models: mgu-1layer
    gate_blocks = 2  # f and the candidate: what the memory estimate counts per unit and step

    def build(self, input_shape):
        u = self.units
        kernel_init, recurrent_init = self._initializers()
        self.kernel = self.add_weight(shape=(input_shape[-1], 2 * u), initializer=kernel_init, name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(u, 2 * u), initializer=recurrent_init, name="recurrent_kernel")
        self.bias = self.add_weight(shape=(2 * u,), initializer="zeros", name="bias")

    def project_inputs(self, inputs):
        """(..., in) -> (..., 2u): x W + b for f and the candidate, every step at once."""
        return ops.matmul(inputs, self.kernel) + self.bias

    def step(self, projected, states):
        """projected (B, 2u) and [h_tm1] (B, u) -> (h, [h])."""
        (h_tm1,) = states
        u = self.units
        f = ops.sigmoid(projected[:, :u] + ops.matmul(h_tm1, self.recurrent_kernel[:, :u]))  # (B, u)
        candidate = ops.tanh(projected[:, u:] + ops.matmul(f * h_tm1, self.recurrent_kernel[:, u:]))  # (B, u)
        h = (1 - f) * h_tm1 + f * candidate
        return h, [h]
