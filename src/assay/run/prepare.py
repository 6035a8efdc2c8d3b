"""Stage 1 of a run: everything that can fail before the first paid request fails here.

Tasks are resolved and loaded, credentials checked (preflight), the provider, cache and model built,
docs selected, and the output folder proven writable. Nothing is sent; an error here costs nothing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from assay.errors import AssayError, ConfigError, ProviderError, UsageError
from assay.run.taskcode import call_task_code, contained

if TYPE_CHECKING:
    from assay.env.redaction import Redactor
    from assay.env.settings import Settings
    from assay.judge.setup import JudgeSetup
    from assay.model import Model
    from assay.model.batch.config import BatchConfig
    from assay.model.batch.runner import BatchRunner
    from assay.model.cache import ResponseCache
    from assay.model.cost import CostLedger, Price
    from assay.model.estimate.requests import RunTally
    from assay.options import RunOptions
    from assay.providers.base import Provider
    from assay.run.runplan import RunPlan
    from assay.sinks import Sink
    from assay.sinks.files import FileSink
    from assay.sinks.media import MediaStore
    from assay.sinks.remote import RemoteTargets
    from assay.tasks import Task, TaskRegistry
    from assay.tasks.task import RunSettings
    from assay.types import GenerationParams

log = logging.getLogger("assay.run")


@dataclass
class Prepared:
    """A run ready to execute: nothing has been sent yet."""

    settings: Settings
    options: RunOptions
    redactor: Redactor
    registry: TaskRegistry
    names: list[str]
    configs: dict[str, dict[str, Any]]
    provider: Provider
    model: Model
    cache: ResponseCache | None
    #: What the run costs, model and judge apart, and its --max_cost cap.
    ledger: CostLedger
    tasks: dict[str, Task]
    docs: dict[str, Sequence[tuple[int, dict[str, Any]]]]  # local files: read doc by doc as taken
    params: dict[str, GenerationParams]
    started_wall: datetime
    started: float
    sinks: list[Sink] = field(default_factory=list)
    file_sink: FileSink | None = None
    targets: RemoteTargets | None = None  # where the run is uploaded after its files are written
    media: MediaStore | None = None  # --log_media: thumbnails of the images the run sent
    #: The run's judge and which tasks it judges (set once the tasks are loaded).
    judging: JudgeSetup | None = None
    #: The model's price (at the batch rate for a batch run), and what the run's prompts were counted to cost.
    price: Price | None = None
    tally: RunTally | None = None
    #: --batch: the model's requests go through the vendor's batch API (None: one request at a time).
    batch: BatchConfig | None = None
    #: The judge's requests through its vendor's batch API too (--batch, or batch=true in --judge_args).
    judge_batch: BatchConfig | None = None
    #: The batches this run submitted or resumed (model first, then judge).
    batch_runners: list[BatchRunner] = field(default_factory=list)
    #: What the run touches and needs, resolved once (tasks, model, judge, sinks, prices, credentials).
    plan: RunPlan | None = None

    @property
    def total_docs(self) -> int:
        return sum(len(d) for d in self.docs.values())

    async def aclose(self) -> None:
        """Release the model's connections and the cache (every worker has returned by now)."""
        try:
            await self.model.aclose()
            if self.judging is not None:
                await self.judging.judge.aclose()
        finally:
            if self.cache is not None:
                self.cache.close()


async def prepare(
    settings: Settings,
    options: RunOptions,
    redactor: Redactor,
    *,
    extra_sinks: tuple[Sink, ...] = (),
    from_command_line: bool = True,
) -> Prepared:
    from assay.judge.setup import JudgeSetup, build_judge, judge_setup
    from assay.model import Model
    from assay.model.cost import CostLedger
    from assay.model.foreign import build_provider
    from assay.providers.base import accepts_audio
    from assay.run.runplan import build_plan

    started_wall, started = datetime.now(timezone.utc), time.monotonic()
    import assay.compat  # noqa: F401  (answers `import lmms_eval` for task helpers)

    plan = await build_plan(settings, options, redactor, from_command_line=from_command_line)
    options, batch = plan.options, plan.model.batch
    provider = build_provider(plan.model.factory, settings, plan.model.provider_args)
    if batch is not None:
        from assay.model.batch.runner import refuse_without_batch_api

        refuse_without_batch_api(provider)
    use_cache = settings.use_cache if options.use_cache is None else options.use_cache
    price = plan.prices.price(provider.model_name, plan.model.given_price)
    if batch is not None and price is not None:
        price = price.at_batch_rate()
    if options.max_cost is not None and price is None:
        raise UsageError(f"--max_cost needs a price for {provider.model_name}, and none is known",
                         hint="add input_price=…,output_price=… (USD per 1M tokens) to --model_args, or an "
                              "entry to the ASSAY_PRICES file")
    ledger = CostLedger(options.max_cost)
    # A bad file fails here, unpaid; answers are redacted before they are stored.
    cache = None
    if use_cache:
        from assay.model.cache import ResponseCache, default_cache_path  # sqlite3 only for a run that caches

        cache = ResponseCache(options.cache_path or default_cache_path(settings), redact=redactor.redact)
    prepared = Prepared(
        settings=settings, options=options, redactor=redactor, registry=plan.registry, names=plan.names,
        configs=plan.configs, provider=provider,
        model=Model(provider, plan.model.config, cache=cache, meter=ledger.meter("model", price)),
        ledger=ledger, cache=cache, tasks={}, docs={}, params={}, started_wall=started_wall, started=started,
        targets=plan.targets, price=price, batch=batch, plan=plan,
        judge_batch=plan.judge_batch,
    )
    try:
        prepared.judging = JudgeSetup(build_judge(settings, plan.judge, redactor, cache, ledger=ledger))
        with judge_for_task_code(prepared):
            await _load_tasks(prepared)
            _refuse_loglikelihood_tasks(prepared)
            prepared.judging = judge_setup(prepared.judging.judge, plan.judge, prepared.tasks)
            if not provider.accepts_media or not accepts_audio(provider):
                _refuse_media_tasks(provider, prepared)
            await _warm_up(provider)
            await _count_before_paying(prepared)
        if not options.dry_run:
            _open_sinks(prepared, extra_sinks)
    except BaseException:
        await prepared.aclose()
        raise
    return prepared


