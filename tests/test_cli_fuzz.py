"""Property-based tests: random argument strings and random files thrown at the CLI. The only
outcomes allowed are success or the clean error (one line on stderr, exit status 2)."""

import io
import json
import shutil

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lstmlab.cli import main

FLAGS = ["--seq-len", "--samples", "--threshold", "--seed", "--layers", "--units", "--epochs", "--batch-size", "--lr",
         "--checkpoint-every", "--tbptt", "--target", "--objective", "--task", "--cell", "--bogus", "-x"]
VALUES = st.one_of(
    st.sampled_from(["adding", "integration", "gru", "lstm,rnn", "rnn,rnn", "per-step", "regression", "classification"]),
    st.integers(-10**6, 10**12).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.lists(st.integers(-5, 10**5).map(str), min_size=1, max_size=4).map(",".join),
    st.text(max_size=12),
)
TOKENS = st.lists(st.one_of(st.sampled_from(FLAGS), VALUES), max_size=8)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _outcome(argv, capsys):
    try:
        code = main(argv)
    except SystemExit as exit_:
        code = exit_.code
    captured = capsys.readouterr()
    return code, captured.err


def _assert_success_or_clean_error(code, err):
    if code == 0:
        return
    lines = err.strip().splitlines()
    assert code == 2, (code, err)
    assert len(lines) == 1 and "error:" in lines[0] and "Traceback" not in err, err


@SETTINGS
@given(tokens=TOKENS)
def test_random_run_arguments(tmp_path, capsys, tokens):
    argv = ["run", *tokens, "--dry-run", "--out", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "cache")]
    _assert_success_or_clean_error(*_outcome(argv, capsys))


@SETTINGS
@given(tokens=TOKENS)
def test_random_data_arguments(tmp_path, capsys, tokens):
    # `data` really creates the entry, so keep it small: only argument errors or tiny sizes get through
    argv = ["data", *[t for t in tokens if t not in ("--samples", "--seq-len")], "--samples", "64,32,32",
            "--seq-len", "3", "--cache-dir", str(tmp_path / "cache")]
    _assert_success_or_clean_error(*_outcome(argv, capsys))


def _random_array(draw):
    shape = draw(st.lists(st.integers(0, 6), min_size=0, max_size=4))
    kind = draw(st.sampled_from(["f4", "f8", "i4", "bool", "U3", "c8"]))
    values = np.random.default_rng(draw(st.integers(0, 1000))).standard_normal(int(np.prod(shape)) if shape else 1)
    if draw(st.booleans()) and values.size:
        values[0] = draw(st.sampled_from([np.nan, np.inf, -np.inf, 1e30]))
    with np.errstate(invalid="ignore"):  # NaN -> int casts are part of the fuzzing
        return values.reshape(shape or ()).astype(kind)


@st.composite
def data_files(draw):
    suffix = draw(st.sampled_from([".npy", ".csv", ".txt", ""]))
    style = draw(st.sampled_from(["array", "bytes", "csv"]))
    if style == "bytes":
        payload = draw(st.binary(max_size=200))
    elif style == "csv":
        payload = draw(st.text(alphabet="0123456789.,-e\n nan", max_size=120)).encode()
    else:
        buffer = io.BytesIO()
        np.save(buffer, _random_array(draw), allow_pickle=False)
        payload = buffer.getvalue()
    return suffix, payload


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=data_files(), labels=st.one_of(st.none(), data_files()))
def test_random_files_for_evaluate(trained_run, tmp_path, capsys, data, labels):
    path = tmp_path / f"data{data[0]}"
    path.write_bytes(data[1])
    argv = ["evaluate", str(trained_run), "--data", str(path)]
    if labels is not None:
        label_path = tmp_path / f"labels{labels[0]}"
        label_path.write_bytes(labels[1])
        argv += ["--labels", str(label_path)]
    _assert_success_or_clean_error(*_outcome(argv, capsys))


# Paths as a user might type them, or a script might build them from an empty or odd variable. A real
# argv cannot hold a NUL byte, so none is generated.
PATHS = st.one_of(
    st.sampled_from(["", ".", "..", "/", "/dev/null", "/proc/self", "~", "a/../b", "x" * 300, "data.npy", "run"]),
    st.text(alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=20),
)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(out=PATHS, cache=PATHS)
def test_random_paths_for_run(tmp_path, capsys, monkeypatch, out, cache):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data.npy").write_bytes(b"user file")
    (tmp_path / "run").mkdir(exist_ok=True)
    (tmp_path / "run" / "mine.txt").write_text("user file")
    argv = ["run", "--dry-run", "--samples", "64,32,32", "--out", out, "--cache-dir", cache]
    _assert_success_or_clean_error(*_outcome(argv, capsys))
    assert (tmp_path / "data.npy").read_bytes() == b"user file" and (tmp_path / "run" / "mine.txt").exists()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(predictions=PATHS, data=PATHS)
