"""Training and evaluation of one model: Adam on binary cross-entropy, knowing nothing of the CLI.

On the JAX backend a whole chunk of `steps_per_call` train steps runs inside one compiled call (a
`lax.scan` over batches), so Python and dispatch cost is paid once per chunk, not once per step.
On the TensorFlow backend each step is a `tf.function`. Both use the same model, optimizer and loss.
"""

import time
from dataclasses import dataclass, field

import keras
import numpy as np
from keras import ops

from lstmlab.batches import epoch_permutation, stack_batches
from lstmlab.config import TrainConfig

EPSILON = 1e-7  # probabilities are clipped to [EPSILON, 1 - EPSILON] in the loss, as Keras does


class NonFiniteLossError(RuntimeError):
    """Training produced a NaN or infinite loss."""


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
        if backend == "jax":
            self._impl = _JaxSteps(model, self.optimizer)
        elif backend == "tensorflow":
            self._impl = _TensorFlowSteps(model, self.optimizer)
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


class _JaxSteps:
    """The JAX path: state as arrays, a jit-compiled scan of stateless train steps."""

    def __init__(self, model, optimizer):
        import jax

        self.model = model
        self.optimizer = optimizer
        self.state = (
            [v.value for v in model.trainable_variables],
            [v.value for v in model.non_trainable_variables],
            [v.value for v in optimizer.variables],
        )

        def loss_fn(trainable, non_trainable, x, y, w):
            p, non_trainable = model.stateless_call(trainable, non_trainable, x)
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

    def __init__(self, model, optimizer):
        import tensorflow as tf

        self.model = model

        @tf.function
        def train_step(x, y, w):
            with tf.GradientTape() as tape:
                loss = weighted_bce(y, model(x), w)
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


@dataclass
class EpochRecord:
    epoch: int
    train_loss: float
    val_loss: float
    val_accuracy: float
    seconds: float


@dataclass
class FitResult:
    history: list[EpochRecord] = field(default_factory=list)
    train_seconds: float = 0.0


def fit(trainer: Trainer, train, val, verbose: bool = True) -> FitResult:
    """Train for `config.epochs`; record train loss and validation metrics before and after each epoch.

    Epoch 0 is the untrained model (its train loss is measured on the training set), as in the seed.
    """
    config = trainer.config
    x_train, y_train = train
    result = FitResult()
    start = trainer.evaluate(x_train, y_train).loss
    val_metrics = trainer.evaluate(*val)
    result.history.append(EpochRecord(0, start, val_metrics.loss, val_metrics.accuracy, 0.0))
    for epoch in range(1, config.epochs + 1):
        t0 = time.perf_counter()
        order = epoch_permutation(len(x_train), config.seed, epoch)
        xs, ys, ws = stack_batches(x_train, y_train, config.batch_size, order)
        progress = keras.utils.Progbar(len(xs), verbose=1 if verbose else 0, unit_name="step")
        loss_sum = 0.0
        for first in range(0, len(xs), config.steps_per_call):
            chunk = slice(first, first + config.steps_per_call)
            losses = trainer.train_steps(xs[chunk], ys[chunk], ws[chunk])
            if not np.all(np.isfinite(losses)):
                raise NonFiniteLossError(f"the training loss became {losses[~np.isfinite(losses)][0]} in epoch {epoch}")
            loss_sum += float(np.sum(losses))
            progress.update(min(first + config.steps_per_call, len(xs)), [("loss", float(np.mean(losses)))])
        train_seconds = time.perf_counter() - t0
        val_metrics = trainer.evaluate(*val)
        result.train_seconds += train_seconds
        result.history.append(
            EpochRecord(epoch, loss_sum / len(xs), val_metrics.loss, val_metrics.accuracy, train_seconds)
        )
        if verbose:
            print(f"epoch {epoch}: train loss {loss_sum / len(xs):.4f}, "
                  f"val loss {val_metrics.loss:.4f}, val accuracy {val_metrics.accuracy:.4f}")
    trainer.sync_to_model()
    return result
