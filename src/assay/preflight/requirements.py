"""Which credentials a :class:`~assay.preflight.plan.Plan` needs — checked up front, all at once.

:func:`requirements` maps a plan to the credentials it needs (each with its consumer and how to fix
it); :func:`preflight` raises one :class:`CredentialError` naming every missing one. No network here;
live checks are :mod:`assay.preflight.probe`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assay.env.credentials import env_name, how_to_set
from assay.env.masking import MIN_TEXT_SECRET, short_secret_warning
from assay.env.settings import SPEC_BY_FIELD
from assay.errors import CredentialError
from assay.preflight.judge_code import judging_file
from assay.preflight.plan import HUB_ARGS, JUDGE_ARGS, MODEL_ARGS, Plan, is_secret_field
from assay.providers import find_spec, with_declared_credentials

if TYPE_CHECKING:
    from assay.env.settings import Settings

_WANDB_NO_NETWORK = {"offline", "disabled", "dryrun"}
# `datasets` builders that read local files rather than a Hub repository.
_LOCAL_BUILDERS = {
    "json", "csv", "parquet", "text", "arrow", "pandas", "imagefolder", "audiofolder", "videofolder",
    "webdataset", "generator", "sql", "xml",
}
_HUB_ID = re.compile(r"^[\w.-]+/[\w.-]+$")
_OFFICIAL_OPENAI_HOSTS = {"api.openai.com"}
_MAX_NAMED = 5
log = logging.getLogger("assay.preflight.requirements")


@dataclass(frozen=True)
class Requirement:
    """Credentials one consumer needs.

    ``options`` are alternatives, each a group of settings fields needed together (Azure: key AND
    endpoint); the requirement is met when every field of any one option is available. A field may
    also be given on the command line: ``provided_by`` lists ``(field, flag, key)``, e.g.
    ``("openai_api_key", "--model_args", "api_key")``.
    """

    consumer: str
    options: tuple[tuple[str, ...], ...]
    required: bool = True
    kind: str = ""  # model, judge, dataset, wandb, hub
    how_to_fix: str = ""
    note: str = ""
    provided_by: tuple[tuple[str, str, str], ...] = ()
    alternative: str = ""

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(f for option in self.options for f in option))

    @property
    def env_names(self) -> tuple[str, ...]:
        return tuple(env_name(f) for f in self.fields)


@dataclass(frozen=True)
class RequirementStatus:
    """A requirement checked against the settings and the plan's arguments (no network)."""

    requirement: Requirement
    satisfied: bool
    satisfied_by: tuple[tuple[str, str], ...] = ()  # (field, source), e.g. ("hf_token", "env HF_TOKEN")
    missing: tuple[str, ...] = ()  # fields missing from the closest option

    @property
    def consumer(self) -> str:
        return self.requirement.consumer

    @property
    def required(self) -> bool:
        return self.requirement.required

    def as_dict(self) -> dict[str, Any]:
        req = self.requirement
        return {
            "consumer": req.consumer,
            "kind": req.kind,
            "credentials": [list(map(env_name, option)) for option in req.options],
            "required": req.required,
            "satisfied": self.satisfied,
            # a list, not {VARIABLE: source}: keys like OPENAI_API_KEY read as secrets to the redactor
            "satisfied_by": [{"credential": env_name(f), "source": source} for f, source in self.satisfied_by],
            "missing": [env_name(f) for f in self.missing],
            "note": req.note,
            "how_to_fix": req.how_to_fix,
        }


# -- building a plan ------------------------------------------------------------------------------


# -- requirements ---------------------------------------------------------------------------------


def requirements(plan: Plan, settings: Settings) -> list[RequirementStatus]:
    """Every credential the plan needs (or may need), each checked for presence."""
    found = list(dict.fromkeys(_requirements(plan, settings)))  # de-duplicated, order kept
    return [_check(req, plan, settings) for req in found]


