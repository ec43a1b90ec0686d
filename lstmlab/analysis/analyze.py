"""`lstmlab analyze`: the fixed and slow points of a finished run's models, their linearisation, and
whether they form a line along the quantity the task holds; written beside each model.

    models/NAME/analysis.json     what was found (below), sealed with the three files below and the weights
    models/NAME/fixed_points.npz  points (K, d), q, speed, slow (K,) bool, stable, jacobian (K, d, d),
                                  input_jacobian (K, d, m), eigenvalues (K, d), starts (N, d), readout,
                                  and, for a task with a held quantity, probe and encoding (d,)
    models/NAME/dynamics.png      trajectories and points in the top three principal components
    models/NAME/spectra.png       the eigenvalues at every point against the unit circle

The starting states are states along the model's own trajectories on the run's test sequences. A
kept point is *fixed* when q < FIXED_Q (zero to float32 precision) and *slow* otherwise: it moves
less than SLOW times the median step ‖s_{t+1} − s_t‖ the state takes along those trajectories.
"""

import io
import json
import time
from pathlib import Path

import numpy as np

from lstmlab import tasks
from lstmlab.analysis.figures import draw_dynamics, draw_spectra
from lstmlab.analysis.fixed_points import FinderSettings, find_fixed_points
from lstmlab.analysis.line_attractor import held_quantity, line_attractor, sum_directions
from lstmlab.analysis.linearise import linearise, time_constant
from lstmlab.analysis.state import model_step
from lstmlab.errors import UserError

SEQUENCES = 256  # test sequences whose trajectories give the starting states and fit the probe
STARTS = 1024
FIXED_Q = 1e-10  # q below this is zero to float32 precision: a fixed point
SLOW = 0.1  # a slow point moves less per step than this fraction of the median step along trajectories
MODES = 3  # the slowest modes reported per point
FILES = ("analysis.json", "fixed_points.npz", "dynamics.png", "spectra.png")


def analyze_model(model, task, x, u, starts: int = STARTS, settings: FinderSettings | None = None,
                  seed: int = 0) -> tuple[dict, dict, np.ndarray]:
    """Analyse one trained model on sequences x (B, T, m) with the input held at u (m,).

    Returns (the record analysis.json holds, the arrays fixed_points.npz holds, the trajectories
    (B, T + 1, d)); writes nothing.
    """
    dynamics = model_step(model)
    trajectories = dynamics.trajectories(x)  # (B, T + 1, d)
    visited = trajectories[:, 1:].reshape(-1, dynamics.size)  # every state after a step
    rng = np.random.default_rng(seed)
    begin = visited[rng.choice(len(visited), starts, replace=len(visited) < starts)]  # (N, d)
    step_size = float(np.median(np.linalg.norm(np.diff(trajectories, axis=1), axis=2)))
    # Never below FIXED_Q: a model whose trajectories do not move still has its fixed points kept.
    settings = settings or FinderSettings(q_tol=max(0.5 * (SLOW * step_size) ** 2, FIXED_Q))
    found = find_fixed_points(dynamics.step, begin, u, settings)
    linear = linearise(dynamics.step, found.points, u)
    stable, slow = linear.stable, found.q >= FIXED_Q

    quantity = held_quantity(task, x)
    directions = None if quantity is None else sum_directions(trajectories[:, 1:], quantity)
    line = (line_attractor(found.points, linear, dynamics.readout, directions) if directions is not None
            else {"skipped": f"the {task.name} task declares no scalar quantity to hold (no held_quantity)"})

    taus = linear.time_constants(MODES)  # (K, MODES)
    record = {
        "model": model.name, "cell": model.cell_name, "layers": len(model.rnns), "units": model.units,
        "input": [float(v) for v in np.asarray(u).ravel()],
        "state": [{"layer": p.layer, "name": p.name, "size": p.size} for p in dynamics.parts],
        "sequences": int(len(x)), "starts": int(starts), "seconds": round(found.seconds, 2),
        "trajectory_step": step_size, "finder": settings.to_dict(), "fixed_q": FIXED_Q, "slow": SLOW,
        "kept": len(found), "fixed": int((~slow).sum()), "slow_points": int(slow.sum()),
        "stable": int(stable.sum()), "unstable": int((~stable).sum()), "dropped": found.dropped,
        "fixed_points": [_point(found.q[i], found.speed[i], stable[i], linear.eigenvalues[i, :MODES], taus[i])
                         for i in np.flatnonzero(~slow)],
        "slowest_mode": _spread(np.abs(linear.eigenvalues[:, 0])) if len(found) else None,
        "line_attractor": line,
    }
    arrays = {"points": found.points, "q": found.q, "speed": found.speed, "slow": slow, "stable": stable,
              "jacobian": linear.jacobian, "input_jacobian": linear.input_jacobian,
              "eigenvalues": linear.eigenvalues, "starts": begin, "readout": dynamics.readout}
    if directions is not None:
        arrays.update(probe=directions["probe"], encoding=directions["encoding"])
    return record, arrays, trajectories


