"""The sequence model: stacked recurrent layers of one cell and a read-out on the last step (or every step)."""

from contextlib import contextmanager

import keras
from keras import ops

from lstmlab import cells
from lstmlab.cells.base import RecurrentCell
from lstmlab.config import ModelConfig
from lstmlab.cells.rnn import RNN


@keras.saving.register_keras_serializable(package="lstmlab")
class SequenceModel(keras.Model):
    """`layers` recurrent layers of `cell` with `units` each, feeding their whole sequence on, and a read-out.

    The read-out is a Dense(1) with `activation` (sigmoid: a probability; None: a value), or with
    `classes` K > 1 a Dense(K) with `activation` log_softmax (log-probabilities of K classes), applied
    to the last step, or to every step when `per_step`. Recurrent, so it accepts any sequence
    length: (B, T, F) -> (B,), or (B, T) when `per_step`; with K classes (B, K) or (B, T, K).

    Args:
        cell: a cell name ("lstm"), a spec of your own ("./my_cell.py:MyCell") or a `RecurrentCell`
            subclass; `cell_name` keeps its spec (`lstmlab.plugins`), while each layer's `.cell` is the cell.
        layers, units: depth and width of the recurrent stack.
        seed: initializer seed (layer i: seed * 1000 + 2 i; the read-out: seed * 1000 + 2 layers).
        per_step, activation, classes: the read-out, as above.

    Example:
        >>> model = SequenceModel("gru", layers=2, units=8, seed=0)
        >>> model(ops.ones((4, 10, 1))).shape, model.cell_name
        ((4,), 'gru')
    """

    def __init__(self, cell: str | type = "lstm", layers: int = 1, units: int = 25, seed: int | None = None,
                 per_step: bool = False, activation: str | None = "sigmoid", classes: int = 1, **kwargs):
        super().__init__(**kwargs)
        # A name, a spec or a class; `cell_name` keeps the spec, which get_config can write as JSON.
        self.cell_name, cell_class = cells.resolve(cell)
        self.num_layers = layers
        self.units = units
        self.seed = seed
        self.per_step = per_step
        self.activation = activation
        self.classes = classes
        # Distinct initializer seeds per layer (each cell uses its seed and seed + 1).
        seeds = [None] * (layers + 1) if seed is None else [seed * 1000 + 2 * i for i in range(layers + 1)]
        self.rnns = [_recurrent_layer(cell_class, units, seeds[i], name=f"{cell_class.kind}_{i + 1}")
                     for i in range(layers)]
        self.readout = keras.layers.Dense(
            classes, activation=activation, kernel_initializer=keras.initializers.GlorotUniform(seeds[-1]), name="readout"
        )

    def initial_state(self, batch_size: int) -> list[list]:
        """Zero states: per layer, one (batch_size, width) array per entry of the cell's state_size."""
        return [[ops.zeros((batch_size, width), self.compute_dtype) for width in rnn.cell.state_size]
                for rnn in self.rnns]

    def call(self, x, initial_state=None, return_state: bool = False):
        """x (B, T, F) -> predictions (B,), or (B, T) when `per_step` (a trailing axis of K with `classes` K > 1).

        `initial_state`: per layer, the list of state arrays to start from (default zeros). With
        `return_state` the final states are returned too, as (predictions, states), so that
        truncated BPTT can carry the state from one chunk of a sequence to the next.
        """
        states = list(initial_state) if initial_state is not None else [None] * len(self.rnns)
        final_states = []
        for rnn, state in zip(self.rnns, states):
            x, *state = rnn(x, initial_state=state)  # (B, T, u); the cell's states
            final_states.append(state)
        read = x if self.per_step else x[:, -1]  # (B, T, u) or (B, u)
        predictions = self.readout(read)  # (B, T, K) or (B, K)
        if self.classes == 1:
            predictions = ops.squeeze(predictions, axis=-1)  # (B, T) or (B,)
        return (predictions, final_states) if return_state else predictions

    def compile(self, *args, metrics=None, **kwargs):
        """`keras.Model.compile`, with "accuracy" meaning binary accuracy for a sigmoid read-out.

        Keras picks the accuracy metric from the output's shape, and for this model's (B,) output it
        would pick categorical accuracy, which reads 0 here. (For a regression read-out "accuracy"
        has no meaning; score with `lstmlab.tasks.of(config).score` instead.) For a log-softmax read-out
        it means sparse categorical accuracy over every step's class.
        """
        accuracy = {"sigmoid": keras.metrics.BinaryAccuracy, "log_softmax": keras.metrics.SparseCategoricalAccuracy}
        if self.activation in accuracy and isinstance(metrics, (list, tuple)):
            metrics = [accuracy[self.activation](name=m) if m in ("accuracy", "acc") else m for m in metrics]
        super().compile(*args, metrics=metrics, **kwargs)

    def predict(self, x, *args, **kwargs):
        """`keras.Model.predict`, leaving the model usable when it fails (see `_weights_kept`)."""
        with _weights_kept(self):
            return super().predict(x, *args, **kwargs)

    def evaluate(self, *args, **kwargs):
        """`keras.Model.evaluate`, leaving the model usable when it fails (see `_weights_kept`)."""
        with _weights_kept(self):
            return super().evaluate(*args, **kwargs)

    def get_config(self):
        return {**super().get_config(), "cell": self.cell_name, "layers": self.num_layers, "units": self.units,
                "seed": self.seed, "per_step": self.per_step, "activation": self.activation, "classes": self.classes}


@contextmanager
def _weights_kept(model: keras.Model):
    """Put the model's weights back if the block fails.

    Keras's JAX trainer detaches the weights from their variables while it predicts or evaluates and
    reattaches them at the end; an error in the first batch (an input of the wrong shape) left them
    detached, and every later call on the model failed with "'NoneType' object is not callable".
    """
    weights = [variable.value for variable in model.variables]  # references, not copies
    try:
        yield
    except BaseException:
        for variable, value in zip(model.variables, weights):
            variable.assign(value)
        raise


def _recurrent_layer(cell_class: type, units: int, seed: int | None, name: str) -> RNN:
    """The layer of `cell_class` returning every step and the final states: the cell's own layer (LSTM,
    GRU, SimpleRNN: the weights file is keyed by its class name), or an RNN around a plug-in cell."""
    if cell_class.layer is None or cell_class.layer.cell_class is not cell_class:  # none, or a parent's
        return RNN(cell_class(units, seed=seed, name="cell"), return_sequences=True, return_state=True, name=name)
    return cell_class.layer(units, seed=seed, return_sequences=True, return_state=True, name=name)


def build_model(config: ModelConfig, seed: int, task) -> SequenceModel:
    """A built model for `task` (a lstmlab.tasks.Task) whose initial weights depend only on `config` and `seed`."""
    model = SequenceModel(config.cell, config.layers, config.units, seed=seed, per_step=task.per_step,
                          activation=task.objective.activation, classes=task.read_out_width, name=config.name)
    model(ops.zeros((1, 1, task.input_width)))  # builds the weights
    return model
