"""TensorBoard event files without TensorFlow: `TensorBoardLogger`, a Keras callback for lstmlab's `fit`.

The events are written with the `tensorboard` package's own writer (`EventFileWriter` and the
summary protos of `tensorboard.compat.proto`), the path torch.utils.tensorboard takes; it needs the
`tensorboard` extra (`pip install 'lstmlab[tensorboard]'`) and never TensorFlow. Scalars, in the log
directory given (lstmlab's run writes one per model, DIR/MODEL_NAME):

    train/loss            every train step's loss, at its step number in the whole run (from 1)
    grad_norm/LAYER       every train step's L2 norm of the gradient of LAYER's weights ('lstm_1',
                          'readout'); with several TBPTT updates in a step, the mean of the updates'
                          norms weighted by their chunks' lengths, as the step's loss is
    epoch/loss            the epoch's train loss (the mean of its step losses), at the epoch's last
    epoch/val_loss        step, so that they line up with train/loss on TensorBoard's step axis
    epoch/val_accuracy

A resumed fit writes a new event file into the same directory, beginning with a session start at
its first step: TensorBoard drops what the interrupted attempt had logged from that step on, so
every step shows once.
"""

import sys
import time
from pathlib import Path

import keras
import numpy as np

from lstmlab.errors import UserError

MISSING = ("--tensorboard needs the tensorboard package, which is not installed: "
           "pip install 'lstmlab[tensorboard]' (or pip install tensorboard)")


def require_tensorboard():
    """(EventFileWriter class, event_pb2, summary_pb2), or a one-line UserError saying how to install them."""
    try:
        from tensorboard.compat.proto import event_pb2, summary_pb2
        from tensorboard.summary.writer import event_file_writer
    except ImportError:
        raise UserError(MISSING) from None
    if sys.modules.get("tensorflow") is None:
        # The writer reaches the file system through `tensorboard.compat.tf`, which imports TensorFlow
        # when it is installed (seconds, and TensorFlow's runtime in a JAX process); its stub, which
        # the writer uses wherever TensorFlow is absent, writes local files the same way.
        import importlib

        event_file_writer.tf = importlib.import_module("tensorboard.compat.tensorflow_stub")
    return event_file_writer.EventFileWriter, event_pb2, summary_pb2


class TensorBoardLogger(keras.callbacks.Callback):
    """Writes a `fit`'s step losses, gradient norms and epoch metrics as TensorBoard scalars into `log_dir`."""

    def __init__(self, log_dir):
        super().__init__()
        self._writer_class, self._event_pb2, self._summary_pb2 = require_tensorboard()
        self.log_dir = Path(log_dir)
        self._writer = None
        self._started = False

    def on_train_begin(self, logs=None):
        self._close()
        self._writer = self._writer_class(str(self.log_dir))
        self._started = False

    def on_train_steps(self, steps: np.ndarray, logs: dict) -> None:
        """lstmlab's per-step hook (see `fit`): `steps` numbers, `logs` {tag: array of those steps' values}."""
        if self._writer is None:
            return
        if not self._started:  # purges what an interrupted attempt logged from this step on
            self._started = True
            self._write(int(steps[0]), session_log=self._event_pb2.SessionLog(status=self._event_pb2.SessionLog.START))
        tags = ["train/loss" if key == "loss" else key for key in logs]
        columns = [np.asarray(values, np.float64) for values in logs.values()]
        for i, step in enumerate(steps):
            self._scalars(int(step), {tag: column[i] for tag, column in zip(tags, columns)})

    def on_epoch_end(self, epoch, logs=None):
        if self._writer is None:
            return
        values = {f"epoch/{key}": value for key, value in (logs or {}).items() if _is_number(value)}
        self._scalars((epoch + 1) * int(self.params.get("steps") or 1), values)
        self._writer.flush()

    def on_train_end(self, logs=None):
        self._close()

    def _scalars(self, step: int, values: dict) -> None:
        summary = self._summary_pb2.Summary(value=[self._summary_pb2.Summary.Value(tag=tag, simple_value=float(v))
                                                   for tag, v in values.items()])
        self._write(step, summary=summary)

    def _write(self, step: int, **fields) -> None:
        self._writer.add_event(self._event_pb2.Event(wall_time=time.time(), step=step, **fields))

    def _close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def __del__(self):
        try:
            self._close()
        except Exception:  # at interpreter exit the writer's modules may be gone
            pass


def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.number)) and not isinstance(value, bool)
