"""Score a trained run on sequences the user brings (.npy or .csv), of any length, for any task."""

from pathlib import Path

import numpy as np

from lstmlab import tasks
from lstmlab.core.files import load_weights_checked, write_new
from lstmlab.errors import UserError


class InputFileError(UserError):
    """A data or labels file is missing, unreadable or of the wrong shape or values."""


def read_sequences(path: Path, width: int = 1) -> np.ndarray:
    """Sequences of `width` input channels -> (n, T, width) float32.

    A .npy of shape (n, T, width), or (n, T) when width is 1; a .csv with one sequence per row, the
    channels of each step side by side (T * width numbers a row).
    """
    array = _read_array(path)
    if path.suffix.lower() == ".csv" and array.ndim == 2:
        if array.shape[1] % width:
            raise InputFileError(f"{path}: a row must hold seq_len x {width} numbers (the {width} input channels of "
                                 f"each step side by side), got rows of {array.shape[1]}")
        array = array.reshape(len(array), -1, width)
    if array.ndim == 2 and width == 1:
        array = array[:, :, None]
    if array.ndim != 3 or array.shape[2] != width:
        expected = "(n, seq_len) or (n, seq_len, 1)" if width == 1 else f"(n, seq_len, {width})"
        raise InputFileError(f"{path}: expected shape {expected} for this task, got {array.shape}")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise InputFileError(f"{path}: holds no sequences (shape {array.shape})")
    _check_numeric_finite(path, array)
    if np.abs(array).max() > np.finfo(np.float32).max:
        raise InputFileError(f"{path}: values beyond the float32 range (about 3.4e38); rescale or remove them")
    return array.astype(np.float32)


def read_labels(path: Path, n: int, task: tasks.Task, width: int = 0) -> np.ndarray:
    """A .npy or one-column .csv of n answers (0/1 labels, or target values) -> (n,) float32; with `width`
    m > 0, m answers per sequence (the copy task's symbols), a row each -> (n, m)."""
    array = _read_array(path)
    if not width and array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.shape != ((n, width) if width else (n,)):
        each = f"{width} per sequence, a row each" if width else "one per sequence"
        raise InputFileError(f"{path}: expected {n} labels ({each}), got shape {array.shape}")
    _check_numeric_finite(path, array)
    problem = task.check_truth(array)
    if problem:
        raise InputFileError(f"{path}: {problem}")
    return array.astype(np.float32)


def model_names(run_dir: Path) -> list[str]:
    """The trained models in a run directory, in training order."""
    run_dir = Path(run_dir)
    results = run_dir / "results.json"
    if not _check(run_dir, Path.is_dir):
        raise UserError(f"run directory {run_dir} does not exist: pass the --out of a finished `lstmlab run`")
    if not _check(results, Path.is_file):
        raise UserError(f"{run_dir} holds no finished run (no results.json): finish or rerun `lstmlab run` there")
    if not _check(run_dir / "config.json", Path.is_file):
        raise UserError(f"{run_dir} has results.json but no config.json: it is damaged; rerun `lstmlab run` with "
                        "--force")
    from lstmlab.experiment import read_results

    return [m["name"] for m in read_results(run_dir)["models"]]


def load_trained(run_dir: Path, name: str):
    """(Trainer, Task) of model `name` in `run_dir`, with its trained weights."""
    from lstmlab.core.model import build_model
    from lstmlab.core.train import Trainer

    from lstmlab.experiment import model_description

    directory = Path(run_dir) / "models" / name
    model_config, task_config, train_config = model_description(directory / "config.json")
    try:
        task = tasks.of(task_config)
        if model_config.name != name:
            raise ValueError(f"its config.json describes {model_config.name}")
        model = build_model(model_config, seed=0, task=task)
        load_weights_checked(model, directory / "model.weights.h5")
        trainer = Trainer(model, train_config, task)
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise UserError(f"cannot load model {name} from {directory} ({err}): rerun `lstmlab run` with --force") from None
    return trainer, task


