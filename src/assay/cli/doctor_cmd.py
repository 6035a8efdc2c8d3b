"""`assay doctor`: every setting with its value (secrets masked) and where it came from; with plan flags,
the credentials that run needs; with ``--probe``, whether each one is accepted.

Exit codes: 0 all good; 3 a required credential is missing or a probe was refused; 1 a probe could
not reach its service (or got an unexpected answer).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from assay.env.redaction import Redactor
    from assay.env.settings import Settings, SettingSpec
    from assay.preflight.plan import Plan
    from assay.preflight.probe import ProbeResult
    from assay.preflight.requirements import RequirementStatus

EXIT_OK, EXIT_UNREACHABLE, EXIT_CREDENTIALS = 0, 1, 3


def add_arguments(parser: argparse.ArgumentParser) -> None:
    plan = parser.add_argument_group("check a run's requirements (same flags as `assay run`)")
    plan.add_argument("--model", default=None, help="model (provider) name, e.g. openai")
    plan.add_argument("--model_args", default=None, metavar="K=V,…", help="model arguments, e.g. model=gpt-4o-mini")
    plan.add_argument("--tasks", default=None, metavar="T1,T2", help="tasks or groups, comma-separated")
    plan.add_argument("--include_path", action="append", default=None, metavar="PATH",
                      help="extra folder of task YAML files (repeatable)")
    plan.add_argument("--judge_model", default=None, help="judge provider, e.g. openai or azure_openai")
    plan.add_argument("--judge_args", default=None, metavar="K=V,…", help="judge arguments, e.g. model=gpt-4o")
    plan.add_argument("--wandb_args", default=None, metavar="K=V,…", help="W&B arguments, e.g. project=x")
    plan.add_argument("--hf_hub_log_args", default=None, metavar="K=V,…",
                      help="Hugging Face Hub logging arguments, e.g. hub_results_org=me,push_results_to_hub=True")
    parser.add_argument("--probe", action="store_true",
                        help="make one cheap authenticated call per credential to check it is accepted")
    parser.add_argument("--probe-timeout", type=float, default=10.0, metavar="SECONDS",
                        help="timeout of each probe (default: 10)")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of tables")


def run(args: argparse.Namespace, settings: Settings, redactor: Redactor) -> int:
    from assay.preflight.requirements import missing_required, requirements

    plan = _plan(args, settings, redactor)
    statuses = requirements(plan, settings) if plan is not None else None
    probes = _run_probes(plan, settings, args.probe_timeout) if args.probe else None

    code = EXIT_OK
    if probes and any(p.status in ("unreachable", "error") for p in probes):
        code = EXIT_UNREACHABLE
    if (statuses and missing_required(statuses)) or (probes and any(p.status == "refused" for p in probes)):
        code = EXIT_CREDENTIALS

    from assay.env.masking import short_secret_warning

    # Every credential in play (settings and --model_args) too short to be masked in free text.
    warnings = [short_secret_warning(label) for label in redactor.short_labels()]
    if args.json:
        import json
        import sys

        doc = {
            "warnings": warnings,
            "env_files": [str(p) for p in settings.env_files],
            "settings": [_setting_row(spec, settings) for spec in _specs()],
            "requirements": [s.as_dict() for s in statuses] if statuses is not None else None,
            "probes": [p.as_dict() for p in probes] if probes is not None else None,
            "exit_code": code,
        }
        sys.stdout.write(json.dumps(redactor.redact_obj(doc), indent=2) + "\n")
        return code

    console = _console()
    _print_settings(console, settings, redactor)
    for warning in warnings:
        from rich.text import Text

        console.print(Text(f"warning: {warning}", style="yellow"))
    if statuses is not None:
        _print_requirements(console, plan, settings, statuses, redactor)
    if probes is not None:
        _print_probes(console, probes, redactor)
    return code


# -- gathering ------------------------------------------------------------------------------------


def _plan(args: argparse.Namespace, settings: Settings, redactor: Redactor) -> Plan | None:
    from assay.preflight.plan import plan_from_flags

    flags = (args.model, args.model_args, args.tasks, args.wandb_args, args.hf_hub_log_args, args.judge_model,
             args.judge_args)
    if all(f is None for f in flags):
        return None
    configs = _task_configs(settings, args.tasks, args.include_path or []) if args.tasks else None
    model, model_args = args.model, args.model_args
    if model:  # lmms-eval's names and arguments, checked as `assay run` checks them
        from assay.model.args import parse_kv_string, resolve_model

        resolved = resolve_model(model, parse_kv_string(model_args or ""), settings)
        model, model_args = resolved.provider, resolved.args
    return plan_from_flags(model, model_args, configs, args.wandb_args, args.hf_hub_log_args, redactor,
                           settings=settings, judge_model=args.judge_model, judge_args=args.judge_args)


def _task_configs(settings: Settings, tasks: str, include_paths: list[str]) -> dict[str, dict[str, Any]]:
    import assay.compat  # noqa: F401  (answers `import lmms_eval` for task helpers)
    from assay.tasks import TaskRegistry

    registry = TaskRegistry.discover(settings, include_paths=include_paths)
    names = registry.resolve([t.strip() for t in tasks.split(",") if t.strip()])
    return {name: dict(registry.config(name)) for name in names}


def _run_probes(plan: Plan | None, settings: Settings, timeout: float) -> list[ProbeResult]:
    import asyncio

    from assay.preflight.probe import probe

    return asyncio.run(probe(plan, settings, timeout=timeout))


def _placeholder(settings: Settings, field: str) -> bool:
    from assay.env.masking import looks_like_placeholder

    value = settings.secret(field) if hasattr(settings, field) else None
    return bool(value) and looks_like_placeholder(str(value))


def _specs() -> tuple[SettingSpec, ...]:
    from assay.env.settings import SPECS

    return SPECS


def _setting_row(spec: SettingSpec, settings: Settings) -> dict[str, Any]:
    from assay.env.masking import looks_like_credential, mask

    source = settings.source_of(spec.field)
    if spec.secret:
        value: Any = mask(settings.secret(spec.field))
    else:
        raw = getattr(settings, spec.field)
        if isinstance(raw, tuple):
            value = list(raw)
        else:
            value = raw if isinstance(raw, (bool, int)) or raw is None else str(raw)
        if isinstance(value, str) and "://" not in value and looks_like_credential(value):
            # a key pasted into HF_ENDPOINT or AZURE_API_VERSION: shown as a secret would be (a URL's own
            # credentials are masked with the URL, where the table is printed)
            value = mask(value)
    return {
        "name": spec.env_name,
        "alias": _alias(spec, str(source)),
        "set": source.kind != "default",
        "secret": spec.secret,
        "value": value,
        "source": str(source),
        "used_by": used_by(spec.field),
        "description": spec.description,
    }


def _alias(spec: SettingSpec, source: str) -> str | None:
    """The variable name actually used, when it is not the primary one (``HUGGING_FACE_HUB_TOKEN``)."""
    for name in spec.env_names[1:]:
        if source == f"env {name}" or source.endswith(f"({name})"):
            return name
    return None


def used_by(field: str) -> list[str]:
    """The features that read a setting, for the doctor table."""
    from assay.providers import BUILTIN

    uses: list[str] = []
    models = [s.name for s in BUILTIN if field in s.credentials or field == s.base_url_setting]
    if models:
        uses.append("model " + ", ".join(models))
    uses += _FEATURES.get(field, [])
    return uses


_FEATURES: dict[str, list[str]] = {
    "home": ["response cache", "task and dataset state"],
    "use_cache": ["response cache"],
    "plugins": ["task discovery", "plugin models"],
    "plugin_overrides": ["plugins"],
    "prices": ["cost accounting", "--max_cost"],
    "shuffle_docs": ["--limit sampling"],
    "verbosity": ["logging"],
    "hf_token": ["gated datasets", "push to Hugging Face Hub"],
    "hf_endpoint": ["datasets", "push to Hugging Face Hub"],
    "openai_api_key": ["judge (API_TYPE=openai)"],
    "openai_base_url": ["judge (API_TYPE=openai)"],
    "azure_api_key": ["judge (API_TYPE=azure)"],
    "azure_endpoint": ["judge (API_TYPE=azure)"],
    "azure_api_version": ["judge (API_TYPE=azure)"],
    "judge_api_type": ["judge"],
    "wandb_api_key": ["W&B logging"],
    "wandb_base_url": ["W&B logging"],
    "viescore_api_key": ["VIEScore judge"],
    "viescore_base_url": ["VIEScore judge"],
    "viescore_model": ["VIEScore judge"],
    "openai_api_url": ["judge (API_TYPE=openai)"],
}


# -- rendering ------------------------------------------------------------------------------------


def _console() -> Console:
    import sys

    from rich.console import Console

    probe = Console(file=sys.stdout)
    # Wide enough off a terminal (pipes, CI logs) that values and paths are not folded mid-word.
    return Console(file=sys.stdout, width=max(140, probe.width), highlight=False)


def _print_settings(console: Console, settings: Settings, redactor: Redactor) -> None:
    from rich.table import Table
    from rich.text import Text

    files = ", ".join(str(p) for p in settings.env_files) or "none found (looked in this folder and its parents)"
    console.print(Text(redactor.redact(f".env files read: {files}")))
    table = Table(title="settings", title_justify="left")
    table.add_column("setting", no_wrap=True)
    for column in ("set", "value", "source", "used by"):
        table.add_column(column, overflow="fold")
    for spec in _specs():
        row = _setting_row(spec, settings)
        name = f"{row['name']} (as {row['alias']})" if row["alias"] else row["name"]
        value = row["value"]
        shown = ", ".join(value) if isinstance(value, list) else ("" if value is None else str(value))
        if isinstance(value, bool):
            shown = str(value).lower()
        table.add_row(
            Text(name),
            Text("yes", style="green") if row["set"] else Text("no", style="dim"),
            Text(redactor.redact(shown)),
            Text(redactor.redact(row["source"])),
            Text(", ".join(row["used_by"])),
        )
    console.print(table)


def _print_requirements(
    console: Console, plan: Plan | None, settings: Settings, statuses: list[RequirementStatus], redactor: Redactor
) -> None:
    from rich.table import Table
    from rich.text import Text

    from assay.env.credentials import env_name
    from assay.errors import CredentialError
    from assay.preflight.requirements import preflight

    if not statuses:
        console.print(Text("this run needs no credentials"))
        return
    table = Table(title="credentials this run needs", title_justify="left")
    for column in ("needed by", "credential", "status", "source / how to fix"):
        table.add_column(column, overflow="fold")
    for status in statuses:
        req = status.requirement
        creds = " or ".join(" + ".join(map(env_name, option)) for option in req.options)
        placeholders = [env_name(f) for f, _ in status.satisfied_by if _placeholder(settings, f)]
        if status.satisfied and placeholders:
            mark = Text("placeholder", style="bold red")
            detail = f"{', '.join(placeholders)} holds a placeholder from an example, not a key: put the real one"
        elif status.satisfied:
            mark = Text("ok", style="green")
            detail = ", ".join(source for _, source in status.satisfied_by)
        elif req.required:
            mark = Text("MISSING", style="bold red")
            detail = req.how_to_fix
        else:
            mark = Text("optional", style="yellow")
            detail = req.note or req.how_to_fix
        table.add_row(Text(req.consumer), Text(creds), mark, Text(redactor.redact(detail)))
    console.print(table)
    if plan is not None:
        try:
            preflight(plan, settings)
        except CredentialError as exc:
            console.print(Text(redactor.redact(exc.message), style="bold red"))
            console.print(Text(redactor.redact(f"hint: {exc.hint}")))


def _print_probes(console: Console, probes: list[ProbeResult], redactor: Redactor) -> None:
    from rich.table import Table
    from rich.text import Text

    if not probes:
        console.print(Text("nothing to probe: no credential is set"))
        return
    styles = {"ok": "green", "refused": "bold red", "unreachable": "yellow", "error": "yellow"}
    table = Table(title="probes", title_justify="left")
    for column in ("credential", "service", "result", "detail"):
        table.add_column(column, overflow="fold")
    for p in probes:
        result = Text(p.status, style=styles[p.status])
        table.add_row(Text(p.credential), Text(p.service), result, Text(redactor.redact(p.message)))
    console.print(table)
