"""Fixed and slow points of any map s' = F(s, u): the states F leaves (almost) where they are.

Sussillo & Barak (2013): minimise q(s) = ½‖F(s, u) − s‖² from many starting states at once. Here:

1. Adam on all N candidates side by side (vmap), a fixed number of steps inside one `lax.scan`, so
   the whole descent is one compiled program whatever N; the learning rate decays geometrically.
2. Newton polish: each iteration solves (J − I) δ = −(F(s) − s) at every candidate and keeps, per
   candidate, the best of s, s + δ and a damped (Levenberg-Marquardt) step, so a nearly singular
   J − I (a line attractor) never throws a candidate away.
3. Keep candidates with q below `q_tol`, drop outliers far from where the starts were, merge
   duplicates (closer than `merge`), the lowest q first.

Generic over F: the tests drive it with maps whose answers are known; `analysis.state` gives the F of
a trained model. Everything runs in float32.
"""

import time
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class FinderSettings:
    """How the fixed points are searched for (the defaults are what `lstmlab analyze` uses)."""

    steps: int = 400  # Adam steps, all candidates at once
    learning_rate: float = 1e-2  # Adam's first step size; it decays to learning_rate * final_decay
    final_decay: float = 1e-2
    newton_steps: int = 8
    q_tol: float = 1e-8  # keep s with q(s) = ½‖F(s) − s‖² below this: a speed ‖F(s) − s‖ under 1.4e-4
    merge: float = 1e-3  # two kept points closer than this (Euclidean) are one
    outlier: float | None = 2.0  # drop points farther from the starts' centroid than this times the
    #                              farthest start is (None: keep all)

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class FixedPoints:
    """What the finder kept, lowest q first: points (K, d), q (K,), speed (K,) = ‖F(s) − s‖."""

    points: np.ndarray
    q: np.ndarray
    speed: np.ndarray
    starts: int  # N, the candidates searched from
    seconds: float  # the search's wall time, compilation included
    dropped: dict = field(default_factory=dict)  # {"above q_tol", "outliers", "duplicates"}: counts

    def __len__(self) -> int:
        return len(self.points)


def find_fixed_points(step, starts, u, settings: FinderSettings = FinderSettings()) -> FixedPoints:
    """The fixed and slow points of `step` (F(s (d,), u (m,)) -> (d,), in jax.numpy) found from `starts`
    (N, d), with the input held at `u` (m,)."""
    import jax.numpy as jnp

    started = time.perf_counter()
    starts = np.asarray(starts, np.float32)
    u = jnp.asarray(u, jnp.float32)
    candidates = descend(step, jnp.asarray(starts), u, settings)
    candidates = polish(step, candidates, u, settings.newton_steps)
    q = np.asarray(q_values(step, candidates, u), np.float64)
    candidates = np.asarray(candidates, np.float64)
    found = select(candidates, q, starts, settings)
    found.seconds = time.perf_counter() - started
    return found


def q_values(step, points, u):
    """q(s) = ½‖F(s, u) − s‖² at each of points (N, d) -> (N,); NaN where F is not finite."""
    import jax

    return jax.jit(jax.vmap(lambda s: _q(step, s, u)))(points)


def _q(step, s, u):
    r = step(s, u) - s
    return 0.5 * r @ r


def descend(step, starts, u, settings: FinderSettings):
    """Adam on q from every start at once: (N, d) -> (N, d), `settings.steps` steps in one compiled scan."""
    import jax
    import jax.numpy as jnp

    b1, b2, eps = 0.9, 0.999, 1e-12
    # The sum of the candidates' q: its gradient is each candidate's own, as the candidates are independent.
    total_grad = jax.grad(lambda s: jnp.sum(jax.vmap(lambda x: _q(step, x, u))(s)))
    rate = settings.learning_rate * settings.final_decay ** (jnp.arange(settings.steps) / max(settings.steps - 1, 1))

    def update(carry, i):
        s, m, v = carry
        g = total_grad(s)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        t = (i + 1).astype(s.dtype)
        s = s - rate[i] * (m / (1 - b1**t)) / (jnp.sqrt(v / (1 - b2**t)) + eps)
        return (s, m, v), None

    @jax.jit
    def run(s):
        zeros = jnp.zeros_like(s)
        (s, _, _), _ = jax.lax.scan(update, (s, zeros, zeros), jnp.arange(settings.steps))
        return s

    return run(starts)


def polish(step, points, u, iterations: int):
    """Newton's method on F(s) − s = 0 from every point at once, never making a point's q worse.

    Each iteration tries the Newton step and a Levenberg-Marquardt step whose damping μ adapts per
    point (divided by 3 after a success, multiplied by 4 after a failure), and keeps the best of those
    and the point itself: Newton converges fast next to a fixed point, the damped step still descends
    where J − I is nearly singular (along a line attractor) or the point is a slow point, not a fixed one.
    """
    import jax
    import jax.numpy as jnp

    def one(s, mu):  # s (d,), mu ()
        eye = jnp.eye(s.shape[0], dtype=s.dtype)
        r = step(s, u) - s
        a = jax.jacfwd(step)(s, u) - eye  # J − I (d, d)
        newton = jnp.linalg.solve(a, -r)
        gram = a.T @ a
        scale = jnp.trace(gram) / s.shape[0] + 1e-30
        damped = jnp.linalg.solve(gram + mu * scale * eye, -a.T @ r)
        options = jnp.stack([s, s + newton, s + damped])  # (3, d)
        q = jax.vmap(lambda x: _q(step, x, u))(options)
        q = jnp.where(jnp.isfinite(q), q, jnp.inf)
        best = jnp.argmin(q)
        mu = jnp.where(q[2] < q[0], mu / 3, mu * 4)
        return options[best], jnp.clip(mu, 1e-9, 1e6)

    # One compiled iteration called from Python: the same program inside a lax.fori_loop deadlocked
    # XLA's CPU runtime (every thread asleep) after a few iterations on a 2-layer LSTM (jax 0.10.2).
    iteration = jax.jit(jax.vmap(one))
    mu = jnp.full(points.shape[:1], 1e-3, points.dtype)
    for _ in range(iterations):
        points, mu = iteration(points, mu)
    return points


def select(candidates, q, starts, settings: FinderSettings) -> FixedPoints:
    """Keep candidates (N, d) with q (N,) below tolerance, not outliers, without duplicates; lowest q first."""
    keep = np.isfinite(q) & np.all(np.isfinite(candidates), axis=1) & (q < settings.q_tol)
    dropped = {"above q_tol": int(len(q) - keep.sum())}
    if settings.outlier is not None:
        centre = starts.mean(axis=0)
        reach = np.max(np.linalg.norm(starts - centre, axis=1))
        far = keep & (np.linalg.norm(candidates - centre, axis=1) > settings.outlier * max(reach, 1e-12))
        dropped["outliers"] = int(far.sum())
        keep &= ~far
    order = np.flatnonzero(keep)[np.argsort(q[keep], kind="stable")]
    kept = []
    for i in order:  # greedy: a point joins the kept unless one of them lies within `merge`
        if not kept or np.min(np.linalg.norm(candidates[kept] - candidates[i], axis=1)) >= settings.merge:
            kept.append(i)
    dropped["duplicates"] = int(len(order) - len(kept))
    points = candidates[kept].reshape(len(kept), candidates.shape[1])
    return FixedPoints(points=points, q=q[kept], speed=np.sqrt(2 * q[kept]), starts=len(starts), seconds=0.0,
                       dropped=dropped)
