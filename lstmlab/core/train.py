"""Training and evaluation of one model on JAX: Adam on the task's loss, knowing nothing of the CLI.

The engine is pure functions over explicit state, as in flax's examples: `train_step(state, batch)`
runs one batch (one update, or with truncated BPTT one per window or chunk of steps with a loss) and
`steps_per_call` of them run inside one compiled `lax.scan`, so Python and dispatch cost is paid once
per call, not once per step. "Window" and "chunk" in this file always mean a TBPTT update's share of a
sequence (`tbptt.py`: windows of the per-loss scheme, chunks of the chunked one). The trainer
knows the task only through its loss, its per-step flag and its scoring, and the model's state only
through `model.initial_state`.

Each step returns its loss and, computed inside the same compiled update, the L2 norm of the
gradient of each layer's weights (`Trainer.layer_names`: 'lstm_1', ..., 'readout'). A step with
several TBPTT updates (per-step targets) reports the mean of its updates' norms, weighted by their
windows' lengths as the step's loss is.
"""

import math
import sys
import time
from dataclasses import dataclass, field

import keras
import numpy as np

from lstmlab.config import TrainConfig
from lstmlab.core.batches import epoch_permutation, stack_batches
from lstmlab.core.checkpoint import Checkpoint, EpochRecord, Progress
from lstmlab.core.faults import fault_point
from lstmlab.core.tbptt import Truncation, empty_states, forward_states, replay_predictions
from lstmlab.errors import NonFiniteLossError, UserError, WrongBackendError
from lstmlab.tasks import Metrics, Task


# Floats of activations one prediction call may hold (64 MiB): batch x steps x (gate blocks + 1) x units
# per layer. Longer inputs are predicted in windows of steps.
PREDICT_FLOATS = 2**24
BATCH_AXIS = "batch"  # the mesh axis a batch is split along with TrainConfig.devices > 1


def _cpu_devices(count: int) -> list:
    """The first `count` CPU devices, or a UserError saying how to get them."""
    import jax

    found = jax.devices("cpu")
    if len(found) < count:
        raise UserError(f"--devices {count} needs {count} CPU devices but JAX shows {len(found)}: import lstmlab "
                        f"before jax, or set XLA_FLAGS=--xla_force_host_platform_device_count={count}")
    return found[:count]


def require_jax() -> None:
    """Refuse, in one line, to train on a backend other than JAX."""
    if keras.backend.backend() != "jax":
        raise WrongBackendError(keras.backend.backend())


