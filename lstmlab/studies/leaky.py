"""A leaky integrator's accuracy on the integration task, and the time constant a trained model integrates with.

The leaky integrator reads x_0 .. x_{L-1} ~ N(0, 1) into z_t = λ z_{t-1} + x_t + ε_t (z_{-1} = 0), adds
read-out noise η ~ N(0, σ_r²) once, and answers "z_{L-1} + η > θ"; the task's answer is "S > θ",
S = x_0 + ... + x_{L-1}. The noise is either per step, ε_t ~ N(0, σ_s²), so it builds up with the length
as the state carries it, or at the read-out, η, the same at every length. λ = 1 without noise is the
task's exact answer; λ = 1 with read-out noise σ_r is `noise.py`'s probit model (right with probability
Φ(|S - θ| / σ_r)); λ < 1 forgets: the input k steps back counts λ^k.

z = Σ λ^k (x + ε)_{L-1-k} and S are jointly Gaussian with mean 0: Var S = L, Cov(z, S) = Σ λ^k = c,
Var(z + η) = (1 + σ_s²) Σ λ^{2k} + σ_r². Given S = s, z + η ~ N(β s, r²) with β = c / L and
r² = Var(z + η) - c² / L,
so the answer is right with probability Φ((β s - θ) / r) where s > θ and Φ((θ - β s) / r) where s <= θ;
the accuracy is that averaged over s ~ N(0, L), a one-dimensional integral (`leaky_accuracy`).
"""

import numpy as np


def leaky_accuracy(lam: float, sigma: float, length: int, threshold: float = 1.0, per_step: bool = False) -> float:
    """P(the leaky integrator (λ = lam, noise σ = sigma) answers as the task at length `length`): σ is
    the read-out noise σ_r, or with `per_step` the noise added at every step, σ_s."""
    from scipy.integrate import quad
    from scipy.special import ndtr

    powers = float(lam) ** np.arange(length, dtype=np.float64)  # (L,) λ^k: summed, not (1 - λ^L)/(1 - λ), so λ = 1 works
    kept = (powers**2).sum()  # Σ λ^{2k}: the variance the state keeps of unit-variance steps
    c, var_z = powers.sum(), kept * (1 + float(sigma) ** 2) if per_step else kept + float(sigma) ** 2
    beta, spread = c / length, np.sqrt(length)
    residual = np.sqrt(max(var_z - c * c / length, 0.0))  # r; 0 where z + η is a multiple of S

    def right(s):  # P(right | S = s), times the density of S at s
        margin = beta * s - threshold if s > threshold else threshold - beta * s
        chance = float(margin > 0) if residual == 0 else ndtr(margin / residual)
        return chance * np.exp(-0.5 * (s / spread) ** 2) / (spread * np.sqrt(2 * np.pi))

    below = quad(right, -np.inf, threshold, epsabs=1e-11, limit=200)[0]
    above = quad(right, threshold, np.inf, epsabs=1e-11, limit=200)[0]
    return float(min(max(below + above, 0.0), 1.0))  # quad can overshoot 1 by rounding


def per_step_noise(lam: float, sigma: float, length: int) -> float:
    """σ_s of per-step noise that the leaky integrator (λ) has built up to σ at `length` steps: σ_s² Σ λ^{2k} = σ²
    (how a σ̂ measured at the training length becomes per-step noise)."""
    return float(sigma) / np.sqrt(((float(lam) ** np.arange(length, dtype=np.float64)) ** 2).sum())


def along_sum(jacobians, encoding, readout, horizon: int) -> dict:
    """How much of a change in the held sum the model still reads after `horizon` steps, at K fixed or slow points.

    jacobians (K, d, d): the state Jacobians J at the points; encoding (d,): e = ds/dS, the direction
    the state moves per unit of the running sum S (each state unit regressed on S along the model's own
    trajectories); readout (d,): r, the read-out's weights on the state (what the decision reads).

    Per point, the linearised model moves a change δ of the held sum (the state moved by δ e) to
    δ J^n e after n steps with the input at 0, which the read-out sees as g(n) = r · J^n e. For the
    leaky integrator z_t = λ z_{t-1} + x_t, g(n) ∝ λ^n; so the model's λ along the sum is the
    per-step retention |g(H + 1) / g(1)|^(1/H) over H = `horizon` steps (the training length: the span
    the task asked it to hold a sum), the leaky integrator that keeps as much of the sum over H
    steps. From the first step on, not from e itself: e is a regression over the whole trajectory, and
    one step of the point's own J puts the change where that point holds it (an LSTM whose forget gate
    is saturated open then gives exactly 1, though its h is a nonlinear function of c). A geometric
    mean over H steps, not one eigenvalue: J is not normal, the sum is
    spread over several of its modes (the eigenvector closest to e is often at 45 degrees or more), and
    the read-out sees their sum, transients included. Returned, over the points (medians):

        eigenvalue     that retention λ per step (τ = −1/ln λ)
        mode           |λ| of the eigenvector of J closest in angle to e (the single-mode reading)
        alignment      |cos| of that eigenvector and e (near 1: the sum sits in one mode)
        readout_vs_sum |cos| of r and e (near 0: the read-out does not see the sum, and λ means little)
        points         K

    None values where there are no points.
    """
    jacobians = np.asarray(jacobians, np.float64)
    k = len(jacobians)
    if k == 0:
        return {"eigenvalue": None, "mode": None, "alignment": None, "readout_vs_sum": None, "points": 0}
    encoding, readout = np.asarray(encoding, np.float64), np.asarray(readout, np.float64)
    moved = np.einsum("kde,e->kd", jacobians, encoding)  # (K, d): J^n e at each point, n = 1
    first = moved @ readout  # (K,) g(1)
    for _ in range(horizon):
        moved = np.einsum("kde,ke->kd", jacobians, moved)
    with np.errstate(divide="ignore", invalid="ignore"):
        retention = np.abs(moved @ readout / first) ** (1 / horizon)  # (K,): NaN or inf where g(1) = 0
    values, vectors = np.linalg.eig(jacobians)  # (K, d), (K, d, d): [k, :, i] the vector of values[k, i]
    cos = np.abs(np.einsum("kdi,d->ki", vectors.conj(), encoding)) / (
        np.linalg.norm(vectors, axis=1) * np.linalg.norm(encoding) + 1e-300)  # (K, d)
    mode = np.argmax(cos, axis=1)  # (K,)
    norms = np.linalg.norm(readout) * np.linalg.norm(encoding)
    seen = readout @ encoding
    return {"eigenvalue": _median(retention), "mode": _median(np.abs(values[np.arange(k), mode])),
            "alignment": _median(cos[np.arange(k), mode]),
            "readout_vs_sum": float(abs(seen) / norms) if norms > 0 else None, "points": int(k)}


def _median(values) -> float | None:
    values = np.asarray(values, np.float64)
    return float(np.median(values)) if np.all(np.isfinite(values)) else None


def decay_rate(eigenvalue) -> float:
    """−ln|λ| per step, the inverse of the time constant τ = −1/ln|λ|: finite at |λ| = 1 (0, a perfect
    integrator) where τ is not, so seeds can be averaged and paired; NaN where there is no λ."""
    if eigenvalue is None or not np.isfinite(eigenvalue) or eigenvalue <= 0:
        return float("nan")
    return float(-np.log(eigenvalue))
