"""The cost cap is a cap: each attempt holds its worst case (input bound + max_tokens, at the price) until
it is billed, so 64 requests in flight whose answers get costlier cannot take the spend past --max_cost; a
server that returns no usage is charged at the worst case (stated as an estimate), never at $0; the
message quotes what is spent and held; a judge stopped by the cap is counted as `cost_cap`."""

from __future__ import annotations

import itertools
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.adversarial.local_tasks import jsonl_task
from tests.fault_server import FaultServer
from tests.helpers import results_file, run_cli

MAX_TOKENS = 50


def _task(folder: Path, n: int) -> Path:
    docs = "".join(f'{{"q": "what is {i} + 1?", "a": "{i + 1}"}}\n' for i in range(n))
    return jsonl_task(folder, "money", docs, f"""\
        output_type: generate_until
        doc_to_text: "{{{{q}}}}"
        doc_to_target: "a"
        generation_kwargs:
          max_new_tokens: {MAX_TOKENS}
        metric_list:
          - metric: exact_match
        """)


def _run(capsys: pytest.CaptureFixture[str], server: FaultServer, folder: Path, out: Path, cap: str,
         concurrency: int = 64) -> tuple[int, str]:
    code, _, err = run_cli(capsys, "--model", "openai_compatible", "--model_args",
                           f"model=m,base_url={server.base_url},num_concurrent={concurrency},max_retries=0,"
                           "input_price=0,output_price=10000", "--tasks", "money", "--include_path", str(folder),
                           "--max_cost", cap, "--output_path", str(out), "--max_error_rate", "1")
    return code, err


def test_concurrent_answers_that_get_costlier_stay_under_the_cap(
        run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Today: the estimate is the mean cost so far, 64 requests slip under it, and the spend ends far over."""
    counter = itertools.count()
    lock = threading.Lock()

    def rising(body: dict[str, Any]) -> dict[str, Any]:
        with lock:
            n = next(counter)
        tokens = min(MAX_TOKENS, 1 + n // 2)  # each answer a little longer, never over max_tokens
        return {"usage": {"prompt_tokens": 10, "completion_tokens": tokens, "total_tokens": 10 + tokens}}

    with FaultServer(lambda body: "7") as server:
        server.fault_for = rising
        server.latency = 0.05
        code, err = _run(capsys, server, _task(run_dir / "t", 250), run_dir / "out", "3")
    assert code == 1 and "cost cap reached" in err and "held by requests in flight" in err, err
    cost = results_file(run_dir / "out")["cost"]
    # $0.01 per output token: the cap is $3, one request's worst case $0.50.
    assert cost["cap_reached"] is True and cost["total_usd"] <= 3.0
    assert server.max_in_flight > 1  # the cap did not just serialize the run


def test_a_server_without_usage_is_charged_its_worst_case(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Today: every answer, "$0.00", cap_reached false, exit 0."""
    with FaultServer(lambda body: "7") as server:
        server.sticky = {"usage": {}}
        code, err = _run(capsys, server, _task(run_dir / "t", 150), run_dir / "out", "2", concurrency=8)
    assert code == 1 and "cost cap reached" in err
    cost = results_file(run_dir / "out")["cost"]
    assert cost["cap_reached"] is True and 0 < cost["total_usd"] <= 2.0
    assert cost["model"]["estimated"]["answers"] == server.count and server.count < 150


def test_judge_failures_from_the_cap_are_counted_as_such(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.test_judge_lmms_tasks import FAST

    with FaultServer(lambda body: "A red circle.") as model, FaultServer(lambda body: "yes") as judge:
        code, _, _err = run_cli(capsys, "--model", "openai_compatible", "--model_args",
                               f"model=m,base_url={model.base_url},input_price=0,output_price=0", "--tasks",
                               "assay_video_qa", "--limit", "3", "--judge_model", "openai_compatible",
                               "--judge_args", f"model=j,base_url={judge.base_url},{FAST},input_price=1000000,"
                               "output_price=0", "--max_cost", "0.5", "--output_path", str(run_dir),
                               "--log_samples")
    assert code != 0 and judge.count == 0
    result = results_file(run_dir)["results"]["assay_video_qa"]
    assert result.get("judge_failed", {}).get("cost_cap", 0) >= 1 and "request_failed" not in result["judge_failed"]
