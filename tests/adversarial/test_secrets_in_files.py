"""Adversarial catalog, "secrets in files" (issue #7, classes 6-11): each test plays one hostile case
end to end and scans every output — stdout, stderr, log records, results, samples, the cache file's
bytes — for the secret in raw, JSON-escaped and URL-encoded form."""

from __future__ import annotations

import base64
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from assay.cli import main
from tests.adversarial.scan import leaks
from tests.fault_server import FaultServer
from tests.helpers import results_file, run_cli

TASK = "assay_arith_mc"


def folders(run_dir: Path) -> list[Path]:
    return [run_dir / "out", run_dir / "home"]


def run(capsys: pytest.CaptureFixture[str], model_args: str, *extra: str) -> tuple[int, str, str]:
    return run_cli(capsys, "--model", "openai_compatible", "--model_args", model_args, "--tasks", TASK,
                   "--log_samples", "--output_path", "out", "--use_cache", *extra)


def cache_rows(run_dir: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(run_dir / "home" / "cache" / "responses.sqlite") as db:
        return list(db.execute("SELECT identity, text, response_model FROM responses"))


# -- 6: credentials inside a base URL ------------------------------------------------------------------


def test_c06_url_credentials_are_masked_everywhere_and_the_request_url_is_right(
        run_dir: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
    user, password, qkey = "svc-user-7c1e", "url-PASSWORD-9d2f", "query-KEY-5b8a0c"
    with FaultServer(answer=lambda body: "A") as server:
        url = f"http://{user}:{password}@127.0.0.1:{server.port}/v1?key={qkey}&tier=1"
        # The server echoes the whole URL in an error, as a proxy might.
        server.queue({"status": 400, "body": {"error": {"message": f"bad request to {url}"}}})
        code, out, err = run(capsys, f"model=m,base_url={url},backoff_initial=0.01", "--limit", "4",
                             "--max_error_rate", "0.5", "--verbosity", "DEBUG")
        headers, urls = server.headers, server.urls
    assert code == 0, err
    # The query string stays at the end of the request URL; userinfo is Basic authentication.
    assert set(urls) == {f"/v1/chat/completions?key={qkey}&tier=1"}
    expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    assert {h["Authorization"] for h in headers} == {expected}
    doc = results_file(run_dir / "out")
    assert doc["model"]["identity"]["base_url"] == f"http://127.0.0.1:{server.port}/v1?tier=1"
    assert json.loads(cache_rows(run_dir)[0][0])["base_url"] == f"http://127.0.0.1:{server.port}/v1?tier=1"
    secrets = (password, qkey, f"{user}:{password}", expected.split()[1])
    assert not leaks(secrets, [out, err, *(r.getMessage() for r in caplog.records)], folders(run_dir))


def test_c06_doctor_masks_url_credentials(cli_env: dict[str, str], tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    password = "doctor-url-PASSWORD-31f"
    (tmp_path / ".env").write_text(f"OPENAI_BASE_URL=https://me:{password}@proxy.example/v1?api_key=qk-123456789\n")
    for args in (["doctor"], ["doctor", "--json"], ["doctor", "--model", "openai", "--model_args", "model=m"]):
        main(args)
        captured = capsys.readouterr()
        assert not leaks([password, "qk-123456789"], [captured.out, captured.err]), args
        assert "proxy" in captured.out
        assert "shorter than" not in captured.out  # the user name is not a credential to warn about


def test_c06_a_short_url_password_is_still_masked(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with FaultServer(answer=lambda body: "A") as server:
        url = f"http://u:pw@127.0.0.1:{server.port}/v1"
        server.queue({"status": 400, "body": {"error": {"message": f"rejected {url}"}}})
        code, _out, err = run(capsys, f"model=m,base_url={url}", "--limit", "2", "--max_error_rate", "1")
    assert code == 0, err
    text = "".join(p.read_text() for p in (run_dir / "out").rglob("*.json*"))
    assert "u:pw@" not in text and "<redacted:userinfo>@127.0.0.1" in text


# -- 7: answers are redacted before they are cached ------------------------------------------------------


def test_c07_the_cache_never_holds_an_echoed_key_and_a_rotated_key_is_not_replayed(
        run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old_key, new_key = "sk-old-ROTATED-key-0000000001", "sk-new-CURRENT-key-0000000002"
    with FaultServer(answer=lambda body: f"A (key {body['model']}: {old_key})") as server:
        (run_dir / ".env").write_text(f"OPENAI_API_KEY={old_key}\n")
        code, _, err = run(capsys, f"model=m,base_url={server.base_url}", "--limit", "3")
        assert code == 0, err
        assert [row[1] for row in cache_rows(run_dir)] == ["A (key m: <redacted:OPENAI_API_KEY>)"] * 3
        (run_dir / ".env").write_text(f"OPENAI_API_KEY={new_key}\n")  # the old key is rotated out
        code, out, err = run(capsys, f"model=m,base_url={server.base_url}", "--limit", "3")
        assert code == 0, err
        assert server.count == 3  # the second run was served from the cache
    assert not leaks([old_key, new_key], [out, err], folders(run_dir))


# -- 8: secret-looking extra --model_args --------------------------------------------------------------


def test_c08_secret_body_args_are_hashed_in_the_cache_and_masked_in_results(
        run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    token = "body-ACCESS-token-77aa11"
    with FaultServer(answer=lambda body: "A") as server:
        code, out, err = run(capsys, f"model=m,base_url={server.base_url},extra_body.access_token={token},user=u1",
                             "--limit", "2")
        assert code == 0, err
        assert server.requests[0]["access_token"] == token  # still sent to the model
    identity = json.loads(cache_rows(run_dir)[0][0])
    assert identity["body"]["access_token"].startswith("sha256:") and identity["body"]["user"] == "u1"
    assert results_file(run_dir / "out")["model"]["identity"]["body"]["access_token"].startswith("<redacted")
    assert not leaks([token], [out, err], folders(run_dir))


# -- 9: escaped forms ---------------------------------------------------------------------------------


def test_c09_a_key_with_quote_backslash_and_tab_is_redacted_in_every_escaped_form(
        run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = 'sk-esc"ape\\d\tKEY-0042'
    with FaultServer(answer=lambda body: f"A {json.dumps(key)} {key}") as server:
        (run_dir / ".env").write_text("OPENAI_API_KEY=" + json.dumps(key) + "\n")  # python-dotenv unescapes it
        server.queue({"status": 400, "body": {"error": {"message": f"bad key {key}"}}},
                     {"raw": f"not json {json.dumps(key)}".encode(), "status": 502})
        code, out, err = run(capsys, f"model=m,base_url={server.base_url},backoff_initial=0.01", "--limit", "3",
                             "--max_error_rate", "0.5", "--verbosity", "DEBUG")
        assert server.headers[0]["Authorization"] == f"Bearer {key}"
    assert code == 0, err
    assert not leaks([key], [out, err], folders(run_dir))


# -- 10: a secret pasted into a non-secret setting ---------------------------------------------------------


@pytest.mark.parametrize("line", ["VERBOSITY={key}", "LMMS_EVAL_USE_CACHE={key}", "API_TYPE={key}"])
def test_c10_a_secret_in_the_wrong_setting_is_not_echoed(cli_env: dict[str, str], tmp_path: Path, line: str,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    key = "sk-proj-PASTEDintoWRONGsetting000111"
    (tmp_path / ".env").write_text(line.format(key=key) + "\n")
    assert main(["doctor"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "<hidden" in err
    assert not leaks([key], [err])


def test_c10_a_secret_in_a_numeric_model_arg_is_not_echoed(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = "hf_PASTEDintoTIMEOUTxxxxxxxxxxxxxxxx01"
    code, out, err = run(capsys, f"model=m,base_url=http://127.0.0.1:9/v1,timeout={key}", "--limit", "1")
    assert code == 2 and "timeout=<hidden" in err
    assert not leaks([key], [out, err])


# -- 11: credentials too short to redact in free text ---------------------------------------------------


def test_c11_a_short_credential_is_flagged_by_doctor_and_preflight(
        run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (run_dir / ".env").write_text("OPENAI_API_KEY=abc12\nHF_TOKEN=hf_long_enough_token_0001\n")
    main(["doctor"])
    out = capsys.readouterr().out
    assert "warning: OPENAI_API_KEY is shorter than 6 characters" in out and "HF_TOKEN is shorter" not in out
    main(["doctor", "--json"])
    assert [w.split()[0] for w in json.loads(capsys.readouterr().out)["warnings"]] == ["OPENAI_API_KEY"]
    with FaultServer(answer=lambda body: "A") as server:
        code, _, err = run(capsys, f"model=m,base_url={server.base_url}", "--limit", "1")
    assert code == 0
    assert "OPENAI_API_KEY is shorter than 6 characters" in err
