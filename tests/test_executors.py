"""Executors: every job comes back once, failures as one-line outcomes, a dead worker's job is given again."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lstmlab.errors import NonFiniteLossError, UserError
from lstmlab.executors import Job, make_executor
from conftest import process_alive
from lstmlab.executors.local import core_shares


def square(x):
    return x * x


def refuse(x):
    raise UserError(f"bad value {x}: fix it")


def diverge(x):
    raise NonFiniteLossError("loss is nan")


def crash_once(marker):
    """Kill this worker the first time (the marker file does not exist yet), answer the second time."""
    marker = Path(marker)
    if not marker.exists():
        marker.write_text("killed once")
        os.kill(os.getpid(), signal.SIGKILL)
    return {"pid": os.getpid(), "affinity": sorted(os.sched_getaffinity(0)), "xla": os.environ["XLA_FLAGS"]}


def always_crash(_):
    os.kill(os.getpid(), signal.SIGKILL)


@pytest.fixture
def importable_here(monkeypatch):
    """Workers import the job functions of this test module by name."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")]))


@pytest.mark.parametrize("workers", [0, 2])
def test_every_job_comes_back_with_its_value_or_its_error(workers, importable_here):
    jobs = [Job(f"sq{i}", square, (i,)) for i in range(5)] + [Job("bad", refuse, (7,)), Job("nan", diverge, (0,))]
    with make_executor(workers) as executor:
        outcomes = {o.key: o for o in executor.run(jobs)}
    assert {k: o.value for k, o in outcomes.items() if o.ok} == {f"sq{i}": i * i for i in range(5)}
    assert outcomes["bad"].kind == "user" and outcomes["bad"].error == "bad value 7: fix it"
    assert outcomes["nan"].kind == "diverged"
    with pytest.raises(UserError, match="bad value 7"):
        outcomes["bad"].reraise()


def test_a_dead_workers_job_is_given_to_a_new_worker(tmp_path, importable_here):
    heard = []
    with make_executor(2, notify=heard.append) as executor:
        outcomes = {o.key: o for o in executor.run([Job("a", crash_once, (str(tmp_path / "a"),)),
                                                    Job("b", square, (3,)), Job("dies", always_crash, (0,))])}
    assert outcomes["a"].ok and outcomes["b"].value == 9
    assert outcomes["a"].value["xla"].endswith("intra_op_parallelism_threads=1")  # one core, one thread
    assert len(outcomes["a"].value["affinity"]) == 1
    assert outcomes["dies"].kind == "crash" and "died 3 times (last: signal 9)" in outcomes["dies"].error
    assert any("a: its worker process died (signal 9)" in line for line in heard)


def sleep_and_say(marker, seconds):
    """Write this worker's pid to `marker`, then work for `seconds` without a word to the driver (a study's
    long run): nothing but the kernel tells this worker that its driver has died."""
    Path(marker).write_text(str(os.getpid()))
    time.sleep(seconds)


def test_a_driver_killed_outright_takes_its_busy_worker_with_it(tmp_path, importable_here):
    marker = tmp_path / "worker.pid"
    driver = subprocess.Popen([sys.executable, "-c", (
        "from lstmlab.executors import Job, make_executor\n"
        "from test_executors import sleep_and_say\n"
        "with make_executor(1) as executor:\n"
        f"    list(executor.run([Job('busy', sleep_and_say, ({str(marker)!r}, 120))]))\n")])
    deadline = time.monotonic() + 60
    while not (marker.exists() and marker.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    worker = int(marker.read_text())
    driver.kill()  # SIGKILL: no handler in the driver runs, so it cannot stop its workers itself
    driver.wait()
    deadline = time.monotonic() + 10
    while process_alive(worker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not process_alive(worker), "the worker went on working after its driver was killed"


def test_cores_are_shared_out_without_overlap_while_there_are_enough():
    assert core_shares(2, [0, 1, 2, 3]) == [[0, 1], [2, 3]]
    assert core_shares(3, [0, 1]) == [[0], [1], [0]]
    assert core_shares(1, [4, 5]) == [[4, 5]]
    assert core_shares(2, [0, 1, 2]) == [[0], [1, 2]]  # every core used


def test_a_ray_address_where_nothing_answers_is_refused_at_once():
    import socket
    import time

    from lstmlab.errors import UserError
    from lstmlab.executors.ray_cluster import check_reachable

    with socket.socket() as probe:  # a loopback port nobody listens on: bound, then closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.perf_counter()
    with pytest.raises(UserError, match=f"--ray 127.0.0.1:{port}: nothing answers there"):
        check_reachable(f"127.0.0.1:{port}", seconds=5)
    assert time.perf_counter() - started < 5
    check_reachable("auto", seconds=5)  # this machine's cluster: Ray finds it itself