def missing_required(statuses: list[RequirementStatus]) -> list[RequirementStatus]:
    return [s for s in statuses if s.required and not s.satisfied]


def short_credentials(plan: Plan, settings: Settings, statuses: list[RequirementStatus] | None = None) -> list[str]:
    """The credentials this plan uses (variable names, or ``--model_args api_key``) whose values are too
    short to be masked in free text (:data:`assay.env.redaction.MIN_TEXT_SECRET`)."""
    found: list[str] = []
    for status in statuses if statuses is not None else requirements(plan, settings):
        for field_name, source in status.satisfied_by:
            if not is_secret_field(field_name):
                continue
            value = next((plan.args_of(flag).get(key) for f, flag, key in status.requirement.provided_by
                          if f == field_name and source == f"{flag} {key}"), None)
            value = settings.secret(field_name) if value is None else str(value)
            name = source if source.startswith("--") else env_name(field_name)
            if value and len(value) < MIN_TEXT_SECRET and name not in found:
                found.append(name)
    return found


def preflight(plan: Plan, settings: Settings) -> None:
    """Raise one :class:`CredentialError` naming every missing required credential (no network); warn
    about a credential too short to be masked in free text."""
    statuses = requirements(plan, settings)
    for name in short_credentials(plan, settings, statuses):
        log.warning("%s", short_secret_warning(name))
    missing = missing_required(statuses)
    if not missing:
        return
    consumers: dict[str, list[str]] = {}  # variable -> consumers, first-seen order
    fixes: dict[str, None] = {}
    for status in missing:
        for f in status.missing:
            consumers.setdefault(env_name(f), []).append(status.consumer.replace("`", ""))
            fixes[how_to_set(f)] = None
        if status.requirement.alternative:
            fixes[status.requirement.alternative] = None
    count = len(consumers)
    listed = ", ".join(f"{var} (needed by {', '.join(dict.fromkeys(who))})" for var, who in consumers.items())
    raise CredentialError(
        f"missing {count} credential{'s' if count != 1 else ''}: {listed}",
        hint="; ".join(fixes),
    )


def _requirements(plan: Plan, settings: Settings) -> Iterator[Requirement]:
    if plan.model:
        yield from _model_requirements(plan, settings)
    yield from _judge_requirements(plan, settings)
    yield from _dataset_requirements(plan)
    if plan.wandb_args is not None:
        mode = str(plan.wandb_args.get("mode") or settings.wandb_mode or "").strip().lower()
        if mode not in _WANDB_NO_NETWORK:
            yield _requirement("W&B logging", ("wandb_api_key",), kind="wandb")
    if plan.hub_args is not None:
        pushes = [plan.hub_args.get(k) for k in ("push_results_to_hub", "push_samples_to_hub")]
        explicit_no_push = all(p is not None and not _truthy(p) for p in pushes)
        yield _requirement(
            "push to Hugging Face Hub",
            ("hf_token",),
            kind="hub",
            required=not explicit_no_push,
            note="nothing is pushed (push_results_to_hub and push_samples_to_hub are off)"
            if explicit_no_push else "",
            provided_by=(("hf_token", HUB_ARGS, "token"),),
        )


def _model_requirements(plan: Plan, settings: Settings) -> Iterator[Requirement]:
    model = plan.model or ""
    consumer = f"model `{model}`"
    spec = find_spec(model, settings)
    spec = with_declared_credentials(spec) if spec is not None else None
    if spec is None or not spec.credentials:
        return
    provided = tuple((f, MODEL_ARGS, key) for f in spec.credentials if (key := spec.arg_for(f)) is not None)
    base_url = plan.model_args.get("base_url") or (
        getattr(settings, spec.base_url_setting, None) if spec.base_url_setting else None)
    if spec.keyless_with_base_url and base_url and not _is_official_openai(str(base_url)):
        yield _requirement(
            consumer, spec.credentials, kind="model", required=False, provided_by=provided,
            note=f"optional: the server at {base_url} may not need a key",
        )
    else:
        yield _requirement(consumer, spec.credentials, kind="model", provided_by=provided)


