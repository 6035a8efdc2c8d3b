"""A judge that cannot be reached is named as the judge, with the judge's settings in the hint (not the
model's), and stops the run within seconds (connection refused) or within the judge's timeout (a server
that accepts and never answers) — with default retry settings — keeping every model answer already paid."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import pytest

from tests.fault_server import FaultServer
from tests.helpers import results_file, run_cli


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _run(capsys: pytest.CaptureFixture[str], model: FaultServer, judge_args: str, out: Path) -> tuple[int, str, float]:
    started = time.monotonic()
    code, _, err = run_cli(capsys, "--model", "openai_compatible", "--model_args",
                           f"model=m,base_url={model.base_url},num_concurrent=1", "--tasks", "assay_video_qa",
                           "--limit", "4", "--judge_model", "openai_compatible", "--judge_args", judge_args,
                           "--output_path", str(out), "--log_samples")
    return code, err, time.monotonic() - started


def _kept_answers(out: Path) -> list[str]:
    rows = [json.loads(line) for line in next(out.rglob("*_samples_*.jsonl")).read_text().splitlines() if line]
    return [row["resps"][0][0] if row.get("resps") else "" for row in rows]


def test_a_refused_judge_stops_the_run_in_seconds_named_as_the_judge(
        run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Today: 194 s of retries, then "cannot reach …" with a hint about the model's base_url."""
    dead = f"http://127.0.0.1:{_closed_port()}/v1"
    with FaultServer(lambda body: "A red circle.") as model:
        code, err, took = _run(capsys, model, f"model=judge-m,base_url={dead}", run_dir)
        answered = model.count
    assert code != 0 and took < 15, (took, err)
    assert "the judge (openai_compatible, model judge-m, at " in err and "--judge_args base_url" in err
    assert "--model_args" not in err and "Traceback" not in err
    assert results_file(run_dir)["status"] == "aborted"
    assert answered >= 1 and "A red circle." in _kept_answers(run_dir)  # the paid answers are on disk


def test_a_silent_judge_stops_the_run_within_its_timeout(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Today: a judge that accepts and never answers stalls for minutes (timeout x attempts)."""
    with FaultServer(lambda body: "A red circle.") as model, FaultServer(lambda body: "yes") as silent:
        silent.latency = 600.0
        code, err, took = _run(capsys, model, f"model=judge-m,base_url={silent.base_url},timeout=2", run_dir)
    assert code != 0 and took < 12, (took, err)
    assert "the judge (openai_compatible, model judge-m" in err and "no answer within 2s" in err
    assert "A red circle." in _kept_answers(run_dir)
