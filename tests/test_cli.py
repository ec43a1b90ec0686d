import json
import time

import numpy as np
import pytest

from lstmlab.cli import build_parser


def _one_clean_line(result):
    lines = result.stderr.strip().splitlines()
    return result.returncode == 2 and len(lines) == 1 and "Traceback" not in result.stderr and "error:" in lines[0]


def test_help_answers_without_importing_keras(cli):
    start = time.perf_counter()
    result = cli("run", "--help")
    assert result.returncode == 0 and "--samples" in result.stdout
    import subprocess, sys  # noqa: E401
    probe = subprocess.run([sys.executable, "-c", "import sys, lstmlab.cli; print('keras' in sys.modules)"],
                           capture_output=True, text=True, env={"PYTHONPATH": str(__import__('conftest').ROOT)})
    assert probe.stdout.strip() == "False"
    assert time.perf_counter() - start < 30


@pytest.mark.parametrize("args, fragment", [
    (["run", "--seq-len", "0"], "--seq-len"),
    (["run", "--seq-len", "abc"], "--seq-len"),
    (["run", "--units", "-1"], "--units"),
    (["run", "--epochs", "1.5"], "--epochs"),
    (["run", "--batch-size", "0"], "--batch-size"),
    (["run", "--samples", "100,10"], "--samples"),
    (["run", "--samples", "100,-5,10"], "--samples"),
    (["run", "--samples", "100,10,10"], "at least one batch"),
    (["run", "--threshold", "nan"], "--threshold"),
    (["run", "--threshold", "inf"], "--threshold"),
    (["run", "--lr", "0"], "--lr"),
    (["run", "--lr", "5"], "--lr"),
    (["run", "--layers", "1,x"], "--layers"),
    (["run", "--tbptt", "-2"], "--tbptt"),
    (["run", "--target", "middle"], "--target"),
    (["run", "--objective", "ranking"], "--objective"),
    (["study", "nonsense"], "invalid choice"),
    (["study", "tbptt", "--seeds", "0"], "--seeds"),
    (["run", "--bogus"], "unrecognized"),
    (["frobnicate"], "invalid choice"),
    (["evaluate", "no/such/run", "--data", "x.npy"], "does not exist"),
])
def test_user_mistakes_end_in_one_line_and_exit_2(cli, tmp_path, args, fragment):
    result = cli(*args, cwd=tmp_path)
    assert _one_clean_line(result), result.stderr
    assert fragment in result.stderr
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_an_unwritable_output_directory_is_refused_before_work(cli, tmp_path):
    (tmp_path / "file").write_text("x")
    result = cli("run", "--out", tmp_path / "file" / "run", "--samples", "64,32,32", cwd=tmp_path)
    assert _one_clean_line(result) and "--out" in result.stderr


def test_parser_defaults_are_the_reference_experiment():
    from lstmlab.cli import _run_config, _task_config
    from lstmlab.config import RunConfig, TaskConfig

    args = build_parser().parse_args(["run"])
    assert _run_config(args) == RunConfig()
    assert _task_config(build_parser().parse_args(["data"])) == TaskConfig()


