"""The dataset card (README.md) of a Hub repo that runs are pushed to: which runs it holds, their metrics,
and ``configs`` so the Hub's viewer and ``datasets.load_dataset(repo, name=…, split="latest")`` find them.

A card is updated, never replaced: the run index lives in a comment inside assay's own section
(``<!-- assay:begin -->`` … ``<!-- assay:end -->``); text outside it and front-matter keys assay does not
own are kept. Rendering is deterministic, so pushing the same run twice yields the same bytes.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from assay.sinks import view

if TYPE_CHECKING:
    from assay.sinks.rundir import FinishedRun

BEGIN, END = "<!-- assay:begin -->", "<!-- assay:end -->"
_INDEX = re.compile(r"<!-- assay:runs\n(.*?)\n-->", re.S)
_FRONT = re.compile(r"\A---\n(.*?\n)?---\n?", re.S)
_SPLIT = re.compile(r"[^\w]+")


def run_entry(run: FinishedRun, *, results_file: str | None, sample_files: dict[str, str] | None) -> dict[str, Any]:
    """What the card says about one run (paths are paths in the repo)."""
    metrics: dict[str, dict[str, Any]] = {}
    for task, entry in (run.results.get("results") or {}).items():
        values = {m: view.metric_value(v) for m, v in view.task_metrics(entry).items()}
        metrics[str(task)] = {m: v for m, v in values.items() if isinstance(v, (int, float)) or v is None}
    timing = run.results.get("timing") or {}
    out: dict[str, Any] = {"run_id": run.run_id, "model": run.model_name, "model_dir": run.model_dir,
                           "status": run.status, "started_at": timing.get("started_at"), "metrics": metrics}
    if results_file:
        out["results_file"] = results_file
    if sample_files:
        out["samples"] = dict(sample_files)
    return out


def render(old: str | None, entry: dict[str, Any], *, repo: str, leaderboard_url: str = "",
           point_of_contact: str = "") -> str:
    front, body = _split(old or "")
    runs = _merge(_index(body), entry)
    front.setdefault("pretty_name", f"Evaluation results ({repo.split('/')[-1]})")
    front["tags"] = sorted({*(front.get("tags") or []), "assay", "evaluation", "lmms-eval"})
    if leaderboard_url:
        front["leaderboard_url"] = leaderboard_url
    if point_of_contact:
        front["point_of_contact"] = point_of_contact
    ours = _configs(runs)
    kept = [c for c in front.get("configs") or [] if isinstance(c, dict) and c.get("config_name") not in
            {o["config_name"] for o in ours}]
    front["configs"] = kept + ours
    section = _section(runs, repo, leaderboard_url, point_of_contact)
    if BEGIN in body and END in body:
        head, rest = body.split(BEGIN, 1)
        body = head + section + rest.split(END, 1)[1]
    else:
        body = (body.rstrip() + "\n\n" if body.strip() else "") + section + "\n"
    import yaml

    return "---\n" + yaml.safe_dump(front, sort_keys=False, allow_unicode=True) + "---\n\n" + body.lstrip("\n")


def runs_in(card_text: str) -> list[dict[str, Any]]:
    """The run index of a card (for tests and tools)."""
    return _index(_split(card_text)[1])


def _split(text: str) -> tuple[dict[str, Any], str]:
    import yaml

    match = _FRONT.match(text)
    if not match:
        return {}, text
    try:
        front = yaml.safe_load(match.group(1) or "") or {}
    except yaml.YAMLError:
        front = {}
    return (front if isinstance(front, dict) else {}), text[match.end():]


def _index(body: str) -> list[dict[str, Any]]:
    match = _INDEX.search(body)
    if not match:
        return []
    try:
        runs = json.loads(match.group(1))
    except ValueError:
        return []
    return [r for r in runs if isinstance(r, dict) and r.get("run_id")] if isinstance(runs, list) else []


def _merge(runs: list[dict[str, Any]], entry: dict[str, Any]) -> list[dict[str, Any]]:
    key = (entry["model_dir"], entry["run_id"])
    merged = dict(entry)
    for old in runs:
        if (old.get("model_dir"), old.get("run_id")) == key:
            merged = {**old, **entry, "samples": {**(old.get("samples") or {}), **(entry.get("samples") or {})}}
            if not merged["samples"]:
                del merged["samples"]
    others = [r for r in runs if (r.get("model_dir"), r.get("run_id")) != key]
    return sorted([*others, merged], key=_age)


def _age(run: dict[str, Any]) -> tuple[str, str, str]:
    """Oldest first: by start time (two runs can share a run id's second), then run id."""
    return str(run.get("model_dir")), str(run.get("started_at") or run.get("run_id")), str(run.get("run_id"))


def _configs(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One config per model's results and per model and task's samples: a split per run, plus `latest`."""
    files: dict[str, list[tuple[str, str]]] = {}
    for run in runs:  # oldest first: the last one of each config is the latest
        model = _SPLIT.sub("_", str(run["model_dir"]))
        if run.get("results_file"):
            files.setdefault(f"{model}__results", []).append((str(run["run_id"]), str(run["results_file"])))
        for task, path in sorted((run.get("samples") or {}).items()):
            files.setdefault(f"{model}__{_SPLIT.sub('_', task)}", []).append((str(run["run_id"]), str(path)))
    out = []
    for name in sorted(files):
        splits = [{"split": "run_" + _SPLIT.sub("_", run_id), "path": [path]} for run_id, path in files[name]]
        splits.append({"split": "latest", "path": [files[name][-1][1]]})
        out.append({"config_name": name, "data_files": splits})
    return out


def _section(runs: list[dict[str, Any]], repo: str, leaderboard_url: str, point_of_contact: str) -> str:
    lines = [BEGIN, "# Evaluation results", "",
             f"Runs evaluated with assay (lmms-eval compatible) and pushed to `{repo}`. "
             "Each configuration holds one model's results or one model's samples for one task; each run is a "
             "split named after its run id, and `latest` is the newest.", "",
             "| model | run | status | task | metric | value |", "|---|---|---|---|---|---|"]
    for run in sorted(runs, key=lambda r: _age(r)[1:], reverse=True):
        for task, metrics in sorted((run.get("metrics") or {}).items()):
            for metric, value in metrics.items():
                shown = f"{value:.4f}" if isinstance(value, float) else ("—" if value is None else str(value))
                lines.append(f"| {_cell(run.get('model'))} | {_cell(run.get('run_id'))} | {_cell(run.get('status'))} "
                             f"| {_cell(task)} | {_cell(metric)} | {shown} |")
    example = next((c for c in _configs(runs) if not c["config_name"].endswith("__results")), None)
    if example is not None:
        lines += ["", "Load a run's samples:", "", "```python", "from datasets import load_dataset",
                  f'samples = load_dataset("{repo}", name="{example["config_name"]}", split="latest")', "```"]
    if leaderboard_url:
        lines += ["", f"Leaderboard: {leaderboard_url}"]
    if point_of_contact:
        lines += ["", f"Point of contact: {point_of_contact}"]
    index = json.dumps(runs, ensure_ascii=False, sort_keys=True).replace("--", "-\\u002d")
    lines += ["", "<!-- assay:runs", index, "-->", END]
    return "\n".join(lines)


def _cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")
