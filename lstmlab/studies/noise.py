"""The effective integration noise σ̂: how far from the threshold a model starts to err.

A model that answers "is the sum > threshold?" as if it read the sum with Gaussian noise of
standard deviation σ is right on a sequence at distance d = |sum - threshold| with probability
Φ(d / σ). σ̂ is the maximum-likelihood σ of that probit model given which test sequences the model
got right: one number per model that says how precisely it integrates, whatever its objective.
"""

import numpy as np


def integration_noise(distances, correct) -> float:
    """Maximum-likelihood σ of P(correct | d) = Φ(d / σ); distances (n,) >= 0, correct (n,) bools.

    0.0 when nothing is wrong (no noise is seen); inf when at most half is right.
    """
    from scipy.optimize import minimize_scalar
    from scipy.special import log_ndtr

    d, c = np.abs(np.asarray(distances, np.float64)), np.asarray(correct, bool)
    if c.all():
        return 0.0
    if c.mean() <= 0.5:
        return float("inf")

    def negative_log_likelihood(log_sigma):
        z = d / np.exp(log_sigma)
        return -(log_ndtr(z)[c].sum() + log_ndtr(-z)[~c].sum())  # log Φ(z) if right, log(1 - Φ(z)) if wrong

    scale = np.log(np.median(d) + 1e-12)
    found = minimize_scalar(negative_log_likelihood, bounds=(scale - 12, scale + 6), method="bounded",
                            options={"xatol": 1e-6})
    return float(np.exp(found.x))
