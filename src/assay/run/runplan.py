"""The run's plan, built once at the start of the prepare stage and read by every stage after it.

What the run will touch — its tasks and their configs, the model (provider class, arguments, transport,
price), the judge (which tasks, which judges, their provider classes), the sinks (W&B, Hub) — and every
credential that needs (preflight, checked once, here). The stages read the plan instead of asking the
task registry, preflight, judge setup, the provider registry and the price table again: the
``ASSAY_PRICES`` file is read once, each provider class is looked up once, preflight runs once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assay.env.redaction import Redactor
    from assay.env.settings import Settings
    from assay.judge.setup import JudgePlan
    from assay.model import ModelConfig
    from assay.model.batch.config import BatchConfig
    from assay.model.cost import Price, PriceBook
    from assay.options import RunOptions
    from assay.preflight.plan import Plan
    from assay.providers import ProviderFactory
    from assay.sinks.remote import RemoteTargets
    from assay.tasks import TaskRegistry

log = logging.getLogger("assay.run")


@dataclass(frozen=True)
class ModelPlan:
    """The model under test, resolved but not built: its provider class and arguments, the wrapper's
    transport settings, the price given in --model_args, and --batch."""

    factory: ProviderFactory
    provider_args: dict[str, Any]
    config: ModelConfig
    given_price: Price | None
    batch: BatchConfig | None


@dataclass(frozen=True)
class RunPlan:
    options: RunOptions  # --model and --model_args resolved (lmms-eval's names mapped)
    registry: TaskRegistry
    names: list[str]
    configs: dict[str, dict[str, Any]]
    #: What needs which credential (preflight's view); every one was checked when the plan was built.
    credentials: Plan
    model: ModelPlan
    judge: JudgePlan
    targets: RemoteTargets
    prices: PriceBook
    #: The judge's requests through its vendor's batch API too (--batch, or batch=true in --judge_args).
    judge_batch: BatchConfig | None = None


async def build_plan(settings: Settings, options: RunOptions, redactor: Redactor, *,
                     from_command_line: bool = True) -> RunPlan:
    """Resolve everything the run will touch and check every credential it needs: nothing is sent, except
    the W&B / Hub key checks a run with those sinks makes (a refused key fails now, unpaid)."""
    from assay.judge.setup import plan_judge
    from assay.model import ModelConfig
    from assay.model.batch.config import batch_config
    from assay.model.cost import PriceBook, split_price_args
    from assay.preflight.plan import plan_from_flags
    from assay.preflight.requirements import preflight
    from assay.providers import load_provider_class
    from assay.sinks.remote import RemoteTargets, check_credentials, check_targets
    from assay.tasks import TaskRegistry

    options = resolved_model_options(options, settings)  # lmms-eval names and arguments, checked before anything
    judge_batch, judge_args = batch_config(options.judge_args, options.batch, flag="--judge_args")
    options = replace(options, judge_args=judge_args)
    registry = TaskRegistry.discover(settings, include_paths=list(options.include_paths))
    names = registry.resolve(list(options.tasks))
    configs = {name: registry.config(name) for name in names}
    given_price, model_args = split_price_args(options.model_args)
    batch, model_args = batch_config(model_args, options.batch)
    model_config, provider_args = ModelConfig.split_model_args(model_args)  # bad args before credentials
    prices = PriceBook.of(settings)
    judge = plan_judge(settings, options, configs, prices)  # bad --judge_args before credentials too
    credentials = plan_from_flags(options.model, options.model_args, configs, options.wandb_args,
                                  options.hub_args, redactor, warn_command_line=from_command_line,
                                  settings=settings, judge_model=options.judge_model,
                                  judge_args=options.judge_args)
    credentials.scoring = not options.predict_only
    preflight(credentials, settings)  # every credential, the judge's included, before the first request
    targets = RemoteTargets(credentials.wandb_args, credentials.hub_args, wandb_log_samples=options.wandb_log_samples)
    if targets.any:
        check_targets(targets, settings)
        if not options.dry_run:  # a dry run sends nothing anywhere
            await check_credentials(targets, settings)
    model = ModelPlan(load_provider_class(options.model, settings), provider_args, model_config, given_price, batch)
    return RunPlan(options, registry, names, configs, credentials, model, judge, targets, prices, judge_batch)


def resolved_model_options(options: RunOptions, settings: Settings) -> RunOptions:
    """The options with ``--model``/``--model_args`` resolved (lmms-eval's names mapped, every argument checked
    against the provider's schema, lmms-eval-only ones said once and dropped)."""
    from dataclasses import replace

    from assay.model.args import resolve_model

    resolved = resolve_model(options.model, options.model_args, settings)
    for notice in resolved.notices:
        log.warning("%s", notice)
    frames = resolved.num_frames if resolved.num_frames is not None else options.num_frames
    return replace(options, model=resolved.provider, model_args=resolved.args, num_frames=frames)
