"""Reading a sample record the way a person looks at it: prompt, answer, target, judge text, outcome.

W&B sample tables and the HTML report show the same things; both read them here. Records written by
lmms-eval (``arguments`` as a list, ``filtered_resps`` as a bare value) are read too.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from assay.text import clip

State = Literal["correct", "wrong", "partial", "scored", "error", "answered"]
STATES: tuple[State, ...] = ("correct", "wrong", "partial", "scored", "error", "answered")


def prompt_text(record: Mapping[str, Any]) -> str:
    """The prompt as logged: ``role: text`` per message (media as placeholders)."""
    args = record.get("arguments")
    if isinstance(args, dict) and isinstance(args.get("messages"), list):
        lines = []
        for message in args["messages"]:
            if isinstance(message, dict):
                lines.append(f"{message.get('role', 'user')}: {message.get('content', '')}")
        return "\n".join(lines)
    if isinstance(args, (list, tuple)) and args:  # lmms-eval: [[context, gen_kwargs, ...], ...]
        first = args[0]
        if isinstance(first, (list, tuple)) and first:
            return str(first[0])
        return str(first)
    value = record.get("input")
    return "" if value is None else str(value)


def answer_text(record: Mapping[str, Any]) -> str | None:
    """The (filtered) answer, or None when the model gave none."""
    for key in ("filtered_resps", "resps"):
        value = record.get(key)
        while isinstance(value, list) and value:
            value = value[0]
        if value is not None and not isinstance(value, list):
            return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return None


def target_text(record: Mapping[str, Any]) -> str:
    target = record.get("target")
    if target is None:
        return ""
    return target if isinstance(target, str) else json.dumps(target, ensure_ascii=False, default=str)


def judge_entries(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each judgement of the sample: ``judge`` is ``{"status", "judgements": [...], "reason"?}`` (assay's
    judge), or a single judgement, or a list of them."""
    judge = record.get("judge")
    if isinstance(judge, dict) and isinstance(judge.get("judgements"), list):
        judge = judge["judgements"]
    if isinstance(judge, dict):
        return [judge]
    if isinstance(judge, list):
        return [j for j in judge if isinstance(j, dict)]
    return []


def judge_text(record: Mapping[str, Any]) -> str:
    """What the judge said (its raw text), with the failure reason for failed judgements."""
    pieces = []
    judge = record.get("judge")
    if isinstance(judge, dict) and judge.get("status") == "failed":
        pieces.append(f"[judge failed: {judge.get('reason', '?')}] {judge.get('detail') or ''}".strip())
    for entry in judge_entries(record):
        raw = entry.get("raw") or entry.get("rationale") or entry.get("explanation") or ""
        if entry.get("ok") is False:
            detail = entry.get("detail") or ""
            pieces.append(f"[{entry.get('reason', 'failed')}] {detail} {raw}".strip())
        elif raw:
            pieces.append(str(raw))
    return "\n---\n".join(pieces)


def error_kind(record: Mapping[str, Any]) -> str | None:
    error = record.get("error")
    if isinstance(error, dict):
        return str(error.get("type") or "error")
    return "error" if error else None


def error_message(record: Mapping[str, Any]) -> str:
    error = record.get("error")
    if isinstance(error, dict):
        return str(error.get("message") or "")
    return "" if not error else str(error)


def state_of(record: Mapping[str, Any], metric: str | None, higher_is_better: bool = True,
             names: Sequence[str] = ()) -> State:
    """The sample's outcome on ``metric`` (its task's first metric; for a sample scored on other metrics
    only, the first of its own). ``names``: the task's metrics, for lmms-eval records (see
    :func:`record_metrics`).

    A value in [0, 1] reads as correct at the best end, wrong at the worst and partial between; a
    value outside that range is just ``scored``; no metric at all (``--predict_only``) is ``answered``.
    """
    if error_kind(record):
        return "error"
    metrics = record_metrics(record, names or ([metric] if metric else []))
    if metric is None or not metrics:
        return "answered"
    if metric not in metrics:  # MME-style: each doc scores one of the task's metrics; read the one it has
        metric = next(iter(metrics))
    value = score_value(metrics[metric])
    if value is None or not math.isfinite(value):
        return "scored"
    if not 0 <= value <= 1:
        return "scored"
    best, worst = (1.0, 0.0) if higher_is_better else (0.0, 1.0)
    if value == best:
        return "correct"
    if value == worst:
        return "wrong"
    return "partial"


