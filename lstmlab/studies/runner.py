"""Runs a study: a grid of single-model training runs over seeds, resumable, summarised as mean ± std.

A study (a `Study`, one module each in this folder) says which runs to make, what to measure in each,
and how to summarise, draw and report them. This file runs the grid on the sweep's executors (local
worker processes, or a Ray cluster: `lstmlab.executors`), so a study is a sweep with its own
measurements, analysis and figures:

    DIR/study.json   {"study", "complete", "seeds", "quick", "runs": [...], "summary": ..., ...};
                     each run holds its group (the settings the study varies), seed, full
                     RunConfig, metrics and wall time. Rewritten after every run.
    DIR/*.png        the study's figures
    DIR/report.md    tables of mean ± standard deviation over seeds, and the figures

Rerunning a study into the same DIR reuses every finished run whose configuration is unchanged, so an
interrupted study continues where it stopped; --force starts over. A study's run keeps no checkpoint:
one whose worker dies is measured again from the start. Its time measurements (seconds per epoch) are
taken with the cores shared among the workers; `--workers 1` measures one run at a time.
"""

import json
from pathlib import Path

from lstmlab import tasks
from lstmlab.config import RunConfig
from lstmlab.core import workdir
from lstmlab.core.files import write_atomic
from lstmlab.errors import RunsFailedError, UserError
from lstmlab.executors import Job, make_executor
from lstmlab.executors.progress import run_jobs
from lstmlab.provenance import environment
from lstmlab.studies.base import Study
from lstmlab.sweeps.spec import run_name

STUDY_FILE = "study.json"


def train_one(config: RunConfig, cache_dir: Path, observe=None):
    """Train the first model of `config` on its cached data: (trainer, data, FitResult).

    `observe(trainer, data, epoch, step)` is called once before training (epoch 0, step 0) and after
    every compiled call of training.
    """
    from lstmlab.core.data import load_or_create
    from lstmlab.core.model import build_model
    from lstmlab.core.train import Trainer, fit

    data, _ = load_or_create(config.task, cache_dir)
    task = tasks.of(config.task)
    model = build_model(config.models[0], seed=config.train.init_seed, task=task)
    trainer = Trainer(model, config.train, task)
    if observe:
        observe(trainer, data, 0, 0)
    fitted = fit(trainer, data["train"], data["val"], verbose=False,
                 observe=(lambda epoch, step: observe(trainer, data, epoch, step)) if observe else None)
    return trainer, data, fitted


def measure(fn, config: RunConfig, cache_dir: Path) -> dict:
    """A worker's job: one run of a study, measured by `fn` (its `measure`, a module-level function)."""
    from lstmlab.core.train import enable_compilation_cache

    enable_compilation_cache(cache_dir)
    return fn(config, cache_dir)


def run_study(study: Study, out: Path, cache_dir: Path, seeds: int = 5, quick: bool = False, force: bool = False,
              verbose: bool = True, workers: int | None = None, ray: str | None = None) -> dict:
    """Run `study` into `out` (claimed and locked as a study directory); returns what study.json holds.

    Its runs go to `workers` local processes (default: one per core; 0: this process, which a study
    whose `measure` a worker cannot import needs) or the Ray cluster at `ray`.
    """
    from lstmlab.core.train import require_jax

    require_jax()
    with workdir.held(out, "study", "--out"):
        return _run_study(study, Path(out), Path(cache_dir).resolve(), seeds, quick, force, verbose, workers, ray)


def _run_study(study: Study, out: Path, cache_dir: Path, seeds: int, quick: bool, force: bool, verbose: bool,
               workers: int | None, ray: str | None) -> dict:
    name = study.name
    say = (lambda message: print(message, flush=True)) if verbose else (lambda message: None)
    planned = study.plan(seeds, quick)
    finished = {} if force else _finished_runs(out, name)
    outside = set(finished) - {json.dumps(config.to_dict(), sort_keys=True) for _, config in planned}
    if outside:  # a rerun never drops finished work silently
        raise UserError(f"{out / STUDY_FILE} holds {len(outside)} finished run(s) outside this plan (other --seeds or "
                        "--quick): rerun with the settings that made them, choose another --out, or pass --force "
                        "to drop them")
    record = {"study": name, "complete": False, "seeds": seeds, "quick": quick, "runs": [],
              "environment": environment()}  # lstmlab/provenance.py
    by_key = {run_name(config, config.train.init_seed): (group, config) for group, config in planned}  # plan order
    runs, jobs, labels = {}, [], {}
    for key, (group, config) in by_key.items():
        labels[key] = ", ".join([f"{k} {v}" for k, v in group.items()] + [f"seed {config.train.init_seed}"])
        finished_run = finished.get(json.dumps(config.to_dict(), sort_keys=True))
        if finished_run is not None:  # its group from today's plan, which may name more settings than it did
            runs[key] = {**finished_run, "group": group}
        else:
            jobs.append(Job(key, measure, (study.measure, config, cache_dir)))
    if runs:
        say(f"{len(runs)} finished runs reused from {out / STUDY_FILE}")
    failed = []
    with make_executor(workers, ray, notify=say) as executor:
        if jobs:
            say(f"{len(jobs)} runs to make on {executor.describe}")
        for outcome in run_jobs(executor, jobs, labels.get, study.headline, say, done_before=len(runs),
                                total=len(planned)):
            if not outcome.ok:
                failed.append(outcome)
                continue
            group, config = by_key[outcome.key]
            runs[outcome.key] = {"group": group, "seed": config.train.init_seed, "config": config.to_dict(),
                                 "metrics": outcome.value, "seconds": outcome.seconds}
            record["runs"] = [runs[k] for k in by_key if k in runs]  # in plan order, whatever finished first
            write_atomic(out / STUDY_FILE, json.dumps(record, indent=2) + "\n")  # progress survives a crash
    if failed:
        raise RunsFailedError(f"{len(failed)} of {len(planned)} runs failed, first {labels[failed[0].key]}: "
                              f"{failed[0].error}; the others are kept in {out / STUDY_FILE}: rerun to retry them")
    record["runs"] = [runs[k] for k in by_key]
    record["summary"] = study.summarise(record["runs"])
    record["seconds"] = sum(run["seconds"] for run in record["runs"])
    record["complete"] = True
    figures = study.draw(record, out)
    write_atomic(out / "report.md", study.render(record, figures))
    write_atomic(out / STUDY_FILE, json.dumps(record, indent=2) + "\n")
    say(f"wrote {out / STUDY_FILE}, {out / 'report.md'} and {', '.join(str(out / f) for f in figures)}")
    return record


def _finished_runs(out: Path, name: str) -> dict:
    """Runs already in `out`'s study.json, by configuration; refuses another study's directory."""
    path = Path(out) / STUDY_FILE
    if not path.exists():
        return {}
    try:
        previous = json.loads(path.read_text())
        runs = {json.dumps(RunConfig.from_dict(r["config"]).to_dict(), sort_keys=True): r for r in previous["runs"]}
    except (ValueError, KeyError, TypeError) as err:
        raise UserError(f"{path} is damaged ({err}): rerun with --force to start the study over") from None
    if previous.get("study") != name:
        raise UserError(f"{out} holds the {previous.get('study')!r} study: choose another --out, or pass --force")
    return runs
