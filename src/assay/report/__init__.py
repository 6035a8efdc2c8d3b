"""The HTML report: one self-contained static file per report (no server, no CDN, opens offline).

``assay report RUN...`` and ``assay run --report`` write it. Data is embedded as JSON and rendered a page
of samples at a time, so a 10,000-sample run opens quickly; thumbnails (``--log_media``) are referenced
by relative path, never copied into the file.
"""

from __future__ import annotations

from assay.report.page import default_output, write_report

__all__ = ["default_output", "write_report"]
