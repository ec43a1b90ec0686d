"""The training loop: `fit` trains a `Trainer` for its epochs, in compiled calls of `steps_per_call` steps.

It records the learning curve (train loss and validation metrics per epoch, every step's loss),
checkpoints and resumes exactly, calls Keras callbacks as far as the compiled loop allows, and can
be stopped between calls (`should_stop`). Each epoch's batches are a function of (seed, epoch), so
the data order needs no saving.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

import keras
import numpy as np

from lstmlab.config import steps_per_epoch
from lstmlab.core.batches import epoch_permutation, stack_batches
from lstmlab.core.checkpoint import Checkpoint, EpochRecord, Progress
from lstmlab.core.faults import fault_point
from lstmlab.errors import NonFiniteLossError, UserError, one_line

if TYPE_CHECKING:
    from lstmlab.core.train import Trainer


@dataclass
class FitResult:
    # Epoch 0 (the untrained model), then every epoch; a fit stopped within an epoch ends with a record
    # of that epoch's steps so far (train loss: their mean) and the validation metrics where it stopped.
    history: list[EpochRecord] = field(default_factory=list)
    train_seconds: float = 0.0
    step_losses: list[float] = field(default_factory=list)  # every train step's loss, all epochs in order
    stopped_at: tuple[int, int] | None = None  # (epoch, step) where `should_stop` or a callback ended training


def call_bounds(first: int, steps: int, per_call: int, every: int):
    """(start, stop) of each compiled call from step `first` to `steps` of an epoch.

    Calls end at multiples of `per_call` and of `every` (the checkpoint cadence, 0 for none), so a
    resumed epoch is cut into exactly the same calls as an uninterrupted one.
    """
    while first < steps:
        stop = min(steps, (first // per_call + 1) * per_call)
        if every:
            stop = min(stop, (first // every + 1) * every)
        yield first, stop
        first = stop


def fit(trainer: Trainer, train, val, verbose: bool = True, checkpoint: Checkpoint | None = None,
        observe: Callable[[int, int], None] | None = None, callbacks=None,
        should_stop: Callable[[int, int], bool] | None = None, measure_untrained: bool = True) -> FitResult:
    """Train for `config.epochs`; record train loss and validation metrics before and after each epoch.

    Epoch 0 is the untrained model (its train loss is measured on the training set), as in the seed;
    `measure_untrained=False` skips that pass over the data (epoch 0's losses and accuracy are then NaN),
    for a caller that scores the model its own way and would wait for it (the adding study).
    With a `checkpoint`, training continues from it when one exists, and the state is saved every
    `checkpoint.every` steps and at every epoch end; the result equals an uninterrupted run,
    every step's loss (`FitResult.step_losses`) included: the checkpoint keeps the finished epochs'
    step losses too. `observe(epoch, step)`, if given, is called after every compiled call (every
    `steps_per_call` steps), e.g. to record a learning curve; its time counts in the epoch's time.

    `should_stop(epoch, step)`, if given, is asked after every compiled call (after `observe`, with
    the trainer's state as that call left it): True ends training there. Within an epoch, the
    validation metrics of that point end the history and the checkpoint (if any) is saved at that
    step, so a later fit resumes exactly as if never stopped; at an epoch's end, the epoch finishes
    as usual first. `FitResult.stopped_at` says where, and the model holds the trained weights.

    `callbacks`: `keras.callbacks.Callback` objects, called as `model.fit` calls them, as far as the
    compiled loop allows. They get `set_model(trainer.model)`, `set_params({"epochs", "steps",
    "verbose"})`, then on_train_begin; per epoch on_epoch_begin and on_epoch_end with Keras's epoch
    index (lstmlab's epoch e >= 1 is Keras's e - 1) and logs {"loss": the epoch's train loss,
    "val_loss", "val_accuracy"}; on_train_end. The batch hooks run once per compiled call, not once
    per step: on_train_batch_begin(batch) before it and on_train_batch_end(batch, {"loss": the mean of
    the call's step losses}) after it, where `batch` is the index in the epoch (from 0) of the call's
    last step. A callback with an `on_train_steps(steps, logs)` method (lstmlab's own hook, e.g.
    `lstmlab.core.tensorboard.TensorBoardLogger`) also gets every step of the call, before
    on_train_batch_end: `steps`, the steps' numbers in the whole run (from 1), and `logs`, {"loss":
    their losses, "grad_norm/LAYER": their gradient norms per layer}, arrays of the call's length.
    Setting `model.stop_training` (EarlyStopping) ends training after that epoch; the model is not
    compiled, so a callback monitoring "val_accuracy" needs mode="max". Before on_epoch_end and
    on_train_end the trained weights are written into the Keras model, and after them training goes
    on from the model's weights, so a callback that reads weights (ModelCheckpoint) sees the trained
    ones and one that sets them (EarlyStopping with restore_best_weights) decides what training ends
    with; within an epoch the model keeps the weights of the last epoch end. A callback's own state
    is not checkpointed: a resumed fit starts the callbacks afresh, at the resumed epoch.

    Raises NonFiniteLossError when a step's loss is NaN or infinite.
    """
    steps = steps_per_epoch(len(train[0]), trainer.config.batch_size)
    progress, finished = _start(trainer, train, val, checkpoint, steps, verbose, measure_untrained)

    def save():  # the state, then the finished epochs' step losses as its last array
        checkpoint.save(trainer.get_state() + [np.array(finished, np.float64)], progress)

    hooks = _begin_callbacks(callbacks, trainer, steps, verbose)
    history, unfinished, stopped_at = progress.history, 0.0, None  # unfinished: the seconds of a stopped epoch
    for epoch in range(progress.epoch + 1, trainer.config.epochs + 1):
        if hooks:
            hooks.on_epoch_begin(epoch - 1)
        t0 = time.perf_counter()
        told_to_stop = _train_epoch(trainer, train, epoch, progress, hooks=hooks, observe=observe,
                                    should_stop=should_stop, every=checkpoint.every if checkpoint else 0,
                                    save=save, verbose=verbose)
        seconds = time.perf_counter() - t0
        if told_to_stop and progress.step < steps:  # within the epoch
            if checkpoint:
                save()  # at this step: a later fit resumes from it exactly
            history = progress.history + [_record(trainer, epoch, progress.step_losses, val, seconds)]
            unfinished, stopped_at = seconds, (epoch, progress.step)
            _say(f"stopped in epoch {epoch} after step {progress.step}: {_summary(history[-1])}", verbose)
            break
        _end_epoch(trainer, epoch, val, progress, finished, hooks, seconds, verbose)
        if checkpoint:
            save()
        if told_to_stop or (hooks and trainer.model.stop_training):
            stopped_at = (epoch, steps)
            _say(f"stopped after epoch {epoch}{'' if told_to_stop else ' by a callback'}", verbose)
            break
    _end_callbacks(hooks, trainer)
    trainer.sync_to_model()
    return FitResult(history, progress.train_seconds + unfinished, finished + progress.step_losses, stopped_at)


def _start(trainer: Trainer, train, val, checkpoint: Checkpoint | None, steps: int, verbose: bool,
           measure_untrained: bool):
    """(progress, the finished epochs' step losses): resumed from the checkpoint if there is one, else
    a fresh start whose history holds the untrained model's record (epoch 0)."""
    saved = checkpoint.load() if checkpoint else None
    if not saved and not measure_untrained:
        return Progress(history=[EpochRecord(0, math.nan, math.nan, math.nan, 0.0)]), []
    if not saved:
        start_loss = trainer.evaluate(*train).loss
        val_metrics = trainer.evaluate(*val)
        return Progress(history=[EpochRecord(0, start_loss, val_metrics.loss, val_metrics.accuracy, 0.0)]), []
    arrays, progress = saved
    try:
        trainer.set_state(arrays[:-1])  # the last array: the finished epochs' step losses
    except ValueError:
        raise UserError(f"checkpoint {checkpoint.path} does not fit this model: delete it, or rerun with "
                        "--force") from None
    done = arrays[-1]
    if done.ndim != 1 or done.dtype.kind != "f" or len(done) != progress.epoch * steps:
        raise UserError(f"checkpoint {checkpoint.path} is damaged (its step losses do not match its epochs): "
                        "delete it, or rerun with --force")
    _say(f"resuming from {checkpoint.path}: epoch {progress.epoch + 1}, step {progress.step}", verbose)
    return progress, done.tolist()


def _train_epoch(trainer: Trainer, train, epoch: int, progress: Progress, *, hooks, observe, should_stop, every: int,
                 save, verbose: bool) -> bool:
    """Train epoch `epoch` from step `progress.step` in compiled calls, recording each call's step losses
    in `progress`; True when `should_stop` said so (`progress.step` is then where)."""
    config = trainer.config
    x_train, y_train = train
    order = epoch_permutation(len(x_train), config.init_seed, epoch)
    xs, ys, ws = stack_batches(x_train, y_train, config.batch_size, order)
    # The bar redraws itself on a terminal; in a log file the epoch summary line says enough.
    bar = keras.utils.Progbar(len(xs), verbose=1 if verbose and sys.stdout.isatty() else 0,
                              unit_name="step")
    for first, stop in call_bounds(progress.step, len(xs), config.steps_per_call, every):
        if hooks:
            hooks.on_train_batch_begin(stop - 1)
        losses = trainer.train_steps(xs[first:stop], ys[first:stop], ws[first:stop])
        if not np.all(np.isfinite(losses)):
            bad = losses[~np.isfinite(losses)][0]
            raise NonFiniteLossError(f"the training loss became {bad} in epoch {epoch}, step {first + 1}")
        fault_point("train:chunk")
        progress.step_losses += losses.tolist()
        progress.step = stop
        bar.update(stop, [("loss", float(np.mean(progress.step_losses)))])  # the epoch's mean so far
        if hooks:
            _report_steps(hooks, trainer, (epoch - 1) * len(xs) + np.arange(first + 1, stop + 1), losses)
            hooks.on_train_batch_end(stop - 1, {"loss": math.fsum(losses.tolist()) / len(losses)})
        if observe:
            observe(epoch, stop)
        if every and stop % every == 0 and stop < len(xs):
            save()
        if should_stop and should_stop(epoch, stop):
            return True
    return False


def _end_epoch(trainer: Trainer, epoch: int, val, progress: Progress, finished: list, hooks, seconds: float,
               verbose: bool) -> None:
    """Record the finished epoch (into `progress`, its step losses onto `finished`) and tell the callbacks."""
    record = _record(trainer, epoch, progress.step_losses, val, seconds)
    progress.train_seconds += seconds
    progress.history.append(record)
    finished += progress.step_losses
    progress.epoch, progress.step, progress.step_losses = epoch, 0, []
    if hooks:
        trainer.sync_to_model()
        hooks.on_epoch_end(epoch - 1, {"loss": record.train_loss, "val_loss": record.val_loss,
                                       "val_accuracy": record.val_accuracy})
        _reload_from_model(trainer)
    _say(f"epoch {epoch}: {_summary(record)}", verbose)


def _record(trainer: Trainer, epoch: int, losses: list[float], val, seconds: float) -> EpochRecord:
    """The record of `epoch`: the mean of its step `losses` (an exact sum: the same however the calls
    fall) and the validation metrics of the trainer's state now."""
    val_metrics = trainer.evaluate(*val)
    train_loss = math.fsum(losses) / len(losses)
    return EpochRecord(epoch, train_loss, val_metrics.loss, val_metrics.accuracy, seconds)


def _summary(record: EpochRecord) -> str:
    return (f"train loss {record.train_loss:.4f}, val loss {record.val_loss:.4f}, "
            f"val accuracy {record.val_accuracy:.4f}")


# ---- Keras callbacks ------------------------------------------------------------------------

def _begin_callbacks(callbacks, trainer: Trainer, steps: int, verbose: bool):
    """The callbacks as a keras CallbackList with the model and params set, told that training begins;
    None for none."""
    if not callbacks:
        return None
    if isinstance(callbacks, keras.callbacks.CallbackList):
        callbacks = callbacks.callbacks
    hooks = keras.callbacks.CallbackList(list(callbacks), model=trainer.model, epochs=trainer.config.epochs,
                                         steps=steps, verbose=1 if verbose else 0)
    trainer.model.stop_training = False
    _reload_from_model(trainer)  # the model keeps its own arrays: the train calls consume the state's
    hooks.on_train_begin()
    return hooks


def _end_callbacks(hooks, trainer: Trainer) -> None:
    """on_train_end, with the trained weights in the model; training's state is then the model's."""
    if hooks:
        trainer.sync_to_model()
        hooks.on_train_end()
        _reload_from_model(trainer)


def _report_steps(hooks, trainer: Trainer, numbers: np.ndarray, losses: np.ndarray) -> None:
    """Every step of a compiled call to the callbacks that have lstmlab's `on_train_steps` hook."""
    listeners = [c for c in hooks.callbacks if callable(getattr(c, "on_train_steps", None))]
    if listeners:
        logs = {"loss": losses, **{f"grad_norm/{name}": trainer.grad_norms[:, i]
                                   for i, name in enumerate(trainer.layer_names)}}
        for callback in listeners:
            callback.on_train_steps(numbers, logs)


def _reload_from_model(trainer: Trainer) -> None:
    """Continue from the Keras model's variables (which callbacks may have set), in arrays of the
    trainer's own: the compiled call donates the state's buffers, and the model's must stay readable."""
    import jax

    trainer.load_from_model()
    trainer.state = jax.tree.map(lambda a: a.copy(), trainer.state)


def _say(message: str, verbose: bool) -> None:
    if verbose:
        print(one_line(message), flush=True)
