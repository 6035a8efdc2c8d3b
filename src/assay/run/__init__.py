"""A run in three stages — prepare (nothing paid yet) → execute (workers) → finish (results written first).

:func:`run_evaluation` is what ``assay run`` and ``assay.evaluate`` call. Whatever way the execute stage
ends — done, a fatal provider error, a full disk, a signal, Ctrl-C — the finish stage writes the results
document from every finished sample before the run reports how it ended.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from assay.errors import (
    JudgeFailureRateError,
    OutputError,
    ProviderAuthError,
    ProviderError,
    RunFailedError,
    RunInterrupted,
)
from assay.run.batching import answer_in_batches, finish_batches
from assay.run.control import RunControl
from assay.run.execute import Ending, Progress, RunState, execute
from assay.run.finish import build_results, write_results
from assay.run.prepare import Prepared, prepare
from assay.run.results import TaskTally
from assay.run.taskcode import exits_contained, time_limit

if TYPE_CHECKING:
    from assay.env.redaction import Redactor
    from assay.env.settings import Settings
    from assay.options import RunOptions
    from assay.run.outputs import RunOutputs
    from assay.sinks import Sink

__all__ = ["EvaluationResult", "ExecuteStage", "Progress", "RunControl", "run_evaluation"]

log = logging.getLogger("assay.run")


class ExecuteStage(Protocol):
    """Stage 2, replaceable: :func:`assay.run.execute.execute` here, or a layer above that sends the docs
    elsewhere (``assay.cluster`` shards them over a Ray cluster) while this module keeps stages 1 and 3."""

    def __call__(self, p: Prepared, state: RunState, *, progress: Progress | None = None,
                 control: RunControl | None = None) -> Awaitable[Ending]: ...


@dataclass
class EvaluationResult:
    """The results document plus where it and the samples were written."""

    results: dict[str, Any]
    results_path: Path | None = None
    sample_paths: dict[str, Path] = field(default_factory=dict)
    #: The report and uploads made from the files (:class:`assay.run.outputs.RunOutputs`), if asked for.
    outputs: RunOutputs | None = None

    def __getitem__(self, key: str) -> Any:
        return self.results[key]

    @property
    def status(self) -> str:
        return str(self.results.get("status"))


async def run_evaluation(
    settings: Settings,
    options: RunOptions,
    redactor: Redactor,
    *,
    progress: Progress | None = None,
    extra_sinks: tuple[Sink, ...] = (),
    from_command_line: bool = True,
    control: RunControl | None = None,
    execute_stage: ExecuteStage = execute,
) -> EvaluationResult:
    """Evaluate; returns the result of a complete run, raises an AssayError (result written) otherwise."""
    time_limit.set(options.task_timeout or None)  # this task's context: every call of task code sees it
    with exits_contained():
        return await _evaluate(settings, options, redactor, progress=progress, extra_sinks=extra_sinks,
                               from_command_line=from_command_line, control=control, execute_stage=execute_stage)


async def _evaluate(settings: Settings, options: RunOptions, redactor: Redactor, *, progress: Progress | None,
                    extra_sinks: tuple[Sink, ...], from_command_line: bool, control: RunControl | None,
                    execute_stage: ExecuteStage) -> EvaluationResult:
    from assay.judge import intercept

    p = await prepare(settings, options, redactor, extra_sinks=extra_sinks, from_command_line=from_command_line)
    if options.dry_run:
        return await _dry_run(p)
    state = RunState({name: TaskTally(total=len(d)) for name, d in p.docs.items()})
    if control is not None:
        control.when_forced(lambda: _write_forced(p, state, control))
        control.started()
    # Task code's own judge calls (requests, openai, httpx; sync or async) go to the run's judge from the first
    # sample to the last aggregation, whether or not its task was found to judge: never to a default endpoint.
    intercept.install()
    try:
        try:
            ending = await _batches_then_execute(p, state, progress, control, execute_stage)
        except BaseException:  # Ctrl-C through asyncio.run, or a bug: keep every finished sample, then go on failing
            _finish_interrupted(p, state)
            finish_batches(p, consumed=False)
            await _close_quietly(p)
            raise
        finish_batches(p, consumed=ending != "interrupted")
        # Aggregations are task code (they may call a judge through the bridge): not on the event loop.
        results = await asyncio.to_thread(build_results, p, state, ending)
    finally:
        intercept.uninstall()
    await _close_quietly(p)
    # In a thread: the report and uploads (made from the files once written) block on disk and network.
    return await asyncio.to_thread(_outcome, p, state, results, control.signum if control is not None else None)


def _write_forced(p: Prepared, state: RunState, control: RunControl) -> None:
    """The process is being ended before the results were written: say so, with the counts so far (every
    finished sample is in its file already)."""
    if p.file_sink is None:
        return
    p.file_sink.write_unfinished({
        "status": "interrupted",
        "status_reason": control.reason or "interrupted",
        "forced": "stopped again before the results were aggregated; the samples files hold every finished "
                  "sample",
        "results": {name: {"metrics": {}, "n_samples": tally.total, "n_completed": tally.done}
                    for name, tally in state.tallies.items()},
    })


async def _dry_run(p: Prepared) -> EvaluationResult:
    """Everything was built and counted; nothing was sent, nothing written."""
    from assay.run.estimate import estimate

    await _close_quietly(p)
    return EvaluationResult({"status": "dry_run", "model": {"name": p.provider.model_name, "provider": p.options.model},
                             "estimate": estimate(p)})


async def _batches_then_execute(p: Prepared, state: RunState, progress: Progress | None,
                                control: RunControl | None, execute_stage: ExecuteStage) -> Ending:
    """--batch: every answer first, from the vendor's batch API (a batch the vendor rejects ends the run
    before anything else is sent); then the workers, as for any run."""
    try:
        await answer_in_batches(p)
    except ProviderError as exc:
        state.fatal = exc
        return "aborted"
    return await execute_stage(p, state, progress=progress, control=control)


def _finish_interrupted(p: Prepared, state: RunState) -> None:
    results = build_results(p, state, "interrupted")
    where, _ = write_results(p, results)
    log.warning("interrupted: %d finished samples kept; partial results in %s", state.done,
                where or "(no output folder)")


async def _close_quietly(p: Prepared) -> None:
    try:
        await p.aclose()
    except Exception as exc:  # closing connections must not hide how the run ended
        log.debug("closing the model failed: %s", exc)


def _outcome(p: Prepared, state: RunState, results: dict[str, Any], signum: int | None) -> EvaluationResult:
    """Write the document, then say how the run ended: return for a complete run, raise otherwise."""
    where, problem = write_results(p, results)
    result = EvaluationResult(results, where, dict(p.file_sink.sample_paths) if p.file_sink else {})
    if problem is None:
        result.outputs = _outputs(p, where, results["status"])
    samples = _samples_phrase(p)
    at = str(where) if where else "(no output folder)"
    if problem is not None:
        kept = f"results saved to {where} instead" if where else "the results document could not be saved anywhere"
        raise OutputError(f"cannot write results to {p.file_sink.folder if p.file_sink else '?'}: {problem}; "
                          f"{kept}{samples}")
    status, why = results["status"], results.get("status_reason")
    if status == "interrupted":
        log.warning("interrupted: %d finished samples kept; partial results in %s", state.done, at)
        raise RunInterrupted(f"interrupted ({why}): {state.done} finished samples kept; results in {at}",
                             _resume_hint(p), signum=signum, result=result)
    if state.output_error is not None:
        raise OutputError(f"stopped after {state.done} samples: {why}; results in {at}{samples}")
    if state.fatal is not None:
        fatal = state.fatal
        cls = ProviderAuthError if isinstance(fatal, ProviderAuthError) else ProviderError
        partial = f" Partial results: {where}" if where else ""
        raise cls(f"run stopped: {p.redactor.redact(fatal.message)}.{partial}", hint=fatal.hint, kind=fatal.kind,
                  status=fatal.status, provider=fatal.provider, request_id=fatal.request_id)
    if status == "failed":
        failed: type[RunFailedError] = RunFailedError
        if str(why).startswith("judge failures"):
            failed = JudgeFailureRateError
        raise failed(f"run failed: {why}; results in {at}", result=result)
    return result


def _resume_hint(p: Prepared) -> str:
    """What would resume the run: true whether the response cache was on or off."""
    if p.cache is not None:
        return "rerun the same command: the finished answers come from the cache, only the rest is paid for"
    return ("the cache was off, so a rerun pays for every answer again; run with --use_cache next time to keep "
            "them (a rerun then pays only for what is missing)")


def _outputs(p: Prepared, where: Path | None, status: str) -> RunOutputs | None:
    """The report and the uploads, made from the files just written (never raises for their failure)."""
    if p.targets is None or not (p.options.report or p.targets.any):
        return None
    from assay.run.outputs import deliver

    return deliver(where, status, targets=p.targets, report=p.options.report, settings=p.settings,
                   redactor=p.redactor)


def _samples_phrase(p: Prepared) -> str:
    if p.file_sink is None or not p.file_sink.sample_paths:
        return ""
    return "; samples in " + ", ".join(str(path) for path in p.file_sink.sample_paths.values())
