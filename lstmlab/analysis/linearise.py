"""The linearisation of a map s' = F(s, u) at its fixed points: s' − s* ≈ J (s − s*) + B (u' − u).

J = ∂F/∂s (d, d), the state Jacobian; B = ∂F/∂u (d, m), the input Jacobian; both by forward-mode
autodiff (`jax.jacfwd`). A fixed point is stable when every eigenvalue of J lies inside the unit
circle; a mode with eigenvalue λ decays by |λ| per step, so it forgets with a time constant of
τ = −1 / ln|λ| steps (∞ for |λ| >= 1: it never decays).
"""

from dataclasses import dataclass

import numpy as np


@dataclass
class Linearisation:
    """J, B and the eigen-decomposition of J at K points, the slowest mode (largest |λ|) first."""

    jacobian: np.ndarray  # (K, d, d)
    input_jacobian: np.ndarray  # (K, d, m)
    eigenvalues: np.ndarray  # (K, d) complex, |λ| descending
    eigenvectors: np.ndarray  # (K, d, d) complex: [k, :, i] is the right eigenvector of eigenvalues[k, i]

    @property
    def stable(self) -> np.ndarray:
        """(K,) booleans: every |λ| < 1."""
        return np.abs(self.eigenvalues[:, 0]) < 1 if len(self.eigenvalues) else np.zeros(0, bool)

    def time_constants(self, modes: int = 3) -> np.ndarray:
        """(K, modes) τ = −1/ln|λ| of the slowest modes, in steps; inf where |λ| >= 1."""
        return time_constant(np.abs(self.eigenvalues[:, :modes]))


def time_constant(magnitude) -> np.ndarray:
    """τ = −1 / ln|λ| steps for |λ| < 1, inf otherwise (a mode that does not decay)."""
    magnitude = np.asarray(magnitude, np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(magnitude < 1, -1 / np.log(np.where(magnitude > 0, magnitude, 1e-300)), np.inf)


def linearise(step, points, u) -> Linearisation:
    """J, B and J's eigenvalues and vectors at each of points (K, d), the input held at u (m,)."""
    import jax
    import jax.numpy as jnp

    points = jnp.asarray(points, jnp.float32).reshape(len(points), -1)
    u = jnp.asarray(u, jnp.float32)
    if len(points) == 0:
        d, m = points.shape[1], u.shape[0]
        return Linearisation(np.zeros((0, d, d)), np.zeros((0, d, m)), np.zeros((0, d), complex),
                             np.zeros((0, d, d), complex))
    jacobians = jax.jit(jax.vmap(lambda s: jax.jacfwd(step, argnums=(0, 1))(s, u)))
    state, inputs = (np.asarray(j, np.float64) for j in jacobians(points))  # (K, d, d), (K, d, m)
    values, vectors = np.linalg.eig(state)
    order = np.argsort(-np.abs(values), axis=1, kind="stable")  # (K, d): the slowest first
    values = np.take_along_axis(values, order, axis=1)
    vectors = np.take_along_axis(vectors, order[:, None, :], axis=2)
    return Linearisation(state, inputs, values, vectors)
