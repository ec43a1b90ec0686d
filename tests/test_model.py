import numpy as np
import pytest
from keras import ops

from lstmlab import cells, tasks
from lstmlab.config import ModelConfig, TaskConfig
from lstmlab.core.model import SequenceModel, build_model

INTEGRATION = tasks.of(TaskConfig())


GATES = {"lstm": 4, "gru": 3, "rnn": 1}  # blocks of u in each weight matrix


def _params(cell: str, n_in: int, u: int) -> int:
    gates = GATES[cell]
    bias = 2 * gates * u if cell == "gru" else gates * u  # GRU: input and recurrent bias rows
    return gates * (n_in * u + u * u) + bias


@pytest.mark.parametrize("cell", cells.NAMES)
def test_outputs_probabilities_for_any_length(cell):
    model = build_model(ModelConfig(cell=cell, layers=2, units=5), seed=0, task=INTEGRATION)
    for steps in (1, 25, 60):
        p = ops.convert_to_numpy(model(np.ones((4, steps, 1), np.float32)))
        assert p.shape == (4,) and np.all((p > 0) & (p < 1))


@pytest.mark.parametrize("cell", GATES)
def test_parameter_count_matches_the_architecture(cell):
    assert build_model(ModelConfig(cell, 1, 25), 0, INTEGRATION).count_params() == _params(cell, 1, 25) + 26
    two = build_model(ModelConfig(cell, 2, 25), 0, INTEGRATION).count_params()
    assert two == _params(cell, 1, 25) + _params(cell, 25, 25) + 26
    adding = tasks.of(TaskConfig(name="adding"))  # two input channels
    assert build_model(ModelConfig(cell, 1, 25), 0, adding).count_params() == _params(cell, 2, 25) + 26


def test_same_seed_same_weights_other_seed_other_weights():
    a, b, c = (build_model(ModelConfig("lstm", 2, 8), seed, INTEGRATION) for seed in (3, 3, 4))
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    assert any(not np.array_equal(wa, wc) for wa, wc in zip(a.get_weights(), c.get_weights()) if wa.std() > 0)


def test_get_config_round_trips():
    model = SequenceModel(cell="gru", layers=3, units=4)
    clone = SequenceModel.from_config(model.get_config())
    assert (clone.cell_name, clone.num_layers, clone.units, len(clone.rnns)) == ("gru", 3, 4, 3)


@pytest.mark.parametrize("cell", cells.NAMES)
def test_state_carried_between_chunks_equals_one_pass(cell):
    model = build_model(ModelConfig(cell, 2, 6), seed=1, task=tasks.of(TaskConfig(target="per-step")))
    x = np.random.default_rng(0).standard_normal((4, 12, 1)).astype(np.float32)
    whole, whole_state = model(x, return_state=True)
    first, state = model(x[:, :5], return_state=True)
    second, last_state = model(x[:, 5:], initial_state=state, return_state=True)
    np.testing.assert_allclose(np.concatenate([first, second], axis=1), whole, atol=1e-6)
    assert [len(s) for s in whole_state] == [len(cells.get(cell)(6).state_size)] * 2
    for a, b in zip(np.ravel(last_state), np.ravel(whole_state)):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_initial_state_has_one_zero_array_per_state_of_each_layer():
    model = build_model(ModelConfig("lstm", 2, 3), 0, INTEGRATION)
    shapes = [[tuple(s.shape) for s in layer] for layer in model.initial_state(7)]
    assert shapes == [[(7, 3), (7, 3)], [(7, 3), (7, 3)]]
    gru = build_model(ModelConfig("gru", 1, 3), 0, INTEGRATION)
    assert [[tuple(s.shape) for s in layer] for layer in gru.initial_state(7)] == [[(7, 3)]]


def test_read_out_follows_the_task_variant():
    x = np.random.default_rng(0).standard_normal((3, 7, 1)).astype(np.float32) * 5
    per_step = ops.convert_to_numpy(build_model(ModelConfig("lstm", 1, 4), 0, tasks.of(TaskConfig(target="per-step")))(x))
    assert per_step.shape == (3, 7) and np.all((per_step > 0) & (per_step < 1))
    regression = build_model(ModelConfig("lstm", 1, 4), 0, tasks.of(TaskConfig(objective="regression")))
    assert regression.readout.activation.__name__ == "linear"
    assert ops.convert_to_numpy(regression(x)).shape == (3,)
    clone = SequenceModel.from_config(regression.get_config())
    assert (clone.per_step, clone.activation) == (False, None)


def test_a_cell_class_is_accepted_and_named_for_get_config():
    from lstmlab.cells.gru import GRUCell
    from lstmlab.cells.rnn import RNN

    assert SequenceModel(GRUCell, 1, 4).cell_name == "gru"  # a registered class: its name

    class Plugin(GRUCell):  # unregistered: a "module:Class" spec, run by the generic RNN
        kind = "plugin"

    model = SequenceModel(Plugin, 2, 4, seed=0)
    assert model.cell_name.endswith(":test_a_cell_class_is_accepted_and_named_for_get_config.<locals>.Plugin")
    assert type(model.rnns[0]) is RNN and type(model.rnns[0].cell) is Plugin
    assert ops.convert_to_numpy(model(np.ones((2, 5, 1), np.float32))).shape == (2,)


def test_a_failed_predict_or_evaluate_leaves_the_model_usable():
    # Keras's JAX trainer detaches the weights while it predicts; a wrong-shaped input used to leave
    # them detached, and the next call failed inside Keras ("'NoneType' object is not callable").
    model = build_model(ModelConfig(units=4), seed=0, task=INTEGRATION)
    model.compile(loss="binary_crossentropy")
    x, y = np.ones((8, 5, 1), np.float32), np.ones(8, np.float32)
    before = model.predict(x, verbose=0)
    for bad in (x[..., 0], np.ones((8, 5, 3), np.float32)):  # no feature axis; three features, not one
        with pytest.raises(Exception):
            model.predict(bad, verbose=0)
        with pytest.raises(Exception):
            model.evaluate(bad, y, verbose=0)
        np.testing.assert_array_equal(model.predict(x, verbose=0), before)
    assert np.isfinite(model.evaluate(x, y, verbose=0))
