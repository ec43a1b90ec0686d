"""The fixed-point finder against maps whose fixed points are known: a linear map, a one-unit tanh
network (its fixed points found by bisection), and a two-dimensional map with a saddle and a node."""

import jax.numpy as jnp
import numpy as np
import pytest

from lstmlab.analysis.fixed_points import FinderSettings, find_fixed_points, select
from lstmlab.analysis.linearise import linearise

EVERYWHERE = FinderSettings(outlier=None)


def test_a_linear_map_has_one_fixed_point_at_the_solution_of_its_equation():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((5, 5)).astype(np.float32)
    a = (0.8 * a / np.max(np.abs(np.linalg.eigvals(a)))).astype(np.float32)  # spectral radius 0.8
    b = rng.standard_normal(5).astype(np.float32)
    found = find_fixed_points(lambda s, u: jnp.asarray(a) @ s + jnp.asarray(b), rng.standard_normal((64, 5)),
                              np.zeros(1), EVERYWHERE)
    expected = np.linalg.solve(np.eye(5) - a.astype(np.float64), b)
    assert len(found) == 1 and found.dropped["duplicates"] == 63
    assert np.max(np.abs(found.points[0] - expected)) < 1e-6
    assert found.speed[0] < 1e-6 and found.q[0] == pytest.approx(found.speed[0] ** 2 / 2)


def _bisection_roots(w: float, b: float) -> list[float]:
    """The solutions of h = tanh(w h + b): sign changes of tanh(w h + b) − h on a fine grid, bisected."""
    g = lambda h: np.tanh(w * h + b) - h  # noqa: E731
    grid = np.linspace(-1.5, 1.5, 30001)
    roots = []
    for lo, hi in zip(grid[:-1], grid[1:]):
        if g(lo) == 0:
            roots.append(lo)
        elif g(lo) * g(hi) < 0:
            for _ in range(60):
                mid = (lo + hi) / 2
                lo, hi = (mid, hi) if g(lo) * g(mid) > 0 else (lo, mid)
            roots.append((lo + hi) / 2)
    return roots


@pytest.mark.parametrize("w, b, count", [(2.0, 0.0, 3), (2.0, 0.2, 3), (3.0, -0.5, 3), (0.5, 0.3, 1), (2.0, 1.0, 1)])
def test_a_one_unit_tanh_network_has_the_fixed_points_bisection_finds(w, b, count):
    roots = _bisection_roots(w, b)
    assert len(roots) == count
    step = lambda s, u: jnp.tanh(w * s + b + u)  # noqa: E731
    found = find_fixed_points(step, np.linspace(-1.2, 1.2, 97)[:, None], np.zeros(1), EVERYWHERE)
    assert np.allclose(np.sort(found.points[:, 0]), roots, atol=1e-6)
    # Stable where the slope w (1 − h²) is below 1: with three, the outer two are stable, the middle one not.
    stable = linearise(step, found.points, np.zeros(1)).stable[np.argsort(found.points[:, 0])]
    slopes = np.abs(w * (1 - np.tanh(w * np.array(roots) + b) ** 2))
    assert list(stable) == list(slopes < 1)
    if count == 3:
        assert list(stable) == [True, False, True]


def test_a_two_dimensional_map_with_a_saddle_and_a_node():
    # F(s) = p + diag(1.5, 0.5) (s − p) + 0.1 x² e1, x = s0 − p0: F(s) = s where x = 0 (a saddle: λ = 1.5,
    # 0.5) and where 0.5 x + 0.1 x² = 0, x = −5 (a stable node: 1.5 + 0.2 x = 0.5, and 0.5).
    p = np.array([1.0, -2.0], np.float32)

    def step(s, u):
        x = s - jnp.asarray(p)
        return jnp.asarray(p) + jnp.array([1.5 * x[0] + 0.1 * x[0] ** 2, 0.5 * x[1]])

    grid = np.stack(np.meshgrid(np.linspace(-6, 3, 12), np.linspace(-4, 0, 6)), axis=-1).reshape(-1, 2)
    found = find_fixed_points(step, grid, np.zeros(1), EVERYWHERE)
    order = np.argsort(found.points[:, 0])
    points = found.points[order]
    assert len(found) == 2
    assert np.allclose(points, [[p[0] - 5, p[1]], [p[0], p[1]]], atol=1e-5)
    linear = linearise(step, points, np.zeros(1))
    assert np.allclose(np.abs(linear.eigenvalues), [[0.5, 0.5], [1.5, 0.5]], atol=1e-6)
    assert list(linear.stable) == [True, False]
    np.testing.assert_allclose(linear.time_constants(1)[:, 0], [1 / np.log(2), np.inf])


def test_selection_drops_what_is_above_tolerance_far_away_or_a_duplicate():
    starts = np.array([[0.0, 0.0], [1.0, 0.0]])
    candidates = np.array([[0.0, 0.0], [0.0, 1e-4], [0.5, 0.0], [10.0, 0.0], [0.2, 0.0]])
    q = np.array([1e-12, 1e-13, 1e-3, 1e-12, np.nan])
    found = select(candidates, q, starts, FinderSettings(q_tol=1e-8, merge=1e-3, outlier=2.0))
    assert found.dropped == {"above q_tol": 2, "outliers": 1, "duplicates": 1}
    assert np.array_equal(found.points, [[0.0, 1e-4]])  # the lower q of the two duplicates
