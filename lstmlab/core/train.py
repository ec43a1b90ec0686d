"""The trainer: one model, its optimizer and its training state on JAX, knowing nothing of the CLI.

`Trainer` holds the state (`steps.TrainState`: parameters, non-trainable variables, optimizer
variables) and runs the pure step functions of `steps.py` on it, their static arguments bound with
`functools.partial`: `train_steps` runs `steps_per_call` batches in one compiled `lax.scan`, so Python
and dispatch cost is paid once per call, not once per step; `predict` and `evaluate` run `eval_step`.
The trainer knows the task only through its loss, its per-step flag and its scoring, and the model's
state only through `model.initial_state`. The training loop over epochs is `fit.py`'s `fit`
(importable from here too).

Each step returns its loss and, computed inside the same compiled update, the L2 norm of the
gradient of each layer's weights (`Trainer.layer_names`: 'lstm_1', ..., 'readout'). A step with
several TBPTT updates (per-step targets) reports the mean of its updates' norms, weighted by their
windows' lengths as the step's loss is.
"""

from functools import partial

import keras
import numpy as np

from lstmlab.config import TrainConfig, steps_per_epoch
from lstmlab.core.batches import stack_batches
from lstmlab.core.fit import FitResult, call_bounds, fit  # noqa: F401  (the loop, importable from here as before)
from lstmlab.core.steps import (BATCH_AXIS, TrainState, eval_step, eval_window, step_without_norms, train_call,
                                train_step)
from lstmlab.core.tbptt import Truncation
from lstmlab.errors import UserError, WrongBackendError
from lstmlab.tasks import Metrics, Task


# Floats of activations one prediction call may hold (64 MiB): batch x steps x (gate blocks + 1) x units
# per layer. Longer inputs are predicted in windows of steps.
PREDICT_FLOATS = 2**24


def _cpu_devices(count: int) -> list:
    """The first `count` CPU devices, or a UserError saying how to get them."""
    import jax

    found = jax.devices("cpu")
    if len(found) < count:
        raise UserError(f"--devices {count} needs {count} CPU devices but JAX shows {len(found)}: import lstmlab "
                        f"before jax, or set XLA_FLAGS=--xla_force_host_platform_device_count={count}")
    return found[:count]


def require_jax() -> None:
    """Refuse, in one line and before any work, to train on a backend other than JAX, or on a JAX that
    cannot start the platform it was told to use (JAX_PLATFORMS=cuda on a machine without CUDA)."""
    if keras.backend.backend() != "jax":
        raise WrongBackendError(keras.backend.backend())
    import os

    import jax

    try:
        jax.devices()
    except Exception as err:  # noqa: BLE001 - RuntimeError or AssertionError, by platform and version
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise UserError(f"JAX cannot start on JAX_PLATFORMS={os.environ.get('JAX_PLATFORMS', '')!r} ({reason}): "
                        "unset JAX_PLATFORMS, or set it to cpu or to a platform this machine has") from None


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
    updates = config.epochs * steps_per_epoch(n_train, config.batch_size) * plan.updates_per_batch
    return keras.optimizers.schedules.CosineDecay(config.learning_rate, decay_steps=updates)


def data_parallel(call, devices: int):
    """`call` (a `steps.train_call`) split over `devices` CPU devices -> (the split call, where the state
    goes: replicated, where stacked batches go: split along their batch axis, axis 1).

    Every device holds the parameters and takes 1/devices of each batch; the psum in
    `steps.apply_update` makes every device apply the same update.
    """
    import jax

    P = jax.sharding.PartitionSpec
    mesh = jax.make_mesh((devices,), (BATCH_AXIS,), devices=_cpu_devices(devices))
    # Outputs: the losses and norms are the same on every device; each holds its share of the predictions.
    out_specs = (P(), (P(), P(), P(None, BATCH_AXIS)))
    call = jax.shard_map(call, mesh=mesh, in_specs=(P(), P(None, BATCH_AXIS)), out_specs=out_specs, check_vma=False)
    return call, jax.sharding.NamedSharding(mesh, P()), jax.sharding.NamedSharding(mesh, P(None, BATCH_AXIS))


class Trainer:
    """Holds one model, its optimizer and the training state; `train_steps` runs a stack of batches.

    Each batch is one update, or with truncated BPTT one update per window (chunk) that has a loss
    (see `tbptt.Truncation`). The state (`steps.TrainState`: parameters, non-trainable variables,
    optimizer variables) lives in `self.state` as JAX arrays while training; `sync_to_model` writes it
    back into the Keras model. `train_step` is the pure step of one batch with this trainer's model,
    task, TBPTT plan and optimizer bound: `train_step(state, (x, y, w))` -> (state, (loss, norms, predictions)).
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
        # The last call's training predictions before each update, (steps, B): final-step targets only.
        self.predictions = np.zeros((0, config.batch_size), np.float32)
        self.train_step = partial(train_step, model=model, task=task, plan=plan, optimizer=self.optimizer,
                                  layer_of=tuple(layer_of), devices=config.devices, clip_norm=config.clip_norm)
        call = partial(train_call, step=self.train_step)
        # Where the state and the stacked batches live: the default device, or over a mesh of devices.
        self._placement = self._batch_placement = None
        if config.devices > 1:
            call, self._placement, self._batch_placement = data_parallel(call, config.devices)
        self.load_from_model()  # once the placement is known
        # The state's buffers are donated: each call updates the parameters in place.
        self._train_call = jax.jit(call, donate_argnums=0)
        self._predict = jax.jit(partial(eval_step, model=model))
        self._predict_window = jax.jit(partial(eval_window, model=model))

    def train_steps(self, xs: np.ndarray, ys: np.ndarray, ws: np.ndarray) -> np.ndarray:
        """Batches xs (S, B, T, F), ys (S, B) or (S, B, T), ws (S, B) -> the S batch losses, parameters updated.

        The steps' gradient norms, (S, layers) in the order of `layer_names`, are left in `grad_norms`, and
        the predictions each step's update started from (final-step targets), (S, B), in `predictions`.
        """
        batches = (xs, ys, ws)
        if self._batch_placement is not None:
            import jax

            batches = jax.device_put(batches, self._batch_placement)
        self.state, (losses, norms, predictions) = self._train_call(self.state, batches)
        self.grad_norms = np.asarray(norms)
        self.predictions = np.asarray(predictions)
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
        step = jax.jit(partial(step_without_norms, step=self.train_step))
        return int(step.lower(self.state, batch).compile().memory_analysis().temp_size_in_bytes)

    def load_from_model(self):
        """Take the state from the Keras variables (at the start, and after a checkpoint is restored)."""
        import jax

        state = TrainState(*([v.value for v in variables] for variables in self._variable_groups()))
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
