"""lstmlab: a from-scratch LSTM toolkit for the integration task.

Importing the package picks the JAX backend for Keras unless the user chose one with KERAS_BACKEND.
It must run before anything imports keras, which is why it lives here and imports nothing heavy.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")

__version__ = "0.1.0"
