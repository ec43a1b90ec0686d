"""Training and evaluation of one model: Adam on binary cross-entropy, knowing nothing of the CLI.

On the JAX backend a whole chunk of `steps_per_call` train steps runs inside one compiled call (a
`lax.scan` over batches), so Python and dispatch cost is paid once per chunk, not once per step.
On the TensorFlow backend each step is a `tf.function`. Both use the same model, optimizer and loss.
"""

import math
import sys
import time
from dataclasses import dataclass, field

import keras
import numpy as np
from keras import ops

from lstmlab.batches import epoch_permutation, stack_batches
from lstmlab.checkpoint import Checkpoint, EpochRecord, Progress
from lstmlab.config import TrainConfig
from lstmlab.errors import NonFiniteLossError
from lstmlab.faults import fault_point

EPSILON = 1e-7  # probabilities are clipped to [EPSILON, 1 - EPSILON] in the loss, as Keras does


def weighted_bce(y, p, w):
    """Mean binary cross-entropy of probabilities p (B,) against labels y (B,), weights w (B,)."""
    per_sample = ops.binary_crossentropy(y, p)  # (B,), clipped like keras.losses
    return ops.sum(per_sample * w) / ops.maximum(ops.sum(w), 1.0)


def enable_compilation_cache(directory) -> None:
    """Keep compiled XLA programs in `directory`, so a rerun skips compiling (JAX backend only)."""
    if keras.backend.backend() != "jax":
        return
    import jax

    jax.config.update("jax_compilation_cache_dir", str(directory))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


@dataclass
class Metrics:
    loss: float
    accuracy: float


def metrics(probabilities: np.ndarray, labels: np.ndarray) -> Metrics:
    """Binary cross-entropy and accuracy (threshold 0.5) in float64."""
    p = np.clip(probabilities.astype(np.float64), EPSILON, 1 - EPSILON)
    y = labels.astype(np.float64)
    loss = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    return Metrics(float(loss), float(np.mean((p > 0.5) == (y > 0.5))))


class Trainer:
    """Holds one model and its optimizer; `train_steps` runs a stack of batches, `predict` scores."""

    def __init__(self, model: keras.Model, config: TrainConfig):
        self.model = model
        self.config = config
        self.optimizer = keras.optimizers.Adam(learning_rate=config.learning_rate)
        self.optimizer.build(model.trainable_variables)
        backend = keras.backend.backend()
        truncate = config.tbptt or None
        if backend == "jax":
            self._impl = _JaxSteps(model, self.optimizer, truncate)
        elif backend == "tensorflow":
            self._impl = _TensorFlowSteps(model, self.optimizer, truncate)
        else:
            raise RuntimeError(f"lstmlab trains on the jax or tensorflow backend, not {backend!r}: set KERAS_BACKEND")

    def train_steps(self, xs: np.ndarray, ys: np.ndarray, ws: np.ndarray) -> np.ndarray:
        """Batches xs (S, B, T, 1), ys (S, B), ws (S, B) -> the S per-step losses, parameters updated."""
        return np.asarray(self._impl.train_steps(xs, ys, ws))

    def predict(self, x: np.ndarray) -> np.ndarray:
        """(n, T) sequences -> (n,) probabilities, in fixed-size batches (one compilation)."""
        xs, _, ws = stack_batches(x, np.zeros(len(x), np.float32), self.config.eval_batch_size)
        batch_probs = [np.asarray(self._impl.predict(xb)) for xb in xs]
        return np.concatenate(batch_probs)[: len(x)]

    def evaluate(self, x: np.ndarray, y: np.ndarray) -> Metrics:
        return metrics(self.predict(x), y)

    def sync_to_model(self):
        """Write the trained values back into the Keras model's variables (for saving)."""
        self._impl.sync_to_model()

    def get_state(self) -> list[np.ndarray]:
        """Parameters, non-trainable variables and optimizer state as NumPy arrays (a checkpoint)."""
        return [np.array(a) for a in self._impl.state_arrays()]

    def set_state(self, arrays: list[np.ndarray]) -> None:
        """Restore what `get_state` returned."""
        variables = _all_variables(self.model, self.optimizer)
        if len(arrays) != len(variables) or any(a.shape != tuple(v.shape) for a, v in zip(arrays, variables)):
            raise ValueError("the saved state does not fit this model and optimizer")
        for variable, value in zip(variables, arrays):
            variable.assign(value)
        self._impl.load_from_model()


class _JaxSteps:
    """The JAX path: state as arrays, a jit-compiled scan of stateless train steps."""

    def __init__(self, model, optimizer, truncate):
        import jax

        self.model = model
        self.optimizer = optimizer
        self.load_from_model()

        def loss_fn(trainable, non_trainable, x, y, w):
            p, non_trainable = model.stateless_call(trainable, non_trainable, x, truncate=truncate)
            return weighted_bce(y, p, w), non_trainable

        grad_fn = jax.value_and_grad(loss_fn, has_aux=True)

        def train_step(state, batch):
            trainable, non_trainable, opt_vars = state
            (loss, non_trainable), grads = grad_fn(trainable, non_trainable, *batch)
            trainable, opt_vars = optimizer.stateless_apply(opt_vars, grads, trainable)
            return (trainable, non_trainable, opt_vars), loss

        # The state's buffers are donated: each call updates the parameters in place.
        self._train_chunk = jax.jit(lambda state, batches: jax.lax.scan(train_step, state, batches), donate_argnums=0)
        self._predict = jax.jit(lambda trainable, non_trainable, x: model.stateless_call(trainable, non_trainable, x)[0])

    def train_steps(self, xs, ys, ws):
        self.state, losses = self._train_chunk(self.state, (xs, ys, ws))
        return losses

    def predict(self, x):
        return self._predict(self.state[0], self.state[1], x)

    def state_arrays(self):
        trainable, non_trainable, opt_vars = self.state
        return [*trainable, *non_trainable, *opt_vars]

    def load_from_model(self):
        """Take the state from the Keras variables (at the start, and after a checkpoint is restored)."""
        self.state = (
            [v.value for v in self.model.trainable_variables],
            [v.value for v in self.model.non_trainable_variables],
            [v.value for v in self.optimizer.variables],
        )

    def sync_to_model(self):
        trainable, non_trainable, opt_vars = self.state
        for variables, values in (
            (self.model.trainable_variables, trainable),
            (self.model.non_trainable_variables, non_trainable),
            (self.optimizer.variables, opt_vars),
        ):
            for variable, value in zip(variables, values):
                variable.assign(value)


