"""lstmlab.layers as drop-in Keras layers: Keras's own layer-test harness, the same numbers as
keras.layers.LSTM / GRU / SimpleRNN for every argument lstmlab supports, a clear refusal for the ones
it does not, stacking in keras.Sequential, functional models, saving, and float64.

Run as a script (`python tests/test_layers.py float64`, with JAX_ENABLE_X64=1) it runs the float64
checks; `test_float64_in_a_subprocess` does so, since enabling x64 is global to a JAX process.
"""

import lstmlab  # noqa: F401  (first: picks the JAX backend unless KERAS_BACKEND is set)
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
from keras import ops
from keras.src import testing

from lstmlab.layers import GRU, LSTM, RNN, SimpleRNN

LAYERS = {"lstm": LSTM, "gru": GRU, "rnn": SimpleRNN}
KERAS = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU, "rnn": keras.layers.SimpleRNN}
STATES = {"lstm": 2, "gru": 1, "rnn": 1}
B, T, F, U = 3, 5, 4, 3  # batch, steps, features, units


class Harness(testing.TestCase):
    """Keras's TestCase, to call its run_layer_test from pytest."""

    def runTest(self):
        pass


def sequence(steps=T, seed=0, batch=B):
    return np.random.default_rng(seed).standard_normal((batch, steps, F)).astype(np.float32)  # (B, T, F)


def numpy(tree):
    return [ops.convert_to_numpy(t) for t in (tree if isinstance(tree, (list, tuple)) else [tree])]


# --- Keras's own layer test ---

HARNESS_CASES = [  # init kwargs (besides units), and what run_layer_test then expects
    ({}, "last"),
    ({"return_sequences": True, "go_backwards": True, "kernel_regularizer": "l2", "recurrent_regularizer": "l2",
      "bias_regularizer": "l1"}, "sequence"),
    ({"return_state": True, "unroll": True}, "state"),
    ({"stateful": True, "use_bias": False}, "last"),
]


@pytest.mark.parametrize("kwargs, returns", HARNESS_CASES, ids=["plain", "sequences-backwards-regularized",
                                                              "state-unrolled", "stateful-no-bias"])
@pytest.mark.parametrize("name", LAYERS)
def test_keras_run_layer_test(name, kwargs, returns):
    # Builds, calls symbolically and eagerly, serializes, trains one step with fit, and runs mixed_float16.
    shape = {"last": (B, U), "sequence": (B, T, U)}.get(returns, None)
    if returns == "state":
        shape = tuple([(B, U)] * (1 + STATES[name]))
    Harness().run_layer_test(
        LAYERS[name], init_kwargs={"units": U, **kwargs}, input_shape=(B, T, F), expected_output_shape=shape,
        expected_num_trainable_weights=3 - (not kwargs.get("use_bias", True)),
        expected_num_non_trainable_weights=STATES[name] if kwargs.get("stateful") else 0,
        expected_num_losses=3 if "kernel_regularizer" in kwargs else 0, supports_masking=True)


# --- the same numbers as keras.layers, argument by argument ---

GOLDEN_CASES = {  # id -> (layer kwargs, call kwargs); every supported Keras argument appears
    "defaults": ({}, {}),
    "sequences": ({"return_sequences": True}, {}),
    "state": ({"return_sequences": True, "return_state": True}, {}),
    "backwards": ({"return_sequences": True, "go_backwards": True, "return_state": True}, {}),
    "unroll": ({"return_sequences": True, "unroll": True}, {}),
    "no-bias": ({"use_bias": False, "return_sequences": True}, {}),
    "initializers": ({"kernel_initializer": keras.initializers.RandomNormal(seed=1),
                      "recurrent_initializer": keras.initializers.Orthogonal(seed=2),
                      "bias_initializer": keras.initializers.RandomUniform(seed=3), "return_sequences": True}, {}),
    "initial-state": ({"return_state": True}, {"initial_state": "random"}),
    "mask": ({"return_sequences": True, "return_state": True}, {"mask": "random"}),
    "mask-backwards": ({"return_sequences": True, "go_backwards": True}, {"mask": "random"}),
    "mask-zero-output": ({"return_sequences": True, "zero_output_for_mask": True}, {"mask": "random"}),
    "mask-unroll": ({"return_sequences": True, "unroll": True}, {"mask": "prefix"}),
    "stateful": ({"stateful": True, "return_sequences": True}, {}),
}


