"""The judge as a Model around a registry provider, against a real loopback server: verdicts, each failure
reason, the one parse retry, Retry-After, the cache, many requests in flight, and the sample log."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assay.env.settings import Settings, load_settings
from assay.judge.client import Judge
from assay.judge.config import resolve_judge_config
from assay.judge.log import judging_sample
from assay.judge.outcome import JudgeFailure, Verdict
from assay.judge.parsers import score, yes_no
from tests.fault_server import FaultServer

FAST = {"backoff_initial": 0.01, "backoff_max": 0.02, "max_retries": 2}


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer(lambda body: "yes") as srv:
        yield srv


def make_judge(settings: Settings, server: FaultServer, **args: Any) -> Judge:
    config = resolve_judge_config("openai_compatible",
                                  {"model": "judge-m", "base_url": server.base_url, **FAST, **args}, settings)
    return Judge(settings, {"default": config})


async def test_a_verdict_carries_raw_text_value_and_usage(settings: Settings, server: FaultServer) -> None:
    judge = make_judge(settings, server)
    try:
        outcome = await judge.judge("Is 2+2=4? Answer yes or no.", yes_no)
    finally:
        await judge.aclose()
    assert isinstance(outcome, Verdict)
    assert (outcome.raw, outcome.value, outcome.usage.input_tokens, outcome.model) == ("yes", True, 11, "judge-m")
    body = server.requests[0]
    assert body["model"] == "judge-m" and body["temperature"] == 0.0 and body["max_tokens"] == 1024
    assert judge.summary()["verdicts"] == 1 and judge.summary()["requests"] == 1


async def test_a_parse_failure_is_asked_once_more(settings: Settings, server: FaultServer) -> None:
    server.queue({"text": "Hmm, hard to say."}, {"text": "no"})
    judge = make_judge(settings, server)
    outcome = await judge.judge("q", yes_no)
    await judge.aclose()
    assert isinstance(outcome, Verdict) and outcome.value is False
    assert server.count == 2 and outcome.usage.input_tokens == 22  # both answers were paid for


async def test_two_unparseable_answers_are_a_parse_failure(settings: Settings, server: FaultServer) -> None:
    server.queue({"text": "banana"}, {"text": "banana split"})
    judge = make_judge(settings, server)
    outcome = await judge.judge("q", score(0, 5))
    await judge.aclose()
    assert isinstance(outcome, JudgeFailure)
    assert outcome.reason == "parse_failed" and outcome.raw == "banana split" and "no score" in outcome.detail
    assert server.count == 2
    assert judge.summary()["failures"] == {"parse_failed": 1}


@pytest.mark.parametrize("fault", [
    {"text": "I'm sorry, but I can't help with evaluating that."},
    {"finish_reason": "content_filter", "text": "…"},
    {"status": 400, "body": {"error": {"message": "blocked", "code": "content_filter"}}},
])
async def test_refusals(settings: Settings, server: FaultServer, fault: dict[str, Any]) -> None:
    server.queue(fault)
    judge = make_judge(settings, server)
    outcome = await judge.judge("q", yes_no)
    await judge.aclose()
    assert isinstance(outcome, JudgeFailure) and outcome.reason == "refused"
    assert server.count == 1  # a refusal is not asked again


async def test_a_request_failing_after_retries(settings: Settings, server: FaultServer) -> None:
    server.queue(*[{"status": 503}] * 3)
    judge = make_judge(settings, server)
    outcome = await judge.judge("q", yes_no)
    await judge.aclose()
    assert isinstance(outcome, JudgeFailure)
    assert outcome.reason == "request_failed" and outcome.attempts == 3 and "503" in outcome.detail
    assert judge.summary()["retries"] == 2


async def test_retry_after_wins_over_the_base_delay(settings: Settings, server: FaultServer) -> None:
    server.queue({"status": 429, "headers": {"Retry-After": "0.4"}})
    judge = make_judge(settings, server, backoff_initial=30)  # a 30 s base delay would time the test out
    started = time.monotonic()
    outcome = await asyncio.wait_for(judge.judge("q", yes_no), 10)
    await judge.aclose()
    assert outcome.ok and 0.4 <= time.monotonic() - started < 5


def test_judge_defaults_are_lmms_evals(settings: Settings) -> None:
    config = resolve_judge_config(None, {}, settings)
    assert config.provider == "openai"
    assert (config.transport.max_attempts, config.transport.backoff_initial) == (6, 10.0)  # 5 retries, 10 s
    assert config.transport.timeout == 60.0


async def test_many_judge_requests_in_flight(settings: Settings, server: FaultServer) -> None:
    server.latency = 0.2
    judge = make_judge(settings, server, num_concurrent=64)
    started = time.monotonic()
    outcomes = await asyncio.gather(*(judge.judge(f"q{i}", yes_no) for i in range(128)))
    elapsed = time.monotonic() - started
    await judge.aclose()
    assert all(o.ok for o in outcomes)
    assert server.max_in_flight == 64  # the limit is reached and kept
    assert elapsed < 128 * 0.2 / 4  # far from one-at-a-time (which would take 25.6 s)


async def test_unparseable_answers_never_enter_the_cache(settings: Settings, server: FaultServer,
                                                         tmp_path: Path) -> None:
    from assay.model.cache import ResponseCache

    cache = ResponseCache(tmp_path / "cache.sqlite")
    config = resolve_judge_config("openai_compatible", {"model": "j", "base_url": server.base_url, **FAST}, settings)
    server.queue({"text": "garbage"}, {"text": "garbage"})
    judge = Judge(settings, {"default": config}, cache=cache)
    first = await judge.judge("same prompt", yes_no)
    second = await judge.judge("same prompt", yes_no)  # not served the garbage from the cache
    third = await judge.judge("same prompt", yes_no)  # served the good answer from the cache
    await judge.aclose()
    cache.close()
    assert not first.ok and second.ok and third.ok
    assert isinstance(third, Verdict) and third.cached and server.count == 3


async def test_outcomes_land_in_the_current_samples_log(settings: Settings, server: FaultServer) -> None:
    server.queue({"text": "??"}, {"text": "??"})
    judge = make_judge(settings, server)
    with judging_sample() as log:
        await judge.judge("first", yes_no)
        await judge.judge("second", yes_no)
    outside = await judge.judge("third", yes_no)  # no sample is being scored: nothing is logged
    await judge.aclose()
    assert outside.ok
    assert [e.outcome.ok for e in log.entries] == [False, True]
    failure = log.failure()
    assert failure is not None and failure.reason == "parse_failed"


def test_a_task_retry_of_the_same_prompt_recovers_the_failure() -> None:
    from assay.judge.log import JudgeLog

    log = JudgeLog()
    log.add(1, JudgeFailure("request_failed", "503"), parsed=False)
    log.add(1, Verdict("0.5", "0.5"), parsed=False)
    assert log.failure() is None
    log.add(2, JudgeFailure("request_failed", "503"), parsed=False)
    log.add(3, Verdict("0.5", "0.5"), parsed=False)  # a different prompt does not recover it
    assert log.failure() is not None and log.failure().detail == "503"  # type: ignore[union-attr]


async def test_a_bad_judge_configuration_is_an_outcome_not_an_exception(settings: Settings) -> None:
    config = resolve_judge_config("openai", {"model": "m"}, load_settings(environ={}, discover_dotenv=False))
    judge = Judge(settings, {"default": config})  # no OPENAI_API_KEY for api.openai.com
    outcome = await judge.judge("q", yes_no)
    assert isinstance(outcome, JudgeFailure) and outcome.reason == "request_failed"
    assert "OPENAI_API_KEY" in outcome.detail
