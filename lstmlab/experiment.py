"""The reference experiment: data -> train each model -> test -> results, figure and report.

A run directory holds everything the run produced:

    config.json                  the RunConfig; `RunConfig.from_dict` rebuilds the run from it
    results.json                 per model: parameters, history, every step's loss, test metrics;
                                 the task's trivial baselines; wall time
    curves.png, report.md        the figure and a table
    models/NAME/config.json      the model's architecture and training config
    models/NAME/metrics.csv      per-epoch metrics
    models/NAME/step_losses.csv  every train step's loss: step (in the whole run, from 1), epoch, loss;
                                 also the record's "step_losses" list (about 28 bytes a step in
                                 results.json: 0.34 MB for the reference run's 2 x 6,000 steps)
    models/NAME/model.weights.h5 trained weights, loaded by `lstmlab evaluate`
    models/NAME/record.json      the model's results; written last, it marks the model finished
    models/NAME/checkpoint.npz   while a model trains: its latest checkpoint

Rerunning the same configuration into an unfinished run directory continues it: finished models are
kept and the model in training resumes from its checkpoint, with the same final numbers as a run
that was never interrupted.
"""

import csv
import io
import json
import time
from dataclasses import asdict
from pathlib import Path

from lstmlab import plugins, tasks
from lstmlab.config import ModelConfig, RunConfig, TaskConfig, TrainConfig
from lstmlab.core import budget, workdir
from lstmlab.core.checkpoint import Checkpoint
from lstmlab.core.data import cached_task, load_or_create, training_data
from lstmlab.core.files import check_seal, save_weights_atomic, seal, write_atomic
from lstmlab.errors import NonFiniteLossError, UserError
from lstmlab.executors.progress import printer
from lstmlab.provenance import environment

RESULTS = "results.json"
OUTPUTS = ("config.json", RESULTS, "curves.png", "report.md")  # besides models/
# What a model's directory holds (models/NAME/), all of it lstmlab's: what --force deletes there.
MODEL_FILES = ("config.json", "metrics.csv", "step_losses.csv", "model.weights.h5", "record.json", "checkpoint.npz",
               "analysis.json", "fixed_points.npz", "dynamics.png", "spectra.png")  # the last four: `lstmlab analyze`


class RunExistsError(UserError):
    """The output directory holds a finished run and overwriting was not asked for."""


def saved_config(out: Path) -> RunConfig | None:
    """The configuration of the run in `out`, or None if there is none."""
    path = Path(out) / "config.json"
    if not path.exists():
        return None
    try:
        return RunConfig.from_dict(json.loads(path.read_text()))
    except (ValueError, TypeError) as err:
        raise UserError(f"{path} is not a valid lstmlab config ({err}): fix it or rerun with --force") from None


def prepare_run_dir(config: RunConfig, out: Path, force: bool) -> bool:
    """Check `out` against `config` and clear it if `force`; True if an unfinished run is continued."""
    out = Path(out)
    if force:
        clear_run(out)
        return False
    if (out / RESULTS).exists():
        raise RunExistsError(f"{out} already holds a finished run: pass --force to overwrite it or choose another --out")
    previous = saved_config(out)
    if previous is not None and previous != config:
        raise UserError(f"{out} holds an unfinished run of another configuration: rerun it with --resume, "
                        "or pass --force to start over, or choose another --out")
    return previous is not None


def clear_run(out: Path) -> None:
    """Delete what lstmlab wrote in the run directory `out` (its outputs and every model's files), and
    nothing else: a user's file beside them stays, and a link is refused, never followed."""
    models = workdir.no_links(out, "models")
    if models.is_dir():
        for model in models.iterdir():
            workdir.no_links(models, model.name)
            workdir.remove_own(model, MODEL_FILES)
        workdir.remove_own(models, ())
    for name in OUTPUTS:
        workdir.no_links(out, name).unlink(missing_ok=True)


