"""The integration task: sequences of N(0, 1) numbers, labelled 1 when their sum exceeds a threshold.

Four target variants (TaskConfig.target x TaskConfig.objective) share the same sequences:

    final,    classification  y (n,)   1.0 where sum(x) > threshold   (the reference task)
    per-step, classification  y (n, T) 1.0 where sum(x[:t+1]) > threshold, at every step t
    final,    regression      y (n,)   sum(x)
    per-step, regression      y (n, T) sum(x[:t+1])
"""

import numpy as np

from lstmlab.config import TaskConfig

SPLITS = ("train", "val", "test")


def labels(x: np.ndarray, threshold: float) -> np.ndarray:
    """(n, T) sequences -> (n,) float32 labels, 1.0 where the sum is > threshold.

    The sum is taken in float64 so that a label does not depend on float32 summation order.
    """
    return (x.astype(np.float64).sum(axis=1) > threshold).astype(np.float32)


def targets(x: np.ndarray, config: TaskConfig) -> np.ndarray:
    """(n, T) sequences -> the targets of `config`'s variant (see the module docstring), float32."""
    x = x.astype(np.float64)  # like `labels`: a label must not depend on float32 summation order
    sums = x.sum(axis=1) if config.target == "final" else np.cumsum(x, axis=1)  # (n,) or (n, T)
    if config.objective == "classification":
        return (sums > config.threshold).astype(np.float32)
    return sums.astype(np.float32)


def final_labels(y: np.ndarray, config: TaskConfig) -> np.ndarray:
    """Targets of any variant -> (n,) 0/1 labels of the whole sequence (what accuracy is scored on).

    For a regression target the label is float32(sum) > threshold; it differs from the float64
    label only for a sum within float32 rounding (~1e-7) of the threshold.
    """
    final = y[:, -1] if config.target == "per-step" else y  # (n,)
    if config.objective == "classification":
        return final.astype(np.float32)
    return (final > config.threshold).astype(np.float32)


def generate(config: TaskConfig) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """All three splits as {split: (x (n, T) float32, y targets)}; byte-identical per seed.

    Each split draws from its own child of the seed, so changing one split's size leaves the other
    splits' data unchanged (a test set stays the same when the training set grows), and the
    sequences do not depend on the target variant: every variant of a seed sees the same numbers.
    """
    sizes = (config.n_train, config.n_val, config.n_test)
    streams = np.random.SeedSequence(config.seed).spawn(len(SPLITS))
    data = {}
    for split, n, stream in zip(SPLITS, sizes, streams):
        x = np.random.default_rng(stream).standard_normal((n, config.seq_len), dtype=np.float32)
        data[split] = (x, targets(x, config))
    return data
