"""A model's flat state and its one-step map F against the model itself, for every cell and depth."""

import numpy as np
import pytest

from lstmlab import tasks
from lstmlab.analysis.state import model_step
from lstmlab.cells import NAMES
from lstmlab.config import ModelConfig, TaskConfig
from lstmlab.core.model import build_model


@pytest.mark.parametrize("cell", NAMES)
def test_stepping_the_flat_state_gives_the_models_own_states_and_prediction(cell, layers=2):
    task = tasks.of(TaskConfig(name="adding", seq_len=22))
    model = build_model(ModelConfig(cell=cell, layers=layers, units=3), seed=1, task=task)
    dynamics = model_step(model)
    widths = [w for rnn in model.rnns for w in rnn.cell.state_size]
    assert dynamics.size == sum(widths) and [p.size for p in dynamics.parts] == widths
    assert [p.layer for p in dynamics.parts] == [i + 1 for i, rnn in enumerate(model.rnns) for _ in rnn.cell.state_size]
    x = task.sample_inputs(4, np.random.default_rng(0))  # (4, 22, 2)
    states = dynamics.trajectories(x)  # (4, 23, d)
    prediction, final = model(x, return_state=True)
    expected = np.concatenate([np.asarray(a) for layer in final for a in layer], axis=1)  # (4, d)
    np.testing.assert_allclose(states[:, -1], expected, atol=1e-5)
    assert np.all(states[:, 0] == 0)
    # The read-out direction reads the prediction off the last state: y = readout · s + bias, here linear.
    np.testing.assert_allclose(states[:, -1] @ dynamics.readout + np.asarray(model.readout.bias.value)[0],
                               np.asarray(prediction), atol=1e-5)
