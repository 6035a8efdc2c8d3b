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


def print_check(registry: TaskRegistry, settings: Settings, patterns: list[str], redactor: _Redactor) -> int:
    """Print skipped files, blocked tasks (when patterns narrow the check) and the summary; 1 if any blocked."""
    from assay.tasks.registry.check import check_tasks

    names = [n for n in registry.task_names() if not patterns or any(fnmatch.fnmatchcase(n, p) for p in patterns)]
    report = check_tasks(registry, settings, names)
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
    sys.stdout.write(redactor.redact("\n".join(lines) + "\n"))
    return 1 if report.blocked or report.skipped_files else 0
