"""Training and evaluation of one model: Adam on the task's loss, knowing nothing of the CLI.

On the JAX backend `steps_per_call` train steps run inside one compiled call (a `lax.scan` over
batches), so Python and dispatch cost is paid once per call, not once per step. On the TensorFlow
backend each step is a `tf.function`. Both use the same model, optimizer, loss and truncated-BPTT
chunks (`tbptt.py`; "chunk" in this file always means a TBPTT chunk of a sequence).
"""

import math
import sys
import time
from dataclasses import dataclass, field

import keras
import numpy as np

from lstmlab.batches import epoch_permutation, stack_batches
from lstmlab.checkpoint import Checkpoint, EpochRecord, Progress
from lstmlab.config import TaskConfig, TrainConfig
from lstmlab.errors import NonFiniteLossError
from lstmlab.faults import fault_point
from lstmlab.objective import Metrics, score, weighted_loss
from lstmlab.tbptt import ChunkPlan


def enable_compilation_cache(directory) -> None:
    """Keep compiled XLA programs in `directory`, so a rerun skips compiling (JAX backend only)."""
    if keras.backend.backend() != "jax":
        return
    import jax

    jax.config.update("jax_compilation_cache_dir", str(directory))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


class Trainer:
    """Holds one model and its optimizer; `train_steps` runs a stack of batches, `predict` scores.

    Each batch is one update, or with truncated BPTT one update per chunk that has a loss (see
    `tbptt.ChunkPlan`).
    """

    def __init__(self, model: keras.Model, config: TrainConfig, task: TaskConfig = TaskConfig()):
        self.model = model
        self.config = config
        self.task = task
        self.optimizer = keras.optimizers.Adam(learning_rate=config.learning_rate)
        self.optimizer.build(model.trainable_variables)
        self.plan = ChunkPlan.create(task.seq_len, config.tbptt, per_step=task.target == "per-step")
        backend = keras.backend.backend()
        if backend == "jax":
            self._impl = _JaxSteps(model, self.optimizer, task, self.plan)
        elif backend == "tensorflow":
            self._impl = _TensorFlowSteps(model, self.optimizer, task, self.plan)
        else:
            raise RuntimeError(f"lstmlab trains on the jax or tensorflow backend, not {backend!r}: set KERAS_BACKEND")

    def train_steps(self, xs: np.ndarray, ys: np.ndarray, ws: np.ndarray) -> np.ndarray:
        """Batches xs (S, B, T, 1), ys (S, B) or (S, B, T), ws (S, B) -> the S batch losses, parameters updated."""
        return np.asarray(self._impl.train_steps(xs, ys, ws))

    def predict(self, x: np.ndarray) -> np.ndarray:
        """(n, T) sequences -> (n,) or (n, T) predictions, in fixed-size batches (one compilation)."""
        xs, _, _ = stack_batches(x, np.zeros(len(x), np.float32), self.config.eval_batch_size)
        batch_predictions = [np.asarray(self._impl.predict(xb)) for xb in xs]
        return np.concatenate(batch_predictions)[: len(x)]

    def evaluate(self, x: np.ndarray, y: np.ndarray) -> Metrics:
        return score(self.task, self.predict(x), y)

    def step_memory_bytes(self) -> int | None:
        """Working memory XLA allocates for one train step (activations kept for the backward pass,
        gradients, temporaries), beyond its inputs and outputs; None off the JAX backend."""
        return self._impl.step_memory_bytes(self.config.batch_size)

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

    def __init__(self, model, optimizer, task: TaskConfig, plan: ChunkPlan):
        import jax

        self.model = model
        self.optimizer = optimizer
        self._plan = plan
        self.load_from_model()

        def chunk_loss(trainable, non_trainable, x, y, w, rnn_state):
            (p, rnn_state), non_trainable = model.stateless_call(
                trainable, non_trainable, x, initial_state=rnn_state, return_state=True)
            return weighted_loss(task, y, p, w), (non_trainable, rnn_state)

        # Differentiates with respect to the parameters only: the incoming state is a constant,
        # which is what stops the gradient between chunks.
        grad_fn = jax.value_and_grad(chunk_loss, has_aux=True)

        def update(carry, chunk):
            """One TBPTT update: carry (trainable, non_trainable, opt_vars, rnn_state), chunk (x, y, w)."""
            trainable, non_trainable, opt_vars, rnn_state = carry
            rnn_state = jax.lax.stop_gradient(rnn_state)  # for any outer differentiation (the tests) too
            (loss, (non_trainable, rnn_state)), grads = grad_fn(trainable, non_trainable, *chunk, rnn_state)
            trainable, opt_vars = optimizer.stateless_apply(opt_vars, grads, trainable)
            return (trainable, non_trainable, opt_vars, rnn_state), loss

        def train_step(state, batch):
            trainable, non_trainable, opt_vars = state
            x, y, w = batch  # (B, T, 1), (B,) or (B, T), (B,)
            zeros = jax.numpy.zeros((x.shape[0], model.units), x.dtype)
            rnn_state = [[zeros, zeros] for _ in model.rnns]
            if plan.forward_only:  # final-step target: the chunks without a loss, forward only
                (_, rnn_state), non_trainable = model.stateless_call(
                    trainable, non_trainable, x[:, : plan.forward_only], initial_state=rnn_state, return_state=True)
            carry = (trainable, non_trainable, opt_vars, rnn_state)
            if not plan.per_step:
                carry, loss = update(carry, (x[:, plan.forward_only:], y, w))
                return carry[:3], loss
            # Per-step targets: the whole chunks as one scan (B, n*k) -> (n, B, k), then the remainder.
            n, k = plan.seq_len // plan.chunk, plan.chunk
            xs = jax.numpy.swapaxes(x[:, : n * k].reshape(x.shape[0], n, k, 1), 0, 1)  # (n, B, k, 1)
            ys = jax.numpy.swapaxes(y[:, : n * k].reshape(y.shape[0], n, k), 0, 1)  # (n, B, k)
            carry, losses = jax.lax.scan(lambda c, chunk: update(c, (*chunk, w)), carry, (xs, ys))
            total = losses.sum() * k
            if n * k < plan.seq_len:
                carry, loss = update(carry, (x[:, n * k:], y[:, n * k:], w))
                total += loss * (plan.seq_len - n * k)
            return carry[:3], total / plan.seq_len  # the mean per-step loss over the batch

        self._train_step = train_step
        # The state's buffers are donated: each call updates the parameters in place.
        self._train_call = jax.jit(lambda state, batches: jax.lax.scan(train_step, state, batches), donate_argnums=0)
        self._predict = jax.jit(lambda trainable, non_trainable, x: model.stateless_call(trainable, non_trainable, x)[0])

    def train_steps(self, xs, ys, ws):
        self.state, losses = self._train_call(self.state, (xs, ys, ws))
        return losses

    def predict(self, x):
        return self._predict(self.state[0], self.state[1], x)

    def step_memory_bytes(self, batch_size: int) -> int:
        import jax

        b, t = batch_size, self._plan.seq_len
        shapes = ((b, t, 1), (b, t) if self._plan.per_step else (b,), (b,))  # x, y, w of one batch
        batch = tuple(jax.ShapeDtypeStruct(shape, "float32") for shape in shapes)
        compiled = jax.jit(self._train_step).lower(self.state, batch).compile()
        return int(compiled.memory_analysis().temp_size_in_bytes)

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
    """The TensorFlow path: one `tf.function` per batch, variables updated in place.

    The chunks are a Python loop, unrolled into the graph: fine for the optional backend, though a
    long sequence cut into many chunks compiles slowly.
    """

    def __init__(self, model, optimizer, task: TaskConfig, plan: ChunkPlan):
        import tensorflow as tf

        self.model = model
        self.optimizer = optimizer

        @tf.function
        def train_step(x, y, w):
            rnn_state = None
            if plan.forward_only:  # final-step target: the chunks without a loss, forward only
                _, rnn_state = model(x[:, : plan.forward_only], return_state=True)
            spans = plan.spans if plan.per_step else [(plan.forward_only, plan.seq_len)]
            total = 0.0
            for start, stop in spans:
                with tf.GradientTape() as tape:
                    p, new_state = model(x[:, start:stop], initial_state=rnn_state, return_state=True)
                    loss = weighted_loss(task, y[:, start:stop] if plan.per_step else y, p, w)
                grads = tape.gradient(loss, model.trainable_variables)
                optimizer.apply(grads, model.trainable_variables)
                rnn_state = [[tf.stop_gradient(s) for s in layer] for layer in new_state]
                total += loss * (stop - start)
            return total / (spans[-1][1] - spans[0][0])

        self._train_step = train_step
        self._predict = tf.function(lambda x: model(x))

    def train_steps(self, xs, ys, ws):
        return [float(self._train_step(x, y, w)) for x, y, w in zip(xs, ys, ws)]

    def predict(self, x):
        return self._predict(x)

    def step_memory_bytes(self, batch_size):
        return None  # TensorFlow reports no per-program memory figure

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
        observe=None) -> FitResult:
    """Train for `config.epochs`; record train loss and validation metrics before and after each epoch.

    Epoch 0 is the untrained model (its train loss is measured on the training set), as in the seed.
    With a `checkpoint`, training continues from it when one exists, and the state is saved every
    `checkpoint.every_steps` steps and at every epoch end; the result equals an uninterrupted run.
    `observe(epoch, step)`, if given, is called after every compiled call (every `steps_per_call`
    steps), e.g. to record a learning curve; its time counts in the epoch's time.
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
        for first, stop in call_bounds(progress.step, len(xs), config.steps_per_call, every):
            losses = trainer.train_steps(xs[first:stop], ys[first:stop], ws[first:stop])
            if not np.all(np.isfinite(losses)):
                bad = losses[~np.isfinite(losses)][0]
                raise NonFiniteLossError(f"the training loss became {bad} in epoch {epoch}, step {first + 1}")
            fault_point("train:chunk")
            progress.step_losses += losses.tolist()
            progress.step = stop
            bar.update(stop, [("loss", float(np.mean(progress.step_losses)))])  # the epoch's mean so far
            if observe:
                observe(epoch, stop)
            if every and stop % every == 0 and stop < len(xs):
                checkpoint.save(trainer.get_state(), progress)
        seconds = time.perf_counter() - t0
        val_metrics = trainer.evaluate(*val)
        progress.train_seconds += seconds
        train_loss = math.fsum(progress.step_losses) / len(xs)  # exact sum: the same however the calls fall
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
