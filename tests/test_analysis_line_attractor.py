"""The line-attractor measures on points and Jacobians built with known answers, and the held quantity
of each task."""

import numpy as np
import pytest

from conftest import ROOT
from lstmlab import tasks
from lstmlab.analysis.line_attractor import held_quantity, line_attractor, sum_directions
from lstmlab.analysis.linearise import linearise
from lstmlab.config import TaskConfig


def test_the_held_quantity_of_each_task():
    rng = np.random.default_rng(0)
    integration = tasks.of(TaskConfig(seq_len=7))
    x = integration.sample_inputs(5, rng)[..., None]  # (5, 7, 1)
    np.testing.assert_allclose(held_quantity(integration, x), np.cumsum(x[..., 0], axis=1))
    adding = tasks.of(TaskConfig(name="adding", seq_len=24))
    x = adding.sample_inputs(5, rng)  # (5, 24, 2): the running sum of the marked values ends at the target's sum
    held = held_quantity(adding, x)
    np.testing.assert_allclose(0.5 + held[:, -1] / 4, adding.targets_of(x), atol=1e-6)
    assert np.all(np.diff(held, axis=1)[x[:, 1:, 1] != 1] == 0)  # it changes at a marked step only
    recall = tasks.of(TaskConfig(name=f"{ROOT / 'examples/plugins/recall.py'}:Recall", seq_len=12))
    assert held_quantity(recall, recall.sample_inputs(3, rng)) is None

    class Declares:
        def held_quantity(self, x):
            return x[..., 0] * 2

    np.testing.assert_array_equal(held_quantity(Declares(), np.ones((2, 3, 1))), np.full((2, 3), 2.0))


def test_the_sum_direction_is_where_the_state_moves_with_the_sum():
    rng = np.random.default_rng(1)
    direction = rng.standard_normal(6)
    total = np.cumsum(rng.standard_normal((200, 10)), axis=1)  # (B, T)
    states = 0.3 + total[..., None] * direction + 0.01 * rng.standard_normal((200, 10, 6))  # (B, T, d)
    found = sum_directions(states, total)
    np.testing.assert_allclose(found["encoding"], direction, atol=1e-3)
    assert found["r2"] > 0.999
    assert found["probe"] @ direction == pytest.approx(1, abs=1e-3)  # reading the sum off the state


def test_a_line_of_points_along_the_slow_mode():
    rng = np.random.default_rng(2)
    basis = np.linalg.qr(rng.standard_normal((4, 4)))[0]  # orthonormal; column 0 is the line
    line = basis[:, 0]
    jacobian = basis @ np.diag([0.99, 0.5, 0.3, -0.2]) @ basis.T
    points = np.linspace(-2, 2, 25)[:, None] * line + 1e-3 * rng.standard_normal((25, 4))
    linear = linearise(lambda s, u: np.asarray(jacobian, np.float32) @ s, points, np.zeros(1))
    directions = {"probe": basis[:, 1], "encoding": line + 0.1 * basis[:, 2], "r2": 1.0}
    found = line_attractor(points, linear, basis[:, 3], directions)
    assert found["variance_on_first_axis"] > 0.999
    assert found["eigenvalue_along_axis"] == pytest.approx(0.99, abs=1e-6)
    assert found["time_constant_along_axis"] == pytest.approx(-1 / np.log(0.99), rel=1e-4)
    assert found["slow_mode_vs_axis"] == pytest.approx(1, abs=1e-5)
    assert found["readout_vs_axis"] < 1e-2 and found["readout_vs_slow_mode"] < 1e-5  # orthogonal by construction
    assert found["probe_vs_axis"] < 1e-2
    assert found["sum_direction_vs_axis"] == pytest.approx(1 / np.sqrt(1.01), abs=1e-3)
    assert found["extent_along_axis"] == pytest.approx(4, abs=0.01)
    two = line_attractor(points[:2], linearise(lambda s, u: s * 0.5, points[:2], np.zeros(1)), line, None)
    assert set(two) == {"points", "readout_vs_slow_mode"}  # two points: no principal axis worth the name
