"""The training implementations `lstmlab bench` compares, each run in its own worker process.

A worker builds one implementation for one (batch size, sequence length), then answers commands on
stdin, one per line, with JSON on stdout:
    run N   -> {"seconds": ...}   time N units of training steps (after the warm-up)
    eval    -> {"seconds": ...}   time one validation pass over 16,000 samples (lstmlab only)
Every implementation trains a 1-layer LSTM of 25 units with Adam (lr 0.001) on binary cross-entropy.
Run as `python -m lstmlab.bench_impls IMPL BATCH SEQ_LEN STEPS_PER_UNIT`; the backend comes from
KERAS_BACKEND, set by the driver.
"""

import json
import sys
import time

import numpy as np

UNITS = 25
VAL_SAMPLES = 16_000


def make_data(n: int, seq_len: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, seq_len), dtype=np.float32)
    return x, (x.astype(np.float64).sum(1) > 1.0).astype(np.float32)


def lstmlab_impl(batch, seq_len, steps):
    """lstmlab's own path, exactly as `lstmlab run` trains: chunks of steps per compiled call."""
    import lstmlab  # noqa: F401
    from lstmlab.batches import stack_batches
    from lstmlab.config import ModelConfig, TrainConfig
    from lstmlab.model import build_model
    from lstmlab.train import Trainer

    trainer = Trainer(build_model(ModelConfig(1, UNITS), seed=0), TrainConfig(batch_size=batch, steps_per_call=steps))
    batches = stack_batches(*make_data(batch * steps, seq_len), batch)
    x_val, y_val = make_data(VAL_SAMPLES, seq_len, seed=1)
    return (lambda: trainer.train_steps(*batches)), (lambda: trainer.evaluate(x_val, y_val))


def keras_fit_impl(batch, seq_len, steps):
    """keras.layers.LSTM trained by model.fit, as a Keras user would write it (any backend)."""
    import keras

    model = keras.Sequential([keras.Input((seq_len, 1)), keras.layers.LSTM(UNITS),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile(keras.optimizers.Adam(1e-3), "binary_crossentropy")
    x, y = make_data(batch * steps, seq_len)
    x = x[..., None]
    return (lambda: model.fit(x, y, batch_size=batch, epochs=1, shuffle=False, verbose=0)), None


def seed_style_impl(batch, seq_len, steps):
    """The seed homework's style: a cell of eight Dense layers, a tf.range loop in a tf.function, no XLA."""
    import keras
    import tensorflow as tf

    class SeedCell(keras.layers.Layer):
        def __init__(self, units):
            super().__init__()
            dense = lambda bias: keras.layers.Dense(units, use_bias=bias)  # noqa: E731
            self.x_i, self.h_i, self.x_f, self.h_f = dense(True), dense(False), dense(True), dense(False)
            self.x_c, self.h_c, self.x_o, self.h_o = dense(True), dense(False), dense(True), dense(False)
            self.units = units

        def call(self, x_t, h, c):
            i = tf.sigmoid(self.x_i(x_t) + self.h_i(h))
            f = tf.sigmoid(self.x_f(x_t) + self.h_f(h))
            c = f * c + i * tf.tanh(self.x_c(x_t) + self.h_c(h))
            h = tf.sigmoid(self.x_o(x_t) + self.h_o(h)) * tf.tanh(c)
            return h, c

    cell, readout = SeedCell(UNITS), keras.layers.Dense(1, activation="sigmoid")

    def forward(x):
        h = c = tf.zeros((tf.shape(x)[0], UNITS))
        for t in tf.range(tf.shape(x)[1]):  # autograph turns this into a tf.while_loop
            h, c = cell(x[:, t], h, c)
        return readout(h)

    forward(tf.zeros((1, 1, 1)))  # builds the weights
    variables = cell.trainable_variables + readout.trainable_variables
    optimizer = keras.optimizers.Adam(1e-3)
    loss_fn = keras.losses.BinaryCrossentropy()

    @tf.function(jit_compile=False)
    def train_step(x, y):
        with tf.GradientTape() as tape:
            loss = loss_fn(y, forward(x))
        optimizer.apply(tape.gradient(loss, variables), variables)
        return loss

    x, y = make_data(batch * steps, seq_len)
    xs = tf.constant(x.reshape(steps, batch, seq_len, 1))
    ys = tf.constant(y.reshape(steps, batch, 1))

    def run():
        for i in range(steps):
            loss = train_step(xs[i], ys[i])
        return float(loss)

    return run, None


def torch_impl(batch, seq_len, steps):
    """torch.nn.LSTM with Adam, the PyTorch user's choice."""
    import torch

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = torch.nn.LSTM(1, UNITS, batch_first=True)
            self.readout = torch.nn.Linear(UNITS, 1)

        def forward(self, x):
            outputs, _ = self.lstm(x)
            return torch.sigmoid(self.readout(outputs[:, -1]))[:, 0]

    torch.manual_seed(0)
    net = Net()
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    loss_fn = torch.nn.BCELoss()
    x, y = make_data(batch * steps, seq_len)
    xs = torch.from_numpy(x.reshape(steps, batch, seq_len, 1))
    ys = torch.from_numpy(y.reshape(steps, batch))

    def run():
        for i in range(steps):
            optimizer.zero_grad()
            loss = loss_fn(net(xs[i]), ys[i])
            loss.backward()
            optimizer.step()
        return float(loss)

    return run, None


IMPLEMENTATIONS = {
    "lstmlab": lstmlab_impl,
    "keras_fit": keras_fit_impl,
    "keras_fit_tf": keras_fit_impl,
    "seed_style": seed_style_impl,
    "torch": torch_impl,
}


def serve(impl: str, batch: int, seq_len: int, steps: int) -> None:
    train, evaluate = IMPLEMENTATIONS[impl](batch, seq_len, steps)
    train()  # warm-up: compilation and first-call costs stay out of the figures
    if evaluate is not None:
        evaluate()
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        command = line.split()
        if command[0] == "run":
            start = time.perf_counter()
            for _ in range(int(command[1])):
                train()
            print(json.dumps({"seconds": time.perf_counter() - start}), flush=True)
        elif command[0] == "eval":
            start = time.perf_counter()
            evaluate()
            print(json.dumps({"seconds": time.perf_counter() - start}), flush=True)


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
