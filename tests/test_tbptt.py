"""Truncated BPTT, all three schemes, checked against independent gradient computations.

Per-loss TBPTT(k1, k2) (each loss truncated to its own last k2 steps) and Williams & Peng's BPTT(h; h')
are checked against a NumPy LSTM that shares no code with lstmlab (finite differences in float64)
and against window-by-window reference updates; the chunked scheme against a chunk-by-chunk
reference update.
"""

import json
from functools import partial

import jax
import keras
import numpy as np
import pytest

from lstmlab import tasks
from lstmlab.config import ModelConfig, TaskConfig, TrainConfig
from lstmlab.core.model import build_model
from lstmlab.core.tbptt import Truncation, compute, replay_predictions, replay_window
from lstmlab.core.train import Trainer
from conftest import assert_two_devices_train_as_one

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


def _reference_windowed_update(task, x, y, w, every, layers, window_loss):
    """Truncated BPTT written out window by window with plain jax.grad and Keras's Adam, independent of
    train.py: per window [start, stop) of `every` steps, run it forward with the current parameters
    (keeping every state: states[i] is the state before step i), then one Adam step on
    window_loss(model, params, states, start, stop), the scheme's loss for that window."""
    model = build_model(ModelConfig("lstm", layers, 6), seed=1, task=task)
    optimizer = keras.optimizers.Adam(learning_rate=1e-3)
    optimizer.build(model.trainable_variables)
    params = [v.value for v in model.trainable_variables]
    opt_vars = [v.value for v in optimizer.variables]
    zeros = np.zeros((len(x), 6), np.float32)
    states = [[[zeros, zeros]] * layers]
    for start in range(0, T, every):
        stop = min(start + every, T)
        for t in range(start, stop):
            _, state = model.stateless_call(params, [], x[:, t:t + 1], initial_state=states[t], return_state=True)[0]
            states.append(state)
        loss = partial(window_loss, model, states=states, start=start, stop=stop)
        params, opt_vars = optimizer.stateless_apply(opt_vars, jax.grad(loss)(params), params)
    return [np.asarray(p) for p in params]


def _reference_per_loss_update(task, x, y, w, k1, k2, layers):
    """TBPTT(k1, k2): a window's loss is the mean over its steps of each step's loss, replayed from the
    state k2 steps before it."""
    def window_loss(model, params, states, start, stop):
        total = 0.0
        for s in range(start, stop):
            first = max(0, s - k2 + 1)
            p = model.stateless_call(params, [], x[:, first:s + 1], initial_state=states[first])[0]  # (B, steps)
            total += task.loss(y[:, s:s + 1], p[:, -1:], w)
        return total / (stop - start)

    return _reference_windowed_update(task, x, y, w, k1, layers, window_loss)


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


# ---- Williams & Peng's BPTT(h; h') ---------------------------------------------------------------

def _wp_trainer(task, h, h_prime, layers=1):
    return _trainer(task, h, layers, scheme="williams-peng", every=h_prime)


def test_williams_peng_windows_share_one_cut_h_steps_before_their_end():
    plan = Truncation.create(25, 10, per_step=True, every=5, scheme="williams-peng")
    assert plan.spans == [(0, 5), (5, 10), (10, 15), (15, 20), (20, 25)] and plan.updates_per_batch == 5
    assert (plan.depth, plan.backprop_steps, plan.forward_only) == (10, 10, 0)
    assert Truncation.create(25, 10, per_step=True, scheme="williams-peng").every == 10  # h' = 0: h' = h
    final = Truncation.create(25, 10, per_step=False, every=5, scheme="williams-peng")
    per_loss = Truncation.create(25, 10, per_step=False)
    assert (final.forward_only, final.backprop_steps, final.updates_per_batch) == (15, 10, 1) == (
        per_loss.forward_only, per_loss.backprop_steps, per_loss.updates_per_batch)


