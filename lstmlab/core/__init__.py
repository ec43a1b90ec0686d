"""The engine: the recurrent layer and model, batching, truncated BPTT, training, checkpoints, the
dataset cache, and atomic files. It knows cells and tasks only through their protocols."""