def run_experiment(config: RunConfig, out: Path, cache_dir: Path, force: bool = False, verbose: bool = True,
                   rebuild_cache: bool = True, callbacks=None, tensorboard=None, workers: int | None = None) -> dict:
    """Run the experiment described by `config` and write the run directory `out`; returns results.

    An unfinished run of the same configuration in `out` is continued; a finished one is only
    overwritten with `force`. `callbacks` (keras.callbacks.Callback objects, see `train.fit`) are
    given to every model's training in turn, as to successive `model.fit` calls; with `tensorboard`,
    a directory, each model trained also logs TensorBoard scalars into `tensorboard`/MODEL_NAME
    (`lstmlab.core.tensorboard`; needs the tensorboard extra).

    Models train side by side in `workers` worker processes (`lstmlab.executors.local`), with the
    same numbers as one after another; the default is `default_workers`. 1, or any `callbacks`
    (objects of this process), trains them here, one after another.
    """
    from lstmlab.core.train import require_jax

    require_jax()
    if Path(out).resolve() == Path(cache_dir).resolve():
        raise UserError(f"--out and --cache-dir are both {out}: a run directory and the dataset cache are "
                        "different directories; choose another for one of them")
    workdir.check(cache_dir, "cache", "--cache-dir")  # before --out is claimed: a refusal leaves nothing behind
    budget.check(config, cache_dir)
    if tensorboard is not None:
        from lstmlab.core.tensorboard import require_tensorboard

        require_tensorboard()
        tensorboard = workdir.claim(tensorboard, "tensorboard", "--tensorboard")  # lstmlab's own, like a run's
    with workdir.held(out, "run", "--out"):
        return _run(config, Path(out), cache_dir, force, verbose, rebuild_cache, callbacks, tensorboard, workers)


def _run(config: RunConfig, out: Path, cache_dir: Path, force: bool, verbose: bool, rebuild_cache: bool,
         callbacks=None, tensorboard=None, workers=None) -> dict:
    """run_experiment's work, in a claimed and locked `out`."""
    from lstmlab.core.train import enable_compilation_cache
    from lstmlab.plots import plot_curves
    from lstmlab.report import render_report

    say = printer(verbose)
    started = time.perf_counter()
    if prepare_run_dir(config, out, force):
        say(f"continuing the unfinished run in {out}")
    write_atomic(out / "config.json", json.dumps(config.to_dict(), indent=2) + "\n")

    enable_compilation_cache(cache_dir)  # compiled programs, next to the datasets
    data, entry = load_or_create(cached_task(config), cache_dir, rebuild=rebuild_cache, log=say)
    say(f"data: {entry}")

    records = {}
    for model_config in config.models:
        directory = workdir.no_links(out, "models", model_config.name)
        if (directory / "record.json").exists():  # finished before an interruption
            records[model_config.name] = _finished_record(directory, model_config)
            say(f"{model_config.name}: already trained")
    todo = [m for m in config.models if m.name not in records]
    if workers is None:
        workers = default_workers(todo)
    # Callbacks are objects of this process, and so is a class defined in a notebook: train here.
    in_process_only = callbacks or any(plugins.in_process_only(spec) for spec in (config.task.name, *config.cells))
    if workers > 1 and len(todo) > 1 and not in_process_only:
        records.update(_train_in_workers(todo, config, out, cache_dir, workers, tensorboard, say))
    for model_config in todo:
        if model_config.name not in records:
            records[model_config.name] = _train_model(model_config, config, data, out / "models" / model_config.name,
                                                      verbose, callbacks, tensorboard)
    models = [records[m.name] for m in config.models]

    results = {
        "models": models,
        # A stream caches no training set: its baselines learn from the validation targets instead.
        "baselines": tasks.of(config.task).baselines(data["val" if config.train.stream else "train"][1],
                                                     data["test"][1]),
        "config": config.to_dict(),
        "data": {"cache_entry": str(entry)},
        "environment": environment(),  # lstmlab/provenance.py: versions, git commit, machine, backend
        "wall_seconds": time.perf_counter() - started,
    }
    plot_curves(results, out / "curves.png")
    write_atomic(out / "report.md", render_report(results))
    results = seal(results, *_weights(out, [m["name"] for m in models]))  # so an edit is told from a run
    write_atomic(out / RESULTS, json.dumps(results, indent=2) + "\n")  # last: marks the run finished
    say(f"wrote {out / RESULTS}, {out / 'report.md'}, {out / 'curves.png'}")
    return results


def default_workers(models: list[ModelConfig]) -> int:
    """One worker per model, up to the cores, when the work splits evenly enough to gain; else 1.

    A model's cost is taken as its depth (the models of a run share units, data and epochs). Side by
    side on 2 cores each model trains about 25% slower and every worker first imports Keras and JAX,
    so one model that holds more than half the work (the reference run's 2-layer model: 2/3) ends
    later than the whole run does in one process; measured in docs/usage/run.md.
    """
    from lstmlab.executors.local import available_cores

    costs = [m.layers for m in models]
    if len(models) < 2 or max(costs) > sum(costs) / 2:
        return 1
    return min(len(models), len(available_cores()))


