"""The gradient-bias study: its measurement is exact at full depth, and the quick study runs end to end."""

import json

import numpy as np
import pytest

from lstmlab import tasks
from lstmlab.config import ModelConfig, TaskConfig, TrainConfig
from lstmlab.core.model import build_model
from lstmlab.core.train import Trainer
from lstmlab.studies.tbptt_bias import gradient_agreement


@pytest.mark.parametrize("target", ["final", "per-step"])
def test_full_depth_agrees_exactly_and_shallow_depths_do_not(target):
    task = tasks.of(TaskConfig(seq_len=30, target=target))
    trainer = Trainer(build_model(ModelConfig("lstm", 1, 6), seed=2, task=task), TrainConfig(), task)
    x = np.random.default_rng(0).standard_normal((16, 30)).astype(np.float32)
    agreement = gradient_agreement(trainer, x[:, :, None], task.targets_of(x), np.ones(16, np.float32), (1, 5, 30))
    cosine, ratio = agreement[30]
    assert cosine == pytest.approx(1.0, abs=1e-6) and ratio == pytest.approx(1.0, abs=1e-5)  # k2 = T: full BPTT
    for depth in (1, 5):
        assert -1 <= agreement[depth][0] < 0.9999 and agreement[depth][1] > 0


@pytest.mark.slow  # about 30 s
def test_quick_study_end_to_end(cli, tmp_path):
    result = cli("study", "tbptt-bias", "--quick", "--seeds", "2", "--out", "s", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    study = json.loads((tmp_path / "s" / "study.json").read_text())
    assert len(study["runs"]) == 4 and study["complete"]
    for run in study["runs"]:
        points = run["metrics"]["points"]
        assert points[0]["samples"] == 0 and points[-1]["samples"] == 2 * 640  # at init and at the end
        assert all(-1 <= c <= 1 for point in points for c in point["cosine"].values())
    assert {row["k2"] for row in study["summary"]} == {1, 4}
    for name in ("cosine.png", "norm_ratio.png"):
        assert (tmp_path / "s" / name).stat().st_size > 10_000
    assert "| final | 0 | 1 |" in (tmp_path / "s" / "report.md").read_text()
