"""Runs any recurrent cell (see `cells/base.py`) over time as a compiled scan, with the arguments and
the semantics of Keras's recurrent layers (`keras/src/layers/rnn/rnn.py`): `RNN(cell)` for any cell,
and `CellRNN`, the base of the layers that build their own cell (`LSTM(25)`, as `keras.layers.LSTM`)."""

import keras
from keras import ops

from lstmlab.cells.base import refuse_keras_only

# Keras's base-layer arguments, which a layer keeps for itself; a CellRNN passes the rest to its cell.
LAYER_ARGUMENTS = ("name", "dtype", "trainable", "autocast", "activity_regularizer", "input_shape", "input_dim",
                   "batch_size", "batch_input_shape")


@keras.saving.register_keras_serializable(package="lstmlab")
class RNN(keras.layers.Layer):
    """A recurrent layer: `cell` applied at every step of a (B, T, in) sequence, as `keras.layers.RNN`.

    The input projection of all T steps is one matmul before the loop; the loop itself is
    `keras.ops.scan`, which compiles the step once (a Python loop over time would unroll it T times).
    The layer never looks inside the state: it carries whatever list `cell.state_size` describes.

    Args:
        cell: a `RecurrentCell` (lstmlab.cells), or any layer with its protocol.
        return_sequences: return the output of every step (B, T, u), not only the last (B, u).
        return_state: return `(output, *final states)`, one (B, width) array per state.
        go_backwards: process the sequence from its last step to its first; the returned sequence is
            in that (reversed) order, as Keras returns it.
        stateful: keep the final states of a call (in non-trainable variables, for a fixed batch size)
            as the initial states of the next; `reset_state()` zeroes them.
        unroll: a Python loop over the (known) steps instead of a scan: faster for a few steps,
            more memory and compile time for many.
        zero_output_for_mask: a masked step outputs zeros instead of repeating the previous output.
        **kwargs: Keras layer arguments (name, dtype, trainable, activity_regularizer).

    Call arguments: `sequences` (B, T, in); `initial_state`, a list of (B, width) arrays (default zeros,
    or the kept states when stateful); `mask` (B, T) booleans, True for the steps to use: a masked
    step leaves the states unchanged and outputs the previous h (the first state), as in Keras.

    Example:
        >>> outputs, h, c = RNN(LSTMCell(25), return_sequences=True, return_state=True)(ops.ones((32, 10, 1)))
        >>> outputs.shape, h.shape
        ((32, 10, 25), (32, 25))
    """

    def __init__(self, cell, return_sequences: bool = False, return_state: bool = False, go_backwards: bool = False,
                 stateful: bool = False, unroll: bool = False, zero_output_for_mask: bool = False, **kwargs):
        missing = [name for name in ("units", "state_size", "project_inputs", "step", "zero_state")
                   if not hasattr(cell, name)]
        if missing:
            raise ValueError(f"`cell` must follow the protocol of lstmlab.cells.base (it lacks {', '.join(missing)}), "
                             f"got cell={cell!r}")
        for name, value in (("return_sequences", return_sequences), ("return_state", return_state),
                            ("go_backwards", go_backwards), ("stateful", stateful), ("unroll", unroll),
                            ("zero_output_for_mask", zero_output_for_mask)):
            if not isinstance(value, bool):
                raise ValueError(f"`{name}` must be True or False, got {name}={value!r}")
        super().__init__(**kwargs)
        self.cell = cell
        self.units = cell.units
        self.return_sequences = return_sequences
        self.return_state = return_state
        self.go_backwards = go_backwards
        self.stateful = stateful
        self.unroll = unroll
        self.zero_output_for_mask = zero_output_for_mask
        self.supports_masking = True
        self.input_spec = keras.layers.InputSpec(ndim=3)
        self.states = None  # stateful: the kept states, one variable per state_size entry

    def build(self, sequences_shape, initial_state_shape=None):
        if not self.cell.built:  # a deserialised cell arrives built from its saved build config
            self.cell.build((sequences_shape[0], *sequences_shape[2:]))  # the shape of one step (B, in)
        if self.stateful:
            batch = sequences_shape[0]
            if batch is None:
                raise ValueError("a stateful RNN needs a fixed batch size (e.g. keras.Input(batch_size=...)), got "
                                 f"sequences of shape {tuple(sequences_shape)}")
            self.states = [self.add_weight(shape=(batch, width), initializer="zeros", trainable=False,
                                           name=f"state_{k}") for k, width in enumerate(self.cell.state_size)]

    def reset_state(self):
        """Zero the kept states of a stateful layer (nothing otherwise)."""
        for state in self.states or []:
            state.assign(ops.zeros_like(state.value))

    def reset_states(self):
        """`reset_state`, under the name Keras also keeps."""
        self.reset_state()

    def call(self, sequences, initial_state=None, mask=None):
        """sequences (B, T, in) -> the last output (B, u) or every step's (B, T, u), then, with
        `return_state`, the final states (one (B, width) array per state)."""
        self._check_unroll(sequences.shape)
        if initial_state is None and self.stateful:
            initial_state = self.states
            if sequences.shape[0] is not None and sequences.shape[0] != self.states[0].shape[0]:
                raise ValueError(f"this stateful RNN was built for batches of {self.states[0].shape[0]}, got "
                                 f"sequences of shape {tuple(sequences.shape)}: call reset_state() on a new layer")
        projected = ops.transpose(self.cell.project_inputs(sequences), (1, 0, 2))  # (T, B, G), time first
        if initial_state is None:
            initial_state = self.cell.zero_state(projected[0])
        else:  # a single state may come bare, as Keras accepts it; the carry takes the compute dtype
            states = initial_state if isinstance(initial_state, (list, tuple)) else [initial_state]
            initial_state = [ops.convert_to_tensor(state, self.compute_dtype) for state in states]
        xs = projected
        if mask is not None:  # (B, T) -> (T, B, 1) booleans, time first as the inputs
            xs = (projected, ops.expand_dims(ops.transpose(ops.cast(mask, "bool"), (1, 0)), -1))
        if self.go_backwards:
            xs = tuple(ops.flip(x, axis=0) for x in xs) if mask is not None else ops.flip(xs, axis=0)

        def step(carry, xs_t):
            projected_t, mask_t = xs_t if mask is not None else (xs_t, None)
            h, states = self.cell.step(projected_t, list(carry))
            if mask_t is not None:  # a masked step keeps the states and repeats h (Keras: its first state)
                h = ops.where(mask_t, h, ops.zeros_like(h) if self.zero_output_for_mask else carry[0])
                states = [ops.where(mask_t, new, old) for new, old in zip(states, carry)]
            # ys mirror the carry (the TensorFlow backend's scan requires it); h rides along in front.
            return tuple(states), (h, *states)

        if self.unroll:
            final, hs = tuple(initial_state), []
            for t in range(sequences.shape[1]):
                final, (h, *_) = step(final, tuple(x[t] for x in xs) if mask is not None else xs[t])
                hs.append(h)
            hs = ops.stack(hs)  # (T, B, u)
        else:
            final, (hs, *_) = ops.scan(step, tuple(initial_state), xs)  # hs: (T, B, u)
        final = list(final)
        if self.stateful:
            for variable, state in zip(self.states, final):
                variable.assign(state)
        output = ops.transpose(hs, (1, 0, 2)) if self.return_sequences else hs[-1]  # (B, T, u) or (B, u)
        return (output, *final) if self.return_state else output

    def _check_unroll(self, shape):
        if self.unroll and shape[1] is None:
            raise ValueError("`unroll=True` needs a known number of steps: give keras.Input a shape with the "
                             f"sequence length, got sequences of shape {tuple(shape)}")

    def compute_output_spec(self, sequences, initial_state=None, mask=None):
        self._check_unroll(sequences.shape)
        batch, steps = sequences.shape[0], sequences.shape[1]
        shape = (batch, steps, self.units) if self.return_sequences else (batch, self.units)
        output = keras.KerasTensor(shape, dtype=self.compute_dtype)
        if not self.return_state:
            return output
        return output, *(keras.KerasTensor((batch, width), dtype=self.compute_dtype) for width in self.cell.state_size)

    def compute_mask(self, sequences, mask=None):
        # As Keras: the sequence keeps the input's mask, a last output or a state has none.
        output_mask = mask if self.return_sequences else None
        return [output_mask] + [None] * len(self.cell.state_size) if self.return_state else output_mask

    def get_config(self):
        return {**super().get_config(), "cell": keras.saving.serialize_keras_object(self.cell),
                "return_sequences": self.return_sequences, "return_state": self.return_state,
                "go_backwards": self.go_backwards, "stateful": self.stateful, "unroll": self.unroll,
                "zero_output_for_mask": self.zero_output_for_mask}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        cell = keras.saving.deserialize_keras_object(config.pop("cell"))
        return cls(cell, **config)


