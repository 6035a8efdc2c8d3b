"""Runs on a real multi-node Ray cluster, on this machine, with no network but loopback.

Ray binds the machine's non-loopback address and probes outside ones, so each test here starts a
throw-away network and PID namespace (``unshare -n -p -f``, root: CI runs as root) holding only a
loopback interface, starts the cluster's nodes in it on 127.0.0.1 as separate processes, and runs one
module of ``tests/ray_inner`` there with pytest. Every Ray process ends with the namespace. One cluster
per module keeps the wall time modest (a node starts in about 3 s here).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.ray

ROOT = Path(__file__).resolve().parent.parent
INNER = Path(__file__).resolve().parent / "ray_inner"
#: The inner run's whole budget (a cluster, several assay runs); CI must stay well under its 90 minutes.
TIMEOUT_S = 900


def _can_run() -> str | None:
    """Why these tests cannot run here, or None."""
    try:
        import ray  # noqa: F401
    except ImportError:
        return "needs the `ray` extra (pip install -e '.[ray]')"
    if os.geteuid() != 0:
        return "needs root for a loopback-only network namespace (unshare -n)"
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return "needs unshare (util-linux) and ip (iproute2)"
    return None


def in_namespace(module: str, *, worker_node: bool) -> None:
    """Start a head node (and a second node unless the module starts its own), then run ``module``."""
    reason = _can_run()
    if reason is not None:
        pytest.skip(reason)
    bin_dir = Path(sys.executable).parent
    second = ("ray start --address=127.0.0.1:6379 --node-ip-address=127.0.0.1 --num-cpus=1 "
              "--disable-usage-stats >/dev/null") if worker_node else ":"
    script = f"""
set -e
ip link set lo up
export PATH="{bin_dir}:$PATH" RAY_USAGE_STATS_ENABLED=0
# A lost node is noticed in about 2 s instead of Ray's default 15 s or more.
export RAY_health_check_period_ms=500 RAY_health_check_timeout_ms=500 RAY_health_check_failure_threshold=4
T=$(mktemp -d /tmp/assay-ray.XXXXXX)
trap 'rm -rf "$T"' EXIT
export ASSAY_RAY_ADDRESS=127.0.0.1:6379 ASSAY_RAY_TEMP="$T"
ray start --head --node-ip-address=127.0.0.1 --port=6379 --num-cpus=1 --include-dashboard=false \\
    --disable-usage-stats --temp-dir="$T" >/dev/null
{second}
cd "{ROOT}"
python -m pytest -q -x -p no:cacheprovider "{INNER / module}"
"""
    done = subprocess.run(["unshare", "-n", "-p", "-f", "--mount-proc", "bash", "-c", script],
                          capture_output=True, text=True, timeout=TIMEOUT_S)
    assert done.returncode == 0, (done.stdout[-6000:] + done.stderr[-3000:])


def test_two_node_cluster_same_results_cache_secrets_and_stop() -> None:
    in_namespace("test_on_cluster.py", worker_node=True)


def test_losing_a_worker_node_mid_run() -> None:
    in_namespace("test_node_loss.py", worker_node=False)
