"""The integration-task model: stacked LSTM layers and a read-out on the last step (or every step)."""

import keras
from keras import ops

from lstmlab.config import ModelConfig, TaskConfig
from lstmlab.objective import readout_activation
from lstmlab.rnn import LSTM


@keras.saving.register_keras_serializable(package="lstmlab")
class IntegrationModel(keras.Model):
    """`layers` LSTM layers of `units`, each feeding its whole sequence to the next, and a read-out.

    The read-out is a Dense(1) with `activation` (sigmoid: P(sum > threshold); None: the sum
    itself), applied to the last step, or to every step when `per_step`. Recurrent, so it accepts
    any sequence length: (B, T, 1) -> (B,), or (B, T) when `per_step`.
    """

    def __init__(self, layers: int = 1, units: int = 25, seed: int | None = None, per_step: bool = False,
                 activation: str | None = "sigmoid", **kwargs):
        super().__init__(**kwargs)
        self.num_layers = layers
        self.units = units
        self.seed = seed
        self.per_step = per_step
        self.activation = activation
        # Distinct initializer seeds per layer (each cell uses its seed and seed + 1).
        seeds = [None] * (layers + 1) if seed is None else [seed * 1000 + 2 * i for i in range(layers + 1)]
        self.rnns = [LSTM(units, seed=seeds[i], name=f"lstm_{i + 1}") for i in range(layers)]
        self.readout = keras.layers.Dense(
            1, activation=activation, kernel_initializer=keras.initializers.GlorotUniform(seeds[-1]), name="readout"
        )

    def call(self, x, initial_state=None, return_state: bool = False):
        """x (B, T, 1) -> predictions (B,), or (B, T) when `per_step`.

        `initial_state`: one [h, c] pair of (B, units) arrays per layer to start from (default
        zeros). With `return_state` the final pairs are returned too, as (predictions, states), so
        that truncated BPTT can carry the state from one chunk of a sequence to the next.
        """
        states = list(initial_state) if initial_state is not None else [None] * len(self.rnns)
        final_states = []
        for rnn, state in zip(self.rnns, states):
            x, state = rnn(x, initial_state=state)  # (B, T, u); [h, c] (B, u) each
            final_states.append(state)
        read = x if self.per_step else x[:, -1]  # (B, T, u) or (B, u)
        predictions = ops.squeeze(self.readout(read), axis=-1)  # (B, T) or (B,)
        return (predictions, final_states) if return_state else predictions

    def get_config(self):
        return {**super().get_config(), "layers": self.num_layers, "units": self.units, "seed": self.seed,
                "per_step": self.per_step, "activation": self.activation}


def build_model(config: ModelConfig, seed: int, task: TaskConfig = TaskConfig()) -> IntegrationModel:
    """A built model for `task`'s target variant whose initial weights depend only on `config` and `seed`."""
    model = IntegrationModel(config.layers, config.units, seed=seed, per_step=task.target == "per-step",
                             activation=readout_activation(task), name=config.name)
    model(ops.zeros((1, 1, 1)))  # builds the weights
    return model