def _point(q, speed, stable, eigenvalues, taus) -> dict:
    return {"q": float(q), "speed": float(speed), "stable": bool(stable),
            "abs_eigenvalues": [float(v) for v in np.abs(eigenvalues)], "time_constants": [_finite(t) for t in taus]}


def _spread(magnitudes) -> dict:
    """The slowest mode's |λ| over the kept points: median, largest, and their time constants."""
    median, largest = float(np.median(magnitudes)), float(np.max(magnitudes))
    return {"median_abs_eigenvalue": median, "max_abs_eigenvalue": largest,
            "median_time_constant": _finite(time_constant(median)), "max_time_constant": _finite(time_constant(largest))}


def _finite(value):
    """A float for JSON, None for ∞ (a mode that does not decay)."""
    value = float(value)
    return value if np.isfinite(value) else None


def held_input(text_or_value, width: int) -> np.ndarray:
    """The constant input u (width,) from None (zeros), a number (every channel) or one number per channel."""
    if text_or_value is None:
        return np.zeros(width, np.float32)
    wanted = "a number" if width == 1 else f"one number or {width} comma-separated numbers (one per input channel)"
    values = text_or_value
    if isinstance(values, str):
        try:
            values = [float(v) for v in values.split(",")]
        except ValueError:
            raise UserError(f"--input must be {wanted}, got {text_or_value!r}") from None
    values = np.atleast_1d(np.asarray(values, np.float64)).ravel()
    if len(values) == 1:
        values = np.repeat(values, width)
    if len(values) != width or not np.all(np.isfinite(values)):
        raise UserError(f"--input must be {wanted}, finite, got {text_or_value!r}")
    return values.astype(np.float32)


def analyze_run(run_dir, model: str | None = None, u=None, cache_dir=Path("cache"), starts: int = STARTS,
                verbose: bool = True) -> dict:
    """Analyse model `model` (default: every model) of the finished run in `run_dir`; {name: record}.

    Writes FILES into each model's directory and adds the dynamics section to the run's report.md.
    """
    from lstmlab.core import workdir
    from lstmlab.core.data import load_or_create
    from lstmlab.evaluate import load_trained, model_names
    from lstmlab.experiment import saved_config

    run_dir = Path(run_dir)
    names = model_names(run_dir)  # one line for a missing or unfinished run
    if model is not None and model not in names:
        raise UserError(f"{run_dir} has no model {model!r}: choose one of {', '.join(names)}")
    if isinstance(starts, bool) or not isinstance(starts, int) or starts < 1:
        raise UserError(f"--starts must be a positive integer, got {starts!r}")
    config = saved_config(run_dir)
    task = tasks.of(config.task)
    u = held_input(u, task.input_width)
    workdir.check(cache_dir, "cache", "--cache-dir")
    say = print if verbose else (lambda *_: None)
    records = {}
    chosen = [model] if model is not None else names
    with workdir.held(run_dir, "run", "RUN"):
        for name in chosen:  # before any work: nothing is written over a file lstmlab did not write
            check_replaceable(run_dir, name)
        data, _ = load_or_create(config.task, Path(cache_dir), log=lambda message: None)
        x = data["test"][0][:SEQUENCES]
        x = x if x.ndim == 3 else x[..., None]  # (B, T, m)
        for name in chosen:
            trainer, _ = load_trained(run_dir, name)
            started = time.perf_counter()
            record, arrays, trajectories = analyze_model(trainer.model, task, x, u, starts)
            _write(run_dir, name, record, arrays, trajectories)
            records[name] = record
            say(summary_line(record) + f" (all: {time.perf_counter() - started:.1f} s)")
        _write_report(run_dir)
    return records