def test_random_paths_for_evaluate(trained_run, tmp_path, capsys, monkeypatch, predictions, data):
    monkeypatch.chdir(tmp_path)
    np.save(tmp_path / "data.npy", np.zeros((3, 10), np.float32))
    before = (tmp_path / "data.npy").read_bytes()
    argv = ["evaluate", str(trained_run), "--data", data, "--predictions", predictions]
    _assert_success_or_clean_error(*_outcome(argv, capsys))
    assert (tmp_path / "data.npy").read_bytes() == before


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(backend=st.one_of(st.sampled_from(["torch", "tensorflow", "numpy", "JAX", " jax", ""]), st.text(max_size=8)))
def test_random_keras_backends(tmp_path, capsys, monkeypatch, backend):
    if "\x00" in backend:
        return  # an environment variable cannot hold a NUL byte
    monkeypatch.setenv("KERAS_BACKEND", backend)
    code, err = _outcome(["run", "--samples", "64,32,32", "--out", str(tmp_path / "r"),
                          "--cache-dir", str(tmp_path / "c")], capsys)
    if backend != "jax":
        assert code == 2 and "JAX" in err and len(err.strip().splitlines()) == 1, err


RUN_FILES = ["config.json", "results.json", "models/lstm-1layer/config.json", "models/lstm-1layer/record.json",
             "models/lstm-1layer/model.weights.h5", ".lstmlab"]


@st.composite
def edits(draw):
    """A file of the run directory and what a hand edit left in it: JSON of another shape, or bytes."""
    name = draw(st.sampled_from(RUN_FILES))
    payload = draw(st.one_of(
        st.binary(max_size=64),
        st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
                     max_leaves=6).map(lambda v: json.dumps(v).encode()),
    ))
    return name, payload


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edit=edits())
def test_hand_edited_run_directories(trained_run, tmp_path_factory, capsys, edit):
    run = tmp_path_factory.mktemp("edited") / "run"
    shutil.copytree(trained_run, run)
    name, payload = edit
    (run / name).write_bytes(payload)
    np.save(run.parent / "x.npy", np.zeros((3, 10), np.float32))
    _assert_success_or_clean_error(*_outcome(["evaluate", str(run), "--data", str(run.parent / "x.npy")], capsys))


# -- sizes and shapes before reading (each refused in one line, nothing written) ------------------------------

def _deep(levels: int) -> str:
    return '{"task": ' * levels + "{}" + "}" * levels


@pytest.mark.parametrize("args, files, message", [
    (["run", "--config", "/dev/zero", "--dry-run"], {}, "larger than 1 MiB"),
    (["run", "--config", "deep.json", "--dry-run"], {"deep.json": _deep(100_000)}, "nested too deeply"),
    (["sweep", "spec.toml", "--dry-run"], {"spec.toml": "seeds = 1000000000\n[grid]\nunits = [4]\n"},
     "seeds must be a count from 1 to 100,000"),
    (["sweep", "spec.toml", "--dry-run"], {"spec.toml": "seeds = 1000\n[grid]\nunits = " + str(list(range(1, 1001)))},
     "plans 1,000,000 runs"),
    (["study", "cells", "--quick", "--seeds", "100000000", "--workers", "0"], {}, "--seeds must be a count from 1"),
    (["data", "--seq-len", "50000"], {}, "of memory is available"),
    (["data", "--samples", "100000000,1,1"], {}, "of memory is available"),
])
def test_sizes_are_checked_before_anything_is_read_or_allocated(cli, tmp_path, args, files, message):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    before = sorted(p.name for p in tmp_path.iterdir())
    cache = ["--cache-dir", "c"] if args[0] in ("data", "study") else []
    result = cli(*args, *cache, cwd=tmp_path, timeout=120)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written


def test_a_jax_that_cannot_start_its_platform_is_one_line_before_any_work(cli, tmp_path):
    result = cli("run", "--samples", "320,64,64", "--out", "r", cwd=tmp_path, env={"JAX_PLATFORMS": "cuda"})
    assert result.returncode == 2 and "JAX cannot start on JAX_PLATFORMS='cuda'" in result.stderr, result.stderr
    assert not (tmp_path / "r").exists()


