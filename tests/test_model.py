"""The Model wrapper + OpenAI provider against a real loopback server; sleeps are injected."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from assay.env.settings import load_settings
from assay.errors import ProviderAuthError, ProviderError
from assay.model import Model, ModelConfig
from assay.providers.openai import OpenAIProvider
from assay.types import GenerationParams, Message, Request
from tests.fault_server import FaultServer


class VirtualTime:
    """An injected clock + sleep: waits are recorded and advance virtual time instantly."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer(answer=lambda body: "B") as s:
        yield s


def make_model(server: FaultServer, vt: VirtualTime, **config: Any) -> Model:
    settings = load_settings(environ={}, discover_dotenv=False)
    provider = OpenAIProvider(settings, {"model": "test-model", "base_url": server.base_url, "api_key": "sk-test"})
    return Model(provider, ModelConfig(**config), sleep=vt.sleep, clock=vt.clock)


REQ = Request((Message.user("What is 1+1?"),), GenerationParams(max_tokens=5, temperature=0.0))


async def test_success_records_usage_and_attempts(server: FaultServer) -> None:
    model = make_model(server, VirtualTime())
    response = await model.generate(REQ)
    await model.aclose()
    assert response.text == "B"
    assert response.attempts == 1
    assert response.usage.input_tokens == 11 and response.usage.output_tokens == 3
    assert server.requests[0]["max_tokens"] == 5 and server.requests[0]["temperature"] == 0.0
    assert server.headers[0]["Authorization"] == "Bearer sk-test"


@pytest.mark.parametrize(
    "fault",
    [{"status": 500}, {"status": 503}, {"status": 502}, {"drop": True}, {"malformed": True}, {"empty": True}],
    ids=["500", "503", "502", "dropped", "malformed", "empty"],
)
async def test_transient_faults_are_retried_until_success(server: FaultServer, fault: dict[str, Any]) -> None:
    vt = VirtualTime()
    model = make_model(server, vt)
    server.queue(fault, fault)
    response = await model.generate(REQ)
    await model.aclose()
    assert response.text == "B"
    assert response.attempts == 3
    assert server.count == 3
    assert len(vt.sleeps) == 2 and all(0 < s <= 60 for s in vt.sleeps)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
async def test_permanent_errors_are_not_retried(server: FaultServer, status: int) -> None:
    vt = VirtualTime()
    model = make_model(server, vt)
    server.queue({"status": status, "body": {"error": {"message": "nope"}}})
    with pytest.raises(ProviderError) as info:
        await model.generate(REQ)
    await model.aclose()
    assert server.count == 1
    assert vt.sleeps == []
    assert info.value.status == status
    assert isinstance(info.value, ProviderAuthError) == (status in (401, 403))


async def test_retry_after_is_honoured_exactly(server: FaultServer) -> None:
    vt = VirtualTime()
    model = make_model(server, vt)
    server.queue({"status": 429, "headers": {"Retry-After": "7"}},
                 {"status": 429, "headers": {"retry-after-ms": "1500"}})
    response = await model.generate(REQ)
    await model.aclose()
    assert response.attempts == 3
    assert vt.sleeps == [7.0, 1.5]


async def test_a_rate_limit_pause_holds_back_later_requests(server: FaultServer) -> None:
    vt = VirtualTime()
    model = make_model(server, vt, max_concurrency=4)
    server.queue({"status": 429, "headers": {"Retry-After": "30"}})
    first = await model.generate(REQ)
    # The pause has passed in virtual time: the next request goes straight through.
    assert first.attempts == 2 and vt.sleeps == [30.0]
    model._resume_at = vt.now + 12  # as if a concurrent request had just been told to wait 12 s
    await model.generate(REQ)
    await model.aclose()
    assert vt.sleeps == [30.0, 12.0]


async def test_attempts_are_bounded_and_the_error_says_how_many(server: FaultServer) -> None:
    vt = VirtualTime()
    model = make_model(server, vt, max_attempts=3)
    server.queue(*[{"status": 503}] * 5)
    with pytest.raises(ProviderError) as info:
        await model.generate(REQ)
    await model.aclose()
    assert server.count == 3
    assert info.value.attempts == 3
    assert model.stats.failures == 1 and model.stats.retries == 2


async def test_backoff_grows_exponentially_with_jitter(server: FaultServer) -> None:
    vt = VirtualTime()
    model = make_model(server, vt, max_attempts=5, backoff_initial=1.0, backoff_max=60.0)
    server.queue(*[{"status": 500}] * 4)
    await model.generate(REQ)
    await model.aclose()
    # wait_exponential_jitter: initial * 2**n + uniform(0, 1)
    for n, slept in enumerate(vt.sleeps):
        assert 2**n <= slept <= 2**n + 1


