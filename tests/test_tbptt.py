"""Truncated BPTT, both schemes, checked against independent gradient computations.

Per-loss TBPTT(k1, k2) is checked against a NumPy LSTM that shares no code with lstmlab (finite
differences in float64) and against a loss-by-loss reference update; the chunked scheme against a
chunk-by-chunk reference update.
"""

import jax
import keras
import numpy as np
import pytest

from lstmlab import tasks
from lstmlab.config import ModelConfig, TaskConfig, TrainConfig
from lstmlab.core.model import build_model
from lstmlab.core.tbptt import Truncation, replay_predictions
from lstmlab.core.train import Trainer

T = 12


def test_chunks_count_from_the_start_and_the_last_may_be_short():
    plan = Truncation.create(25, 10, per_step=False, scheme="chunked")
    assert plan.spans == [(0, 10), (10, 20), (20, 25)]
    assert (plan.forward_only, plan.backprop_steps, plan.updates_per_batch) == (20, 5, 1)
    per_step = Truncation.create(25, 10, per_step=True, scheme="chunked")
    assert (per_step.forward_only, per_step.backprop_steps, per_step.updates_per_batch) == (0, 10, 3)
    for tbptt in (0, 25, 40):  # no truncation: one chunk, the whole sequence
        assert Truncation.create(25, tbptt, per_step=True, scheme="chunked").spans == [(0, 25)]
    chunked = lambda k: Truncation.create(25, k, False, scheme="chunked")  # noqa: E731
    assert chunked(5).backprop_steps == chunked(10).backprop_steps == 5


def test_per_loss_truncation_counts_back_from_each_loss():
    final = Truncation.create(25, 10, per_step=False)
    assert (final.forward_only, final.backprop_steps, final.updates_per_batch) == (15, 10, 1)
    per_step = Truncation.create(25, 10, per_step=True, every=4)
    assert per_step.spans[:2] == [(0, 4), (4, 8)] and per_step.spans[-1] == (24, 25)
    assert (per_step.backprop_steps, per_step.updates_per_batch) == (10, 7)
    assert Truncation.create(25, 10, per_step=True).every == 10  # k1 defaults to k2
    assert Truncation.create(25, 0, per_step=True).full and not Truncation.create(25, 0, True, every=5).full


def _batch(task, seed=0, batch=8):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, task.config.seq_len)).astype(np.float32)
    return x[:, :, None], task.targets_of(x), np.ones(batch, np.float32)


def _trainer(task, tbptt, layers, scheme="chunked", every=0):
    config = TrainConfig(tbptt=tbptt, tbptt_scheme=scheme, tbptt_every=every)
    return Trainer(build_model(ModelConfig("lstm", layers, 6), seed=1, task=task), config, task)


def _params(trainer):
    return [np.asarray(a) for a in trainer.state[0]]


def _reference_update(task, x, y, w, spans, layers):
    """TBPTT written out chunk by chunk with plain jax.grad and Keras's Adam, independent of train.py."""
    model = build_model(ModelConfig("lstm", layers, 6), seed=1, task=task)
    optimizer = keras.optimizers.Adam(learning_rate=1e-3)
    optimizer.build(model.trainable_variables)
    params = [v.value for v in model.trainable_variables]
    opt_vars = [v.value for v in optimizer.variables]

    @jax.jit
    def loss_and_grads(params, state, x_chunk, y_chunk):
        def loss(params):  # `state` is a constant here: the gradient stops at the chunk's start
            p, new_state = model.stateless_call(params, [], x_chunk, initial_state=state, return_state=True)[0]
            return task.loss(y_chunk, p, w), new_state

        return jax.value_and_grad(loss, has_aux=True)(params)

    apply_update = jax.jit(optimizer.stateless_apply)
    zeros = np.zeros((len(x), 6), np.float32)
    state = [[zeros, zeros]] * layers  # the LSTM's (h, c) per layer
    for start, stop in spans:
        y_chunk = y[:, start:stop] if task.per_step else y
        (_, state), grads = loss_and_grads(params, state, x[:, start:stop], y_chunk)
        if not task.per_step and stop < task.config.seq_len:
            continue  # no loss in this chunk: forward only, no update
        params, opt_vars = apply_update(opt_vars, grads, params)
    return [np.asarray(p) for p in params]


@pytest.mark.parametrize("target,objective,layers", [("final", "classification", 2), ("per-step", "classification", 2),
                                                     ("final", "regression", 1), ("per-step", "regression", 1)])
