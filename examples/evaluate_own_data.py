"""Load a finished run and score its models on sequences of your own, of another length.

    python examples/evaluate_own_data.py RUN_DIR

The models are ordinary `keras.Model`s: `model.predict` works as in any Keras program; the run's task
says how a prediction answers its question (here: is the sum > 1?).
"""

import sys

import numpy as np

import lstmlab

run = lstmlab.load_run(sys.argv[1])
task = run.task
x = np.random.default_rng(0).standard_normal((500, 40)).astype(np.float32)  # 500 sequences of 40 steps
truth = task.truth(task.targets_of(x))  # the answers, from the task's definition
for name, model in run.models.items():
    predictions = model.predict(x[..., None], verbose=0)  # (500, 40, 1) in -> (500,) probabilities
    print(f"{name}: accuracy {task.accuracy(predictions, truth):.4f} on {len(x)} sequences of length 40")
