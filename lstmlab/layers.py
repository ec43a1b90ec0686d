"""lstmlab's recurrent layers, drop-ins for their `keras.layers` namesakes (as `keras.layers` exports them):

    from lstmlab.layers import LSTM, GRU, SimpleRNN, RNN

    model = keras.Sequential([keras.Input((None, 1)), LSTM(25, return_sequences=True), LSTM(25), keras.layers.Dense(1)])

Each layer lives in its cell's module (`lstmlab/cells/`); `RNN(cell)` runs any cell (`cells/rnn.py`).
"""

from lstmlab.cells.gru import GRU
from lstmlab.cells.lstm import LSTM
from lstmlab.cells.simple_rnn import SimpleRNN
from lstmlab.cells.rnn import RNN

__all__ = ["GRU", "LSTM", "RNN", "SimpleRNN"]