def test_k_equal_to_the_length_is_exactly_full_bptt(target, objective, layers):
    task = tasks.of(TaskConfig(seq_len=T, target=target, objective=objective))
    x, y, w = _batch(task)
    updated = {}
    for k in (0, T):  # 0: no truncation
        trainer = _trainer(task, k, layers)
        trainer.train_steps(x[None], y[None], w[None])
        updated[k] = _params(trainer)
    for a, b in zip(updated[T], updated[0]):  # the same arithmetic, bit for bit
        np.testing.assert_array_equal(a, b)
    # ... and that arithmetic is full BPTT: an independent, uncompiled computation agrees to float32
    # rounding (XLA fuses the compiled program differently, which moves the last bit).
    for a, b in zip(updated[0], _reference_update(task, x, y, w, [(0, T)], layers)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)  # an update moves ~1e-3


@pytest.mark.parametrize("target,k,layers", [("final", 5, 2), ("final", 1, 1), ("per-step", 5, 1), ("per-step", 4, 2),
                                             ("per-step", 1, 1)])
def test_truncated_updates_follow_the_algorithm_chunk_by_chunk(target, k, layers):
    task = tasks.of(TaskConfig(seq_len=T, target=target))
    x, y, w = _batch(task)
    trainer = _trainer(task, k, layers)
    trainer.train_steps(x[None], y[None], w[None])
    expected = _reference_update(task, x, y, w, Truncation.create(T, k, task.per_step, scheme="chunked").spans,
                                 layers)
    for a, b in zip(_params(trainer), expected):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
    iterations = int(np.asarray(trainer.state[2][0]))  # Adam's step counter comes first
    assert iterations == trainer.plan.updates_per_batch  # one Adam step per chunk with a loss


@pytest.mark.parametrize("k,last_chunk,layers", [(5, 10, 2), (4, 8, 1), (1, 11, 1)])
def test_final_target_gradient_is_zero_before_the_last_chunk(k, last_chunk, layers):
    task = tasks.of(TaskConfig(seq_len=T))
    x, y, w = _batch(task)
    # d(batch loss) / d(inputs), through the trainer's own train step: (B, T)
    input_gradient = lambda trainer: np.asarray(jax.jit(jax.grad(  # noqa: E731
        lambda x: trainer.train_step(trainer.state, (x, y, w))[1][0]))(x))[:, :, 0]
    truncated = input_gradient(_trainer(task, k, layers))
    assert not truncated[:, :last_chunk].any()
    assert np.abs(truncated[:, last_chunk:]).min() > 0
    full = input_gradient(_trainer(task, 0, layers))
    assert np.abs(full[:, :last_chunk]).min() > 0  # without truncation every input gets a gradient


def test_truncation_saves_memory_in_proportion_to_k():
    task = tasks.of(TaskConfig(seq_len=48, target="per-step"))
    memory = {k: _trainer(task, k, layers=1).step_memory_bytes() for k in (1, 8, 48)}
    assert memory[1] < memory[8] < memory[48]
    assert memory[48] > 4 * memory[8]


# ---- per-loss TBPTT(k1, k2) ----------------------------------------------------------------------

def _numpy_lstm(model):
    """The 1-layer LSTM + sigmoid read-out of `model` in float64 NumPy, written from the equations.

    Returns step(x_t (B,), h, c) -> (h, c) and readout(h) -> p (B,). Shares no code with lstmlab.
    """
    cell = model.rnns[0].cell
    kernel, recurrent, bias = (np.asarray(v, np.float64) for v in (cell.kernel, cell.recurrent_kernel, cell.bias))
    dense_w, dense_b = (np.asarray(v, np.float64) for v in model.readout.weights)
    sigmoid = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731

    def step(x_t, h, c):
        z = x_t[:, None] * kernel[0] + h @ recurrent + bias  # (B, 4u), gates i, f, c, o
        i, f, g, o = np.split(z, 4, axis=-1)
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        return sigmoid(o) * np.tanh(c), c

    return step, lambda h: sigmoid(h @ dense_w + dense_b)[:, 0]


def _oracle_states(step, x, units):
    """Every state of a plain forward pass: h[i], c[i] before step i, i = 0..T. x (B, T)."""
    h, c = np.zeros((len(x), units)), np.zeros((len(x), units))
    hs, cs = [h], [c]
    for t in range(x.shape[1]):
        h, c = step(x[:, t], h, c)
        hs.append(h)
        cs.append(c)
    return np.stack(hs), np.stack(cs)  # (T + 1, B, u)


