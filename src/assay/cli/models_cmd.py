"""`assay models`: every provider --model accepts, where it comes from, what it needs and accepts.

Built-in providers and plugin providers (``assay.providers`` entry points, ``LMMS_EVAL_PLUGINS`` packages'
``models`` modules) are listed with their origin; each one's module is imported to check that it loads,
so a broken plugin shows up here by name (exit 1) instead of in the middle of a run. Refused plugins
(a name that shadows a built-in) are listed with the reason.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assay.env.redaction import Redactor
    from assay.env.settings import Settings
    from assay.providers import ProviderSpec


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of a table")


def rows(settings: Settings) -> tuple[list[dict[str, Any]], list[str]]:
    """One row per provider (built-ins first, then plugins), and every plugin problem."""
    from assay.env.credentials import env_name
    from assay.env.plugins import index
    from assay.errors import ConfigError
    from assay.metrics.scorers import METRICS
    from assay.providers import BUILTIN, PROVIDERS, find_spec, plugin_specs, with_declared_credentials

    plugins = index(settings, builtin_providers=PROVIDERS, builtin_metrics=METRICS)
    problems = list(plugins.problems)
    specs: list[ProviderSpec] = [find_spec(s.name, settings) or s for s in BUILTIN]
    specs += [s for name, s in plugin_specs(settings).items() if all(name != b.name for b in specs)]
    found: list[dict[str, Any]] = []
    for spec in specs:
        status = _loads(spec)
        if status == "ok":
            try:
                spec = with_declared_credentials(spec)
            except ConfigError as exc:
                status = exc.message
        if status != "ok":
            problems.append(f"{spec.origin}: provider `{spec.name}` cannot be loaded: {status}")
        variables = [env_name(f) for f in spec.credentials]
        if spec.base_url_setting:
            variables.append(env_name(spec.base_url_setting))
        found.append({
            "name": spec.name, "aliases": list(spec.aliases), "origin": spec.origin, "status": status,
            "modalities": list(spec.modalities) if status == "ok" else None,
            "env": variables, "optional_key": spec.keyless_with_base_url, "description": spec.description,
            "target": spec.target,
        })
    return found, list(dict.fromkeys(problems))


def _loads(spec: ProviderSpec) -> str:
    from assay.env.registry import load_target

    module_name, _, attr = spec.target.partition(":")
    try:
        found = load_target(spec.target)
    except AttributeError:
        return f"{module_name} has no {attr}"
    except Exception as exc:  # a plugin's bug is reported, never raised
        return f"{type(exc).__name__}: {exc}"
    return "ok" if callable(found) else f"{module_name} has no {attr}"


def run(args: argparse.Namespace, settings: Settings, redactor: Redactor) -> int:
    found, problems = rows(settings)
    code = 1 if any(r["status"] != "ok" for r in found) else 0
    if args.json:
        doc = {"providers": found, "problems": problems}
        sys.stdout.write(json.dumps(redactor.redact_obj(doc), indent=2) + "\n")
        return code
    from rich.console import Console
    from rich.table import Table

    table = Table(title="models (providers for --model)", title_justify="left")
    for column in ("name", "aliases", "origin", "accepts", "environment", "description"):
        table.add_column(column, overflow="fold")
    for row in found:
        accepts = "/".join(row["modalities"]) if row["modalities"] else "?"
        env = ", ".join(row["env"]) + (" (optional with base_url)" if row["optional_key"] else "")
        name = row["name"] if row["status"] == "ok" else f"{row['name']} [red](broken)[/red]"
        table.add_row(name, ", ".join(row["aliases"]), row["origin"], accepts, env or "none",
                      redactor.redact(row["description"]))
    console = Console(file=sys.stdout, width=160)
    console.print(table)
    for problem in problems:
        console.print(f"[yellow]warning:[/yellow] {redactor.redact(problem)}", highlight=False)
    return code
