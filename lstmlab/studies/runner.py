"""Runs a study: its grid of runs over seeds on the grid runner (`sweeps/grid.py`), then its summary,
figures and report.

A study (a `Study`, one module each in this folder) says which runs to make, what to measure in each,
and how to summarise, draw and report them; its runs are a sweep's: named by their content
(`sweeps.spec.run_name`), resumable, on any executor (local worker processes, or a Ray cluster:
`lstmlab.executors`).

    DIR/study.json   {"study", "complete", "seeds", "quick", "runs": [...], "summary": ..., ...};
                     each run holds its group (the settings the study varies), seed, full
                     RunConfig, metrics, wall time and a digest over them (`core/files.seal`).
                     Rewritten after every run. "environment" is the machine and versions of the
                     session that wrote it; "earlier_environments" those of sessions whose runs it
                     reuses.
    DIR/*.png        the study's figures
    DIR/report.md    tables of mean ± standard deviation over seeds, and the figures

`recompute_study` (`lstmlab study NAME --recompute --out DIR`) rebuilds the summary, figures and report.md
from the runs DIR/study.json holds (of a study in parts, those of the parts made so far), training
nothing: the runs, environment and times stay as they are, byte for byte, and only what today's code
makes of them changes.

Rerunning a study into the same DIR reuses every finished run whose configuration is unchanged (found
by its name, however old the file's key names) and whose digest still matches, so an interrupted study
continues where it stopped; a run edited or damaged since lstmlab wrote it is said in one line and
made again, and `--recompute` refuses it. --force starts over. A study's run keeps no checkpoint: one whose worker dies is measured again from
the start. Its time measurements (seconds per epoch) are taken with the cores shared among the
workers; `--workers 1` measures one run at a time.
"""

import json
from pathlib import Path

from lstmlab.config import RunConfig
from lstmlab.core import workdir
from lstmlab.core.files import check_seal, seal, write_atomic
from lstmlab.errors import RunsFailedError, UserError
from lstmlab.executors import make_executor
from lstmlab.executors.progress import printer
from lstmlab.provenance import environment
from lstmlab.studies.base import RunContext, Study
from lstmlab.sweeps.grid import label, run_grid
from lstmlab.sweeps.spec import Point, run_name

STUDY_FILE = "study.json"


def measure(fn, config: dict, context: RunContext) -> dict:
    """A worker's job: one run of a study (its config as a dict), measured by `fn` (its `measure`, a
    module-level function)."""
    from lstmlab.core.train import enable_compilation_cache

    enable_compilation_cache(context.cache_dir)
    return fn(RunConfig.from_dict(config), context)


# Seeds per setting a study may ask for: ten times what any claim here needs, and a plan of every study's
# grid x this many seeds is still built and checked in a second.
MAX_SEEDS = 1_000


def run_study(study: Study | str, out: Path, cache_dir: Path, seeds: int = 5, quick: bool = False,
              force: bool = False, verbose: bool = True, workers: int | None = None, ray: str | None = None,
              part: str | None = None) -> dict:
    """Run `study` (a `Study`, or a name in `studies.STUDIES`) into `out` (claimed and locked as a study
    directory); returns what study.json holds.

    Its runs go to `workers` local processes (default: one per core; 0: this process, which a study
    whose `measure` a worker cannot import needs) or the Ray cluster at `ray`. Raises RunsFailedError,
    after keeping every other run in study.json, if a run failed. A study in parts (`Study.parts`) runs
    only `part` when one is named, else every part in order; see `plan_parts`.
    """
    from lstmlab.core.train import require_jax

    study = _study(study)
    if isinstance(seeds, bool) or not isinstance(seeds, int) or not 1 <= seeds <= MAX_SEEDS:
        raise UserError(f"--seeds must be a count from 1 to {MAX_SEEDS:,}, got {seeds!r}")
    _check_part(study, part)
    if part is not None:  # a part asked for too early is refused before --out is claimed
        finished = {} if force else {n: r for n, r in _previous(Path(out), study.name)[0].items() if intact(r)}
        waiting = plan_parts(study, seeds, quick, finished)[part]
        if isinstance(waiting, str):
            raise UserError(waiting)
    require_jax()
    with workdir.held(out, "study", "--out"):
        return _run_study(study, Path(out), RunContext(Path(cache_dir).resolve(), quick), seeds, force,
                          printer(verbose), workers, ray, part)


