"""The bill before paying: count what every doc will send (``--dry_run``, and ``--max_cost``'s check).

Prompts are built exactly as the run builds them (:func:`assay.run.prompts.feed`: task code, media, in
worker threads) and counted as they are built; nothing is sent. A real run without the check counts its
prompts as it builds them, so its results hold the estimate beside what the vendor billed.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from assay.errors import UsageError
from assay.run.prompts import feed

if TYPE_CHECKING:
    from assay.model.estimate.requests import RunTally
    from assay.run.prepare import Prepared


def new_tally(p: Prepared) -> RunTally:
    """An empty tally by the rules of the run's vendor and model."""
    from assay.model.estimate.media import rules_for
    from assay.model.estimate.requests import RequestCounter, RunTally
    from assay.model.estimate.tokens import text_counter

    default_max = p.provider.identity().get("default_max_tokens")
    counter = RequestCounter(rules_for(p.options.model, p.provider.model_name), text_counter(),
                             default_max_tokens=default_max if isinstance(default_max, int) else None)
    judged = frozenset(p.judging.judged) if p.judging is not None else frozenset()
    return RunTally(counter, judged=judged)


async def count_every_doc(p: Prepared) -> None:
    """Build every doc's prompt (as the run will) and count it; marks the tally complete."""
    p.tally = p.tally or new_tally(p)
    queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=256)
    producer = asyncio.ensure_future(feed(p, queue))
    try:
        while await queue.get() is not None:
            pass
        await producer
    finally:
        producer.cancel()
    p.tally.complete = True


def estimate(p: Prepared) -> dict[str, Any] | None:
    """The estimate document (None when nothing was counted: the estimator is then not imported)."""
    if p.tally is None:
        return None
    from assay.model.estimate.report import estimate_report

    return estimate_report(p.tally, p.price, batch=p.batch is not None)


def refuse_over_cap(p: Prepared) -> None:
    """--max_cost below what the run must cost at least: refused before anything is sent."""
    report = estimate(p)
    cap = p.options.max_cost
    low = report["total"]["usd_min"] if report is not None else None
    if cap is None or low is None or low <= cap:
        return
    high = report["total"]["usd_max"] if report is not None else None
    raise UsageError(f"this run is estimated to cost at least ${low:.4f} (up to ${high:.4f}), over --max_cost "
                     f"${cap:g}; nothing was sent",
                     hint="raise --max_cost, lower --limit, or see the estimate per task with --dry_run")
