"""Training checkpoints: everything needed to continue a model's training exactly where it stopped.

One `.npz` file per model holds the arrays the trainer gives it (`Trainer.get_state`: the parameters,
the non-trainable variables, the optimizer's state: Adam's step count and moments; `fit` appends the
finished epochs' step losses as a last array) and a JSON `Progress` (epochs done, position in the
current epoch, that epoch's step losses so far, the history, and with `--stop paper` the stopping
rule's state). The data order needs no saving: each epoch's shuffle is a function of (seed, epoch),
and a stream's batch (`--stream`) of (seed, step). The file is replaced atomically, so a crash leaves the
previous checkpoint intact; a fit stopped between calls (`fit`'s `should_stop`) saves where it stopped.
"""

import io
import json
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from lstmlab.errors import UserError
from lstmlab.core.files import write_atomic


@dataclass
class EpochRecord:
    epoch: int
    train_loss: float
    val_loss: float
    val_accuracy: float
    seconds: float


@dataclass
class Progress:
    epoch: int = 0  # epochs completed
    step: int = 0  # steps done in epoch `epoch + 1`
    step_losses: list[float] = field(default_factory=list)  # those steps' losses
    history: list[EpochRecord] = field(default_factory=list)
    train_seconds: float = 0.0
    criterion: dict | None = None  # the paper's stopping rule's state (criterion.PaperCriterion.state)


class Checkpoint:
    """Saves and restores one trainer's state at `path`; `fingerprint` must match to restore."""

    def __init__(self, path: Path, fingerprint: dict, every: int = 0):
        self.path = Path(path)
        self.fingerprint = json.dumps(fingerprint, sort_keys=True)
        self.every = every

    def save(self, arrays: list[np.ndarray], progress: Progress) -> None:
        meta = {"fingerprint": self.fingerprint, "progress": asdict(progress)}
        buffer = io.BytesIO()
        np.savez(buffer, meta=np.array(json.dumps(meta)), **{f"state_{i}": a for i, a in enumerate(arrays)})
        write_atomic(self.path, buffer.getvalue())

    def load(self) -> tuple[list[np.ndarray], Progress] | None:
        """(state arrays, progress), or None when there is no checkpoint yet.

        The file is checked like any input: a damaged, edited or foreign checkpoint is a UserError.
        """
        if not self.path.exists():
            return None
        try:
            with np.load(self.path, allow_pickle=False) as archive:
                meta = json.loads(str(archive["meta"]))
                arrays = [archive[f"state_{i}"] for i in range(len(archive.files) - 1)]
            fingerprint, progress = meta["fingerprint"], dict(meta["progress"])
            progress["history"] = [EpochRecord(**h) for h in progress["history"]]
            progress = Progress(**progress)
            _check_progress(progress)
        except (OSError, ValueError, KeyError, TypeError, AttributeError, zipfile.BadZipFile) as err:
            raise UserError(f"checkpoint {self.path} is damaged ({err}): delete it, or rerun with --force") from None
        if fingerprint != self.fingerprint:
            raise UserError(f"checkpoint {self.path} belongs to another configuration: rerun with --force to "
                            "start over")
        return arrays, progress

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


def _check_progress(progress: Progress) -> None:
    """Raise ValueError unless the progress fields have the types and ranges a checkpoint writes."""
    counts = (progress.epoch, progress.step)
    if any(isinstance(c, bool) or not isinstance(c, int) or c < 0 for c in counts):
        raise ValueError(f"bad position epoch={progress.epoch!r}, step={progress.step!r}")
    if len(progress.step_losses) != progress.step or not all(isinstance(v, (int, float)) for v in progress.step_losses):
        raise ValueError("the step losses do not match the position")
    if len(progress.history) != progress.epoch + 1:
        raise ValueError("the history does not match the epochs done")
