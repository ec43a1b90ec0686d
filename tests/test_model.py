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


def _grads(model, x, y, truncate):
    import jax

    trainable = [v.value for v in model.trainable_variables]

    def loss(trainable, x):
        p, _ = model.stateless_call(trainable, [], x, truncate=truncate)
        return ops.mean((p - y) ** 2)

    return jax.grad(loss, argnums=(0, 1))(trainable, x)


def test_tbptt_with_k_at_least_the_length_is_exactly_full_bptt():
    model = build_model(ModelConfig(2, 6), seed=1)
    x = np.random.default_rng(0).standard_normal((4, 12, 1)).astype(np.float32)
    y = np.ones(4, np.float32)
    full_w, full_x = _grads(model, x, y, None)
    for k in (12, 50):
        w, gx = _grads(model, x, y, k)
        for a, b in zip(w, full_w):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
        np.testing.assert_array_equal(np.asarray(gx), np.asarray(full_x))


def test_tbptt_stops_the_gradient_before_the_last_chunk():
    model = build_model(ModelConfig(2, 6), seed=1)
    x = np.random.default_rng(0).standard_normal((4, 12, 1)).astype(np.float32)
    y = np.ones(4, np.float32)
    for k, last_chunk in ((5, 10), (4, 8), (1, 11)):  # chunks from the start: the last one begins there
        w, gx = _grads(model, x, y, k)
        gx = np.asarray(gx)
        assert not gx[:, :last_chunk].any(), k
        assert np.abs(gx[:, last_chunk:]).min() > 0, k
        assert all(np.abs(np.asarray(g)).max() > 0 for g in w)
    same_forward = ops.convert_to_numpy(model(x, truncate=5)), ops.convert_to_numpy(model(x))
    np.testing.assert_array_equal(*same_forward)
