"""σ̂ recovers the noise of a simulated noisy integrator."""

import numpy as np
import pytest

from lstmlab.studies.noise import integration_noise


@pytest.mark.parametrize("sigma", [0.05, 0.25, 1.0])
def test_the_fit_recovers_a_known_reading_noise(sigma):
    rng = np.random.default_rng(1)
    sums = rng.normal(0.0, 5.0, 200_000)  # the threshold at 0
    read = sums + rng.normal(0.0, sigma, sums.shape)  # a model that reads the sum with noise sigma
    estimate = integration_noise(np.abs(sums), np.sign(read) == np.sign(sums))
    assert estimate == pytest.approx(sigma, rel=0.05)


def test_degenerate_answers():
    assert integration_noise([0.1, 2.0], [True, True]) == 0.0
    assert integration_noise([0.1, 2.0], [False, True]) == float("inf")
