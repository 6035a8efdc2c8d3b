"""Adversarial catalog, "every failure gets a real class" (issue #7, classes 15-17, 19): configuration
errors before the first request, a server's garbage as a counted and retried `malformed`, odd usage
fields that cost nothing, visible Retry-After pauses, a redirect's 401 blamed on the redirect, `.env`
quirks."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from assay.cli import main
from assay.env.settings import load_settings
from assay.errors import ProviderError
from assay.model import Model, ModelConfig
from assay.providers.openai import OpenAIProvider
from assay.types import GenerationParams, Message, Request
from tests.fault_server import FaultServer
from tests.helpers import results_file, run_cli, samples

TASK = "assay_arith_mc"
REQ = Request((Message.user("1+1?"),), GenerationParams(max_tokens=5))


def run(capsys: pytest.CaptureFixture[str], model_args: str, *extra: str) -> tuple[int, str, str]:
    return run_cli(capsys, "--model", "openai_compatible", "--model_args", model_args, "--tasks", TASK,
                   "--log_samples", "--output_path", "out", *extra)


# -- 15: configuration errors before the first request ------------------------------------------------


@pytest.mark.parametrize(("url", "says"), [
    ("ftp://127.0.0.1:{port}/v1", "has `ftp://`; only http:// and https:// are supported"),
    ("127.0.0.1:{port}/v1", "only http:// and https://"),
    ("http://127.0.0.1:99999/v1", "is not a valid URL"),
    ("http:///v1", "has no host"),
])
def test_c15_a_bad_base_url_is_a_config_error_before_any_request(
        run_dir: Path, capsys: pytest.CaptureFixture[str], url: str, says: str) -> None:
    with FaultServer() as server:
        code, _, err = run(capsys, f"model=m,base_url={url.format(port=server.port)}", "--limit", "2")
        assert server.count == 0
    assert code == 2 and says in err and "Traceback" not in err
    assert not list((run_dir / "out").rglob("*_results.json"))


@pytest.mark.parametrize("value", ['"sk-line1\\nline2-000111"', "sk-control\x07-00011122", '" sk-padded-0001112223"'])
def test_c15_an_unusable_key_is_a_config_error_naming_the_variable(
        run_dir: Path, capsys: pytest.CaptureFixture[str], value: str) -> None:
    (run_dir / ".env").write_text(f"OPENAI_API_KEY={value}\n")
    with FaultServer() as server:
        code, _, err = run(capsys, f"model=m,base_url={server.base_url}", "--limit", "2")
        assert server.count == 0
    assert code == 2 and err.startswith("error: OPENAI_API_KEY ")


@pytest.mark.parametrize("fault", [
    {"raw": b"\xff\xfe\x00garbage \xc3\x28"},  # not UTF-8
    {"raw": b"<html>502 Bad Gateway</html>", "content_type": "text/html"},  # not JSON
    {"raw": b'{"choices": "nope"}'},  # JSON, not a completion
], ids=["non-utf8", "html", "wrong-shape"])
def test_c15_a_garbage_reply_is_malformed_retried_and_counted(
        run_dir: Path, capsys: pytest.CaptureFixture[str], fault: dict[str, object]) -> None:
    with FaultServer(answer=lambda body: "A") as server:
        server.queue(fault, *[fault] * 2)  # the first doc: 3 garbage replies, out of attempts
        code, _, err = run(capsys, f"model=m,base_url={server.base_url},num_concurrent=1,max_attempts=3,"
                                   "backoff_initial=0.01", "--limit", "4", "--max_error_rate", "0.5")
        assert server.count == 3 + 3
    assert code == 0, err
    doc = results_file(run_dir / "out")
    assert doc["model_stats"]["failures"] == 1 and doc["model_stats"]["retries"] == 2
    errors = [s["error"] for s in samples(run_dir / "out") if s["error"]]
    assert [(e["type"], e["attempts"]) for e in errors] == [("malformed", 3)]


@pytest.mark.parametrize(("fault", "kind", "attempts"), [
    ({"raw": b"\x80\x81 not an answer"}, "malformed", 2),
    ({"status": 429, "headers": {"Retry-After": "0"}}, "rate_limit", 2),  # 429 forever
    ({"status": 500}, "server", 2),
    ({"status": 400}, "bad_request", 1),  # permanent: not retried
], ids=["garbage", "429-forever", "500", "400"])
def test_c15_when_every_request_fails_the_run_fails_and_counts_them(
        run_dir: Path, capsys: pytest.CaptureFixture[str], fault: dict[str, object], kind: str, attempts: int) -> None:
    with FaultServer() as server:
        server.sticky = fault
        code, _, err = run(capsys, f"model=m,base_url={server.base_url},max_attempts=2,backoff_initial=0.01",
                           "--limit", "3")
        assert server.count == 3 * attempts
    assert code == 1 and "no sample succeeded" in err
    doc = results_file(run_dir / "out")
    assert doc["status"] == "failed" and doc["model_stats"]["failures"] == 3
    assert {(s["error"]["type"], s["error"]["attempts"]) for s in samples(run_dir / "out")} == {(kind, attempts)}


def test_c15_a_failed_samples_error_record_keeps_the_vendors_request_id(
        run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with FaultServer(answer=lambda body: "A") as server:
        server.queue({"status": 400, "headers": {"x-request-id": "req_7Hq2Zk"}})
        code, _, err = run(capsys, f"model=m,base_url={server.base_url},num_concurrent=1", "--limit", "3",
                           "--max_error_rate", "0.5")
    assert code == 0, err
    errors = [s["error"] for s in samples(run_dir / "out") if s["error"]]
    assert [(e["type"], e["request_id"]) for e in errors] == [("bad_request", "req_7Hq2Zk")]


@pytest.mark.parametrize("usage", [{"prompt_tokens": "many", "completion_tokens": None},
                                   {"prompt_tokens": [1], "completion_tokens": {"x": 1}},
                                   {"prompt_tokens": -5, "completion_tokens": 1e308}, "not a dict"])
def test_c15_odd_usage_fields_never_cost_a_valid_answer(
        run_dir: Path, capsys: pytest.CaptureFixture[str], usage: object) -> None:
    with FaultServer(answer=lambda body: "A") as server:
        server.sticky = {"usage": usage}
        code, _, err = run(capsys, f"model=m,base_url={server.base_url}", "--limit", "3")
        assert server.count == 3  # no retries: the answers were good
    assert code == 0, err
    rows = samples(run_dir / "out")
    assert all(r["error"] is None and r["resps"] == [["A"]] for r in rows)
    assert all(r["usage"] == {"input_tokens": 0, "output_tokens": 0} for r in rows)


def test_c15_a_client_side_exception_is_classified_and_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    """A provider raising something of its own (a bug) is kind `client`: counted, not retried, not `internal`."""

    async def scenario() -> None:
        provider = OpenAIProvider(load_settings(environ={}, discover_dotenv=False),
                                  {"model": "m", "base_url": "http://127.0.0.1:9/v1"})

        async def broken(request: Request) -> None:
            raise KeyError("oops")

        monkeypatch.setattr(provider, "generate", broken)
        model = Model(provider, ModelConfig(max_attempts=3))
        with pytest.raises(ProviderError) as info:
            await model.generate(REQ)
        await model.aclose()
        assert info.value.kind == "client" and info.value.attempts == 1
        assert model.stats.failures == 1 and model.stats.requests == 1

    asyncio.run(scenario())


# -- 16: a long Retry-After pause is visible, and its cap is an option -----------------------------------


def test_c16_a_long_retry_after_is_logged_at_info_with_length_cause_and_cap(caplog: pytest.LogCaptureFixture) -> None:
    now = [1000.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:  # virtual time: waits are recorded, not waited
        slept.append(seconds)
        now[0] += seconds

    async def scenario() -> None:
        with FaultServer(answer=lambda body: "A") as server:
            server.queue({"status": 429, "headers": {"Retry-After": "3600"}},
                         {"status": 503, "headers": {"Retry-After": "2"}})
            config, _ = ModelConfig.split_model_args({"max_retry_after": "30"})
            provider = OpenAIProvider(load_settings(environ={}, discover_dotenv=False),
                                      {"model": "m", "base_url": server.base_url})
            model = Model(provider, config, sleep=sleep, clock=lambda: now[0])
            await model.generate(REQ)
            await model.aclose()

    with caplog.at_level(logging.INFO, "assay.model"):
        asyncio.run(scenario())
    assert slept == [30.0, 2.0]
    infos = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert infos == ["openai: rate limited (429); pausing for 30s as its Retry-After asks; the server asked for "
                     "3600s, cut to max_retry_after=30s"]  # the 2 s wait stays at DEBUG


# -- 17: a cross-origin redirect's 401 is blamed on the redirect ---------------------------------------------


def test_c17_a_cross_origin_redirect_401_blames_the_redirect_not_the_key(
        run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (run_dir / ".env").write_text("OPENAI_API_KEY=sk-redirect-test-key-000999\n")
    with FaultServer() as elsewhere, FaultServer() as server:
        elsewhere.sticky = {"status": 401, "body": {"error": {"message": "no credentials"}}}
        server.sticky = {"redirect": f"{elsewhere.base_url}/chat/completions"}
        code, _, err = run(capsys, f"model=m,base_url={server.base_url},num_concurrent=1", "--limit", "5")
        assert server.count == 1 and elsewhere.count == 1  # stopped at once, nothing more sent
        assert "Authorization" not in elsewhere.headers[0]  # the key was not sent across origins
    assert code == 1, err
    assert f"redirected the request to http://127.0.0.1:{elsewhere.port}, which refused it (401)" in err
    assert "hint: the key is not sent to another host on a redirect" in err
    assert "OPENAI_API_KEY" not in err  # the key is not what is wrong


# -- 19: `.env` quirks -----------------------------------------------------------------------------------


def test_c19_a_discovered_non_utf8_env_file_gets_a_hint_that_fits(cli_env: dict[str, str], tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / ".env").write_bytes(b"OPENAI_API_KEY=caf\xe9-latin1\n")
    assert main(["doctor"]) == 2
    err = capsys.readouterr().err
    assert "found by looking upwards from the working folder) is not UTF-8 text" in err
    assert "hint: save it as UTF-8, or name another file with --env-file PATH" in err
    assert main(["doctor", "--env-file", str(tmp_path / ".env")]) == 2
    err = capsys.readouterr().err
    assert "(given to --env-file) is not UTF-8" in err and "hint: save it as UTF-8\n" in err


def test_c19_an_empty_variable_in_the_environment_wins_over_dotenv(
        cli_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / ".env").write_text("OPENAI_API_KEY=sk-from-dotenv-0000000001\n")
    monkeypatch.setenv("OPENAI_API_KEY", "")
    assert main(["doctor", "--model", "openai", "--model_args", "model=gpt-4o-mini"]) == 3  # missing: empty wins
    out = capsys.readouterr().out
    assert "env OPENAI_API_KEY (empty)" in out
