"""Live credential probes against real loopback HTTP servers (no mocks of aiohttp)."""

from __future__ import annotations

import base64
import json
import time

import pytest

from assay.env.settings import Settings, load_settings
from assay.preflight import probe as probe_module
from assay.preflight.plan import Plan
from assay.preflight.probe import probe, probe_targets
from tests.conftest import CredentialServer, closed_port

OPENAI = "sk-probe-openai-0123456789"
HF = "hf_probe_token_0123456789"
WANDB = "wandb-probe-key-0123456789abcdef"


def settings_for(env: dict[str, str]) -> Settings:
    return load_settings(environ=env, discover_dotenv=False)


def assert_key_only_in_headers(server: CredentialServer, secret: str) -> None:
    for request in server.requests:
        assert secret not in request["path"] + request["query"] + request["body"]


async def test_openai_ok_sends_bearer(isolated: dict[str, str], credential_server: CredentialServer) -> None:
    env = {**isolated, "OPENAI_API_KEY": OPENAI, "OPENAI_BASE_URL": f"{credential_server.url('ok')}/v1"}
    (result,) = await probe(Plan(model="openai"), settings_for(env))
    assert result.status == "ok" and result.http_status == 200
    assert result.credential == "OPENAI_API_KEY" and result.service == "OpenAI"
    (request,) = credential_server.requests
    assert (request["method"], request["path"]) == ("GET", "/ok/v1/models")
    assert request["headers"]["Authorization"] == f"Bearer {OPENAI}"
    assert_key_only_in_headers(credential_server, OPENAI)


@pytest.mark.parametrize(("mode", "code"), [("deny", 401), ("forbid", 403)])
async def test_openai_refused(isolated: dict[str, str], credential_server: CredentialServer, mode: str,
                              code: int) -> None:
    base = f"{credential_server.url(mode)}/v1"
    env = {**isolated, "OPENAI_API_KEY": OPENAI, "OPENAI_BASE_URL": base}
    (result,) = await probe(Plan(model="openai"), settings_for(env))
    assert result.status == "refused" and result.http_status == code
    assert result.message == (
        f"OPENAI_API_KEY was refused ({code}) by {base}/models; check which key the server at {base} expects"
    )
    assert OPENAI not in result.message


async def test_hf_ok_and_refused(isolated: dict[str, str], credential_server: CredentialServer) -> None:
    plan = Plan(tasks={"mme": {"dataset_path": "lmms-lab/MME", "dataset_kwargs": {"token": True}}})
    ok_env = {**isolated, "HF_TOKEN": HF, "HF_ENDPOINT": credential_server.url("ok")}
    (ok,) = await probe(plan, settings_for(ok_env))
    assert ok.status == "ok"
    assert ok.message == f"HF_TOKEN accepted by {credential_server.url('ok')}/api/whoami-v2 (as tester)"
    assert credential_server.requests[0]["headers"]["Authorization"] == f"Bearer {HF}"

    bad_env = {**ok_env, "HF_ENDPOINT": credential_server.url("deny")}
    (bad,) = await probe(plan, settings_for(bad_env))
    assert bad.status == "refused"
    assert bad.message == (
        f"HF_TOKEN was refused (401) by {credential_server.url('deny')}/api/whoami-v2; "
        "create a token at https://huggingface.co/settings/tokens"
    )


async def test_wandb_uses_graphql_with_basic_auth(isolated: dict[str, str],
                                                  credential_server: CredentialServer) -> None:
    env = {**isolated, "WANDB_API_KEY": WANDB, "WANDB_BASE_URL": credential_server.url("ok")}
    (result,) = await probe(Plan(wandb_args={"project": "p"}), settings_for(env))
    assert result.status == "ok" and "(as tester)" in result.message
    (request,) = credential_server.requests
    assert (request["method"], request["path"]) == ("POST", "/ok/graphql")
    assert json.loads(request["body"]) == {"query": "{ viewer { username } }"}
    scheme, _, encoded = request["headers"]["Authorization"].partition(" ")
    assert scheme == "Basic" and base64.b64decode(encoded).decode() == f"api:{WANDB}"