def _study(study: Study | str) -> Study:
    if isinstance(study, Study):
        return study
    from lstmlab.studies import STUDIES

    if study not in STUDIES:
        raise UserError(f"no study named {study!r}; choose from {', '.join(STUDIES)}")
    return STUDIES[study]


def points(study: Study, seeds: int, quick: bool, finished: dict[str, dict] | None = None) -> list[Point]:
    """The study's plan as the grid runner's points: each run's seed is its init seed. For a study in
    parts: the runs of every part that can be planned given the `finished` runs (by name)."""
    if not study.parts:
        return _points(study.plan(seeds, quick))
    return [p for plan in plan_parts(study, seeds, quick, finished or {}).values() if isinstance(plan, list)
            for p in plan]


def _points(plan) -> list[Point]:
    return [Point(group, config.train.init_seed, config) for group, config in plan]


def plan_parts(study: Study, seeds: int, quick: bool, finished: dict[str, dict]) -> dict[str, list[Point] | str]:
    """Each part of a study in parts, in order: its points, or (a part whose earlier parts are not all
    finished) a sentence saying which to run first. A part's plan reads the `finished` runs (by name) of
    the parts it comes after, each with the group today's plan gives it."""
    plans: dict[str, list[Point] | str] = {}
    for part in study.parts:
        waiting = [name for name in part.after
                   if not isinstance(plans[name], list) or any(p.name not in finished for p in plans[name])]
        if waiting:
            plans[part.name] = (f"part {part.name!r} needs part(s) {', '.join(waiting)} complete first: run "
                                f"`--part {waiting[0]}` (with the same --seeds and --out)")
            continue
        earlier = [{**finished[p.name], "group": p.group} for name in part.after for p in plans[name]]
        plans[part.name] = _points(study.plan_part(part.name, seeds, quick, earlier))
    return plans


def part_status(study: Study, seeds: int, quick: bool, finished: dict[str, dict]) -> dict[str, dict]:
    """{part: {"what", "planned": runs (None: not plannable yet), "finished", "complete"}} for study.json."""
    status = {}
    for part in study.parts:
        plan = plan_parts(study, seeds, quick, finished)[part.name]
        planned = plan if isinstance(plan, list) else None
        made = sum(p.name in finished for p in planned) if planned is not None else 0
        status[part.name] = {"what": part.what, "planned": None if planned is None else len(planned),
                             "finished": made, "complete": planned is not None and made == len(planned)}
    return status


def describe_plan(study: Study | str, out: Path, seeds: int, quick: bool, part: str | None = None) -> list[str]:
    """Lines for `--dry-run`, training nothing: per part (or for the whole plan), the runs planned, how many
    `out`'s study.json already holds, and the most training sequences the others may take (each its
    epochs x batches x batch size: a run that stops at a criterion takes fewer)."""
    study = _study(study)
    _check_part(study, part)
    finished = {name: run for name, run in _previous(Path(out), study.name)[0].items() if intact(run)}
    if not study.parts:
        plans = {"all": points(study, seeds, quick)}
    else:
        plans = {name: plan for name, plan in plan_parts(study, seeds, quick, finished).items() if part in (None, name)}
    lines = []
    for name, plan in plans.items():
        if isinstance(plan, str):
            lines.append(f"{name}: not planned yet: {plan}")
            continue
        todo = [p.config for p in plan if p.name not in finished]
        most = sum(c.train.epochs * c.steps_per_epoch * c.train.batch_size for c in todo)
        lines.append(f"{name}: {len(plan)} runs, {len(plan) - len(todo)} already in {Path(out) / STUDY_FILE}, "
                     f"the other {len(todo)} at most {most:,} training sequences")
    return lines


