"""A worker's own stage 1: the same tasks, docs, provider and judge as the driver's, but nothing of its own
to write and no limit of its own to keep.

The worker loads the tasks and selects the docs exactly as the driver did (same settings, seed, limit,
offset, few-shot draws), so a shard can name docs by position and every prompt is built as a local run
builds it. Its Model asks the cluster's gate before each attempt (its own pace is off: the gate paces
the cluster) and its cache is the driver's. Preflight, the output files and the sinks stay on the driver.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from assay.cluster.remote import GateLedger, RemoteCache

if TYPE_CHECKING:
    from assay.env.redaction import Redactor
    from assay.env.settings import Settings
    from assay.options import RunOptions
    from assay.run.prepare import Prepared


async def prepare_worker(settings: Settings, options: RunOptions, redactor: Redactor, *, gate: Any,
                         cache_service: Any, worker: str) -> Prepared:
    """A :class:`~assay.run.prepare.Prepared` whose docs are the whole selection (shards pick from it)."""
    import assay.compat  # noqa: F401  (answers `import lmms_eval` for task helpers)
    from assay.judge.setup import JudgeSetup, build_judge, judge_setup, plan_judge
    from assay.model import Model, ModelConfig
    from assay.model.batch.config import batch_config
    from assay.model.cost import PriceBook, split_price_args
    from assay.providers import load_provider_class
    from assay.run.prepare import Prepared, _load_tasks, _warm_up, judge_for_task_code
    from assay.tasks import TaskRegistry

    registry = TaskRegistry.discover(settings, include_paths=list(options.include_paths))
    names = registry.resolve(list(options.tasks))
    configs = {name: registry.config(name) for name in names}
    given_price, model_args = split_price_args(options.model_args)
    _, model_args = batch_config(model_args, False)  # --batch is refused with --ray
    model_config, provider_args = ModelConfig.split_model_args(model_args)
    model_config = replace(model_config, requests_per_minute=None)  # the gate paces the whole cluster
    prices = PriceBook.of(settings)
    judging = plan_judge(settings, options, configs, prices)
    provider = load_provider_class(options.model, settings)(settings, provider_args)
    ledger = GateLedger(gate, worker, options.max_cost)
    cache = RemoteCache(cache_service, redactor.redact) if cache_service is not None else None
    model = Model(provider, model_config, cache=cache,
                  meter=ledger.meter("model", prices.price(provider.model_name, given_price)))
    p = Prepared(settings=settings, options=options, redactor=redactor, registry=registry, names=names,
                 configs=configs, provider=provider, model=model, ledger=ledger, cache=None, tasks={}, docs={},
                 params={}, started_wall=datetime.now(timezone.utc), started=time.monotonic())
    try:
        judge = build_judge(settings, judging, redactor, cache, ledger=ledger)
        judge.configs = {name: replace(config, transport=replace(config.transport, requests_per_minute=None))
                         for name, config in judge.configs.items()}
        p.judging = JudgeSetup(judge)
        with judge_for_task_code(p):  # process_docs runs here too: its judge calls are the run judge's
            await _load_tasks(p)
        p.judging = judge_setup(judge, judging, p.tasks)
        await _warm_up(provider)
    except BaseException:
        await p.aclose()
        raise
    return p
