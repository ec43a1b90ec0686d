"""The exception types for mistakes a user can make; the CLI prints their message as one line."""


def one_line(text) -> str:
    """`text` with newlines and other control characters escaped (a path may hold any of them), so that
    an error or a progress line stays one line and cannot move the terminal's cursor or colour."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))


class UserError(Exception):
    """Bad input (a flag, a file, a directory). The message names the value and how to fix it."""


class ConfigError(UserError, ValueError):
    """A configuration value a user gave is invalid; the message names the config field and the value.

    `field` is the flat name of the setting at fault (config.FIELDS, or a task's own setting), so that
    the command line can name its flag ("fix --seq-len") while the config classes, which know no flags,
    name the field ("fix seq_len").
    """

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message, self.field = message, field

    def __str__(self) -> str:
        return f"{self.message}: fix {self.field}" if self.field else self.message

    def fix(self, where: str) -> str:
        """The message, saying to fix `where` (a flag) instead of the field."""
        return f"{self.message}: fix {where}"


class WrongBackendError(UserError):
    """Keras is set to a backend other than JAX, which lstmlab trains on."""

    def __init__(self, backend: str):
        super().__init__(f"lstmlab trains on the JAX backend, but KERAS_BACKEND is {backend!r}: unset it or set "
                         "KERAS_BACKEND=jax (lstmlab's layers themselves also run in a TensorFlow Keras program)")


class NonFiniteLossError(RuntimeError):
    """Training produced a NaN or infinite loss; the run stops and keeps its last good checkpoint."""


class RunsFailedError(Exception):
    """Some runs of a sweep failed; the others finished and every table was written."""
