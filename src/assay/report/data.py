"""What the report shows of one finished run, as a JSON-ready document: its header, its tasks (metrics,
counts, tokens, cost and time, paid vs cached), and one item per logged sample with the sample's own
scores as the task computed them.

Runs are joined on (task, doc_id) in the page itself, so a single file and a report folder (where any
runs are picked from the index) share one path. Long strings are cut (the samples files keep them
whole); thumbnails go through a :class:`MediaTable` (embedded, within a budget).
"""

from __future__ import annotations

import math
from typing import Any

from assay.records import ResultsDocument, SampleRecord, TaskResult
from assay.report.media import MediaTable
from assay.sinks import view
from assay.sinks.rundir import FinishedRun

MAX_TEXT = 4000
MAX_ERROR = 600


def title_of(runs: list[FinishedRun]) -> str:
    if len(runs) == 1:
        run = runs[0]
        provider = (run.results.get("model") or {}).get("provider")
        return f"{run.model_name} ({provider})" if provider and provider != run.model_name else run.model_name
    return "Comparison: " + " vs ".join(run.model_name for run in runs)


def run_payload(run: FinishedRun, media: MediaTable) -> dict[str, Any]:
    """One run: ``run`` (the header), ``tasks``, ``groups``, ``items`` (``t`` indexes ``tasks``)."""
    names = run.task_names
    tasks = [_task(run, name) for name in names]
    items: list[dict[str, Any]] = []
    for index, name in enumerate(names):
        if name not in run.samples:
            continue
        task = tasks[index]
        for record in run.iter_samples(name):
            item = _item(index, record, task, run, media)
            items.append(item)
            _count(task, item)
    return {"run": _summary(run, logged=len(items)), "tasks": tasks, "groups": _groups(run.results), "items": items}


def _summary(run: FinishedRun, *, logged: int) -> dict[str, Any]:
    r = run.results
    timing = r.get("timing") or {}
    versions = r.get("versions") or {}
    judge = r.get("judge") or {}
    return {
        "run_id": run.run_id, "model": run.model_name,
        "provider": (r.get("model") or {}).get("provider") or (r.get("config") or {}).get("model"),
        "status": run.status, "status_reason": r.get("status_reason"),
        "started_at": timing.get("started_at"), "finished_at": timing.get("finished_at"),
        "wall_s": timing.get("wall_s"), "usage": r.get("usage") or {}, "cost": r.get("cost"),
        "model_stats": r.get("model_stats") or {}, "n_samples": r.get("n_samples") or {},
        "limit": (r.get("config") or {}).get("limit"), "assay_version": versions.get("assay"),
        "judges": _judges(r),
        "judged_tasks": judge.get("tasks") or [],
        "task_versions": {name: _task_version(r, name) for name in run.task_names},
        "has_samples": bool(run.samples), "logged": logged, "path": run.results_path.name,
    }


def _judges(results: ResultsDocument) -> list[dict[str, Any]]:
    """Each judge the run used: its profile, provider and model (the models it called, where it says so)."""
    judge = results.get("judge") or {}
    configured = judge.get("judges") or {}
    out = [{"profile": str(name), "provider": c.get("provider"), "model": c.get("model")}
           for name, c in configured.items() if isinstance(c, dict)]
    known = {(j["profile"], j["model"]) for j in out}
    out += [{"profile": m.get("profile"), "provider": None, "model": m.get("model")} for m in judge.get("models") or []
            if (m.get("profile"), m.get("model")) not in known]
    return out


def _task_version(results: ResultsDocument, task: str) -> Any:
    versions = results.get("versions") or {}
    if task in versions:
        return versions[task]
    config = (results.get("configs") or {}).get(task)
    metadata = config.get("metadata") if isinstance(config, dict) else None
    return metadata.get("version") if isinstance(metadata, dict) else None


