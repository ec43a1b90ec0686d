"""Do the fixed and slow points form a line along the quantity the task must hold?

A perfect integrator is a line attractor: a line of fixed points along the direction the state
encodes the sum, each with one eigenvalue 1 along the line; a leaky one has that eigenvalue below 1
and forgets with τ = −1/ln|λ|. Measured here, on the points' principal axes:

    variance_on_first_axis     the share of the points' variance on their first principal axis
    eigenvalue_along_axis      per point, |λ| of the eigenvector closest to that axis; the median
    slow_mode_vs_axis          |cos| of the slowest mode (largest |λ|) and the axis; the median
    readout_vs_slow_mode       |cos| of the read-out's weights and the slowest mode; the median
    sum_direction_vs_axis      |cos| of the direction the state moves per unit of the held quantity
                               (each state unit regressed on it) and the axis
    probe_vs_slow_mode         |cos| of the linear probe's weights (the quantity regressed on the
                               state, `probe.least_squares`) and the slowest mode; the median
    probe_r2                   that probe's held-out R² (second half of the sequences)

For complex vectors |cos| = |⟨a, b⟩| / (‖a‖ ‖b‖).
"""

import numpy as np

from lstmlab.analysis.linearise import Linearisation, time_constant
from lstmlab.analysis.probe import least_squares, probe_r2


def held_quantity(task, x) -> np.ndarray | None:
    """The scalar a task's network must hold at every step, (B, T) for sequences x (B, T, m), or None.

    A task declares it with a `held_quantity(x)` method; lstmlab's own: the integration task's running
    sum, and the adding problem's running sum of the marked values.
    """
    from lstmlab.tasks.adding import Adding
    from lstmlab.tasks.integration import Integration

    own = getattr(task, "held_quantity", None)
    if callable(own):
        return np.asarray(own(x), np.float64)
    x = np.asarray(x, np.float64)
    if isinstance(task, Integration):
        return np.cumsum(x[..., 0], axis=1)
    if isinstance(task, Adding):
        return np.cumsum(np.where(x[..., 1] == 1.0, x[..., 0], 0.0), axis=1)
    return None


def sum_directions(states, quantity) -> dict:
    """states (B, T, d) along sequences, quantity (B, T) held at each -> the probe and the encoding direction.

    "probe" (d,): least-squares weights w of quantity ≈ w · s + c, fitted on the first half of the
    sequences; "r2": its held-out R²; "encoding" (d,): ds/dquantity, each unit regressed on the quantity.
    """
    b, t, d = states.shape
    pooled, target = states.reshape(1, b * t, d), quantity.reshape(1, b * t)  # every step of every sequence
    half = (b // 2) * t
    weights, _, _ = least_squares(pooled[:, :half], target[:, :half])
    r2 = probe_r2(pooled.transpose(1, 0, 2)[: 2 * half], target.T[: 2 * half])["r2"][0]
    centred, spread = pooled[0] - pooled[0].mean(axis=0), target[0] - target[0].mean()
    encoding = centred.T @ spread / max(spread @ spread, 1e-300)
    return {"probe": weights[0], "r2": float(r2), "encoding": encoding}


def line_attractor(points, linear: Linearisation, readout, directions: dict | None) -> dict:
    """The measures of the module's docstring for points (K, d) and their linearisation."""
    k = len(points)
    result = {"points": k}
    if k == 0:
        return result
    slow = linear.eigenvectors[:, :, 0]  # (K, d) the slowest mode at each point
    result["readout_vs_slow_mode"] = _median(_cos(slow, readout))
    if directions is not None:
        result["probe_vs_slow_mode"] = _median(_cos(slow, directions["probe"]))
        result["sum_direction_vs_slow_mode"] = _median(_cos(slow, directions["encoding"]))
        result["probe_r2"] = directions["r2"]
    if k < 3:  # two points make a line of any set: no principal axis worth the name
        return result
    centred = points - points.mean(axis=0)
    _, singular, axes = np.linalg.svd(centred, full_matrices=False)
    axis = axes[0]  # (d,)
    variance = singular**2
    along = np.argmax(np.abs(np.einsum("kdi,d->ki", linear.eigenvectors, axis)) /
                      np.linalg.norm(linear.eigenvectors, axis=1), axis=1)  # (K,) the mode closest to the axis
    magnitude = np.abs(linear.eigenvalues[np.arange(k), along])
    result.update({
        "variance_on_first_axis": float(variance[0] / variance.sum()),
        "extent_along_axis": float(np.ptp(centred @ axis)),
        "eigenvalue_along_axis": _median(magnitude),
        "time_constant_along_axis": float(time_constant(np.median(magnitude))),
        "slow_mode_vs_axis": _median(_cos(slow, axis)),
        "readout_vs_axis": float(_cos(axis[None], readout)[0]),
    })
    if directions is not None:
        result["probe_vs_axis"] = float(_cos(axis[None], directions["probe"])[0])
        result["sum_direction_vs_axis"] = float(_cos(axis[None], directions["encoding"])[0])
    return result


def _cos(vectors, direction) -> np.ndarray:
    """|cos| of each row of vectors (K, d) (complex or real) with direction (d,)."""
    direction = np.asarray(direction, np.float64)
    norms = np.linalg.norm(vectors, axis=1) * np.linalg.norm(direction)
    return np.abs(vectors @ direction) / np.where(norms > 0, norms, np.inf)


def _median(values) -> float:
    return float(np.median(values))
