import hashlib

import numpy as np

from lstmlab import tasks
from lstmlab.config import TaskConfig
from lstmlab.tasks.integration import labels

SMALL = TaskConfig(seq_len=9, n_train=300, n_val=50, n_test=40, seed=5)


def generate(config):
    return tasks.of(config).generate()


def test_labels_follow_the_task_definition():
    x = np.array([[0.5, 0.6], [0.5, 0.5], [-3.0, 1.0], [2.0, 2.0]], dtype=np.float32)
    assert labels(x, 1.0).tolist() == [1.0, 0.0, 0.0, 1.0]  # 1.0 is not > 1.0
    assert labels(x, -5.0).tolist() == [1.0, 1.0, 1.0, 1.0]


def test_splits_have_the_configured_shapes_and_labels():
    data = generate(SMALL)
    assert [len(data[s][0]) for s in ("train", "val", "test")] == [300, 50, 40]
    for x, y in data.values():
        assert x.shape == (len(x), 9) and x.dtype == np.float32
        np.testing.assert_array_equal(y, (x.astype(np.float64).sum(1) > 1.0).astype(np.float32))


def test_reference_data_is_byte_identical_to_lstmlab_0_1():
    # SHA-256 prefixes of every array of seed 0's reference data, as lstmlab 0.1 (main at 0e976a7,
    # before tasks were plug-ins) generated them, for all four variants.
    golden = {
        ("final", "classification"): ("291fe211009e4f63", "e9a15a95c9dea466", "cd90237a50ba5576"),
        ("final", "regression"): ("a589b4b88ae661cd", "db78a43e70dcdba2", "6db5289c351ba71f"),
        ("per-step", "classification"): ("507ea73b123fe5c6", "0173740ff575e246", "1b55c96e8047fd1f"),
        ("per-step", "regression"): ("494544161108160a", "9cfbdfab709cf8c5", "f0b46561e6a12850"),
    }
    inputs = ("11351078f7090f3c", "f445ca5c532d3616", "0e23d2faa3a726c8")  # train, val, test x
    digest = lambda a: hashlib.sha256(a.tobytes()).hexdigest()[:16]  # noqa: E731
    for (target, objective), targets in golden.items():
        data = generate(TaskConfig(target=target, objective=objective))
        assert tuple(digest(data[s][0]) for s in ("train", "val", "test")) == inputs
        assert tuple(digest(data[s][1]) for s in ("train", "val", "test")) == targets
        assert data["train"][0].shape == (64_000, 25)


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
                for t in ("final", "per-step") for o in ("classification", "regression", "label-regression")]
    data = [generate(v) for v in variants]
    for d in data[1:]:
        np.testing.assert_array_equal(d["train"][0], data[0]["train"][0])
    for variant, d in zip(variants, data):  # every variant asks the same final question
        x, y = d["test"]
        np.testing.assert_array_equal(tasks.of(variant).truth(y), labels(x, 1.0))


def test_per_step_and_regression_targets():
    x = np.array([[0.5, 0.6, -2.0], [2.0, -0.5, 0.25]], dtype=np.float32)
    targets = lambda **variant: tasks.of(TaskConfig(seq_len=3, **variant)).targets_of(x)  # noqa: E731
    assert targets(target="per-step").tolist() == [[0, 1, 0], [1, 1, 1]]  # running sums 0.5 1.1 -0.9; 2 1.5 1.75
    np.testing.assert_allclose(targets(objective="regression"), [-0.9, 1.75], rtol=1e-6)
    running = targets(target="per-step", objective="regression")
    np.testing.assert_allclose(running, [[0.5, 1.1, -0.9], [2.0, 1.5, 1.75]], rtol=1e-6)
    regression = tasks.of(TaskConfig(seq_len=3, target="per-step", objective="regression"))
    assert regression.truth(running).tolist() == [0, 1]


def test_label_regression_fits_the_labels_with_a_linear_read_out_and_answers_above_one_half():
    x = np.array([[0.5, 0.6, -2.0], [2.0, -0.5, 0.25]], dtype=np.float32)
    task = tasks.of(TaskConfig(seq_len=3, target="per-step", objective="label-regression"))
    assert task.objective.activation is None and task.objective.loss_name == "mean squared error"
    assert task.targets_of(x).tolist() == [[0, 1, 0], [1, 1, 1]]  # the classification labels
    # A fitted value of 0.6 means yes (above 1/2), whatever the threshold of the sum is.
    assert task.decisions(np.array([[0.0, 0.0, 0.6], [1.0, 1.0, 0.4]])).tolist() == [True, False]
    assert [b["name"] for b in task.baselines(task.targets_of(x), task.targets_of(x))] == [
        "majority class", "predict the mean"]
