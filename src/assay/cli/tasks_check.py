"""``assay tasks --check``: every task loaded without its data; what blocks the others, by cause."""

from __future__ import annotations

import fnmatch
import sys
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from assay.env.settings import Settings
    from assay.tasks import TaskRegistry


class _Redactor(Protocol):
    def redact(self, text: str) -> str: ...


def print_check(registry: TaskRegistry, settings: Settings, patterns: list[str], redactor: _Redactor,
                model: str | None = None) -> int:
    """Print skipped files, blocked tasks (when patterns narrow the check) and the summary; 1 if any blocked.
    With ``model``, also the tasks that resolve but cannot run on it (they send audio it cannot take…)."""
    from assay.tasks.registry.check import check_tasks

    names = [n for n in registry.task_names() if not patterns or any(fnmatch.fnmatchcase(n, p) for p in patterns)]
    accepts = None
    if model is not None:
        from assay.providers import capabilities

        accepts = capabilities(model, settings)
    report = check_tasks(registry, settings, names, model_name=model or "openai", accepts=accepts)
    lines: list[str] = [f"skipped: {message}" for message, _ in report.skipped_files]
    if patterns:
        lines += [f"blocked: {name}: {message}" for name, (_, message) in sorted(report.blocked.items())]
    total = report.total
    share = 100.0 * len(report.resolved) / total if total else 100.0
    lines.append(f"{len(report.resolved)} of {total} tasks resolve ({share:.1f}%); "
                 f"{len(report.blocked)} blocked, {len(report.skipped_files)} files skipped")
    if report.by_cause():
        lines.append("blocked by cause:")
        width = max(len(str(n)) for _, n in report.by_cause())
        lines += [f"  {n:>{width}}  {cause}" for cause, n in report.by_cause()]
    if model is not None:
        lines += _unrunnable(report.unrunnable, report.by_need(), model, listed=bool(patterns))
    sys.stdout.write(redactor.redact("\n".join(lines) + "\n"))
    return 1 if report.blocked or report.skipped_files or report.unrunnable else 0


def _unrunnable(unrunnable: dict[str, str], by_need: list[tuple[str, int]], model: str, *, listed: bool) -> list[str]:
    if not unrunnable:
        return [f"every task that resolves can run on --model {model}"]
    lines = [f"resolves but cannot run on this provider: {name} (needs {need} --model {model} cannot take)"
             for name, need in sorted(unrunnable.items())] if listed else []
    lines.append(f"{len(unrunnable)} resolve but cannot run on --model {model}, by what they need:")
    width = max(len(str(n)) for _, n in by_need)
    return lines + [f"  {n:>{width}}  {need}" for need, n in by_need]
