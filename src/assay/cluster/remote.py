"""A worker's side of the shared services: the same interfaces the Model wrapper uses locally.

:class:`GateLedger` hands out :class:`GateMeter` s, so the Model under test and the judge ask the
cluster's :class:`~assay.cluster.services.Gate` before every attempt, exactly where a local run asks its
own ledger. :class:`RemoteCache` is a :class:`~assay.model.wrapper.ResponseStore` whose keys are computed
here and whose rows live in the driver's cache; answers are redacted here, before they travel.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any

from assay.env.masking import public_identity
from assay.model.cache import cache_key, loglikelihood_key
from assay.model.cost import CostLedger, CostMeter, Price, Reservation, budget_error
from assay.types import Loglikelihood, LoglikelihoodRequest, Request, Response, Usage

log = logging.getLogger("assay.cluster")


@dataclass(frozen=True)
class Ticket(Reservation):
    """A reservation the gate holds under ``token``."""

    token: int = 0


@dataclass
class GateMeter(CostMeter):
    gate: Any = None  # the Gate actor handle
    worker: str = ""

    @property
    def capped(self) -> bool:
        return True  # every attempt asks the gate: it holds the cluster's concurrency slots, pace and cap

    async def reserve(self, provider: str | None = None, worst: Usage | None = None) -> Reservation:
        answer = await self.gate.reserve.remote(self.role, self.worker, self.price, worst)
        if isinstance(answer, str):
            raise budget_error(answer, provider)
        token, held = answer
        return Ticket(held.amount, held.worst, token)

    def settle(self, reservation: Reservation, usage: Usage) -> None:
        self.usage = self.usage + usage
        self.answered += 1
        self.gate.settle.remote(getattr(reservation, "token", 0), usage)

    def release(self, reservation: Reservation) -> None:
        self.gate.release.remote(getattr(reservation, "token", 0))


class GateLedger(CostLedger):
    """A worker's ledger: its meters count in the gate, which holds the run's one account and cap."""

    def __init__(self, gate: Any, worker: str, max_cost: float | None) -> None:
        super().__init__(max_cost)
        self._gate, self._worker = gate, worker

    def meter(self, role: str, price: Price | None) -> CostMeter:
        meter = GateMeter(price, self, role, gate=self._gate, worker=self._worker)
        self.meters[role] = meter
        return meter


class RemoteCache:
    """The driver's response cache, seen from a worker (keys and public identities computed here)."""

    def __init__(self, service: Any, redact: Any) -> None:
        self._service = service
        self._redact = redact

    @staticmethod
    def _key(make: Any, identity: dict[str, Any], request: Any) -> str | None:
        try:
            return str(make(identity, request))
        except (TypeError, ValueError) as exc:  # not JSON-able: this request goes uncached, as locally
            log.debug("cache key failed: %s", exc)
            return None

    async def get(self, identity: dict[str, Any], request: Request) -> Response | None:
        key = self._key(cache_key, identity, request)
        if key is None:
            return None
        found: Response | None = await self._service.lookup.remote(key)
        return found

    async def put(self, identity: dict[str, Any], request: Request, response: Response) -> None:
        key = self._key(cache_key, identity, request)
        if key is None or response.cached or not response.text.strip():
            return
        redact = self._redact
        clean = replace(response, text=redact(response.text), model=redact(response.model),
                        finish_reason=None if response.finish_reason is None else redact(response.finish_reason))
        # Awaited: once the Model moves on, the answer is in the driver's file (a worker dying later loses nothing).
        await self._service.store.remote(key, public_identity(identity), request.task, request.doc_id, clean)

    async def get_loglikelihood(self, identity: dict[str, Any],
                                request: LoglikelihoodRequest) -> Loglikelihood | None:
        key = self._key(loglikelihood_key, identity, request)
        if key is None:
            return None
        found: Loglikelihood | None = await self._service.lookup_loglikelihood.remote(key)
        return found

    async def put_loglikelihood(self, identity: dict[str, Any], request: LoglikelihoodRequest,
                                result: Loglikelihood) -> None:
        key = self._key(loglikelihood_key, identity, request)
        if key is None or result.cached:
            return
        await self._service.store_loglikelihood.remote(key, public_identity(identity), request.task,
                                                       request.doc_id, result)
