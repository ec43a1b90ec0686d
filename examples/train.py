"""Train from Python: an LSTM, a GRU and a simple RNN on the integration task, then read the results.

    python examples/train.py [OUT]      (default OUT: runs/example)

Small sizes so it runs in seconds; drop the `task=` and `train=` arguments for the reference budget.
"""

import sys

import lstmlab

out = sys.argv[1] if len(sys.argv) > 1 else "runs/example"
config = lstmlab.RunConfig(
    task=lstmlab.TaskConfig(n_train=3_200, n_val=640, n_test=640),
    cells=("lstm", "gru", "rnn"),
    layers=(1,),
    train=lstmlab.TrainConfig(epochs=2),
)
run = lstmlab.train(config, out=out, force=True, verbose=False)
for model in run.results["models"]:
    print(f"{model['name']}: test accuracy {model['test_accuracy']:.4f}")
print(f"baseline {run.results['baselines'][0]['name']}: {run.results['baselines'][0]['accuracy']:.4f}")
