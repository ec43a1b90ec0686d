"""Runs jobs in worker processes on this machine, each pinned to its share of the cores.

Training a model of lstmlab's size is latency-bound (small matrix products one step after another),
so one process barely uses a second core; N processes side by side give nearly N times the
throughput. Each worker is a fresh interpreter (`worker.py`; not forked: JAX is not fork-safe),
pinned to its cores with sched_setaffinity and limited to as many threads, and takes one job at a
time over a pipe, so its imports and compiled programs are paid once per worker, not once per job.

A worker that dies in a job (killed, out of memory) is replaced and the job is given again, up to
`retries` times; jobs that keep checkpoints (a run) continue from the last one. Ctrl-C (or any
exception in the driver) stops every worker before it propagates.
"""

import os
import subprocess
import sys
from collections import deque
from multiprocessing.connection import Connection, wait

from lstmlab.errors import UserError
from lstmlab.executors.base import Job, Outcome


def available_cores() -> list[int]:
    """The cores this process may run on (a container's or taskset's share, not the machine's count)."""
    return sorted(os.sched_getaffinity(0))


def check_workers(workers: int | None) -> None:
    """Refuse more worker processes than this process has cores: each would only wait for a core while
    holding its own copy of Keras and JAX (about half a GiB)."""
    cores = len(available_cores())
    if workers is not None and workers > cores:
        raise UserError(f"--workers {workers} is more than the {cores} core{'s' if cores > 1 else ''} this process "
                        f"may use: give at most --workers {cores}")


def core_shares(workers: int, cores: list[int]) -> list[list[int]]:
    """Split `cores` over `workers`: contiguous shares as equal as they go, or one core each, round-robin,
    if there are fewer cores than workers."""
    if workers >= len(cores):
        return [[cores[i % len(cores)]] for i in range(workers)]
    n = len(cores)
    return [cores[i * n // workers:(i + 1) * n // workers] for i in range(workers)]


class LocalExecutor:
    """`workers` worker processes (default: one per available core), started on entry, stopped on exit."""

    def __init__(self, workers: int | None = None, retries: int = 2, notify=None):
        check_workers(workers)
        cores = available_cores()
        self.workers = workers or len(cores)
        self.parallel = self.workers  # jobs it runs at once
        self.shares = core_shares(self.workers, cores)
        self.retries = retries
        self.notify = notify or (lambda line: None)
        self.describe = f"{self.workers} local worker process{'es' if self.workers > 1 else ''}"
        self._slots: list[dict] = []  # per worker: process, connection, the job it holds

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _start(self, index: int) -> dict:
        from_driver, to_worker = os.pipe()  # (read end, write end)
        from_worker, to_driver = os.pipe()
        process = subprocess.Popen(
            [sys.executable, "-P", "-m", "lstmlab.executors.worker", str(from_driver), str(to_driver),
             ",".join(map(str, self.shares[index]))], pass_fds=(from_driver, to_driver), stdin=subprocess.DEVNULL)
        os.close(from_driver)
        os.close(to_driver)
        return {"process": process, "send": Connection(to_worker, readable=False),
                "receive": Connection(from_worker, writable=False), "job": None}

    def run(self, jobs: list[Job]):
        """Yield an Outcome for every job, in the order they finish."""
        pending = deque(jobs)
        attempts = {job.key: 0 for job in jobs}
        while len(self._slots) < min(self.workers, len(jobs)):
            self._slots.append(self._start(len(self._slots)))
        while pending or any(slot["job"] for slot in self._slots):
            for slot in self._slots:
                if slot["job"] is None and pending:
                    slot["job"] = pending.popleft()
                    attempts[slot["job"].key] += 1
                    slot["send"].send(slot["job"])
            ready = wait([slot["receive"] for slot in self._slots if slot["job"] is not None])
            for index, slot in enumerate(self._slots):
                if slot["receive"] not in ready:
                    continue
                job, slot["job"] = slot["job"], None
                try:
                    yield slot["receive"].recv()
                    continue
                except (EOFError, OSError):  # the pipe closed: the worker died in the job
                    pass
                code = slot["process"].wait()
                self._stop(slot)
                self._slots[index] = self._start(index)
                cause = f"signal {-code}" if code < 0 else f"exit status {code}"
                if attempts[job.key] <= self.retries:
                    self.notify(f"{job.key}: its worker process died ({cause}); giving it to a new one")
                    pending.appendleft(job)  # given again; a run continues from its checkpoint
                else:
                    yield Outcome(job.key, error=f"its worker process died {attempts[job.key]} times (last: {cause})",
                                  kind="crash")

    def close(self) -> None:
        """Stop every worker: idle ones are asked to finish, busy ones (an interrupted sweep) terminated."""
        for slot in self._slots:
            if slot["job"] is None:
                try:
                    slot["send"].send(None)
                except OSError:
                    pass
        for slot in self._slots:
            self._stop(slot, wait_s=5 if slot["job"] is None else 0)
        self._slots = []

    @staticmethod
    def _stop(slot: dict, wait_s: float = 0) -> None:
        process = slot["process"]
        try:
            process.wait(timeout=wait_s)
        except subprocess.TimeoutExpired:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        slot["send"].close()
        slot["receive"].close()
