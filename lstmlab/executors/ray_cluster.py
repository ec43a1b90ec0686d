"""Runs jobs as Ray tasks on an existing cluster: `ray start --head` on a laptop, a cloud or SLURM cluster.

Each job is one task with one CPU, so Ray places as many side by side as the cluster has cores; its
worker processes get the same one-thread environment as lstmlab's local workers. A task whose worker
or node dies is retried by Ray (`max_retries`), and a run continues from its last checkpoint — which
is why run directories must be on a path every node sees (docs/usage/sweep.md says so). Return values (a
run's metrics) come back to the driver, which writes the sweep's tables.

lstmlab must be installed, at the same version, on every node; Ray is an optional extra.
"""

from lstmlab.errors import UserError
from lstmlab.executors.base import Job, Outcome, call, thread_environment

INSTALL_HINT = 'pip install "lstmlab[ray]" (from a clone: pip install -e ".[ray]")'


def require_ray():
    """The ray module, or a one-line UserError saying how to install it."""
    try:
        import ray
    except ImportError:
        raise UserError(f"--ray needs Ray, which is not installed: {INSTALL_HINT}") from None
    return ray


CONNECT_SECONDS = 30  # how long a cluster's address may take to answer (LSTMLAB_RAY_CONNECT_SECONDS)


def check_reachable(address: str, seconds: float) -> None:
    """Refuse, within `seconds`, an address HOST:PORT where nothing answers (Ray itself retries for minutes)."""
    import socket

    host, _, port = address.rpartition(":")
    if address == "auto" or not port.isdigit() or address.startswith(("ray://", "http")):
        return  # "auto" reads this machine's cluster file; a client URL is Ray's to check
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=seconds).close()
    except OSError as err:
        raise UserError(f"--ray {address}: nothing answers there within {seconds:g} s ({err.strerror or err}): start "
                        "a cluster with `ray start --head`, or give its address") from None


def connect_timeout() -> float:
    """How long a cluster's address may take to answer: LSTMLAB_RAY_CONNECT_SECONDS, else CONNECT_SECONDS."""
    import os

    text = os.environ.get("LSTMLAB_RAY_CONNECT_SECONDS", str(CONNECT_SECONDS))
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds < float("inf"):  # NaN fails too
        raise UserError(f"LSTMLAB_RAY_CONNECT_SECONDS must be a positive number of seconds, got {text!r}: set it "
                        f"to one (default {CONNECT_SECONDS}), or unset it")
    return seconds


class RayExecutor:
    """Connects to the cluster at `address` ("auto": the one this machine belongs to) on entry."""

    def __init__(self, address: str, retries: int = 2, connect_seconds: float | None = None):
        self.address = address
        self.retries = retries
        self.connect_seconds = connect_timeout() if connect_seconds is None else connect_seconds
        self.describe = f"the Ray cluster at {address}"
        self._ray = require_ray()
        self._task = None
        self._pending = []

    def __enter__(self):
        from lstmlab import plugins

        check_reachable(self.address, self.connect_seconds)
        ray = self._ray
        runtime_env = {"env_vars": thread_environment(1)}
        if plugins.shipped():  # the user's own cells and tasks travel with the jobs to every node
            runtime_env["py_modules"] = plugins.shipped()
        try:
            ray.init(address=self.address, log_to_driver=False, logging_level="ERROR", runtime_env=runtime_env)
        except (ConnectionError, RuntimeError, ValueError) as err:
            raise UserError(f"--ray {self.address}: cannot connect to a Ray cluster ({' '.join(str(err).split())[:200]}): "
                            "start one with `ray start --head`, or give its address") from None
        self.parallel = max(1, int(ray.cluster_resources().get("CPU", 1)))  # jobs it runs at once
        self._task = ray.remote(num_cpus=1, max_retries=self.retries, retry_exceptions=False)(call)
        return self

    def __exit__(self, *exc):
        self.close()

    def run(self, jobs: list[Job]):
        """Yield an Outcome for every job, in the order they finish."""
        ray = self._ray
        refs = {self._task.remote(job): job for job in jobs}
        self._pending = list(refs)
        while self._pending:
            done, self._pending = ray.wait(self._pending, num_returns=1)
            job = refs[done[0]]
            try:
                yield ray.get(done[0])
            except ray.exceptions.RayError as err:  # the task's worker or node died past its retries
                first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
                yield Outcome(job.key, error=f"Ray lost the task {self.retries + 1} times ({first})", kind="crash")

    def close(self) -> None:
        ray = self._ray
        for ref in self._pending:
            ray.cancel(ref, force=True)
        self._pending = []
        if ray.is_initialized():
            ray.shutdown()
