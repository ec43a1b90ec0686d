"""lstmlab: recurrent cells written from scratch, trained on small sequence tasks (Keras 3 on JAX).

Importing the package picks the JAX backend for Keras unless the user chose one with KERAS_BACKEND,
and lets XLA show the CPU as HOST_DEVICES devices unless XLA_FLAGS already sets a count, so that
`--devices 2` can split a batch over two cores. The flag alone changes neither the speed nor the
numbers of a one-device run (measured bit for bit). Both must happen before anything imports keras
or jax, which is why this lives here and imports nothing heavy.
"""

import os

HOST_DEVICES = 2
DEVICE_FLAG = "--xla_force_host_platform_device_count"

os.environ.setdefault("KERAS_BACKEND", "jax")
if DEVICE_FLAG not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {DEVICE_FLAG}={HOST_DEVICES}".strip()

__version__ = "0.1.0"
