"""The Model wrapper: every call to a model under test (and later a judge) goes through here.

It owns what providers must not: the cache hook, retries (tenacity, with our classification and the
server's Retry-After), the per-attempt timeout, the concurrency limit, an optional requests-per-minute
pace, a shared pause after a rate limit, and usage accounting. ``sleep`` and ``clock`` are injectable
so retry timing is tested without waiting.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

from assay.errors import ProviderError
from assay.model.bounds import worst_case
from assay.model.config import WRAPPER_ARGS, ModelConfig
from assay.model.cost import Reservation
from assay.model.foreign import foreign_failure
from assay.model.inflight import Deadlines, Slots
from assay.model.retry import classify
from assay.providers.base import Provider, ScoresLoglikelihood, is_deterministic
from assay.types import Loglikelihood, LoglikelihoodRequest, Request, Response, Usage

if TYPE_CHECKING:
    from tenacity import RetryCallState

    from assay.model.cost import CostMeter

log = logging.getLogger("assay.model")
__all__ = ["WRAPPER_ARGS", "LoglikelihoodStore", "Model", "ModelConfig", "ModelStats", "PrefilledAnswers",
           "ResponseStore"]

Sleep = Callable[[float], Awaitable[None]]
_T = TypeVar("_T")
_R = TypeVar("_R", Request, LoglikelihoodRequest)

#: A Retry-After pause at least this long is logged at INFO (shorter ones at DEBUG).
LOUD_PAUSE_S = 5.0


class PrefilledAnswers(Protocol):
    """Answers obtained before the workers ran (a vendor's batch API): the wrapper hands them out."""

    def take(self, identity: dict[str, Any], request: Request) -> Response | ProviderError | None: ...


class ResponseStore(Protocol):
    """The cache hook: a store of successful responses keyed by provider identity + request."""

    async def get(self, identity: dict[str, Any], request: Request) -> Response | None: ...

    async def put(self, identity: dict[str, Any], request: Request, response: Response) -> None: ...


@runtime_checkable
class LoglikelihoodStore(Protocol):
    """Optional for a store: it keeps log-likelihood answers too (:class:`assay.model.cache.ResponseCache`)."""

    async def get_loglikelihood(self, identity: dict[str, Any], request: LoglikelihoodRequest) -> Loglikelihood | None:
        ...

    async def put_loglikelihood(self, identity: dict[str, Any], request: LoglikelihoodRequest,
                                result: Loglikelihood) -> None: ...


@dataclass
class ModelStats:
    requests: int = 0  # attempts sent to the provider
    retries: int = 0
    failures: int = 0  # requests that failed for good
    cache_hits: int = 0
    batched: int = 0  # answers that came from a vendor's batch API
    usage: Usage = field(default_factory=Usage)
    first_request_at: float | None = None


class Model:
    def __init__(
        self,
        provider: Provider,
        config: ModelConfig | None = None,
        *,
        cache: ResponseStore | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        meter: CostMeter | None = None,
        give_up: Callable[[BaseException], bool] | None = None,
    ) -> None:
        self.provider = provider
        #: Failures not worth a retry for this model's user, though retryable in general (the judge: an address
        #: that refuses or never answers before any verdict — waiting minutes to learn it again helps nobody).
        self._give_up = give_up
        #: What this model's answers cost (and the run's cost cap, consulted before every attempt).
        self.meter = meter
        config = config or ModelConfig()
        own_limit = provider.max_concurrency
        if own_limit is not None and config.max_concurrency > own_limit:
            config = replace(config, max_concurrency=own_limit)
        self.config = config
        self.stats = ModelStats()
        #: Answers from the vendor's batch API, taken before any interactive request (--batch).
        self.prefilled: PrefilledAnswers | None = None
        # A provider's identity (vendor, base URL, model, body args) is fixed: computed once, not per request.
        self._identity = provider.identity()
        self._cache = cache
        self._sleep = sleep
        self._clock = clock
        self._slots = Slots(config.max_concurrency)
        self._deadlines = Deadlines(config.timeout)
        self._resume_at = 0.0  # after a 429 with Retry-After, nobody sends before this
        self._next_slot = 0.0  # requests-per-minute pacing
        self._announced_until = 0.0  # the end of the last pause logged at INFO
        self._pace_lock = asyncio.Lock()

    @property
    def model_name(self) -> str:
        return self.provider.model_name

    async def generate(self, request: Request, *, accept: Callable[[Response], bool] | None = None) -> Response:
        """The response, from the cache or the provider; ProviderError once retries are exhausted.

        ``accept`` (a judge's parser) keeps unusable answers out of the cache both ways: a cached answer
        it rejects is fetched again, and a fresh one it rejects is returned but not stored."""
        if self._cache is not None:
            hit = await self._cache.get(self._identity, request)
            if hit is not None and (accept is None or accept(hit)):
                self.stats.cache_hits += 1
                return replace(hit, cached=True, attempts=0)
        batched = self.prefilled.take(self._identity, request) if self.prefilled is not None else None
        if isinstance(batched, ProviderError):
            self.stats.failures += 1
            raise batched
        if batched is not None:
            response, attempts = batched, 1
            self.stats.batched += 1
            if self.meter is not None:  # billed by the batch, at the price the meter holds (the batch rate)
                self.meter.settle(Reservation(0.0), response.usage)
        else:
            # The first attempt inline (most succeed; each coroutine layer costs on every resume), retries after.
            try:
                response = await self._timed(self.provider.generate, request)
                if not response.text.strip():
                    raise self._empty_answer()
                attempts = 1
            except ProviderError as exc:
                response, attempts = await self._retry(exc, lambda: self._attempt(request))
        if response.attempts != attempts:
            response = replace(response, attempts=attempts)
        self.stats.usage = self.stats.usage + response.usage
        if self._cache is not None and (accept is None or accept(response)):
            await self._cache.put(self._identity, request, response)
        return response

    async def loglikelihood(self, request: LoglikelihoodRequest) -> Loglikelihood:
        """log P(continuation | context) from a provider that supports it (retried like ``generate``).

        A provider without the capability raises ProviderError(kind="unsupported") naming itself."""
        provider = self.provider
        if not (isinstance(provider, ScoresLoglikelihood) and provider.supports_loglikelihood):
            raise ProviderError(
                f"{self.provider.name} cannot score continuations (loglikelihood), which "
                f"multiple_choice tasks such as {request.task or 'this one'} need",
                hint="use --model local, or an OpenAI-compatible completions server (vLLM, SGLang) "
                     "that returns prompt logprobs",
                kind="unsupported",
                provider=self.provider.name,
            )
        scorer = provider.loglikelihood
        # A store that keeps log-likelihoods too (assay.model.cache.ResponseCache) answers reruns for free.
        store = self._cache if isinstance(self._cache, LoglikelihoodStore) else None
        if store is not None:
            hit = await store.get_loglikelihood(self._identity, request)
            if hit is not None:
                self.stats.cache_hits += 1
                return replace(hit, cached=True, attempts=0)

        async def attempt() -> Loglikelihood:
            return await self._timed(scorer, request)

        result, attempts = await self._with_retries(attempt)
        self.stats.usage = self.stats.usage + result.usage
        result = replace(result, attempts=attempts)
        if store is not None:
            await store.put_loglikelihood(self._identity, request, result)
        return result

    async def _with_retries(self, call: Callable[[], Awaitable[_T]]) -> tuple[_T, int]:
        """``call()`` retried by our classification; (result, attempts made). The first attempt is made
        directly (most succeed: the retry machinery costs ~25 µs a request, bench/throughput.py); after a
        retryable failure, tenacity takes over with that failure as its first attempt."""
        try:
            return await call(), 1
        except ProviderError as exc:
            return await self._retry(exc, call)

    async def _retry(self, first: ProviderError, call: Callable[[], Awaitable[_T]]) -> tuple[_T, int]:
        """After a first attempt failed with ``first``: ``call()`` retried (tenacity) if that failure is
        retryable, else ``first`` raised; (result, attempts made, the first included)."""
        if self.config.max_attempts > 1 and classify(first).retryable:
            failed: list[ProviderError] = [first]
        else:
            self.stats.failures += 1
            first.attempts = 1
            raise first
        attempts = 1
        # tenacity (~4 ms to import) only once a retry is due: most runs never need one.
        from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt

        async def attempt() -> _T:
            nonlocal attempts
            if failed:  # the failure already seen: tenacity waits and logs as if it had made that attempt
                raise failed.pop()
            attempts += 1
            return await call()

        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.config.max_attempts),
            wait=self._wait,
            retry=retry_if_exception(
                lambda e: classify(e).retryable and not (self._give_up is not None and self._give_up(e))),
            sleep=self._sleep,
            before_sleep=self._before_sleep,
            reraise=True,
        )
        try:
            result: _T = await retrying(attempt)
        except ProviderError as exc:
            self.stats.failures += 1
            exc.attempts = attempts
            raise
        return result, attempts

    async def _timed(self, call: Callable[[_R], Awaitable[_T]], request: _R) -> _T:
        """One attempt: a concurrency slot, the shared pause and pace, the cost cap's consent (for the request's
        worst case), then ``call(request)`` within the time limit."""
        if not self._slots.take_now():
            await self._slots.take()
        try:
            if self._resume_at or self.config.requests_per_minute:
                await self._wait_for_turn()
            meter = self.meter
            reservation = None
            if meter is not None:
                reservation = await self._reserve(meter, request) if meter.capped else meter.unheld(
                    worst_case(request, self.provider) if meter.price is not None else None)
            self.stats.requests += 1
            if self.stats.first_request_at is None:
                self.stats.first_request_at = self._clock()
            deadline = self._deadlines.start()
            try:
                result = await call(request)
            except BaseException as exc:
                timed_out = self._deadlines.end(deadline) and isinstance(exc, asyncio.CancelledError)
                if reservation is not None and meter is not None:
                    meter.release(reservation)  # no answer, nothing billed
                raise self._failed(exc, timed_out) from None
            self._deadlines.end(deadline)
            if reservation is not None and meter is not None:
                meter.settle(reservation, getattr(result, "usage", None) or Usage())
            return result
        finally:
            self._slots.give()

    async def _reserve(self, meter: CostMeter, request: Request | LoglikelihoodRequest) -> Reservation:
        return await meter.reserve(self.provider.name, worst_case(request, self.provider))

    def _failed(self, exc: BaseException, timed_out: bool) -> BaseException:
        """What an attempt that raised ``exc`` raises: a timeout, ``exc`` itself (ours, or a real stop), or
        — for a failure on our side, or a plugin's SystemExit / BaseException / stray CancelledError — a
        named, never retried ProviderError (providers classify what a server did)."""
        if timed_out:
            return ProviderError(f"no answer within {self.config.timeout:g}s",
                                 hint="raise timeout=… in --model_args if the model is slow", kind="timeout",
                                 provider=self.provider.name)
        failure = foreign_failure(self.provider, exc)
        if failure is not exc:
            log.debug("%s raised outside its error mapping", self.provider.name, exc_info=exc)
        return failure

    async def _attempt(self, request: Request) -> Response:
        response = await self._timed(self.provider.generate, request)
        if not response.text.strip():
            raise self._empty_answer()
        return response

    def _empty_answer(self) -> ProviderError:
        # A deterministic provider (the embedded model: greedy, seeded) gives the same empty answer to
        # the same request: recorded at once, not retried with backoff for nothing.
        again = not is_deterministic(self.provider)
        return ProviderError(
            "the model returned an empty answer",
            hint="retried automatically; check max_tokens if it persists" if again
            else "this model answers the same request the same way; check max_tokens or the prompt",
            kind="empty",
            provider=self.provider.name,
            retryable=None if again else False,
        )

    async def _wait_for_turn(self) -> None:
        """Honour a shared Retry-After pause, then the requests-per-minute pace."""
        delay = self._resume_at - self._clock()
        if delay > 0:
            await self._sleep(delay)
        rpm = self.config.requests_per_minute
        if rpm:
            async with self._pace_lock:
                now = self._clock()
                slot = max(now, self._next_slot)
                self._next_slot = slot + 60.0 / rpm
            if slot > now:
                await self._sleep(slot - now)

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        decision = classify(exc) if exc else None
        if decision is not None and decision.retry_after is not None:
            asked = decision.retry_after
            wait = min(asked, self.config.max_retry_after)
            now = self._clock()
            if decision.kind == "rate_limit":
                # The server asked everyone to wait: pause all requests, not just this one.
                self._resume_at = max(self._resume_at, now + wait)
            self._announce_pause(exc, asked, wait, now)
            return wait
        from tenacity import wait_exponential_jitter

        backoff = wait_exponential_jitter(multiplier=self.config.backoff_initial, max=self.config.backoff_max)
        return float(backoff(state))

    def _announce_pause(self, exc: BaseException | None, asked: float, wait: float, now: float) -> None:
        """A server-requested pause of a few seconds or more is said at INFO, once per pause: how long,
        why, and whether the max_retry_after cap cut it."""
        if wait < LOUD_PAUSE_S or now < self._announced_until:
            log.debug("server asked to wait %.2fs (%s)", asked, exc)
            return
        self._announced_until = now + wait
        failure = exc if isinstance(exc, ProviderError) else None
        status = failure.status if failure is not None else None
        cause = "rate limited (429)" if failure is not None and failure.kind == "rate_limit" else (
            f"server unavailable ({status})" if status else "server asked to wait")
        capped = (f"; the server asked for {asked:.0f}s, cut to max_retry_after={self.config.max_retry_after:g}s"
                  if asked > wait else "")
        log.info("%s: %s; pausing for %.0fs as its Retry-After asks%s", self.provider.name, cause, wait, capped)

    def _before_sleep(self, state: RetryCallState) -> None:
        self.stats.retries += 1
        exc = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        log.debug("attempt %d failed (%s); retrying in %.2fs", state.attempt_number, exc, wait)

    async def aclose(self) -> None:
        await self.provider.aclose()