def enable_compilation_cache(cache_dir) -> None:
    """Keep compiled XLA programs in `cache_dir`/xla, so a rerun skips compiling.

    They are native code that JAX loads without a check, so the folder is made private to the user
    (mode 0o700): whoever can write it can run code as the user (see the README's trust section).
    """
    import jax

    from lstmlab.core import workdir

    directory = workdir.claim(cache_dir, "cache", "--cache-dir") / "xla"
    directory.mkdir(mode=0o700, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", str(directory))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


def learning_rate(config: TrainConfig, n_train: int, plan: Truncation):
    """Adam's rate: config.learning_rate, or with lr_schedule "cosine" a keras CosineDecay from it to 0
    over the run's updates (epochs x batches per epoch x updates per batch, as `fit` makes them)."""
    if config.lr_schedule == "constant":
        return config.learning_rate
    updates = config.epochs * -(-n_train // config.batch_size) * plan.updates_per_batch
    return keras.optimizers.schedules.CosineDecay(config.learning_rate, decay_steps=updates)


class Trainer:
    """Holds one model, its optimizer and the training state; `train_steps` runs a stack of batches.

    Each batch is one update, or with truncated BPTT one update per window (chunk) that has a loss
    (see `tbptt.Truncation`). The state (parameters, non-trainable variables, optimizer variables) lives
    in `self.state` as JAX arrays while training; `sync_to_model` writes it back into the Keras model.
    """

    def __init__(self, model: keras.Model, config: TrainConfig, task: Task):
        import jax

        require_jax()
        self.model = model
        self.config = config
        self.task = task
        self.plan = plan = Truncation.create(task.config.seq_len, config.tbptt, per_step=task.per_step,
                                             every=config.tbptt_every, scheme=config.tbptt_scheme)
        self.optimizer = keras.optimizers.Adam(learning_rate=learning_rate(config, task.config.n_train, plan))
        self.optimizer.build(model.trainable_variables)
        # Gradient norms per layer: the trainable variables grouped by their layer ('lstm_1', 'readout').
        self.layer_names, layer_of = _layer_groups(model)
        self.grad_norms = np.zeros((0, len(self.layer_names)), np.float32)  # (steps, layers) of the last call
        self._placement = None  # where the state lives: the default device, or replicated over a mesh
        self._batch_placement = None  # where stacked batches go: the default device, or split over the mesh

        def chunk_loss(trainable, non_trainable, x, y, w, rnn_state):
            (p, rnn_state), non_trainable = model.stateless_call(
                trainable, non_trainable, x, initial_state=rnn_state, return_state=True)
            return task.loss(y, p, w), (non_trainable, rnn_state)

        # Differentiates with respect to the parameters only: the incoming state is a constant,
        # which is what stops the gradient between chunks.
        grad_fn = jax.value_and_grad(chunk_loss, has_aux=True)
        optimizer = self.optimizer

        def apply(trainable, opt_vars, loss, grads, w):
            """One Adam step from the batch's loss and gradients (this device's share of them)."""
            if config.devices > 1:  # this device's share of the batch: weigh it into the whole batch's mean
                share = jax.numpy.sum(w) / jax.lax.psum(jax.numpy.sum(w), BATCH_AXIS)
                loss, grads = jax.lax.psum((loss * share, jax.tree.map(lambda g: g * share, grads)), BATCH_AXIS)
            norms = _layer_norms(grads, layer_of, len(self.layer_names))
            trainable, opt_vars = optimizer.stateless_apply(opt_vars, grads, trainable)
            return trainable, opt_vars, (loss, norms)

        def update(carry, chunk):
            """One TBPTT update: carry (trainable, non_trainable, opt_vars, rnn_state), chunk (x, y, w)."""
            trainable, non_trainable, opt_vars, rnn_state = carry
            rnn_state = jax.lax.stop_gradient(rnn_state)  # for any outer differentiation (the tests) too
            (loss, (non_trainable, rnn_state)), grads = grad_fn(trainable, non_trainable, *chunk, rnn_state)
            trainable, opt_vars, outputs = apply(trainable, opt_vars, loss, grads, chunk[2])
            return (trainable, non_trainable, opt_vars, rnn_state), outputs

        def window_loss(trainable, non_trainable, x, y, w, states, start, size):
            """Per-loss TBPTT: the mean loss of steps start .. start+size-1, each through its last k2 steps."""
            p, non_trainable = replay_predictions(model, trainable, non_trainable, x, states, start, size, plan.depth)
            return task.loss(jax.lax.dynamic_slice_in_dim(y, start, size, axis=1), p, w), non_trainable

        window_grad = jax.value_and_grad(window_loss, has_aux=True)

        def window_update(carry, x, y, w, start, size):
            """Per-loss TBPTT, one window: run it forward keeping its states, then one update from its losses."""
            trainable, non_trainable, opt_vars, states = carry
            states = forward_states(model, trainable, non_trainable, x, states, start, size)  # current parameters
            (loss, non_trainable), grads = window_grad(trainable, non_trainable, x, y, w, states, start, size)
            trainable, opt_vars, outputs = apply(trainable, opt_vars, loss, grads, w)
            return (trainable, non_trainable, opt_vars, states), outputs

        def per_loss_step(trainable, non_trainable, opt_vars, x, y, w):
            """Per-step targets under per-loss TBPTT: one update per window of `plan.every` steps."""
            t, k = plan.seq_len, plan.every
            carry = (trainable, non_trainable, opt_vars, empty_states(model, x.shape[0], t))  # leaves (T + 1, B, u)
            n = t // k
            carry, (losses, norms) = jax.lax.scan(lambda c, i: window_update(c, x, y, w, i * k, k), carry,
                                                  jax.numpy.arange(n))
            total, norm_total = losses.sum() * k, norms.sum(axis=0) * k
            if n * k < t:  # the last, shorter window
                carry, (loss, norm) = window_update(carry, x, y, w, n * k, t - n * k)
                total += loss * (t - n * k)
                norm_total += norm * (t - n * k)
            return carry[:3], (total / t, norm_total / t)

        def train_step(state, batch):
            """One batch -> (state, (loss, per-layer gradient norms))."""
            trainable, non_trainable, opt_vars = state
            x, y, w = batch  # (B, T, F), (B,) or (B, T), (B,)
            if plan.per_step and plan.scheme == "per-loss" and not plan.full:
                return per_loss_step(trainable, non_trainable, opt_vars, x, y, w)
            rnn_state = model.initial_state(x.shape[0])
            if plan.forward_only:  # final-step target: the chunks without a loss, forward only
                (_, rnn_state), non_trainable = model.stateless_call(
                    trainable, non_trainable, x[:, : plan.forward_only], initial_state=rnn_state, return_state=True)
            carry = (trainable, non_trainable, opt_vars, rnn_state)
            if not plan.per_step:
                carry, outputs = update(carry, (x[:, plan.forward_only:], y, w))
                return carry[:3], outputs
            # Per-step targets, chunked: the whole chunks as one scan (B, n*k, F) -> (n, B, k, F), then the remainder.
            n, k = plan.seq_len // plan.every, plan.every
            xs = jax.numpy.swapaxes(x[:, : n * k].reshape(x.shape[0], n, k, x.shape[-1]), 0, 1)  # (n, B, k, F)
            ys = jax.numpy.swapaxes(y[:, : n * k].reshape(y.shape[0], n, k), 0, 1)  # (n, B, k)
            carry, (losses, norms) = jax.lax.scan(lambda c, chunk: update(c, (*chunk, w)), carry, (xs, ys))
            total, norm_total = losses.sum() * k, norms.sum(axis=0) * k
            if n * k < plan.seq_len:
                carry, (loss, norm) = update(carry, (x[:, n * k:], y[:, n * k:], w))
                total += loss * (plan.seq_len - n * k)
                norm_total += norm * (plan.seq_len - n * k)
            # The mean per-step loss over the batch; the updates' gradient norms weighted the same way.
            return carry[:3], (total / plan.seq_len, norm_total / plan.seq_len)

        def loss_step(state, batch):
            """`train_step` returning the loss alone."""
            state, (loss, _) = train_step(state, batch)
            return state, loss

        self._train_step = loss_step
        train_call = lambda state, batches: jax.lax.scan(train_step, state, batches)  # noqa: E731
        if config.devices > 1:
            # Data parallel: every device holds the parameters and takes 1/devices of each batch (axis 1
            # of the stacked batches); the psum in `update` makes every device apply the same update.
            P = jax.sharding.PartitionSpec
            mesh = jax.make_mesh((config.devices,), (BATCH_AXIS,), devices=_cpu_devices(config.devices))
            train_call = jax.shard_map(train_call, mesh=mesh, in_specs=(P(), P(None, BATCH_AXIS)),
                                       out_specs=(P(), P()), check_vma=False)
            self._placement = jax.sharding.NamedSharding(mesh, P())  # replicated on every device
            self._batch_placement = jax.sharding.NamedSharding(mesh, P(None, BATCH_AXIS))
        self.load_from_model()  # once the placement is known
        # The state's buffers are donated: each call updates the parameters in place.
        self._train_call = jax.jit(train_call, donate_argnums=0)
        self._predict = jax.jit(lambda trainable, non_trainable, x: model.stateless_call(trainable, non_trainable, x)[0])
        self._predict_window = jax.jit(lambda trainable, non_trainable, x, state: model.stateless_call(
            trainable, non_trainable, x, initial_state=state, return_state=True)[0])

    def train_steps(self, xs: np.ndarray, ys: np.ndarray, ws: np.ndarray) -> np.ndarray:
        """Batches xs (S, B, T, F), ys (S, B) or (S, B, T), ws (S, B) -> the S batch losses, parameters updated.

        The steps' gradient norms, (S, layers) in the order of `layer_names`, are left in `grad_norms`.
        """
        batches = (xs, ys, ws)
        if self._batch_placement is not None:
            import jax

            batches = jax.device_put(batches, self._batch_placement)
        self.state, (losses, norms) = self._train_call(self.state, batches)
        self.grad_norms = np.asarray(norms)
        return np.asarray(losses)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """(n, T) or (n, T, F) sequences -> (n,) or (n, T) predictions.

        Memory stays bounded whatever the data: batches of at most `eval_batch_size` rows (fewer for
        less data), and sequences longer than fits PREDICT_FLOATS run in windows of steps, the state
        carried from one window to the next (the same recurrence, so the same predictions).
        """
        batch = min(self.config.eval_batch_size, len(x))
        xs, _, _ = stack_batches(x, np.zeros(len(x), np.float32), batch)  # (S, B, T, F)
        steps, width = xs.shape[2], xs.shape[3]
        per_step = batch * len(self.model.rnns) * (self.model.rnns[0].cell.gate_blocks + 1) * self.model.units \
            + batch * width
        window = max(1, PREDICT_FLOATS // per_step)
        if window >= steps:
            outputs = [np.asarray(self._predict(self.state[0], self.state[1], xb)) for xb in xs]
        else:
            outputs = [self._predict_in_windows(xb, window) for xb in xs]
        return np.concatenate(outputs)[: len(x)]

    def _predict_in_windows(self, xb: np.ndarray, window: int) -> np.ndarray:
        """One batch (B, T, F) run `window` steps at a time -> (B,) or (B, T) predictions."""
        state, parts = self.model.initial_state(len(xb)), []
        for start in range(0, xb.shape[1], window):
            p, state = self._predict_window(self.state[0], self.state[1], xb[:, start:start + window], state)
            parts.append(np.asarray(p))
        return np.concatenate(parts, axis=1) if self.task.per_step else parts[-1]

    def evaluate(self, x: np.ndarray, y: np.ndarray) -> Metrics:
        return self.task.score(self.predict(x), y)

    def step_memory_bytes(self) -> int:
        """Working memory XLA allocates for one train step (activations kept for the backward pass,
        gradients, temporaries), beyond its inputs and outputs; measured for one device."""
        import jax

        if self.config.devices > 1:
            raise NotImplementedError("step memory is measured for --devices 1 only")

        b, t, f = self.config.batch_size, self.plan.seq_len, self.task.input_width
        shapes = ((b, t, f), (b, t) if self.plan.per_step else (b,), (b,))  # x, y, w of one batch
        batch = tuple(jax.ShapeDtypeStruct(shape, "float32") for shape in shapes)
        compiled = jax.jit(self._train_step).lower(self.state, batch).compile()
        return int(compiled.memory_analysis().temp_size_in_bytes)

    def load_from_model(self):
        """Take the state from the Keras variables (at the start, and after a checkpoint is restored)."""
        import jax

        state = tuple([v.value for v in variables] for variables in self._variable_groups())
        self.state = state if self._placement is None else jax.device_put(state, self._placement)

    def sync_to_model(self):
        """Write the trained values back into the Keras model's variables (for saving)."""
        for variables, values in zip(self._variable_groups(), self.state):
            for variable, value in zip(variables, values):
                variable.assign(value)

    def get_state(self) -> list[np.ndarray]:
        """Parameters, non-trainable variables and optimizer state as NumPy arrays (a checkpoint)."""
        return [np.array(a) for group in self.state for a in group]

    def set_state(self, arrays: list[np.ndarray]) -> None:
        """Restore what `get_state` returned."""
        variables = [v for group in self._variable_groups() for v in group]
        if len(arrays) != len(variables) or any(a.shape != tuple(v.shape) for a, v in zip(arrays, variables)):
            raise ValueError("the saved state does not fit this model and optimizer")
        for variable, value in zip(variables, arrays):
            variable.assign(value)
        self.load_from_model()

    def _variable_groups(self) -> tuple[list, list, list]:
        """Everything a checkpoint holds, in its order: parameters, non-trainable variables, optimizer state."""
        return self.model.trainable_variables, self.model.non_trainable_variables, self.optimizer.variables


def _layer_groups(model: keras.Model) -> tuple[tuple[str, ...], list[int]]:
    """(layer names, the layer index of each trainable variable): a variable's layer is the first part
    of its path inside the model, 'lstm-2layer/lstm_1/cell/kernel' -> 'lstm_1'."""
    names, layer_of = [], []
    for variable in model.trainable_variables:
        parts = variable.path.split("/")
        name = parts[1] if len(parts) > 1 and parts[0] == model.name else parts[0]
        if name not in names:
            names.append(name)
        layer_of.append(names.index(name))
    return tuple(names), layer_of


def _layer_norms(grads: list, layer_of: list[int], layers: int):
    """The global L2 norm of each layer's gradients: (layers,), inside the compiled update."""
    import jax.numpy as jnp

    squares = [None] * layers
    for grad, layer in zip(grads, layer_of):
        square = jnp.sum(jnp.square(grad))
        squares[layer] = square if squares[layer] is None else squares[layer] + square
    return jnp.sqrt(jnp.stack(squares))


@dataclass
class FitResult:
    history: list[EpochRecord] = field(default_factory=list)
    train_seconds: float = 0.0
    step_losses: list[float] = field(default_factory=list)  # every train step's loss, all epochs in order


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
        observe=None, callbacks=None) -> FitResult:
    """Train for `config.epochs`; record train loss and validation metrics before and after each epoch.

    Epoch 0 is the untrained model (its train loss is measured on the training set), as in the seed.
    With a `checkpoint`, training continues from it when one exists, and the state is saved every
    `checkpoint.every` steps and at every epoch end; the result equals an uninterrupted run,
    every step's loss (`FitResult.step_losses`) included: the checkpoint keeps the finished epochs'
    step losses too. `observe(epoch, step)`, if given, is called after every compiled call (every
    `steps_per_call` steps), e.g. to record a learning curve; its time counts in the epoch's time.

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
    """
    config = trainer.config
    x_train, y_train = train
    steps = -(-len(x_train) // config.batch_size)  # per epoch, as stack_batches makes them
    saved = checkpoint.load() if checkpoint else None
    if saved:
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
        step_losses = done.tolist()
        _say(f"resuming from {checkpoint.path}: epoch {progress.epoch + 1}, step {progress.step}", verbose)
    else:
        start_loss = trainer.evaluate(x_train, y_train).loss
        val_metrics = trainer.evaluate(*val)
        progress = Progress(history=[EpochRecord(0, start_loss, val_metrics.loss, val_metrics.accuracy, 0.0)])
        step_losses = []  # of the finished epochs; progress.step_losses holds the current epoch's

    def save():
        checkpoint.save(trainer.get_state() + [np.array(step_losses, np.float64)], progress)

    every = checkpoint.every if checkpoint else 0
    hooks = _callback_list(callbacks, trainer, steps, verbose)
    if hooks:
        trainer.model.stop_training = False
        _reload_from_model(trainer)  # the model keeps its own arrays: the train calls consume the state's
        hooks.on_train_begin()
    for epoch in range(progress.epoch + 1, config.epochs + 1):
        if hooks:
            hooks.on_epoch_begin(epoch - 1)
        t0 = time.perf_counter()
        order = epoch_permutation(len(x_train), config.init_seed, epoch)
        xs, ys, ws = stack_batches(x_train, y_train, config.batch_size, order)
        # The bar redraws itself on a terminal; in a log file the epoch summary line says enough.
        bar = keras.utils.Progbar(len(xs), verbose=1 if verbose and sys.stdout.isatty() else 0, unit_name="step")
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
                _report_steps(hooks, trainer, (epoch - 1) * steps + np.arange(first + 1, stop + 1), losses)
                hooks.on_train_batch_end(stop - 1, {"loss": math.fsum(losses.tolist()) / len(losses)})
            if observe:
                observe(epoch, stop)
            if every and stop % every == 0 and stop < len(xs):
                save()
        seconds = time.perf_counter() - t0
        val_metrics = trainer.evaluate(*val)
        progress.train_seconds += seconds
        train_loss = math.fsum(progress.step_losses) / len(xs)  # exact sum: the same however the calls fall
        progress.history.append(EpochRecord(epoch, train_loss, val_metrics.loss, val_metrics.accuracy, seconds))
        step_losses += progress.step_losses
        progress.epoch, progress.step, progress.step_losses = epoch, 0, []
        if hooks:
            trainer.sync_to_model()
            hooks.on_epoch_end(epoch - 1, {"loss": train_loss, "val_loss": val_metrics.loss,
                                           "val_accuracy": val_metrics.accuracy})
            _reload_from_model(trainer)
        if checkpoint:
            save()
        _say(f"epoch {epoch}: train loss {train_loss:.4f}, val loss {val_metrics.loss:.4f}, "
             f"val accuracy {val_metrics.accuracy:.4f}", verbose)
        if hooks and trainer.model.stop_training:
            _say(f"stopped after epoch {epoch} by a callback", verbose)
            break
    if hooks:
        trainer.sync_to_model()
        hooks.on_train_end()
        _reload_from_model(trainer)
    trainer.sync_to_model()
    return FitResult(progress.history, progress.train_seconds, step_losses)


def _callback_list(callbacks, trainer: Trainer, steps: int, verbose: bool):
    """The callbacks as a keras CallbackList with the model and params set, or None for none."""
    if not callbacks:
        return None
    if isinstance(callbacks, keras.callbacks.CallbackList):
        callbacks = callbacks.callbacks
    return keras.callbacks.CallbackList(list(callbacks), model=trainer.model, epochs=trainer.config.epochs,
                                        steps=steps, verbose=1 if verbose else 0)


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
        print(message, flush=True)
