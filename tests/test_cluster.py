"""The cluster's parts that need no cluster: the sealed settings, the gate's limits, `--ray` as bad input,
and Ray staying unloaded without `--ray`. (A real multi-node cluster runs in tests/test_ray.py.)"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import run_cli


def test_sealed_settings_open_only_for_their_worker() -> None:
    pytest.importorskip("cryptography")
    from cryptography.exceptions import InvalidTag

    from assay.cluster.sealed import Opener, seal

    worker, other = Opener(), Opener()
    secret = b"OPENAI_API_KEY=sk-sealed-0123456789"
    sealed = seal(worker.public, secret)
    assert secret not in sealed and b"sk-sealed" not in sealed
    assert seal(worker.public, secret) != sealed  # a fresh ephemeral key and nonce every time
    assert worker.open(sealed) == secret
    with pytest.raises(InvalidTag):
        other.open(sealed)
    tampered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(InvalidTag):
        worker.open(tampered)


async def test_the_gate_holds_the_concurrency_of_every_worker_at_once() -> None:
    from assay.cluster.services import Gate, RoleLimits
    from assay.types import Usage

    gate = Gate(None, {"model": RoleLimits(2), "judge": RoleLimits(1)})
    first = await gate.reserve("model", "w0")
    second = await gate.reserve("model", "w1")
    third = asyncio.ensure_future(gate.reserve("model", "w1"))
    await asyncio.sleep(0.01)
    assert not third.done()  # two slots for the cluster, whichever worker asks
    assert isinstance(first, tuple) and isinstance(second, tuple)
    gate.settle(first[0], Usage(10, 5))
    token = await asyncio.wait_for(third, 1)
    assert isinstance(token, tuple)
    fourth = asyncio.ensure_future(gate.reserve("model", "w0"))
    await asyncio.sleep(0.01)
    assert not fourth.done()
    assert gate.forget("w1") == 2  # w1 died holding two slots: both come back
    assert isinstance(await asyncio.wait_for(fourth, 1), tuple)
    judged = await gate.reserve("judge:viescore:m", "w0")  # any judge model: the judge's limits
    assert isinstance(judged, tuple)
    assert gate.report()["meters"]["model"][1] == Usage(10, 5)


async def test_the_gate_keeps_one_cost_cap_for_the_cluster() -> None:
    from assay.cluster.services import Gate, RoleLimits, merge_report
    from assay.model.cost import CostLedger, Price
    from assay.types import Usage

    price = Price(1_000_000.0, 0.0, "m")  # $1 per input token
    gate = Gate(2.5, {"model": RoleLimits(8, price=price), "judge": RoleLimits(8)})
    for worker in ("w0", "w1"):  # each attempt holds its worst case: one input token, $1
        held = await gate.reserve("model", worker, worst=Usage(1, 0))
        assert isinstance(held, tuple)
        gate.settle(held[0], Usage(1, 0))
    refused = await gate.reserve("model", "w0", worst=Usage(1, 0))
    assert isinstance(refused, str) and "cost cap reached" in refused  # $2 spent, the next $1 would pass $2.5
    ledger = CostLedger(2.5)
    ledger.meter("model", price)
    merge_report(ledger, gate.report())
    report = ledger.report()
    assert report["total_usd"] == 2.0 and report["cap_reached"] is True and report["model"]["input_tokens"] == 2


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_cluster_nobody_answers_is_bad_input(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("ray")
    code, _, err = run_cli(capsys, "--model", "openai_compatible", "--model_args",
                           "model=m,base_url=http://127.0.0.1:9/v1", "--tasks", "assay_arith_mc",
                           "--ray", f"127.0.0.1:{_closed_port()}")
    assert code == 2 and "error: cannot join the Ray cluster at 127.0.0.1:" in err and "hint: start one" in err
    assert "Traceback" not in err and not list(run_dir.rglob("*_results.json"))  # nothing written, nothing sent
    code, _, err = run_cli(capsys, "--model", "openai_compatible", "--tasks", "assay_arith_mc", "--ray",
                           "ray://head:10001")
    assert code == 2 and "Ray Client (ray://) is not supported" in err


def test_log_media_is_refused_on_a_cluster(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "--model", "openai_compatible", "--tasks", "assay_colors", "--log_media",
                           "--ray", "127.0.0.1:6379")
    assert code == 2 and "--log_media cannot be used with --ray" in err


def test_without_ray_nothing_about_ray_is_imported() -> None:
    script = ("import sys; from assay.cli import main\n"
              "from assay.api import runner_for; from assay.options import RunOptions\n"
              "runner_for(RunOptions(model='local', tasks=('assay_demo',)))\n"
              "try:\n    main(['run', '--help'])\nexcept SystemExit:\n    pass\n"
              "print(sorted(m for m in sys.modules if m.split('.')[0] in ('ray', 'cryptography') "
              "or m.startswith('assay.cluster')))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "--ray [ADDRESS]" in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "[]"
