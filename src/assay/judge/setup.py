"""The judge of one run, built in the prepare stage: nothing is sent, every mistake is found here.

Which tasks are judged: those whose YAML says so (``gpt_eval_model_name``, ``judge_model``, ``judge: …``
in metadata) and lmms-eval tasks whose code talks to a judge although their YAML says nothing — MM-Vet,
MathVista, HallusionBench (:mod:`assay.preflight.judge_code`, the same answer preflight and ``doctor``
use). Their judge's credentials were checked by preflight before the first request; a judge provider
that does not exist is a usage error now, not a judge failure on every sample later.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from assay.errors import UsageError
from assay.judge.config import JudgeConfig, resolve_judge_config, viescore_config
from assay.preflight.judging import task_judge_profile

if TYPE_CHECKING:
    from assay.env.redaction import Redactor
    from assay.env.settings import Settings
    from assay.judge.client import Judge
    from assay.judge.parsers import Parser
    from assay.model import ResponseStore
    from assay.model.cost import CostLedger, PriceBook
    from assay.options import RunOptions
    from assay.providers import ProviderFactory
    from assay.tasks import Task


@dataclass
class JudgeSetup:
    """The run's judge and, per task, whether it is judged and its verdict contract."""

    judge: Judge
    judged: list[str] = field(default_factory=list)
    contracts: dict[str, Parser | None] = field(default_factory=dict)
    #: Some judged task scores synchronously (lmms-eval helpers): route their own HTTP judge calls to the judge.
    intercepts: bool = False

    def contract(self, task: str) -> Parser | None:
        return self.contracts.get(task)

    @property
    def concurrency(self) -> int:
        """How many judgements may be in flight (0 when no task is judged)."""
        if not self.judged:
            return 0
        return max(config.transport.max_concurrency for config in self.judge.configs.values())


def judge_config(options: RunOptions, settings: Settings) -> JudgeConfig:
    """The default judge's configuration (bad ``--judge_args`` fail here, before credentials are checked)."""
    return resolve_judge_config(options.judge_model, options.judge_args, settings)


@dataclass(frozen=True)
class JudgePlan:
    """The run's judging, resolved once from the flags and the task configs (nothing built or sent): the
    judges by profile, the tasks they judge, each judge's provider class, and the run's prices."""

    configs: dict[str, JudgeConfig]
    judged: list[str]
    factories: dict[str, ProviderFactory]
    prices: PriceBook


def plan_judge(settings: Settings, options: RunOptions, configs: Mapping[str, Mapping[str, Any]],
               prices: PriceBook) -> JudgePlan:
    """Which tasks are judged (declared, or found in their code) and by what: an unknown judge provider and,
    under --max_cost, a judge model without a price are usage errors now."""
    from assay.preflight.requirements import needs_judge

    default = judge_config(options, settings)
    if options.predict_only:  # nothing is scored: no judge
        return JudgePlan({"default": default}, [], {}, prices)
    judged = [name for name, config in configs.items() if needs_judge(config)]
    profiles = {task_judge_profile(configs[name]) for name in judged}
    judge_configs = {"default": default}
    if "viescore" in profiles:
        judge_configs["viescore"] = viescore_config(default, settings)
    factories = {profile: _provider_class(judge_configs[profile], settings) for profile in profiles}
    if options.max_cost is not None:
        _check_prices(judge_configs, judged, configs, prices)
    return JudgePlan(judge_configs, judged, factories, prices)


def build_judge(settings: Settings, plan: JudgePlan, redactor: Redactor, cache: ResponseStore | None = None, *,
                ledger: CostLedger | None = None) -> Judge:
    """The run's Judge, before any task is loaded (task code may ask it while its documents are processed);
    its models are built on first use, so nothing is sent or imported for a run that never judges."""
    from assay.judge.client import Judge

    return Judge(settings, plan.configs, cache=cache, redact=redactor.redact, ledger=ledger,
                 factories=plan.factories, prices=plan.prices)


def judge_setup(judge: Judge, plan: JudgePlan, tasks: Mapping[str, Task]) -> JudgeSetup:
    """The per-task facts the execute stage needs, once the tasks are loaded."""
    from assay.judge.contracts import verdict_contract
    from assay.judge.scoring import is_async_scorer

    judged = [name for name in plan.judged if name in tasks]
    contracts = {name: verdict_contract(name, tasks[name].config.metadata, tasks[name].config.process_results)
                 for name in judged}
    return JudgeSetup(judge, judged, contracts, intercepts=any(not is_async_scorer(tasks[n]) for n in judged))


def _check_prices(judges: Mapping[str, JudgeConfig], judged: list[str], configs: Mapping[str, Mapping[str, Any]],
                  prices: PriceBook) -> None:
    """--max_cost holds the judge to the cap too: each judge model a task will use needs a price, now."""
    from assay.judge.scoring import requested_judge_model

    for name in judged:
        config = configs.get(name, {})
        judge = judges[task_judge_profile(config)]
        model = judge.model_for(requested_judge_model(config.get("metadata")))
        if prices.price(model, judge.price) is None:
            raise UsageError(f"--max_cost needs a price for the judge model {model} (task {name}), and none is known",
                             hint="add input_price=…,output_price=… (USD per 1M tokens) to --judge_args, or an "
                                  "entry to the ASSAY_PRICES file")


def _provider_class(config: JudgeConfig, settings: Settings) -> ProviderFactory:
    from assay.providers import PROVIDERS, find_spec, load_provider_class

    if find_spec(config.provider, settings) is None:
        where = "--judge_model" if config.origin == "--judge_model" else config.origin
        raise UsageError(
            f"the judge provider `{config.provider}` ({where}) is not available in this assay",
            hint=f"available: {', '.join(sorted(PROVIDERS))}; e.g. --judge_model openai_compatible "
                 "--judge_args base_url=…,model=…",
        )
    return load_provider_class(config.provider, settings)