@contextmanager
def judge_for_task_code(p: Prepared) -> Iterator[None]:
    """Task code that runs before the first sample — ``process_docs`` rewriting questions with a GPT call, a
    prompt built with one, counted for --max_cost or --dry_run — reaches the run's judge as it does while
    scoring: its own ``requests``/``openai`` calls are answered by the judge (counted among the judgements
    outside any sample), never sent to the address and key the helper read from the environment. In a dry run
    the judge is not asked either (:mod:`assay.judge.unsent`): nothing is sent, nothing is paid."""
    from assay.judge import intercept
    from assay.judge.runtime import current_judge
    from assay.model.context import RunContext, current_run

    assert p.judging is not None
    judge = p.judging.judge
    if p.options.dry_run:
        from assay.judge.unsent import UnsentJudge

        judge = UnsentJudge(judge)
    run_token = current_run.set(RunContext(loop=asyncio.get_running_loop(), model=p.model, settings=p.settings,
                                           redactor=p.redactor, services={"cost": p.ledger, "judge": judge}))
    judge_token = current_judge.set(judge)
    intercept.install()
    try:
        yield
    except AssayError as exc:  # task code that fell over on a failed judgement: say which judgement
        failed = judge.loose.failure()
        if failed is not None:
            exc.hint = (f"a judge call made by the task's code failed ({failed.reason}: "
                        f"{p.redactor.redact(failed.detail)}); {exc.hint}")
        raise
    finally:
        intercept.uninstall()
        if p.options.dry_run and judge.loose:
            log.warning("the tasks' own code asked a judge %d time(s) while its documents and prompts were "
                        "prepared; a dry run sends nothing, so the estimate counts what that code built without "
                        "an answer", len(judge.loose.entries))
        current_judge.reset(judge_token)
        current_run.reset(run_token)


async def _warm_up(provider: Provider) -> None:
    """A provider that loads something first (the embedded model's weights) does it now: a file that cannot
    be loaded is bad input, said before any output file exists or anything is sent."""
    from assay.providers.base import WarmsUp

    if not isinstance(provider, WarmsUp):
        return
    try:
        await provider.warm_up()
    except ProviderError as exc:
        raise ConfigError(exc.message, hint=exc.hint) from None


async def _count_before_paying(p: Prepared) -> None:
    """A dry run counts every doc; so does a run with --max_cost, refused now if even its estimated minimum
    is over the cap; a batch run counts its prompts as it builds its batches. Other runs count nothing: the
    tokenizer's start-up and the count per doc would slow the first request and the dispatch rate."""
    from assay.run.estimate import count_every_doc, new_tally, refuse_over_cap

    if not (p.options.dry_run or p.options.max_cost is not None or p.batch is not None):
        return
    p.tally = new_tally(p)
    if p.options.dry_run or p.options.max_cost is not None:
        await count_every_doc(p)
    if not p.options.dry_run:
        refuse_over_cap(p)


def task_run_settings(options: RunOptions) -> RunSettings:
    """What lmms-eval's command-line flags change about every task."""
    from assay.tasks.task import RunSettings

    return RunSettings(num_fewshot=options.num_fewshot, fewshot_seed=options.fewshot_seed,
                       system_instruction=options.system_instruction, reasoning_tags=options.reasoning_tags,
                       repeats=options.repeats, **({} if options.num_frames is None else
                                                   {"num_frames": options.num_frames}))