def _train_in_workers(todo: list[ModelConfig], config: RunConfig, out: Path, cache_dir: Path, workers: int,
                      tensorboard, say) -> dict:
    """Train the models `todo` side by side in worker processes; {name: record}, or the first model's error."""
    from lstmlab.executors import Job
    from lstmlab.executors.local import LocalExecutor

    longest_first = sorted(todo, key=lambda m: -m.layers)  # so that no long model starts last
    jobs = [Job(m.name, train_model, (m, config, str(out / "models" / m.name), str(cache_dir), tensorboard))
            for m in longest_first]
    with LocalExecutor(min(workers, len(jobs))) as executor:
        say(f"training {', '.join(m.name for m in todo)} ({config.train.epochs} epochs) in {executor.describe}")
        outcomes = {}
        for outcome in executor.run(jobs):
            outcomes[outcome.key] = outcome
            say(f"{outcome.key}: " + (f"test accuracy {outcome.value['test_accuracy']:.4f}" if outcome.ok
                                      else f"failed: {outcome.error}"))
    for model_config in todo:  # the first failure in config order, once every model has stopped
        if not outcomes[model_config.name].ok:
            outcomes[model_config.name].reraise()
    return {name: outcome.value for name, outcome in outcomes.items()}


def train_model(model_config: ModelConfig, config: RunConfig, directory: str, cache_dir: str, tensorboard) -> dict:
    """A worker's job: train one model of `config` on its cached data into `directory`; its record."""
    from lstmlab.core.train import enable_compilation_cache

    enable_compilation_cache(Path(cache_dir))
    data, _ = load_or_create(cached_task(config), Path(cache_dir), rebuild=False)
    return _train_model(model_config, config, data, Path(directory), False, None, tensorboard)


def _train_model(model_config: ModelConfig, config: RunConfig, data, directory: Path, verbose: bool,
                 callbacks=None, tensorboard=None) -> dict:
    """Train and test one model (resuming from its checkpoint if there is one); save it; its record.

    `callbacks` go to `fit`, with a TensorBoardLogger into `tensorboard`/NAME when `tensorboard` is given.
    """
    from lstmlab.core.gate_init import initialize_gates
    from lstmlab.core.model import build_model
    from lstmlab.core.train import Trainer, fit

    callbacks = list(callbacks or [])
    if tensorboard is not None:
        from lstmlab.core.tensorboard import TensorBoardLogger

        callbacks.append(TensorBoardLogger(Path(tensorboard) / model_config.name))
    say = printer(verbose)
    say(f"training {model_config.name} ({config.train.epochs} epochs)")
    workdir.no_links(directory.parent.parent, "models", directory.name)  # in a worker too
    directory.mkdir(parents=True, exist_ok=True)
    # What the model is; also the checkpoint's fingerprint, so a checkpoint never resumes another setup.
    description = {"model": asdict(model_config), "task": config.task.to_dict(), "train": asdict(config.train)}
    checkpoint = Checkpoint(directory / "checkpoint.npz", description, config.train.checkpoint_every)
    task = tasks.of(config.task)
    model = build_model(model_config, seed=config.train.init_seed, task=task)
    initialize_gates(model, config.train, config.task.seq_len)  # --forget-bias, --init chrono
    trainer = Trainer(model, config.train, task)
    try:
        fitted = fit(trainer, training_data(config, data), data["val"], verbose=verbose, checkpoint=checkpoint,
                     callbacks=callbacks)
    except NonFiniteLossError as err:
        kept = (f"the last good checkpoint is kept in {checkpoint.path}" if checkpoint.path.exists()
                else "no checkpoint was saved yet")
        raise NonFiniteLossError(f"{model_config.name}: {err}; {kept}. Lower --lr and rerun with --force") from None
    test = trainer.evaluate(*data["test"])
    say(f"{model_config.name}: test accuracy {test.accuracy:.4f}")
    record = {
        "name": model_config.name,
        "cell": model_config.cell,
        "layers": model_config.layers,
        "units": model_config.units,
        "parameters": int(model.count_params()),
        "test_accuracy": test.accuracy,
        "test_loss": test.loss,
        "train_seconds": fitted.train_seconds,
        "history": [asdict(h) for h in fitted.history],
        "step_losses": fitted.step_losses,
    }
    if config.train.stop == "paper":  # the rule's count, then the paper's test on fresh sequences
        from lstmlab.core.criterion import fresh_test
        from lstmlab.report import paper_summary

        record["sequences_to_criterion"] = fitted.sequences_to_criterion
        record["paper_test"] = fresh_test(trainer, task)
        say(f"{model_config.name}: {paper_summary(record)}")
    write_atomic(directory / "config.json", json.dumps(description, indent=2) + "\n")
    table = io.StringIO()
    writer = csv.DictWriter(table, fieldnames=list(record["history"][0]))
    writer.writeheader()
    writer.writerows(record["history"])
    write_atomic(directory / "metrics.csv", table.getvalue())
    per_epoch = config.steps_per_epoch
    write_atomic(directory / "step_losses.csv", "step,epoch,loss\n" + "".join(
        f"{i + 1},{i // per_epoch + 1},{loss!r}\n" for i, loss in enumerate(fitted.step_losses)))
    save_weights_atomic(model, directory / "model.weights.h5")
    sealed = seal(record, directory / "model.weights.h5")
    write_atomic(directory / "record.json", json.dumps(sealed, indent=2) + "\n")  # last: marks it finished
    checkpoint.remove()
    return record


