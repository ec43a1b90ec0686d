"""Score a trained run on sequences the user brings (.npy or .csv), of any length."""

import json
from pathlib import Path

import numpy as np

from lstmlab.config import ModelConfig, TaskConfig, TrainConfig
from lstmlab.errors import UserError
from lstmlab.files import write_atomic
from lstmlab.task import labels as task_labels


class InputFileError(UserError):
    """A data or labels file is missing, unreadable or of the wrong shape or values."""


def read_sequences(path: Path) -> np.ndarray:
    """A .npy of shape (n, T) or (n, T, 1), or a .csv with one sequence per row -> (n, T) float32."""
    array = _read_array(path)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim != 2:
        raise InputFileError(f"{path}: expected shape (n, seq_len) or (n, seq_len, 1), got {array.shape}")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise InputFileError(f"{path}: holds no sequences (shape {array.shape})")
    _check_numeric_finite(path, array)
    if np.abs(array).max() > np.finfo(np.float32).max:
        raise InputFileError(f"{path}: values beyond the float32 range (about 3.4e38); rescale or remove them")
    return array.astype(np.float32)


def read_labels(path: Path, n: int) -> np.ndarray:
    """A .npy or one-column .csv of n labels, each 0 or 1 -> (n,) float32."""
    array = _read_array(path)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1 or len(array) != n:
        raise InputFileError(f"{path}: expected {n} labels (one per sequence), got shape {array.shape}")
    _check_numeric_finite(path, array)
    if not np.all((array == 0) | (array == 1)):
        raise InputFileError(f"{path}: labels must be 0 or 1, found {sorted(set(np.unique(array)) - {0, 1})[:3]}")
    return array.astype(np.float32)


def model_names(run_dir: Path) -> list[str]:
    """The trained models in a run directory, in training order."""
    run_dir = Path(run_dir)
    results = run_dir / "results.json"
    if not run_dir.is_dir():
        raise UserError(f"run directory {run_dir} does not exist: pass the --out of a finished `lstmlab run`")
    if not results.is_file():
        raise UserError(f"{run_dir} holds no finished run (no results.json): finish or rerun `lstmlab run` there")
    try:
        return [m["name"] for m in json.loads(results.read_text())["models"]]
    except (ValueError, KeyError, TypeError) as err:
        raise UserError(f"{results} is damaged ({err}): rerun `lstmlab run` with --force") from None


def load_trained(run_dir: Path, name: str):
    """(Trainer, TaskConfig) of model `name` in `run_dir`, with its trained weights."""
    from lstmlab.model import build_model
    from lstmlab.train import Trainer

    directory = Path(run_dir) / "models" / name
    try:
        saved = json.loads((directory / "config.json").read_text())
        task = TaskConfig(**saved["task"])
        model = build_model(ModelConfig(**saved["model"]), seed=0, task=task)
        model.load_weights(directory / "model.weights.h5")
        trainer = Trainer(model, TrainConfig(**saved["train"]), task)
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise UserError(f"cannot load model {name} from {directory} ({err}): rerun `lstmlab run` with --force") from None
    return trainer, task


def evaluate_run(run_dir: Path, data: Path, labels: Path | None = None, predictions: Path | None = None) -> dict:
    """Accuracy of every model in `run_dir` on `data`; labels from the task unless a file is given.

    Returns {"n", "seq_len", "accuracy": {model name: accuracy}}; writes each row's final-step
    prediction (one column per model: a probability, or the predicted sum of a regression run) to
    `predictions` when given.
    """
    from lstmlab.objective import accuracy as score_accuracy

    names = model_names(run_dir)
    x = read_sequences(Path(data))
    if labels is not None:
        y = read_labels(Path(labels), len(x))
    else:
        from lstmlab.experiment import saved_config

        y = task_labels(x, saved_config(run_dir).task.threshold)
    final, accuracy = {}, {}
    for name in names:
        trainer, task = load_trained(run_dir, name)
        outputs = trainer.predict(x)  # (n,), or (n, T) for per-step targets
        final[name] = outputs[:, -1] if outputs.ndim == 2 else outputs
        accuracy[name] = score_accuracy(task, outputs, y)
    if predictions is not None:
        column = "sum" if task.objective == "regression" else "p"
        rows = ["index,label," + ",".join(f"{column}_{name}" for name in names)]
        for i in range(len(x)):
            rows.append(f"{i},{int(y[i])}," + ",".join(f"{final[n][i]:.6f}" for n in names))
        write_atomic(Path(predictions), "\n".join(rows) + "\n")
    return {"n": len(x), "seq_len": x.shape[1], "accuracy": accuracy}


def _read_array(path: Path) -> np.ndarray:
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"{path} does not exist or is not a file")
    suffix = path.suffix.lower()
    try:
        if suffix == ".npy":
            return np.load(path, allow_pickle=False)
        if suffix == ".csv":
            return _read_csv(path)
    except InputFileError:
        raise
    except (OSError, ValueError, EOFError) as err:
        raise InputFileError(f"{path}: cannot read it as {suffix} ({_first_line(err)})") from None
    raise InputFileError(f"{path}: unsupported file type {suffix or '(none)'}; use .npy or .csv")


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