async def _load_tasks(p: Prepared) -> None:
    """Import each task's code and select its docs, in a worker thread: a task module may exit at import."""
    from assay.compat.seeding import seed_numpy_if_imported, seed_task_code

    # As lmms-eval, before any task. numpy is seeded only for task code that is not assay's own, once that
    # code has imported it (before its documents are processed): the built-in tasks never draw from it.
    foreign = any(p.registry.task_entry(name).source != "builtin" for name in p.names)
    numpy_seed = p.options.numpy_seed if foreign else None
    numpy_seeded = seed_task_code(p.options.seed, numpy_seed, p.options.torch_seed)
    shuffle_seed = p.options.seed if p.settings.shuffle_docs else None
    run = task_run_settings(p.options)
    for name in p.names:
        task = await call_task_code(name, "loading the task", p.registry.load, name, settings=p.settings,
                                    model_name=p.options.model, run=run)
        for notice in task.config.notices:
            log.warning("%s", notice)
        numpy_seeded = numpy_seeded or seed_numpy_if_imported(numpy_seed)
        p.tasks[name] = task
        p.docs[name] = await call_task_code(name, "loading its documents", task.doc_items,
                                            limit=p.options.doc_limit, offset=p.options.offset,
                                            shuffle_seed=shuffle_seed)
        p.params[name] = task.generation_params(p.options.gen_kwargs or None)


def _open_sinks(p: Prepared, extra_sinks: tuple[Sink, ...]) -> None:
    """The files sink first (its folder proven writable now, before anything is paid), then the others."""
    from assay.sinks.files import FileSink

    p.sinks = list(extra_sinks)
    if p.options.output_path is not None:
        p.file_sink = FileSink(p.options.output_path, p.provider.model_name,
                               p.started_wall.strftime("%Y%m%d_%H%M%S"),
                               log_samples=p.options.log_samples, redact=p.redactor.redact,
                               may_change=p.redactor.may_change)
        p.sinks.insert(0, p.file_sink)
    run_info = {"model": p.options.model, "model_name": p.provider.model_name, "tasks": p.names}
    for sink in p.sinks:
        sink.start(run_info, p.names)
    if p.options.log_media and p.file_sink is not None:  # named after the run id the files sink settled on
        from assay.sinks.media import MediaStore, media_dir_name

        p.media = MediaStore(p.file_sink.folder / media_dir_name(p.file_sink.run_id))


def _refuse_loglikelihood_tasks(p: Prepared) -> None:
    """``multiple_choice`` tasks need log-likelihoods (of image/video contexts, for image tasks): a provider
    that cannot give them is refused now, before anything is paid."""
    from assay.providers.base import loglikelihood_accepts_media, supports_loglikelihood

    needing = [name for name in p.names if p.tasks[name].output_type == "multiple_choice"]
    if not needing:
        return
    others = [name for name in p.names if name not in needing]
    drop = f", or drop them: --tasks {','.join(others)}" if others else ""
    if not supports_loglikelihood(p.provider):
        raise UsageError(
            f"{', '.join(needing)} {'is a' if len(needing) == 1 else 'are'} multiple_choice task"
            f"{'' if len(needing) == 1 else 's'} (scored by log-likelihood), which --model {p.options.model} "
            "cannot give",
            hint="run them with a model that can (--model local, or openai_compatible against a server with "
                 "completions echo+logprobs)" + drop,
        )
    if loglikelihood_accepts_media(p.provider):
        return
    with_media = [name for name in needing if _first_context_has_media(p, name)]
    if with_media:
        raise UsageError(f"{', '.join(with_media)}: multiple_choice with images or video, which --model "
                         f"{p.options.model} can score only for text", hint="use a generation variant of the task"
                         + drop)


def _first_context_has_media(p: Prepared, name: str) -> bool:
    task, docs = p.tasks[name], p.docs[name]
    if not task.may_have_media or not docs:
        return False
    try:
        work = contained(name, "building a prompt", task.work, docs[0][0], docs[0][1], p.params[name])
    except AssayError:
        return False
    return any(r.has_media() for r in work.loglikelihood)


def _refuse_media_tasks(provider: Provider, p: Prepared) -> None:
    """A model that cannot take what a task sends (images, video, audio): say so before the first request,
    not halfway through. The first doc of each task stands for the task; a doc that fails to build is left
    to its sample."""
    from assay.providers.base import accepts_audio

    def refused(name: str) -> str | None:
        task, docs = p.tasks[name], p.docs[name]
        if not task.may_have_media or not docs:
            return None
        try:
            messages = contained(name, "building a prompt", task.messages, docs[0][1], docs[0][0])
        except AssayError:
            return None
        if any(m.has_audio() for m in messages) and not accepts_audio(provider):
            return "audio"
        if any(m.has_media() and not m.has_audio() for m in messages) and not provider.accepts_media:
            return "images or video"
        return None

    sends = {name: kind for name in p.names if (kind := refused(name)) is not None}
    if not sends:
        return
    kinds = sorted(set(sends.values()))
    others = [name for name in p.names if name not in sends]
    suggestion = f"--tasks {','.join(others)}" if others else "a text-only task such as assay_arith_mc"
    takes = "a text-only model" if not provider.accepts_media else "a model that takes no audio"
    model = "(--model openai with an audio model, gemini, or openai_compatible serving an audio model)" \
        if "audio" in kinds else "(e.g. --model openai)"
    raise UsageError(
        f"{provider.model_name} is {takes}, but {', '.join(sends)} send{'s' if len(sends) == 1 else ''} "
        f"{' and '.join(kinds)}",
        hint=f"run {suggestion}, or use a model that takes {' and '.join(kinds)} {model}",
    )
