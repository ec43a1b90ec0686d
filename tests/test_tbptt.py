"""Truncated BPTT as the algorithm is defined, checked against independent gradient computations."""

import jax
import keras
import numpy as np
import pytest

from lstmlab import tasks
from lstmlab.config import ModelConfig, TaskConfig, TrainConfig
from lstmlab.core.model import build_model
from lstmlab.core.tbptt import ChunkPlan
from lstmlab.core.train import Trainer

T = 12


def test_chunks_count_from_the_start_and_the_last_may_be_short():
    plan = ChunkPlan.create(25, 10, per_step=False)
    assert plan.spans == [(0, 10), (10, 20), (20, 25)]
    assert (plan.forward_only, plan.backprop_steps, plan.updates_per_batch) == (20, 5, 1)
    per_step = ChunkPlan.create(25, 10, per_step=True)
    assert (per_step.forward_only, per_step.backprop_steps, per_step.updates_per_batch) == (0, 10, 3)
    for tbptt in (0, 25, 40):  # no truncation: one chunk, the whole sequence
        assert ChunkPlan.create(25, tbptt, per_step=True).spans == [(0, 25)]
    assert ChunkPlan.create(25, 5, False).backprop_steps == ChunkPlan.create(25, 10, False).backprop_steps == 5


def _batch(task, seed=0, batch=8):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, task.config.seq_len)).astype(np.float32)
    return x[:, :, None], task.targets_of(x), np.ones(batch, np.float32)


def _trainer(task, tbptt, layers):
    return Trainer(build_model(ModelConfig("lstm", layers, 6), seed=1, task=task), TrainConfig(tbptt=tbptt), task)


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
    expected = _reference_update(task, x, y, w, ChunkPlan.create(T, k, task.per_step).spans, layers)
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
        lambda x: trainer._train_step(trainer.state, (x, y, w))[1]))(x))[:, :, 0]
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