async def test_wandb_without_viewer_is_refused(isolated: dict[str, str], credential_server: CredentialServer) -> None:
    env = {**isolated, "WANDB_API_KEY": WANDB, "WANDB_BASE_URL": credential_server.url("anon")}
    (result,) = await probe(Plan(wandb_args={}), settings_for(env))
    assert result.status == "refused"
    assert "https://wandb.ai/authorize" in result.message


async def test_unreachable_names_the_url(isolated: dict[str, str]) -> None:
    base = f"http://127.0.0.1:{closed_port()}/v1"
    env = {**isolated, "OPENAI_API_KEY": OPENAI, "OPENAI_BASE_URL": base}
    (result,) = await probe(Plan(model="openai"), settings_for(env))
    assert result.status == "unreachable" and result.http_status is None
    assert result.message == f"could not reach {base}/models: connection refused"


async def test_timeout_is_unreachable(isolated: dict[str, str], credential_server: CredentialServer) -> None:
    base = f"{credential_server.url('slow')}/v1"
    env = {**isolated, "OPENAI_API_KEY": OPENAI, "OPENAI_BASE_URL": base}
    (result,) = await probe(Plan(model="openai"), settings_for(env), timeout=0.2)
    assert result.status == "unreachable"
    assert result.message == f"no answer from {base}/models within 0.2s"


async def test_other_status_is_an_error(isolated: dict[str, str], credential_server: CredentialServer) -> None:
    base = f"{credential_server.url('boom')}/v1"
    env = {**isolated, "OPENAI_API_KEY": OPENAI, "OPENAI_BASE_URL": base}
    (result,) = await probe(Plan(model="openai"), settings_for(env))
    assert (result.status, result.http_status) == ("error", 500)
    assert result.message == f"{base}/models answered 500 when checking OPENAI_API_KEY"


async def test_probes_run_concurrently(isolated: dict[str, str], credential_server: CredentialServer) -> None:
    credential_server.delay = 0.4
    slow = credential_server.url("slow")
    env = {**isolated, "OPENAI_API_KEY": OPENAI, "OPENAI_BASE_URL": f"{slow}/v1", "HF_TOKEN": HF,
           "HF_ENDPOINT": slow, "WANDB_API_KEY": WANDB, "WANDB_BASE_URL": slow}
    started = time.perf_counter()
    results = await probe(None, settings_for(env), timeout=5)
    elapsed = time.perf_counter() - started
    assert [r.status for r in results] == ["ok", "ok", "ok"]
    assert elapsed < 1.0  # three 0.4 s answers, not 1.2 s in a row


async def test_model_args_key_and_base_url_win_for_the_model(isolated: dict[str, str],
                                                            credential_server: CredentialServer) -> None:
    model_base = f"{credential_server.url('ok')}/model/v1"
    judge_base = f"{credential_server.url('deny')}/judge/v1"
    arg_key = "sk-from-model-args-0123456789"
    env = {**isolated, "OPENAI_API_KEY": OPENAI, "OPENAI_BASE_URL": judge_base}
    plan = Plan(model="openai", model_args={"api_key": arg_key, "base_url": model_base},
                tasks={"j": {"metadata": {"gpt_eval_model_name": "g"}}})
    results = await probe(plan, settings_for(env))
    by_credential = {r.credential: r for r in results}
    assert by_credential["--model_args api_key"].status == "ok"
    assert by_credential["--model_args api_key"].url == f"{model_base}/models"
    assert by_credential["OPENAI_API_KEY"].status == "refused"
    sent = {r["path"]: r["headers"]["Authorization"] for r in credential_server.requests}
    assert sent == {"/ok/model/v1/models": f"Bearer {arg_key}", "/deny/judge/v1/models": f"Bearer {OPENAI}"}


