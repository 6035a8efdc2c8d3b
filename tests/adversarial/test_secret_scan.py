"""The all-credentials secret scan: every credential assay knows set at once — in `.env` (with quote,
backslash and TAB characters), in `--model_args` (a body argument, the base URL's user:password and
`?key=`) — a server that echoes all of them in answer bodies, response headers and error messages, the
cache on, DEBUG logging; then `assay doctor` and `assay cache` on top. Not one of them, in raw, JSON-escaped,
URL-encoded or repr form, may appear in stdout, stderr, log records, results, samples or the cache file."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from assay.cli import main
from assay.env.settings import SPECS
from tests.adversarial.scan import leaks
from tests.fault_server import FaultServer

DOTENV = {  # every secret setting, some with the characters escaping forms are made of
    "OPENAI_API_KEY": 'sk-scan-OPENAI-q"uote-0001',
    "HF_TOKEN": "hf_scanHF\\back\\slash0002",
    "WANDB_API_KEY": "scanWANDB\ttab\tkey-0003",
    "AZURE_API_KEY": "scan-AZURE-key-0004-a1b2c3",
    "GOOGLE_API_KEY": "AIzaScanGOOGLE-key-0005-d4e5f6",
    "ANTHROPIC_API_KEY": "sk-ant-scan-ANTHROPIC-0006",
    "XAI_API_KEY": "xai-scan-XAI-key-0007-g7h8",
    "REKA_API_KEY": "scan-REKA-key-0008-i9j0",
    "VIESCORE_API_KEY": "scan-VIESCORE-key-0009",
    "DASHSCOPE_API_KEY": "sk-scan-DASHSCOPE-0013-m3n4",
    "AWS_BEARER_TOKEN_BEDROCK": "scan-BEDROCK-token-0014-o5p6",
}
URL_USER, URL_PASSWORD, URL_QUERY_KEY = "scan-user", 'url-PASS"word\\0010', "query-KEY-0011-k1l2"
BODY_TOKEN = "body-ACCESS\ttoken-0012"
BASIC = base64.b64encode(f"{URL_USER}:{URL_PASSWORD}".encode()).decode()
SECRETS = (*DOTENV.values(), URL_PASSWORD, URL_QUERY_KEY, BODY_TOKEN, BASIC)


def test_every_secret_set_and_echoed_leaks_nowhere(run_dir: Path, capsys: pytest.CaptureFixture[str],
                                                   caplog: pytest.LogCaptureFixture) -> None:
    assert {s.env_name for s in SPECS if s.secret} <= set(DOTENV)  # truly every credential assay knows
    (run_dir / ".env").write_text("".join(f"{k}={json.dumps(v)}\n" for k, v in DOTENV.items()))
    echo = " | ".join(SECRETS)

    def hostile(body: dict[str, Any]) -> str:
        return f"A -- echo: {echo} -- your body said {json.dumps(body)[:2000]}"

    with FaultServer(answer=hostile) as server:
        password = URL_PASSWORD.replace('"', "%22").replace("\\", "%5C")  # as a URL writes them
        url = f"http://{URL_USER}:{password}@127.0.0.1:{server.port}/v1?key={URL_QUERY_KEY}"
        error = {"error": {"message": f"denied for {echo}", "code": echo}}
        server.queue({"status": 500, "body": error, "headers": {"X-Echo": SECRETS[2]}},
                     {"status": 400, "body": error, "headers": {"x-request-id": SECRETS[0]}},  # kept on the sample
                     {"raw": f"garbage {echo} {json.dumps(echo)}".encode(), "status": 502},
                     {"status": 429, "headers": {"Retry-After": "0", "X-Echo": SECRETS[0]}, "body": error},
                     {"headers": {"X-Echo": echo.replace("\t", " ")}})
        code = main(["run", "--model", "openai_compatible", "--model_args",
                     f"model=m,base_url={url},extra_body.access_token={BODY_TOKEN},num_concurrent=2,backoff_initial=0.01",
                     "--tasks", "assay_arith_mc", "--limit", "12", "--log_samples", "--use_cache",
                     "--output_path", "out", "--max_error_rate", "0.5", "--verbosity", "DEBUG"])
        run_out, run_err = capsys.readouterr()
        assert code == 0, run_err
        assert {h["Authorization"] for h in server.headers} == {f"Basic {BASIC}"}  # what was really sent
        assert server.requests[0]["access_token"] == BODY_TOKEN
    outputs = [run_out, run_err]
    for args in (["doctor"], ["doctor", "--json"], ["doctor", "--model", "openai", "--model_args",
                                                     f"model=m,base_url={url}", "--tasks", "assay_arith_mc"],
                 ["cache"], ["cache", "path"]):
        main(args)
        outputs.extend(capsys.readouterr())
    files = [run_dir / "out", run_dir / "home"]
    assert (run_dir / "home" / "cache" / "responses.sqlite").is_file()  # the cache file is scanned too
    samples_text = next((run_dir / "out").rglob("*_samples_*.jsonl")).read_text()
    assert samples_text.count("<redacted:") > 12
    ids = [r["error"]["request_id"] for r in map(json.loads, samples_text.splitlines())
           if r["error"] and "request_id" in r["error"]]
    assert len(ids) == 1 and "<redacted:" in ids[0]  # the echoed request id was kept, masked
    found = leaks(SECRETS, [*outputs, *(r.getMessage() for r in caplog.records)], files)
    assert found == [], "\n".join(found)
