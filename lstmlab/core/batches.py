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


class Shuffled:
    """One epoch of a cached training set, shuffled and stacked: `take(first, stop)` -> its batches
    first .. stop-1 as xs (S, B, T, F), ys (S, B, ...), ws (S, B)."""

    def __init__(self, x: np.ndarray, y: np.ndarray, batch_size: int, seed: int, epoch: int):
        self.xs, self.ys, self.ws = stack_batches(x, y, batch_size, epoch_permutation(len(x), seed, epoch))

    def __len__(self) -> int:
        return len(self.xs)

    def take(self, first: int, stop: int):
        return self.xs[first:stop], self.ys[first:stop], self.ws[first:stop]


STREAM_KEY = 0x57E4  # joined to the data seed, so the stream's draws are apart from the cached splits'


class Stream:
    """Fresh training sequences (--stream): the batch of global step s (from 0, over the whole run) is
    drawn by the task from numpy's SeedSequence((data seed, STREAM_KEY, s)), so it is a pure function
    of (seed, step): a resumed run, a worker process and another machine all draw the same batches,
    and no training set is cached. An epoch is `steps_per_epoch(n, batch_size)` full batches (n:
    the config's n_train), so it holds n sequences rounded up to whole batches.

    `task`: a lstmlab Task (its `sample_inputs` and `targets_of` make a batch).
    """

    def __init__(self, task, batch_size: int, n: int):
        self.task, self.batch_size = task, batch_size
        self.steps = steps_per_epoch(n, batch_size)

    def batch(self, step: int) -> tuple[np.ndarray, np.ndarray]:
        """Global step `step`'s sequences (B, T, F) and targets (B, ...)."""
        rng = np.random.default_rng(np.random.SeedSequence([self.task.config.seed, STREAM_KEY, step]))
        x = self.task.sample_inputs(self.batch_size, rng)
        return x.reshape(self.batch_size, x.shape[1], -1), self.task.targets_of(x)

    def epoch(self, epoch: int) -> "StreamEpoch":
        return StreamEpoch(self, (epoch - 1) * self.steps)

    def head(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """The stream's first n sequences (x (n, T, F), targets (n, ...)): epoch 0's train loss scores as
        many as the validation set holds."""
        batches = [self.batch(step) for step in range(steps_per_epoch(n, self.batch_size))]
        return (np.concatenate([x for x, _ in batches])[:n], np.concatenate([y for _, y in batches])[:n])


class StreamEpoch:
    """One epoch of a Stream, from global step `offset`: `take(first, stop)` as `Shuffled.take`."""

    def __init__(self, stream: Stream, offset: int):
        self.stream, self.offset = stream, offset

    def __len__(self) -> int:
        return self.stream.steps

    def take(self, first: int, stop: int):
        batches = [self.stream.batch(self.offset + step) for step in range(first, stop)]
        xs, ys = np.stack([x for x, _ in batches]), np.stack([y for _, y in batches])
        return xs, ys, np.ones(xs.shape[:2], np.float32)  # (S, B): every row a real sequence
