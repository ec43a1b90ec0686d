"""The engine: the recurrent layer and model, batching, truncated BPTT, training (the pure steps in
`steps.py`, the `Trainer` that holds their state in `train.py`, the loop `fit` in `fit.py`),
checkpoints, the dataset cache, and atomic files. It knows cells and tasks only through their protocols."""
