"""The same sweep on a Ray cluster that the test starts, inside a network namespace with only loopback.

Ray binds to the machine's address by default; `unshare -n` gives the cluster, its workers and the
driver a network of their own where 127.0.0.1 is the only address, so no traffic leaves the test.
Skipped where Ray is not installed (the README's plain install) or namespaces are not allowed.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT
from test_sweep import SPEC, metrics

pytest.importorskip("ray")
if shutil.which("unshare") is None or subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode:
    pytest.skip("needs `unshare -n` (a network namespace) to start a Ray cluster on loopback only",
                allow_module_level=True)

PORT = 6391
CLUSTER = f"""
set -u
ip link set lo up
export RAY_USAGE_STATS_ENABLED=0 PYTHONPATH={ROOT}
RAY={Path(sys.executable).parent / "ray"}
$RAY start --head --port {PORT} --num-cpus 2 --node-ip-address 127.0.0.1 --include-dashboard=false \\
    --disable-usage-stats > ray-start.log 2>&1 || {{ cat ray-start.log; exit 3; }}
{sys.executable} -m lstmlab sweep spec.toml --out on-ray --cache-dir cache --ray 127.0.0.1:{PORT}
status=$?
$RAY stop --force > /dev/null 2>&1
exit $status
"""


@pytest.mark.slow  # about 30 s: a cluster starts and stops
def test_a_sweep_on_a_ray_cluster_gives_the_local_numbers_bit_for_bit(cli, tmp_path):
    (tmp_path / "spec.toml").write_text(SPEC)
    local = cli("sweep", "spec.toml", "--out", "local", "--cache-dir", "cache", "--workers", "2", cwd=tmp_path)
    assert local.returncode == 0, local.stderr
    on_ray = subprocess.run(["unshare", "-n", "bash", "-c", CLUSTER], cwd=tmp_path, capture_output=True, text=True,
                            timeout=600)
    assert on_ray.returncode == 0, on_ray.stdout + on_ray.stderr
    assert "on the Ray cluster at 127.0.0.1" in on_ray.stdout
    assert metrics(tmp_path / "on-ray" / "runs.csv") == metrics(tmp_path / "local" / "runs.csv")

