"""Opt-in smoke tests against the real vendors: one text and one image question per provider.

Skipped unless ``ASSAY_LIVE_TESTS=1`` *and* the provider's key is set (Azure also needs AZURE_ENDPOINT and
ASSAY_LIVE_AZURE_DEPLOYMENT). The double opt-in keeps a key that happens to be exported in a CI
environment from sending traffic anywhere but loopback. The model can be chosen with
``ASSAY_LIVE_<PROVIDER>_MODEL``; each call asks for a handful of tokens (well under a cent).

    ASSAY_LIVE_TESTS=1 ANTHROPIC_API_KEY=… python -m pytest tests/test_live_smoke.py -k anthropic
"""

from __future__ import annotations

import os

import pytest

from assay.env.settings import load_settings
from assay.model import Model, ModelConfig
from assay.providers import load_provider_class
from assay.types import GenerationParams, Message, Request, TextPart

LIVE = {  # provider: (key variable, default model)
    "openai": ("OPENAI_API_KEY", "gpt-4o-mini"),
    "azure_openai": ("AZURE_API_KEY", ""),
    "anthropic": ("ANTHROPIC_API_KEY", "claude-haiku-4-5"),
    "gemini": ("GOOGLE_API_KEY", "gemini-2.5-flash-lite"),
    "xai": ("XAI_API_KEY", "grok-4-fast-non-reasoning"),
    "reka": ("REKA_API_KEY", "reka-flash"),
}


def _live_args(provider: str) -> dict[str, str]:
    variable, model = LIVE[provider]
    if os.environ.get("ASSAY_LIVE_TESTS") != "1":
        pytest.skip("live vendor tests are opt-in: set ASSAY_LIVE_TESTS=1 and the provider's key")
    keys = {variable, "GEMINI_API_KEY"} if provider == "gemini" else {variable}
    if not any(os.environ.get(k) for k in keys):
        pytest.skip(f"{variable} is not set")
    if provider == "azure_openai":
        deployment = os.environ.get("ASSAY_LIVE_AZURE_DEPLOYMENT")
        if not (deployment and os.environ.get("AZURE_ENDPOINT")):
            pytest.skip("set AZURE_ENDPOINT and ASSAY_LIVE_AZURE_DEPLOYMENT")
        return {"deployment": deployment}
    return {"model": os.environ.get(f"ASSAY_LIVE_{provider.upper()}_MODEL", model)}


@pytest.mark.parametrize("provider", list(LIVE))
async def test_live_text_and_image(provider: str) -> None:
    from tests.test_providers import png

    args = _live_args(provider)
    settings = load_settings()
    model = Model(load_provider_class(provider)(settings, args), ModelConfig(max_attempts=3, timeout=60))
    params = GenerationParams(max_tokens=20, temperature=0.0)
    try:
        text = await model.generate(Request((Message.user("Reply with exactly one word: pong"),), params))
        image = await model.generate(Request(
            (Message("user", (TextPart("What colour fills this image? Answer with one word."), png("red"))),),
            params))
    finally:
        await model.aclose()
    assert "pong" in text.text.lower()
    assert "red" in image.text.lower()
    assert text.usage.input_tokens > 0 and text.usage.output_tokens > 0
