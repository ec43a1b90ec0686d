import numpy as np
from keras import ops

from lstmlab.config import ModelConfig, TaskConfig
from lstmlab.model import IntegrationModel, build_model


def test_outputs_probabilities_for_any_length():
    model = build_model(ModelConfig(layers=2, units=5), seed=0)
    for steps in (1, 25, 60):
        p = ops.convert_to_numpy(model(np.ones((4, steps, 1), np.float32)))
        assert p.shape == (4,) and np.all((p > 0) & (p < 1))


def test_parameter_count_matches_the_architecture():
    lstm = lambda n_in, u: 4 * (n_in * u + u * u + u)
    assert build_model(ModelConfig(1, 25), 0).count_params() == lstm(1, 25) + 26
    assert build_model(ModelConfig(2, 25), 0).count_params() == lstm(1, 25) + lstm(25, 25) + 26


def test_same_seed_same_weights_other_seed_other_weights():
    a, b, c = (build_model(ModelConfig(2, 8), seed) for seed in (3, 3, 4))
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    assert any(not np.array_equal(wa, wc) for wa, wc in zip(a.get_weights(), c.get_weights()) if wa.std() > 0)


def test_get_config_round_trips():
    model = IntegrationModel(layers=3, units=4)
    clone = IntegrationModel.from_config(model.get_config())
    assert (clone.num_layers, clone.units, len(clone.rnns)) == (3, 4, 3)


def test_state_carried_between_chunks_equals_one_pass():
    model = build_model(ModelConfig(2, 6), seed=1, task=TaskConfig(target="per-step"))
    x = np.random.default_rng(0).standard_normal((4, 12, 1)).astype(np.float32)
    whole, whole_state = model(x, return_state=True)
    first, state = model(x[:, :5], return_state=True)
    second, last_state = model(x[:, 5:], initial_state=state, return_state=True)
    np.testing.assert_allclose(np.concatenate([first, second], axis=1), whole, atol=1e-6)
    for a, b in zip(np.ravel(last_state), np.ravel(whole_state)):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_read_out_follows_the_task_variant():
    x = np.random.default_rng(0).standard_normal((3, 7, 1)).astype(np.float32) * 5
    per_step = ops.convert_to_numpy(build_model(ModelConfig(1, 4), 0, TaskConfig(target="per-step"))(x))
    assert per_step.shape == (3, 7) and np.all((per_step > 0) & (per_step < 1))
    regression = build_model(ModelConfig(1, 4), 0, TaskConfig(objective="regression"))
    assert regression.readout.activation.__name__ == "linear"
    assert ops.convert_to_numpy(regression(x)).shape == (3,)
    clone = IntegrationModel.from_config(regression.get_config())
    assert (clone.per_step, clone.activation) == (False, None)
