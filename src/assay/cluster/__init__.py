"""``--ray``: the same run, sharded over a Ray cluster.

The driver (this process) keeps everything that makes a run trustworthy: preflight, the plan, the output
files (one writer), status and exit codes, signals, aggregation. The run's limits are the cluster's:
``num_concurrent``, ``rpm`` and ``--max_cost`` are held by one gate actor on the driver's node, and the
response cache is the driver's (:mod:`assay.cluster.services`). Workers — one per CPU of the cluster —
load the same tasks and docs, and run shards of docs through the local execute stage: prompts and media
decoding, the Model wrapper, scoring and the judge (:mod:`assay.cluster.worker`). Credentials reach them
sealed for each worker's own key (:mod:`assay.cluster.sealed`).

Only imported when ``--ray`` is given: without it, nothing about Ray is loaded.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from assay.errors import AssayError, UsageError

if TYPE_CHECKING:
    from assay.cluster.actors import Worker
    from assay.env.redaction import Redactor
    from assay.env.settings import Settings
    from assay.options import RunOptions
    from assay.run import EvaluationResult, Progress, RunControl
    from assay.run.execute import Ending, RunState
    from assay.run.prepare import Prepared
    from assay.sinks import Sink

__all__ = ["cluster_address", "run_on_cluster", "sweep"]

log = logging.getLogger("assay.cluster")


def cluster_address(options: RunOptions, settings: Settings) -> str:
    """``--ray ADDRESS``, else ``RAY_ADDRESS`` (settings), else ``auto``."""
    return options.ray or settings.ray_address or "auto"


async def run_on_cluster(
    settings: Settings,
    options: RunOptions,
    redactor: Redactor,
    *,
    progress: Progress | None = None,
    extra_sinks: tuple[Sink, ...] = (),
    from_command_line: bool = True,
    control: RunControl | None = None,
) -> EvaluationResult:
    """:func:`assay.run.run_evaluation` with the execute stage on the cluster (one worker per CPU)."""
    from assay.cluster import actors

    _refuse_unsupported(options)
    _learn_secrets(options, redactor)
    joined = actors.connect(cluster_address(options, settings), redactor)
    try:
        return await _run(settings, options, redactor, actors.cluster_cpus(), progress=progress,
                          extra_sinks=extra_sinks, from_command_line=from_command_line, control=control)
    finally:
        if joined:
            actors.disconnect()


async def sweep(runs: Sequence[tuple[Settings, RunOptions]], redactor: Redactor, *,
                control: RunControl | None = None) -> list[EvaluationResult | AssayError]:
    """Several runs (models, checkpoints, task sets) over one cluster at once, each with its own results
    document, gate, cache actor and workers. The cluster's CPUs are shared out: at most one run per CPU at a
    time, each with an equal share of workers; the others wait their turn. Returns each run's result, or the
    AssayError it ended with (a failed run does not stop the others)."""
    from assay.cluster import actors

    if not runs:
        return []
    for _, options in runs:
        _refuse_unsupported(options)
        _learn_secrets(options, redactor)
    joined = actors.connect(cluster_address(runs[0][1], runs[0][0]), redactor)
    try:
        cpus = actors.cluster_cpus()
        at_once = max(1, min(len(runs), cpus))
        turns = asyncio.Semaphore(at_once)

        async def one(settings: Settings, options: RunOptions) -> EvaluationResult | AssayError:
            async with turns:
                try:
                    return await _run(settings, options, redactor, max(1, cpus // at_once), progress=None,
                                      extra_sinks=(), from_command_line=False, control=control)
                except AssayError as exc:
                    return exc

        return list(await asyncio.gather(*(one(settings, options) for settings, options in runs)))
    finally:
        if joined:
            actors.disconnect()


def _refuse_unsupported(options: RunOptions) -> None:
    if options.batch:
        raise UsageError("--batch cannot be used with --ray: a vendor's batch API already runs the requests "
                         "on its side, there is nothing to shard", hint="drop --ray (or --batch)")
    if options.log_media:
        raise UsageError("--log_media cannot be used with --ray yet (thumbnails are made where the media is "
                         "decoded, on the workers)", hint="drop --log_media, or run without --ray")


def _learn_secrets(options: RunOptions, redactor: Redactor) -> None:
    """Secret-looking argument values (``api_key=…``) join the redactor before anything reaches Ray (the
    driver's preflight would add them too, but the workers start first and take the redactor with them)."""
    for flag, args in (("--model_args", options.model_args), ("--judge_args", options.judge_args),
                       ("--wandb_args", options.wandb_args), ("--hf_hub_log_args", options.hub_args)):
        if args:
            redactor.add_args(args, flag)


async def _run(settings: Settings, options: RunOptions, redactor: Redactor, count: int, *,
               progress: Progress | None, extra_sinks: tuple[Sink, ...], from_command_line: bool,
               control: RunControl | None) -> EvaluationResult:
    """One run on the joined cluster: its gate and cache actors, ``count`` workers, then the run itself."""
    from assay.cluster import actors
    from assay.model.cache import default_cache_path
    from assay.run import run_evaluation

    if count < 1:
        raise UsageError("the Ray cluster has no CPU for a worker", hint="start a node with --num-cpus 1 or more")
    services: list[Any] = []
    workers: list[Worker] = []
    try:
        gate = actors.start_gate(options.max_cost, _limits(options, settings))
        services.append(gate)
        use_cache = settings.use_cache if options.use_cache is None else options.use_cache
        path = options.cache_path or default_cache_path(settings)
        cache = actors.start_cache(str(path)) if use_cache else None
        if cache is not None:
            services.append(cache)
        workers = await actors.start_workers(count, settings, options, redactor, gate=gate, cache=cache)
        return await run_evaluation(settings, options, redactor, progress=progress, extra_sinks=extra_sinks,
                                    from_command_line=from_command_line, control=control,
                                    execute_stage=_ClusterStage(workers, gate))
    finally:
        actors.stop_actors([w.handle for w in workers] + services)


def _limits(options: RunOptions, settings: Settings) -> dict[str, Any]:
    """The model's and the judge's limits for the whole cluster, from the run's own arguments."""
    from assay.cluster.services import RoleLimits
    from assay.judge.setup import judge_config
    from assay.model import ModelConfig
    from assay.model.batch.config import batch_config
    from assay.model.cost import split_price_args

    model, _ = ModelConfig.split_model_args(batch_config(split_price_args(options.model_args)[1], False)[1])
    judge = judge_config(options, settings).transport
    return {"model": RoleLimits(model.max_concurrency, model.requests_per_minute),
            "judge": RoleLimits(judge.max_concurrency, judge.requests_per_minute)}


class _ClusterStage:
    """The execute stage :func:`assay.run.run_evaluation` calls: the docs go to the workers."""

    def __init__(self, workers: list[Worker], gate: Any) -> None:
        self.workers, self.gate = workers, gate

    async def __call__(self, p: Prepared, state: RunState, *, progress: Progress | None = None,
                       control: RunControl | None = None) -> Ending:
        from assay.cluster.dispatch import Dispatcher
        from assay.cluster.services import merge_report
        if progress is not None:
            progress.start({name: len(d) for name, d in p.docs.items()})
        from assay.cluster.actors import stop_actors

        try:
            return await Dispatcher(p, state, self.workers, gate=self.gate, progress=progress).run(control)
        finally:
            stop_actors([w.handle for w in self.workers])  # requests in flight are abandoned, as locally
            if progress is not None:
                progress.stop()
            try:
                merge_report(p.ledger, await self.gate.report.remote())
            except Exception as exc:  # the cost shown is then the driver's own (nothing): say so
                log.warning("the cluster's cost account could not be read: %s", exc)
