"""A judged task batches the model first, then the judge.

Once the model's answers are in, every judged doc is scored once against a stand-in judge that only
records what it is asked (and answers "not yet", so the scores of this pass are thrown away). The recorded
requests go to each judge model's batch API; the real judge's models then find their answers waiting, as
the model under test does, when the workers score for real. A judgement that depends on an earlier verdict
(a second question after the first answer) was not seen by the stand-in and is sent interactively.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from assay.errors import ProviderError
from assay.judge.client import Judge
from assay.judge.runtime import current_judge
from assay.judge.scoring import score_sample
from assay.model.context import RunContext, current_run
from assay.run.prompts import Prompt, feed
from assay.run.taskcode import call_task_code
from assay.types import Request, Response

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from assay.model import Model
    from assay.model.batch.answers import BatchAnswers
    from assay.model.batch.config import BatchConfig
    from assay.providers.batch import BatchWire
    from assay.run.prepare import Prepared

    Send = Callable[[Prepared, BatchWire, BatchConfig, dict[str, Any], dict[str, bytes]], Awaitable[BatchAnswers]]

#: What the stand-in judge answers every request with (recorded, never sent).
_DEFERRED = ProviderError("judged in a batch after this pass", kind="unknown", retryable=False)


@dataclass
class _Recorder:
    """Stands in for a judge model's answers: keeps every request it is asked, answers none."""

    requests: list[Request] = field(default_factory=list)

    def take(self, identity: dict[str, Any], request: Request) -> Response | ProviderError | None:
        self.requests.append(request)
        return _DEFERRED


class _RecordingJudge(Judge):
    """The run's judge configuration, with every model's answers replaced by a recorder."""

    def __init__(self, real: Judge) -> None:
        super().__init__(real.settings, real.configs, parse_retries=0)
        self.recorders: dict[tuple[str, str | None], _Recorder] = {}

    def model(self, profile: str = "default", requested: str | None = None) -> Model:
        model = super().model(profile, requested)
        model.prefilled = self.recorders.setdefault((profile, requested), _Recorder())
        return model


async def _model_answers(p: Prepared, prompt: Prompt) -> list[str] | None:
    """The model's answers to one doc, as the workers will see them (batched or cached), without accounting."""
    texts = []
    for request in prompt.work.generate if prompt.work is not None else ():
        found: Response | ProviderError | None = None
        if p.model.prefilled is not None:
            found = p.model.prefilled.take(p.provider.identity(), request)
        if found is None and p.cache is not None:
            found = await p.cache.get(p.provider.identity(), request)
        if not isinstance(found, Response):
            return None
        texts.append(found.text)
    return texts or None


async def _record(p: Prepared, recording: _RecordingJudge) -> None:
    """Score every judged doc once against the recording judge."""
    assert p.judging is not None
    judged = set(p.judging.judged)
    current_run.set(RunContext(loop=asyncio.get_running_loop(), model=p.model, settings=p.settings,
                               redactor=p.redactor, services={"cost": p.ledger, "judge": recording}))
    current_judge.set(recording)
    queue: asyncio.Queue[Prompt | None] = asyncio.Queue(maxsize=256)
    producer = asyncio.ensure_future(feed(p, queue))
    try:
        while (prompt := await queue.get()) is not None:
            texts = await _model_answers(p, prompt) if prompt.task in judged else None
            if texts is not None:
                await score_sample(p.tasks[prompt.task], prompt.doc, texts, run_sync=call_task_code,
                                   redact=p.redactor.redact, contract=p.judging.contract(prompt.task))
        await producer
    finally:
        producer.cancel()
        current_judge.set(None)
        current_run.set(None)


async def judge_in_batches(p: Prepared, config: BatchConfig, send: Send) -> None:
    """The judge's first judgement of every judged doc, through each judge model's batch API (``send``: the
    batch layer, as the model's batches go)."""
    from assay.model.cache import cache_key
    from assay.providers.base import batch_wire

    assert p.judging is not None
    real = p.judging.judge
    recording = _RecordingJudge(real)
    await _record(p, recording)
    for (profile, requested), recorder in recording.recorders.items():
        model = real.model(profile, requested)
        wire = batch_wire(model.provider)
        if wire is None:  # this judge's vendor has no batch API: it judges interactively
            continue
        identity = model.provider.identity()
        lines = {}
        for request in recorder.requests:
            if p.cache is None or await p.cache.get(identity, request) is None:
                lines[cache_key(identity, request)] = wire.line(cache_key(identity, request), request)
        if model.meter is not None and model.meter.price is not None:
            model.meter.price = model.meter.price.at_batch_rate()
        model.prefilled = await send(p, wire, config, identity, lines)
    await recording.aclose()
