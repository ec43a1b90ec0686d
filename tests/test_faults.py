import os
import subprocess
import sys

from conftest import ROOT

SCRIPT = """
from lstmlab.core.faults import fault_point
for i in range(3):
    print(i, flush=True)
    fault_point("here")
    fault_point("elsewhere")
print("done", flush=True)
"""


def _run(spec):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("LSTMLAB_KILL_AT", None)
    if spec is not None:
        env["LSTMLAB_KILL_AT"] = spec
    return subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=60)


def test_unset_means_no_fault():
    result = _run(None)
    assert result.returncode == 0 and result.stdout.split() == ["0", "1", "2", "done"]


def test_the_nth_arrival_at_the_named_point_is_killed():
    first = _run("here")
    assert first.returncode == -9 and first.stdout.split() == ["0"]
    second = _run("here:2")
    assert second.returncode == -9 and second.stdout.split() == ["0", "1"]


def test_other_points_and_unreached_counts_do_nothing():
    assert _run("nowhere").returncode == 0
    assert _run("here:9").stdout.split() == ["0", "1", "2", "done"]
