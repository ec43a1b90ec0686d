"""The integration-task model: stacked LSTM layers and a sigmoid read-out on the last step."""

import keras
from keras import ops

from lstmlab.config import ModelConfig
from lstmlab.rnn import LSTM


@keras.saving.register_keras_serializable(package="lstmlab")
class IntegrationModel(keras.Model):
    """`layers` LSTM layers of `units`, each feeding its whole sequence to the next; P(sum > threshold).

    Recurrent, so it accepts any sequence length: (B, T, 1) -> (B,) probabilities.
    """

    def __init__(self, layers: int = 1, units: int = 25, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.num_layers = layers
        self.units = units
        self.seed = seed
        # Distinct initializer seeds per layer (each cell uses its seed and seed + 1).
        seeds = [None] * (layers + 1) if seed is None else [seed * 1000 + 2 * i for i in range(layers + 1)]
        self.rnns = [LSTM(units, seed=seeds[i], name=f"lstm_{i + 1}") for i in range(layers)]
        self.readout = keras.layers.Dense(
            1, activation="sigmoid", kernel_initializer=keras.initializers.GlorotUniform(seeds[-1]), name="readout"
        )

    def call(self, x, truncate: int | None = None):
        """x (B, T, 1) -> (B,) probabilities.

        With `truncate` = k < T, gradients are those of truncated backpropagation through time: the
        sequence falls into chunks of k steps from its start, and the recurrent state entering the
        last chunk (the only one with a loss, the target being on the last step) has its gradient
        stopped. The forward values are unchanged.
        """
        steps = x.shape[1]
        if truncate and steps is not None and truncate < steps:
            last_chunk = (steps - 1) // truncate * truncate  # first step of the last chunk
            states, prefix = [], x[:, :last_chunk]
            for rnn in self.rnns:
                prefix, state = rnn(prefix)  # (B, last_chunk, u); state [h, c] (B, u) each
                states.append([ops.stop_gradient(s) for s in state])
            x = x[:, last_chunk:]
        else:
            states = [None] * len(self.rnns)
        for rnn, state in zip(self.rnns, states):
            x, _ = rnn(x, initial_state=state)  # (B, T or k, u)
        return ops.squeeze(self.readout(x[:, -1]), axis=-1)  # (B,)

    def get_config(self):
        return {**super().get_config(), "layers": self.num_layers, "units": self.units, "seed": self.seed}


def build_model(config: ModelConfig, seed: int) -> IntegrationModel:
    """A built model whose initial weights depend only on `config` and `seed`."""
    model = IntegrationModel(config.layers, config.units, seed=seed, name=config.name)
    model(ops.zeros((1, 1, 1)))  # builds the weights
    return model
