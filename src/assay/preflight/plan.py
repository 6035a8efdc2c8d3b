"""What a run will touch that may need a credential: the model and its ``--model_args``, the resolved
task configs, and the sinks (W&B, Hugging Face Hub). :mod:`assay.preflight.requirements` maps a :class:`Plan` to the
credentials it needs.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from assay.env.credentials import env_name
from assay.model.args import parse_kv_string
from assay.providers import find_spec, get_spec

if TYPE_CHECKING:
    from assay.env.redaction import Redactor
    from assay.env.settings import Settings
    from assay.providers import ProviderSpec

logger = logging.getLogger(__name__)

MODEL_ARGS = "--model_args"
JUDGE_ARGS = "--judge_args"
WANDB_ARGS = "--wandb_args"
HUB_ARGS = "--hf_hub_log_args"


@dataclass
class Plan:
    """Everything a run will touch that may need a credential."""

    model: str | None = None
    model_args: dict[str, Any] = field(default_factory=dict)
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)
    wandb_args: dict[str, Any] | None = None
    hub_args: dict[str, Any] | None = None
    #: The judge: ``--judge_model`` (a provider name; None: API_TYPE decides) and ``--judge_args``.
    judge_model: str | None = None
    judge_args: dict[str, Any] = field(default_factory=dict)
    #: False for --predict_only: nothing is scored, so no judge is needed.
    scoring: bool = True

    def args_of(self, flag: str) -> Mapping[str, Any]:
        """The parsed arguments of ``--model_args`` / ``--judge_args`` / ``--wandb_args`` / ``--hf_hub_log_args``."""
        found = {MODEL_ARGS: self.model_args, JUDGE_ARGS: self.judge_args, WANDB_ARGS: self.wandb_args,
                 HUB_ARGS: self.hub_args}.get(flag)
        return found or {}


def plan_from_flags(
    model: str | None,
    model_args: str | Mapping[str, Any] | None,
    tasks_configs: Mapping[str, Mapping[str, Any]] | None,
    wandb_args: str | Mapping[str, Any] | None,
    hub_args: str | Mapping[str, Any] | None,
    redactor: Redactor,
    *,
    warn_command_line: bool = True,
    judge_model: str | None = None,
    judge_args: str | Mapping[str, Any] | None = None,
    settings: Settings | None = None,
) -> Plan:
    """A :class:`Plan` from command-line values (strings as given to the flags, or already-parsed
    dicts). Secret-looking arguments are always registered with ``redactor``; they are also warned
    about unless ``warn_command_line`` is false (the Python API, where there is no shell history).
    ``settings`` lets a model from an ``LMMS_EVAL_PLUGINS`` package be recognised."""
    if model:
        _register_vendor_keys(get_spec(model, settings), settings, redactor)  # UsageError with "did you mean"
    if judge_model:
        _unknown_judge(judge_model, settings)

    def parse(value: str | Mapping[str, Any] | None, flag: str) -> dict[str, Any] | None:
        return _parse(value, flag, redactor, judge_model if flag == JUDGE_ARGS else model, warn_command_line)

    return Plan(
        model=model or None,
        model_args=parse(model_args, MODEL_ARGS) or {},
        tasks={name: dict(cfg) for name, cfg in (tasks_configs or {}).items()},
        wandb_args=parse(wandb_args, WANDB_ARGS),
        hub_args=parse(hub_args, HUB_ARGS),
        judge_model=judge_model or None,
        judge_args=parse(judge_args, JUDGE_ARGS) or {},
    )


def _register_vendor_keys(spec: ProviderSpec, settings: Settings | None, redactor: Redactor) -> None:
    """A plugin vendor's own key variables (``ACME_API_KEY``) are secrets like assay's: every output masks them."""
    if spec.origin == "builtin" or settings is None:
        return
    from assay.providers import key_variables, with_declared_credentials

    for name in key_variables(with_declared_credentials(spec)):
        value, _ = settings.variable(name)
        redactor.add(value, name)


def _unknown_judge(name: str, settings: Settings | None) -> None:
    from assay.errors import UsageError

    try:
        get_spec(name, settings)  # raises UsageError with "did you mean"
    except UsageError as exc:
        raise UsageError(f"unknown --judge_model: {exc.message.removeprefix('unknown model ')}",
                         hint=exc.hint) from None


def _parse(
    value: str | Mapping[str, Any] | None, flag: str, redactor: Redactor, model: str | None, warn: bool
) -> dict[str, Any] | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    parsed = dict(value) if isinstance(value, Mapping) else parse_kv_string(value, flag)
    for key in redactor.add_args(parsed, flag):
        if not warn:
            continue
        logger.warning(
            "`%s` in %s: command lines end up in shell history; set %s in .env instead",
            key, flag, _variable_for(flag, key, model),
        )
    return parsed


def _variable_for(flag: str, key: str, model: str | None) -> str:
    if flag == HUB_ARGS:
        return "HF_TOKEN"
    if flag == WANDB_ARGS:
        return "WANDB_API_KEY"
    if flag == JUDGE_ARGS and not model:
        return "OPENAI_API_KEY (or AZURE_API_KEY with API_TYPE=azure)"
    spec = find_spec(model) if model else None
    fields = spec.credentials if spec is not None else ()
    secret_fields = [f for f in fields if is_secret_field(f)]
    return env_name(secret_fields[0]) if secret_fields else "the provider's key variable"


def is_secret_field(name: str) -> bool:
    from assay.env.settings import SPEC_BY_FIELD

    spec = SPEC_BY_FIELD.get(name)
    return bool(spec and spec.secret)

