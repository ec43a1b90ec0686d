"""The training implementations `lstmlab bench` compares, each run in its own worker process.

A worker builds one implementation for one (batch size, sequence length), then answers commands on
stdin, one per line, with JSON on stdout:
    run N   -> {"seconds": ...}   time N units of training steps (after the warm-up)
    eval    -> {"seconds": ...}   time one validation pass over 16,000 samples (lstmlab only)
Every implementation trains a 1-layer LSTM of 25 units (a GRU for the `*_gru` ones) with Adam (lr 0.001)
on binary cross-entropy.
Run as `python -m lstmlab.bench.impls IMPL BATCH SEQ_LEN STEPS_PER_UNIT`; the backend comes from
KERAS_BACKEND, set by the driver (jax_minimal uses JAX alone and never imports Keras).
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


def lstmlab_impl(batch, seq_len, steps, devices=1, cell="lstm"):
    """lstmlab's own path, exactly as `lstmlab run` trains: chunks of steps per compiled call."""
    import lstmlab  # noqa: F401
    from lstmlab import tasks
    from lstmlab.config import ModelConfig, TaskConfig, TrainConfig
    from lstmlab.core.batches import stack_batches
    from lstmlab.core.model import build_model
    from lstmlab.core.train import Trainer

    task = tasks.of(TaskConfig(seq_len=seq_len))  # the reference task: integration, final step, classification
    model = build_model(ModelConfig(cell=cell, layers=1, units=UNITS), seed=0, task=task)
    trainer = Trainer(model, TrainConfig(batch_size=batch, steps_per_call=steps, devices=devices), task)
    batches = stack_batches(*make_data(batch * steps, seq_len), batch)
    x_val, y_val = make_data(VAL_SAMPLES, seq_len, seed=1)
    return (lambda: trainer.train_steps(*batches)), (lambda: trainer.evaluate(x_val, y_val))


