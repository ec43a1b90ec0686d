import numpy as np
from keras import ops

from lstmlab.config import ModelConfig
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
