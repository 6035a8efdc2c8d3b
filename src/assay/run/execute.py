"""Stage 2 of a run: documents → requests → answers → scores, with a fixed pool of workers.

One worker per allowed concurrent request pulls (task, doc) pairs, so memory stays flat however many
docs a run has. Task code (prompt building, scoring) runs in worker threads; the loop only schedules
requests and writes samples. Every finished sample is handed to the sinks before the next doc is taken.
The stage ends when the docs run out, a fatal error makes further requests pointless, the output can no
longer be written, or a stop is requested.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

from assay.errors import AssayError, ProviderError
from assay.judge import intercept
from assay.judge.runtime import current_judge
from assay.judge.scoring import ScoredSample, score_own, score_sample, scores_on_the_loop
from assay.model.context import RunContext, current_run
from assay.model.retry import is_fatal
from assay.records.sample import sample_record
from assay.run.prompts import WINDOW, Prompt, PromptQueue, builds_on_the_loop, feed
from assay.run.results import TaskTally, not_a_number
from assay.run.taskcode import current_runner, time_limit
from assay.run.taskthreads import TaskThreads
from assay.tasks.work import UNSET
from assay.types import Loglikelihood, Request, Response, SampleError, Usage

if TYPE_CHECKING:
    from assay.run.control import RunControl
    from assay.run.prepare import Prepared
    from assay.tasks.task import DocWork

log = logging.getLogger("assay.run")


Ending = Literal["complete", "aborted", "interrupted"]
NOT_SCORED = ScoredSample(None, None)


class Progress(Protocol):
    def start(self, totals: dict[str, int]) -> None: ...

    def advance(self, task: str, *, error: bool) -> None: ...

    def stop(self) -> None: ...


@dataclass
class RunState:
    """What the workers have done so far (read by the finish stage)."""

    tallies: dict[str, TaskTally]
    successes: int = 0
    fatal: ProviderError | None = None
    #: The samples file could not be written (disk full, folder removed): no more requests are sent.
    output_error: Exception | None = None
    stop_reason: str | None = None
    sink_failures: dict[str, int] = field(default_factory=dict)
    #: Tasks whose scoring is assay's own pure code, run on the loop (judge.scoring.scores_on_the_loop).
    scored_inline: set[str] = field(default_factory=set)
    #: Of those, the tasks whose prompts are pure too (run.prompts.builds_on_the_loop): no task code can have
    #: changed a doc between its prompt and its scoring, so the target its prompt read is the one scored.
    pure: set[str] = field(default_factory=set)

    @property
    def done(self) -> int:
        return sum(t.done for t in self.tallies.values())

    @property
    def should_stop(self) -> bool:
        return self.fatal is not None or self.output_error is not None or self.stop_reason is not None


async def execute(p: Prepared, state: RunState, *, progress: Progress | None = None,
                  control: RunControl | None = None) -> Ending:
    """Run every selected doc; returns how the stage ended (CancelledError propagates untouched)."""
    loop = asyncio.get_running_loop()
    # No more workers than docs: num_concurrent=1000000 for 3 docs must not build a million coroutines.
    # With a judge, more workers than model slots: a worker whose answer came back is judging while another
    # waits for the model's freed slot, so answering and judging overlap and both stay at their limits.
    slots = p.model.config.max_concurrency + (p.judging.concurrency if p.judging is not None else 0)
    n_workers = max(1, min(slots, p.total_docs))
    context = RunContext(loop=loop, model=p.model, settings=p.settings, redactor=p.redactor,
                         services={"cost": p.ledger})
    # Up to a thread per worker: scoring that waits on a judge must not queue behind a few threads while
    # the judge could take far more requests. Quick task code shares a few threads, in batches.
    threads = TaskThreads(loop, max_threads=n_workers + WINDOW // 16, time_limit=time_limit.get())
    current_runner.set(threads)
    if p.judging is not None:
        context.services["judge"] = p.judging.judge
        current_judge.set(p.judging.judge)
        if p.judging.intercepts:  # lmms-eval helpers that post to a judge themselves (requests, openai SDK)
            intercept.install()
    current_run.set(context)
    state.scored_inline.update(name for name, task in p.tasks.items() if scores_on_the_loop(task))
    state.pure.update(name for name in state.scored_inline if builds_on_the_loop(p.tasks[name]))
    prompts = PromptQueue(n_workers + WINDOW)
    if p.file_sink is not None:  # the samples finished in one loop turn are written together
        p.file_sink.hold_writes(loop.call_soon, lambda exc: _output_failed(state, exc))

    file_sink = p.file_sink

    async def worker() -> None:
        while True:
            # Most of the time a prompt is ready: taken without the coroutine Queue.get is.
            prompt = prompts.get_nowait() if not prompts.empty() else await prompts.get()
            if prompt is None or state.should_stop:
                break
            await _process(p, state, progress, prompt, threads)
            if file_sink is not None and file_sink.writes_pending:
                # The samples file is written once a loop turn (hold_writes); this worker's next request waits
                # for that write, so a file that cannot be written stops the run before it pays for more.
                await asyncio.sleep(0)
        prompts.put_nowait(None)  # pass the end on to the next worker (there is always room for it)

    if progress is not None:
        progress.start({name: len(d) for name, d in p.docs.items()})
    producer = asyncio.ensure_future(feed(p, prompts, threads))
    workers: asyncio.Future[list[None]] = asyncio.gather(*(worker() for _ in range(n_workers)))
    try:
        if control is None:
            await workers
        else:
            stop: asyncio.Future[Any] = asyncio.ensure_future(control.attach(loop).wait())
            try:
                await asyncio.wait([workers, stop], return_when=asyncio.FIRST_COMPLETED)
            finally:
                stop.cancel()
            if control.stop_requested and not workers.done():
                state.stop_reason = control.reason
                workers.cancel()  # requests in flight are abandoned; finished samples are already on disk
                await asyncio.gather(workers, return_exceptions=True)
                return "interrupted"
            await workers
    finally:
        producer.cancel()  # the workers are done (or stopped): no more prompts are needed
        if not workers.done():  # cancelled from outside (Ctrl-C through asyncio.run): stop the workers too
            workers.cancel()
        if p.judging is not None and p.judging.intercepts:
            intercept.uninstall()
        current_runner.set(None)  # task code after this stage gets threads of its own
        threads.close()
        if p.file_sink is not None:
            try:
                p.file_sink.release_writes()
            except Exception as exc:
                _output_failed(state, exc)
        if progress is not None:
            progress.stop()
    if control is not None and control.stop_requested and state.stop_reason is None:
        state.stop_reason = control.reason
    return "aborted" if (state.fatal is not None or state.output_error is not None) else "complete"


async def _process(p: Prepared, state: RunState, progress: Progress | None, prompt: Prompt,
                   threads: TaskThreads) -> None:
    name, doc_id, doc = prompt.task, prompt.doc_id, prompt.doc
    task = p.tasks[name]
    t0 = time.perf_counter()
    answers: Answers | None = None
    error: SampleError | None = None
    request = prompt.work.generate[0] if prompt.work is not None and prompt.work.generate else \
        Request(messages=prompt.messages, params=p.params[name], task=name, doc_id=doc_id)
    redact = p.redactor.redact
    try:
        if prompt.error is not None:
            raise prompt.error
        work = prompt.work
        assert work is not None
        if len(work.generate) == 1 and not work.loglikelihood:  # most docs: one request, no coroutine around it
            answers = Answers([await p.model.generate(work.generate[0])])
        else:
            answers = await _ask(p, work)
        state.successes += 1
    except ProviderError as exc:
        error = SampleError(exc.kind, redact(exc.message), exc.status, exc.attempts,
                            redact(exc.request_id) if exc.request_id else None)
        if is_fatal(exc, any_success=state.successes > 0):
            state.fatal = state.fatal or exc
    except AssayError as exc:
        error = SampleError("prompt", redact(exc.message))
    except Exception as exc:  # a bug of ours: recorded on the sample, the run goes on
        log.debug("sample %s/%s failed", name, doc_id, exc_info=True)
        error = SampleError("internal", redact(f"{type(exc).__name__}: {exc}"))
    scored = NOT_SCORED
    if answers is not None and not p.options.predict_only:
        if name in state.scored_inline:  # assay's own code: scored here, without a coroutine around it
            scored = score_own(task, doc, answers.for_scoring, redact=redact,
                               target=prompt.target if name in state.pure else UNSET)
        else:
            scored = await score_sample(task, doc, answers.for_scoring, run_sync=threads.call, redact=redact,
                                        contract=p.judging.contract(name) if p.judging else None)
        if scored.error is not None:
            log.debug("scoring %s/%s failed: %s", name, doc_id, scored.error)
            error = SampleError("scoring", scored.error)
    usage, cached = (answers.usage, answers.cached) if answers is not None else (Usage(), False)
    tally = state.tallies[name]
    tally.add(scored.scores, error, usage, cached)
    if scored.judgement.judged:
        tally.judge.add(scored.judgement)
    if p.judging is not None and p.judging.judge.fatal is not None and state.fatal is None:
        state.fatal = p.judging.judge.fatal  # the judge cannot judge anything: stop paying for answers
    media = await asyncio.to_thread(p.media.refs, request) if p.media is not None and _has_media(request) else None
    record = sample_record(task=name, doc_id=doc_id, doc=doc, target=prompt.target, request=request,
                           response=answers.responses[0] if answers and answers.responses else None,
                           error=error, scores=_as_recorded(scored.scores), latency_s=time.perf_counter() - t0,
                           media=media)
    if answers is not None:
        record.update(answers.record_fields(scored.filtered))
    record.update(scored.record_fields())
    _deliver(p, state, name, record)
    if progress is not None:
        progress.advance(name, error=error is not None)


def _as_recorded(scores: dict[str, Any] | None) -> dict[str, Any] | None:
    """Scores for the sample's record: an integer beyond a float as its digits (JSON readers would make it
    Infinity); NaN, ±inf and complex values are written by the files sink as strings saying what they are."""
    if not scores or all(type(v) is float or not_a_number(v) != "huge" for v in scores.values()):
        return scores
    return {k: str(v) if not_a_number(v) == "huge" else v for k, v in scores.items()}


def _has_media(request: Request) -> bool:
    return any(m.has_media() for m in request.messages)


@dataclass
class Answers:
    """What came back for one doc: ``repeats`` generations, or one log-likelihood per choice."""

    responses: list[Response] = field(default_factory=list)
    loglikelihoods: list[Loglikelihood] = field(default_factory=list)

    @property
    def for_scoring(self) -> list[Any]:
        """Texts, or ``(loss, is_greedy)`` per choice with loss = minus the log-likelihood (lmms-eval's form)."""
        if self.loglikelihoods:
            return [(-ll.logprob, ll.is_greedy) for ll in self.loglikelihoods]
        return [r.text for r in self.responses]

    @property
    def _items(self) -> list[Response | Loglikelihood]:
        return [*self.responses, *self.loglikelihoods]

    @property
    def usage(self) -> Usage:
        if len(self.responses) == 1 and not self.loglikelihoods:
            return self.responses[0].usage
        total = Usage()
        for item in self._items:
            total = total + item.usage
        return total

    @property
    def cached(self) -> bool:
        if len(self.responses) == 1 and not self.loglikelihoods:
            return self.responses[0].cached
        return bool(self._items) and all(item.cached for item in self._items)

    def record_fields(self, filtered: dict[str, Any] | None) -> dict[str, Any]:
        """lmms-eval's ``resps``/``filtered_resps`` (per request), plus every filter pipeline's output."""
        resps: list[Any] = [[ll.logprob, ll.is_greedy] for ll in self.loglikelihoods] or \
            [[r.text for r in self.responses]]
        out: dict[str, Any] = {"resps": resps}
        if filtered:
            out["filtered_resps"] = next(iter(filtered.values()))
            if len(filtered) > 1:
                out["filtered_resps_by_filter"] = filtered
        if len(self.responses) > 1 or self.loglikelihoods:
            out["attempts"] = sum(x.attempts for x in self._items)
            usage = self.usage
            out["usage"] = {"input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens}
            out["cached"] = self.cached
        return out


async def _ask(p: Prepared, work: DocWork) -> Answers:
    """Send a doc's requests one after another (a doc is one worker's job; the Model limits concurrency)."""
    answers = Answers()
    for ll_request in work.loglikelihood:
        answers.loglikelihoods.append(await p.model.loglikelihood(ll_request))
    for request in work.generate:
        answers.responses.append(await p.model.generate(request))
    return answers


def _deliver(p: Prepared, state: RunState, task: str, record: dict[str, Any]) -> None:
    """Hand a finished sample to every sink. The samples file failing stops the run (nothing more is paid
    for than can be kept); another sink failing is counted and logged once."""
    for sink in p.sinks:
        try:
            sink.sample(task, record)
        except Exception as exc:
            if sink is not p.file_sink:
                _sink_failed(state, sink, exc)
            else:
                _output_failed(state, exc)


def _output_failed(state: RunState, exc: Exception) -> None:
    """The samples file cannot be written (an OutputError from the files sink, or a raw OSError)."""
    if state.output_error is None:
        state.output_error = exc
        log.error("%s: no further requests are sent", getattr(exc, "strerror", None) or exc)


def _sink_failed(state: RunState, sink: Any, exc: BaseException) -> None:
    name = type(sink).__name__
    state.sink_failures[name] = state.sink_failures.get(name, 0) + 1
    if state.sink_failures[name] == 1:
        log.warning("results sink %s failed (%s: %s); the local files are unaffected", name, type(exc).__name__, exc)
