"""Fault injection for the crash tests.

With LSTMLAB_KILL_AT=POINT or POINT:N set, the process kills itself with SIGKILL the N-th time
(default: the first) it reaches `fault_point(POINT)`, which is how the tests interrupt a real run at
exact places (mid-epoch, between writing a file and renaming it into place). Unset, which is always
the case outside those tests, a fault point costs one environment lookup.
"""

import os
import signal

_reached: dict[str, int] = {}


def fault_point(name: str) -> None:
    spec = os.environ.get("LSTMLAB_KILL_AT")
    if not spec:
        return
    point, _, count = spec.rpartition(":")
    if not count.isdigit():
        point, count = spec, "1"
    if point != name:
        return
    _reached[name] = _reached.get(name, 0) + 1
    if _reached[name] == int(count):
        os.kill(os.getpid(), signal.SIGKILL)
