"""The one exception type for mistakes a user can make; the CLI prints its message as one line."""


class UserError(Exception):
    """Bad input (a flag, a file, a directory). The message names the value and how to fix it."""


class NonFiniteLossError(RuntimeError):
    """Training produced a NaN or infinite loss; the run stops and keeps its last good checkpoint."""
