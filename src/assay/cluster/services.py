"""What the whole cluster shares, held by two small actors on the driver's node.

* :class:`Gate` — the run's limits are the cluster's, not each worker's: a concurrency slot per request
  (``num_concurrent``; the judge's apart), the requests-per-minute pace, and the cost ledger with
  ``--max_cost``. Every worker's Model asks it before each attempt (:class:`assay.cluster.remote.GateMeter`).
  A worker that dies holding slots or reservations gives them back (:meth:`Gate.forget`).
* :class:`CacheService` — the driver's response cache (``$LMMS_EVAL_HOME/cache/responses.sqlite``), so
  the cache works when workers share no disk: workers compute the keys, this stores and looks up rows. An
  answer paid on one worker is never paid again by another, and a rerun (on the cluster or locally) pays
  nothing.

Both are plain classes; :mod:`assay.cluster.actors` makes them Ray actors.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from assay.errors import ProviderError
from assay.model.cache import ResponseCache
from assay.model.cost import CostLedger, Price, Reservation
from assay.types import Loglikelihood, Response, Usage


@dataclass(frozen=True)
class RoleLimits:
    """One Model's limits across the cluster (``model``: the model under test, ``judge``)."""

    concurrency: int
    requests_per_minute: float | None = None
    price: Price | None = None


class _Role:
    def __init__(self, limits: RoleLimits, ledger: CostLedger, role: str) -> None:
        self.limits = limits
        self.slots = asyncio.Semaphore(limits.concurrency)
        self.meter = ledger.meter(role, limits.price)
        self.next_slot = 0.0

    async def pace(self) -> None:
        rpm = self.limits.requests_per_minute
        if not rpm:
            return
        now = time.monotonic()
        slot = max(now, self.next_slot)
        self.next_slot = slot + 60.0 / rpm
        if slot > now:
            await asyncio.sleep(slot - now)


class Gate:
    """Concurrency, pace and cost for every worker at once (an async actor: waits never block others)."""

    def __init__(self, max_cost: float | None, roles: dict[str, RoleLimits]) -> None:
        self.ledger = CostLedger(max_cost)
        self._limits = roles  # by role; a role's meter is made on its first request, as a local run's are
        self._roles: dict[str, _Role] = {}
        self._held: dict[int, tuple[str, str, Reservation]] = {}  # token -> (worker, role, reservation)
        self._tokens = itertools.count(1)

    def _role(self, role: str, price: Price | None = None) -> _Role:
        entry = self._roles.get(role)
        if entry is None:  # every judge model is held to the judge's limits (else the model's)
            limits = self._limits.get(role) or self._limits.get("judge" if role.startswith("judge") else "model") \
                or self._limits["model"]
            entry = self._roles[role] = _Role(replace(limits, price=limits.price or price), self.ledger, role)
        elif entry.meter.price is None and price is not None:
            entry.meter.price = price
        return entry

    async def reserve(self, role: str, worker: str, price: Price | None = None,
                      worst: Usage | None = None) -> tuple[int, Reservation] | str:
        """A slot and the cost cap's consent for one attempt: (token, reservation), or why not (the cap).
        ``price`` is the worker's price for ``role`` (judge models are priced where they are made)."""
        entry = self._role(role, price)
        await entry.slots.acquire()
        try:
            await entry.pace()
            reservation = await entry.meter.reserve(worst=worst)  # the attempt's worst case, held by the cap
        except ProviderError as exc:
            entry.slots.release()
            return exc.message
        except BaseException:
            entry.slots.release()
            raise
        token = next(self._tokens)
        self._held[token] = (worker, role, reservation)
        return token, reservation

    def settle(self, token: int, usage: Usage) -> None:
        """The attempt was answered: its real cost replaces its estimate; the slot is free."""
        held = self._held.pop(token, None)
        if held is not None:
            entry = self._role(held[1])
            entry.meter.settle(held[2], usage)
            entry.slots.release()

    def release(self, token: int) -> None:
        """The attempt failed (nothing billed); the slot is free."""
        held = self._held.pop(token, None)
        if held is not None:
            entry = self._role(held[1])
            entry.meter.release(held[2])
            entry.slots.release()

    def forget(self, worker: str) -> int:
        """A worker died: everything it held is released. Returns how many attempts were in flight."""
        lost = [token for token, (owner, _, _) in self._held.items() if owner == worker]
        for token in lost:
            self.release(token)
        return len(lost)

    def report(self) -> dict[str, Any]:
        """The ledger's state, for the driver's own ledger (the results document's ``cost``)."""
        return {
            "spent": self.ledger.spent,
            "exhausted": self.ledger.exhausted,
            "meters": {role: (m.usd, m.usage, m.answered) for role, m in self.ledger.meters.items()},
        }


def merge_report(ledger: CostLedger, report: dict[str, Any]) -> None:
    """Copy the gate's account into the driver's ledger, which the results document reports."""
    ledger.spent = float(report["spent"])
    ledger.exhausted = bool(report["exhausted"])
    for role, (usd, usage, answered) in report["meters"].items():
        meter = ledger.meters.get(role)
        if meter is None:
            meter = ledger.meter(role, None)
        meter.usd, meter.usage, meter.answered = usd, usage, answered


class CacheService:
    """The driver's response cache, by key (a sync actor: one SQLite connection, calls one at a time)."""

    def __init__(self, path: str) -> None:
        # Workers redact answers before they send them; this store adds no redaction of its own.
        self._cache = ResponseCache(Path(path))

    def lookup(self, key: str) -> Response | None:
        return self._cache.lookup(key)

    def store(self, key: str, public: dict[str, Any], task: str, doc_id: int, response: Response) -> None:
        self._cache.store(key, public, task, doc_id, response)

    def lookup_loglikelihood(self, key: str) -> Loglikelihood | None:
        return self._cache.lookup_loglikelihood(key)

    def store_loglikelihood(self, key: str, public: dict[str, Any], task: str, doc_id: int,
                            result: Loglikelihood) -> None:
        self._cache.store_loglikelihood(key, public, task, doc_id, result)

    def close(self) -> None:
        self._cache.close()
