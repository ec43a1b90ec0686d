import json

import numpy as np
import pytest

from lstmlab import tasks
from lstmlab.config import TaskConfig
from lstmlab.errors import UserError
from lstmlab.evaluate import InputFileError, evaluate_run, read_labels, read_sequences
from lstmlab.tasks.integration import labels

INTEGRATION = tasks.of(TaskConfig())


def test_reads_npy_in_both_shapes_and_csv(tmp_path):
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    np.save(tmp_path / "a.npy", x)
    np.save(tmp_path / "b.npy", x[:, :, None])
    (tmp_path / "c.csv").write_text("\n".join(",".join(repr(float(v)) for v in row) for row in x) + "\n")
    for name in ("a.npy", "b.npy", "c.csv"):
        np.testing.assert_array_equal(read_sequences(tmp_path / name), x[:, :, None])


def test_reads_several_channels_from_npy_and_from_csv_rows_of_steps_side_by_side(tmp_path):
    x = np.random.default_rng(1).standard_normal((3, 4, 2)).astype(np.float32)  # (n, T, 2)
    np.save(tmp_path / "a.npy", x)
    (tmp_path / "b.csv").write_text("\n".join(",".join(repr(float(v)) for v in row.ravel()) for row in x) + "\n")
    for name in ("a.npy", "b.csv"):
        np.testing.assert_array_equal(read_sequences(tmp_path / name, width=2), x)
    (tmp_path / "odd.csv").write_text("1,2,3\n")
    with pytest.raises(InputFileError, match="seq_len x 2"):
        read_sequences(tmp_path / "odd.csv", width=2)
    with pytest.raises(InputFileError, match=r"\(n, seq_len, 2\)"):
        read_sequences(_save(tmp_path, x[:, :, :1]), width=2)


def _save(tmp_path, array):
    np.save(tmp_path / "saved.npy", array)
    return tmp_path / "saved.npy"


@pytest.mark.parametrize("name, content, fragment", [
    ("missing.npy", None, "does not exist"),
    ("x.txt", "1,2", "unsupported file type"),
    ("x.npy", np.zeros((0, 5)), "no sequences"),
    ("x.npy", np.zeros((2, 3, 2)), "expected shape"),
    ("x.npy", np.array([[1.0, np.nan]]), "NaN or infinite"),
    ("x.npy", np.array([[1.0, 1e300]]), "float32 range"),
    ("x.npy", np.array([["a", "b"]]), "real numbers"),
    ("x.csv", "1,2\n3,x\n", "line 2"),
    ("x.csv", "1,2\n3\n", "different lengths"),
    ("x.npy", b"not a numpy file", "cannot read"),
    ("x.npy", "npz", "an .npz archive"),
])
def test_bad_sequence_files_raise_one_clear_error(tmp_path, name, content, fragment):
    path = tmp_path / name
    if isinstance(content, np.ndarray):
        np.save(path, content)
    elif content == "npz":  # an archive renamed .npy: np.load would hand back an NpzFile
        np.savez(tmp_path / "archive.npz", x=np.zeros((2, 3)))
        (tmp_path / "archive.npz").rename(path)
    elif isinstance(content, str):
        path.write_text(content)
    elif isinstance(content, bytes):
        path.write_bytes(content)
    with pytest.raises(InputFileError, match=fragment):
        read_sequences(path)


def test_a_file_too_large_for_the_memory_is_refused_before_it_is_read(tmp_path, monkeypatch):
    path = tmp_path / "x.csv"
    path.write_text("1,2\n" * 1000)
    monkeypatch.setattr("lstmlab.core.budget.available_memory", lambda: 4096)
    with pytest.raises(InputFileError, match="needs about .* of memory, but 4.0 KiB is available"):
        read_sequences(path)


@pytest.mark.parametrize("models", [[], [{"name": 5}], [{"name": "a"}, {"name": "a"}], "x"])
def test_a_results_json_whose_models_are_not_names_is_damaged(tmp_path, models):
    from lstmlab.errors import UserError
    from lstmlab.evaluate import model_names

    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "results.json").write_text(json.dumps({"models": models}))
    with pytest.raises(UserError, match="results.json is damaged"):
        model_names(tmp_path)


def test_bad_labels_raise_one_clear_error(tmp_path):
    np.save(tmp_path / "short.npy", np.array([0, 1]))
    np.save(tmp_path / "two.npy", np.array([0, 2, 1]))
    with pytest.raises(InputFileError, match="expected 3 labels"):
        read_labels(tmp_path / "short.npy", 3, INTEGRATION)
    with pytest.raises(InputFileError, match="0 or 1"):
        read_labels(tmp_path / "two.npy", 3, INTEGRATION)
    np.testing.assert_array_equal(read_labels(tmp_path / "short.npy", 2, INTEGRATION), [0, 1])


def test_scores_sequences_of_other_lengths_and_writes_predictions(trained_run, tmp_path):
    x = np.random.default_rng(7).standard_normal((300, 14)).astype(np.float32)  # trained on length 10
    np.save(tmp_path / "x.npy", x)
    summary = evaluate_run(trained_run, tmp_path / "x.npy", predictions=tmp_path / "p.csv")
    assert summary["n"] == 300 and summary["seq_len"] == 14
    assert summary["accuracy"]["lstm-1layer"] > 0.75
    rows = (tmp_path / "p.csv").read_text().splitlines()
    assert rows[0] == "index,label,p_lstm-1layer" and len(rows) == 301
    y = labels(x, 1.0)
    predicted = np.array([float(r.split(",")[2]) for r in rows[1:]]) > 0.5
    assert np.mean(predicted == (y > 0.5)) == pytest.approx(summary["accuracy"]["lstm-1layer"])


def test_given_labels_are_used_instead_of_the_task(trained_run, tmp_path):
    x = np.random.default_rng(8).standard_normal((200, 10)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "flipped.npy", 1 - labels(x, 1.0))
    normal = evaluate_run(trained_run, tmp_path / "x.npy")["accuracy"]["lstm-1layer"]
    flipped = evaluate_run(trained_run, tmp_path / "x.npy", labels=tmp_path / "flipped.npy")["accuracy"]["lstm-1layer"]
    assert flipped == pytest.approx(1 - normal)


def test_a_missing_or_unfinished_run_directory_is_a_user_error(tmp_path):
    np.save(tmp_path / "x.npy", np.zeros((2, 3)))
    with pytest.raises(UserError, match="does not exist"):
        evaluate_run(tmp_path / "nope", tmp_path / "x.npy")
    with pytest.raises(UserError, match="no finished run"):
        evaluate_run(tmp_path, tmp_path / "x.npy")