def _check_part(study: Study, part: str | None) -> None:
    if part is None:
        return
    if not study.parts:
        raise UserError(f"the {study.name} study is not run in parts: drop --part {part}")
    names = [p.name for p in study.parts]
    if part not in names:
        raise UserError(f"the {study.name} study has no part {part!r}; choose from {', '.join(names)}")


def _run_study(study: Study, out: Path, context: RunContext, seeds: int, force: bool, say, workers, ray,
               part: str | None = None) -> dict:
    finished, earlier = ({}, []) if force else _previous(out, study.name)
    edited = [name for name, run in finished.items() if not intact(run)]
    if edited:
        say(f"{len(edited)} run(s) in {out / STUDY_FILE} changed after lstmlab wrote them (edited or damaged): "
            "making them again")
        finished = {name: run for name, run in finished.items() if name not in edited}
    planned = points(study, seeds, context.quick, finished)
    outside = set(finished) - {p.name for p in planned}
    if outside:  # a rerun never drops finished work silently
        raise UserError(f"{out / STUDY_FILE} holds {len(outside)} finished run(s) outside this plan (other --seeds or "
                        "--quick): rerun with the settings that made them, choose another --out, or pass --force "
                        "to drop them")
    # A study in parts makes the parts asked for, in order, each planned when it starts (an earlier part of
    # this same command may have just finished); any other study is one part, its whole plan.
    stages = [p.name for p in study.parts if part in (None, p.name)] or [None]
    if part is not None:
        plan = plan_parts(study, seeds, context.quick, finished)[part]
        if isinstance(plan, str):
            raise UserError(plan)
    # A reused run takes its group from today's plan, which may name more settings than it did.
    runs = {p.name: {**finished[p.name], "group": p.group} for p in planned if p.name in finished}
    if runs:
        say(f"{len(runs)} finished runs reused from {out / STUDY_FILE}")
    record = {"study": study.name, "complete": False, "seeds": seeds, "quick": context.quick, "runs": [],
              "environment": environment()}  # lstmlab/provenance.py
    if runs and earlier:
        record["earlier_environments"] = earlier
    failed = []
    with make_executor(workers, ray, notify=say) as executor:
        for stage in stages:
            if stage is None:
                todo = planned
            else:
                todo = plan_parts(study, seeds, context.quick, runs)[stage]
                if isinstance(todo, str):  # an earlier part of this command failed a run
                    break
            _run_points(study, todo, runs, record, planned, executor, context, out, say, failed, stage)
            if failed:
                break
            planned = points(study, seeds, context.quick, runs)
    planned = points(study, seeds, context.quick, runs)
    if study.parts:
        record["parts"] = part_status(study, seeds, context.quick, runs)
    if failed:
        point, outcome = failed[0]
        raise RunsFailedError(f"{len(failed)} of {len(planned)} runs failed, first {label(point)}: {outcome.error}; "
                              f"the others are kept in {out / STUDY_FILE}: rerun to retry them")
    record["runs"] = [runs[p.name] for p in planned if p.name in runs]
    complete = all(s["complete"] for s in record["parts"].values()) if study.parts else True
    return _conclude(study, record, out, say, complete)


def _run_points(study: Study, todo: list[Point], runs: dict, record: dict, planned: list[Point], executor,
                context: RunContext, out: Path, say, failed: list, stage: str | None) -> None:
    """Make the runs of `todo` not yet in `runs`, adding each to `runs` and study.json as it finishes."""
    missing = sum(p.name not in runs for p in todo)
    if missing:
        say(f"{missing} runs to make{f' in part {stage}' if stage else ''} on {executor.describe}")

    def job_args(point: Point) -> tuple:  # a config goes to a worker as a dict, as a sweep's does
        return study.measure, point.config.to_dict(), context

    order = {name: i for i, name in enumerate(dict.fromkeys([p.name for p in planned] + [p.name for p in todo]))}
    for point, outcome in run_grid(executor, todo, measure, job_args, runs, study.headline, say):
        if not outcome.ok:
            failed.append((point, outcome))
            continue
        runs[point.name] = sealed({"group": point.group, "seed": point.seed, "config": point.config.to_dict(),
                                   "metrics": outcome.value, "seconds": outcome.seconds})
        # plan order, whatever finished first
        record["runs"] = [runs[name] for name in sorted(runs, key=lambda n: order.get(n, len(order)))]
        write_atomic(out / STUDY_FILE, json.dumps(record, indent=2) + "\n")  # progress survives a crash