def evaluate_run(run_dir: Path, data: Path, labels: Path | None = None, predictions: Path | None = None) -> dict:
    """Accuracy of every model in `run_dir` on `data`; labels from the task unless a file is given.

    Returns {"n", "seq_len", "accuracy": {model name: accuracy}}; writes each row's final-step
    prediction (one column per model: a probability `p_NAME`, a value `value_NAME` of a regression
    run, or the classes `class_NAME` a task answers with several, space-separated) to `predictions`
    when given.
    """
    from lstmlab.core import workdir
    from lstmlab.experiment import saved_config

    if predictions is not None:
        workdir.check_new_file(predictions, "--predictions")  # never an input, never a file that is there
    names = model_names(run_dir)
    task = tasks.of(saved_config(run_dir).task)
    x = read_sequences(Path(data), task.input_width)
    problem = task.check_inputs(x)
    if problem:
        raise InputFileError(f"{data}: {problem}")
    truth = task.truth(task.targets_of(x))  # (n,), or (n, m) for an answer of m values
    if labels is not None:
        truth = read_labels(Path(labels), len(x), task, width=truth.shape[1] if truth.ndim == 2 else 0)
    final, accuracy = {}, {}
    for name in names:
        trainer, _ = load_trained(run_dir, name)
        outputs = trainer.predict(x)  # (n,), or (n, T) for per-step targets (and K classes: (n, K), (n, T, K))
        final[name] = task.final_predictions(outputs)
        accuracy[name] = task.accuracy(outputs, truth)
    if predictions is not None:
        rows = ["index,label," + ",".join(f"{task.objective.prediction}_{name}" for name in names)]
        for i in range(len(x)):
            rows.append(f"{i},{_cell(truth[i], '{:g}')}," + ",".join(_cell(final[n][i], "{:.6f}") for n in names))
        try:
            write_new(Path(predictions), "\n".join(rows) + "\n")
        except FileExistsError:
            raise UserError(f"--predictions {predictions} appeared while scoring; nothing was written over it") from None
    return {"n": len(x), "seq_len": x.shape[1], "accuracy": accuracy}


def _cell(value, form: str) -> str:
    """One CSV cell: a number, or an answer of several classes as space-separated integers."""
    return " ".join(f"{v:.0f}" for v in value) if np.ndim(value) else form.format(value)


def _check(path: Path, test) -> bool:
    """`test(path)` (Path.is_file, Path.is_dir), with a path the system cannot handle (a name too long)
    reported as the user's input error it is."""
    try:
        return test(path)
    except OSError as err:
        raise InputFileError(f"{path}: {err.strerror or err}; check the path") from None


def _read_array(path: Path) -> np.ndarray:
    path = Path(path)
    if not _check(path, Path.is_file):
        raise InputFileError(f"{path} does not exist or is not a file")
    suffix = path.suffix.lower()
    _check_size(path, suffix)
    try:
        if suffix == ".npy":
            array = np.load(path, allow_pickle=False)
            if not isinstance(array, np.ndarray):  # np.load reads an .npz archive whatever its name
                array.close()
                raise InputFileError(f"{path}: holds an .npz archive of several arrays, not one .npy array; save "
                                     "the sequences with np.save")
            return array
        if suffix == ".csv":
            return _read_csv(path)
    except InputFileError:
        raise
    except (OSError, ValueError, EOFError) as err:
        raise InputFileError(f"{path}: cannot read it as {suffix} ({_first_line(err)})") from None
    raise InputFileError(f"{path}: unsupported file type {suffix or '(none)'}; use .npy or .csv")


# Memory a file's contents take once read, per byte of the file: a .npy array is itself (and one copy as
# float32); a .csv's numbers become Python floats in lists first (about 40 bytes per short number).
READ_COST = {".npy": 2, ".csv": 40}


def _check_size(path: Path, suffix: str) -> None:
    """Refuse, before reading, a file whose contents could not fit in the memory available now."""
    from lstmlab.core.budget import available_memory, size_text

    need = path.stat().st_size * READ_COST.get(suffix, 1)
    memory = available_memory()
    if memory is not None and need > memory:
        raise InputFileError(f"{path}: reading this {size_text(path.stat().st_size)} file needs about "
                             f"{size_text(need)} of memory, but {size_text(memory)} is available; score it in parts")


def _read_csv(path: Path) -> np.ndarray:
    rows = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append([float(cell) for cell in line.split(",")])
        except ValueError:
            raise InputFileError(f"{path}: line {number} is not comma-separated numbers") from None
    if len({len(r) for r in rows}) > 1:
        raise InputFileError(f"{path}: rows have different lengths {sorted({len(r) for r in rows})}; pad or split the file")
    return np.array(rows, dtype=np.float64).reshape(len(rows), -1)


def _check_numeric_finite(path, array):
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool) or np.iscomplexobj(array):
        raise InputFileError(f"{path}: expected real numbers, got dtype {array.dtype}")
    if not np.all(np.isfinite(array)):
        raise InputFileError(f"{path}: contains NaN or infinite values; remove or replace them")


def _first_line(err: Exception) -> str:
    return str(err).splitlines()[0] if str(err) else type(err).__name__
