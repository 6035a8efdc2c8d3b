"""Assembling the report file: the template, its CSS and script, and the run data as embedded JSON."""

from __future__ import annotations

import html
import json
import os
import secrets
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assay.errors import ConfigError

if TYPE_CHECKING:
    from assay.env.redaction import Redactor
    from assay.sinks.rundir import FinishedRun


def default_output(runs: list[FinishedRun]) -> Path:
    """Beside the run (``{run_id}_report.html``); for a comparison, beside the first run."""
    first = runs[0]
    if len(runs) == 1:
        return first.folder / f"{first.run_id}_report.html"
    return first.folder / f"{first.run_id}_compare_{len(runs)}_runs_report.html"


def write_report(runs: list[FinishedRun], output: Path | None = None, *, redactor: Redactor,
                 title: str | None = None) -> Path:
    """Write the report for ``runs`` (one run, or several side by side) and return its path."""
    from assay.report.data import build

    path = Path(output).expanduser() if output is not None else default_output(runs)
    if path.is_dir():
        path = path / default_output(runs).name
    payload = build(runs, path.parent, title=title)
    text = render(payload, redactor)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)  # a reader never sees half a report
    except OSError as exc:
        raise ConfigError(f"cannot write the report {path}: {exc.strerror or exc}",
                          hint="pass --output with a writable path") from None
    return path


def render(payload: dict[str, Any], redactor: Redactor) -> str:
    from assay.sinks.files import redact_values

    assets = resources.files("assay.report").joinpath("assets")
    template = assets.joinpath("report.html").read_text(encoding="utf-8")
    css = assets.joinpath("report.css").read_text(encoding="utf-8")
    script = assets.joinpath("report.js").read_text(encoding="utf-8")
    # Redacted before serialization; `<` escaped so no string can close the <script> element.
    data = json.dumps(redact_values(payload, redactor.redact), ensure_ascii=False, separators=(",", ":"))
    data = data.replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    title = html.escape(redactor.redact(str(payload.get("title") or "assay report")))
    head, tail = template.split("__ASSAY_DATA__", 1)  # split first: no value can be taken for a placeholder
    head = head.replace("__ASSAY_TITLE__", title).replace("/*__ASSAY_CSS__*/", css)
    return head + data + tail.replace("/*__ASSAY_JS__*/", script)
