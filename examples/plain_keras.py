"""The trained weights are plain Keras weights: load them into keras.layers.LSTM / GRU / SimpleRNN.

    python examples/plain_keras.py RUN_DIR

An lstmlab model of cell C and n layers has the layout of
Sequential([Input((None, F)), C(u, return_sequences=True) x (n - 1), C(u), Dense(1, activation)]),
so `load_weights` fills the Keras layers with the very same numbers and the predictions agree.
"""

import sys

import numpy as np

import lstmlab
import keras

KERAS_LAYERS = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU, "rnn": keras.layers.SimpleRNN}


def plain_keras_model(model_config, task) -> keras.Model:
    """The stock-Keras twin of an lstmlab model (final-step read-out)."""
    layer = KERAS_LAYERS[model_config.cell]
    stack = [layer(model_config.units, return_sequences=i < model_config.layers - 1) for i in range(model_config.layers)]
    return keras.Sequential([keras.Input((None, task.input_width)), *stack,
                             keras.layers.Dense(1, activation=task.objective.activation)])


run = lstmlab.load_run(sys.argv[1])
x = np.random.default_rng(1).standard_normal((200, 25, 1)).astype(np.float32)
for model_config in run.config.models:
    twin = plain_keras_model(model_config, run.task)
    twin.load_weights(run.path / "models" / model_config.name / "model.weights.h5")
    ours = run.models[model_config.name].predict(x, verbose=0)
    theirs = twin.predict(x, verbose=0)[:, 0]
    print(f"{model_config.name}: max |lstmlab - keras.layers| = {np.max(np.abs(ours - theirs)):.2e}")