@pytest.mark.parametrize("k2", [1, 3, 5])
def test_each_loss_depends_on_exactly_its_last_k2_inputs_against_a_numpy_oracle(k2):
    task = tasks.of(TaskConfig(seq_len=T, target="per-step"))
    x, _, _ = _batch(task, batch=3)
    trainer = _trainer(task, 0, layers=1)
    step, readout = _numpy_lstm(trainer.model)
    hs, cs = _oracle_states(step, x[:, :, 0].astype(np.float64), 6)
    states = [[hs.astype(np.float32), cs.astype(np.float32)]]
    trainable, non_trainable, _ = trainer.state
    # The trainer's predictions for every loss step 0..T-1 as one window, and d p_s / d x_t: (B, T, B, T)
    predict = lambda x: replay_predictions(trainer.model, trainable, non_trainable, x, states, 0, T, k2)[0]  # noqa: E731
    jacobian = np.asarray(jax.jacrev(predict)(x))[..., 0]
    eps = 1e-4
    for s in range(T):
        first = max(0, s - k2 + 1)

        def truncated_p(x_window):  # the oracle's p_s, from the state before `first`, held fixed
            h, c = hs[first], cs[first]
            for t in range(first, s + 1):
                h, c = step(x_window[:, t], h, c)
            return readout(h)

        for t in range(T):
            gradient = np.array([jacobian[b, s, b, t] for b in range(len(x))])  # d p_s[b] / d x_t[b]
            if t < first or t > s:
                assert not gradient.any(), f"loss {s} has a gradient from input {t}, outside its last {k2} steps"
                continue
            assert np.abs(gradient).min() > 0, f"loss {s} has no gradient from input {t}, within its last {k2}"
            up, down = x[:, :, 0].astype(np.float64), x[:, :, 0].astype(np.float64)
            up[:, t] += eps
            down[:, t] -= eps
            oracle = (truncated_p(up) - truncated_p(down)) / (2 * eps)
            np.testing.assert_allclose(gradient, oracle, rtol=2e-3, atol=2e-6)
        np.testing.assert_allclose(predict(x)[:, s], truncated_p(x[:, :, 0].astype(np.float64)), rtol=1e-5, atol=1e-6)


def _reference_per_loss_update(task, x, y, w, k1, k2, layers):
    """TBPTT(k1, k2) written out loss by loss with plain jax.grad and Keras's Adam, independent of train.py.

    Per window: run it forward with the current parameters (keeping every state), then the window's
    loss is the mean over its steps of each step's loss, replayed from the state k2 steps before it.
    """
    model = build_model(ModelConfig("lstm", layers, 6), seed=1, task=task)
    optimizer = keras.optimizers.Adam(learning_rate=1e-3)
    optimizer.build(model.trainable_variables)
    params = [v.value for v in model.trainable_variables]
    opt_vars = [v.value for v in optimizer.variables]
    zeros = np.zeros((len(x), 6), np.float32)
    states = [[[zeros, zeros]] * layers]  # states[i]: the state before step i
    for start in range(0, T, k1):
        stop = min(start + k1, T)
        for t in range(start, stop):
            _, state = model.stateless_call(params, [], x[:, t:t + 1], initial_state=states[t], return_state=True)[0]
            states.append(state)

        def loss(params):
            total = 0.0
            for s in range(start, stop):
                first = max(0, s - k2 + 1)
                p = model.stateless_call(params, [], x[:, first:s + 1], initial_state=states[first])[0]  # (B, steps)
                total += task.loss(y[:, s:s + 1], p[:, -1:], w)
            return total / (stop - start)

        params, opt_vars = optimizer.stateless_apply(opt_vars, jax.grad(loss)(params), params)
    return [np.asarray(p) for p in params]


@pytest.mark.parametrize("k1,k2,layers", [(4, 3, 1), (3, 5, 2), (1, 2, 1)])
def test_per_loss_updates_follow_tbptt_k1_k2_window_by_window(k1, k2, layers):
    task = tasks.of(TaskConfig(seq_len=T, target="per-step"))
    x, y, w = _batch(task)
    trainer = _trainer(task, k2, layers, scheme="per-loss", every=k1)
    trainer.train_steps(x[None], y[None], w[None])
    for a, b in zip(_params(trainer), _reference_per_loss_update(task, x, y, w, k1, k2, layers)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
    assert int(np.asarray(trainer.state[2][0])) == -(-T // k1)  # one Adam step per window


@pytest.mark.parametrize("k2", [1, 5])
def test_a_final_target_backpropagates_its_last_k2_steps(k2):
    task = tasks.of(TaskConfig(seq_len=T))
    x, y, w = _batch(task)
    trainer = _trainer(task, k2, layers=1, scheme="per-loss")
    gradient = np.asarray(jax.jit(jax.grad(lambda x: trainer.train_step(trainer.state, (x, y, w))[1][0]))(x))[:, :, 0]
    assert not gradient[:, :T - k2].any() and np.abs(gradient[:, T - k2:]).min() > 0