# -- each class of the adversarial cases, as a property ------------------------------------------------------

@st.composite
def nested_files(draw):
    """A config file or sweep spec nested to a random depth, as JSON or TOML, in dicts or lists."""
    depth = draw(st.sampled_from([1, 2, 50, 999, 1000, 5_000, 100_000]))
    toml = draw(st.booleans())
    if draw(st.booleans()):  # lists
        body = "[" * depth + "1" + "]" * depth
        text = f"units = {body}\n" if toml else f'{{"units": {body}}}'
    elif toml:  # inline tables
        text = "task = " + "{a = " * depth + "1" + "}" * depth + "\n"
    else:
        text = '{"task": ' * depth + "{}" + "}" * depth
    return ("spec.toml" if toml else "config.json"), text


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(file=nested_files())
def test_nested_inputs_of_any_depth_are_one_line(tmp_path, capsys, file):
    name, text = file
    (tmp_path / name).write_text(text)
    before = sorted(p.name for p in tmp_path.iterdir())
    if name == "spec.toml":
        argv = ["sweep", str(tmp_path / name), "--dry-run", "--out", str(tmp_path / "sweep")]
    else:
        argv = ["run", "--config", str(tmp_path / name), "--dry-run", "--out", str(tmp_path / "run")]
    _assert_success_or_clean_error(*_outcome(argv, capsys))
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # a dry run writes nothing


LINKABLE = ["config.json", "results.json", "report.md", "curves.png", "models", "models/lstm-1layer",
            *(f"models/lstm-1layer/{name}" for name in ("config.json", "metrics.csv", "model.weights.h5",
                                                          "record.json", "checkpoint.npz"))]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(links=st.lists(st.sampled_from(LINKABLE), min_size=1, max_size=3, unique=True), to_dir=st.booleans())
def test_force_never_deletes_through_a_link_anywhere_in_a_run(tmp_path_factory, links, to_dir):
    # --force clears a run with experiment.clear_run: whatever entry is a link to the user's things,
    # the link is refused or removed itself, and what it points to is untouched.
    from lstmlab.core.workdir import DirectoryError
    from lstmlab.experiment import MODEL_FILES, OUTPUTS, clear_run

    root = tmp_path_factory.mktemp("linked")
    user = root / "user"
    (user / "folder").mkdir(parents=True)
    for name in ("config.json", "results.json", *MODEL_FILES):
        (user / "folder" / name).write_text("the user's")
    (user / "file").write_text("the user's")
    run = root / "run"
    (run / "models" / "lstm-1layer").mkdir(parents=True)
    for name in OUTPUTS:
        (run / name).write_text("lstmlab's")
    for name in MODEL_FILES:
        (run / "models" / "lstm-1layer" / name).write_text("lstmlab's")
    (run / "models" / "lstm-1layer" / "notes.txt").write_text("the user's")
    for link in sorted(links, key=len):  # a parent made a link first leaves its children unreachable
        path = run / link
        if not path.parent.is_dir() or path.parent.is_symlink():
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
        path.symlink_to(user / "folder" if to_dir or link.count("/") < 2 and "." not in link else user / "file")
    before = {p: p.read_text() for p in user.rglob("*") if p.is_file()}
    try:
        clear_run(run)
    except DirectoryError as err:
        assert "link" in str(err) and len(str(err).splitlines()) == 1
    assert {p: p.read_text() for p in user.rglob("*") if p.is_file()} == before
    if not {"models", "models/lstm-1layer"} & set(links):  # else the setup replaced the folder holding it
        assert (run / "models" / "lstm-1layer" / "notes.txt").read_text() == "the user's"


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.one_of(st.text(max_size=10), st.sampled_from(["0", "-1", "nan", "inf", "1e400", "", " 5", "1e-9"])))
def test_environment_values_are_checked_like_flags(monkeypatch, value):
    from lstmlab.errors import UserError
    from lstmlab.executors.ray_cluster import connect_timeout

    if "\x00" in value:
        return  # an environment variable cannot hold a NUL byte
    monkeypatch.setenv("LSTMLAB_RAY_CONNECT_SECONDS", value)
    try:
        seconds = connect_timeout()
    except UserError as err:
        assert "LSTMLAB_RAY_CONNECT_SECONDS" in str(err) and "\n" not in str(err)
    else:
        assert 0 < seconds < float("inf")
