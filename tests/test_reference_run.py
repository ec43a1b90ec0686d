"""The reference experiment exactly as the README runs it (slow: about a minute on 2 cores)."""

import json

import pytest

pytestmark = pytest.mark.slow


def test_default_run_reaches_the_reference_accuracy(cli, tmp_path):
    result = cli("run", "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    results = json.loads((tmp_path / "runs" / "reference" / "results.json").read_text())
    accuracies = {m["name"]: m["test_accuracy"] for m in results["models"]}
    assert set(accuracies) == {"lstm-1layer", "lstm-2layer"}
    assert min(accuracies.values()) >= 0.98, accuracies
    assert (tmp_path / "runs" / "reference" / "curves.png").is_file()