class _TensorFlowSteps:
    """The TensorFlow path: one `tf.function` per step, variables updated in place."""

    def __init__(self, model, optimizer, truncate):
        import tensorflow as tf

        self.model = model
        self.optimizer = optimizer

        @tf.function
        def train_step(x, y, w):
            with tf.GradientTape() as tape:
                loss = weighted_bce(y, model(x, truncate=truncate), w)
            grads = tape.gradient(loss, model.trainable_variables)
            optimizer.apply(grads, model.trainable_variables)
            return loss

        self._train_step = train_step
        self._predict = tf.function(lambda x: model(x))

    def train_steps(self, xs, ys, ws):
        return [float(self._train_step(x, y, w)) for x, y, w in zip(xs, ys, ws)]

    def predict(self, x):
        return self._predict(x)

    def sync_to_model(self):
        pass  # the variables were updated in place

    def load_from_model(self):
        pass  # the compiled step reads the variables themselves

    def state_arrays(self):
        return [v.numpy() for v in _all_variables(self.model, self.optimizer)]


def _all_variables(model, optimizer) -> list:
    """Everything a checkpoint holds, in its order: parameters, non-trainable variables, optimizer state."""
    return [*model.trainable_variables, *model.non_trainable_variables, *optimizer.variables]


@dataclass
class FitResult:
    history: list[EpochRecord] = field(default_factory=list)
    train_seconds: float = 0.0


def chunk_bounds(first: int, steps: int, per_call: int, every: int):
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


def fit(trainer: Trainer, train, val, verbose: bool = True, checkpoint: Checkpoint | None = None) -> FitResult:
    """Train for `config.epochs`; record train loss and validation metrics before and after each epoch.

    Epoch 0 is the untrained model (its train loss is measured on the training set), as in the seed.
    With a `checkpoint`, training continues from it when one exists, and the state is saved every
    `checkpoint.every_steps` steps and at every epoch end; the result equals an uninterrupted run.
    """
    config = trainer.config
    x_train, y_train = train
    saved = checkpoint.load() if checkpoint else None
    if saved:
        trainer.set_state(saved[0])
        progress = saved[1]
        _say(f"resuming from {checkpoint.path}: epoch {progress.epoch + 1}, step {progress.step}", verbose)
    else:
        start_loss = trainer.evaluate(x_train, y_train).loss
        val_metrics = trainer.evaluate(*val)
        progress = Progress(history=[EpochRecord(0, start_loss, val_metrics.loss, val_metrics.accuracy, 0.0)])
    every = checkpoint.every_steps if checkpoint else 0
    for epoch in range(progress.epoch + 1, config.epochs + 1):
        t0 = time.perf_counter()
        order = epoch_permutation(len(x_train), config.seed, epoch)
        xs, ys, ws = stack_batches(x_train, y_train, config.batch_size, order)
        # The bar redraws itself on a terminal; in a log file the epoch summary line says enough.
        bar = keras.utils.Progbar(len(xs), verbose=1 if verbose and sys.stdout.isatty() else 0, unit_name="step")
        for first, stop in chunk_bounds(progress.step, len(xs), config.steps_per_call, every):
            losses = trainer.train_steps(xs[first:stop], ys[first:stop], ws[first:stop])
            if not np.all(np.isfinite(losses)):
                bad = losses[~np.isfinite(losses)][0]
                raise NonFiniteLossError(f"the training loss became {bad} in epoch {epoch}, step {first + 1}")
            fault_point("train:chunk")
            progress.step_losses += losses.tolist()
            progress.step = stop
            bar.update(stop, [("loss", float(np.mean(progress.step_losses)))])  # the epoch's mean so far
            if every and stop % every == 0 and stop < len(xs):
                checkpoint.save(trainer.get_state(), progress)
        seconds = time.perf_counter() - t0
        val_metrics = trainer.evaluate(*val)
        progress.train_seconds += seconds
        train_loss = math.fsum(progress.step_losses) / len(xs)  # exact sum: the same however chunked
        progress.history.append(EpochRecord(epoch, train_loss, val_metrics.loss, val_metrics.accuracy, seconds))
        progress.epoch, progress.step, progress.step_losses = epoch, 0, []
        if checkpoint:
            checkpoint.save(trainer.get_state(), progress)
        _say(f"epoch {epoch}: train loss {train_loss:.4f}, val loss {val_metrics.loss:.4f}, "
             f"val accuracy {val_metrics.accuracy:.4f}", verbose)
    trainer.sync_to_model()
    return FitResult(progress.history, progress.train_seconds)


def _say(message: str, verbose: bool) -> None:
    if verbose:
        print(message, flush=True)
