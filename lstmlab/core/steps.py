"""The pure step functions of training and prediction, as flax's examples write them.

Every function here is a function of explicit state and static arguments, and changes nothing
else: `train_step(state, batch, *, model, task, plan, optimizer, layer_of, devices)` -> (state,
(loss, per-layer gradient norms)) runs one batch, `train_call` runs a stack of them in one `lax.scan`
and `eval_step` predicts. The static arguments are the Keras model (used through `stateless_call`
and `initial_state`), the task (its `loss`), the TBPTT plan (`tbptt.Truncation`), the Keras optimizer
(used through `stateless_apply`), the layer of each parameter (for the gradient norms) and the
number of devices the batch is split over. `Trainer` binds them with `functools.partial` and
compiles the result.

A batch is one update, or with truncated BPTT one update per window or chunk of steps that has a
loss. "Window" and "chunk" always mean a TBPTT update's share of a sequence (`tbptt.py`: windows of
the per-loss and williams-peng schemes, chunks of the chunked one). A batch with several updates
reports the mean of their losses and gradient norms, each weighted by its window's (chunk's) length.
"""

from functools import partial
from typing import NamedTuple

from lstmlab.core.tbptt import Truncation, empty_states, forward_states, replay_predictions, replay_window

BATCH_AXIS = "batch"  # the mesh axis a batch is split along with TrainConfig.devices > 1


class TrainState(NamedTuple):
    """Everything training changes, each a list of arrays in the order of the Keras variables; this
    is also a checkpoint's order (`Trainer.get_state`)."""

    trainable: list  # the parameters: model.trainable_variables
    non_trainable: list  # model.non_trainable_variables
    optimizer: list  # optimizer.variables: Adam's step count, then its moments


def train_call(state: TrainState, batches: tuple, *, step):
    """A bound `train_step` over stacked batches xs (S, B, T, F), ys (S, B) or (S, B, T), ws (S, B),
    in one `lax.scan` -> (state, (losses (S,), gradient norms (S, layers)))."""
    import jax

    return jax.lax.scan(step, state, batches)


def train_step(state: TrainState, batch: tuple, *, model, task, plan: Truncation, optimizer, layer_of: tuple,
               devices: int = 1):
    """One batch (x (B, T, F), y (B,) or (B, T), w (B,)) -> (state, (loss, per-layer gradient norms (layers,)))."""
    apply = partial(apply_update, optimizer=optimizer, layer_of=layer_of, devices=devices)
    if plan.per_step and plan.scheme != "chunked" and not plan.full:  # per-loss or williams-peng windows
        return per_loss_step(state, batch, model=model, task=task, plan=plan, apply=apply)
    return chunk_step(state, batch, model=model, task=task, plan=plan, apply=apply)


def step_without_norms(state: TrainState, batch: tuple, *, step):
    """A bound `train_step` returning (state, loss): unused, the norms' computation is left out when compiled
    (what `Trainer.step_memory_bytes` measures)."""
    state, (loss, _) = step(state, batch)
    return state, loss


def eval_step(trainable: list, non_trainable: list, x, *, model):
    """Sequences (B, T, F) -> predictions (B,) or (B, T)."""
    return model.stateless_call(trainable, non_trainable, x)[0]


def eval_window(trainable: list, non_trainable: list, x, rnn_state, *, model):
    """Steps (B, t, F) of longer sequences, from the state before them -> (predictions, the state after them)."""
    return model.stateless_call(trainable, non_trainable, x, initial_state=rnn_state, return_state=True)[0]


# ---- the chunked scheme, a final-step target, and full BPTT: updates from a carried state ----------

def chunk_step(state: TrainState, batch: tuple, *, model, task, plan: Truncation, apply):
    """A batch as chunks of `plan.every` steps, one update per chunk with a loss: with a final-step target
    the steps before the last chunk (per-loss: before the last k2 steps) run forward only, then one update."""
    import jax

    trainable, non_trainable, opt_vars = state
    x, y, w = batch  # (B, T, F), (B,) or (B, T), (B,)
    update = partial(chunk_update, model=model, task=task, apply=apply)
    rnn_state = model.initial_state(x.shape[0])
    if plan.forward_only:  # final-step target: the chunks without a loss, forward only
        (_, rnn_state), non_trainable = model.stateless_call(
            trainable, non_trainable, x[:, : plan.forward_only], initial_state=rnn_state, return_state=True)
    carry = (trainable, non_trainable, opt_vars, rnn_state)
    if not plan.per_step:
        carry, outputs = update(carry, (x[:, plan.forward_only:], y, w))
        return TrainState(*carry[:3]), outputs
    # Per-step targets: the whole chunks as one scan (B, n*k, F) -> (n, B, k, F), then the remainder.
    n, k = plan.seq_len // plan.every, plan.every
    xs = jax.numpy.swapaxes(x[:, : n * k].reshape(x.shape[0], n, k, x.shape[-1]), 0, 1)  # (n, B, k, F)
    ys = jax.numpy.swapaxes(y[:, : n * k].reshape(y.shape[0], n, k), 0, 1)  # (n, B, k)
    carry, (losses, norms) = jax.lax.scan(lambda c, chunk: update(c, (*chunk, w)), carry, (xs, ys))
    total, norm_total = losses.sum() * k, norms.sum(axis=0) * k
    if n * k < plan.seq_len:
        carry, (loss, norm) = update(carry, (x[:, n * k:], y[:, n * k:], w))
        total += loss * (plan.seq_len - n * k)
        norm_total += norm * (plan.seq_len - n * k)
    # The mean per-step loss over the batch; the updates' gradient norms weighted the same way.
    return TrainState(*carry[:3]), (total / plan.seq_len, norm_total / plan.seq_len)