def _call_kwargs(name, call, rng):
    out = {}
    if call.get("initial_state") == "random":
        out["initial_state"] = [rng.standard_normal((B, U)).astype(np.float32) for _ in range(STATES[name])]
    if call.get("mask") == "random":
        mask = rng.random((B, T)) > 0.3
        mask[:, 0] = True  # Keras's unrolled loop and its scan differ on a first masked step; the scan's is ours
        out["mask"] = mask
    if call.get("mask") == "prefix":  # right padding: Keras's unrolled loop repeats the previous output
        out["mask"] = np.arange(T)[None] < np.array([[T], [2], [4]])
    return out


@pytest.mark.parametrize("case", GOLDEN_CASES)
@pytest.mark.parametrize("name", LAYERS)
def test_equals_the_keras_layer_for_each_supported_argument(name, case):
    kwargs, call = GOLDEN_CASES[case]
    rng = np.random.default_rng(1)
    x = sequence()
    ours, theirs = LAYERS[name](U, **kwargs), KERAS[name](U, **kwargs)
    call_kwargs = _call_kwargs(name, call, rng)
    ours.build(x.shape)
    theirs.build(x.shape)
    if case == "initializers":  # the initializers themselves must give Keras's initial weights
        for a, b in zip(ours.get_weights(), theirs.get_weights()):
            np.testing.assert_allclose(a, b, atol=1e-6)
    else:
        weights = [rng.standard_normal(w.shape).astype(np.float32) * 0.5 for w in ours.trainable_weights]
        for layer in (ours, theirs):
            for variable, value in zip(layer.trainable_weights, weights):
                variable.assign(value)
    calls = 2 if kwargs.get("stateful") else 1  # stateful: the second call starts from the first's states
    for _ in range(calls):
        got, expected = numpy(ours(x, **call_kwargs)), numpy(theirs(x, **call_kwargs))
        assert len(got) == len(expected)
        for a, b in zip(got, expected):
            np.testing.assert_allclose(a, b, atol=2e-6)


@pytest.mark.parametrize("name", LAYERS)
def test_regularizers_and_constraints_act_as_keras_ones(name):
    # Same weights, one SGD step of fit: the same penalties in the loss, the same constrained weights.
    options = {"kernel_regularizer": keras.regularizers.L2(0.1), "recurrent_regularizer": "l1",
               "bias_regularizer": keras.regularizers.L2(0.3), "kernel_constraint": "non_neg",
               "recurrent_constraint": keras.constraints.MaxNorm(0.5), "bias_constraint": "non_neg"}
    rng = np.random.default_rng(2)
    x, y = sequence(), rng.standard_normal((B, U)).astype(np.float32)
    models = []
    for layer in (LAYERS[name](U, **options), KERAS[name](U, **options)):
        model = keras.Sequential([keras.Input((T, F)), layer])
        model.compile(keras.optimizers.SGD(0.1), "mse")
        models.append(model)
    weights = [rng.standard_normal(w.shape).astype(np.float32) for w in models[0].trainable_weights]
    for model in models:
        for variable, value in zip(model.trainable_weights, weights):
            variable.assign(value)
    losses = [model.train_on_batch(x, y) for model in models]
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-5)
    assert len(models[0].losses) == 3
    for a, b in zip(models[0].trainable_weights, models[1].trainable_weights):
        np.testing.assert_allclose(ops.convert_to_numpy(a), ops.convert_to_numpy(b), atol=1e-5)


def test_lstm_forget_bias_is_keras_unit_forget_bias():
    # forget_bias=1.0 (the default) is Keras's unit_forget_bias=True; None is unit_forget_bias=False.
    init = keras.initializers.Constant(0.25)
    for forget_bias, unit_forget_bias in ((1.0, True), (None, False)):
        ours = LSTM(U, forget_bias=forget_bias, bias_initializer=init)
        theirs = keras.layers.LSTM(U, unit_forget_bias=unit_forget_bias, bias_initializer=init)
        ours.build((B, T, F))
        theirs.build((B, T, F))
        np.testing.assert_array_equal(ours.cell.bias.numpy(), theirs.cell.bias.numpy())


