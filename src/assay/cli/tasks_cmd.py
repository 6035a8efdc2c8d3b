"""`assay tasks`: list tasks, groups and tags; `assay tasks show NAME`: one resolved config as YAML.

Listing reads YAML only (no task code, no datasets), so it is quick even with many include paths.
Everything printed goes through the redactor: a task YAML may carry a literal token.
"""

from __future__ import annotations

import argparse
import fnmatch
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from assay.errors import UsageError

if TYPE_CHECKING:
    from assay.env.settings import Settings
    from assay.tasks import TaskRegistry


class _Redactor(Protocol):
    def redact(self, text: str) -> str: ...


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "action",
        nargs="*",
        metavar="[list [PATTERN…] | show NAME]",
        help="`list` (the default) optionally filtered by shell patterns like 'mme*'; `show NAME` prints a "
        "task's or group's resolved config as YAML",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="load every task (or those matching the patterns) without its data and summarise what blocks "
        "the ones that do not resolve, by cause",
    )
    parser.add_argument(
        "--model",
        default=None,
        help="with --check: also name the tasks that resolve but cannot run on this model (audio tasks on a "
        "model that takes no audio, multiple_choice tasks on one without log-likelihoods…)",
    )
    parser.add_argument(
        "--include_path",
        "--include-path",
        dest="include_path",
        action="append",
        default=None,
        metavar="DIR",
        help="extra folder of task YAML files, searched recursively (repeatable)",
    )


def run(args: argparse.Namespace, settings: Settings, redactor: _Redactor) -> int:
    from assay.tasks import TaskRegistry

    words: list[str] = list(args.action or [])
    command = words.pop(0) if words and words[0] in ("list", "show") else "list"
    import assay.compat  # noqa: F401  (answers `import lmms_eval` for task helpers)

    registry = TaskRegistry.discover(settings, include_paths=[Path(p) for p in args.include_path or []])
    if getattr(args, "check", False):
        from assay.cli.tasks_check import print_check

        return print_check(registry, settings, words, redactor, model=getattr(args, "model", None))
    if command == "show":
        if len(words) != 1:
            raise UsageError(
                "`assay tasks show` needs exactly one task or group name", hint="e.g. assay tasks show mme"
            )
        from assay.tasks.yaml.loader import dump_yaml

        name = words[0]
        text = f"# {_location(registry, name)}\n" + dump_yaml(registry.config(name))
        sys.stdout.write(redactor.redact(text))
        return 0
    _print(_table(registry, words), redactor)
    return 0


def _table(registry: TaskRegistry, patterns: list[str]) -> list[str]:
    """The listing as aligned plain-text lines (a rich table takes ~0.9 s for lmms-eval's 1,900 rows)."""

    def wanted(name: str) -> bool:
        return not patterns or any(fnmatch.fnmatchcase(name, p) for p in patterns)

    rows: list[tuple[str, str, str, str]] = []
    for name in filter(wanted, registry.group_names()):
        info = registry.group(name)
        rows.append((name, "group", _members(info.members, info.alias), _location(registry, name)))
    for name in filter(wanted, registry.tag_names()):
        rows.append((name, "tag", _members(tuple(registry.tag_members(name)), None), ""))
    for name in filter(wanted, registry.task_names()):
        alias = registry.task_entry(name).raw.get("task_alias")
        rows.append((name, "task", str(alias) if alias else "", _location(registry, name)))
    counts = (len(registry.task_names()), len(registry.group_names()), len(registry.tag_names()))
    caption = f"{len(rows)} shown" if patterns else ", ".join(
        _count(n, kind) for n, kind in zip(counts, ("task", "group", "tag"), strict=True)
    )
    header = ("name", "kind", "description", "defined in")
    cells = [header, *((n, k, _cut(d, 40), w) for n, k, d, w in rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(3)]
    lines = ["  ".join(row[i].ljust(widths[i]) for i in range(3)) + "  " + row[3] for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths) + "  " + "-" * len("defined in"))
    return ["tasks, groups and tags", *(line.rstrip() for line in lines), caption]


def _cut(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _count(n: int, kind: str) -> str:
    return f"{n} {kind}" if n == 1 else f"{n} {kind}s"


def _members(members: tuple[str, ...], alias: str | None) -> str:
    listed = ", ".join(members[:6]) + (f", … ({len(members)} in all)" if len(members) > 6 else "")
    return f"{alias}: {listed}" if alias else listed


def _location(registry: TaskRegistry, name: str) -> str:
    from assay.tasks.registry.discovery import BUILTIN_DIR

    if name in registry.task_names():
        entry = registry.task_entry(name)
        path, source = entry.yaml_path, entry.source
    elif name in registry.group_names():
        info = registry.group(name)
        if info.yaml_path is None:
            return info.source
        path, source = info.yaml_path, info.source
    else:
        return "tag"
    if path.is_relative_to(BUILTIN_DIR):
        return f"builtin/{path.relative_to(BUILTIN_DIR)}"
    return f"{source}: {path}" if source.startswith("plugin") else str(path)


def _print(lines: list[str], redactor: _Redactor) -> None:
    sys.stdout.write(redactor.redact("\n".join(lines) + "\n"))
