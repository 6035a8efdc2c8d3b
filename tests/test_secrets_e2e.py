"""Secrets set in `.env` appear nowhere a run writes: stdout, stderr, log records, results, samples.

The server here is hostile on purpose: it echoes the API key back inside answers and error messages,
as a prompt-injected model or a careless proxy might.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from assay.cli import main
from tests.fault_server import FaultServer

OPENAI = "sk-dotenv-OPENAI-7f3a9c1e5b2d4f60"
HF = "hf_dotenvHFtoken8e2c4a6b0d1f3e5a"
ANTHROPIC = "sk-ant-dotenv-ANTHROPIC-0a1b2c3d4e5f"
SECRETS = (OPENAI, HF, ANTHROPIC)


def write_env(folder: Path) -> None:
    (folder / ".env").write_text(f"OPENAI_API_KEY={OPENAI}\nHF_TOKEN='{HF}'\nANTHROPIC_API_KEY=\"{ANTHROPIC}\"\n")


def scan(folder: Path, *texts: str) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text
    for path in folder.rglob("*"):
        if path.is_file() and path.name != ".env":
            content = path.read_text(errors="ignore")
            for secret in SECRETS:
                assert secret not in content, f"{secret[:8]}… leaked into {path}"


def hostile(body: dict[str, Any]) -> str:
    return f"A (debug: key={OPENAI})"


def test_a_full_run_at_debug_leaks_no_secret(run_dir: Path, capsys: pytest.CaptureFixture[str],
                                             caplog: pytest.LogCaptureFixture) -> None:
    write_env(run_dir)
    with FaultServer(answer=hostile) as server:
        server.queue({}, {"status": 500, "body": {"error": {"message": f"upstream rejected {OPENAI}"}}},
                     {"status": 400, "body": {"error": {"message": f"bad key {OPENAI} for {HF}"}}})
        code = main(["run", "--model", "openai_compatible",
                     "--model_args", f"model=m,base_url={server.base_url},num_concurrent=1,backoff_initial=0.01",
                     "--tasks", "assay_arith_mc", "--limit", "5", "--log_samples", "--verbosity", "DEBUG",
                     "--max_error_rate", "0.5", "--output_path", str(run_dir / "logs")])
        # The key from .env is the one actually sent.
        assert all(h["Authorization"] == f"Bearer {OPENAI}" for h in server.headers)
    out, err = capsys.readouterr()
    assert code == 0, err
    samples = next((run_dir / "logs").rglob("*_samples_*.jsonl")).read_text()
    assert "<redacted:OPENAI_API_KEY>" in samples  # the echo was there, and was masked
    assert "<redacted:HF_TOKEN>" in samples  # the error message's token too
    scan(run_dir, out, err, *(r.getMessage() for r in caplog.records))


def test_a_failing_run_leaks_no_secret(run_dir: Path, capsys: pytest.CaptureFixture[str],
                                       caplog: pytest.LogCaptureFixture) -> None:
    write_env(run_dir)
    with FaultServer(answer=hostile) as server:
        server.queue({"status": 401, "body": {"error": {"message": f"Incorrect API key provided: {OPENAI}"}}})
        code = main(["run", "--model", "openai_compatible", "--model_args", f"model=m,base_url={server.base_url}",
                     "--tasks", "assay_arith_mc", "--limit", "5", "--log_samples", "--verbosity", "DEBUG",
                     "--output_path", str(run_dir / "logs")])
    out, err = capsys.readouterr()
    assert code == 3
    assert "<redacted:OPENAI_API_KEY>" in err
    scan(run_dir, out, err, *(r.getMessage() for r in caplog.records))


def test_python_api_reads_dotenv_and_returns_redacted_results(run_dir: Path) -> None:
    import assay

    write_env(run_dir)
    with FaultServer(answer=hostile) as server:
        result = assay.evaluate("openai_compatible", "assay_arith_mc",
                                model_args={"model": "m", "base_url": server.base_url}, limit=4,
                                log_samples=True, output_path=run_dir / "logs")
        assert server.headers[0]["Authorization"] == f"Bearer {OPENAI}"
    entry = result["results"]["assay_arith_mc"]
    assert entry["n_scored"] == 4
    assert result.results_path is not None and result.results_path.is_file()
    assert set(result.sample_paths) == {"assay_arith_mc"}
    scan(run_dir, json.dumps(result.results))


def test_python_api_accepts_an_api_key_without_leaking_it(run_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    import logging

    import assay

    caplog.set_level(logging.DEBUG)  # the application's own handler, at DEBUG

    key = "sk-passed-in-code-1234567890abcdef"
    with FaultServer(answer=lambda body: f"A {key}") as server:
        # A retried failure whose message carries the key: the retry is logged at DEBUG.
        server.queue({"status": 503, "body": {"error": {"message": f"overloaded for {key}"}}})
        result = assay.evaluate("openai_compatible", ["assay_arith_mc"], limit=2, log_samples=True,
                                model_args={"model": "m", "base_url": server.base_url, "api_key": key,
                                            "backoff_initial": 0.01},
                                output_path=run_dir / "logs")
        assert server.headers[0]["Authorization"] == f"Bearer {key}"
    assert key not in json.dumps(result.results)
    assert any(r.name.startswith("assay") and "overloaded for" in r.getMessage() for r in caplog.records)
    assert all(key not in r.getMessage() for r in caplog.records)
    for path in (run_dir / "logs").rglob("*"):
        if path.is_file():
            assert key not in path.read_text()


def test_python_api_takes_lmms_eval_options_and_names_a_wrong_one(run_dir: Path) -> None:
    import assay
    from assay.errors import UsageError

    with FaultServer(answer=lambda body: "A") as server:
        result = assay.evaluate("openai_compatible", "assay_arith_mc", limit=2, output_path=run_dir / "logs",
                                model_args={"model": "m", "base_url": server.base_url},
                                system_instruction="Answer with one letter.", log_samples=True)
        # As lmms-eval does for doc_to_text tasks: the instruction opens the prompt.
        assert len(server.requests) == 2
        assert all(str(body["messages"][0]["content"]).startswith("Answer with one letter.")
                   for body in server.requests)
    assert result.status == "complete"
    with pytest.raises(UsageError, match="unknown option 'num_fewshots'") as info:
        assay.evaluate("openai_compatible", "assay_arith_mc", num_fewshots=2)
    assert "did you mean 'num_fewshot'" in info.value.hint
