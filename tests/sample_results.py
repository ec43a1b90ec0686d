"""A small, hand-written results record in the shape run_experiment writes, for plot/report tests."""

from lstmlab.config import RunConfig


def sample_results() -> dict:
    history = [
        {"epoch": e, "train_loss": 0.7 / (e + 1), "val_loss": 0.69 / (e + 1), "val_accuracy": 0.6 + 0.1 * e, "seconds": 1.0 * (e > 0)}
        for e in range(4)
    ]
    models = [
        {"name": f"lstm-{n}layer", "cell": "lstm", "layers": n, "units": 25, "parameters": 1000 * n, "test_accuracy": 0.95 + 0.01 * n,
         "test_loss": 0.1 / n, "train_seconds": 3.0 * n, "history": history}
        for n in (1, 2)
    ]
    return {"models": models, "baselines": [{"name": "majority class", "accuracy": 0.58, "loss": None}], "config": RunConfig().to_dict(),
            "environment": {"backend": "jax"}, "wall_seconds": 12.5}
