"""Linear probes: how well, and along which direction, a linear read-out of the states gives a quantity.

The length study (`studies/length.py`) asks it at every step of a sequence; `lstmlab analyze` asks it
once over every step pooled, for the direction in state space that holds the running sum.
"""

import numpy as np


def least_squares(states, target) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One least-squares fit with an intercept per leading index: states (T, n, u), target (T, n) ->
    (weights (T, u), state means (T, 1, u), target means (T, 1)), so that
    target ≈ target mean + (states - state mean) @ weights."""
    # The normal equations of the centred units (which takes care of the intercept): a batched matmul
    # and solve, where LAPACK's lstsq was slow on shared cores. The tiny ridge keeps the solve defined
    # for units that do not vary or vary together.
    states, target = np.asarray(states, np.float64), np.asarray(target, np.float64)
    x_mean, y_mean = states.mean(axis=1, keepdims=True), target.mean(axis=1, keepdims=True)  # (T, 1, u), (T, 1)
    centred = states - x_mean
    gram = np.swapaxes(centred, 1, 2) @ centred  # (T, u, u)
    ridge = 1e-9 * np.trace(gram, axis1=1, axis2=2)[:, None, None] / gram.shape[1] + 1e-12
    weights = np.linalg.solve(gram + ridge * np.eye(gram.shape[1]),
                              np.einsum("tbu,tb->tu", centred, target - y_mean)[:, :, None])[:, :, 0]  # (T, u)
    return weights, x_mean, y_mean


def probe_r2(states, running_sum) -> dict:
    """How well a linear read-out of the states gives the running sum, at every step.

    states (B, T, u), running_sum (B, T). Least squares with an intercept, fitted on the first half of
    the batch; on the second half: "r2" (T,), 1 - SSE / SS around the held-out mean (below 0 when the
    fit is worse than that mean), and "best_unit" (T,), the |correlation| with the sum of the unit the
    first half picks as the most correlated.
    """
    states = np.moveaxis(np.asarray(states, np.float64), 1, 0)  # (T, B, u): one regression per step
    target = np.asarray(running_sum, np.float64).T  # (T, B)
    half = states.shape[1] // 2
    fit, held, y_fit, y_held = states[:, :half], states[:, half:], target[:, :half], target[:, half:]
    weights, x_mean, y_mean = least_squares(fit, y_fit)
    residual = y_held - y_mean - np.einsum("tbu,tu->tb", held - x_mean, weights)  # (T, B/2)
    spread = y_held - y_held.mean(axis=1, keepdims=True)
    r2 = 1 - np.sum(residual**2, axis=1) / np.sum(spread**2, axis=1)
    unit = np.argmax(np.abs(_correlations(fit, y_fit)), axis=1)  # (T,) picked on the first half
    best = np.abs(np.take_along_axis(_correlations(held, y_held), unit[:, None], axis=1)[:, 0])
    return {"r2": r2, "best_unit": best}


def _correlations(x, y) -> np.ndarray:
    """(T, n, u), (T, n) -> (T, u) Pearson correlations at every step; 0 for a unit that does not vary."""
    x, y = x - x.mean(axis=1, keepdims=True), y - y.mean(axis=1, keepdims=True)
    scale = np.sqrt(np.sum(x**2, axis=1) * np.sum(y**2, axis=1)[:, None])
    return np.divide(np.einsum("tnu,tn->tu", x, y), scale, out=np.zeros(scale.shape), where=scale > 0)
