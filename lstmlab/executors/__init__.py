"""Where runs execute: worker processes on this machine (`local.py`), a Ray cluster (`ray_cluster.py`),
or this process (`inline.py`).

Both take `Job`s and hand back `Outcome`s as the jobs finish (`base.py`); a job's result does not
depend on which executor ran it.
"""

from lstmlab.executors.base import Job, Outcome


def make_executor(workers: int | None = None, ray_address: str | None = None, notify=None):
    """The Ray executor when `ray_address` is given (an address or "auto"), else `workers` local processes
    (default: one per core; 0: this process). `notify(line)` hears of a local worker that died."""
    if workers == 0:
        from lstmlab.executors.inline import InlineExecutor

        return InlineExecutor()
    if ray_address is not None:
        from lstmlab.executors.ray_cluster import RayExecutor

        return RayExecutor(ray_address)
    from lstmlab.executors.local import LocalExecutor

    return LocalExecutor(workers, notify=notify)


__all__ = ["Job", "Outcome", "make_executor"]