async def test_per_attempt_timeout_is_transient(server: FaultServer) -> None:
    model = make_model(server, VirtualTime(), timeout=0.2)
    server.queue({"delay": 2.0})
    response = await model.generate(REQ)
    await model.aclose()
    assert response.attempts == 2


async def test_concurrency_limit_is_respected() -> None:
    in_flight = 0
    peak = 0

    with FaultServer() as server:
        server.queue(*[{"delay": 0.05}] * 20)
        model = make_model(server, VirtualTime(), max_concurrency=3)
        original = model.provider.generate

        async def counting(request: Request) -> Any:
            nonlocal in_flight, peak
            in_flight += 1
            peak = max(peak, in_flight)
            try:
                return await original(request)
            finally:
                in_flight -= 1

        model.provider.generate = counting  # type: ignore[method-assign]
        await asyncio.gather(*(model.generate(REQ) for _ in range(20)))
        await model.aclose()
    assert peak == 3


async def test_requests_per_minute_paces_dispatch(server: FaultServer) -> None:
    vt = VirtualTime()
    model = make_model(server, vt, requests_per_minute=120, max_concurrency=1)
    for _ in range(3):
        await model.generate(REQ)
    await model.aclose()
    assert vt.sleeps == [0.5, 0.5]


def test_model_args_split_wrapper_knobs_from_provider_args() -> None:
    config, rest = ModelConfig.split_model_args(
        {"model": "m", "num_concurrent": 8, "max_retries": 2, "timeout": 30, "rpm": 60, "base_url": "http://x"}
    )
    assert config.max_concurrency == 8 and config.max_attempts == 3 and config.timeout == 30
    assert config.requests_per_minute == 60
    assert rest == {"model": "m", "base_url": "http://x"}


def test_reasoning_models_get_max_completion_tokens_and_no_temperature() -> None:
    settings = load_settings(environ={}, discover_dotenv=False)
    o1 = OpenAIProvider(settings, {"model": "o3-mini", "base_url": "http://x/v1"})
    body = o1.body(REQ)
    assert body["max_completion_tokens"] == 5 and "max_tokens" not in body and "temperature" not in body
    gpt = OpenAIProvider(settings, {"model": "gpt-4o-mini", "base_url": "http://x/v1"})
    body = gpt.body(REQ)
    assert body["max_tokens"] == 5 and body["temperature"] == 0.0


class _ScoringProvider:
    """A provider with the optional loglikelihood capability: fails twice with 503, then answers."""

    name = "scoring"
    max_concurrency = None
    accepts_media = False
    supports_loglikelihood = True

    def __init__(self) -> None:
        self.calls = 0

    @property
    def model_name(self) -> str:
        return "scorer"

    def identity(self) -> dict[str, Any]:
        return {"provider": "scoring"}

    async def generate(self, request: Request) -> Any:
        raise AssertionError("not used")

    async def loglikelihood(self, request: Any) -> Any:
        from assay.types import Loglikelihood, Usage

        self.calls += 1
        if self.calls < 3:
            raise ProviderError("busy", kind="server", status=503)
        return Loglikelihood(-float(len(request.continuation)), True, Usage(4, 0))

    async def aclose(self) -> None:
        pass


async def test_loglikelihood_is_retried_like_generate() -> None:
    from assay.types import LoglikelihoodRequest

    vt = VirtualTime()
    provider = _ScoringProvider()
    model = Model(provider, ModelConfig(), sleep=vt.sleep, clock=vt.clock)  # type: ignore[arg-type]
    result = await model.loglikelihood(LoglikelihoodRequest((Message.user("2+2="),), " 4", task="t"))
    assert (result.logprob, result.is_greedy, result.attempts) == (-2.0, True, 3)
    assert model.stats.requests == 3 and model.stats.retries == 2 and len(vt.sleeps) == 2
    assert model.stats.usage.input_tokens == 4


async def test_loglikelihood_refused_by_a_chat_only_provider(server: FaultServer) -> None:
    from assay.types import LoglikelihoodRequest

    model = make_model(server, VirtualTime())
    with pytest.raises(ProviderError) as info:
        await model.loglikelihood(LoglikelihoodRequest((Message.user("x"),), " y", task="mmlu_like"))
    await model.aclose()
    assert info.value.kind == "unsupported" and "openai" in info.value.message and "mmlu_like" in info.value.message
    assert server.requests == []