# --- stateful, masks, initial states: Keras's semantics ---


@pytest.mark.parametrize("name", LAYERS)
def test_stateful_carries_states_between_calls_until_reset(name):
    x = sequence(10)
    whole = LAYERS[name](U, seed=0, return_sequences=True)
    stateful = LAYERS[name](U, seed=0, return_sequences=True, stateful=True)
    expected = ops.convert_to_numpy(whole(x))
    parts = [ops.convert_to_numpy(stateful(x[:, :4])), ops.convert_to_numpy(stateful(x[:, 4:]))]
    np.testing.assert_allclose(np.concatenate(parts, axis=1), expected, atol=1e-6)
    stateful.reset_states()
    np.testing.assert_allclose(ops.convert_to_numpy(stateful(x[:, :4])), expected[:, :4], atol=1e-6)
    with pytest.raises(ValueError, match="batches of 3"):
        stateful(sequence(4, batch=2))


def test_stateful_needs_a_fixed_batch_size():
    with pytest.raises(ValueError, match="fixed batch size"):
        keras.Sequential([keras.Input((None, F)), LSTM(U, stateful=True)])


@pytest.mark.parametrize("name", LAYERS)
def test_a_masking_layer_makes_padded_steps_not_count(name):
    # Right-padded sequences through keras.layers.Masking: the same last output as the unpadded ones.
    x = sequence(6)
    padded = np.concatenate([x, np.zeros((B, 3, F), np.float32)], axis=1)
    layer = LAYERS[name](U, seed=0)
    model = keras.Sequential([keras.Input((None, F)), keras.layers.Masking(0.0), layer])
    np.testing.assert_allclose(ops.convert_to_numpy(model(padded)), ops.convert_to_numpy(layer(x)), atol=1e-6)


def test_initial_state_accepts_a_bare_tensor_for_a_one_state_cell():
    layer = GRU(U, seed=0, return_state=True)
    h0 = np.full((B, U), 0.3, np.float32)
    np.testing.assert_array_equal(numpy(layer(sequence(), initial_state=h0)),
                                  numpy(layer(sequence(), initial_state=[h0])))


def test_unroll_needs_a_known_length():
    with pytest.raises(ValueError, match="unroll"):
        keras.Sequential([keras.Input((None, F)), SimpleRNN(U, unroll=True)])


# --- in Keras models ---


