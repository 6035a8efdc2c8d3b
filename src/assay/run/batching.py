"""--batch: before the workers start, every request the model must answer goes to the vendor's batch API.

Prompts are built as the run builds them (:func:`assay.run.prompts.feed`), each generation request not
already in the cache becomes one line of a batch (its cache key is its ``custom_id``), and the batch layer
(:class:`assay.model.batch.runner.BatchRunner`) submits, records, polls and reads back. The answers wait
in the model wrapper; the workers then run as usual and find each doc's answer there, so scoring, samples,
the cache and the cost are the same as for an interactive run. When the run has ended (not interrupted),
its batches are marked consumed; until then a rerun resumes them instead of submitting again.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from assay.run.prompts import Prompt, feed

if TYPE_CHECKING:
    from assay.model.batch.answers import BatchAnswers
    from assay.model.batch.config import BatchConfig
    from assay.providers.batch import BatchWire
    from assay.run.prepare import Prepared


def identity_text(identity: dict[str, Any]) -> str:
    """A provider identity as the batch record keeps it (no secret: see public_identity)."""
    from assay.env.masking import public_identity

    return json.dumps(public_identity(identity), sort_keys=True)


async def _lines(p: Prepared, wire: BatchWire) -> dict[str, bytes]:
    """Every uncached generation request of the run, as a batch line, by cache key."""
    from assay.model.cache import cache_key

    identity = p.provider.identity()
    lines: dict[str, bytes] = {}
    queue: asyncio.Queue[Prompt | None] = asyncio.Queue(maxsize=256)
    producer = asyncio.ensure_future(feed(p, queue))
    try:
        while (prompt := await queue.get()) is not None:
            for request in prompt.work.generate if prompt.work is not None else ():
                key = cache_key(identity, request)
                if key in lines or (p.cache is not None and await p.cache.get(identity, request) is not None):
                    continue
                lines[key] = wire.line(key, request)
        await producer
    finally:
        producer.cancel()
    if p.tally is not None:
        p.tally.complete = True  # counted while built: the workers' second build must not count again
    return lines


async def send_batches(p: Prepared, wire: BatchWire, config: BatchConfig, identity: dict[str, Any],
                       lines: dict[str, bytes]) -> BatchAnswers:
    """``lines`` through the batch layer; the answers by key (the runner is kept to be finished later)."""
    from assay.model.batch.answers import BatchAnswers
    from assay.model.batch.runner import BatchRunner
    from assay.model.batch.store import BatchStore

    runner = BatchRunner(wire, BatchStore(p.settings.ensure_home() / "batches.sqlite"), config,
                         identity_text(identity))
    p.batch_runners.append(runner)
    return BatchAnswers(await runner.run(lines) if lines else {})


async def answer_in_batches(p: Prepared) -> None:
    """Send the run's requests as batches and leave the answers with the model (nothing: not a batch run)."""
    from assay.providers.base import batch_wire

    wire = batch_wire(p.provider)
    if p.batch is not None and wire is not None:  # (a provider without a batch API was refused in prepare)
        p.model.prefilled = await send_batches(p, wire, p.batch, p.provider.identity(), await _lines(p, wire))
    if p.judge_batch is not None and p.judging is not None and p.judging.judged and not p.options.predict_only:
        from assay.run.judge_batching import judge_in_batches

        await judge_in_batches(p, p.judge_batch, send_batches)


def finish_batches(p: Prepared, *, consumed: bool) -> None:
    """The run is over: its batches are consumed (never resumed) unless it was interrupted."""
    for runner in p.batch_runners:
        try:
            if consumed:
                runner.store.consume(runner.wire.vendor, runner.batch_ids)
        finally:
            runner.store.close()


def batch_report(p: Prepared) -> dict[str, Any] | None:
    """The results' ``batch`` section: each batch's vendor, id, final state and counts."""
    if not p.batch_runners:
        return None
    return {"answers": p.model.stats.batched,
            "batches": [{"vendor": runner.wire.vendor, "id": s.id, "state": s.state, "total": s.total,
                         "succeeded": s.succeeded, "failed": s.failed}
                        for runner in p.batch_runners for s in runner.statuses.values()]}