def chunk_update(carry: tuple, chunk: tuple, *, model, task, apply):
    """One update from one chunk (x (B, k, F), y, w): carry (trainable, non_trainable, opt_vars, rnn_state)."""
    import jax

    trainable, non_trainable, opt_vars, rnn_state = carry
    rnn_state = jax.lax.stop_gradient(rnn_state)  # for any outer differentiation (the tests) too
    # Differentiates with respect to the parameters only: the incoming state is a constant, which is
    # what stops the gradient between chunks.
    grad_fn = jax.value_and_grad(partial(chunk_loss, model=model, task=task), has_aux=True)
    (loss, (non_trainable, rnn_state)), grads = grad_fn(trainable, non_trainable, *chunk, rnn_state)
    trainable, opt_vars, outputs = apply(trainable, opt_vars, loss, grads, chunk[2])
    return (trainable, non_trainable, opt_vars, rnn_state), outputs


def chunk_loss(trainable: list, non_trainable: list, x, y, w, rnn_state, *, model, task):
    """The chunk's loss from `rnn_state` -> (loss, (non_trainable, the state after the chunk))."""
    (p, rnn_state), non_trainable = model.stateless_call(
        trainable, non_trainable, x, initial_state=rnn_state, return_state=True)
    return task.loss(y, p, w), (non_trainable, rnn_state)


# ---- per-step targets in windows: per-loss (each loss through its own last k2 steps), williams-peng
# (a window's losses together through the h steps before its end) -----------------------------------

def per_loss_step(state: TrainState, batch: tuple, *, model, task, plan: Truncation, apply):
    """Per-step targets under the per-loss or williams-peng scheme: one update per window of `plan.every` steps."""
    import jax

    x, y, w = batch  # (B, T, F), (B, T), (B,)
    t, k = plan.seq_len, plan.every
    replay = replay_window if plan.scheme == "williams-peng" else replay_predictions
    update = partial(window_update, model=model, task=task, depth=plan.depth, replay=replay, apply=apply)
    carry = (*state, empty_states(model, x.shape[0], t))  # the states' leaves (T + 1, B, u)
    n = t // k
    carry, (losses, norms) = jax.lax.scan(lambda c, i: update(c, x, y, w, i * k, k), carry, jax.numpy.arange(n))
    total, norm_total = losses.sum() * k, norms.sum(axis=0) * k
    if n * k < t:  # the last, shorter window
        carry, (loss, norm) = update(carry, x, y, w, n * k, t - n * k)
        total += loss * (t - n * k)
        norm_total += norm * (t - n * k)
    return TrainState(*carry[:3]), (total / t, norm_total / t)


def window_update(carry: tuple, x, y, w, start, size: int, *, model, task, depth: int, replay, apply):
    """One window: run it forward keeping its states, then one update from its losses.

    carry (trainable, non_trainable, opt_vars, states): states as in `tbptt.forward_states`.
    """
    import jax

    trainable, non_trainable, opt_vars, states = carry
    states = forward_states(model, trainable, non_trainable, x, states, start, size)  # current parameters
    window_grad = jax.value_and_grad(partial(window_loss, model=model, task=task, depth=depth, replay=replay),
                                     has_aux=True)
    (loss, non_trainable), grads = window_grad(trainable, non_trainable, x, y, w, states, start, size)
    trainable, opt_vars, outputs = apply(trainable, opt_vars, loss, grads, w)
    return (trainable, non_trainable, opt_vars, states), outputs


def window_loss(trainable: list, non_trainable: list, x, y, w, states, start, size: int, *, model, task, depth: int,
                replay=replay_predictions):
    """The mean loss of steps start .. start+size-1, through `replay`: each through its last `depth` (k2)
    steps (`replay_predictions`), or all through the `depth` (h) steps before the window's end (`replay_window`)."""
    import jax

    p, non_trainable = replay(model, trainable, non_trainable, x, states, start, size, depth)
    return task.loss(jax.lax.dynamic_slice_in_dim(y, start, size, axis=1), p, w), non_trainable


# ---- the update ------------------------------------------------------------------------------

def apply_update(trainable: list, opt_vars: list, loss, grads: list, w, *, optimizer, layer_of: tuple, devices: int):
    """One optimizer step from a loss and its gradients (this device's share of them, with devices > 1)
    -> (trainable, opt_vars, (loss, per-layer gradient norms))."""
    import jax

    if devices > 1:  # this device's share of the batch: weigh it into the whole batch's mean
        share = jax.numpy.sum(w) / jax.lax.psum(jax.numpy.sum(w), BATCH_AXIS)
        loss, grads = jax.lax.psum((loss * share, jax.tree.map(lambda g: g * share, grads)), BATCH_AXIS)
    norms = layer_norms(grads, layer_of)
    trainable, opt_vars = optimizer.stateless_apply(opt_vars, grads, trainable)
    return trainable, opt_vars, (loss, norms)


def layer_norms(grads: list, layer_of: tuple):
    """The global L2 norm of each layer's gradients: (layers,); `layer_of[i]` is the layer of grads[i]."""
    import jax.numpy as jnp

    squares = [None] * (max(layer_of) + 1)
    for grad, layer in zip(grads, layer_of):
        square = jnp.sum(jnp.square(grad))
        squares[layer] = square if squares[layer] is None else squares[layer] + square
    return jnp.sqrt(jnp.stack(squares))
