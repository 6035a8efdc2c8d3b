"""evaluate(): tasks -> docs -> requests -> Model -> scores -> results, streaming samples to disk.

A fixed pool of workers (one per allowed concurrent request) pulls (task, doc) pairs, so memory stays
flat however many docs a run has. Every finished sample is written before the next is taken, and the
results document is written even when the run is interrupted or aborted.
"""

from __future__ import annotations

import asyncio
import logging
import platform
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from assay.errors import AssayError, ProviderAuthError, ProviderError, UsageError
from assay.model import Model, ModelConfig
from assay.options import RunOptions
from assay.providers import load_provider_class
from assay.records import sample_record
from assay.results import TaskTally, summarize_groups, summarize_task
from assay.sinks import Sink
from assay.types import Request, Response, SampleError, Usage

if TYPE_CHECKING:
    from assay.credentials import Redactor
    from assay.settings import Settings

log = logging.getLogger("assay.runner")

#: Failures that would repeat for every request: stop the run instead of paying for more.
_FATAL_ALWAYS = {"auth", "quota", "unsupported"}
#: Failures that are fatal while nothing has succeeded yet (a wrong URL or model name).
_FATAL_BEFORE_FIRST_SUCCESS = {"connection", "not_found"}


class Progress(Protocol):
    def start(self, totals: dict[str, int]) -> None: ...

    def advance(self, task: str, *, error: bool) -> None: ...

    def stop(self) -> None: ...


@dataclass
class EvaluationResult:
    """The results document plus where it and the samples were written."""

    results: dict[str, Any]
    results_path: Path | None = None
    sample_paths: dict[str, Path] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        return self.results[key]


