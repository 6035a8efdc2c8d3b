"""--batch against each vendor's batch API emulation: the same scores as an interactive run, no interactive
request for the model, batch prices; per-request failures, expired and rejected batches; resume after a kill."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.emulators import VENDORS, Emulator, Vendor
from tests.helpers import results_file, run_cli, samples

KEY = "emu-batch-key-00000000001"
BATCH_VENDORS = ["openai", "azure_openai", "anthropic", "gemini"]
GENERATE_PATHS = ("/chat/completions", "/v1/messages", ":generateContent")


def interactive_requests(emu: Emulator) -> list[str]:
    return [r.path for r in emu.requests if r.path.endswith(GENERATE_PATHS)]


def answer_by_question(body: dict[str, Any]) -> str:
    """The right option for some questions, a wrong one for others: scores that can differ."""
    text = json.dumps(body)
    return "C" if "66 + 15" in text or "2 \\u00d7 10" in text or "2 × 10" in text else "A"


@pytest.fixture(params=BATCH_VENDORS)
def vendor(request: pytest.FixtureRequest) -> Vendor:
    return VENDORS[request.param]


@pytest.fixture
def emu(vendor: Vendor) -> Iterator[Emulator]:
    with vendor.emulator(key=KEY, answer=answer_by_question, count_tokens=True) as server:
        yield server


def run_args(vendor: Vendor, emu: Emulator, out: Path, *extra: str, limit: int = 8, **model_args: Any) -> list[str]:
    model_args = {"num_concurrent": 4, "input_price": 100, "output_price": 400, **model_args}
    args = ",".join(f"{k}={v}" for k, v in vendor.model_args(emu, **model_args).items())
    return ["--model", vendor.provider, "--model_args", args, "--tasks", "assay_arith_mc", "--limit", str(limit),
            "--output_path", str(out), "--log_samples", *extra]


def scores(out: Path) -> dict[int, Any]:
    return {row["doc_id"]: (row.get("resps"), row.get("acc") or row.get("scores")) for row in samples(out)}


def test_a_batch_run_scores_as_the_interactive_run_at_the_batch_price(
        vendor: Vendor, emu: Emulator, run_dir: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(vendor.variable, KEY)
    code, _, err = run_cli(capsys, *run_args(vendor, emu, run_dir / "live"))
    assert code == 0, err
    live = len(interactive_requests(emu))
    assert live == 8
    code, _, err = run_cli(capsys, *run_args(vendor, emu, run_dir / "batch", "--batch", batch_poll_interval=0.01))
    assert code == 0, err
    assert len(interactive_requests(emu)) == live  # the batch run sent no interactive request
    assert emu.problems == []
    assert scores(run_dir / "batch") == scores(run_dir / "live")
    live_doc, batch_doc = results_file(run_dir / "live"), results_file(run_dir / "batch")
    assert batch_doc["results"]["assay_arith_mc"]["metrics"] == live_doc["results"]["assay_arith_mc"]["metrics"]
    assert batch_doc["usage"] == live_doc["usage"] and batch_doc["usage"]["input_tokens"] > 0
    assert batch_doc["cost"]["model"]["usd"] == pytest.approx(live_doc["cost"]["model"]["usd"] / 2, rel=1e-4)
    assert "batch rate" in batch_doc["cost"]["model"]["price"]["source"]
    batch = batch_doc["batch"]
    assert batch["answers"] == 8 and len(batch["batches"]) == 1
    assert batch["batches"][0]["state"] == "completed" and batch["batches"][0]["succeeded"] == 8
    assert batch_doc["model_stats"]["requests"] == 0
    for path in [*run_dir.rglob("*.json*"), *run_dir.rglob("*.sqlite*")]:  # the batch record included
        assert KEY.encode() not in path.read_bytes(), path
    assert any(run_dir.rglob("batches.sqlite"))


def _batch_run(vendor: Vendor, emu: Emulator, run_dir: Path, capsys: pytest.CaptureFixture[str],
               monkeypatch: pytest.MonkeyPatch, *extra: str, **model_args: Any) -> tuple[int, str]:
    monkeypatch.setenv(vendor.variable, KEY)
    code, _, err = run_cli(capsys, *run_args(vendor, emu, run_dir / "out", "--batch", "--max_error_rate", "1",
                                             *extra, batch_poll_interval=0.01, **model_args))
    return code, err


def test_per_request_failures_are_classified_retryable_ones_go_into_a_follow_up_batch(
        vendor: Vendor, emu: Emulator, run_dir: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    emu.book.line_faults = [(429, "slow down", "rate_limit_error"), (400, "this request is invalid", None)]
    code, err = _batch_run(vendor, emu, run_dir, capsys, monkeypatch)
    assert code == 0, err
    first, follow_up = emu.book.batches.values()
    assert len(first.requests) == 8 and len(follow_up.requests) == 1  # only the rate-limited one again
    rows = samples(run_dir / "out")
    failed = [r for r in rows if r.get("error")]
    assert len(failed) == 1 and failed[0]["error"]["type"] == "bad_request"
    assert "this request is invalid" in failed[0]["error"]["message"]
    assert interactive_requests(emu) == [] and emu.problems == []
    doc = results_file(run_dir / "out")
    assert doc["batch"]["answers"] == 7 and [b["total"] for b in doc["batch"]["batches"]] == [8, 1]


@pytest.mark.parametrize("ending", ["expired", "cancelled"])
def test_an_expired_or_cancelled_batch_keeps_what_it_completed(
        vendor: Vendor, emu: Emulator, run_dir: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch, ending: str) -> None:
    emu.book.next_scripts = [("validating", "in_progress", ending)]
    code, err = _batch_run(vendor, emu, run_dir, capsys, monkeypatch)
    assert code == 0, err
    rows = samples(run_dir / "out")
    answered = [r for r in rows if not r.get("error")]
    batches = list(emu.book.batches.values())
    if ending == "expired":  # the half that never ran goes into a follow-up batch
        assert [len(b.requests) for b in batches] == [8, 4] and len(answered) == 8
    else:  # cancelled: what completed is kept, the rest is recorded as not run
        assert len(batches) == 1 and len(answered) == 4
        assert all("cancelled" in r["error"]["message"] for r in rows if r.get("error"))
    assert interactive_requests(emu) == []


def test_a_batch_the_vendor_rejects_is_reported_before_anything_else_is_submitted(
        vendor: Vendor, emu: Emulator, run_dir: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    emu.book.reject = "model gpt-nope is not available for batch"
    code, err = _batch_run(vendor, emu, run_dir, capsys, monkeypatch, batch_max_requests=4)
    assert code == 1 and "model gpt-nope is not available for batch" in err and "Traceback" not in err
    assert len(emu.book.batches) <= 1 and interactive_requests(emu) == []  # the second chunk was never sent
    doc = results_file(run_dir / "out")
    assert doc["status"] == "aborted" and "gpt-nope" in doc["status_reason"]


def test_batch_retry_interactive_sends_the_retryable_failures_one_by_one(
        run_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    vendor = VENDORS["openai"]
    with vendor.emulator(key=KEY, answer=answer_by_question) as emu:
        emu.book.line_faults = [(503, "busy", "server_error")]
        code, err = _batch_run(vendor, emu, run_dir, capsys, monkeypatch, batch_retry="interactive")
        assert code == 0, err
        assert len(emu.book.batches) == 1 and len(interactive_requests(emu)) == 1
    assert all(not r.get("error") for r in samples(run_dir / "out"))


def test_batch_options_are_checked_before_anything_is_sent(
        run_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    vendor = VENDORS["openai"]
    monkeypatch.setenv(vendor.variable, KEY)
    with vendor.emulator(key=KEY) as emu:
        for extra, expected in ((["--batch"], "batch_poll_interval"), ([], "needs batch mode")):
            args = run_args(vendor, emu, run_dir / "out", *extra, batch_poll_interval=-1)
            code, _, err = run_cli(capsys, *args)
            assert code == 2 and expected in err and "hint:" in err
        args = run_args(VENDORS["openai_compatible"], emu, run_dir / "out", "--batch")
        code, _, err = run_cli(capsys, *[a.replace("openai", "openai_compatible", 1) if a == "openai" else a
                                         for a in args])
        assert code == 2 and "has no batch API" in err
        assert emu.requests == []


@pytest.mark.parametrize("provider", BATCH_VENDORS)
def test_a_run_killed_while_its_batch_runs_resumes_the_same_batch(provider: str, tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str],
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    from assay.env.settings import SPECS

    vendor = VENDORS[provider]
    names = {n for spec in SPECS for n in spec.env_names}
    env = {k: v for k, v in os.environ.items() if k not in names}
    env.update(HOME=str(tmp_path), LMMS_EVAL_HOME=str(tmp_path / "home"), **{vendor.variable: KEY})
    with vendor.emulator(key=KEY, answer=answer_by_question) as emu:
        emu.book.hold_batches = True  # the batch stays in progress until released
        args = run_args(vendor, emu, tmp_path / "out", "--batch", "--use_cache", batch_poll_interval=0.05)
        proc = subprocess.Popen([sys.executable, "-m", "assay", "run", *args], cwd=tmp_path, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 60
            while not emu.book.batches or next(iter(emu.book.batches.values())).polls < 3:
                assert proc.poll() is None and time.monotonic() < deadline, proc.stderr and proc.stderr.read()
                time.sleep(0.02)
        finally:
            proc.send_signal(signal.SIGKILL)  # no chance to clean up: only what is on disk survives
            proc.communicate(timeout=20)
        (batch_id,) = emu.book.batches
        emu.book.release()

        for name in names:
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("HOME", str(tmp_path))
        monkeypatch.setenv("LMMS_EVAL_HOME", str(tmp_path / "home"))
        monkeypatch.setenv(vendor.variable, KEY)
        monkeypatch.chdir(tmp_path)
        code, _, err = run_cli(capsys, *run_args(vendor, emu, tmp_path / "again", "--batch", "--use_cache",
                                                 batch_poll_interval=0.01))
        assert code == 0, err
        assert list(emu.book.batches) == [batch_id]  # polled again, never submitted again
        assert interactive_requests(emu) == [] and emu.problems == []
    rows = samples(tmp_path / "again")
    assert len(rows) == 8 and all(not r.get("error") for r in rows)
    doc = results_file(tmp_path / "again")
    assert [b["id"] for b in doc["batch"]["batches"]] == [next(iter(doc["batch"]["batches"]))["id"]]
    assert doc["batch"]["answers"] == 8


def test_an_empty_batched_answer_is_asked_again_in_a_follow_up_batch(
        run_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    vendor = VENDORS["anthropic"]
    given = iter(["", *["A"] * 20])
    with vendor.emulator(key=KEY, answer=lambda body: next(given)) as emu:
        code, err = _batch_run(vendor, emu, run_dir, capsys, monkeypatch)
        assert code == 0, err
        assert [len(b.requests) for b in emu.book.batches.values()] == [8, 1]
    assert all(r["resps"] == [["A"]] for r in samples(run_dir / "out"))


def test_a_judged_task_batches_the_model_first_then_the_judge(
        run_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.test_judge_run import MODEL_ANSWER, grade

    vendor = VENDORS["openai"]
    monkeypatch.setenv(vendor.variable, KEY)
    with vendor.emulator(key=KEY, answer=lambda body: MODEL_ANSWER) as model, \
            vendor.emulator(key=KEY, answer=grade) as judge:
        def run(out: str, *extra: str) -> dict[str, Any]:
            poll = ",batch_poll_interval=0.01" if extra else ""
            code, _, err = run_cli(capsys, "--model", "openai", "--model_args",
                                   f"model=gpt-4o-mini,base_url={model.base_url}/v1{poll}",
                                   "--judge_model", "openai", "--judge_args",
                                   f"model=gpt-4o-mini,base_url={judge.base_url}/v1{poll}",
                                   "--tasks", "assay_video_qa", "--limit", "6", "--output_path", str(run_dir / out),
                                   "--log_samples", *extra)
            assert code == 0, err
            return results_file(run_dir / out)

        live = run("live")
        asked = len(interactive_requests(judge))
        assert asked == 6
        batched = run("batch", "--batch")
        assert len(interactive_requests(model)) == 6 and len(interactive_requests(judge)) == asked  # none more
        assert [len(b.requests) for b in model.book.batches.values()] == [6]
        assert [len(b.requests) for b in judge.book.batches.values()] == [6]
        assert model.problems == [] and judge.problems == []
    assert batched["results"]["assay_video_qa"]["metrics"] == live["results"]["assay_video_qa"]["metrics"]
    assert batched["results"]["assay_video_qa"]["n_judged"] == 6
    assert batched["cost"]["judge"]["usd"] == pytest.approx(live["cost"]["judge"]["usd"] / 2, rel=1e-2)
    assert [b["vendor"] for b in batched["batch"]["batches"]] == ["openai", "openai"]


def test_polling_survives_a_vendor_that_fails_a_few_status_reads(
        vendor: Vendor, emu: Emulator, run_dir: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    emu.book.failing_reads = 3
    code, err = _batch_run(vendor, emu, run_dir, capsys, monkeypatch)
    assert code == 0, err
    assert emu.book.failing_reads == 0 and len(emu.book.batches) == 1  # read again, never submitted again
    assert all(not r.get("error") for r in samples(run_dir / "out"))
