"""What every cell is: one step of a recurrence, and nothing else.

The RNN layer (`cells/rnn.py`), the model and the trainer know a cell only through this protocol,
so they never look inside its state:

    kind                        the name the registry and model names use, e.g. "lstm"
    gate_blocks                 blocks of u columns in the kernels (LSTM 4, GRU 3, simple RNN 1): the
                                memory estimate (`core/budget.py`) and the trainer size activations by it
    units                       size of the output h
    state_size                  list of widths, one per state tensor: [u, u] for (h, c), [u] for h;
                                the first state is h (a masked step repeats it as its output, as in Keras)
    project_inputs(x)           (..., in) -> (..., G): the input part of a step, computed for all
                                steps in one matmul before the time loop
    step(projected_t, states)   (B, G) and the states (B, width) each -> (h (B, u), new states)
    zero_state(like)            the zero states for the batch of `like` (B, ...), in its dtype
    call(x_t, states)           one step from raw inputs: step(project_inputs(x_t), states)
    layer                       optional: the `cells.rnn.CellRNN` subclass that builds this cell from
                                `units`, named like the Keras layer (LSTM, GRU, SimpleRNN) so the
                                weights files match; without one, `cells.rnn.RNN(cell)` runs the cell

A cell's weights carry Keras's names and layout (`kernel`, `recurrent_kernel`, `bias`), so weights
copied from the matching `keras.layers` RNN give the same outputs, and the tests check that. The
weight options Keras's cells take (`use_bias`, initializers, regularizers, constraints) are handled
here once for every cell; a Keras option a cell does not implement is refused by name (`KERAS_ONLY`).
"""

import keras
from keras import ops

# Keras's weight options, each with the Keras default; `None` initializers mean Keras's defaults
# (Glorot-uniform input kernel, orthogonal recurrent kernel) seeded by the cell's `seed`.
WEIGHT_OPTIONS = {
    "use_bias": True,
    "kernel_initializer": None, "recurrent_initializer": None, "bias_initializer": "zeros",
    "kernel_regularizer": None, "recurrent_regularizer": None, "bias_regularizer": None,
    "kernel_constraint": None, "recurrent_constraint": None, "bias_constraint": None,
}


def tanh(x):
    """`ops.tanh`, but keeping float64: on JAX, Keras 3.15's `ops.tanh` returns float32 for a float64
    input (its type promotion maps 64-bit floats to 32-bit unless the backend is TensorFlow), which
    silently drops precision and makes a float64 scan's carry change dtype. For float64 it is
    computed as sign(x) (-t / (t + 2)) with t = expm1(-2|x|), exact to rounding for every x."""
    if keras.backend.standardize_dtype(x.dtype) != "float64":
        return ops.tanh(x)
    t = ops.expm1(-2 * ops.abs(x))  # in (-1, 0]: no overflow, no cancellation near 0
    return ops.sign(x) * (-t / (t + 2))


