"""Train lstmlab's SequenceModel with plain `keras.Model.fit` on the current backend, one model per cell.

lstmlab's own trainer runs on JAX only, but its layers are ordinary Keras layers: this is the check
that they still train inside someone else's TensorFlow Keras program. test_tensorflow_backend.py
runs it with KERAS_BACKEND=tensorflow; it prints one JSON line per cell:
{"cell", "backend", "initial_loss", "loss", "accuracy", "majority", "recurrent_weights_moved"}; losses and
accuracy on held-out data; the last is the smallest max |change| over the recurrent layer's weights.
With the argument `sequential` it trains lstmlab.layers' LSTM, GRU and SimpleRNN stacked in a plain
keras.Sequential instead (one line, cell "sequential").
"""

import json
import sys

import lstmlab  # noqa: F401  (first: picks the JAX backend unless KERAS_BACKEND is set)
import keras
import numpy as np

from lstmlab import cells
from lstmlab.core.model import SequenceModel


def integration_task(n, steps=10, seed=0):
    """x (n, steps, 1) standard normal; y (n,) = 1 where the sum over the steps exceeds 1 (~38% of them)."""
    x = np.random.default_rng(seed).standard_normal((n, steps, 1)).astype(np.float32)
    return x, (x.sum(axis=(1, 2)) > 1).astype(np.float32)


def fit(name, epochs=4):
    keras.utils.set_random_seed(0)
    x, y = integration_task(1024, seed=0)
    x_test, y_test = integration_task(512, seed=1)
    model = SequenceModel(name, layers=1, units=16, seed=0)
    # BinaryAccuracy, not "accuracy": Keras resolves that string from the prediction's last axis, which
    # for the model's (B,) output is the batch, and picks CategoricalAccuracy (always 0 here).
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy",
                  metrics=[keras.metrics.BinaryAccuracy(name="accuracy")])
    initial_loss, _ = model.evaluate(x_test, y_test, batch_size=256, verbose=0)  # builds the model too
    before = [keras.ops.convert_to_numpy(w) for w in model.rnns[0].weights]
    model.fit(x, y, batch_size=32, epochs=epochs, verbose=0)
    # the recurrent layer itself must learn, not only the read-out on top of its random features
    moved = min(float(np.abs(keras.ops.convert_to_numpy(w) - b).max()) for w, b in zip(model.rnns[0].weights, before))
    loss, accuracy = model.evaluate(x_test, y_test, batch_size=256, verbose=0)
    majority = max(y_test.mean(), 1 - y_test.mean())  # accuracy of always answering the commoner class
    return {"cell": name, "backend": keras.backend.backend(), "initial_loss": initial_loss, "loss": loss,
            "accuracy": accuracy, "majority": float(majority), "recurrent_weights_moved": moved}


def fit_sequential(epochs=4):
    """lstmlab.layers stacked in a plain keras.Sequential, as a Keras user writes it, trained with fit."""
    from lstmlab.layers import GRU, LSTM, SimpleRNN

    keras.utils.set_random_seed(0)
    x, y = integration_task(1024, seed=0)
    x_test, y_test = integration_task(512, seed=1)
    model = keras.Sequential([keras.Input((None, 1)), LSTM(8, return_sequences=True), GRU(8, return_sequences=True),
                              SimpleRNN(8), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy",
                  metrics=[keras.metrics.BinaryAccuracy(name="accuracy")])
    initial_loss, _ = model.evaluate(x_test, y_test, batch_size=256, verbose=0)
    before = [keras.ops.convert_to_numpy(w) for w in model.layers[0].weights]
    model.fit(x, y, batch_size=32, epochs=epochs, verbose=0)
    moved = min(float(np.abs(keras.ops.convert_to_numpy(w) - b).max()) for w, b in zip(model.layers[0].weights, before))
    loss, accuracy = model.evaluate(x_test, y_test, batch_size=256, verbose=0)
    majority = max(y_test.mean(), 1 - y_test.mean())
    return {"cell": "sequential", "backend": keras.backend.backend(), "initial_loss": initial_loss, "loss": loss,
            "accuracy": accuracy, "majority": float(majority), "recurrent_weights_moved": moved}


if __name__ == "__main__":
    for name in sys.argv[1:] or cells.NAMES:
        print(json.dumps(fit_sequential() if name == "sequential" else fit(name)), flush=True)