def _wp_violations(predict, x, hs, cs, step, readout, h, h_prime):
    """Checks the predictions of every W&P window against the oracle; returns what disagrees (empty: all agree).

    predict(x, start, size) -> (B, size): the trainer's predictions of window [start, start + size).
    For the window ending at `stop`, the oracle's p_s starts from its own state at cut = max(0, stop - h),
    held fixed, so d p_s / d x_t is nonzero exactly for cut <= t <= s, and equals finite differences.
    """
    problems, eps, x64 = [], 1e-4, x[:, :, 0].astype(np.float64)
    for start in range(0, T, h_prime):
        size = min(h_prime, T - start)
        cut = max(0, start + size - h)
        jacobian = np.asarray(jax.jacrev(lambda x: predict(x, start, size))(x))[..., 0]  # (B, size, B, T)

        def oracle_p(x_window, s):  # p_s from the state before `cut`, held fixed
            hidden, cell = hs[cut], cs[cut]
            for t in range(cut, s + 1):
                hidden, cell = step(x_window[:, t], hidden, cell)
            return readout(hidden)

        for i, s in enumerate(range(start, start + size)):
            for t in range(T):
                gradient = np.array([jacobian[b, i, b, t] for b in range(len(x))])  # d p_s[b] / d x_t[b]
                if t < cut or t > s:
                    if gradient.any():
                        problems.append(f"loss {s} has a gradient from input {t}, before its window's cut {cut}")
                    continue
                if not np.abs(gradient).min() > 0:
                    problems.append(f"loss {s} has no gradient from input {t}, after its window's cut {cut}")
                    continue
                up, down = x64.copy(), x64.copy()
                up[:, t] += eps
                down[:, t] -= eps
                oracle = (oracle_p(up, s) - oracle_p(down, s)) / (2 * eps)
                if not np.allclose(gradient, oracle, rtol=2e-3, atol=2e-6):
                    problems.append(f"d p_{s} / d x_{t}: {gradient} against the oracle's {oracle}")
            if not np.allclose(predict(x, start, size)[:, i], oracle_p(x64, s), rtol=1e-5, atol=1e-6):
                problems.append(f"p_{s} differs from the oracle's")
    return problems


@pytest.mark.parametrize("h,h_prime", [(4, 2), pytest.param(6, 3, marks=pytest.mark.slow), (12, 4)])
def test_a_williams_peng_window_backpropagates_to_one_cut_against_a_numpy_oracle(h, h_prime):
    task = tasks.of(TaskConfig(seq_len=T, target="per-step"))
    x, _, _ = _batch(task, batch=3)
    trainer = _wp_trainer(task, h, h_prime)
    step, readout = _numpy_lstm(trainer.model)
    hs, cs = _oracle_states(step, x[:, :, 0].astype(np.float64), 6)
    states = [[hs.astype(np.float32), cs.astype(np.float32)]]
    trainable, non_trainable, _ = trainer.state
    predict = lambda x, start, size: replay_window(  # noqa: E731
        trainer.model, trainable, non_trainable, x, states, start, size, trainer.plan.depth)[0]
    assert _wp_violations(predict, x, hs, cs, step, readout, h, h_prime) == []
    # The same check fails for the other schemes' gradients: per-loss with k2 = h (each loss from its own
    # cut h steps back: the window's early losses reach before the shared cut; with h = T both reach the
    # start) and chunked with k = h' (the cut at the window's start, not h steps before its end).
    per_loss = lambda x, start, size: replay_predictions(  # noqa: E731
        trainer.model, trainable, non_trainable, x, states, start, size, h)[0]
    chunked = lambda x, start, size: replay_window(  # noqa: E731
        trainer.model, trainable, non_trainable, x, states, start, size, size)[0]
    if h < T:
        assert any("before its window's cut" in p
                   for p in _wp_violations(per_loss, x, hs, cs, step, readout, h, h_prime))
    if h > h_prime:
        assert any("after its window's cut" in p for p in _wp_violations(chunked, x, hs, cs, step, readout, h, h_prime))


def _reference_wp_update(task, x, y, w, h, h_prime, layers):
    """BPTT(h; h'): a window's mean loss from one run of the steps max(0, stop - h) .. stop - 1, from the
    state kept there."""
    def window_loss(model, params, states, start, stop):
        cut = max(0, stop - h)
        p = model.stateless_call(params, [], x[:, cut:stop], initial_state=states[cut])[0]  # (B, stop - cut)
        return task.loss(y[:, start:stop], p[:, start - cut:], w)

    return _reference_windowed_update(task, x, y, w, h_prime, layers, window_loss)


