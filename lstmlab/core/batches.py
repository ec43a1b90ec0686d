"""Shuffling and batching, applied when data is used (the cache stores unshuffled, unbatched arrays).

Batches have a fixed shape so that one compiled train step serves every batch: the last, partial
batch is padded with zero-weight rows, and losses divide by the weight sum, so padding changes
nothing numerically.
"""

import numpy as np

from lstmlab.config import steps_per_epoch


def epoch_permutation(n: int, seed: int, epoch: int) -> np.ndarray:
    """The order of the `n` training samples in `epoch`: a fresh shuffle every epoch, fixed per seed."""
    return np.random.default_rng([seed, epoch]).permutation(n)


def stack_batches(x: np.ndarray, y: np.ndarray, batch_size: int, order: np.ndarray | None = None):
    """(n, T) or (n, T, F) inputs and (n, ...) targets -> (steps, B, T, F), (steps, B, ...), weights (steps, B).

    `order` (a permutation of range(n)) shuffles; the last batch is padded with weight-0 rows.
    """
    if order is not None:
        x, y = x[order], y[order]
    n = len(x)
    steps = steps_per_epoch(n, batch_size)
    pad = steps * batch_size - n
    weights = np.ones(n + pad, dtype=np.float32)
    if pad:
        x = np.concatenate([x, np.zeros((pad,) + x.shape[1:], x.dtype)])
        y = np.concatenate([y, np.zeros((pad,) + y.shape[1:], y.dtype)])
        weights[n:] = 0.0
    xs = x.reshape(steps, batch_size, x.shape[1], -1)  # (n, T) is one input channel per step
    ys = y.reshape(steps, batch_size, *y.shape[1:])
    return xs, ys, weights.reshape(steps, batch_size)
