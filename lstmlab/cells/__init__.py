"""Recurrent cells, one module each, found by name: `cells.get("gru")` is the class.

A cell is named by a registered name (lstmlab's own in NAMES, or an installed package's entry point in
the group "lstmlab.cells"), by a spec of the user's own class ("mymodule:MyCell", "./my_cell.py:MyCell"),
or given as the class itself (the Python API); `lstmlab.plugins` finds it. NAMES lists lstmlab's own
without importing Keras (the configuration and `--help` need only the names).

To add a cell to lstmlab: write `cells/NAME.py` with one `RecurrentCell` subclass (see `base.py`), whose
`kind` is NAME, and register it in `_classes` and NAMES. To use your own cell without touching lstmlab,
pass its spec wherever a cell name goes (docs: Extending).
"""

NAMES = ("lstm", "gru", "rnn")
GATELESS = ("rnn",)  # lstmlab's cells with no gate that keeps the state: --forget-bias and --init refuse them
GROUP = "lstmlab.cells"  # the entry-point group of cells from installed packages


def _classes() -> dict:
    from lstmlab.cells.gru import GRUCell
    from lstmlab.cells.lstm import LSTMCell
    from lstmlab.cells.simple_rnn import SimpleRNNCell

    return {cell.kind: cell for cell in (LSTMCell, GRUCell, SimpleRNNCell)}


def resolve(cell) -> tuple[str, type]:
    """(spec, class) of a cell name, spec or class; ConfigError in one line for one that is not a cell."""
    from lstmlab import plugins
    from lstmlab.cells.base import RecurrentCell

    spec, cls = plugins.resolve(cell, RecurrentCell, _classes(), GROUP, "cell")
    if not isinstance(getattr(cls, "kind", None), str) or not cls.kind.isidentifier():
        from lstmlab.errors import ConfigError

        raise ConfigError(f"cell {spec!r} must set `kind`, a short name for its models and files (e.g. 'mycell')")
    return spec, cls


def check(cell) -> None:
    """Raise ConfigError unless `cell` names a cell (lstmlab's own are checked without importing Keras)."""
    if not (isinstance(cell, str) and cell in NAMES):
        resolve(cell)


def get(cell) -> type:
    """The cell class of a name, spec or class (imports Keras)."""
    return resolve(cell)[1]


def kind(cell) -> str:
    """The short name models of `cell` are called by (`lstm` in lstm-1layer), without Keras for lstmlab's own."""
    return cell if isinstance(cell, str) and cell in NAMES else get(cell).kind


__all__ = ["NAMES", "GATELESS", "GROUP", "check", "get", "kind", "resolve"]