@dataclass
class _RunState:
    tallies: dict[str, TaskTally]
    successes: int = 0
    fatal: ProviderError | None = None


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version(), "platform": platform.platform()}
    for dist in ("assay", "aiohttp", "pydantic", "datasets", "llama-cpp-python"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            continue
    return out


async def run_evaluation(
    settings: Settings,
    options: RunOptions,
    redactor: Redactor,
    *,
    progress: Progress | None = None,
    extra_sinks: tuple[Sink, ...] = (),
    from_command_line: bool = True,
) -> EvaluationResult:
    from assay.cache import ResponseCache, default_cache_path
    from assay.plan import plan_from_flags
    from assay.preflight import preflight
    from assay.sinks.files import FileSink
    from assay.tasks import TaskRegistry

    started_wall, started = datetime.now(timezone.utc), time.monotonic()
    registry = TaskRegistry.discover(settings, include_paths=list(options.include_paths))
    names = registry.resolve(list(options.tasks))
    configs = {name: registry.config(name) for name in names}
    model_config, provider_args = ModelConfig.split_model_args(options.model_args)  # bad args before credentials
    plan = plan_from_flags(options.model, options.model_args, configs, options.wandb_args, options.hub_args,
                           redactor, warn_command_line=from_command_line, settings=settings)
    preflight(plan, settings)  # every credential checked before the first request
    for flag, given in (("--wandb_args", options.wandb_args), ("--hf_hub_log_args", options.hub_args)):
        if given is not None:  # checked above, but said plainly: nothing is uploaded yet
            log.warning("%s: uploading is not built yet; results stay in the local files",
                        flag)

    provider = load_provider_class(options.model, settings)(settings, provider_args)
    use_cache = settings.use_cache if options.use_cache is None else options.use_cache
    cache = ResponseCache(default_cache_path(settings)) if use_cache else None  # a bad file fails here, unpaid
    model = Model(provider, model_config, cache=cache)
    try:
        tasks = {name: registry.load(name, settings=settings, model_name=options.model) for name in names}
        shuffle_seed = options.seed if settings.shuffle_docs else None
        docs = {name: task.doc_items(limit=options.doc_limit, offset=options.offset, shuffle_seed=shuffle_seed)
                for name, task in tasks.items()}
        params = {name: task.generation_params(options.gen_kwargs or None) for name, task in tasks.items()}
        if not provider.accepts_media:
            _refuse_media_tasks(provider.model_name, tasks, docs)
        state = _RunState({name: TaskTally(total=len(d)) for name, d in docs.items()})

        sinks: list[Sink] = list(extra_sinks)
        file_sink = None
        if options.output_path is not None:
            file_sink = FileSink(options.output_path, provider.model_name, started_wall.strftime("%Y%m%d_%H%M%S"),
                                 log_samples=options.log_samples, redact=redactor.redact)
            sinks.insert(0, file_sink)
        run_info = {"model": options.model, "model_name": provider.model_name, "tasks": names}
        for sink in sinks:
            sink.start(run_info, names)
        if progress is not None:
            progress.start({name: len(d) for name, d in docs.items()})

        items: Iterator[tuple[str, int, dict[str, Any]]] = (
            (name, doc_id, doc) for name, task_docs in docs.items() for doc_id, doc in task_docs
        )

        async def process(name: str, doc_id: int, doc: dict[str, Any]) -> None:
            task = tasks[name]
            t0 = time.perf_counter()
            response: Response | None = None
            error: SampleError | None = None
            scores: dict[str, Any] | None = None
            target: Any = None
            request = Request(messages=(), params=params[name], task=name, doc_id=doc_id)
            try:
                target = task.target(doc)
                # Image/video encoding would stall every in-flight request if done on the event loop
                # (bench/throughput.py --task assay_colors: 783 -> 1045 dispatches/s with the thread).
                messages = await asyncio.to_thread(task.messages, doc) if task.may_have_media else task.messages(doc)
                request = Request(messages=messages, params=params[name], task=name, doc_id=doc_id)
                response = await model.generate(request)
                state.successes += 1
            except ProviderError as exc:
                error = SampleError(exc.kind, redactor.redact(exc.message), exc.status, exc.attempts)
                if exc.kind in _FATAL_ALWAYS or (exc.kind in _FATAL_BEFORE_FIRST_SUCCESS and not state.successes):
                    state.fatal = state.fatal or exc
            except AssayError as exc:
                error = SampleError("prompt", redactor.redact(exc.message))
            except Exception as exc:  # a bug in a task function or provider: recorded, the run goes on
                log.debug("sample %s/%s failed", name, doc_id, exc_info=True)
                error = SampleError("internal", redactor.redact(f"{type(exc).__name__}: {exc}"))
            if response is not None and not options.predict_only:
                try:
                    scores = task.score(doc, response.text)
                except Exception as exc:
                    log.debug("scoring %s/%s failed", name, doc_id, exc_info=True)
                    error = SampleError("scoring", redactor.redact(f"{type(exc).__name__}: {exc}"))
                    scores = None
            state.tallies[name].add(scores, error, response.usage if response else Usage(),
                                    bool(response and response.cached))
            record = sample_record(task=name, doc_id=doc_id, doc=doc, target=target, request=request,
                                   response=response, error=error, scores=scores,
                                   latency_s=time.perf_counter() - t0)
            for sink in sinks:
                sink.sample(name, record)
            if progress is not None:
                progress.advance(name, error=error is not None)

        async def worker() -> None:
            for name, doc_id, doc in items:
                if state.fatal is not None:
                    return
                await process(name, doc_id, doc)

        status = "interrupted"
        try:
            await asyncio.gather(*(worker() for _ in range(model.config.max_concurrency)))
            status = "aborted" if state.fatal else "complete"
        finally:
            if progress is not None:
                progress.stop()
            wall = time.monotonic() - started
            done = sum(t.done for t in state.tallies.values())
            results: dict[str, Any] = {
                "status": status,
                "config": redactor.redact_obj({
                    "model": options.model, "model_args": options.model_args, "tasks": names,
                    "limit": options.limit, "offset": options.offset, "seed": options.seed,
                    "gen_kwargs": options.gen_kwargs, "batch_size": options.batch_size,
                    "log_samples": options.log_samples, "predict_only": options.predict_only,
                    "bootstrap_iters": options.bootstrap_iters,
                    "shuffle_docs": settings.shuffle_docs,
                }),
                # The identity under its own key: its "provider" (the vendor) must not replace --model's name.
                "model": {"name": provider.model_name, "provider": options.model, "identity": provider.identity()},
                "results": {name: summarize_task(tasks[name], state.tallies[name],
                                                 bootstrap_iters=options.bootstrap_iters, seed=options.seed,
                                                 alias=configs[name].get("task_alias"))
                            for name in names if not options.predict_only},
                "groups": {},
                "n_samples": {name: t.total for name, t in state.tallies.items()},
                "usage": _usage_totals(state),
                "model_stats": {"requests": model.stats.requests, "retries": model.stats.retries,
                                "failures": model.stats.failures, "cache_hits": model.stats.cache_hits},
                "timing": _timing(started_wall, started, wall, model),
                "throughput": {
                    "samples_per_s": round(done / wall, 3) if wall else None,
                    "requests_per_s": round(model.stats.requests / wall, 3) if wall else None,
                },
                "versions": _versions(),
                "configs": redactor.redact_obj(configs),
            }
            if not options.predict_only:
                results["groups"] = summarize_groups(registry.groups_for(names), results["results"])
            for sink in sinks:
                try:
                    sink.finish(results)
                except Exception:  # one broken sink must not cost the others their results
                    log.warning("a results sink failed", exc_info=True)
            if status == "interrupted" and file_sink is not None:
                log.warning("interrupted: %d finished samples kept; partial results in %s", done,
                            file_sink.results_path)
    finally:
        if cache is not None:  # no worker is left running here: every put has returned
            cache.close()
        await model.aclose()
    if state.fatal is not None:
        where = f" Partial results: {file_sink.results_path}" if file_sink else ""
        fatal = state.fatal
        cls = ProviderAuthError if isinstance(fatal, ProviderAuthError) else ProviderError
        raise cls(f"run stopped: {redactor.redact(fatal.message)}.{where}", hint=fatal.hint, kind=fatal.kind,
                  status=fatal.status, provider=fatal.provider)
    return EvaluationResult(results, file_sink.results_path if file_sink else None,
                            dict(file_sink.sample_paths) if file_sink else {})


def _refuse_media_tasks(model_name: str, tasks: dict[str, Any], docs: dict[str, Any]) -> None:
    """A text-only model and an image task: say so before the first request, not halfway through.
    The first doc of each task stands for the task; a doc that fails to build is left to its sample."""

    def sends_media(name: str) -> bool:
        if not tasks[name].may_have_media or not docs[name]:
            return False
        try:
            return any(m.has_media() for m in tasks[name].messages(docs[name][0][1]))
        except AssayError:
            return False

    with_media = [name for name in docs if sends_media(name)]
    if with_media:
        text_only = [name for name in tasks if name not in with_media]
        suggestion = f"--tasks {','.join(text_only)}" if text_only else "a text-only task such as assay_arith_mc"
        raise UsageError(
            f"{model_name} is a text-only model, but {', '.join(with_media)} "
            f"send{'s' if len(with_media) == 1 else ''} images or video",
            hint=f"run {suggestion}, or use a model that sees images (e.g. --model openai)",
        )


def _usage_totals(state: _RunState) -> dict[str, Any]:
    """Tokens this run paid for; answers served from the cache are counted apart."""
    paid, cached = Usage(), Usage()
    for tally in state.tallies.values():
        paid, cached = paid + tally.usage, cached + tally.cached_usage
    return {"input_tokens": paid.input_tokens, "output_tokens": paid.output_tokens,
            "from_cache": {"input_tokens": cached.input_tokens, "output_tokens": cached.output_tokens}}


def _timing(started_wall: datetime, started: float, wall: float, model: Model) -> dict[str, Any]:
    first = model.stats.first_request_at
    return {
        "started_at": started_wall.isoformat(),
        "finished_at": datetime.now(timezone.utc).isoformat(),
        "wall_s": round(wall, 4),
        "time_to_first_request_s": round(first - started, 4) if first is not None else None,
    }
