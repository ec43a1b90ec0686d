"""The figures draw any number of points in a state of any size, and the report's section reads the records."""

import io

import numpy as np

from lstmlab.analysis.figures import draw_dynamics, draw_spectra, principal_axes
from lstmlab.report import render_dynamics


def _png(draw) -> bytes:
    buffer = io.BytesIO()
    draw(buffer)
    return buffer.getvalue()


def test_figures_of_none_one_and_many_points_in_two_or_more_dimensions():
    rng = np.random.default_rng(0)
    for d, k in ((2, 0), (2, 1), (6, 5)):  # a state of 2 has only two principal axes: the third is zero
        trajectories = rng.standard_normal((5, 8, d))
        points, stable = rng.standard_normal((k, d)), np.arange(k) % 2 == 0
        eigenvalues = rng.standard_normal((k, d)) + 1j * rng.standard_normal((k, d))
        assert _png(lambda out: draw_dynamics(trajectories, points, stable, out, "t")).startswith(b"\x89PNG")
        assert _png(lambda out: draw_spectra(eigenvalues, stable, out, "t")).startswith(b"\x89PNG")


def test_principal_axes():
    states = np.array([[0.0, 0, 0], [2, 0, 0], [1, 1, 0], [1, -1, 0]])
    centre, axes = principal_axes(states)
    np.testing.assert_allclose(centre, [1, 0, 0])
    assert np.allclose(np.abs(axes[0]), [1, 0, 0]) or np.allclose(np.abs(axes[0]), [0, 1, 0])  # equal spread
    assert np.allclose(axes[2], 0) or np.isclose(abs(axes[2][2]), 1)


def test_the_reports_dynamics_section():
    assert render_dynamics({}) == ""
    record = {"input": [0.0], "starts": 1024, "fixed": 1, "slow_points": 904, "stable": 295, "seconds": 6.86,
              "slowest_mode": {"median_abs_eigenvalue": 1.0057, "median_time_constant": None},
              "line_attractor": {"variance_on_first_axis": 0.859, "eigenvalue_along_axis": 0.9712,
                                 "sum_direction_vs_axis": 0.8857}}
    skipped = {**record, "slowest_mode": None, "line_attractor": {"skipped": "no held quantity"}}
    text = render_dynamics({"lstm-1layer": record, "rnn-1layer": skipped})
    assert "| lstm-1layer | 0 | 1,024 | 1 | 904 | 295 | 1.0057 (∞) | 0.859 | 0.9712 | 0.886 | 6.9 |" in text
    assert "| rnn-1layer | 0 | 1,024 | 1 | 904 | 295 |  |  |  |  | 6.9 |" in text
    header = next(line for line in text.splitlines() if line.startswith("| model"))
    assert header.count("|") - header.count("\\|") == 12  # 11 columns: the |λ| in a heading is escaped
    assert "models/lstm-1layer/dynamics.png" in text