def keras_fit_impl(batch, seq_len, steps, layer="LSTM"):
    """keras.layers.LSTM (or `layer`: "GRU") trained by model.fit, as a Keras user would write it (any backend)."""
    import keras

    model = keras.Sequential([keras.Input((seq_len, 1)), getattr(keras.layers, layer)(UNITS),
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


def torch_impl(batch, seq_len, steps, module="LSTM"):
    """torch.nn.LSTM (or `module`: "GRU") with Adam, the PyTorch user's choice."""
    import torch

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = getattr(torch.nn, module)(1, UNITS, batch_first=True)
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


# -- jax_minimal: the floor of this stack, plain JAX without Keras ------------------------------------
#
# The same model and update as lstmlab's (1-layer LSTM, sigmoid read-out on the last step, binary
# cross-entropy, Keras's Adam), written directly in jax.numpy: what is left of a train step once
# every layer of framework is gone. Parameters are a dict of arrays, laid out as lstmlab's and
# keras.layers.LSTM's weights (kernel (in, 4u), recurrent_kernel (u, 4u), bias (4u), gates i, f, c, o).

MINIMAL_PARAMS = ("kernel", "recurrent_kernel", "bias", "readout_kernel", "readout_bias")  # lstmlab's weight order
ADAM = {"learning_rate": 1e-3, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7}  # Keras's defaults
BCE_EPSILON = 1e-7  # predictions are clipped to [eps, 1 - eps] in the loss, as Keras does


def minimal_init(seed: int = 0, units: int = UNITS, inputs: int = 1) -> dict:
    """Keras's initial distributions: Glorot-uniform kernels, orthogonal recurrent kernel, forget bias 1."""
    import jax
    import jax.numpy as jnp

    k_in, k_rec, k_out = jax.random.split(jax.random.key(seed), 3)

    def glorot(key, shape):
        limit = (6.0 / sum(shape)) ** 0.5
        return jax.random.uniform(key, shape, jnp.float32, -limit, limit)

    q, r = jnp.linalg.qr(jax.random.normal(k_rec, (4 * units, units), jnp.float32))  # (4u, u), orthonormal columns
    recurrent = (q * jnp.sign(jnp.diag(r))).T  # (u, 4u), orthonormal rows
    bias = jnp.zeros((4 * units,), jnp.float32).at[units:2 * units].set(1.0)
    return {"kernel": glorot(k_in, (inputs, 4 * units)), "recurrent_kernel": recurrent, "bias": bias,
            "readout_kernel": glorot(k_out, (units, 1)), "readout_bias": jnp.zeros((1,), jnp.float32)}


def minimal_predict(params: dict, x):
    """x (B, T, F) -> (B,) probabilities: input projection of all steps in one matmul, then a scan over time."""
    import jax
    import jax.numpy as jnp

    units = params["recurrent_kernel"].shape[0]
    projected = jnp.swapaxes(x @ params["kernel"] + params["bias"], 0, 1)  # (T, B, 4u), time first
    # sigmoid(z) = (1 + tanh(z / 2)) / 2: all four gate activations in one tanh, as lstmlab's cell does.
    half, one, zero = jnp.full((units,), 0.5), jnp.ones((units,)), jnp.zeros((units,))
    scale, shift = jnp.concatenate([half, half, one, half]), jnp.concatenate([half, half, zero, half])

    def step(carry, z_x):
        h, c = carry
        z = z_x + h @ params["recurrent_kernel"]  # (B, 4u): one fused matmul for the four gates
        i, f, c_candidate, o = jnp.split(jnp.tanh(z * scale) * scale + shift, 4, axis=-1)
        c = f * c + i * c_candidate
        return (o * jnp.tanh(c), c), None

    zeros = jnp.zeros((x.shape[0], units), projected.dtype)
    (h, _), _ = jax.lax.scan(step, (zeros, zeros), projected)
    return jax.nn.sigmoid(h @ params["readout_kernel"] + params["readout_bias"])[:, 0]


def minimal_loss(params: dict, x, y):
    """Mean binary cross-entropy of the predictions for x (B, T, F) against labels y (B,)."""
    import jax.numpy as jnp

    p = jnp.clip(minimal_predict(params, x), BCE_EPSILON, 1.0 - BCE_EPSILON)
    return -jnp.mean(y * jnp.log(p) + (1.0 - y) * jnp.log(1.0 - p))


def minimal_state(params: dict) -> tuple:
    """(params, Adam's first moments, second moments, steps taken): what a train step carries."""
    import jax
    import jax.numpy as jnp

    zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
    return params, zeros, jax.tree_util.tree_map(jnp.zeros_like, params), jnp.zeros((), jnp.float32)


def minimal_adam(state: tuple, grads: dict) -> tuple:
    """One Adam update, term for term as keras.optimizers.Adam (so equal gradients give equal weights)."""
    import jax
    import jax.numpy as jnp

    params, m, v, t = state
    t = t + 1.0
    b1, b2, eps = ADAM["beta_1"], ADAM["beta_2"], ADAM["epsilon"]
    alpha = ADAM["learning_rate"] * jnp.sqrt(1.0 - b2 ** t) / (1.0 - b1 ** t)
    m = jax.tree_util.tree_map(lambda m, g: m + (g - m) * (1.0 - b1), m, grads)
    v = jax.tree_util.tree_map(lambda v, g: v + (g * g - v) * (1.0 - b2), v, grads)
    params = jax.tree_util.tree_map(lambda p, m, v: p - m * alpha / (jnp.sqrt(v) + eps), params, m, v)
    return params, m, v, t


def minimal_train_step(state: tuple, batch: tuple) -> tuple:
    """One update on batch (x (B, T, F), y (B,)) -> (new state, the batch's loss before the update)."""
    import jax

    loss, grads = jax.value_and_grad(minimal_loss)(state[0], *batch)
    return minimal_adam(state, grads), loss


def minimal_train_call():
    """A compiled call that runs a stack of batches (xs (S, B, T, F), ys (S, B)) through `minimal_train_step`
    in one `lax.scan`, as lstmlab's Trainer does; the state is donated, so it is updated in place."""
    import jax

    return jax.jit(lambda state, batches: jax.lax.scan(minimal_train_step, state, batches), donate_argnums=0)


def jax_minimal_impl(batch, seq_len, steps):
    """The same LSTM, loss and Adam as lstmlab in plain JAX (no Keras): `steps` batches per compiled call."""
    import jax

    x, y = make_data(batch * steps, seq_len)
    batches = jax.device_put((x.reshape(steps, batch, seq_len, 1), y.reshape(steps, batch)))
    train_call = minimal_train_call()
    state = minimal_state(minimal_init(seed=0))

    def run():
        nonlocal state
        state, losses = train_call(state, batches)
        return np.asarray(losses)  # waits for the call, as lstmlab's train_steps does

    return run, None


IMPLEMENTATIONS = {
    "lstmlab": lstmlab_impl,
    # `lstmlab run --devices 2`: every batch split over two CPU devices, gradients summed across them.
    "lstmlab_2dev": lambda batch, seq_len, steps: lstmlab_impl(batch, seq_len, steps, devices=2),
    "jax_minimal": jax_minimal_impl,
    "keras_fit": keras_fit_impl,
    "keras_fit_tf": keras_fit_impl,
    "seed_style": seed_style_impl,
    "torch": torch_impl,
    # The GRU beside its peers: what a study of the GRU costs (its ratio is to lstmlab_gru).
    "lstmlab_gru": lambda batch, seq_len, steps: lstmlab_impl(batch, seq_len, steps, cell="gru"),
    "keras_fit_gru": lambda batch, seq_len, steps: keras_fit_impl(batch, seq_len, steps, layer="GRU"),
    "torch_gru": lambda batch, seq_len, steps: torch_impl(batch, seq_len, steps, module="GRU"),
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
