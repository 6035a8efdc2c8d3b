"""``assay tasks --check``: resolve every task (config, ``!function`` imports, metrics, filters), no data.

Each task either resolves or is blocked for one cause; the causes are short, stable strings so a
summary can count them (``needs package cv2 -> opencv-python-headless [lmms]``, ``output_type
generate_visual_cot``, ``lmms_eval.X missing``…). Files skipped at discovery count under their own cause.

Given what a model can take (``--model``), a task that resolves may still be unable to run on it: it sends
audio (its ``doc_to_visual`` is an audio helper: ``doc_to_audio``, ``librispeech_doc_to_audio``…), images or
video frames (any other ``doc_to_visual``), or it needs log-likelihoods (``multiple_choice``). Read from the
config, without data, so it is what the task *may* send.
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
    from assay.tasks.task import Task

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


def needs(task: Task) -> tuple[str, ...]:
    """What ``task`` needs of a model beyond text: ``audio``, ``image`` (images or video frames),
    ``loglikelihood``."""
    visual = task.config.doc_to_visual
    out: list[str] = []
    if visual is not None:
        out.append("audio" if "audio" in str(getattr(visual, "__name__", visual)).lower() else "image")
    if task.output_type == "multiple_choice":
        out.append("loglikelihood")
    return tuple(out)


@dataclass
class CheckReport:
    resolved: list[str] = field(default_factory=list)
    #: Tasks that resolve but need what the model cannot take: task -> what (``audio``, ``image``…).
    unrunnable: dict[str, str] = field(default_factory=dict)
    blocked: dict[str, tuple[str, str]] = field(default_factory=dict)  # task -> (cause, one-line message)
    skipped_files: list[tuple[str, str]] = field(default_factory=list)  # (message, cause)

    @property
    def total(self) -> int:
        return len(self.resolved) + len(self.blocked)

    def by_cause(self) -> list[tuple[str, int]]:
        counts = Counter(cause for cause, _ in self.blocked.values())
        counts.update(cause for _, cause in self.skipped_files)
        return counts.most_common()

    def by_need(self) -> list[tuple[str, int]]:
        return Counter(self.unrunnable.values()).most_common()


def check_tasks(registry: TaskRegistry, settings: Settings, names: Iterable[str] | None = None,
                model_name: str = "openai", accepts: frozenset[str] | None = None) -> CheckReport:
    """Load every task (or ``names``) without its data; one cause per blocked task. With ``accepts`` (what the
    model takes: ``text``, ``image``, ``video``, ``audio``, ``loglikelihood``), resolved tasks needing more
    are listed in ``unrunnable``."""
    report = CheckReport(skipped_files=[(p.message, p.cause) for p in registry.problems])
    for name in names if names is not None else registry.task_names():
        try:
            task = registry.load(name, settings=settings, model_name=model_name)
        except AssayError as exc:
            report.blocked[name] = (cause_of(exc.message, exc.hint), exc.message.splitlines()[0])
        except Exception as exc:
            report.blocked[name] = (f"task code fails at load ({type(exc).__name__})", f"{name}: {exc}")
        else:
            report.resolved.append(name)
            missing = [need for need in needs(task) if accepts is not None and need not in accepts]
            if missing:
                report.unrunnable[name] = " and ".join(missing)
    return report