def test_run_then_evaluate_end_to_end(cli, tmp_path):
    run = cli("run", "--samples", "960,320,320", "--epochs", "1", "--seq-len", "12", "--out", "r", "--quiet",
              cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "lstm-1layer: test accuracy" in run.stdout and "lstm-2layer: test accuracy" in run.stdout
    results = json.loads((tmp_path / "r" / "results.json").read_text())
    assert results["config"]["task"]["seq_len"] == 12 and len(results["models"]) == 2
    assert any((tmp_path / "cache").iterdir())

    again = cli("run", "--samples", "960,320,320", "--epochs", "1", "--seq-len", "12", "--out", "r", cwd=tmp_path)
    assert _one_clean_line(again) and "--force" in again.stderr

    x = np.random.default_rng(0).standard_normal((50, 20))
    (tmp_path / "x.csv").write_text("\n".join(",".join(f"{v:.5f}" for v in row) for row in x))
    scored = cli("evaluate", "r", "--data", "x.csv", "--predictions", "p.csv", cwd=tmp_path)
    assert scored.returncode == 0, scored.stderr
    assert "lstm-2layer: accuracy" in scored.stdout and "length 20" in scored.stdout
    assert len((tmp_path / "p.csv").read_text().splitlines()) == 51

    data = cli("data", "--samples", "960,320,320", "--seq-len", "12", cwd=tmp_path)
    assert data.returncode == 0 and "verified" in data.stdout


def test_python_dash_m_is_the_same_command(cli):
    result = cli("--version")
    assert result.returncode == 0 and result.stdout.startswith("lstmlab ")


def test_no_rebuild_refuses_a_corrupt_cache_entry(cli, tmp_path):
    args = ("data", "--samples", "64,32,32", "--seq-len", "4")
    assert cli(*args, cwd=tmp_path).returncode == 0
    entry = next(p for p in (tmp_path / "cache").iterdir() if p.is_dir() and not p.name.startswith("."))
    target = entry / "train_x.npy"
    target.write_bytes(target.read_bytes()[:-4])
    refused = cli(*args, "--no-rebuild", cwd=tmp_path)
    assert _one_clean_line(refused) and "corrupt train_x.npy" in refused.stderr
    rebuilt = cli(*args, cwd=tmp_path)
    assert rebuilt.returncode == 0 and "rebuilding" in rebuilt.stdout


def test_a_diverged_run_exits_1_with_one_line(monkeypatch, capsys, tmp_path):
    from lstmlab.cli import main
    from lstmlab.errors import NonFiniteLossError

    def diverge(*args, **kwargs):
        raise NonFiniteLossError("lstm-1layer: the training loss became nan in epoch 2, step 5")

    monkeypatch.setattr("lstmlab.experiment.run_experiment", diverge)
    code = main(["run", "--samples", "64,32,32", "--out", str(tmp_path / "r"), "--cache-dir", str(tmp_path / "c")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1 and "diverged" in err[0] and "nan" in err[0]


def test_resume_without_a_run_is_a_clean_error(cli, tmp_path):
    result = cli("run", "--resume", "--out", "nothing-here", cwd=tmp_path)
    assert _one_clean_line(result) and "--resume" in result.stderr


def test_run_with_truncated_bptt(cli, tmp_path):
    result = cli("run", "--samples", "960,320,320", "--epochs", "1", "--seq-len", "12", "--layers", "2", "--tbptt", "5",
                 "--out", "r", "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    results = json.loads((tmp_path / "r" / "results.json").read_text())
    assert results["config"]["train"]["tbptt"] == 5 and len(results["models"]) == 1


def test_dry_run_output_is_a_config_file_that_repeats_the_run(cli, tmp_path):
    dry = cli("run", "--dry-run", "--task", "adding", "--cell", "gru", "--seed", "3", "--out", "r", cwd=tmp_path)
    assert dry.returncode == 0, dry.stderr
    (tmp_path / "c.json").write_text(dry.stdout)
    again = cli("run", "--config", "c.json", "--dry-run", "--out", "r", cwd=tmp_path)
    assert again.returncode == 0 and json.loads(again.stdout) == json.loads(dry.stdout)
    # Flags override the file; --data-seed and --init-seed set the two seeds apart.
    split = cli("run", "--config", "c.json", "--epochs", "7", "--data-seed", "4", "--init-seed", "5", "--dry-run",
                "--out", "r", cwd=tmp_path)
    config = json.loads(split.stdout)
    assert (config["train"]["epochs"], config["task"]["seed"], config["train"]["init_seed"]) == (7, 4, 5)
    assert config["task"]["name"] == "adding" and config["cells"] == ["gru"]


def test_a_toml_config_is_read_too_and_a_bad_file_is_one_line(cli, tmp_path):
    (tmp_path / "c.toml").write_text('cells = ["rnn"]\nlayers = [1]\n[task]\nname = "adding"\nseq_len = 30\n'
                                     '[train]\nepochs = 2\n')
    result = cli("run", "--config", "c.toml", "--dry-run", "--out", "r", cwd=tmp_path)
    config = json.loads(result.stdout)
    assert (config["cells"], config["task"]["seq_len"], "threshold" in config["task"]) == (["rnn"], 30, False)
    for name, text, fragment in (("bad.toml", "x = [", "cannot read it as TOML"),
                                 ("bad.json", '{"train": {"epoch": 2}}', "unknown train config key"),
                                 ("none.json", None, "cannot read it as JSON")):
        if text is not None:
            (tmp_path / name).write_text(text)
        bad = cli("run", "--config", name, "--dry-run", "--out", "r", cwd=tmp_path)
        assert _one_clean_line(bad) and fragment in bad.stderr, bad.stderr


def test_resume_refuses_a_flag_that_disagrees_with_the_saved_run(cli, tmp_path):
    args = ("--samples", "320,64,64", "--epochs", "1", "--layers", "1", "--units", "4", "--seq-len", "6", "--out", "r")
    assert cli("run", *args, "--quiet", cwd=tmp_path).returncode == 0
    (tmp_path / "r" / "results.json").unlink()  # as if it had stopped before the end
    refused = cli("run", "--resume", "--out", "r", "--epochs", "9", cwd=tmp_path)
    assert _one_clean_line(refused) and "train.epochs 9 (saved: 1)" in refused.stderr
    agreeing = cli("run", "--resume", "--out", "r", "--epochs", "1", "--quiet", cwd=tmp_path)
    assert agreeing.returncode == 0, agreeing.stderr


def test_control_characters_in_a_path_are_printed_escaped(cli, tmp_path):
    # A directory name can hold an escape sequence: printed raw it would recolour or rewrite the terminal.
    cache = tmp_path / "c\x1b[31m\rx"
    result = cli("data", "--samples", "64,32,32", "--seq-len", "4", "--cache-dir", cache, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout and "\r" not in result.stdout
    assert "c\\x1b[31m\\rx" in result.stdout


def test_progress_lines_escape_control_characters(capsys):
    from lstmlab.executors.progress import printer

    printer(True)("wrote runs/a\nb\x07/report.md")
    assert capsys.readouterr().out == "wrote runs/a\\nb\\x07/report.md\n"


def test_main_stops_on_sigterm_while_it_runs_and_gives_the_callers_handler_back(tmp_path, capsys):
    """`lstmlab` stops on SIGTERM as on Ctrl-C (tests/test_sweep.py sends it to a sweep); a program that
    calls main keeps its own SIGTERM handler afterwards."""
    import signal

    from lstmlab import cli

    seen = []

    def command(args):  # stands in for a long command: SIGTERM arrives while it runs
        seen.append(signal.getsignal(signal.SIGTERM))
        signal.raise_signal(signal.SIGTERM)

    def callers(signum, frame):
        raise AssertionError("the caller's handler ran while lstmlab's main was running")

    previous = signal.signal(signal.SIGTERM, callers)
    try:
        original = cli.COMMANDS["data"]
        cli.COMMANDS["data"] = command
        try:
            code = cli.main(["data", "--cache-dir", str(tmp_path / "cache")])
        finally:
            cli.COMMANDS["data"] = original
        assert code == 143 and seen == [cli._terminate]
        assert "lstmlab data: terminated" in capsys.readouterr().err
        assert signal.getsignal(signal.SIGTERM) is callers
    finally:
        signal.signal(signal.SIGTERM, previous)