class RecurrentCell(keras.layers.Layer):
    """Base class of lstmlab's cells: a subclass sets `kind` and `gate_blocks` and implements build,
    project_inputs and step (building its weights with `add_kernels` and `add_bias`).

    Args:
        units: size of the hidden state h.
        seed: integer seed of the default weight initializers (input kernel: seed, recurrent kernel:
            seed + 1; None: Keras's global seed generator).
        use_bias: whether the cell has a bias (Keras's `use_bias`).
        kernel_initializer, recurrent_initializer: Keras initializers (name, config or object) of the
            two kernels; None: Glorot-uniform and orthogonal, seeded by `seed`, as Keras's defaults.
        bias_initializer: initializer of the bias (the LSTM's forget block excepted: `forget_bias`).
        kernel_regularizer, recurrent_regularizer, bias_regularizer: Keras regularizers or None.
        kernel_constraint, recurrent_constraint, bias_constraint: Keras constraints or None.
        **kwargs: Keras layer arguments (name, dtype, trainable), and Keras cell arguments that a
            cell does not implement, accepted only at the value that means what the cell does
            (`KERAS_ONLY`), e.g. `dropout=0.0`; any other value is a ValueError naming it.
    """

    kind: str  # the name the registry and model names use, e.g. "lstm"
    gate_blocks: int  # blocks of u columns in the kernels, e.g. 4 for the LSTM's i, f, c, o
    layer: type | None = None  # the CellRNN subclass that builds this cell, named like its Keras counterpart
    # Keras arguments this cell does not implement -> the values that mean what it computes anyway.
    KERAS_ONLY: dict[str, tuple] = {"dropout": (0, 0.0), "recurrent_dropout": (0, 0.0), "activation": ("tanh",)}

    def __init__(self, units: int, seed: int | None = None, use_bias: bool = True, kernel_initializer=None,
                 recurrent_initializer=None, bias_initializer="zeros", kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, **kwargs):
        refuse_keras_only(type(self).__name__, self.KERAS_ONLY, kwargs)
        super().__init__(**kwargs)
        if isinstance(units, bool) or not isinstance(units, int) or units < 1:
            raise ValueError(f"`units` must be a positive integer, got units={units!r}")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValueError(f"`seed` must be an integer or None, got seed={seed!r}")
        if not isinstance(use_bias, bool):
            raise ValueError(f"`use_bias` must be True or False, got use_bias={use_bias!r}")
        self.units = units
        self.seed = seed
        self.use_bias = use_bias
        self.kernel_initializer = _optional(keras.initializers.get, kernel_initializer)
        self.recurrent_initializer = _optional(keras.initializers.get, recurrent_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = keras.regularizers.get(recurrent_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.kernel_constraint = keras.constraints.get(kernel_constraint)
        self.recurrent_constraint = keras.constraints.get(recurrent_constraint)
        self.bias_constraint = keras.constraints.get(bias_constraint)

    @property
    def state_size(self) -> list[int]:
        return [self.units]

    def _initializers(self):
        """Keras's defaults for its RNN layers: Glorot-uniform input weights, orthogonal recurrent weights."""
        recurrent_seed = None if self.seed is None else self.seed + 1
        kernel = self.kernel_initializer or keras.initializers.GlorotUniform(self.seed)
        return kernel, self.recurrent_initializer or keras.initializers.Orthogonal(seed=recurrent_seed)

    def add_kernels(self, input_width: int):
        """`kernel` (in, G u) and `recurrent_kernel` (u, G u), G = gate_blocks, in Keras's layout."""
        width = self.gate_blocks * self.units
        kernel_init, recurrent_init = self._initializers()
        self.kernel = self.add_weight(shape=(input_width, width), initializer=kernel_init, name="kernel",
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight(shape=(self.units, width), initializer=recurrent_init,
                                                name="recurrent_kernel", regularizer=self.recurrent_regularizer,
                                                constraint=self.recurrent_constraint)

    def add_bias(self, shape, initializer=None):
        """`bias` of `shape` (None without `use_bias`), from `initializer` or `bias_initializer`."""
        if not self.use_bias:
            self.bias = None
            return
        self.bias = self.add_weight(shape=shape, initializer=initializer or self.bias_initializer, name="bias",
                                    regularizer=self.bias_regularizer, constraint=self.bias_constraint)

    def set_memory_biases(self, keep, admit=None):
        """Set the initial biases of the gate that keeps the state (`keep`, (u,)) and, where the cell has
        its own, of the gate that admits new input (`admit`, (u,)) (--forget-bias, --init chrono).

        A cell with such gates overrides this; the others cannot keep a state by a bias, so they refuse.
        """
        from lstmlab.errors import ConfigError

        raise ConfigError(f"the {self.kind} cell has no gate that keeps its state, so --forget-bias and --init "
                          f"chrono cannot apply to it: drop them or use a gated cell (lstm, gru)")

    def _require_bias(self):
        if self.bias is None:
            from lstmlab.errors import ConfigError

            raise ConfigError(f"the {self.kind} cell was built with use_bias=False: its gate biases cannot be set")

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
        serialize = keras.saving.serialize_keras_object
        return {**super().get_config(), "units": self.units, "seed": self.seed, "use_bias": self.use_bias,
                **{name: serialize(getattr(self, name)) for name in WEIGHT_OPTIONS if name != "use_bias"}}


def refuse_keras_only(owner: str, accepted: dict[str, tuple], kwargs: dict) -> None:
    """Pop each Keras argument of `accepted` from `kwargs`; a value other than the accepted ones is a
    ValueError naming it (lstmlab does not implement it, and silently ignoring it would mislead)."""
    for name, values in accepted.items():
        if name not in kwargs:
            continue
        value = kwargs.pop(name)
        if not any(value is v or (type(value) is type(v) and value == v) for v in values) and not (
                callable(value) and getattr(value, "__name__", None) in values):
            raise ValueError(f"`{name}={value!r}` is not supported by lstmlab's {owner} (it computes "
                             f"{name}={values[0]!r}); use keras.layers for it")


def _optional(get, value):
    return None if value is None else get(value)
