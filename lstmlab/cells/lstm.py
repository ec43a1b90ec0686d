"""One LSTM step, written from scratch with `keras.ops` (no keras.layers.LSTM inside).

    z = x W + h_tm1 U + b                       (B, 4u), gates in the order i, f, c, o
    i = sigmoid(z_i)  f = sigmoid(z_f)  o = sigmoid(z_o)  c~ = tanh(z_c)
    c = f * c_tm1 + i * c~
    h = o * tanh(c)

The weights are laid out exactly as in `keras.layers.LSTM` (`kernel` (in, 4u), `recurrent_kernel`
(u, 4u), `bias` (4u)), so weights copied from one give identical outputs in the other.
"""

import keras
from keras import ops

from lstmlab.cells.base import RecurrentCell, tanh
from lstmlab.cells.rnn import CellRNN


@keras.saving.register_keras_serializable(package="lstmlab")
class LSTMCell(RecurrentCell):
    """Long short-term memory cell (Hochreiter & Schmidhuber 1997) with a forget gate.

    The forget-gate bias starts at `forget_bias` (1 by default, as recommended by Jozefowicz et al.
    2015): the cell begins by remembering, which keeps gradients alive over long sequences.

    `call` does one step. For a whole sequence, `project_inputs` computes x W + b for all steps in one
    matmul and `step` adds the recurrent part, which is all a time loop needs to repeat.

    Args:
        units: size of the hidden state h and the cell state c.
        forget_bias: initial value of the forget gate's bias (Keras's `unit_forget_bias=True` is 1.0);
            None: the forget block starts from `bias_initializer` like the others
            (`unit_forget_bias=False`).
        seed: integer seed of the weight initializers (None: Keras's global seed generator).
        **kwargs: the weight options of `RecurrentCell` (use_bias, initializers, regularizers,
            constraints) and Keras layer arguments.

    Example:
        >>> cell = LSTMCell(25)
        >>> h, (h, c) = cell(ops.ones((32, 1)), [ops.zeros((32, 25)), ops.zeros((32, 25))])
        >>> h.shape
        (32, 25)
    """

    kind = "lstm"
    gate_blocks = 4  # i, f, c, o
    KERAS_ONLY = {**RecurrentCell.KERAS_ONLY, "recurrent_activation": ("sigmoid",), "implementation": (2, 1)}

    def __init__(self, units: int, forget_bias: float | None = 1.0, seed: int | None = None, **kwargs):
        unit_forget_bias = kwargs.pop("unit_forget_bias", True)
        if unit_forget_bias is not True:  # one setting, one name: forget_bias says it all
            raise ValueError(f"`unit_forget_bias={unit_forget_bias!r}` is not supported by lstmlab's LSTM: "
                             "pass forget_bias=None for Keras's unit_forget_bias=False")
        super().__init__(units, seed=seed, **kwargs)
        self.forget_bias = None if forget_bias is None else float(forget_bias)

    @property
    def state_size(self) -> list[int]:
        return [self.units, self.units]  # h, c

    def build(self, input_shape):
        u = self.units
        self.add_kernels(input_shape[-1])

        def bias_init(shape, dtype=None):
            # bias_initializer (zeros by default) for i, c, o; forget_bias for f
            forget = (self.bias_initializer((u,), dtype) if self.forget_bias is None
                      else ops.full((u,), self.forget_bias, dtype))
            return ops.concatenate([self.bias_initializer((u,), dtype), forget, self.bias_initializer((2 * u,), dtype)])

        self.add_bias((4 * u,), bias_init)

    def set_memory_biases(self, keep, admit=None):
        """Forget-gate biases `keep` (u,) and, if given, input-gate biases `admit` (u,) (core/gate_init.py)."""
        self._require_bias()
        u, bias = self.units, ops.convert_to_numpy(self.bias).copy()
        bias[u: 2 * u] = keep  # gates i, f, c, o
        if admit is not None:
            bias[:u] = admit
        self.bias.assign(bias)

    def project_inputs(self, inputs):
        """(..., in) -> (..., 4u): the input part of all four gates, x W + b."""
        projected = ops.matmul(inputs, self.kernel)
        return projected if self.bias is None else projected + self.bias

    def step(self, projected, states):
        """One step from projected inputs (B, 4u) and [h_tm1, c_tm1] (B, u) each -> (h, [h, c])."""
        h_tm1, c_tm1 = states
        z = projected + ops.matmul(h_tm1, self.recurrent_kernel)  # (B, 4u): one fused matmul
        i, f, c_candidate, o = ops.split(self.gate_activations(z), 4, axis=-1)  # (B, u) each
        c = f * c_tm1 + i * c_candidate
        h = o * tanh(c)
        return h, [h, c]

    def gate_activations(self, z):
        """(B, 4u) pre-activations -> [sigmoid(z_i), sigmoid(z_f), tanh(z_c), sigmoid(z_o)].

        All four in one tanh, using sigmoid(x) = (1 + tanh(x / 2)) / 2: a CPU runs one elementwise
        kernel instead of four, which made the forward pass ~3x faster (the loop is latency-bound).
        """
        u = self.units
        half = ops.full((u,), 0.5, z.dtype)
        one, zero = ops.ones((u,), z.dtype), ops.zeros((u,), z.dtype)
        scale = ops.concatenate([half, half, one, half])  # (4u,): 1/2 for the sigmoid gates
        shift = ops.concatenate([half, half, zero, half])
        return tanh(z * scale) * scale + shift

    def get_config(self):
        return {**super().get_config(), "forget_bias": self.forget_bias}


@keras.saving.register_keras_serializable(package="lstmlab")
class LSTM(CellRNN):
    """An LSTM layer, a drop-in for `keras.layers.LSTM`: `LSTM(units, ...)` builds its own LSTMCell and
    runs it over time. The class name is what Keras keys the weights file by, so a model of these
    layers saves the same layout as one of `keras.layers.LSTM` and the weights load into either.

    Args:
        units: size of the hidden state h and the cell state c.
        forget_bias: initial forget-gate bias (1.0: Keras's `unit_forget_bias=True`; None: from
            `bias_initializer`).
        seed: integer seed of the default weight initializers.
        **kwargs: the cell's weight options (see `RecurrentCell`: use_bias, kernel_initializer,
            recurrent_initializer, bias_initializer, *_regularizer, *_constraint) and the layer's
            (see `CellRNN`: return_sequences, return_state, go_backwards, stateful, unroll, name, dtype...).

    Example:
        >>> outputs, h, c = LSTM(25, return_sequences=True, return_state=True)(ops.ones((32, 10, 1)))
        >>> outputs.shape, h.shape, c.shape
        ((32, 10, 25), (32, 25), (32, 25))
    """

    cell_class = LSTMCell


LSTMCell.layer = LSTM  # the layer SequenceModel stacks for this cell
