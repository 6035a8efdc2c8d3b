"""The HTML report: pages that open from disk (no server, no CDN, no network) and keep working when moved.

``assay report RUN...`` and ``assay run --report`` write one self-contained file for one run or several
side by side; ``assay report FOLDER`` writes a report folder with an index of every run in it. Data is
embedded as JSON (thumbnails as ``data:`` URIs, within a budget) and rendered a page of samples at a time,
so a 10,000-sample run opens quickly. Charts are SVG drawn by the page's own script.
"""

from __future__ import annotations

from assay.report.page import default_output, write_report

__all__ = ["default_output", "write_report"]