def _judge_requirements(plan: Plan, settings: Settings) -> Iterator[Requirement]:
    """The judge's credentials, named apart from the model's: per judge (provider or VIEScore), the tasks
    that need it."""
    from assay.preflight.judging import task_judge_profile

    if not plan.scoring:
        return
    by_judge: dict[tuple[str, str], list[str]] = {}
    for name, config in plan.tasks.items():
        if not needs_judge(config):
            continue
        if task_judge_profile(config) == "viescore":
            by_judge.setdefault(("viescore", ""), []).append(name)
            continue
        metadata = config.get("metadata")
        override = metadata.get("api_type") if isinstance(metadata, Mapping) else None
        backend = str(override).lower() if str(override).lower() in ("openai", "azure") else settings.judge_api_type
        provider = plan.judge_model or ("azure_openai" if backend == "azure" else "openai")
        by_judge.setdefault(("default", provider), []).append(name)
    for (profile, provider), tasks in by_judge.items():
        consumer = f"judge for {_name_list('task', tasks)}"
        if profile == "viescore":
            yield _requirement(f"VIEScore {consumer}", ("viescore_api_key",), kind="judge",
                               note="also read: VIESCORE_API_BASE, VIESCORE_MODEL_NAME")
        else:
            yield from _judge_provider_requirement(consumer, provider, plan, settings)


def _judge_provider_requirement(consumer: str, provider: str, plan: Plan, settings: Settings) -> Iterator[Requirement]:
    from assay.preflight.judging import OPENAI_FAMILY

    chosen = plan.judge_model is not None  # else API_TYPE chose, and the other backend is an alternative
    spec = find_spec(provider, settings)
    if spec is None or not spec.credentials:
        return
    provided = tuple((f, JUDGE_ARGS, key) for f in spec.credentials if (key := spec.arg_for(f)) is not None)
    if spec.name == "azure_openai":
        alternative = "" if chosen else "or set API_TYPE=openai to judge with OPENAI_API_KEY"
    else:
        alternative = "" if chosen else "or set API_TYPE=azure to judge with AZURE_API_KEY and AZURE_ENDPOINT"
    base_url = plan.judge_args.get("base_url") or (
        settings.openai_api_url or settings.openai_base_url if provider in OPENAI_FAMILY else None)
    if spec.keyless_with_base_url and base_url and not _is_official_openai(str(base_url)):
        yield _requirement(consumer, spec.credentials, kind="judge", required=False, provided_by=provided,
                           note=f"optional: the judge server at {base_url} may not need a key")
        return
    yield _requirement(consumer, spec.credentials, kind="judge", provided_by=provided, alternative=alternative)


def _dataset_requirements(plan: Plan) -> Iterator[Requirement]:
    gated: dict[str, list[str]] = {}
    public: dict[str, list[str]] = {}
    for name, config in plan.tasks.items():
        path = config.get("dataset_path")
        kwargs = config.get("dataset_kwargs")
        metadata = config.get("metadata")
        needs_token = (isinstance(kwargs, Mapping) and _truthy(kwargs.get("token"))) or (
            isinstance(metadata, Mapping) and _truthy(metadata.get("gated"))
        )
        if needs_token:
            gated.setdefault(str(path) if path else f"of task `{name}`", []).append(name)
        elif isinstance(path, str) and _is_hub_dataset(path):
            public.setdefault(path, []).append(name)
    for path in gated:
        yield _requirement(f"gated dataset {path}", ("hf_token",), kind="dataset")
    for path in public:
        if path not in gated:
            yield _requirement(
                f"dataset {path}", ("hf_token",), kind="dataset", required=False,
                note="needed only if the dataset is gated",
            )


