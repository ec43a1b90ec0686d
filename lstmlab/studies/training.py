"""Training one model of a study's run, with a hook to measure it as it trains (the studies share it)."""

from pathlib import Path

from lstmlab import tasks
from lstmlab.config import RunConfig


def train_one(config: RunConfig, cache_dir: Path, observe=None):
    """Train the first model of `config` on its cached data: (trainer, data, FitResult).

    `observe(trainer, data, epoch, step)` is called once before training (epoch 0, step 0) and after
    every compiled call of training.
    """
    from lstmlab.core.data import cached_task, load_or_create, training_data
    from lstmlab.core.gate_init import initialize_gates
    from lstmlab.core.model import build_model
    from lstmlab.core.train import Trainer, fit

    data, _ = load_or_create(cached_task(config), cache_dir)
    task = tasks.of(config.task)
    model = build_model(config.models[0], seed=config.train.init_seed, task=task)
    initialize_gates(model, config.train, config.task.seq_len)
    trainer = Trainer(model, config.train, task)
    if observe:
        observe(trainer, data, 0, 0)
    fitted = fit(trainer, training_data(config, data), data["val"], verbose=False,
                 observe=(lambda epoch, step: observe(trainer, data, epoch, step)) if observe else None)
    return trainer, data, fitted
