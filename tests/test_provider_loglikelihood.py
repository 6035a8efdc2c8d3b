"""loglikelihood through an OpenAI-compatible server's /v1/completions (echo + logprobs), as vLLM serves it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from assay.env.settings import Settings
from assay.errors import ProviderError
from assay.model import Model, ModelConfig
from assay.providers import load_provider_class
from assay.providers.completions import parse_loglikelihood
from assay.types import LoglikelihoodRequest, Message
from tests.emulators import OpenAIEmulator

KEY = "emu-ll-key-0000000001"
CONTEXT = (Message.user("Question: what is 2 + 2?\nAnswer:"),)


@pytest.fixture
def emu() -> Iterator[OpenAIEmulator]:
    with OpenAIEmulator(key=KEY) as server:
        yield server


def model_for(name: str, emu: OpenAIEmulator, settings: Settings) -> Model:
    provider = load_provider_class(name)(settings, {"model": "m", "base_url": emu.api_root, "api_key": KEY})
    return Model(provider, ModelConfig(max_attempts=3), sleep=_no_sleep)


async def test_continuation_logprob_and_greedy(emu: OpenAIEmulator, settings: Settings) -> None:
    model = model_for("openai_compatible", emu, settings)
    try:
        likely = await model.loglikelihood(LoglikelihoodRequest(CONTEXT, " four", task="t"))
        unlikely = await model.loglikelihood(LoglikelihoodRequest(CONTEXT, " B", task="t"))
        two_tokens = await model.loglikelihood(LoglikelihoodRequest(CONTEXT, " 4 exactly", task="t"))
    finally:
        await model.aclose()
    assert emu.problems == []
    # the emulator scores -0.1 per character of each token; the context's tokens are not counted
    assert likely.logprob == pytest.approx(-0.4) and likely.is_greedy
    assert unlikely.logprob == pytest.approx(-0.1) and not unlikely.is_greedy
    assert two_tokens.logprob == pytest.approx(-0.1 - 0.7) and two_tokens.is_greedy
    body = emu.bodies[0]
    assert body["prompt"] == CONTEXT[0].text + " four"
    assert (body["echo"], body["logprobs"], body["max_tokens"]) == (True, 1, 0)
    assert likely.usage.input_tokens > 0


async def test_server_errors_are_retried(emu: OpenAIEmulator, settings: Settings) -> None:
    emu.queue({"error": (503, "warming up", None)}, {"error": (429, "slow down", None)})
    model = model_for("openai_compatible", emu, settings)
    try:
        result = await model.loglikelihood(LoglikelihoodRequest(CONTEXT, " four"))
    finally:
        await model.aclose()
    assert result.attempts == 3 and result.logprob == pytest.approx(-0.4)
    assert model.stats.retries == 2


async def test_chat_only_providers_say_they_cannot(emu: OpenAIEmulator, settings: Settings) -> None:
    model = model_for("openai", emu, settings)
    try:
        with pytest.raises(ProviderError) as caught:
            await model.loglikelihood(LoglikelihoodRequest(CONTEXT, " four", task="mmbench_mc"))
    finally:
        await model.aclose()
    assert caught.value.kind == "unsupported" and "mmbench_mc" in caught.value.message
    assert emu.requests == []


async def test_images_in_the_context_are_refused_before_sending(emu: OpenAIEmulator, settings: Settings) -> None:
    from tests.test_providers import png

    context = (Message("user", (*Message.user("What is shown?").parts, png())),)
    model = model_for("openai_compatible", emu, settings)
    try:
        with pytest.raises(ProviderError) as caught:
            await model.loglikelihood(LoglikelihoodRequest(context, " a square"))
    finally:
        await model.aclose()
    assert caught.value.kind == "unsupported" and emu.requests == []


@pytest.mark.parametrize("body", [
    '{"choices": [{"text": "x"}]}',  # a server without echo/logprobs support
    '{"choices": [{"logprobs": {"tokens": ["a"], "token_logprobs": [null], "text_offset": [0]}}]}',
])
def test_answers_without_continuation_logprobs_are_malformed(body: str) -> None:
    with pytest.raises(ProviderError) as caught:
        parse_loglikelihood(body, 0, provider="openai", where="http://x")
    assert caught.value.kind == "malformed"


async def _no_sleep(seconds: float) -> None:
    return None
