"""Every cloud provider against a loopback server speaking its vendor's wire protocol.

The emulators check what the real services check (auth header name and value, request shape, image
encoding) and answer violations with a 400, so a passing test means the request was well-formed.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assay.env.settings import Settings, load_settings
from assay.errors import CredentialError, ProviderAuthError
from assay.model import Model, ModelConfig
from assay.model.retry import classify
from assay.preflight.plan import Plan
from assay.preflight.probe import probe
from assay.preflight.requirements import preflight
from assay.providers import get_spec, load_provider_class
from assay.types import GenerationParams, ImagePart, Message, Request, TextPart, VideoPart
from tests.emulators import VENDORS, Emulator, Vendor
from tests.helpers import results_file, run_cli, samples

KEY = "emu-secret-key-7f3a9c0d1e2b"
CLOUD = ["openai", "openai_compatible", "xai", "azure_openai", "anthropic", "gemini", "reka"]


def png(color: str = "red") -> ImagePart:
    from PIL import Image

    from assay.media.image import encode_image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), color).save(buffer, format="PNG")
    return encode_image(Image.open(io.BytesIO(buffer.getvalue())))


def image_request() -> Request:
    video = VideoPart(frames=(png("blue"), png("green")), source="clip.mp4")
    return Request(
        messages=(
            Message("system", (TextPart("Answer briefly."),)),
            Message("user", (TextPart("What colour is this?"), png(), video)),
        ),
        params=GenerationParams(max_tokens=16, temperature=0.0, stop=("\n",)),
        task="t",
    )


@pytest.fixture(params=CLOUD)
def vendor(request: pytest.FixtureRequest) -> Vendor:
    return VENDORS[request.param]


@pytest.fixture
def emulator(vendor: Vendor) -> Iterator[Emulator]:
    with vendor.emulator(key=KEY) as emu:
        yield emu


def settings_with(isolated: dict[str, str], **env: str) -> Settings:
    return load_settings(environ={**isolated, **env}, discover_dotenv=False)


def provider_for(vendor: Vendor, emu: Emulator, settings: Settings, **extra: Any) -> Any:
    return load_provider_class(vendor.provider)(settings, vendor.model_args(emu, **extra))


def assert_key_only_in_headers(emu: Emulator, key: str) -> None:
    for seen in emu.requests:
        assert key not in seen.path + seen.query + seen.raw


async def test_image_and_video_request_is_what_the_vendor_expects(vendor: Vendor, emulator: Emulator,
                                                                  settings: Settings) -> None:
    provider = provider_for(vendor, emulator, settings, api_key=KEY)
    try:
        response = await provider.generate(image_request())
    finally:
        await provider.aclose()
    assert emulator.problems == []
    assert response.text == "ok"
    assert response.usage.input_tokens > 0 and response.usage.output_tokens > 0
    (seen,) = emulator.requests
    assert_key_only_in_headers(emulator, KEY)
    sent = seen.raw
    # the image and both video frames travelled as base64 of the PNG bytes
    for color in ("red", "blue", "green"):
        assert png(color).data_b64 in sent


async def test_the_key_from_settings_is_sent(vendor: Vendor, emulator: Emulator, isolated: dict[str, str]) -> None:
    env = {vendor.variable: KEY}
    if vendor.provider == "azure_openai":
        env["AZURE_ENDPOINT"] = emulator.base_url
    settings = settings_with(isolated, **env)
    args = vendor.model_args(emulator)
    args.pop("endpoint", None)
    provider = load_provider_class(vendor.provider)(settings, args)
    try:
        response = await provider.generate(Request(messages=(Message.user("hi"),)))
    finally:
        await provider.aclose()
    assert response.text == "ok" and emulator.problems == []


async def test_a_refused_key_is_an_auth_error_and_not_retried(vendor: Vendor, emulator: Emulator,
                                                              settings: Settings) -> None:
    model = Model(provider_for(vendor, emulator, settings, api_key="wrong-key-000000"),
                  ModelConfig(max_attempts=4), sleep=_no_sleep)
    try:
        with pytest.raises(ProviderAuthError) as caught:
            await model.generate(Request(messages=(Message.user("hi"),)))
    finally:
        await model.aclose()
    assert caught.value.kind == "auth" and caught.value.exit_code == 3
    assert not classify(caught.value).retryable
    assert len(emulator.requests) == 1
    assert "wrong-key-000000" not in caught.value.message


async def test_transient_failures_are_retried_then_answered(vendor: Vendor, emulator: Emulator,
                                                           settings: Settings) -> None:
    emulator.queue({"error": (503, "try later", None)}, {"drop": True}, {"malformed": True})
    model = Model(provider_for(vendor, emulator, settings, api_key=KEY), ModelConfig(max_attempts=5),
                  sleep=_no_sleep)
    try:
        response = await model.generate(Request(messages=(Message.user("hi"),)))
    finally:
        await model.aclose()
    assert response.text == "ok" and response.attempts == 4
    assert model.stats.retries == 3


async def test_doctor_probe_against_the_emulation(vendor: Vendor, emulator: Emulator,
                                                  isolated: dict[str, str]) -> None:
    args = {k: v for k, v in vendor.model_args(emulator).items() if k != "model"}
    env = {vendor.variable: KEY}
    if vendor.provider == "azure_openai":
        env["AZURE_ENDPOINT"] = emulator.base_url
    (ok,) = await probe(Plan(model=vendor.provider, model_args=args), settings_with(isolated, **env))
    assert ok.status == "ok", ok.message
    (refused,) = await probe(Plan(model=vendor.provider, model_args=args),
                             settings_with(isolated, **{**env, vendor.variable: "not-the-key-000"}))
    assert refused.status == "refused", refused.message
    assert vendor.variable in refused.message and "not-the-key-000" not in refused.message
    assert all(seen.method == "GET" for seen in emulator.requests)
    assert_key_only_in_headers(emulator, KEY)


@pytest.mark.parametrize("provider", ["azure_openai", "anthropic", "gemini", "xai", "reka"])
def test_preflight_names_the_missing_credential(provider: str, settings: Settings) -> None:
    with pytest.raises(CredentialError) as caught:
        preflight(Plan(model=provider, model_args={"model": "m"}), settings)
    assert VENDORS[provider].variable in caught.value.message


@pytest.mark.parametrize(("alias", "name"), [("claude", "anthropic"), ("grok", "xai"), ("gemini_api", "gemini"),
                                             ("azure", "azure_openai"), ("openai_compatible_chat",
                                                                         "openai_compatible")])
def test_lmms_eval_aliases(alias: str, name: str) -> None:
    assert get_spec(alias) is get_spec(name)


@pytest.mark.parametrize("provider", ["anthropic", "gemini", "reka", "azure_openai", "xai"])
def test_assay_run_end_to_end_on_an_image_task(provider: str, run_dir: Path, capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    vendor = VENDORS[provider]
    with vendor.emulator(key=KEY) as emu:
        monkeypatch.setenv(vendor.variable, KEY)
        args = ",".join(f"{k}={v}" for k, v in vendor.model_args(emu).items())
        code, out, err = run_cli(capsys, "--model", provider, "--model_args", args, "--tasks", "assay_colors",
                                 "--limit", "3", "--output_path", str(run_dir / "out"), "--log_samples")
    assert code == 0, err
    assert emu.problems == []
    assert len(emu.requests) == 3
    result = results_file(run_dir / "out")["results"]["assay_colors"]
    assert result["n_scored"] == 3 and result["n_errors"] == 0
    assert len(samples(run_dir / "out")) == 3
    written = "".join(f.read_text() for f in (run_dir / "out").rglob("*") if f.is_file())
    assert KEY not in out + err + written


async def _no_sleep(seconds: float) -> None:
    return None


@pytest.mark.parametrize("provider", ["anthropic", "gemini", "reka"])
def test_assay_doctor_probe_cli(provider: str, cli_env: dict[str, str], capsys: pytest.CaptureFixture[str],
                                monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from assay.cli import main

    vendor = VENDORS[provider]
    with vendor.emulator(key=KEY) as emu:
        args = ",".join(f"{k}={v}" for k, v in vendor.model_args(emu).items())
        codes, probes = [], []
        for key in (KEY, "refused-key-0000000"):
            monkeypatch.setenv(vendor.variable, key)
            codes.append(main(["doctor", "--model", provider, "--model_args", args, "--probe", "--json"]))
            out = capsys.readouterr().out
            probes.append(json.loads(out)["probes"])
            assert key not in out
    assert codes == [0, 3]
    assert [p[0]["status"] for p in probes] == ["ok", "refused"]


@pytest.mark.parametrize("root", ["", "/v1", "/v1/"])
async def test_reka_takes_the_sdk_base_url_or_the_bare_api_root(root: str, isolated: dict[str, str]) -> None:
    """reka-api's base URL ends in /v1; the issue's (and a gateway's) is the bare root: both reach /v1/chat."""
    with VENDORS["reka"].emulator(key=KEY) as emu:
        provider = load_provider_class("reka")(settings_with(isolated), {"model": "reka-flash", "api_key": KEY,
                                                                        "base_url": emu.base_url + root})
        try:
            response = await provider.generate(Request(messages=(Message.user("hi"),)))
        finally:
            await provider.aclose()
    assert response.text == "ok" and emu.problems == []
    assert [seen.path for seen in emu.requests] == ["/v1/chat"]
