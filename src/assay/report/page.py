"""Assembling a report page: a template, its CSS and script, and the data as embedded JSON.

``write_report`` writes one self-contained file (one run, or several side by side); ``assay.report.folder``
writes a folder of runs (an index page and a viewer that loads the runs picked there).
"""

from __future__ import annotations

import json
import os
import re
import secrets
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assay.errors import ConfigError
from assay.report.safety import clean, clean_page_data, refuse_run_files

if TYPE_CHECKING:
    from assay.env.redaction import Redactor
    from assay.sinks.rundir import FinishedRun

_MARKER = re.compile(r"__ASSAY_(TITLE|DATA)__|/\*__ASSAY_(CSS|JS)__\*/")
#: The scripts of each page, concatenated in this order into its one inline <script>.
SCRIPTS = {"report": ("common.js", "charts.js", "samples.js", "report.js"), "index": ("common.js", "index.js")}


def default_output(runs: list[FinishedRun]) -> Path:
    """Beside the run (``{run_id}_report.html``); for a comparison, beside the first run."""
    first = runs[0]
    if len(runs) == 1:
        return first.folder / f"{first.run_id}_report.html"
    return first.folder / f"{first.run_id}_compare_{len(runs)}_runs_report.html"


def write_report(runs: list[FinishedRun], output: Path | None = None, *, redactor: Redactor,
                 title: str | None = None) -> Path:
    """Write the report for ``runs`` (one run, or several side by side) and return its path. Never over a
    file of a run, nor over any file that is not an earlier report."""
    from assay.report.data import run_payload, title_of
    from assay.report.media import MediaTable

    path = Path(output).expanduser() if output is not None else default_output(runs)
    if path.is_dir():
        path = path / default_output(runs).name
    refuse_run_files(path, runs)
    media = MediaTable()
    payload = {"title": title or title_of(runs), "runs": [run_payload(run, media) for run in runs],
               "media": media.table, "budget": {"bytes": media.budget, "left_out": len(media.over)}}
    write_atomic(path, render("report", payload, redactor))
    return path


def render(page: str, payload: dict[str, Any], redactor: Redactor) -> str:
    """The page ``page`` (``report`` or ``index``) with ``payload`` embedded: strings redacted, made
    visible and escaped so none can close the <script> element or stand for a template marker."""
    assets = resources.files("assay.report").joinpath("assets")
    # The shell (head, data block, script) around the page's own body: both are ours, so this is safe.
    body = assets.joinpath(f"{page}.html").read_text(encoding="utf-8")
    template = assets.joinpath("page.html").read_text(encoding="utf-8").replace("__ASSAY_BODY__", body, 1)
    parts = {
        "TITLE": _html_text(clean(str(payload.get("title") or "assay report"), redactor.redact)),
        "DATA": embedded_json(clean_page_data(payload, redactor.redact)),
        "CSS": assets.joinpath("report.css").read_text(encoding="utf-8"),
        "JS": "\n".join(assets.joinpath(name).read_text(encoding="utf-8") for name in SCRIPTS[page]),
    }
    # One pass over the template: a value is never searched for markers, whatever it contains.
    return _MARKER.sub(lambda m: parts[m.group(1) or m.group(2)], template)


def embedded_json(data: Any) -> str:
    """JSON safe inside a <script> element (no ``<``, no line separators) and with no bare NaN."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _html_text(text: str) -> str:
    import html

    return html.escape(text)


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file: a reader never sees half a report."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        raise ConfigError(f"cannot write the report {path}: {exc.strerror or exc}",
                          hint="pass --output with a writable path") from None
