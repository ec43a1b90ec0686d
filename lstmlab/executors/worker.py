"""A local worker process: `python -P -m lstmlab.executors.worker READ_FD WRITE_FD CORES`.

Started by `local.LocalExecutor` as a fresh interpreter: `-P` keeps the working directory off
sys.path (a keras.py there must not be imported), and nothing of the driver's own script runs here.
It pins itself to CORES (e.g. "0,1"), limits its threads to as many before JAX is imported, then
runs the jobs it reads from READ_FD and writes their Outcomes to WRITE_FD, until it reads None.
It dies with its driver: a driver killed outright (SIGKILL, which no handler sees) leaves no worker
training on, unseen, for the rest of a long run.
"""

import ctypes
import os
import signal
import sys
from multiprocessing.connection import Connection

from lstmlab.executors.base import call, thread_environment

PR_SET_PDEATHSIG = 1  # prctl(2): the signal this process gets when its parent dies


def die_with_parent() -> None:
    """SIGTERM to this process when the driver that started it dies (Linux; elsewhere a no-op). A driver
    gone before this call is seen at the next job: its pipe is closed."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def main(read_fd: int, write_fd: int, cores: list[int]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the driver stops its workers itself
    die_with_parent()
    os.sched_setaffinity(0, cores)
    os.environ.update(thread_environment(len(cores)))
    jobs, outcomes = Connection(read_fd, writable=False), Connection(write_fd, readable=False)
    while True:
        try:
            job = jobs.recv()
        except EOFError:  # the driver has gone
            return
        if job is None:
            return
        outcomes.send(call(job))


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), [int(c) for c in sys.argv[3].split(",")])