def _wp_updated(task, x, y, w, h, h_prime, layers):
    trainer = _wp_trainer(task, h, h_prime, layers)
    trainer.train_steps(x[None], y[None], w[None])
    assert int(np.asarray(trainer.state[2][0])) == -(-T // h_prime)  # one Adam step per window
    return _params(trainer)


@pytest.mark.parametrize("h,h_prime,layers", [(4, 2, 1), pytest.param(6, 3, 2, marks=pytest.mark.slow),
                                               pytest.param(12, 5, 1, marks=pytest.mark.slow)])
def test_williams_peng_updates_follow_bptt_h_h_prime_window_by_window(h, h_prime, layers):
    task = tasks.of(TaskConfig(seq_len=T, target="per-step"))
    x, y, w = _batch(task)
    for a, b in zip(_wp_updated(task, x, y, w, h, h_prime, layers),
                    _reference_wp_update(task, x, y, w, h, h_prime, layers)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


@pytest.mark.slow  # about 30 s: two more uncompiled references
def test_williams_peng_updates_are_neither_per_loss_nor_chunked():
    task = tasks.of(TaskConfig(seq_len=T, target="per-step"))
    x, y, w = _batch(task)
    updated = _wp_updated(task, x, y, w, 4, 2, 1)
    # per-loss TBPTT(k1 = h', k2 = h) and chunked k = h' make the same updates, from other gradients
    for other in (_reference_per_loss_update(task, x, y, w, 2, 4, 1),
                  _reference_update(task, x, y, w, Truncation.create(T, 2, True, scheme="chunked").spans, 1)):
        assert max(np.abs(a - b).max() for a, b in zip(updated, other)) > 1e-5


def test_williams_peng_with_h_prime_equal_to_h_is_the_chunked_scheme():
    task = tasks.of(TaskConfig(seq_len=T, target="per-step"))
    x, y, w = _batch(task)
    updated = []
    for trainer in (_wp_trainer(task, 4, 0), _trainer(task, 4, 1, scheme="chunked")):  # h' = 0: h' = h
        trainer.train_steps(x[None], y[None], w[None])
        updated.append(_params(trainer))
    for a, b in zip(*updated):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_a_final_target_under_williams_peng_is_one_update_through_h_steps_as_per_loss():
    task = tasks.of(TaskConfig(seq_len=T))
    x, y, w = _batch(task)
    updated = []
    for trainer in (_wp_trainer(task, 5, 2), _trainer(task, 5, 1, scheme="per-loss")):
        trainer.train_steps(x[None], y[None], w[None])
        updated.append(_params(trainer))
    for a, b in zip(*updated):  # the same code path: bit for bit
        np.testing.assert_array_equal(a, b)


def test_williams_peng_needs_h_prime_at_most_h():
    from lstmlab.errors import ConfigError

    with pytest.raises(ConfigError, match=r"tbptt_every \(h' = 6\) must be at most tbptt \(h = 4\).*fix tbptt_every"):
        TrainConfig(tbptt=4, tbptt_every=6, tbptt_scheme="williams-peng")
    assert TrainConfig(tbptt=0, tbptt_every=6, tbptt_scheme="williams-peng").tbptt_every == 6  # h = T


def test_compute_counts_each_schemes_forward_and_backward_steps():
    def of(tbptt, every, scheme, per_step=True):
        return compute(Truncation.create(25, tbptt, per_step, every=every, scheme=scheme))

    full = of(0, 0, "per-loss")
    assert (full["forward"], full["backward"], full["per_batch"], full["per_update"]) == (25, 25, 75, 75)
    chunked = of(5, 0, "chunked")  # the same steps as full BPTT, 5 updates
    assert (chunked["per_batch"], chunked["updates"], chunked["per_update"]) == (75, 5, 15)
    per_loss = of(5, 5, "per-loss")  # 5 windows, each 5 forward + 5 replays of 5 steps
    assert (per_loss["forward"], per_loss["backward"], per_loss["per_update"]) == (25 + 125, 125, (150 + 250) / 5)
    wp = of(10, 5, "williams-peng")  # 5 windows, each 5 forward + one replay of 10
    assert (wp["forward"], wp["backward"], wp["per_update"]) == (25 + 50, 50, (75 + 100) / 5)
    final = of(10, 0, "per-loss", per_step=False)  # 15 forward only, then 10 forward and backward
    assert (final["forward"], final["backward"], final["per_update"]) == (25, 10, 45)
    assert of(10, 5, "williams-peng", per_step=False) == final


@pytest.mark.slow  # about 15 s
def test_williams_peng_trains_on_two_devices_as_on_one():
    task = tasks.of(TaskConfig(seq_len=10, n_train=640, n_val=320, n_test=32, seed=2, target="per-step"))
    assert_two_devices_train_as_one(task, ModelConfig("lstm", 1, 8), epochs=1, steps_per_call=7, tbptt=4,
                                    tbptt_every=2, tbptt_scheme="williams-peng")


def test_the_command_line_trains_williams_peng_and_refuses_h_prime_above_h(cli, tmp_path):
    result = cli("run", "--tbptt", "10", "--tbptt-every", "5", "--tbptt-scheme", "williams-peng",
                 "--target", "per-step", "--samples", "320,64,64", "--epochs", "1", "--layers", "1", "--units", "4", "--out", "r", "--quiet",
                 cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    results = json.loads((tmp_path / "r" / "results.json").read_text())
    train = results["config"]["train"]
    assert (train["tbptt"], train["tbptt_every"], train["tbptt_scheme"]) == (10, 5, "williams-peng")
    assert 0 < results["models"][0]["test_accuracy"] <= 1
    assert "Williams & Peng's BPTT(h = 10; h' = 5)" in (tmp_path / "r" / "report.md").read_text()
    bad = cli("run", "--tbptt", "4", "--tbptt-every", "6", "--tbptt-scheme", "williams-peng", "--out", "bad",
              cwd=tmp_path)
    lines = bad.stderr.strip().splitlines()
    assert bad.returncode != 0 and len(lines) == 1 and "--tbptt-every" in lines[0] and "at most" in lines[0]
    assert not (tmp_path / "bad").exists()  # nothing half-written
