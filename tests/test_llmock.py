"""`assay run` against llmock, a maintained OpenAI-compatible chaos server on loopback.

llmock scripts the HTTP faults and also *grades* the client from its journal (Retry-After ignored,
non-retryable statuses retried, retry storms, giving up on retryable failures), so these tests check
assay's retry behaviour with a judge that is not ours. The fixture points OPENAI_BASE_URL and
OPENAI_API_KEY at the server through the environment, exactly as a user's shell would.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from assay.cli import main

pytest.importorskip("llmock")

TASK = "assay_arith_mc"
FAST = "backoff_initial=0.01,backoff_max=0.05"


def run(capsys: pytest.CaptureFixture[str], out: Path, *extra: str, limit: int = 3,
        model_args: str = "") -> tuple[int, str]:
    args = f"model=gpt-4o-mini,num_concurrent=1,{FAST}" + (f",{model_args}" if model_args else "")
    code = main(["run", "--model", "openai", "--model_args", args, "--tasks", TASK, "--limit", str(limit),
                 "--output_path", str(out), "--log_samples", *extra])
    return code, capsys.readouterr().err


def task_result(out: Path) -> dict[str, Any]:
    doc = json.loads(next(out.rglob("*_results.json")).read_text())
    return doc["results"][TASK]  # type: ignore[no-any-return]


def test_settings_come_from_the_environment_llmock_sets(run_dir: Path, llmock: Any,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run(capsys, run_dir / "out")
    assert code == 0, err
    assert len(llmock.requests) == 3
    assert all(r.path.endswith("/chat/completions") and r.status == 200 for r in llmock.requests)
    assert llmock.requests[0].body["model"] == "gpt-4o-mini"


def test_retry_after_is_honoured(run_dir: Path, llmock: Any, capsys: pytest.CaptureFixture[str]) -> None:
    llmock.rate_limit(times=2, retry_after=0.3)
    code, err = run(capsys, run_dir / "out")
    assert code == 0, err
    records = llmock.requests
    assert [r.status for r in records[:3]] == [429, 429, 200]
    assert records[1].started_at - records[0].ended_at >= 0.3
    assert records[2].started_at - records[1].ended_at >= 0.3
    assert task_result(run_dir / "out")["n_errors"] == 0
    llmock.assert_resilient()


@pytest.mark.parametrize("status", [500, 502, 503, 529])
def test_server_errors_are_retried(run_dir: Path, llmock: Any, capsys: pytest.CaptureFixture[str],
                                   status: int) -> None:
    llmock.fail(status, times=2)
    code, _ = run(capsys, run_dir / "out")
    assert code == 0
    assert len(llmock.requests) == 3 + 2
    assert task_result(run_dir / "out")["n_errors"] == 0
    llmock.assert_resilient()


@pytest.mark.parametrize("status", [400, 422])
def test_client_errors_are_recorded_not_retried(run_dir: Path, llmock: Any, capsys: pytest.CaptureFixture[str],
                                                status: int) -> None:
    llmock.fail(status, times=1)
    code, _ = run(capsys, run_dir / "out", "--max_error_rate", "0.5", limit=3)
    assert code == 0
    assert len(llmock.requests) == 3  # the refused one was not retried
    result = task_result(run_dir / "out")
    assert result["errors"] == {"bad_request": 1} and result["n_scored"] == 2
    llmock.assert_resilient()


def test_404_before_any_success_stops_the_run(run_dir: Path, llmock: Any,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """A wrong model name or base URL fails every request the same way: stop and say so."""
    llmock.fail(404, times=None)
    code, err = run(capsys, run_dir / "out", limit=10)
    assert code == 1
    assert len(llmock.requests) == 1
    assert "not found (404)" in err and "hint: check the model name `gpt-4o-mini`" in err
    llmock.assert_resilient()


def test_401_stops_the_run_without_retrying(run_dir: Path, llmock: Any, capsys: pytest.CaptureFixture[str]) -> None:
    llmock.fail(401, times=None)
    code, err = run(capsys, run_dir / "out", limit=10)
    assert code == 3
    assert len(llmock.requests) == 1
    assert "error: run stopped:" in err and "OPENAI_API_KEY" in err
    llmock.assert_resilient()


def test_slow_answers_time_out_and_are_retried(run_dir: Path, llmock: Any,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    llmock.delay(2.0, times=1)
    code, _ = run(capsys, run_dir / "out", limit=2, model_args="timeout=0.5")
    assert code == 0
    result = task_result(run_dir / "out")
    assert result["n_errors"] == 0
    assert len(llmock.requests) >= 3  # the timed-out attempt, its retry, the second doc


def test_scripted_answers_score_as_expected(run_dir: Path, llmock: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from assay.env.settings import load_settings
    from assay.tasks import TaskRegistry

    settings = load_settings(environ={}, discover_dotenv=False)
    task = TaskRegistry.discover(settings).load(TASK, settings=settings, model_name="openai")
    targets = [str(task.target(doc)) for doc in task.docs(limit=6)]
    # Right, wrong, right, wrong, … in doc order (num_concurrent=1 keeps the order).
    for i, target in enumerate(targets):
        llmock.reply(target if i % 2 == 0 else ("A" if target != "A" else "B"))
    code, _ = run(capsys, run_dir / "out", limit=6)
    assert code == 0
    assert task_result(run_dir / "out")["metrics"]["mc_accuracy"]["value"] == pytest.approx(0.5)
