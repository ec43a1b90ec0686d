"""Truncated backpropagation through time (TBPTT): which steps each loss's gradient reaches back through.

Three schemes (TrainConfig.tbptt_scheme), each with `tbptt` = its depth and `tbptt_every` = how often
per-step targets update:

**per-loss** (the default): each loss truncated to its own last k2 steps. `tbptt` = k2: every loss
backpropagates through exactly its own last k2 steps (fewer only when the sequence has not had k2
steps yet), from its own cut. `tbptt_every` = k1 (0: k2): per-step targets fall into windows of k1
steps, processed in order; each window first runs forward with the current parameters (its states
are kept), then every loss in it is replayed from the state k2 steps before it, with the gradient
stopped there, and the window's mean loss makes one update. The update's gradient is the truncated
gradient of BPTT(k2) summed over the window's losses: each loss has its own cut, so a window costs
k1 x k2 steps, not k2. This is not Williams & Peng's BPTT(h; h') (below), whose losses share one cut.

    final-step target   one loss, on the last step: steps [0, T - k2) run forward only, then one
                        update that backpropagates through the last k2 steps.
    per-step targets    ceil(T / k1) updates per batch; the loss at step s depends, through the
                        gradient, on inputs s - k2 + 1 .. s only.

**williams-peng**: Williams & Peng's (1990) BPTT(h; h'), h = `tbptt`, h' = `tbptt_every` (0: h; h' <= h,
they recommend h = 2h'). Per-step targets fall into windows of h' steps, as above; each window runs
forward with the current parameters (its states kept), then the losses of its h' steps are
backpropagated together to one cut h steps before the window's end (the kept state there, gradient
stopped; the sequence's start when it is nearer), and their mean makes one update. The loss at step s
of a window [a, a + h') reaches back to step a + h' - h: between h - h' + 1 and h steps (the window's
last loss reaches back h). The steps from the cut to the window are replayed with the current
parameters from the kept state at the cut, as the per-loss scheme replays its losses (W&P's online
algorithm backpropagates through the activations stored as they ran, with the parameters of their
time: they differ by the updates made since, a window or two). A final-step target has one loss, at
the end: one update that backpropagates h steps, exactly the per-loss scheme's with k2 = h (h' does
not enter). With h' = h it is BPTT(h; h): the chunked scheme with chunks of h steps.

**chunked**: the sequence is cut into chunks of k = `tbptt` steps from its start, the state carried
between chunks with its gradient stopped, one update after every chunk that has a loss. A loss then
backpropagates to the start of its own chunk: between 1 and k steps, not k. A final-step target
backpropagates through the last chunk only (at T = 25, k = 5 and 10 both leave a last chunk of 5).
This is what lstmlab did before, and with per-step targets it is W&P's BPTT(k; k).

`tbptt` = 0 or >= T with one update per batch (`tbptt_every` 0 or >= T) is full BPTT, in every scheme.
`compute` counts what each scheme costs per update and per batch, in forward-step equivalents.
"""

from dataclasses import dataclass

from lstmlab.config import TBPTT_SCHEMES as SCHEMES  # the scheme names are a config value


@dataclass(frozen=True)
class Truncation:
    """How one batch of sequences of `seq_len` steps is trained: which steps each update sees."""

    seq_len: int
    depth: int  # k2 (per-loss), h (williams-peng) or the chunk length (chunked); seq_len for no truncation
    every: int  # k1 or h': per-step targets, steps per update window; seq_len for one update per batch
    per_step: bool  # per-step targets (a loss at every step) or a final-step target
    scheme: str = "per-loss"

    @classmethod
    def create(cls, seq_len: int, tbptt: int, per_step: bool, every: int = 0, scheme: str = "per-loss"):
        """`tbptt`, `every` and `scheme` as in TrainConfig: 0 or >= seq_len means none."""
        depth = tbptt if 0 < tbptt < seq_len else seq_len
        if scheme == "chunked" or every == 0:
            every = depth
        return cls(seq_len, depth, min(every, seq_len), per_step, scheme)

    @property
    def full(self) -> bool:
        """Full BPTT: one update per batch that backpropagates through every step."""
        return self.depth == self.seq_len and (self.every == self.seq_len or not self.per_step)

    @property
    def spans(self) -> list[tuple[int, int]]:
        """(start, stop) of every update window (chunk) of a per-step batch, in order."""
        return [(start, min(start + self.every, self.seq_len)) for start in range(0, self.seq_len, self.every)]

    @property
    def forward_only(self) -> int:
        """Final-step target: steps run forward only before the one update (0 for per-step targets)."""
        if self.per_step:
            return 0
        return self.spans[-1][0] if self.scheme == "chunked" else self.seq_len - self.depth

    @property
    def backprop_steps(self) -> int:
        """The most steps one loss's gradient reaches back through."""
        if self.per_step or self.scheme != "chunked":
            return self.depth
        return self.seq_len - self.forward_only

    @property
    def updates_per_batch(self) -> int:
        return len(self.spans) if self.per_step else 1


BACKWARD_COST = 2  # forward-step equivalents of backpropagating through one step (state and weight gradients)


