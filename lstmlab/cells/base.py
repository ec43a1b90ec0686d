"""What every cell is: one step of a recurrence, and nothing else.

The RNN layer (`core/rnn.py`), the model and the trainer know a cell only through this protocol,
so they never look inside its state:

    units                       size of the output h
    state_size                  list of widths, one per state tensor: [u, u] for (h, c), [u] for h
    project_inputs(x)           (..., in) -> (..., G): the input part of a step, computed for all
                                steps in one matmul before the time loop
    step(projected_t, states)   (B, G) and the states (B, width) each -> (h (B, u), new states)
    call(x_t, states)           one step from raw inputs: step(project_inputs(x_t), states)
    layer                       the thin `core.rnn.RNN` subclass that runs the cell over time, named
                                like the Keras layer (LSTM, GRU, SimpleRNN) so the weights files match

A cell's weights carry Keras's names and layout (`kernel`, `recurrent_kernel`, `bias`), so weights
copied from the matching `keras.layers` RNN give the same outputs, and the tests check that.
"""

import keras
from keras import ops


class RecurrentCell(keras.layers.Layer):
    """Base class of lstmlab's cells: a subclass sets `kind` and implements build, project_inputs and step.

    Args:
        units: size of the hidden state h.
        seed: integer seed of the weight initializers (input kernel: seed, recurrent kernel:
            seed + 1; None: Keras's global seed generator).
    """

    kind: str  # the name the registry and model names use, e.g. "lstm"
    layer: type  # the RNN subclass that runs this cell over time, named like its Keras counterpart

    def __init__(self, units: int, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(units, bool) or not isinstance(units, int) or units < 1:
            raise ValueError(f"`units` must be a positive integer, got units={units!r}")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValueError(f"`seed` must be an integer or None, got seed={seed!r}")
        self.units = units
        self.seed = seed

    @property
    def state_size(self) -> list[int]:
        return [self.units]

    def _initializers(self):
        """Keras's defaults for its RNN layers: Glorot-uniform input weights, orthogonal recurrent weights."""
        recurrent_seed = None if self.seed is None else self.seed + 1
        return keras.initializers.GlorotUniform(self.seed), keras.initializers.Orthogonal(seed=recurrent_seed)

    def zero_state(self, like):
        """Zero states for the batch of `like` (B, ...): one (B, width) array per state_size entry."""
        column = ops.zeros_like(like[:, :1])  # (B, 1); works for an unknown B
        return [column + ops.zeros((width,), like.dtype) for width in self.state_size]

    def project_inputs(self, inputs):
        raise NotImplementedError

    def step(self, projected, states):
        raise NotImplementedError

    def call(self, inputs, states):
        """inputs (B, in), states as state_size -> (h, new states)."""
        return self.step(self.project_inputs(inputs), states)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "seed": self.seed}