RECORD_KEYS = {"name": str, "cell": str, "layers": int, "units": int, "parameters": int, "test_accuracy": float,
               "test_loss": float, "train_seconds": float, "history": list}


def _finished_record(directory: Path, model_config: ModelConfig) -> dict:
    """The record.json of a model finished before an interruption, checked like any input."""
    path = directory / "record.json"
    try:
        record = json.loads(path.read_text())
        problems = [key for key, kind in RECORD_KEYS.items()
                    if not isinstance(record.get(key), kind if kind is not float else (int, float))]
    except (OSError, ValueError, AttributeError) as err:
        problems = [str(err)]
    if problems or record["name"] != model_config.name or record["units"] != model_config.units:
        raise UserError(f"{path} is damaged or belongs to another model ({', '.join(problems) or 'name/units'}): "
                        "rerun with --force to train it again")
    if not check_seal(record, directory / "model.weights.h5"):
        raise UserError(f"{path} or its weights changed after lstmlab wrote them (edited or damaged): rerun with "
                        "--force to train it again")
    return {k: v for k, v in record.items() if k != "digest"}


def read_results(out: Path) -> dict:
    """The results.json of the finished run in `out`, checked against what lstmlab wrote: its digest over
    the results and the models' weights (a hand-edited or damaged record is refused, never reused)."""
    path = Path(out) / RESULTS
    try:
        results = json.loads(path.read_text())
        names = [m["name"] for m in results["models"]]
    except (OSError, ValueError, KeyError, TypeError, RecursionError) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise UserError(f"{path} is damaged ({reason}): rerun the run with --force") from None
    if not names or not all(isinstance(n, str) and n and "/" not in n for n in names) or len(set(names)) != len(names):
        raise UserError(f"{path} is damaged (its models are {names!r}, not a list of model names): rerun the run "
                        "with --force")
    if not check_seal(results, *_weights(out, names)):
        raise UserError(f"{path} or a model's weights changed after lstmlab wrote them (edited or damaged): rerun "
                        "the run with --force")
    _check_configs(Path(out), RunConfig.from_dict(results["config"]))
    return results


def _check_configs(out: Path, config: RunConfig) -> None:
    """The config files of a finished run must still say what its sealed results say: evaluate builds the
    task and the models from them, so an objective or threshold edited there would change every score."""
    if saved_config(out) != config:
        raise UserError(f"{out / 'config.json'} changed after the run finished (it no longer matches "
                        f"{out / RESULTS}): restore it, or rerun the run with --force")
    for model_config in config.models:
        path = workdir.no_links(out, "models", model_config.name, "config.json")
        if model_description(path) != (model_config, config.task, config.train):
            raise UserError(f"{path} changed after the run finished (it no longer matches {out / RESULTS}): restore "
                            "it, or rerun the run with --force")


def model_description(path: Path) -> tuple[ModelConfig, TaskConfig, TrainConfig]:
    """(model, task, train) of a model's config.json (`_train_model` writes it), read as config files are."""
    try:
        saved = json.loads(Path(path).read_text())
        run = RunConfig.from_dict({"task": saved["task"], "train": saved["train"]})
        return ModelConfig(**saved["model"]), run.task, run.train
    except (OSError, ValueError, KeyError, TypeError, RecursionError) as err:
        raise UserError(f"{path} is damaged ({err}): rerun the run with --force") from None


def _weights(out: Path, names: list[str]) -> list[Path]:
    return [workdir.no_links(out, "models", name) / "model.weights.h5" for name in names]
