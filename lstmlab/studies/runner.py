"""Runs a study: a grid of single-model training runs over seeds, resumable, summarised as mean ± std.

A study (a `Study`, one module each in this folder) says which runs to make, what to measure in each,
and how to summarise, draw and report them. This file runs the grid:

    DIR/study.json   {"study", "complete", "seeds", "quick", "runs": [...], "summary": ..., ...};
                     each run holds its group (the settings the study varies), seed, full
                     RunConfig, metrics and wall time. Rewritten after every run.
    DIR/*.png        the study's figures
    DIR/report.md    tables of mean ± standard deviation over seeds, and the figures

Rerunning a study into the same DIR reuses every finished run whose configuration is unchanged, so an
interrupted study continues where it stopped; --force starts over.
"""

import json
import time
from pathlib import Path

from lstmlab import tasks
from lstmlab.config import RunConfig
from lstmlab.core import workdir
from lstmlab.core.files import write_atomic
from lstmlab.errors import UserError
from lstmlab.provenance import environment
from lstmlab.studies.base import Study

STUDY_FILE = "study.json"


def train_one(config: RunConfig, cache_dir: Path, observe=None):
    """Train the first model of `config` on its cached data: (trainer, data, FitResult)."""
    from lstmlab.core.data import load_or_create
    from lstmlab.core.model import build_model
    from lstmlab.core.train import Trainer, fit

    data, _ = load_or_create(config.task, cache_dir)
    task = tasks.of(config.task)
    model = build_model(config.models[0], seed=config.train.seed, task=task)
    trainer = Trainer(model, config.train, task)
    fitted = fit(trainer, data["train"], data["val"], verbose=False,
                 observe=(lambda epoch, step: observe(trainer, data, epoch, step)) if observe else None)
    return trainer, data, fitted


def run_study(study: Study, out: Path, cache_dir: Path, seeds: int = 5, quick: bool = False, force: bool = False,
              verbose: bool = True) -> dict:
    """Run `study` into `out` (claimed and locked as a study directory); returns what study.json holds."""
    from lstmlab.core.train import require_jax

    require_jax()
    with workdir.held(out, "study", "--out"):
        return _run_study(study, Path(out), cache_dir, seeds, quick, force, verbose)


def _run_study(study: Study, out: Path, cache_dir: Path, seeds: int, quick: bool, force: bool, verbose: bool) -> dict:
    from lstmlab.core.train import enable_compilation_cache

    name = study.name
    say = (lambda message: print(message, flush=True)) if verbose else (lambda message: None)
    planned = study.plan(seeds, quick)
    finished = {} if force else _finished_runs(out, name)
    outside = set(finished) - {json.dumps(config.to_dict(), sort_keys=True) for _, config in planned}
    if outside:  # a rerun never drops finished work silently
        raise UserError(f"{out / STUDY_FILE} holds {len(outside)} finished run(s) outside this plan (other --seeds or "
                        "--quick): rerun with the settings that made them, choose another --out, or pass --force "
                        "to drop them")
    enable_compilation_cache(cache_dir)
    record = {"study": name, "complete": False, "seeds": seeds, "quick": quick, "runs": [],
              "environment": environment()}  # lstmlab/provenance.py
    for i, (group, config) in enumerate(planned, start=1):
        key = json.dumps(config.to_dict(), sort_keys=True)
        label = ", ".join(f"{k} {v}" for k, v in group.items())
        if key in finished:
            run = finished[key]
            say(f"[{i}/{len(planned)}] {label}, seed {config.train.seed}: reused from {out / STUDY_FILE}")
        else:
            started = time.perf_counter()
            metrics = study.measure(config, Path(cache_dir))
            run = {"group": group, "seed": config.train.seed, "config": config.to_dict(), "metrics": metrics,
                   "seconds": time.perf_counter() - started}
            say(f"[{i}/{len(planned)}] {label}, seed {config.train.seed}: {study.headline(metrics)} "
                f"({run['seconds']:.1f} s)")
        record["runs"].append(run)
        write_atomic(out / STUDY_FILE, json.dumps(record, indent=2) + "\n")  # progress survives a crash
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
