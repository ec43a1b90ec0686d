"""--clip-norm: global gradient-norm clipping before the optimizer's update (core/steps.py's apply_update)."""

import numpy as np
import pytest

from lstmlab.config import ConfigError, TrainConfig


def update(grads, clip_norm):
    import keras

    from lstmlab.core.steps import apply_update

    weights = [keras.Variable(np.zeros(2, np.float32)), keras.Variable(np.zeros(1, np.float32))]
    optimizer = keras.optimizers.SGD(learning_rate=1.0)
    optimizer.build(weights)
    trainable = [w.value for w in weights]
    grads = [np.asarray(g, np.float32) for g in grads]
    new, _, (_, norms) = apply_update(trainable, [v.value for v in optimizer.variables], 0.0, grads, None,
                                      optimizer=optimizer, layer_of=(0, 1), devices=1, clip_norm=clip_norm)
    return [np.asarray(w) for w in new], np.asarray(norms)


def test_a_gradient_longer_than_c_is_scaled_to_norm_c_and_a_shorter_one_is_left_alone():
    grads = [[3.0, 0.0], [4.0]]  # global norm 5
    clipped, norms = update(grads, 1.0)
    np.testing.assert_allclose(np.concatenate(clipped), [-0.6, 0.0, -0.8], rtol=1e-6)
    np.testing.assert_allclose(norms, [3.0, 4.0])  # the norms reported are the unclipped ones
    for off in (0.0, 5.5):  # off, or a bound the gradient is within
        unclipped, _ = update(grads, off)
        np.testing.assert_array_equal(np.concatenate(unclipped), [-3.0, 0.0, -4.0])


def test_clipping_reaches_a_trainers_updates():
    from lstmlab import tasks
    from lstmlab.config import ModelConfig, TaskConfig
    from lstmlab.core.batches import stack_batches
    from lstmlab.core.model import build_model
    from lstmlab.core.train import Trainer

    task = tasks.of(TaskConfig(name="adding", seq_len=22, n_train=64, n_val=32, n_test=32))
    batches = stack_batches(*task.generate()["train"], 32)
    losses = {}
    for clip in (0.0, 1e-4, 1e3):
        train = TrainConfig(clip_norm=clip, learning_rate=0.01)
        trainer = Trainer(build_model(ModelConfig("lstm", 1, 4), seed=0, task=task), train, task)
        losses[clip] = trainer.train_steps(*batches)
    assert losses[0.0][1] != losses[1e-4][1]  # the second step sees the clipped first update
    np.testing.assert_array_equal(losses[0.0], losses[1e3])  # never above 1000: unchanged


def test_a_negative_bound_is_refused():
    with pytest.raises(ConfigError, match="clip_norm must be >= 0"):
        TrainConfig(clip_norm=-1.0)
