import numpy as np

from lstmlab.config import TaskConfig
from lstmlab.task import final_labels, generate, labels, targets

SMALL = TaskConfig(seq_len=9, n_train=300, n_val=50, n_test=40, seed=5)


def test_labels_follow_the_task_definition():
    x = np.array([[0.5, 0.6], [0.5, 0.5], [-3.0, 1.0], [2.0, 2.0]], dtype=np.float32)
    assert labels(x, 1.0).tolist() == [1.0, 0.0, 0.0, 1.0]  # 1.0 is not > 1.0
    assert labels(x, -5.0).tolist() == [1.0, 1.0, 1.0, 1.0]


def test_splits_have_the_configured_shapes_and_labels():
    data = generate(SMALL)
    assert [len(data[s][0]) for s in ("train", "val", "test")] == [300, 50, 40]
    for x, y in data.values():
        assert x.shape[1] == 9 and x.dtype == np.float32
        np.testing.assert_array_equal(y, (x.astype(np.float64).sum(1) > 1.0).astype(np.float32))


def test_generation_is_byte_identical_per_seed_and_differs_across_seeds():
    a, b = generate(SMALL), generate(SMALL)
    other = generate(TaskConfig(seq_len=9, n_train=300, n_val=50, n_test=40, seed=6))
    for split in a:
        assert a[split][0].tobytes() == b[split][0].tobytes()
        assert a[split][0].tobytes() != other[split][0].tobytes()


def test_changing_one_split_size_leaves_the_others_unchanged():
    bigger = generate(TaskConfig(seq_len=9, n_train=600, n_val=50, n_test=40, seed=5))
    base = generate(SMALL)
    np.testing.assert_array_equal(base["test"][0], bigger["test"][0])
    np.testing.assert_array_equal(base["val"][0], bigger["val"][0])


def test_samples_look_standard_normal():
    x = generate(TaskConfig(n_train=20_000, n_val=32, n_test=32))["train"][0]
    assert abs(x.mean()) < 0.01 and abs(x.std() - 1) < 0.01
    # the sum of 25 N(0,1) is N(0, 5): P(sum > 1) = P(Z > 0.2) = 0.4207
    assert abs(labels(x, 1.0).mean() - 0.4207) < 0.01


def test_target_variants_share_the_sequences():
    variants = [TaskConfig(seq_len=9, n_train=300, n_val=50, n_test=40, seed=5, target=t, objective=o)
                for t in ("final", "per-step") for o in ("classification", "regression")]
    data = [generate(v) for v in variants]
    for d in data[1:]:
        np.testing.assert_array_equal(d["train"][0], data[0]["train"][0])
    for variant, d in zip(variants, data):  # every variant asks the same final question
        x, y = d["test"]
        np.testing.assert_array_equal(final_labels(y, variant), labels(x, 1.0))


def test_per_step_and_regression_targets():
    x = np.array([[0.5, 0.6, -2.0], [2.0, -0.5, 0.25]], dtype=np.float32)
    per_step = TaskConfig(seq_len=3, target="per-step")
    assert targets(x, per_step).tolist() == [[0, 1, 0], [1, 1, 1]]  # running sums 0.5 1.1 -0.9; 2 1.5 1.75
    regression = TaskConfig(seq_len=3, objective="regression")
    np.testing.assert_allclose(targets(x, regression), [-0.9, 1.75], rtol=1e-6)
    running = targets(x, TaskConfig(seq_len=3, target="per-step", objective="regression"))
    np.testing.assert_allclose(running, [[0.5, 1.1, -0.9], [2.0, 1.5, 1.75]], rtol=1e-6)
    assert final_labels(running, TaskConfig(seq_len=3, target="per-step", objective="regression")).tolist() == [0, 1]
