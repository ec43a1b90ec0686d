"""Runs jobs on an executor and prints a line per finished job, with an overall bar and an ETA."""

import time
from typing import Callable

from lstmlab.errors import one_line


def printer(verbose: bool) -> Callable[[str], None]:
    """`say(line)`: print it (flushed, as the lines are progress) when verbose, else nothing. Control
    characters (in a path a user chose) are escaped."""
    return (lambda message: print(one_line(message), flush=True)) if verbose else (lambda message: None)


def run_jobs(executor, jobs, label, headline, say, done_before: int = 0, total: int | None = None):
    """Yield each job's Outcome as it finishes, printing `[i/total] label(key): headline(value) (s)  bar  ETA`.

    `done_before` jobs of `total` were finished earlier (reused); the ETA counts only this session's pace.
    """
    total = total if total is not None else done_before + len(jobs)
    started, finished = time.perf_counter(), 0
    for outcome in executor.run(jobs):
        finished += 1
        done = done_before + finished
        what = headline(outcome.value) if outcome.ok else f"FAILED: {outcome.error}"
        left = (time.perf_counter() - started) / finished * (total - done)
        filled = round(20 * done / total)
        say(f"[{done}/{total}] {label(outcome.key)}: {what} ({outcome.seconds:.1f} s)  "
            f"[{'#' * filled}{'.' * (20 - filled)}] {_clock(left)} left")
        yield outcome


def _clock(seconds: float) -> str:
    seconds = round(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600 else \
        f"{seconds // 60}:{seconds % 60:02d}"
