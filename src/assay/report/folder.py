"""``assay report ./logs``: a report folder over every run found there.

The folder holds ``index.html`` (one row per run: status, model, provider, tasks, headline metrics,
cost, date; sortable and filterable; tick several to open them side by side), ``report.html`` (the
viewer: ``report.html#r0,r3`` shows runs r0 and r3) and ``data/rN.js`` (each run's data, thumbnails
embedded). Nothing in it points outside it, so it keeps working when moved; it is written beside
the final one and swapped in whole, so a reader never sees half of it.
"""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assay.errors import ConfigError
from assay.report.safety import clean_page_data, is_report

if TYPE_CHECKING:
    from assay.env.redaction import Redactor
    from assay.sinks.rundir import FinishedRun

DEFAULT_NAME = "assay_report"
_HEADLINE = 3  # metrics per run shown in the index


def write_folder(runs: list[FinishedRun], output: Path, *, redactor: Redactor, title: str | None = None) -> Path:
    """Write the report folder for ``runs`` at ``output`` (replacing an earlier report folder only)."""
    output = output.expanduser()
    if output.exists() and not (output.is_dir() and is_report(output / "index.html")):
        raise ConfigError(f"refusing to write the report folder over {output}: it exists and is not an assay "
                          "report folder", hint="pass --output with a new folder name, or remove it first")
    staging = output.with_name(f".{output.name}.{secrets.token_hex(4)}.tmp")
    try:
        _fill(staging, runs, redactor, title or f"Runs in {output.parent.name or output.parent}")
        _swap(staging, output)
    except OSError as exc:
        raise ConfigError(f"cannot write the report folder {output}: {exc.strerror or exc}",
                          hint="pass --output with a writable folder") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return output / "index.html"


def _fill(folder: Path, runs: list[FinishedRun], redactor: Redactor, title: str) -> None:
    from assay.errors import AssayError
    from assay.report.data import run_payload
    from assay.report.media import MediaTable
    from assay.report.page import embedded_json, render

    (folder / "data").mkdir(parents=True)
    rows = []
    for number, run in enumerate(runs):
        key = f"r{number}"
        media = MediaTable()
        try:
            payload = run_payload(run, media)
        except AssayError as exc:  # a samples file edited by hand: the run is listed, with why it cannot open
            rows.append({"key": key, "run_id": run.run_id, "model": run.model_name, "status": "unreadable",
                         "status_reason": exc.message, "tasks": run.task_names, "headline": [],
                         "has_samples": False, "logged": 0, "broken": True})
            continue
        data = {"key": key, "run": payload, "media": media.table, "left_out": len(media.over)}
        # A script, not JSON: pages opened from disk may load scripts beside them, never fetch files.
        text = f"assayRunLoaded({embedded_json(clean_page_data(data, redactor.redact))});\n"
        (folder / "data" / f"{key}.js").write_text(text, encoding="utf-8")
        rows.append(_row(key, payload))
    sources = {row["key"]: f"data/{row['key']}.js" for row in rows if not row.get("broken")}
    (folder / "index.html").write_text(render("index", {"title": title, "rows": rows}, redactor), encoding="utf-8")
    viewer = {"title": title, "runs": [], "media": {}, "sources": sources}
    (folder / "report.html").write_text(render("report", viewer, redactor), encoding="utf-8")


def _row(key: str, payload: dict[str, Any]) -> dict[str, Any]:
    """A run's line in the index: what tells runs apart at a glance."""
    run = payload["run"]
    headline: list[dict[str, Any]] = []
    for task in payload["tasks"]:
        result = task["result"]
        metric = task["primary"]
        if result and metric and len(headline) < _HEADLINE:
            entry = result["metrics"].get(metric) or {}
            headline.append({"task": task["name"], "metric": metric, "value": entry.get("value")})
    cost = run.get("cost")
    return {
        "key": key, "run_id": run["run_id"], "model": run["model"], "provider": run["provider"],
        "status": run["status"], "status_reason": run["status_reason"], "started_at": run["started_at"],
        "wall_s": run["wall_s"], "tasks": [t["name"] for t in payload["tasks"]], "headline": headline,
        "cost": cost.get("total_usd") if isinstance(cost, dict) else cost, "logged": run["logged"],
        "has_samples": run["has_samples"],
    }


def _swap(staging: Path, output: Path) -> None:
    """Put ``staging`` at ``output`` whole: the earlier folder is moved aside first, then removed."""
    old = output.with_name(f".{output.name}.{secrets.token_hex(4)}.old") if output.exists() else None
    if old is not None:
        os.replace(output, old)
    try:
        os.replace(staging, output)
    except OSError:
        if old is not None:
            os.replace(old, output)  # put the earlier report back
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
