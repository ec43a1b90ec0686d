"""The integration task: sequences of N(0, 1) numbers, labelled 1 when their sum exceeds a threshold."""

import numpy as np

from lstmlab.config import TaskConfig

SPLITS = ("train", "val", "test")


def labels(x: np.ndarray, threshold: float) -> np.ndarray:
    """(n, T) sequences -> (n,) float32 labels, 1.0 where the sum is > threshold.

    The sum is taken in float64 so that a label does not depend on float32 summation order.
    """
    return (x.astype(np.float64).sum(axis=1) > threshold).astype(np.float32)


def generate(config: TaskConfig) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """All three splits as {split: (x (n, T) float32, y (n,) float32)}; byte-identical per seed.

    Each split draws from its own child of the seed, so changing one split's size leaves the other
    splits' data unchanged (a test set stays the same when the training set grows).
    """
    sizes = (config.n_train, config.n_val, config.n_test)
    streams = np.random.SeedSequence(config.seed).spawn(len(SPLITS))
    data = {}
    for split, n, stream in zip(SPLITS, sizes, streams):
        x = np.random.default_rng(stream).standard_normal((n, config.seq_len), dtype=np.float32)
        data[split] = (x, labels(x, config.threshold))
    return data
