"""`lstmlab bench`: training throughput of lstmlab against what users would pick instead, in one run.

Each implementation runs in its own worker process (`impls.py`), so each backend is imported
alone. Workers are warmed up first; then the driver asks them in turn (A B C A B C ...) to train for
about `target_seconds`, so a noisy machine slows all of them alike. Reported: median ms per train step
over the repetitions, samples per second, seconds per 64,000-sample epoch, and each peer's time as a
ratio to lstmlab's (of the same cell: LSTM rows to `lstmlab`, GRU rows to `lstmlab_gru`) from the same run.
"""

import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from lstmlab.core import workdir
from lstmlab.core.files import write_atomic
from lstmlab.errors import UserError
from lstmlab.provenance import environment

# (batch size, sequence length); T = 1,000 is what a long-memory study (the adding and copy tasks) costs.
FULL = [(32, 25), (256, 25), (32, 200), (256, 200), (32, 1000)]
QUICK = [(32, 25)]
# The KERAS_BACKEND each worker runs under (None: not a Keras implementation). jax_minimal imports no
# Keras at all; "jax" only says which framework it measures.
BACKENDS = {"lstmlab": "jax", "lstmlab_2dev": "jax", "jax_minimal": "jax", "keras_fit": "jax", "keras_fit_tf": "tensorflow",
            "seed_style": "tensorflow", "torch": None, "lstmlab_gru": "jax", "keras_fit_gru": "jax", "torch_gru": None}
NEEDS = {"keras_fit_tf": "tensorflow", "seed_style": "tensorflow", "torch": "torch", "torch_gru": "torch"}
# The cell each implementation trains (the LSTM unless named here), and the row each cell's ratios are to.
CELLS = {"lstmlab_gru": "gru", "keras_fit_gru": "gru", "torch_gru": "gru"}
REFERENCE = {"lstm": "lstmlab", "gru": "lstmlab_gru"}
# `bench --quick` leaves the GRU rows out unless --impls names them, so that it stays about a minute.
QUICK_SKIPS = ("lstmlab_gru", "keras_fit_gru", "torch_gru")
EPOCH_SAMPLES = 64_000


def steps_per_unit(impl: str, seq_len: int) -> int:
    """Train steps per timed unit (a rep runs as many units as fill `target_seconds`).

    lstmlab: one compiled call of 250 steps, as `lstmlab run` makes them (50 at lengths up to 200 and 10
    at 1,000, to keep a unit short); lstmlab_2dev (the same with --devices 2) and jax_minimal (the same
    model in plain JAX) alike. Keras: one `fit` call over 100 batches (10 at 200, 5 at 1,000), so fit's
    per-call set-up is spread as over an epoch. The seed style and torch step from Python: 5 and 20
    steps (1 and 5 at 200, 1 and 1 at 1,000). A GRU row runs as its LSTM namesake.
    """
    tier = 0 if seq_len <= 25 else 1 if seq_len < 1000 else 2
    family = {"lstmlab_2dev": "lstmlab", "jax_minimal": "lstmlab", "keras_fit_tf": "keras_fit", "lstmlab_gru": "lstmlab",
              "keras_fit_gru": "keras_fit", "torch_gru": "torch"}.get(impl, impl)
    return {"lstmlab": (250, 50, 10), "keras_fit": (100, 10, 5), "seed_style": (5, 1, 1),
            "torch": (20, 5, 1)}[family][tier]


