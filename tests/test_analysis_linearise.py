"""Linearisation against known Jacobians: a linear map's eigenvalues, and an LSTM whose forget gate is
saturated open, a perfect integrator with eigenvalue 1 along each cell state."""

import jax.numpy as jnp
import numpy as np
import pytest

from lstmlab.analysis.fixed_points import FinderSettings, find_fixed_points
from lstmlab.analysis.line_attractor import line_attractor
from lstmlab.analysis.linearise import linearise, time_constant
from lstmlab.analysis.state import model_step
from lstmlab.core.model import SequenceModel


def test_a_linear_maps_jacobians_and_eigenvalues_are_its_matrices():
    rng = np.random.default_rng(3)
    a = (0.3 * rng.standard_normal((6, 6))).astype(np.float32)
    b = rng.standard_normal((6, 2)).astype(np.float32)
    step = lambda s, u: jnp.asarray(a) @ s + jnp.asarray(b) @ u  # noqa: E731
    linear = linearise(step, rng.standard_normal((3, 6)), np.zeros(2))
    assert np.array_equal(linear.jacobian, np.broadcast_to(a, (3, 6, 6)))
    assert np.array_equal(linear.input_jacobian, np.broadcast_to(b, (3, 6, 2)))
    expected = np.linalg.eigvals(a.astype(np.float64))
    expected = expected[np.argsort(-np.abs(expected), kind="stable")]
    assert np.max(np.abs(np.sort_complex(linear.eigenvalues[0]) - np.sort_complex(expected))) < 1e-6
    assert np.all(np.diff(np.abs(linear.eigenvalues[0])) <= 0)  # the slowest mode first
    for k in range(6):  # right eigenvectors: J v = λ v
        v = linear.eigenvectors[0, :, k]
        assert np.allclose(a @ v, linear.eigenvalues[0, k] * v, atol=1e-9)
    assert linear.stable.tolist() == [bool(np.max(np.abs(expected)) < 1)] * 3


def test_time_constants():
    np.testing.assert_allclose(time_constant([np.exp(-1 / 5), np.exp(-1), 1.0, 1.2]), [5, 1, np.inf, np.inf])


def perfect_integrator(units: int = 2) -> SequenceModel:
    """A 1-layer LSTM whose forget and input gates are saturated open (f = i = 1 in float32), with no
    recurrent weights: c' = c + tanh(x w_c), h' = o tanh(c'). At input 0 every c is fixed."""
    model = SequenceModel("lstm", layers=1, units=units, seed=0)
    model(jnp.zeros((1, 1, 1)))
    cell = model.rnns[0].cell
    kernel = np.zeros((1, 4 * units), np.float32)
    kernel[0, 2 * units:3 * units] = 1.0  # the candidate c~ = tanh(x)
    bias = np.zeros(4 * units, np.float32)
    bias[:2 * units] = 40.0  # i = f = 1 exactly: sigmoid(40) rounds to 1 in float32
    cell.kernel.assign(kernel)
    cell.recurrent_kernel.assign(np.zeros((units, 4 * units), np.float32))
    cell.bias.assign(bias)  # o = sigmoid(0) = 1/2
    return model


def test_a_saturated_lstm_is_a_perfect_integrator_with_eigenvalue_one_along_c():
    model = perfect_integrator(2)
    dynamics = model_step(model)
    assert [(p.name, p.size) for p in dynamics.parts] == [("h", 2), ("c", 2)]
    x = np.array([[[0.5], [-0.2], [0.3]]], np.float32)
    states = dynamics.trajectories(x)  # (1, 4, 4): c accumulates tanh(x)
    np.testing.assert_allclose(states[0, 1:, 2:], np.cumsum(np.tanh(x[0]), axis=0).repeat(2, axis=1), rtol=1e-6)

    rng = np.random.default_rng(0)
    c = rng.uniform(-2, 2, (64, 2))
    starts = np.concatenate([0.5 * np.tanh(c) + 0.1 * rng.standard_normal((64, 2)), c], axis=1)
    found = find_fixed_points(dynamics.step, starts, np.zeros(1), FinderSettings(outlier=None))
    # Every c is a fixed point once h = o tanh(c): the descent only settles h (and c a little on the way),
    # nothing draws c anywhere, so no two starts end at one point.
    assert len(found) == 64
    assert np.max(np.abs(found.points[:, 2:] - c)) < 0.5
    np.testing.assert_allclose(found.points[:, :2], 0.5 * np.tanh(found.points[:, 2:]), atol=1e-6)
    linear = linearise(dynamics.step, found.points, np.zeros(1))
    # J = [[0, o sech²(c)], [0, I]]: eigenvalues 1 (twice: each c) and 0 (each h).
    np.testing.assert_allclose(np.abs(linear.eigenvalues), np.broadcast_to([1, 1, 0, 0], (64, 4)), atol=1e-6)
    assert not linear.stable.any()  # |λ| = 1: marginal, never decays
    assert np.all(np.isinf(linear.time_constants(2)))
    # The input moves c by B = ∂c'/∂u = 1 per unit of input at u = 0 (tanh'(0) = 1), and h by o sech²(c) B.
    np.testing.assert_allclose(linear.input_jacobian[:, 2:, 0], 1.0, atol=1e-6)


def test_a_one_unit_integrators_fixed_points_form_a_line_with_eigenvalue_one():
    model = perfect_integrator(1)
    dynamics = model_step(model)
    c = np.linspace(-1.5, 1.5, 41)[:, None]
    starts = np.concatenate([0.5 * np.tanh(c), c], axis=1)
    found = find_fixed_points(dynamics.step, starts, np.zeros(1), FinderSettings(outlier=None))
    linear = linearise(dynamics.step, found.points, np.zeros(1))
    line = line_attractor(found.points, linear, dynamics.readout, None)
    assert line["points"] == 41
    assert line["eigenvalue_along_axis"] == pytest.approx(1, abs=1e-6)
    assert line["variance_on_first_axis"] > 0.99  # h = tanh(c) / 2 bends the line only a little
