"""`assay run` with its outputs after the files: the report, W&B (offline), the Hub (emulated) — every sink
on and no secret anywhere; a failed upload that keeps the run and names the exact `assay push` to retry."""

from __future__ import annotations

import json
import logging
import shlex
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from assay.cli import main
from tests.fault_server import FaultServer
from tests.hub_server import HubServer
from tests.sinks_support import HF_TOKEN, WANDB_KEY, answer_a, hub, wandb_dirs, wandb_run_dirs

__all__ = ["hub", "wandb_dirs"]  # fixtures, used by name

OPENAI = "sk-e2e-OPENAI-0123456789abcdef0123"
TYPED = "sk-typed-on-the-command-line-77aa88bb99"
SECRETS = (OPENAI, HF_TOKEN, WANDB_KEY, TYPED)


def forms(secret: str) -> set[bytes]:
    """The secret as it could appear: raw, JSON-escaped, URL-encoded."""
    return {secret.encode(), json.dumps(secret)[1:-1].encode(), quote(secret, safe="").encode()}


def scan(blobs: list[bytes]) -> list[str]:
    return [f"{secret[:10]}… in blob {i}" for i, blob in enumerate(blobs) for secret in SECRETS
            if any(form in blob for form in forms(secret))]


def hostile(body: dict[str, Any]) -> str:
    return f"{answer_a(body)} (debug: key={OPENAI} typed={TYPED})"


def _run_args(server: FaultServer, out: Path, *extra: str) -> list[str]:
    return ["run", "--model", "openai_compatible",
            "--model_args", f"model=m,base_url={server.base_url},num_concurrent=2,api_key={TYPED}",
            "--tasks", "assay_arith_mc,assay_colors", "--limit", "4", "--output_path", str(out), *extra]


def test_every_sink_on_and_not_one_byte_holds_a_secret(
    run_dir: Path, wandb_dirs: Path, hub: HubServer, capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch,
) -> None:
    (run_dir / ".env").write_text(f"OPENAI_API_KEY={OPENAI}\nHF_TOKEN={HF_TOKEN}\nWANDB_API_KEY={WANDB_KEY}\n"
                                  f"HF_ENDPOINT={hub.url}\n")
    monkeypatch.setenv("WANDB_API_KEY", WANDB_KEY)  # wandb reads its own variables too: it must not write it
    out = run_dir / "logs"
    with FaultServer(answer=hostile) as server:
        argv = _run_args(server, out, "--log_samples", "--log_media", "--report", "--verbosity", "DEBUG",
                         "--wandb_args", "project=p", "--wandb_log_samples",
                         "--hf_hub_log_args", "hub_results_org=team")
        monkeypatch.setattr(sys, "argv", ["assay", *argv])  # as a shell would start it (wandb reads sys.argv)
        code = main(argv)
    stdout, stderr = capsys.readouterr()
    assert code == 0, stderr
    # Everything was produced ...
    results = next(out.rglob("*_results.json"))
    assert (results.parent / f"{results.name[:-13]}_report.html").is_file()
    assert list(results.parent.glob("*_media/*.jpg"))
    assert wandb_run_dirs(wandb_dirs)
    assert sorted(hub.repos["team/lmms-eval-results-private"].files) == sorted(
        ["README.md", f"m/{results.name}", *(f"m/{p.name}" for p in results.parent.glob("*_samples_*.jsonl"))])
    samples = b"".join(p.read_bytes() for p in results.parent.glob("*_samples_*.jsonl"))
    assert b"<redacted:OPENAI_API_KEY>" in samples and b"<redacted:model_args.api_key>" in samples  # echoed
    # ... and no secret is in any of it.
    files = [p.read_bytes() for p in run_dir.rglob("*") if p.is_file() and p.name != ".env"]
    logs = [r.getMessage().encode() for r in caplog.records]
    leaks = scan([*files, *hub.received_bytes(), stdout.encode(), stderr.encode(), *logs])
    assert leaks == []
    assert len(files) > 20  # the run's files, thumbnails, report, W&B run and staging, the cache


def test_a_failed_upload_keeps_the_run_exits_5_and_names_the_exact_retry(
    run_dir: Path, hub: HubServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HF_TOKEN", HF_TOKEN)
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    hub.fail_commits = True  # the token checks out before the run; the Hub breaks afterwards
    with FaultServer(answer=answer_a) as server:
        code = main(_run_args(server, run_dir / "logs", "--log_samples", "--report",
                              "--hf_hub_log_args", f"hub_results_org=team,token={HF_TOKEN}"))
        assert server.count == 8
    stdout, stderr = capsys.readouterr()
    assert code == 5
    results = next((run_dir / "logs").rglob("*_results.json"))
    assert json.loads(results.read_text())["status"] == "complete"
    assert "results: " in stdout and "report: " in stdout
    error, hint = (line for line in stderr.splitlines() if line.startswith(("error:", "hint:")))
    assert error.startswith("error: pushing to the Hugging Face Hub failed: ")
    assert "500" in error
    command = hint.split("retry with: ", 1)[1]
    assert command == f"assay push {results} --hf_hub_log_args hub_results_org=team"  # no token in it
    assert HF_TOKEN not in stdout + stderr
    assert not hub.repos["team/lmms-eval-results-private"].files

    hub.fail_commits = False
    assert main(shlex.split(command)[1:]) == 0  # the hint's command, verbatim
    assert f"m/{results.name}" in hub.repos["team/lmms-eval-results-private"].files


def test_a_refused_hub_token_stops_the_run_before_any_request(
    run_dir: Path, hub: HubServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_not_the_right_one_0123456789")
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    with FaultServer(answer=answer_a) as server:
        code = main(_run_args(server, run_dir / "logs", "--hf_hub_log_args", "hub_results_org=team"))
        assert server.count == 0
    err = capsys.readouterr().err
    assert code == 3
    assert "error: HF_TOKEN was refused (401)" in err and "hint: set a valid HF_TOKEN" in err
    assert not (run_dir / "logs").exists()


def test_python_api_returns_the_outputs_and_does_not_raise_for_a_failed_upload(
    tmp_path: Path, hub: HubServer, caplog: pytest.LogCaptureFixture,
) -> None:
    import assay
    from assay.env.settings import load_settings

    settings = load_settings(environ={"LMMS_EVAL_HOME": str(tmp_path / "home"), "HF_TOKEN": HF_TOKEN,
                                      "HF_ENDPOINT": hub.url}, discover_dotenv=False)
    hub.fail_commits = True
    with FaultServer(answer=answer_a) as server, caplog.at_level(logging.WARNING):
        result = assay.evaluate("openai_compatible", "assay_colors", model_args=f"model=m,base_url={server.base_url}",
                                limit=3, output_path=tmp_path / "logs", report=True, log_media=True,
                                hf_hub_log_args={"hub_results_org": "team"}, settings=settings)
    assert result.outputs is not None
    assert result.outputs.report_path is not None and result.outputs.report_path.is_file()
    (failed,) = result.outputs.failed_uploads
    assert failed.service == "Hugging Face Hub"
    assert any("upload failed" in r.getMessage() and "assay push" in r.getMessage() for r in caplog.records)
