"""A worker node dies mid-run (its processes killed with SIGKILL): the run completes, every doc is in the
samples file exactly once, and the requests paid twice are at most the requests that were in flight."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fault_server import FaultServer, last_user_text
from tests.ray_inner.support import ADDRESS, results, rows

CONCURRENCY = 4
DOCS = 160


def _alive_nodes() -> int:
    script = f"import ray; ray.init(address='{ADDRESS}', logging_level='ERROR'); " \
             "print(sum(1 for n in ray.nodes() if n['Alive']))"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    return int(done.stdout.strip().splitlines()[-1]) if done.returncode == 0 else 0


@pytest.fixture
def second_node() -> subprocess.Popen[bytes]:
    """A second node, as its own process group (so all of it can be killed at once)."""
    node = subprocess.Popen(["ray", "start", "--address", ADDRESS, "--node-ip-address=127.0.0.1", "--num-cpus=1",
                             "--block"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    while _alive_nodes() < 2:
        assert time.monotonic() < deadline, "the second node did not join"
        time.sleep(0.5)
    return node


def _samples_written(out: Path) -> int:
    files = list(out.rglob("*_samples_*.jsonl"))
    return len(files[0].read_text().splitlines()) if files else 0


def test_a_worker_node_killed_mid_run(tmp_path: Path, second_node: subprocess.Popen[bytes]) -> None:
    out = tmp_path / "out"
    with FaultServer(lambda body: "A") as model:
        model.latency = 0.1
        run = subprocess.Popen(
            [sys.executable, "-m", "assay", "run", "--model", "openai_compatible", "--model_args",
             f"model=m,base_url={model.base_url},num_concurrent={CONCURRENCY}", "--tasks", "assay_arith_mc",
             "--limit", str(DOCS), "--output_path", str(out), "--log_samples", "--ray", ADDRESS],
            env={**os.environ, "HOME": str(tmp_path), "LMMS_EVAL_HOME": str(tmp_path / "lmms")}, cwd=tmp_path,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 120
        while _samples_written(out) < 30:
            assert time.monotonic() < deadline and run.poll() is None, "the run did not get going"
            time.sleep(0.05)
        os.killpg(second_node.pid, signal.SIGKILL)  # the node's raylet, its workers, `ray start` itself
        _, err = run.communicate(timeout=300)
        assert run.returncode == 0, err[-3000:]
        prompts = [last_user_text(body) for body in model.requests]
    written = rows(out, "assay_arith_mc")
    assert sorted(r["doc_id"] for r in written) == sorted({r["doc_id"] for r in written})  # none twice
    assert len(written) == DOCS and all(r["error"] is None for r in written)
    paid_again = len(prompts) - len(set(prompts))
    assert paid_again <= CONCURRENCY, paid_again
    assert "was lost" in err  # the driver said what happened
    assert results(out)["results"]["assay_arith_mc"]["n_completed"] == DOCS
