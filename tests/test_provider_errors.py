"""Each vendor's error bodies and odd answers → assay's failure kinds and retry decisions.

Every case is a real HTTP exchange with the vendor's emulator (the body shaped as that vendor shapes it),
answered through the provider, and classified by the same ``classify`` the Model wrapper uses.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from assay.env.settings import Settings
from assay.errors import ProviderError
from assay.model.retry import classify
from assay.providers import load_provider_class
from assay.types import GenerationParams, Message, Request
from tests.emulators import VENDORS, Emulator

KEY = "emu-secret-key-err-0001"
HI = Request(messages=(Message.user("hi"),))


@pytest.fixture
def run_one(settings: Settings) -> Iterator[Any]:
    """``run_one(provider, *faults)`` → the ProviderError (or Response) of one attempt after the faults."""
    emulators: list[Emulator] = []

    async def run(provider: str, *faults: dict[str, Any], request: Request = HI, **args: Any) -> Any:
        vendor = VENDORS[provider]
        emu = vendor.emulator(key=KEY).start()
        emulators.append(emu)
        emu.queue(*faults)
        client = load_provider_class(provider)(settings, vendor.model_args(emu, api_key=KEY, **args))
        try:
            return await client.generate(request)
        except ProviderError as exc:
            return exc
        finally:
            await client.aclose()
            run.last = emu  # type: ignore[attr-defined]

    yield run
    for emu in emulators:
        emu.stop()


def expect(result: Any, kind: str, decision: str, retry_after: float | None = None) -> None:
    assert isinstance(result, ProviderError), result
    assert result.kind == kind, result.message
    assert classify(result).kind == decision
    if retry_after is not None:
        assert classify(result).retry_after == retry_after
    assert KEY not in result.message and result.hint


# -- Anthropic --------------------------------------------------------------------------------------

ANTHROPIC_CASES = [
    ({"error": (529, "Overloaded", "overloaded_error")}, "overloaded", "transient"),
    ({"error": (429, "Number of requests has exceeded your rate limit", "rate_limit_error"),
      "headers": {"retry-after": "3"}}, "rate_limit", "rate_limit"),
    ({"error": (400, "prompt is too long: 215000 tokens > 200000 maximum", "invalid_request_error")},
     "context_length", "no"),
    ({"error": (400, "Your credit balance is too low to access the Anthropic API.", "invalid_request_error")},
     "quota", "no"),
    ({"error": (400, "temperature: range: 0..1", "invalid_request_error")}, "bad_request", "no"),
    ({"error": (400, "Output blocked by content filtering policy", "invalid_request_error")}, "content_policy", "no"),
    ({"error": (403, "Your API key does not have permission", "permission_error")}, "auth", "no"),
    ({"error": (404, "model: claude-nope", "not_found_error")}, "not_found", "no"),
    ({"error": (413, "Request exceeds the maximum size", "request_too_large")}, "context_length", "no"),
    ({"error": (500, "Internal server error", "api_error")}, "server", "transient"),
]


@pytest.mark.parametrize(("fault", "kind", "decision"), ANTHROPIC_CASES)
async def test_anthropic_errors(run_one: Any, fault: dict[str, Any], kind: str, decision: str) -> None:
    result = await run_one("anthropic", fault)
    expect(result, kind, decision, 3.0 if kind == "rate_limit" else None)


async def test_anthropic_refusal_and_thinking_blocks(run_one: Any) -> None:
    refusal = {"type": "message", "role": "assistant", "model": "m", "content": [], "stop_reason": "refusal",
               "usage": {"input_tokens": 5, "output_tokens": 0}}
    expect(await run_one("anthropic", {"reply": refusal}), "content_policy", "no")
    thinking = {**refusal, "stop_reason": "end_turn",
                "content": [{"type": "thinking", "thinking": "hmm", "signature": "x"}, {"type": "text", "text": "B"}],
                "usage": {"input_tokens": 5, "cache_read_input_tokens": 100, "output_tokens": 9}}
    response = await run_one("anthropic", {"reply": thinking})
    assert response.text == "B" and response.usage.input_tokens == 105 and response.usage.output_tokens == 9


async def test_anthropic_required_max_tokens_and_top_level_system(run_one: Any) -> None:
    request = Request(messages=(Message("system", (Message.user("be brief").parts)), Message.user("hi")),
                      params=GenerationParams(stop=("\n",), extra=(("num_beams", 1), ("top_k", 5))))
    response = await run_one("anthropic", request=request)
    body = run_one.last.bodies[0]
    assert response.text == "ok"
    assert body["max_tokens"] == 1024 and body["system"] == "be brief" and body["stop_sequences"] == ["\n"]
    assert body["top_k"] == 5 and "num_beams" not in body  # HF-only generation kwargs are not sent
    assert [m["role"] for m in body["messages"]] == ["user"]


# -- Gemini -----------------------------------------------------------------------------------------

_RETRY_INFO = {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "7s"}
_PER_DAY = {"@type": "type.googleapis.com/google.rpc.QuotaFailure",
            "violations": [{"quotaId": "GenerateRequestsPerDayPerProjectPerModel-FreeTier"}]}


def gemini_error(code: int, status: str, message: str, *details: dict[str, Any]) -> dict[str, Any]:
    return {"status": code, "body": {"error": {"code": code, "message": message, "status": status,
                                               "details": list(details)}}}


GEMINI_CASES = [
    (gemini_error(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted", _RETRY_INFO), "rate_limit", "rate_limit"),
    (gemini_error(429, "RESOURCE_EXHAUSTED", "You exceeded your current quota", _PER_DAY), "quota", "no"),
    (gemini_error(400, "INVALID_ARGUMENT", "The input token count (1200000) exceeds the maximum number of tokens "
                  "allowed (1048576)."), "context_length", "no"),
    (gemini_error(400, "INVALID_ARGUMENT", "Invalid JSON payload received."), "bad_request", "no"),
    (gemini_error(400, "FAILED_PRECONDITION", "Gemini API free tier is not available in your country. Please "
                  "enable billing on your project"), "quota", "no"),
    (gemini_error(503, "UNAVAILABLE", "The model is overloaded. Please try again later."), "overloaded", "transient"),
    (gemini_error(500, "INTERNAL", "An internal error has occurred."), "server", "transient"),
    (gemini_error(404, "NOT_FOUND", "models/gemini-nope is not found"), "not_found", "no"),
    (gemini_error(403, "PERMISSION_DENIED", "Method doesn't allow unregistered callers"), "auth", "no"),
]


@pytest.mark.parametrize(("fault", "kind", "decision"), GEMINI_CASES)
async def test_gemini_errors(run_one: Any, fault: dict[str, Any], kind: str, decision: str) -> None:
    expect(await run_one("gemini", fault), kind, decision, 7.0 if kind == "rate_limit" else None)


async def test_gemini_safety_blocks_are_refusals_not_empty_answers(run_one: Any) -> None:
    blocked_prompt = {"promptFeedback": {"blockReason": "SAFETY"}, "usageMetadata": {"promptTokenCount": 9}}
    expect(await run_one("gemini", {"reply": blocked_prompt}), "content_policy", "no")
    blocked_answer = {"candidates": [{"content": {"parts": [], "role": "model"}, "finishReason": "SAFETY"}]}
    expect(await run_one("gemini", {"reply": blocked_answer}), "content_policy", "no")
    prohibited = {"candidates": [{"finishReason": "PROHIBITED_CONTENT"}]}
    expect(await run_one("gemini", {"reply": prohibited}), "content_policy", "no")


async def test_gemini_thoughts_are_not_the_answer_but_are_billed(run_one: Any) -> None:
    reply = {"candidates": [{"content": {"parts": [{"text": "let me think", "thought": True}, {"text": "4"}],
                                         "role": "model"}, "finishReason": "STOP"}],
             "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 1, "thoughtsTokenCount": 50}}
    response = await run_one("gemini", {"reply": reply})
    assert response.text == "4" and response.usage.output_tokens == 51 and response.finish_reason == "stop"


async def test_gemini_request_shape(run_one: Any) -> None:
    request = Request(messages=(Message("system", Message.user("sys").parts), Message.user("q"),
                                Message("assistant", Message.user("a").parts), Message.user("q2")),
                      params=GenerationParams(max_tokens=8, temperature=0.0, top_p=0.9, stop=("x",), seed=3,
                                              extra=(("top_k", 2), ("num_beams", 1))))
    await run_one("gemini", request=request)
    emu = run_one.last
    body = emu.bodies[0]
    assert emu.requests[0].path == "/v1beta/models/gemini-2.5-flash:generateContent"
    assert body["systemInstruction"] == {"parts": [{"text": "sys"}]}
    assert [c["role"] for c in body["contents"]] == ["user", "model", "user"]
    assert body["generationConfig"] == {"maxOutputTokens": 8, "temperature": 0.0, "topP": 0.9,
                                        "stopSequences": ["x"], "seed": 3, "topK": 2}


# -- Azure OpenAI, xAI, OpenAI ----------------------------------------------------------------------

OPENAI_SHAPED_CASES = [
    ({"error": (400, "The response was filtered due to the prompt triggering Azure OpenAI's content management "
                "policy.", "content_filter")}, "content_policy", "no"),
    ({"error": (429, "Requests to the ChatCompletions_Create Operation have exceeded call rate limit",
                "429"), "headers": {"retry-after-ms": "1500"}}, "rate_limit", "rate_limit"),
    ({"error": (429, "You exceeded your current quota", "insufficient_quota")}, "quota", "no"),
    ({"error": (400, "This model's maximum context length is 128000 tokens.", "context_length_exceeded")},
     "context_length", "no"),
    ({"error": (400, "This model's maximum prompt length is 131072 but the request contains 140000 tokens.",
                None)}, "context_length", "no"),
    ({"error": (500, "The server had an error", None)}, "server", "transient"),
    ({"error": (400, "Content violates usage guidelines. Team: …, Failed check: SAFETY_CHECK_TYPE_CSAM", None)},
     "content_policy", "no"),
]


@pytest.mark.parametrize("provider", ["azure_openai", "xai", "openai"])
@pytest.mark.parametrize(("fault", "kind", "decision"), OPENAI_SHAPED_CASES)
async def test_openai_shaped_errors(run_one: Any, provider: str, fault: dict[str, Any], kind: str,
                                   decision: str) -> None:
    expect(await run_one(provider, fault), kind, decision, 1.5 if kind == "rate_limit" else None)


@pytest.mark.parametrize("provider", ["azure_openai", "openai"])
async def test_filtered_or_refused_answers_are_refusals(run_one: Any, provider: str) -> None:
    filtered = {"choices": [{"index": 0, "message": {"role": "assistant", "content": None},
                             "finish_reason": "content_filter"}]}
    expect(await run_one(provider, {"reply": filtered}), "content_policy", "no")
    refused = {"choices": [{"index": 0, "message": {"role": "assistant", "content": None,
                                                    "refusal": "I can't help with that."},
                            "finish_reason": "stop"}]}
    result = await run_one(provider, {"reply": refused})
    expect(result, "content_policy", "no")
    assert "I can't help with that." in result.message


async def test_azure_url_shape(run_one: Any) -> None:
    await run_one("azure_openai")
    seen = run_one.last.requests[0]
    assert seen.path == "/openai/deployments/gpt4o-deploy/chat/completions"
    assert seen.query == "api-version=2024-10-21"
    assert seen.headers["api-key"] == KEY


# -- Reka -------------------------------------------------------------------------------------------

REKA_CASES = [
    ({"status": 422, "body": {"detail": [{"loc": ["body", "messages"], "msg": "field required",
                                          "type": "value_error.missing"}]}}, "bad_request", "no"),
    ({"error": (429, "Rate limit exceeded", None), "headers": {"Retry-After": "2"}}, "rate_limit", "rate_limit"),
    ({"error": (402, "Insufficient credits", None)}, "quota", "no"),
    ({"error": (400, "Input exceeds the model's context length", None)}, "context_length", "no"),
    ({"error": (500, "Internal Server Error", None)}, "server", "transient"),
    ({"error": (503, "Service Unavailable", None)}, "server", "transient"),
]


@pytest.mark.parametrize(("fault", "kind", "decision"), REKA_CASES)
async def test_reka_errors(run_one: Any, fault: dict[str, Any], kind: str, decision: str) -> None:
    expect(await run_one("reka", fault), kind, decision, 2.0 if kind == "rate_limit" else None)


async def test_reka_context_finish_is_not_an_empty_answer(run_one: Any) -> None:
    reply = {"id": "x", "model": "reka-flash", "usage": {"input_tokens": 1, "output_tokens": 0},
             "responses": [{"finish_reason": "context", "message": {"role": "assistant", "content": ""}}]}
    expect(await run_one("reka", {"reply": reply}), "context_length", "no")


# -- every vendor: the server's x-should-retry and request id ---------------------------------------

SHOULD_RETRY_CASES = [
    ("openai", {"error": (500, "boom", None), "headers": {"x-should-retry": "false"}}, "server", "no"),
    ("openai", {"error": (400, "try later", None), "headers": {"x-should-retry": "true"}}, "bad_request", "transient"),
    ("openai", {"error": (429, "slow down", None), "headers": {"x-should-retry": "true", "retry-after": "2"}},
     "rate_limit", "rate_limit"),
    ("anthropic", {"error": (529, "Overloaded", "overloaded_error"), "headers": {"x-should-retry": "false"}},
     "overloaded", "no"),
    ("anthropic", {"error": (409, "conflict", "invalid_request_error"), "headers": {"X-Should-Retry": "true"}},
     "bad_request", "transient"),
    ("openai", {"error": (500, "boom", None), "headers": {"x-should-retry": "maybe"}}, "server", "transient"),
]


@pytest.mark.parametrize(("provider", "fault", "kind", "decision"), SHOULD_RETRY_CASES)
async def test_the_servers_x_should_retry_wins_over_status_and_kind(
        run_one: Any, provider: str, fault: dict[str, Any], kind: str, decision: str) -> None:
    expect(await run_one(provider, fault), kind, decision)


REQUEST_ID_CASES = [
    ("openai", "x-request-id", "req_0a1b2c"),
    ("xai", "x-request-id", "xai-7f3e"),
    ("azure_openai", "apim-request-id", "6b0c5a2e-azure"),
    ("anthropic", "request-id", "req_011CSHoEeqs5C35K2UUqR7Fy"),
    ("gemini", "x-goog-request-id", "goog-42"),
    ("reka", "x-request-id", "reka-9"),
]


@pytest.mark.parametrize(("provider", "header", "value"), REQUEST_ID_CASES)
async def test_every_error_keeps_the_vendors_request_id(run_one: Any, provider: str, header: str, value: str) -> None:
    failed = await run_one(provider, {"error": (500, "boom", None), "headers": {header: value}})
    assert isinstance(failed, ProviderError) and failed.request_id == value
    refused = await run_one(provider, {"error": (401, "bad key", None), "headers": {header: value}})
    assert isinstance(refused, ProviderError) and refused.kind == "auth" and refused.request_id == value
    # A 200 whose body is not an answer: the reply's id rides on the malformed error too.
    garbled = await run_one(provider, {"status": 200, "body": {"nothing": "here"}, "headers": {header: value}})
    assert isinstance(garbled, ProviderError) and garbled.kind == "malformed" and garbled.request_id == value
    assert (await run_one(provider, {"error": (500, "boom", None)})).request_id is None