class CellRNN(RNN):
    """An RNN that builds its own cell, `cell_class(units, **cell arguments)`, as `keras.layers.LSTM` is
    `keras.layers.RNN(LSTMCell(...))`; LSTM, GRU and SimpleRNN (one in each cell's module) set `cell_class`.

    Args:
        units: size of the cell's output h.
        return_sequences, return_state, go_backwards, stateful, unroll, zero_output_for_mask: as `RNN`.
        use_cudnn: Keras's; only "auto" or False (lstmlab's cells always run as a scan).
        **kwargs: Keras layer arguments (name, dtype, trainable, activity_regularizer); everything
            else goes to the cell: its own options (`forget_bias`, `seed`) and the weight options of
            `RecurrentCell` (use_bias, initializers, regularizers, constraints). A Keras argument the
            cell does not implement is a ValueError naming it, unless given its default.
    """

    cell_class: type

    def __init__(self, units: int, return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, unroll: bool = False,
                 zero_output_for_mask: bool = False, use_cudnn="auto", **kwargs):
        refuse_keras_only(type(self).__name__, {"use_cudnn": ("auto", False)}, {"use_cudnn": use_cudnn})
        layer_arguments = {name: kwargs.pop(name) for name in LAYER_ARGUMENTS if name in kwargs}
        cell = self.cell_class(units, name="cell", dtype=layer_arguments.get("dtype"),
                               trainable=layer_arguments.get("trainable", True), **kwargs)
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll,
                         zero_output_for_mask=zero_output_for_mask, **layer_arguments)

    def get_config(self):
        # Keras's LSTM config: the layer's arguments and the cell's, flat, with no nested cell.
        config = super().get_config()
        del config["cell"]
        cell_config = {k: v for k, v in self.cell.get_config().items() if k not in ("name", "dtype", "trainable")}
        return {**config, **cell_config}

    @classmethod
    def from_config(cls, config):
        return cls(**config)
