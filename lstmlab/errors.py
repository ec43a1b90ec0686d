"""The exception types for mistakes a user can make; the CLI prints their message as one line."""


class UserError(Exception):
    """Bad input (a flag, a file, a directory). The message names the value and how to fix it."""


class ConfigError(UserError, ValueError):
    """A configuration value a user gave is invalid; the message says which and how to fix it."""


class WrongBackendError(UserError):
    """Keras is set to a backend other than JAX, which lstmlab trains on."""

    def __init__(self, backend: str):
        super().__init__(f"lstmlab trains on the JAX backend, but KERAS_BACKEND is {backend!r}: unset it or set "
                         "KERAS_BACKEND=jax (lstmlab's layers themselves also run in a TensorFlow Keras program)")


class NonFiniteLossError(RuntimeError):
    """Training produced a NaN or infinite loss; the run stops and keeps its last good checkpoint."""


class RunsFailedError(Exception):
    """Some runs of a sweep failed; the others finished and every table was written."""