def recompute_study(study: Study | str, out: Path, verbose: bool = True) -> dict:
    """Summarise, draw and report again the complete study in `out` (claimed and locked as a study
    directory) from the runs its study.json holds, training nothing; returns what study.json holds."""
    study = _study(study)
    path = Path(out) / STUDY_FILE
    if not path.exists():
        raise UserError(f"--recompute reads {path}, which does not exist: run the study into --out first")
    with workdir.held(out, "study", "--out"):
        try:
            record = json.loads(path.read_text())
            runs, name, complete = record["runs"], record.get("study"), record.get("complete")
        except (ValueError, KeyError, TypeError) as err:
            raise UserError(f"{path} is damaged ({err}): rerun the study without --recompute") from None
        if name != study.name:
            raise UserError(f"{out} holds the {name!r} study, not {study.name!r}: name the study it holds")
        if not runs or not (complete or study.parts):  # a study in parts recomputes the parts made so far
            raise UserError(f"{path} is not complete: rerun the study without --recompute to finish its runs")
        edited = sum(not intact(run) for run in runs)
        if edited:
            raise UserError(f"{edited} run(s) in {path} changed after lstmlab wrote them (edited or damaged): restore "
                            "the file, or rerun the study without --recompute to make them again")
        return _conclude(study, record, Path(out), printer(verbose), bool(complete))


def _conclude(study: Study, record: dict, out: Path, say, complete: bool = True) -> dict:
    """Summarise, draw and report a study whose every run has finished (or, in parts, the parts made so
    far: `complete` False); write study.json and report.md."""
    record["summary"] = study.summarise(record["runs"])
    record["seconds"] = sum(run["seconds"] for run in record["runs"])
    record["complete"] = complete
    figures = study.draw(record, out)
    write_atomic(out / "report.md", study.render(record, figures))
    write_atomic(out / STUDY_FILE, json.dumps(record, indent=2) + "\n")
    say(f"wrote {out / STUDY_FILE}, {out / 'report.md'} and {', '.join(str(out / f) for f in figures)}")
    return record


def sealed(run: dict) -> dict:
    """A study run with a digest over all it holds but its group, which a rerun takes from today's plan."""
    return {**run, "digest": seal({k: v for k, v in run.items() if k not in ("group", "digest")})["digest"]}


def intact(run) -> bool:
    """Does a run read back from study.json still hold what lstmlab wrote (its digest matches)?"""
    return isinstance(run, dict) and check_seal({k: v for k, v in run.items() if k != "group"})


def finished_runs(out: Path, name: str) -> dict[str, dict]:
    """The runs in `out`'s study.json, by name (`run_name` of the config it holds, read as `RunConfig.from_dict`
    reads a file of any version); refuses another study's directory. Check each with `intact`."""
    return _previous(out, name)[0]


def _previous(out: Path, name: str) -> tuple[dict[str, dict], list[dict]]:
    """`finished_runs`, and the environments of the sessions that made them."""
    path = Path(out) / STUDY_FILE
    if not path.exists():
        return {}, []
    try:
        previous = json.loads(path.read_text())
        study = previous.get("study")
    except (ValueError, AttributeError, RecursionError) as err:
        raise UserError(f"{path} is damaged ({err}): rerun with --force to start the study over") from None
    if study != name:
        raise UserError(f"{out} holds the {study!r} study: choose another --out, or pass --force")
    try:
        runs = {run_name(RunConfig.from_dict(r["config"]), r["seed"]): r for r in previous["runs"]}
        environments = [*previous.get("earlier_environments", []), previous.get("environment")]
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as err:
        raise UserError(f"{path} is damaged ({err}): rerun with --force to start the study over") from None
    environments = [e for e in environments if isinstance(e, dict)]
    return runs, [e for i, e in enumerate(environments) if e not in environments[:i]]
