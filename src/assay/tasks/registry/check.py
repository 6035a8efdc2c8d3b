"""``assay tasks --check``: resolve every task (config, ``!function`` imports, metrics, filters), no data.

Each task either resolves or is blocked for one cause; the causes are short, stable strings so a
summary can count them (``needs package cv2 -> opencv-python-headless [lmms]``, ``output_type
generate_visual_cot``, ``lmms_eval.X missing``…). Files skipped at discovery count under their own cause.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from assay.errors import AssayError

if TYPE_CHECKING:
    from assay.env.settings import Settings
    from assay.tasks.registry.index import TaskRegistry

_CAUSES: tuple[tuple[str, Callable[[re.Match[str]], str]], ...] = (
    (r"needs the Python package (\S+) \(module ([\w.]+)\).*?hint: (.*)$",
     lambda m: f"needs {m.group(1)} ({m.group(3)})"),
    (r"module (lmms_eval[\w.]*) is not part of", lambda m: f"lmms_eval name missing: {m.group(1)}"),
    (r"module (lmms_eval[\w.]*) does not exist in lmms-eval either",
     lambda m: f"broken in the tree: imports {m.group(1)}, which lmms-eval lacks"),
    (r"cannot import name '(\w+)' from '(lmms_eval[\w.]*)'",
     lambda m: f"lmms_eval name missing: {m.group(2)}.{m.group(1)}"),
    (r"output_type (\w+) is not supported", lambda m: f"refused: output_type {m.group(1)}"),
    (r"`(\w+)` is not supported", lambda m: f"refused: key {m.group(1)}"),
    (r"unknown keys? ('[^']+')", lambda m: f"unknown key {m.group(1)}"),
    (r"unknown metric '([^']+)'", lambda m: f"unknown metric {m.group(1)}"),
    (r"unknown aggregation '([^']+)'", lambda m: f"unknown aggregation {m.group(1)}"),
    (r"is not supported", lambda m: "refused: other"),
    (r"LocalEntryNotFoundError|OfflineModeIsEnabled|outgoing traffic has been disabled|locate the file on the Hub",
     lambda m: "needs the Hugging Face Hub at import (offline)"),
    (r"OPENAI_API_KEY|api_key client option|Missing credentials", lambda m: "needs OPENAI_API_KEY at import"),
    (r"has no attribute '(\w+)'", lambda m: "function missing from the task folder"),
    (r"called sys\.exit", lambda m: "task code exits at import"),
    (r"importing .* failed: (\w+)", lambda m: f"task code fails at import ({m.group(1)})"),
)


def cause_of(message: str, hint: str = "") -> str:
    text = f"{message} hint: {hint}"
    for pattern, label in _CAUSES:
        m = re.search(pattern, text)
        if m:
            return label(m)
    return "other"


@dataclass
class CheckReport:
    resolved: list[str] = field(default_factory=list)
    blocked: dict[str, tuple[str, str]] = field(default_factory=dict)  # task -> (cause, one-line message)
    skipped_files: list[tuple[str, str]] = field(default_factory=list)  # (message, cause)

    @property
    def total(self) -> int:
        return len(self.resolved) + len(self.blocked)

    def by_cause(self) -> list[tuple[str, int]]:
        counts = Counter(cause for cause, _ in self.blocked.values())
        counts.update(cause for _, cause in self.skipped_files)
        return counts.most_common()


def check_tasks(registry: TaskRegistry, settings: Settings, names: Iterable[str] | None = None,
                model_name: str = "openai") -> CheckReport:
    """Load every task (or ``names``) without its data; one cause per blocked task."""
    report = CheckReport(skipped_files=[(p.message, p.cause) for p in registry.problems])
    for name in names if names is not None else registry.task_names():
        try:
            registry.load(name, settings=settings, model_name=model_name)
        except AssayError as exc:
            report.blocked[name] = (cause_of(exc.message, exc.hint), exc.message.splitlines()[0])
        except Exception as exc:
            report.blocked[name] = (f"task code fails at load ({type(exc).__name__})", f"{name}: {exc}")
        else:
            report.resolved.append(name)
    return report