def _requirement(
    consumer: str,
    fields: tuple[str, ...],
    *,
    kind: str,
    required: bool = True,
    note: str = "",
    provided_by: tuple[tuple[str, str, str], ...] = (),
    alternative: str = "",
) -> Requirement:
    fix = "; ".join(how_to_set(f) for f in fields)
    return Requirement(
        consumer=consumer,
        options=(fields,),
        required=required,
        kind=kind,
        how_to_fix=f"{fix}; {alternative}" if alternative else fix,
        note=note,
        provided_by=provided_by,
        alternative=alternative,
    )


def _check(req: Requirement, plan: Plan, settings: Settings) -> RequirementStatus:
    best_missing: tuple[str, ...] | None = None
    for option in req.options:
        found: list[tuple[str, str]] = []
        missing: list[str] = []
        for f in option:
            source = _source_of(f, req, plan, settings)
            if source is None:
                missing.append(f)
            else:
                found.append((f, source))
        if not missing:
            return RequirementStatus(req, True, tuple(found))
        if best_missing is None or len(missing) < len(best_missing):
            best_missing = tuple(missing)
    return RequirementStatus(req, False, (), best_missing or ())


def _source_of(field_name: str, req: Requirement, plan: Plan, settings: Settings) -> str | None:
    # A value on the command line (e.g. --model_args api_key=…) is the one the consumer will use.
    for f, flag, key in req.provided_by:
        if f == field_name and _present(plan.args_of(flag).get(key)):
            return f"{flag} {key}"
    value = getattr(settings, field_name, None)
    if field_name in SPEC_BY_FIELD and _present(settings.secret(field_name) or value):
        return str(settings.source_of(field_name))
    if field_name not in SPEC_BY_FIELD:  # a plugin vendor's own key variable
        found, source = settings.variable(field_name)
        return str(source) if _present(found) else None
    return None


# -- small helpers --------------------------------------------------------------------------------


def _present(value: Any) -> bool:
    if value is None or isinstance(value, bool):
        return False
    return bool(str(value).strip())


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _enabled(value: Any) -> bool:
    """A judge setting that names something (``gpt-4o``) or is on; not ``false``/``none``/empty."""
    if isinstance(value, str):
        return value.strip().lower() not in ("", "0", "false", "no", "off", "none", "null")
    return bool(value)


def _is_official_openai(url: str) -> bool:
    from urllib.parse import urlsplit

    return (urlsplit(url).hostname or "").lower() in _OFFICIAL_OPENAI_HOSTS


def needs_judge(config: Mapping[str, Any]) -> bool:
    """Whether a task is judged: its YAML says so, or its code (and the task modules it imports) calls one."""
    return declares_judge(config) or judging_file(config) is not None


def declares_judge(config: Mapping[str, Any]) -> bool:
    return any(_mentions_judge(config.get(section)) for section in ("metadata", "lmms_eval_specific_kwargs"))


def _mentions_judge(node: Any) -> bool:
    if isinstance(node, Mapping):
        for key, value in node.items():
            name = str(key).lower()
            if (name == "gpt_eval_model_name" or "judge" in name) and _enabled(value):
                return True
            if _mentions_judge(value):
                return True
    elif isinstance(node, list):
        return any(_mentions_judge(v) for v in node)
    return False


def _is_hub_dataset(path: str) -> bool:
    """A Hub repository id (``org/name``, or a legacy bare name), not a local folder or file builder."""
    if not path or path in _LOCAL_BUILDERS or path.startswith(("/", "./", "../", "~", "file:")):
        return False
    if Path(path).expanduser().exists():
        return False
    return bool(_HUB_ID.match(path)) or "/" not in path


def _name_list(noun: str, names: list[str]) -> str:
    shown = ", ".join(f"`{n}`" for n in names[:_MAX_NAMED])
    more = f" and {len(names) - _MAX_NAMED} more" if len(names) > _MAX_NAMED else ""
    return f"{noun}{'s' if len(names) > 1 else ''} {shown}{more}"
