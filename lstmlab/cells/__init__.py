"""Recurrent cells, one module each, found by name: `cells.get("gru")` is the class.

NAMES lists them without importing Keras (the configuration and `--help` need only the names).
To add a cell: write `cells/NAME.py` with one `RecurrentCell` subclass (see `base.py`), whose `kind`
is NAME, and register it in `_classes` and NAMES.
"""

NAMES = ("lstm", "gru", "rnn")


def _classes() -> dict:
    from lstmlab.cells.gru import GRUCell
    from lstmlab.cells.lstm import LSTMCell
    from lstmlab.cells.simple_rnn import SimpleRNNCell

    return {cell.kind: cell for cell in (LSTMCell, GRUCell, SimpleRNNCell)}


def check(name: str) -> None:
    """Raise ConfigError unless `name` is a cell (without importing Keras)."""
    from lstmlab.errors import ConfigError

    if not isinstance(name, str) or name not in NAMES:
        raise ConfigError(f"unknown cell {name!r}; choose from {', '.join(NAMES)}: fix --cell")


def get(name: str) -> type:
    """The cell class called `name` (imports Keras)."""
    check(name)
    return _classes()[name]


__all__ = ["NAMES", "check", "get"]
