"""Train with TensorBoard logging, then read the logs back as TensorBoard would.

    python examples/tensorboard_logs.py [LOGDIR]      (default LOGDIR: runs/tensorboard)
    tensorboard --logdir runs/tensorboard             (then open the page it prints)

Needs the tensorboard extra (`pip install "lstmlab[tensorboard]"`), not TensorFlow.
"""

import sys

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

import lstmlab

logdir = sys.argv[1] if len(sys.argv) > 1 else "runs/tensorboard"
config = lstmlab.RunConfig(task=lstmlab.TaskConfig(n_train=1_600, n_val=320, n_test=320), layers=(1,),
                           train=lstmlab.TrainConfig(epochs=2))
lstmlab.train(config, out="runs/tensorboard-run", force=True, verbose=False, tensorboard=logdir)

events = EventAccumulator(f"{logdir}/lstm-1layer")
events.Reload()
for tag in sorted(events.Tags()["scalars"]):
    points = events.Scalars(tag)
    print(f"{tag}: {len(points)} points, last {points[-1].value:.4f} at step {points[-1].step}")
