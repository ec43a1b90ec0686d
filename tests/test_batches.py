import numpy as np

from lstmlab.core.batches import epoch_permutation, stack_batches


def test_permutation_is_fresh_each_epoch_and_fixed_per_seed():
    a1, a2 = epoch_permutation(100, 0, 1), epoch_permutation(100, 0, 2)
    assert sorted(a1) == list(range(100))
    assert not np.array_equal(a1, a2)
    np.testing.assert_array_equal(a1, epoch_permutation(100, 0, 1))
    assert not np.array_equal(a1, epoch_permutation(100, 1, 1))


def test_batches_keep_every_sample_once_and_pad_the_last_with_zero_weight():
    x = np.arange(10 * 3, dtype=np.float32).reshape(10, 3)
    y = np.arange(10, dtype=np.float32)
    order = epoch_permutation(10, 0, 1)
    xs, ys, ws = stack_batches(x, y, 4, order)
    assert xs.shape == (3, 4, 3, 1) and ys.shape == (3, 4) and ws.shape == (3, 4)
    assert ws.sum() == 10 and ws[-1].tolist() == [1, 1, 0, 0]
    real = ws.reshape(-1) == 1
    np.testing.assert_array_equal(ys.reshape(-1)[real], y[order])
    np.testing.assert_array_equal(xs.reshape(12, 3)[real], x[order])


def test_exact_multiple_needs_no_padding():
    xs, ys, ws = stack_batches(np.zeros((8, 2), np.float32), np.zeros(8, np.float32), 4)
    assert xs.shape == (2, 4, 2, 1) and ws.min() == 1