def summary_line(record: dict) -> str:
    """One line of what was found, as the command prints it."""
    line = record["line_attractor"]
    text = (f"{record['model']}: fixed points: {record['starts']:,} starts, {record['kept']} kept ({record['fixed']} "
            f"fixed, {record['slow_points']} slow; {record['stable']} stable), {record['seconds']:.1f} s")
    if "variance_on_first_axis" in line:
        text += (f"; {line['variance_on_first_axis']:.0%} of their variance on one axis, "
                 f"|λ| {line['eigenvalue_along_axis']:.3f} along it")
    return text


def _write(run_dir: Path, name: str, record: dict, arrays: dict, trajectories) -> None:
    """The model's FILES, each written whole (write_atomic), analysis.json last and sealed over the others."""
    from lstmlab.core import workdir
    from lstmlab.core.files import seal, write_atomic

    directory = workdir.no_links(run_dir, "models", name)
    for file in FILES:
        workdir.no_links(directory, file)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    write_atomic(directory / "fixed_points.npz", buffer.getvalue())
    title = f"{name}, input held at {record['input']}"
    for file, draw in (("dynamics.png", lambda out: draw_dynamics(trajectories, arrays["points"], arrays["stable"], out,
                                                                   title)),
                       ("spectra.png", lambda out: draw_spectra(arrays["eigenvalues"], arrays["stable"], out, title))):
        buffer = io.BytesIO()
        draw(buffer)
        write_atomic(directory / file, buffer.getvalue())
    record = {**record, "figures": ["dynamics.png", "spectra.png"]}
    sealed = seal(record, *_sealed_files(directory))
    write_atomic(directory / "analysis.json", json.dumps(sealed, indent=2) + "\n")


def check_replaceable(run_dir: Path, name: str) -> None:
    """Refuse, in one line, to analyse model `name` again where its FILES are not lstmlab's last analysis of
    it: an analysis.json whose seal fails (edited, a user's own, or an analysis cut short), or any of the
    other files without an analysis.json."""
    from lstmlab.core import workdir

    directory = workdir.no_links(run_dir, "models", name)
    present = [file for file in FILES if (directory / file).exists() or (directory / file).is_symlink()]
    if not present or ("analysis.json" in present and read_analysis(run_dir, name) is not None):
        return
    raise UserError(f"{directory} holds {', '.join(present)} that lstmlab's last analysis did not leave (edited, "
                    "your own, or an analysis cut short): move them away and rerun")


def _sealed_files(directory: Path) -> list[Path]:
    """What analysis.json's digest covers besides itself: the other FILES and the model's weights."""
    return [directory / file for file in FILES if file != "analysis.json"] + [directory / "model.weights.h5"]


def read_analysis(run_dir: Path, name: str) -> dict | None:
    """models/NAME/analysis.json as lstmlab wrote it for the model's current weights, or None."""
    from lstmlab.core.files import check_seal

    directory = Path(run_dir) / "models" / name
    try:
        record = json.loads((directory / "analysis.json").read_text())
    except (OSError, ValueError):
        return None
    if not check_seal(record, *_sealed_files(directory)):
        return None
    return {k: v for k, v in record.items() if k != "digest"}


def _write_report(run_dir: Path) -> None:
    """report.md again: the run's own report, then the dynamics of every model analysed so far."""
    from lstmlab.core.files import write_atomic
    from lstmlab.experiment import read_results
    from lstmlab.report import render_dynamics, render_report

    results = read_results(run_dir)
    analyses = {m["name"]: read_analysis(run_dir, m["name"]) for m in results["models"]}
    analyses = {name: record for name, record in analyses.items() if record is not None}
    write_atomic(run_dir / "report.md", render_report(results) + render_dynamics(analyses))
