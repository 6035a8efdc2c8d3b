"""Retry classification, tested on the error objects providers really raise."""

from __future__ import annotations

import asyncio
import email.utils
import time

import pytest
from multidict import CIMultiDict

from assay.errors import ProviderAuthError, ProviderError
from assay.model.retry import classify
from assay.providers._http import error_from_http, parse_retry_after


def http_error(status: int, headers: dict[str, str] | None = None, body: str = "") -> ProviderError:
    return error_from_http(status, CIMultiDict(headers or {}), body, provider="openai", url="http://x",
                           key_hint="set OPENAI_API_KEY")


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_permanent_statuses_are_not_retried(status: int) -> None:
    assert classify(http_error(status)).kind == "no"


@pytest.mark.parametrize("status", [408, 409, 500, 502, 503, 504, 529])
def test_transient_statuses_are_retried(status: int) -> None:
    assert classify(http_error(status)).kind == "transient"


def test_429_is_a_rate_limit_carrying_retry_after() -> None:
    decision = classify(http_error(429, {"Retry-After": "7"}))
    assert decision.kind == "rate_limit"
    assert decision.retry_after == 7.0


def test_429_insufficient_quota_is_permanent() -> None:
    body = '{"error": {"message": "You exceeded your current quota", "code": "insufficient_quota"}}'
    err = http_error(429, body=body)
    assert err.kind == "quota"
    assert classify(err).kind == "no"


def test_content_policy_400_is_permanent_and_named() -> None:
    err = http_error(400, body='{"error": {"message": "flagged", "code": "content_policy_violation"}}')
    assert err.kind == "content_policy"
    assert classify(err).kind == "no"


def test_401_is_an_auth_error_with_the_key_hint() -> None:
    err = http_error(401, body='{"error": {"message": "Incorrect API key provided"}}')
    assert isinstance(err, ProviderAuthError)
    assert "Incorrect API key" in err.message
    assert "OPENAI_API_KEY" in err.hint
    assert err.exit_code == 3


@pytest.mark.parametrize("kind", ["timeout", "connection", "empty", "malformed"])
def test_transport_failures_are_transient(kind: str) -> None:
    assert classify(ProviderError("x", kind=kind)).kind == "transient"


def test_bare_timeouts_and_connection_errors_are_transient() -> None:
    assert classify(asyncio.TimeoutError()).retryable
    assert classify(ConnectionResetError()).retryable
    assert not classify(ValueError("bug")).retryable


def test_retry_after_forms() -> None:
    assert parse_retry_after(CIMultiDict({"retry-after-ms": "1500"})) == 1.5
    assert parse_retry_after(CIMultiDict({"Retry-After": "3"})) == 3.0
    # retry-after-ms is more precise and wins
    assert parse_retry_after(CIMultiDict({"retry-after-ms": "250", "Retry-After": "1"})) == 0.25
    now = time.time()
    date = email.utils.formatdate(now + 30, usegmt=True)
    assert parse_retry_after(CIMultiDict({"Retry-After": date}), now=now) == pytest.approx(30, abs=1.01)
    assert parse_retry_after(CIMultiDict({"Retry-After": "soon"})) is None
    assert parse_retry_after(CIMultiDict({"Retry-After": "-5"})) is None
    assert parse_retry_after(CIMultiDict({})) is None


def test_error_message_is_extracted_from_json_and_text_bodies() -> None:
    assert "boom" in http_error(500, body='{"error": {"message": "boom"}}').message
    assert "plain failure" in http_error(502, body="plain failure").message


def test_every_failure_kind_is_transient_permanent_or_decided_by_the_status() -> None:
    from typing import get_args

    from assay.errors import FailureKind
    from assay.model.retry import PERMANENT_KINDS, STATUS_DECIDED_KINDS, TRANSIENT_KINDS

    kinds = get_args(FailureKind)
    assert len(kinds) == len(set(kinds))
    for kind in kinds:
        assert [kind in TRANSIENT_KINDS, kind in PERMANENT_KINDS, kind in STATUS_DECIDED_KINDS].count(True) == 1, kind
        expected = "no" if kind in PERMANENT_KINDS else "transient"
        if kind == "rate_limit":
            expected = "rate_limit"
        # with a status that says "retry", only the kind's own reading counts (status-decided: retried)
        assert classify(ProviderError("x", kind=kind, status=503)).kind == expected, kind
        if kind in STATUS_DECIDED_KINDS:
            assert classify(ProviderError("x", kind=kind, status=402)).kind == "no"
            assert classify(ProviderError("x", kind=kind)).kind == "no"
    assert set(TRANSIENT_KINDS | PERMANENT_KINDS | STATUS_DECIDED_KINDS) == set(kinds)


@pytest.mark.parametrize(("kind", "before", "after"), [
    ("auth", True, True), ("quota", True, True), ("budget", True, True), ("unsupported", True, True),
    ("redirect", True, True), ("connection", True, False), ("not_found", True, False),
    ("server", False, False), ("rate_limit", False, False), ("content_policy", False, False),
])
def test_is_fatal_stops_for_failures_that_would_repeat(kind: str, before: bool, after: bool) -> None:
    from assay.model.retry import is_fatal

    error = ProviderError("x", kind=kind)  # type: ignore[arg-type]
    assert is_fatal(error, any_success=False) is before
    assert is_fatal(error, any_success=True) is after


def test_x_should_retry_false_stops_a_500_and_true_retries_a_400() -> None:
    assert classify(http_error(500, {"x-should-retry": "false"})).kind == "no"
    assert classify(http_error(400, {"X-Should-Retry": "true"})).kind == "transient"
    assert classify(http_error(429, {"x-should-retry": "true", "retry-after": "4"})) == \
        classify(http_error(429, {"retry-after": "4"}))
    assert http_error(503, {"x-request-id": "req_1"}).request_id == "req_1"
