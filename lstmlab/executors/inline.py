"""Runs jobs in this process, one after another: for debugging (a breakpoint stops in the job) and for
jobs whose function a worker process could not import (one defined in a notebook or a test)."""

from lstmlab.executors.base import Job, call


class InlineExecutor:
    describe = "this process"
    parallel = 1

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass

    def run(self, jobs: list[Job]):
        for job in jobs:
            yield call(job)