def compute(plan: Truncation) -> dict:
    """What one sequence of a batch costs under `plan`, counted in steps as the trainer runs them.

    forward: steps run forward, replays included; backward: steps backpropagated through (a replay
    has a static length, so the early windows' replays are counted whole, as they are run). The
    forward-step equivalents are forward + BACKWARD_COST x backward, per batch and per update:

        full BPTT, chunked, final target   T forward, the steps after the forward-only ones backward
        per-loss, per-step                 per window of m steps: m forward, then m replays of k2 steps
                                           forward and backward (T + T k2 forward, T k2 backward a batch)
        williams-peng, per-step            per window of m steps: m forward, then one replay of h steps
                                           forward and backward
    Multiply by the batch size for a batch's steps. The units count compute, not wall time: per-loss runs
    a window's replays side by side as one batch, while every scheme runs a sequence's steps one after
    another, so seconds grow more slowly than compute where the replays are many.
    """
    t = plan.seq_len
    if not plan.per_step or plan.full or plan.scheme == "chunked":
        forward, backward = t, t - plan.forward_only
    elif plan.scheme == "per-loss":
        forward, backward = t + t * plan.depth, t * plan.depth
    else:  # williams-peng
        backward = len(plan.spans) * plan.depth
        forward = t + backward
    per_batch = forward + BACKWARD_COST * backward
    return {"forward": forward, "backward": backward, "updates": plan.updates_per_batch,
            "per_batch": per_batch, "per_update": per_batch / plan.updates_per_batch}


# ---- replays (JAX): used by the trainer and by the gradient-bias study -------------------------

def forward_states(model, trainable, non_trainable, x, states, start: int, size: int):
    """Run steps start .. start+size-1 forward, one at a time, and keep every state (no gradient).

    x (B, T, F); states: the model's state pytree with a leading axis of T + 1, states[i] the state
    before step i. Returns `states` with entries start+1 .. start+size filled in.
    """
    import jax

    def step(state, t):
        (_, state), _ = model.stateless_call(trainable, non_trainable, jax.lax.dynamic_slice_in_dim(x, t, 1, axis=1),
                                             initial_state=state, return_state=True)
        return state, state

    before = jax.tree.map(lambda leaf: leaf[start], states)
    _, after = jax.lax.scan(step, before, start + jax.numpy.arange(size))  # leaves (size, B, width)
    after = jax.lax.stop_gradient(after)
    return jax.tree.map(lambda all_, new: jax.lax.dynamic_update_slice_in_dim(all_, new, start + 1, 0), states, after)


def empty_states(model, batch_size: int, seq_len: int):
    """The state pytree with a leading axis of seq_len + 1: the initial state first, zeros after."""
    import jax

    return jax.tree.map(lambda leaf: jax.numpy.zeros((seq_len + 1, *leaf.shape), leaf.dtype).at[0].set(leaf),
                        model.initial_state(batch_size))


def replay_predictions(model, trainable, non_trainable, x, states, start, size: int, depth: int):
    """The predictions at steps start .. start+size-1, each replayed from the kept state `depth` steps
    before it (the state before step max(0, s - depth + 1), gradient stopped), so that the gradient
    of the prediction at step s reaches inputs s - depth + 1 .. s and no others.

    x (B, T, F); states as in `forward_states`. Returns ((B, size) predictions, (B, size, K) for K classes,
    non_trainable).
    Costs size x depth steps: every replay is run as its own sequence, side by side.
    """
    import jax

    jnp, (b, t, f) = jax.numpy, x.shape
    x = jnp.asarray(x)
    steps = start + jnp.arange(size)  # (size,) the losses' steps
    first = jnp.maximum(steps - depth + 1, 0)  # (size,) each replay's first step
    replayed = jnp.minimum(first[:, None] + jnp.arange(depth)[None, :], t - 1)  # (size, depth)
    xs = jnp.moveaxis(x[:, replayed], 1, 0).reshape(size * b, depth, f)  # (size*B, depth, F)
    initial = jax.tree.map(lambda leaf: jax.lax.stop_gradient(leaf[first]).reshape(size * b, *leaf.shape[2:]),
                           states)  # (size*B, width) per state array
    (p, _), non_trainable = model.stateless_call(trainable, non_trainable, xs, initial_state=initial,
                                                 return_state=True)
    # (size, B, depth, *classes): a softmax read-out adds a trailing axis of K classes
    classes = p.shape[2:] if model.per_step else p.shape[1:]
    p = p.reshape(size, b, depth, *classes) if model.per_step else \
        jnp.broadcast_to(p.reshape(size, b, 1, *classes), (size, b, depth, *classes))
    at = (steps - first).reshape(size, 1, 1, *(1 for _ in classes))
    p = jnp.take_along_axis(p, at, axis=2)[:, :, 0]  # (size, B, *classes): the one at step s
    return jnp.moveaxis(p, 0, 1), non_trainable


def replay_window(model, trainable, non_trainable, x, states, start, size: int, depth: int):
    """Williams & Peng: the predictions at steps start .. start+size-1, all from one replay of the `depth`
    steps before the window's end (from the kept state at cut = max(0, start + size - depth), gradient
    stopped), so that every prediction's gradient reaches back to the cut and no further.

    x (B, T, F); states as in `forward_states`. Returns ((B, size, *classes) predictions, non_trainable). Costs
    `depth` steps: near the sequence's start the replay runs on past the window (its later steps cannot
    reach the window's predictions, and get no gradient).
    """
    import jax

    jnp = jax.numpy
    x = jnp.asarray(x)
    cut = jnp.maximum(start + size - depth, 0)  # the cut: the state before step `cut`
    xs = jax.lax.dynamic_slice_in_dim(x, cut, depth, axis=1)  # (B, depth, F): steps cut .. cut+depth-1
    initial = jax.tree.map(lambda leaf: jax.lax.stop_gradient(leaf[cut]), states)  # (B, width) per state array
    (p, _), non_trainable = model.stateless_call(trainable, non_trainable, xs, initial_state=initial,
                                                 return_state=True)
    return jax.lax.dynamic_slice_in_dim(p, start - cut, size, axis=1), non_trainable  # (B, size, *classes)
