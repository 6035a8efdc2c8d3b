"""Sending a run's requests as vendor batches: chunk, submit, record, poll, read back, retry.

Each chunk stays within the vendor's limits (requests and bytes). A batch is recorded (:class:`BatchStore`)
as soon as the vendor gives it an id, and waited past validation before the next is submitted, so a batch
the vendor rejects is reported, with the vendor's reason, before anything else is sent. Then every batch is
polled every ``poll_interval`` seconds until it ends. A request the vendor failed is classified as an
interactive failure would be (:func:`assay.model.retry.classify`): a retryable one goes into a follow-up
batch (or is left to the interactive path with ``batch_retry=interactive``), any other is that request's
answer. An expired or cancelled batch keeps what it completed.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

from assay.errors import OutputError, ProviderError, UsageError
from assay.model.batch.config import BatchConfig
from assay.model.batch.store import BatchStore
from assay.model.retry import classify
from assay.providers.base import Provider, batch_wire
from assay.providers.batch import BatchStatus, BatchWire
from assay.types import Response

log = logging.getLogger("assay.batch")

Sleep = Callable[[float], Awaitable[None]]
Answer = Response | ProviderError
#: Follow-up batches for retryable failures before they are given up.
MAX_ROUNDS = 3
#: Transient failures in a row reading a batch's state or results before the run gives up on it (resumable).
MAX_READ_FAILURES = 10
_T = TypeVar("_T")


def refuse_without_batch_api(provider: Provider) -> None:
    """--batch with a provider that has no batch API: said before anything is sent."""
    if batch_wire(provider) is None:
        raise UsageError(f"--batch: {provider.name} has no batch API in assay",
                         hint="batch APIs: openai, azure_openai, anthropic, gemini; drop --batch for this model")


def rejected(vendor: str, status: BatchStatus) -> ProviderError:
    return ProviderError(f"{vendor} rejected batch {status.id}: {status.reason or 'no reason given'}",
                         hint="nothing else was submitted; fix what the vendor names and rerun", kind="bad_request",
                         provider=vendor, retryable=False)


@dataclass
class BatchRunner:
    wire: BatchWire
    store: BatchStore
    config: BatchConfig
    #: The provider identity the batches are for (canonical JSON): resumed batches must match it.
    identity: str
    sleep: Sleep = asyncio.sleep
    #: Every batch this run submitted or resumed (to be marked consumed when the run ends).
    batch_ids: list[str] = field(default_factory=list)
    statuses: dict[str, BatchStatus] = field(default_factory=dict)

    async def run(self, lines: dict[str, bytes]) -> dict[str, Answer]:
        """Answers by request key (absent: left to the interactive path)."""
        answers: dict[str, Answer] = {}
        active = self._resume(set(lines))
        pending = [key for key in lines if not any(key in keys for keys in active.values())]
        for round_ in range(MAX_ROUNDS + 1):
            active.update(await self._submit(pending, lines))
            retry = await self._collect(active, answers)
            active = {}
            if not retry:
                break
            if self.config.retry == "interactive" or round_ == MAX_ROUNDS:
                for key, error in retry.items():
                    if self.config.retry == "batch":
                        answers[key] = error
                break
            pending = [key for key in retry if key in lines]  # a resumed batch may hold requests not needed now
            log.info("%d requests failed with retryable errors: sending them again in a follow-up batch",
                     len(pending))
        return answers

    def _resume(self, wanted: set[str]) -> dict[str, tuple[str, ...]]:
        found = self.store.open_batches(self.wire.vendor, self.identity, wanted)
        for batch in found:
            log.info("resuming %s batch %s (%d requests) instead of submitting again", self.wire.vendor, batch.id,
                     len(batch.keys))
            self.batch_ids.append(batch.id)
        return {batch.id: batch.keys for batch in found}

    def _chunks(self, keys: list[str], lines: dict[str, bytes]) -> Iterator[list[str]]:
        limit = min(self.wire.max_requests, self.config.max_requests or self.wire.max_requests)
        chunk: list[str] = []
        size = 0
        for key in keys:
            n = len(lines[key])
            if chunk and (len(chunk) >= limit or size + n > self.wire.max_bytes):
                yield chunk
                chunk, size = [], 0
            chunk.append(key)
            size += n
        if chunk:
            yield chunk

    async def _submit(self, keys: list[str], lines: dict[str, bytes]) -> dict[str, tuple[str, ...]]:
        submitted: dict[str, tuple[str, ...]] = {}
        for chunk in self._chunks(keys, lines):
            status = await self.wire.submit([lines[key] for key in chunk])
            self._record(status.id, chunk)  # before anything else
            self.batch_ids.append(status.id)
            submitted[status.id] = tuple(chunk)
            log.info("submitted %s batch %s: %d requests", self.wire.vendor, status.id, len(chunk))
            status = await self._past_validation(status)
            if status.state == "failed":
                raise rejected(self.wire.vendor, status)
        return submitted

    def _record(self, batch_id: str, keys: list[str]) -> None:
        try:
            self.store.record(self.wire.vendor, self.identity, batch_id, keys)
        except sqlite3.Error as exc:  # the batch exists and will be paid: say which one, stop submitting
            raise OutputError(f"{self.wire.vendor} batch {batch_id} was submitted but cannot be recorded in "
                              f"{self.store.path}: {exc}",
                              hint="a rerun cannot resume it: free space where LMMS_EVAL_HOME is, and cancel the "
                                   "batch at the vendor if it is not wanted") from None

    async def _past_validation(self, status: BatchStatus) -> BatchStatus:
        while status.state == "validating":
            await self.sleep(self.config.poll_interval)
            status = await self._poll(status.id)
        return status

    async def _poll(self, batch_id: str) -> BatchStatus:
        status = await self._patiently(lambda: self.wire.status(batch_id), f"reading batch {batch_id}")
        if self.statuses.get(batch_id) != status:
            log.info("%s batch %s: %s, %d of %d succeeded, %d failed", self.wire.vendor, batch_id,
                     status.state, status.succeeded, status.total, status.failed)
        self.statuses[batch_id] = status
        return status

    async def _patiently(self, call: Callable[[], Awaitable[_T]], what: str) -> _T:
        """A read that a batch's hours of polling must survive: a transient failure (a dropped connection, a
        5xx, a rate limit) waits a poll interval and tries again, up to MAX_READ_FAILURES in a row."""
        for failures in range(1, MAX_READ_FAILURES + 1):
            try:
                return await call()
            except ProviderError as exc:
                decision = classify(exc)
                if not decision.retryable or failures == MAX_READ_FAILURES:
                    raise
                log.info("%s failed (%s); trying again in %gs", what, exc.message, self.config.poll_interval)
                await self.sleep(max(self.config.poll_interval, decision.retry_after or 0.0))
        raise AssertionError("unreachable")

    async def _collect(self, active: dict[str, tuple[str, ...]],
                       answers: dict[str, Answer]) -> dict[str, ProviderError]:
        """Poll every batch to its end and read its results; the retryable failures, by key."""
        retry: dict[str, ProviderError] = {}
        waiting = dict(active)
        while waiting:
            for batch_id in list(waiting):
                status = await self._poll(batch_id)
                if not status.done:
                    continue
                keys = waiting.pop(batch_id)
                if status.state == "failed" and not status.succeeded:
                    error = rejected(self.wire.vendor, status)
                    answers.update((key, error) for key in keys)
                    continue
                retry.update(await self._read(status, keys, answers))
            if waiting:
                await self.sleep(self.config.poll_interval)
        return retry

    async def _read(self, status: BatchStatus, keys: tuple[str, ...],
                    answers: dict[str, Answer]) -> dict[str, ProviderError]:
        retry: dict[str, ProviderError] = {}
        read = await self._patiently(lambda: self.wire.results(status, keys), f"reading the results of {status.id}")
        results = {r.custom_id: r for r in read}
        for key in keys:
            result = results.get(key)
            error = (result.error if result is not None else None) or _never_ran(self.wire.vendor, status, key)
            if result is not None and result.response is not None and not result.response.text.strip():
                error = ProviderError("the model returned an empty answer", kind="empty", provider=self.wire.vendor)
            elif result is not None and result.response is not None:
                answers[key] = result.response
                continue
            if classify(error).retryable:
                retry[key] = error
            else:
                answers[key] = error
        return retry


def _never_ran(vendor: str, status: BatchStatus, key: str) -> ProviderError:
    """A request the batch holds but has no result for: its batch expired (retried) or was cancelled (not)."""
    if status.state == "cancelled":
        return ProviderError(f"{vendor} batch {status.id} was cancelled before this request ran",
                             kind="unknown", provider=vendor, retryable=False)
    return ProviderError(f"{vendor} batch {status.id} ended ({status.state}) before this request ran",
                         hint="assay retries it in a follow-up batch", kind="timeout", provider=vendor)
