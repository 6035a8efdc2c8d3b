"""What the report shows, as one JSON-ready document built from finished runs on disk.

Samples of every run are joined on (task, doc_id), so a multi-run report shows each doc once with every
run's answer beside it. Long strings are cut (the samples files keep them whole); images are paths
relative to the report, never copied in.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

from assay.sinks import view
from assay.sinks.rundir import FinishedRun

MAX_TEXT = 4000
MAX_ERROR = 600


def build(runs: list[FinishedRun], report_dir: Path, *, title: str | None = None) -> dict[str, Any]:
    tasks = _task_order(runs)
    index = {name: i for i, name in enumerate(tasks)}
    primaries = [_primary(runs, name) for name in tasks]
    items: dict[tuple[int, Any], dict[str, Any]] = {}
    for r, run in enumerate(runs):
        for task in run.task_names:
            if task not in run.samples:
                continue
            metric, higher = primaries[index[task]]
            for record in run.iter_samples(task):
                key = (index[task], record.get("doc_id"))
                item = items.get(key)
                if item is None:
                    item = items[key] = _item(key, record, run, report_dir, len(runs))
                elif not item["i"]:
                    item["i"] = _media(record, run, report_dir)
                item["r"][r] = _answer(record, metric, higher)
    return {
        "title": title or _title(runs),
        "runs": [_run_summary(run, report_dir) for run in runs],
        "tasks": [_task_summary(runs, name, primaries[i]) for i, name in enumerate(tasks)],
        "groups": _groups(runs),
        "items": [items[k] for k in sorted(items, key=lambda k: (k[0], _sortable(k[1])))],
    }


def _title(runs: list[FinishedRun]) -> str:
    if len(runs) == 1:
        return f"{runs[0].model_name} · {runs[0].run_id}"
    return "Comparison: " + " vs ".join(run.model_name for run in runs)


def _task_order(runs: list[FinishedRun]) -> list[str]:
    names: list[str] = []
    for run in runs:
        names += [t for t in run.task_names if t not in names]
    return names


def _primary(runs: list[FinishedRun], task: str) -> tuple[str | None, bool]:
    for run in runs:
        metric, higher = view.primary_metric((run.results.get("results") or {}).get(task))
        if metric is not None:
            return metric, higher
    return None, True


def _run_summary(run: FinishedRun, report_dir: Path) -> dict[str, Any]:
    r = run.results
    timing = r.get("timing") or {}
    return {
        "label": f"{run.model_name} · {run.run_id}", "run_id": run.run_id, "model": run.model_name,
        "provider": (r.get("model") or {}).get("provider"), "status": run.status,
        "status_reason": r.get("status_reason"), "started_at": timing.get("started_at"),
        "wall_s": timing.get("wall_s"), "usage": r.get("usage") or {}, "cost": r.get("cost"),
        "model_stats": r.get("model_stats") or {}, "n_samples": r.get("n_samples") or {},
        "path": _rel(run.results_path, report_dir), "limit": (r.get("config") or {}).get("limit"),
    }


def _task_summary(runs: list[FinishedRun], task: str, primary: tuple[str | None, bool]) -> dict[str, Any]:
    per_run: list[dict[str, Any] | None] = []
    alias = task
    for run in runs:
        entry = (run.results.get("results") or {}).get(task)
        if not isinstance(entry, dict):
            per_run.append(None)
            continue
        alias = str(entry.get("alias") or alias)
        per_run.append({
            "metrics": view.task_metrics(entry), "n_samples": entry.get("n_samples"),
            "n_scored": entry.get("n_scored"), "n_errors": entry.get("n_errors"),
            "errors": entry.get("errors") or {}, "judge": _judge_counts(entry),
            "usage": entry.get("usage") or {}, "n_cached": entry.get("n_cached"),
        })
    return {"name": task, "alias": alias, "primary": primary[0], "higher_is_better": primary[1], "per_run": per_run}


def _judge_counts(entry: dict[str, Any]) -> dict[str, Any]:
    """A judged task's counts: judged, failed (and by reason), failure rate."""
    if "n_judged" not in entry:
        return {}
    out: dict[str, Any] = {"judged": entry.get("n_judged"), "failed": entry.get("n_judge_failed")}
    for reason, n in (entry.get("judge_failed") or {}).items():
        out[f"failed ({reason})"] = n
    if isinstance(entry.get("judge_failure_rate"), (int, float)):
        out["failure rate"] = entry["judge_failure_rate"]
    return out


def _groups(runs: list[FinishedRun]) -> list[dict[str, Any]]:
    names: list[str] = []
    for run in runs:
        names += [g for g in (run.results.get("groups") or {}) if g not in names]
    out = []
    for name in names:
        per_run = []
        for run in runs:
            entry = (run.results.get("groups") or {}).get(name)
            metrics = entry.get("metrics") if isinstance(entry, dict) else None
            per_run.append({"metrics": {str(m): v if isinstance(v, dict) else {"value": v}
                                        for m, v in metrics.items()}} if isinstance(metrics, dict) else None)
        out.append({"name": name, "per_run": per_run})
    return out


def _item(key: tuple[int, Any], record: dict[str, Any], run: FinishedRun, report_dir: Path,
          n_runs: int) -> dict[str, Any]:
    return {"t": key[0], "d": key[1], "p": _cut(view.prompt_text(record)), "g": _cut(view.target_text(record)),
            "i": _media(record, run, report_dir), "r": [None] * n_runs}


def _answer(record: dict[str, Any], metric: str | None, higher: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"s": view.state_of(record, metric, higher), "a": _cut(view.answer_text(record))}
    metrics = record.get("metrics")
    if isinstance(metrics, dict) and metrics:
        out["m"] = {str(k): v for k, v in metrics.items() if isinstance(v, (int, float, str, bool)) or v is None}
    kind = view.error_kind(record)
    if kind:
        out["e"] = [kind, _cut(view.error_message(record), MAX_ERROR)]
    judge = view.judge_text(record)
    if judge:
        out["j"] = _cut(judge)
    return out


def _media(record: dict[str, Any], run: FinishedRun, report_dir: Path) -> list[list[Any]]:
    """``[[relative URL, kind], …]`` for thumbnails that exist (a missing file would be a broken image)."""
    out = []
    for entry in record.get("media") or []:
        if not isinstance(entry, dict) or not entry.get("path"):
            continue
        path = run.folder / str(entry["path"])
        if path.is_file():
            out.append([_rel(path, report_dir), str(entry.get("kind", "image"))])
    return out


def _rel(path: Path, report_dir: Path) -> str:
    relative = os.path.relpath(path.resolve(), report_dir.resolve())
    return quote(Path(relative).as_posix())


def _cut(text: str | None, limit: int = MAX_TEXT) -> str | None:
    if text is None:
        return None
    return text if len(text) <= limit else text[:limit] + f"… [{len(text) - limit} more characters in the samples file]"


def _sortable(doc_id: Any) -> tuple[int, Any]:
    return (0, doc_id) if isinstance(doc_id, (int, float)) else (1, str(doc_id))