def _task(run: FinishedRun, name: str) -> dict[str, Any]:
    entry = (run.results.get("results") or {}).get(name)
    primary, higher = view.primary_metric(entry)
    out: dict[str, Any] = {"name": name, "primary": primary, "higher_is_better": higher, "alias": name,
                           "logged": 0, "time_paid_s": 0.0, "time_cached_s": 0.0, "result": None,
                           # the names an lmms-eval sample record uses for its top-level score keys
                           "metric_names": [m.split(",")[0] for m in view.task_metrics(entry)]}
    if isinstance(entry, dict):
        out["alias"] = str(entry.get("alias") or name)
        out["result"] = {
            "metrics": view.task_metrics(entry), "n_samples": entry.get("n_samples"),
            "n_scored": entry.get("n_scored"), "n_errors": entry.get("n_errors"),
            "errors": entry.get("errors") or {}, "judge": _judge_counts(entry),
            "usage": entry.get("usage") or {}, "usage_from_cache": entry.get("usage_from_cache") or {},
            "n_cached": entry.get("n_cached"), "cost": _task_cost(run.results, entry),
        }
    return out


def _task_cost(results: ResultsDocument, entry: TaskResult) -> dict[str, float] | None:
    """USD of the task's paid tokens, and what its cached answers would have cost, at the run's price."""
    meter = (results.get("cost") or {}).get("model") or {}
    price = meter.get("price") if isinstance(meter, dict) else None
    if not isinstance(price, dict):
        return None
    rates = price.get("input_per_mtok"), price.get("output_per_mtok")
    if not all(isinstance(x, (int, float)) for x in rates):
        return None

    def usd(tokens: Any) -> float:
        tokens = tokens if isinstance(tokens, dict) else {}
        return sum(float(tokens.get(k) or 0) * float(rate or 0) / 1e6
                   for k, rate in zip(("input_tokens", "output_tokens"), rates, strict=True))

    return {"paid": round(usd(entry.get("usage")), 6), "cached": round(usd(entry.get("usage_from_cache")), 6)}


def _judge_counts(entry: TaskResult) -> dict[str, Any]:
    """A judged task's counts: judged, failed (and by reason), failure rate."""
    if "n_judged" not in entry:
        return {}
    out: dict[str, Any] = {"judged": entry.get("n_judged"), "failed": entry.get("n_judge_failed")}
    for reason, n in (entry.get("judge_failed") or {}).items():
        out[f"failed ({reason})"] = n
    if "judge_failure_rate" in entry:
        out["failure rate"] = entry["judge_failure_rate"]
    return out


def _groups(results: ResultsDocument) -> list[dict[str, Any]]:
    out = []
    for name, entry in (results.get("groups") or {}).items():
        metrics = entry.get("metrics") if isinstance(entry, dict) else None
        if isinstance(metrics, dict):
            out.append({"name": str(name), "metrics": {str(m): v if isinstance(v, dict) else {"value": v}
                                                       for m, v in metrics.items()}})
    return out


def _item(index: int, record: SampleRecord, task: dict[str, Any], run: FinishedRun,
          media: MediaTable) -> dict[str, Any]:
    refs, left_out = media.refs(record.get("media"), run.folder)
    out: dict[str, Any] = {
        "t": index, "d": record.get("doc_id"), "p": _cut(view.prompt_text(record)),
        "g": _cut(view.target_text(record)), "i": refs,
        "s": view.state_of(record, task["primary"], task["higher_is_better"], task["metric_names"]),
        "a": _cut(view.answer_text(record)), "l": record.get("latency_s"), "c": bool(record.get("cached")),
    }
    if left_out:
        out["x"] = left_out
    audio = [[a.get("duration_s"), a.get("sample_rate"), a.get("format")]
             for a in record.get("audio") or [] if isinstance(a, dict)]
    if audio:  # what the model heard; the clip itself plays when saved as media of kind "audio"
        out["au"] = audio
    scores = view.sample_scores(record, task["metric_names"])
    if scores:
        out["m"] = scores
    kind = view.error_kind(record)
    if kind:
        out["e"] = [kind, _cut(view.error_message(record), MAX_ERROR)]
    judge = view.judge_text(record)
    if judge:
        out["j"] = _cut(judge)
    verdicts = view.judge_values(record)
    if verdicts:
        out["v"] = verdicts
    return out


def _count(task: dict[str, Any], item: dict[str, Any]) -> None:
    task["logged"] += 1
    latency = item.get("l")
    if isinstance(latency, (int, float)) and math.isfinite(latency):
        task["time_cached_s" if item["c"] else "time_paid_s"] += float(latency)


def _cut(text: str | None, limit: int = MAX_TEXT) -> str | None:
    if text is None:
        return None
    return text if len(text) <= limit else text[:limit] + f"… [{len(text) - limit} more characters in the samples file]"