async def test_azure_probe(isolated: dict[str, str], credential_server: CredentialServer) -> None:
    env = {**isolated, "AZURE_API_KEY": "azure-key-0123456789", "AZURE_ENDPOINT": credential_server.url("ok"),
           "API_TYPE": "azure"}
    (result,) = await probe(Plan(tasks={"j": {"metadata": {"judge_model": "g"}}}), settings_for(env))
    assert result.status == "ok"
    (request,) = credential_server.requests
    assert request["path"] == "/ok/openai/models" and request["query"] == "api-version=2024-10-21"
    assert request["headers"]["api-key"] == "azure-key-0123456789"
    assert "Authorization" not in request["headers"]


@pytest.mark.parametrize(
    ("variable", "service", "header", "sent"),
    [
        ("ANTHROPIC_API_KEY", "anthropic", "x-api-key", "{key}"),
        ("GOOGLE_API_KEY", "google", "x-goog-api-key", "{key}"),
        ("XAI_API_KEY", "xai", "Authorization", "Bearer {key}"),
        ("REKA_API_KEY", "reka", "X-Api-Key", "{key}"),
    ],
)
async def test_vendor_probes_send_keys_in_headers(
    isolated: dict[str, str], credential_server: CredentialServer, monkeypatch: pytest.MonkeyPatch,
    variable: str, service: str, header: str, sent: str,
) -> None:
    key = f"{service}-secret-0123456789"
    monkeypatch.setitem(probe_module.SERVICE_URLS, service, f"{credential_server.url('ok')}/{service}")
    (result,) = await probe(None, settings_for({**isolated, variable: key}))
    assert result.status == "ok" and result.credential == variable
    (request,) = credential_server.requests
    assert request["method"] == "GET" and request["path"] == f"/ok/{service}/models"
    assert request["headers"][header] == sent.format(key=key)
    assert_key_only_in_headers(credential_server, key)


async def test_nothing_to_probe(isolated: dict[str, str]) -> None:
    assert await probe(None, settings_for(isolated)) == []
    assert await probe(Plan(model="local"), settings_for(isolated)) == []


def test_unsatisfied_and_unprobeable_credentials_are_skipped(isolated: dict[str, str]) -> None:
    env = {**isolated, "VIESCORE_API_KEY": "vie-0123456789", "AZURE_API_KEY": "azure-no-endpoint-0123"}
    assert probe_targets(None, settings_for(env)) == []
    assert probe_targets(Plan(model="openai"), settings_for(isolated)) == []


def test_targets_do_not_show_keys_in_repr(isolated: dict[str, str]) -> None:
    (target,) = probe_targets(None, settings_for({**isolated, "OPENAI_API_KEY": OPENAI}))
    assert OPENAI not in repr(target)
    assert target.url == "https://api.openai.com/v1/models"
    assert "platform.openai.com/api-keys" in target.fix


async def test_user_info_in_a_url_is_not_shown(isolated: dict[str, str], credential_server: CredentialServer) -> None:
    base = f"http://user:pa55word-0123@127.0.0.1:{credential_server.port}/deny/v1"
    env = {**isolated, "OPENAI_API_KEY": OPENAI, "OPENAI_BASE_URL": base}
    (result,) = await probe(None, settings_for(env))
    assert "pa55word" not in result.url + result.message
    assert result.url == f"http://127.0.0.1:{credential_server.port}/deny/v1/models"


async def test_invalid_url_is_an_error_not_a_crash(isolated: dict[str, str]) -> None:
    env = {**isolated, "OPENAI_API_KEY": OPENAI, "OPENAI_BASE_URL": "localhost-without-scheme/v1"}
    (result,) = await probe(None, settings_for(env))
    assert result.status == "error"
    assert result.message == "localhost-without-scheme/v1/models is not a valid URL (checking OPENAI_API_KEY)"