_SCORE_KEYS = ("score", "acc", "accuracy", "correct", "value", "exact_match")


def score_value(value: Any) -> float | None:
    """A per-sample metric value as a number: a number or bool as is; for the dicts MME/MM-Vet-style
    tasks return (``{"question_id", "category", "score"}``), its score (its only number, or the entry
    named score/acc/correct/value). None when there is no single number to read."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, dict):
        numbers = {k: v for k, v in value.items() if isinstance(v, (int, float))}
        for key in _SCORE_KEYS:
            if key in numbers:
                return float(numbers[key])
        if len(numbers) == 1:
            return float(next(iter(numbers.values())))
    return None


def record_metrics(record: Mapping[str, Any], names: Sequence[str] = ()) -> dict[str, Any]:
    """A sample's scores: assay's ``metrics``; in lmms-eval's samples files, where each metric is a
    top-level key of the record, those of ``names`` (the task's metric names) it has."""
    metrics = record.get("metrics")
    if isinstance(metrics, dict):
        return metrics
    return {name: record[name] for name in names if name in record}


def sample_scores(record: Mapping[str, Any], names: Sequence[str] = ()) -> dict[str, Any]:
    """The sample's own scores as the task computed them, one entry per metric: a number (read through
    :func:`score_value`), else the value's text (a string, a list…), so nothing the task said is hidden."""
    metrics = record_metrics(record, names)
    out: dict[str, Any] = {}
    for name, value in metrics.items():
        number = score_value(value)
        if number is not None:
            out[str(name)] = number
        elif isinstance(value, str) or value is None:
            out[str(name)] = value
        else:
            out[str(name)] = clip(json.dumps(value, ensure_ascii=False, default=str), 200)
    return out


def judge_values(record: Mapping[str, Any]) -> list[Any]:
    """What each successful judgement of the sample decided (its parsed ``value``: a score, yes/no…),
    for the distribution of judge verdicts. Dict verdicts give their score (``score_value``)."""
    out: list[Any] = []
    for entry in judge_entries(record):
        if entry.get("ok") is False or "value" not in entry:
            continue
        value = entry["value"]
        if isinstance(value, dict):
            value = score_value(value)
        if isinstance(value, (int, float, str)) and not isinstance(value, bool):
            out.append(value)
        elif isinstance(value, bool):
            out.append("yes" if value else "no")
    return out


def task_metrics(task_result: Mapping[str, Any] | None) -> dict[str, dict[str, Any]]:
    """A task's metrics as ``{name: {"value", "stderr", "ci95", "n", "higher_is_better"…}}``, from assay's
    results entry, or from lmms-eval's flat one (``"acc,none": v, "acc_stderr,none": se``)."""
    if not isinstance(task_result, dict):
        return {}
    metrics = task_result.get("metrics")
    if isinstance(metrics, dict):
        return {str(k): (v if isinstance(v, dict) else {"value": v}) for k, v in metrics.items()}
    out: dict[str, dict[str, Any]] = {}
    for key, value in task_result.items():
        if key == "alias" or isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        name, _, filt = str(key).partition(",")
        if name.endswith("_stderr"):
            continue
        stderr = task_result.get(f"{name}_stderr,{filt}" if filt else f"{name}_stderr")
        label = name if filt in ("", "none") else f"{name},{filt}"
        out[label] = {"value": value, "stderr": stderr if isinstance(stderr, (int, float)) else None}
    return out


def primary_metric(task_result: Mapping[str, Any] | None) -> tuple[str | None, bool]:
    """(the first metric of a task's results entry, whether higher is better)."""
    metrics = task_metrics(task_result)
    if not metrics:
        return None, True
    name, entry = next(iter(metrics.items()))
    return name, bool(entry.get("higher_is_better", True))


def metric_value(entry: Any) -> Any:
    """A metric's value from a results entry (``{"value": …}``) or an lmms-eval bare value."""
    return entry.get("value") if isinstance(entry, dict) else entry