class Worker:
    """One implementation in its own process; `ask` sends a command and returns the JSON answer."""

    def __init__(self, impl: str, batch: int, seq_len: int):
        self.impl, self.steps = impl, steps_per_unit(impl, seq_len)
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
        if BACKENDS[impl]:
            env["KERAS_BACKEND"] = BACKENDS[impl]
        root = str(Path(__file__).resolve().parents[1])
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
        # stderr goes to a file, not a pipe: a chatty worker must never block on a full pipe.
        self.log = tempfile.TemporaryFile(mode="w+")
        self.process = subprocess.Popen(
            # -P: the working directory is not put on the import path, so a keras.py lying there is not run.
            [sys.executable, "-P", "-m", "lstmlab.bench.impls", impl, str(batch), str(seq_len), str(self.steps)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, text=True, env=env)

    def ask(self, command: str | None = None) -> dict:
        if command is not None:
            self.process.stdin.write(command + "\n")
            self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            self.process.wait(timeout=60)
            self.log.seek(0)
            error = self.log.read().strip().splitlines()
            raise RuntimeError(f"{self.impl} worker died: {error[-1] if error else 'no output'}")
        return json.loads(line)

    def close(self):
        if self.process.poll() is None:
            self.process.stdin.close()
            self.process.wait(timeout=60)
        self.log.close()


def available(impl: str) -> str | None:
    """None if `impl` can run here, else why not."""
    module = NEEDS.get(impl)
    if module and importlib.util.find_spec(module) is None:
        return f"{module} is not installed (pip install -e '.[{module}]')"
    return None


def bench_config(batch: int, seq_len: int, impls: list[str], reps: int, target_seconds: float, log) -> tuple:
    workers, rows, errors = {}, [], {}
    for impl in impls:
        workers[impl] = Worker(impl, batch, seq_len)
    try:
        for impl, worker in list(workers.items()):
            try:
                worker.ask()  # wait until warmed up
            except RuntimeError as err:
                errors[impl] = str(err)
                worker.close()
                del workers[impl]
        units = {}
        for impl, worker in workers.items():
            seconds = worker.ask("run 1")["seconds"]
            units[impl] = max(1, round(target_seconds / max(seconds, 1e-6)))
        timings = {impl: [] for impl in workers}
        for _ in range(reps):
            for impl, worker in workers.items():  # interleaved: A B C A B C ...
                seconds = worker.ask(f"run {units[impl]}")["seconds"]
                timings[impl].append(1000 * seconds / (units[impl] * worker.steps))
        evaluation = None
        if "lstmlab" in workers:
            val_pass = statistics.median(workers["lstmlab"].ask("eval")["seconds"] for _ in range(3))
            epoch = statistics.median(timings["lstmlab"]) / 1000 * EPOCH_SAMPLES / batch
            evaluation = {"batch_size": batch, "seq_len": seq_len, "val_pass_seconds": val_pass,
                          "train_epoch_seconds": epoch, "fraction": val_pass / epoch}
    finally:
        for worker in workers.values():
            worker.close()
    for impl, values in timings.items():
        ms, cell = statistics.median(values), CELLS.get(impl, "lstm")
        reference = statistics.median(timings[REFERENCE[cell]]) if REFERENCE[cell] in timings else None
        rows.append({
            "impl": impl, "cell": cell, "batch_size": batch, "seq_len": seq_len, "ms_per_step": ms,
            "samples_per_s": batch / ms * 1000, "seconds_per_epoch": ms / 1000 * EPOCH_SAMPLES / batch,
            "ratio_to_lstmlab": ms / reference if reference else None, "ms_per_step_reps": values,
        })
        log(f"  {impl:13s} batch {batch:3d} seq_len {seq_len:4d}: {ms:8.3f} ms/step")
    return rows, errors, evaluation


def machine_info() -> dict:
    """bench.json's "machine": the provenance record of lstmlab/provenance.py (CPU, cores, versions, commit).

    Its "backend" is the driver's; each row's backend is the worker's, in BACKENDS.
    """
    return environment()


def run_bench(out: Path, quick: bool = False, reps: int = 5, impls: list[str] | None = None, log=print) -> dict:
    """Measure the available implementations (default: all) on each configuration; write bench.json.

    `out` is claimed and locked as a bench directory for the whole run (see core/workdir.py).
    """
    with workdir.held(out, "bench", "--out") as out:
        return _run_bench(out, quick, reps, impls, log)


def _run_bench(out: Path, quick: bool, reps: int, impls: list[str] | None, log) -> dict:
    asked, requested = impls is not None, impls or [i for i in BACKENDS if not (quick and i in QUICK_SKIPS)]
    impls, skipped = [], []
    for impl in requested:
        reason = available(impl)
        if reason and asked:  # asked for by name: refused before any work, an earlier bench.json kept
            raise UserError(f"--impls {impl}: it cannot run here ({reason}); install it or drop it from --impls")
        if reason:
            skipped.append({"impl": impl, "reason": reason})
            log(f"skipping {impl}: {reason}")
        else:
            impls.append(impl)
    results, evaluations = [], []
    target_seconds = 0.3 if quick else 0.5
    for batch, seq_len in QUICK if quick else FULL:
        log(f"batch {batch}, seq_len {seq_len}: warming up {', '.join(impls)}")
        rows, errors, evaluation = bench_config(batch, seq_len, impls, reps, target_seconds, log)
        results += rows
        skipped += [{"impl": i, "batch_size": batch, "seq_len": seq_len, "reason": e} for i, e in errors.items()]
        if evaluation:
            evaluations.append(evaluation)
    if not results:
        reasons = "; ".join(f"{x['impl']}: {x['reason']}" for x in skipped)
        raise UserError(f"no implementation could be timed ({reasons}): nothing was written, "
                        f"{out / 'bench.json'} is as it was")
    report = {"machine": machine_info(), "settings": {"quick": quick, "reps": reps, "units": 25, "layers": 1,
              "target_seconds_per_rep": target_seconds}, "results": results, "evaluation": evaluations,
              "skipped": skipped}
    write_atomic(out / "bench.json", json.dumps(report, indent=2) + "\n")
    return report


def format_table(report: dict) -> str:
    # "x lstmlab": the time as a ratio to lstmlab's of the same cell (lstmlab_gru for the GRU rows)
    lines = ["| impl | batch | seq_len | ms/step | samples/s | s/epoch | x lstmlab |", "|---|---:|---:|---:|---:|---:|---:|"]
    for r in report["results"]:
        ratio = "" if r["ratio_to_lstmlab"] is None else f"{r['ratio_to_lstmlab']:.2f}"
        lines.append(f"| {r['impl']} | {r['batch_size']} | {r['seq_len']} | {r['ms_per_step']:.3f} | "
                     f"{r['samples_per_s']:,.0f} | {r['seconds_per_epoch']:.1f} | {ratio} |")
    for e in report["evaluation"]:
        lines.append(f"\nlstmlab validation pass (16,000 samples) at batch {e['batch_size']}, seq_len {e['seq_len']}: "
                     f"{e['val_pass_seconds']:.3f} s = {100 * e['fraction']:.1f}% of a training epoch")
    for s in report["skipped"]:
        lines.append(f"\nskipped {s['impl']}: {s['reason']}")
    return "\n".join(lines)
