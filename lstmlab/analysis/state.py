"""A trained model's recurrent state as one flat vector, and one step of the model as a pure function of it.

    s = [h_1, c_1, h_2, c_2, ...]      (d,): every layer's state arrays, in the model's order:
                                       (h, c) for an LSTM layer, h for a GRU or simple RNN layer
    F(s, u) -> s'                      one step of the whole stack, input u (m,) into layer 1 and each
                                       layer's new h into the next, as the model runs a sequence

F is the model itself through `stateless_call` (with its weights fixed), so it is exact for any cell
that follows the protocol, a plug-in's included, and JAX can differentiate, vmap and compile it.
"""

from dataclasses import dataclass

import numpy as np

STATE_NAMES = ("h", "c")  # the protocol puts h first; a second state is the LSTM's cell state c


@dataclass(frozen=True)
class StatePart:
    """One state array of one layer, at s[start:start + size]."""

    layer: int  # 1 for the first recurrent layer
    name: str  # "h", "c", or "s3", "s4", ... for a plug-in cell's further states
    start: int
    size: int


@dataclass(frozen=True)
class ModelStep:
    """One step of a trained model as a pure function of its flat state (see the module's docstring)."""

    step: object  # F(s (d,), u (m,)) -> s' (d,), jax arrays, float32
    parts: tuple[StatePart, ...]
    input_width: int  # m
    readout: np.ndarray  # (d,): the read-out's weights on the last layer's h (K classes: their main direction),
    #                      zeros elsewhere

    @property
    def size(self) -> int:
        return sum(part.size for part in self.parts)

    def trajectories(self, x) -> np.ndarray:
        """States along sequences x (B, T, m) from the zero state -> (B, T + 1, d), s_0 = 0 first:
        s_t (t >= 1) is the state after reading x_0 .. x_{t-1}."""
        import jax
        import jax.numpy as jnp

        x = jnp.asarray(x, jnp.float32)
        batch_step = jax.vmap(self.step)

        def body(s, x_t):  # s (B, d), x_t (B, m)
            s = batch_step(s, x_t)
            return s, s

        start = jnp.zeros((x.shape[0], self.size), jnp.float32)
        _, states = jax.jit(lambda s, xs: jax.lax.scan(body, s, xs))(start, jnp.moveaxis(x, 1, 0))  # (T, B, d)
        return np.concatenate([np.zeros((x.shape[0], 1, self.size), np.float32),
                               np.moveaxis(np.asarray(states), 0, 1)], axis=1)


def model_step(model) -> ModelStep:
    """The ModelStep of a built `core.model.SequenceModel` (any cell, any depth), its weights as they are now."""
    import jax.numpy as jnp

    parts, start = [], 0
    for layer, rnn in enumerate(model.rnns, start=1):
        for k, width in enumerate(rnn.cell.state_size):
            name = STATE_NAMES[k] if k < len(STATE_NAMES) else f"s{k + 1}"
            parts.append(StatePart(layer, name, start, int(width)))
            start += int(width)
    parts = tuple(parts)
    input_width = int(model.rnns[0].cell.kernel.shape[0])
    trainable = [jnp.asarray(v.value) for v in model.trainable_variables]
    non_trainable = [jnp.asarray(v.value) for v in model.non_trainable_variables]
    layers = len(model.rnns)

    def step(s, u):
        # s (d,) -> per layer, its list of (1, width) state arrays; u (m,) -> one step of one sequence (1, 1, m)
        states = [[] for _ in range(layers)]
        for part in parts:
            states[part.layer - 1].append(s[None, part.start:part.start + part.size])
        (_, new), _ = model.stateless_call(trainable, non_trainable, jnp.reshape(u, (1, 1, -1)).astype(s.dtype),
                                           initial_state=states, return_state=True)
        return jnp.concatenate([array[0] for layer_states in new for array in layer_states])

    readout = np.zeros(start, np.float32)
    last_h = next(p for p in parts if p.layer == layers and p.name == "h")
    kernel = np.asarray(model.readout.kernel.value, np.float64)  # (u, K): K = 1, or K classes
    # One direction: the weights themselves for K = 1; for K classes the direction of h that moves the
    # outputs most (the kernel's first left singular vector, scaled by its singular value).
    left, singular, _ = np.linalg.svd(kernel, full_matrices=False)
    readout[last_h.start:last_h.start + last_h.size] = kernel[:, 0] if kernel.shape[1] == 1 else left[:, 0] * singular[0]
    return ModelStep(step, parts, input_width, readout)