def test_stacked_in_a_sequential_model_trains_with_fit():
    # The drop-in promise: Keras's own Sequential and fit, on JAX, layers of every cell stacked.
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((256, 8, 1)).astype(np.float32)
    y = (x.sum(axis=(1, 2)) > 0).astype(np.float32)
    model = keras.Sequential([keras.Input((None, 1)), LSTM(8, return_sequences=True), GRU(8, return_sequences=True),
                              SimpleRNN(8), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(keras.optimizers.Adam(0.01), "binary_crossentropy")
    before = [w.numpy().copy() for w in model.trainable_weights]
    first = model.evaluate(x, y, verbose=0)
    model.fit(x, y, batch_size=32, epochs=3, verbose=0)
    assert model.evaluate(x, y, verbose=0) < 0.8 * first
    assert all(np.abs(w.numpy() - b).max() > 0 for w, b in zip(model.trainable_weights, before))


def test_a_functional_model_reads_the_states_and_feeds_them_on():
    # Encoder-decoder: the encoder's return_state=True states start the decoder, as with keras.layers.
    encoder_in, decoder_in = keras.Input((None, F)), keras.Input((None, F))
    encoder = LSTM(U, return_state=True, seed=1)
    decoder = LSTM(U, return_sequences=True, seed=2)
    output, h, c = encoder(encoder_in)
    model = keras.Model([encoder_in, decoder_in], [decoder(decoder_in, initial_state=[h, c]), output, h, c])
    assert [tuple(t.shape) for t in model.outputs] == [(None, None, U), (None, U), (None, U), (None, U)]
    a, b = sequence(7, seed=1), sequence(4, seed=2)
    decoded, output, h, c = numpy(model([a, b]))
    np.testing.assert_array_equal(output, h)  # an LSTM's output is its h
    direct = ops.convert_to_numpy(decoder(b, initial_state=[h, c]))
    np.testing.assert_allclose(decoded, direct, atol=1e-6)


@pytest.mark.parametrize("name", LAYERS)
def test_saved_model_reloads_with_the_same_outputs(name, tmp_path):
    options = {"lstm": {"forget_bias": 0.5}}.get(name, {})
    model = keras.Sequential([keras.Input((None, F)),
                              LAYERS[name](U, return_sequences=True, go_backwards=True, seed=4,
                                           kernel_regularizer="l2", bias_constraint="non_neg", **options),
                              LAYERS[name](U, use_bias=False, unroll=False, name="last")])
    model.save(tmp_path / "m.keras")
    restored = keras.models.load_model(tmp_path / "m.keras")
    x = sequence()
    np.testing.assert_array_equal(ops.convert_to_numpy(restored(x)), ops.convert_to_numpy(model(x)))
    for layer, again in zip(model.layers, restored.layers):
        assert type(again) is type(layer) and again.get_config() == layer.get_config()


@pytest.mark.parametrize("name", LAYERS)
def test_get_config_round_trips_every_argument(name):
    kwargs = {"units": 5, "seed": 7, "return_sequences": True, "return_state": True, "go_backwards": True,
              "stateful": True, "unroll": True, "zero_output_for_mask": True, "use_bias": False,
              "kernel_initializer": "he_normal", "recurrent_initializer": keras.initializers.Identity(),
              "bias_initializer": "ones", "kernel_regularizer": "l1", "recurrent_regularizer": "l2",
              "bias_regularizer": keras.regularizers.L1L2(0.1, 0.2), "kernel_constraint": "non_neg",
              "recurrent_constraint": keras.constraints.UnitNorm(), "bias_constraint": "max_norm",
              "name": "r", "trainable": False, **({"forget_bias": None} if name == "lstm" else {})}
    layer = LAYERS[name](**kwargs)
    config = layer.get_config()
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert type(restored) is type(layer) and restored.get_config() == config
    for key in ("units", "seed", "return_sequences", "return_state", "go_backwards", "stateful", "unroll",
                "zero_output_for_mask", "use_bias", "name", "trainable"):
        assert config[key] == kwargs[key], key
    assert not restored.trainable and restored.cell.recurrent_constraint.__class__ is keras.constraints.UnitNorm


# --- what is refused ---

REFUSED = [  # (layer, argument, value): Keras arguments lstmlab does not implement
    ("lstm", "activation", "relu"), ("lstm", "recurrent_activation", "hard_sigmoid"), ("lstm", "dropout", 0.2),
    ("lstm", "recurrent_dropout", 0.1), ("lstm", "unit_forget_bias", False), ("lstm", "use_cudnn", True),
    ("gru", "reset_after", False), ("gru", "activation", "relu"), ("gru", "recurrent_activation", "relu"),
    ("gru", "dropout", 0.5), ("rnn", "activation", "relu"), ("rnn", "recurrent_dropout", 0.5),
    ("rnn", "dropout", 1),
]


@pytest.mark.parametrize("name, argument, value", REFUSED)
def test_unsupported_keras_arguments_are_refused_by_name(name, argument, value):
    with pytest.raises(ValueError, match=f"`{argument}={value!r}` is not supported") as error:
        LAYERS[name](U, **{argument: value})
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("name", LAYERS)
def test_keras_defaults_of_unsupported_arguments_are_accepted(name):
    # A Keras config that leaves them at their defaults means what lstmlab computes: it builds.
    defaults = {"activation": "tanh", "dropout": 0.0, "recurrent_dropout": 0, "use_cudnn": "auto"}
    if name != "rnn":
        defaults.update(recurrent_activation="sigmoid", implementation=2)
    defaults.update({"lstm": {"unit_forget_bias": True}, "gru": {"reset_after": True}}.get(name, {}))
    layer = LAYERS[name](U, **defaults, activity_regularizer=None)
    assert tuple(layer(sequence()).shape) == (B, U)


@pytest.mark.parametrize("argument, value", [("units", 0), ("units", "3"), ("return_sequences", "yes"),
                                             ("use_bias", 1), ("seed", 1.5), ("stateful", None)])
def test_bad_values_are_value_errors_naming_the_argument(argument, value):
    with pytest.raises(ValueError, match=argument):
        LSTM(**{"units": U, argument: value})


def test_rnn_refuses_an_object_without_the_cell_protocol():
    with pytest.raises(ValueError, match="project_inputs"):
        RNN(keras.layers.SimpleRNNCell(U))


# --- float64 ---


@pytest.mark.slow  # about 30 s: a fresh interpreter with x64 enabled runs the layer tests again
def test_float64_in_a_subprocess():
    # x64 is process-global in JAX: a fresh interpreter runs the float64 checks below (__main__).
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {**os.environ, "JAX_ENABLE_X64": "1", "KERAS_BACKEND": "jax", "PYTHONPATH": f"{root}:{root}/tests"}
    result = subprocess.run([sys.executable, __file__, "float64"], capture_output=True, text=True, timeout=600,
                            env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    for name in LAYERS:
        assert f"float64 {name} ok" in result.stdout, result.stdout


def _sigmoid(v):
    return 1 / (1 + np.exp(-v))


def numpy_reference(name, weights, x, go_backwards=False):
    """Every step's h of cell `name` in float64 NumPy, from the equations: (B, T, u). Shares no code with lstmlab."""
    kernel, recurrent, bias = weights
    u = recurrent.shape[0]
    h, c, hs = np.zeros((len(x), u)), np.zeros((len(x), u)), []
    for t in (reversed(range(x.shape[1])) if go_backwards else range(x.shape[1])):
        if name == "lstm":
            i, f, g, o = np.split(x[:, t] @ kernel + h @ recurrent + bias, 4, axis=-1)
            c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
            h = _sigmoid(o) * np.tanh(c)
        elif name == "gru":
            xz, xr, xh = np.split(x[:, t] @ kernel + bias[0], 3, axis=-1)
            hz, hr, hh = np.split(h @ recurrent + bias[1], 3, axis=-1)
            z, r = _sigmoid(xz + hz), _sigmoid(xr + hr)
            h = z * h + (1 - z) * np.tanh(xh + r * hh)
        else:
            h = np.tanh(x[:, t] @ kernel + h @ recurrent + bias)
        hs.append(h)
    return np.stack(hs, axis=1)


def float64_checks():
    """Under floatx float64 with JAX x64: Keras's harness, and equality with float64 NumPy to 1e-12."""
    import jax

    assert jax.config.jax_enable_x64, "run with JAX_ENABLE_X64=1"
    keras.config.set_floatx("float64")
    rng = np.random.default_rng(0)
    for name, layer_class in LAYERS.items():
        harness = Harness()
        for kwargs in ({}, {"return_sequences": True, "return_state": True, "go_backwards": True},
                       {"stateful": True, "unroll": True}):
            harness.run_layer_test(layer_class, init_kwargs={"units": U, **kwargs}, input_shape=(B, T, F),
                                   input_dtype="float64", supports_masking=True,
                                   expected_output_dtype="float64" if not kwargs.get("return_state") else None)
        x = rng.standard_normal((B, 40, F))  # float64, long enough for float32 rounding to show
        for go_backwards in (False, True):
            layer = layer_class(U, return_sequences=True, go_backwards=go_backwards, seed=1)
            layer.build(x.shape)
            weights = [w * 0.8 for w in layer.get_weights()]
            layer.set_weights(weights)
            got = ops.convert_to_numpy(layer(x))
            assert got.dtype == np.float64 and all(w.dtype == "float64" for w in layer.weights), (got.dtype,)
            np.testing.assert_allclose(got, numpy_reference(name, weights, x, go_backwards), rtol=0, atol=1e-12)
        print(f"float64 {name} ok", flush=True)


if __name__ == "__main__":
    if sys.argv[1:] == ["float64"]:
        float64_checks()
