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
    from assay.model.cost import CostLedger
    from assay.options import RunOptions
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


def setup_judge(
    settings: Settings,
    options: RunOptions,
    default: JudgeConfig,
    configs: Mapping[str, Mapping[str, Any]],
    tasks: Mapping[str, Task],
    redactor: Redactor,
    cache: ResponseStore | None = None,
    *,
    ledger: CostLedger | None = None,
) -> JudgeSetup:
    """The Judge (its models are built on first use) and the per-task facts the execute stage needs."""
    from assay.judge.client import Judge
    from assay.judge.contracts import verdict_contract
    from assay.preflight.requirements import needs_judge

    if options.predict_only:  # nothing is scored: no judge
        return JudgeSetup(Judge(settings, {"default": default}, redact=redactor.redact))
    # Declared in YAML or found in the task's code (preflight has checked their judge's credentials already).
    judged = [name for name in tasks if needs_judge(configs.get(name, {}))]
    profiles = {task_judge_profile(configs.get(name, {})) for name in judged}
    judge_configs = {"default": default}
    if "viescore" in profiles:
        judge_configs["viescore"] = viescore_config(default, settings)
    if any(task_judge_profile(configs.get(name, {})) == "default" for name in judged):
        _check_provider(default, settings)
    contracts = {name: verdict_contract(name, tasks[name].config.metadata, tasks[name].config.process_results)
                 for name in judged}
    if options.max_cost is not None:
        _check_prices(judge_configs, judged, configs, settings)
    judge = Judge(settings, judge_configs, cache=cache, redact=redactor.redact, ledger=ledger)
    from assay.judge.scoring import is_async_scorer

    return JudgeSetup(judge, judged, contracts, intercepts=any(not is_async_scorer(tasks[n]) for n in judged))


def _check_prices(judges: Mapping[str, JudgeConfig], judged: list[str], configs: Mapping[str, Mapping[str, Any]],
                  settings: Settings) -> None:
    """--max_cost holds the judge to the cap too: each judge model a task will use needs a price, now."""
    from assay.judge.scoring import requested_judge_model
    from assay.model.cost import price_for

    for name in judged:
        config = configs.get(name, {})
        judge = judges[task_judge_profile(config)]
        model = judge.model_for(requested_judge_model(config.get("metadata")))
        if price_for(model, settings, judge.price) is None:
            raise UsageError(f"--max_cost needs a price for the judge model {model} (task {name}), and none is known",
                             hint="add input_price=…,output_price=… (USD per 1M tokens) to --judge_args, or an "
                                  "entry to the ASSAY_PRICES file")


def _check_provider(config: JudgeConfig, settings: Settings) -> None:
    from assay.providers import PROVIDERS, find_spec

    if find_spec(config.provider, settings) is not None:
        return
    where = "--judge_model" if config.origin == "--judge_model" else config.origin
    raise UsageError(
        f"the judge provider `{config.provider}` ({where}) is not available in this assay",
        hint=f"available: {', '.join(sorted(PROVIDERS))}; e.g. --judge_model openai_compatible "
             "--judge_args base_url=…,model=…",
    )
