"""Gate-bias initialisation for long memory: `--forget-bias B` and `--init chrono`.

A gated cell keeps a share sigmoid(b) of its state per step through its keep gate (LSTM: the forget
gate f; GRU: the update gate z, since h = z * h_tm1 + (1 - z) * h~). With b = 1 (the LSTM's default)
it keeps 0.73 per step, 1.6e-7 after 50 steps: too little for a value that must wait 100 steps.

Chrono (Tallec & Ollivier 2018, "Can recurrent neural networks warp time?"): a unit with keep rate f
forgets with a characteristic time T = 1 / (1 - f). Drawing T uniformly over the time scales the task
needs, T - 1 = u ~ U(1, T_max - 1), gives the keep bias b_f = log(u), since sigmoid(log u) = u / (1 + u)
= 1 - 1 / (1 + u); the LSTM's input gate gets -log(u), so it admits 1 - f = 1 / (1 + u), as much as
the state loses. The GRU's update gate plays both parts (it keeps z and admits 1 - z), so its bias
b_z = log(u) gives exactly the LSTM's keep rate and input rate: the same time scales.

The defaults change nothing: without --forget-bias and with `init` "default" the cells keep their own
initial biases (LSTM forget 1, GRU 0), so the reference run's numbers hold.
"""

import numpy as np

CHRONO_KEY = 0xC4_0E0  # joined to the init seed, so chrono's draw is its own stream of that seed


def chrono_biases(units: int, t_max: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(keep biases log(u), admit biases -log(u)), each (units,) float32, u ~ U(1, t_max - 1)."""
    u = rng.uniform(1.0, t_max - 1.0, units)
    keep = np.log(u).astype(np.float32)
    return keep, -keep


def initialize_gates(model, train, seq_len: int) -> None:
    """Set the keep (and admit) gate biases of every recurrent layer of `model` (a SequenceModel) as
    `train` (a TrainConfig) asks; nothing for the defaults. Chrono's draw is a function of
    (init_seed, layer), so the same config gives the same weights everywhere."""
    if train.forget_bias is None and train.init == "default":
        return
    for layer, rnn in enumerate(model.rnns):
        cell = rnn.cell
        if train.init == "chrono":
            rng = np.random.default_rng([train.init_seed, CHRONO_KEY, layer])
            keep, admit = chrono_biases(cell.units, train.chrono_max or seq_len, rng)
            cell.set_memory_biases(keep, admit)
        else:
            cell.set_memory_biases(np.full(cell.units, train.forget_bias, np.float32))
