"""The Model wrapper: every call to a model under test (and later a judge) goes through here.

It owns what providers must not: the cache hook, retries (tenacity, with our classification and the
server's Retry-After), the per-attempt timeout, the concurrency limit, an optional requests-per-minute
pace, a shared pause after a rate limit, and usage accounting. ``sleep`` and ``clock`` are injectable
so retry timing is tested without waiting.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from assay.errors import ConfigError, ProviderError
from assay.model.bounds import worst_case
from assay.model.cost import Reservation
from assay.model.foreign import foreign_failure
from assay.model.retry import classify
from assay.providers.base import Provider, ScoresLoglikelihood, is_deterministic
from assay.types import Loglikelihood, LoglikelihoodRequest, Request, Response, Usage

if TYPE_CHECKING:
    from assay.model.cost import CostMeter

log = logging.getLogger("assay.model")

Sleep = Callable[[float], Awaitable[None]]
_T = TypeVar("_T")


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


#: --model_args keys that configure the wrapper rather than the provider.
WRAPPER_ARGS: dict[str, str] = {
    "num_concurrent": "max_concurrency",
    "max_concurrency": "max_concurrency",
    "rpm": "requests_per_minute",
    "max_attempts": "max_attempts",
    "max_retries": "max_attempts",
    "timeout": "timeout",
    "backoff_initial": "backoff_initial",
    "backoff_max": "backoff_max",
    "max_retry_after": "max_retry_after",
}
#: field -> (smallest allowed value, whether it must be whole, an example). Every value must be finite.
_RANGES: dict[str, tuple[float, bool, str]] = {
    "max_concurrency": (1, True, "num_concurrent=16"),
    "max_attempts": (1, True, "max_attempts=5"),
    "requests_per_minute": (1e-9, False, "rpm=600"),
    "timeout": (1e-9, False, "timeout=120"),
    "backoff_initial": (0, False, "backoff_initial=1"),
    "backoff_max": (0, False, "backoff_max=60"),
    "max_retry_after": (0, False, "max_retry_after=600"),
}
#: A Retry-After pause at least this long is logged at INFO (shorter ones at DEBUG).
LOUD_PAUSE_S = 5.0


def _number(key: str, value: Any, target: str) -> float | int:
    """A --model_args number for the wrapper: finite, in range, whole where it counts something."""
    from assay.env.masking import shown_value

    low, whole, example = _RANGES[target]
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        number = math.nan
    if isinstance(value, bool) or not math.isfinite(number):
        raise ConfigError(f"--model_args {key}={shown_value(value)} is not a finite number", hint=f"e.g. {example}")
    if key == "max_retries":  # lmms-eval counts retries, we count attempts
        number += 1
    if number < low or (whole and not number.is_integer()):
        what = "a whole number" if whole else "a number"
        bound = f"at least {low:g}" if low >= 1 or low == 0 else "above 0"
        shown = key if key != "max_retries" else "max_retries (+1 attempt)"
        raise ConfigError(f"--model_args {shown}={shown_value(value)} must be {what} {bound}", hint=f"e.g. {example}")
    return int(number) if whole else number


@dataclass(frozen=True)
class ModelConfig:
    """Transport knobs (never part of a cache key). Set from --model_args."""

    max_concurrency: int = 16
    requests_per_minute: float | None = None
    max_attempts: int = 5
    timeout: float = 120.0
    backoff_initial: float = 1.0
    backoff_max: float = 60.0
    #: The longest wait a server's Retry-After can impose (a longer request is cut to this, and logged).
    max_retry_after: float = 600.0

    @classmethod
    def split_model_args(cls, model_args: dict[str, Any]) -> tuple[ModelConfig, dict[str, Any]]:
        """(wrapper config, the provider's own args) from one --model_args dict."""
        provider_args: dict[str, Any] = {}
        values: dict[str, Any] = {}
        for key, value in model_args.items():
            target = WRAPPER_ARGS.get(key)
            if target is None:
                provider_args[key] = value
                continue
            values[target] = _number(key, value, target)
        return cls(**values), provider_args


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
        self._semaphore = asyncio.Semaphore(config.max_concurrency)
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
            response, attempts = await self._with_retries(lambda: self._attempt(request))
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
            return await self._timed(lambda: scorer(request), request)

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
            if self.config.max_attempts > 1 and classify(exc).retryable:
                failed: list[ProviderError] = [exc]
            else:
                self.stats.failures += 1
                exc.attempts = 1
                raise
        attempts = 1

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

    async def _timed(self, call: Callable[[], Awaitable[_T]], request: Request | LoglikelihoodRequest) -> _T:
        """One attempt: a concurrency slot, the shared pause and pace, the cost cap's consent (for the request's
        worst case), then ``call()`` under the timeout."""
        async with self._semaphore:
            await self._wait_for_turn()
            reservation = None
            if self.meter is not None:
                reservation = await self.meter.reserve(self.provider.name, worst_case(request, self.provider))
            self.stats.requests += 1
            if self.stats.first_request_at is None:
                self.stats.first_request_at = self._clock()
            try:
                async with asyncio.timeout(self.config.timeout):
                    result = await call()
            except BaseException as exc:
                if reservation is not None and self.meter is not None:
                    self.meter.release(reservation)  # no answer, nothing billed
                if isinstance(exc, TimeoutError):
                    raise ProviderError(
                        f"no answer within {self.config.timeout:g}s",
                        hint="raise timeout=… in --model_args if the model is slow",
                        kind="timeout",
                        provider=self.provider.name,
                    ) from None
                # Not something a server did (providers classify those): a failure on our side — or a plugin's
                # SystemExit / BaseException / stray CancelledError — counted, named, never retried.
                failure = foreign_failure(self.provider, exc)
                if failure is exc:
                    raise
                log.debug("%s raised outside its error mapping", self.provider.name, exc_info=True)
                raise failure from None
            if reservation is not None and self.meter is not None:
                self.meter.settle(reservation, getattr(result, "usage", None) or Usage())
            return result

    async def _attempt(self, request: Request) -> Response:
        response = await self._timed(lambda: self.provider.generate(request), request)
        if not response.text.strip():
            # A deterministic provider (the embedded model: greedy, seeded) gives the same empty answer to
            # the same request: recorded at once, not retried with backoff for nothing.
            again = not is_deterministic(self.provider)
            raise ProviderError(
                "the model returned an empty answer",
                hint="retried automatically; check max_tokens if it persists" if again
                else "this model answers the same request the same way; check max_tokens or the prompt",
                kind="empty",
                provider=self.provider.name,
                retryable=None if again else False,
            )
        return response

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
