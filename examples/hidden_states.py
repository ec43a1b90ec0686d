"""Plot what a trained model's first layer does over one sequence: its hidden units against the
running sum of the inputs (the quantity the integration task asks about).

    python examples/hidden_states.py RUN_DIR [OUT.png]
"""

import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import lstmlab  # noqa: E402

run = lstmlab.load_run(sys.argv[1])
out = sys.argv[2] if len(sys.argv) > 2 else "hidden_states.png"
name, model = next(iter(run.models.items()))
x = np.random.default_rng(2).standard_normal((1, 60, 1)).astype(np.float32)  # one sequence, 60 steps
hidden, *_ = model.rnns[0](x)  # (1, 60, units): the first layer's h at every step
hidden = np.asarray(hidden)[0]
fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 6), sharex=True)
top.plot(np.cumsum(x[0, :, 0]), color="black", label="running sum of the inputs")
top.axhline(run.config.task.threshold, color="grey", ls=":", label="threshold")
top.legend()
bottom.plot(hidden, alpha=0.6)
bottom.set_xlabel("step")
bottom.set_ylabel(f"{name}: first layer's h")
fig.tight_layout()
fig.savefig(out, dpi=100)
print(f"wrote {out}")
