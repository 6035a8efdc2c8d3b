"""What keeps a report honest toward the page and toward the runs it reads.

Toward the page: every string is redacted, then right-to-left overrides and lone surrogates are made
visible instead of acting on the text around them, and numbers that JSON cannot carry (NaN, ±Infinity)
become the strings ``"NaN"``/``"Infinity"`` so the page shows them rather than failing to parse.
Toward the runs: a report is never written over a file that is not a report (a run's results, its
samples, its thumbnails, or anything else that happens to be there).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assay.errors import ConfigError

if TYPE_CHECKING:
    from assay.sinks.rundir import FinishedRun

#: The generator tag every page assay writes carries: only a file with it may be replaced.
GENERATOR = '<meta name="generator" content="assay report">'
# Embedding and override controls (LRE, RLE, PDF, LRO, RLO, LRI, RLI, FSI, PDI): they reorder the text
# after them, so an answer could read backwards or hide what it says.
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def visible(text: str) -> str:
    """``text`` with bidi controls shown as ``⟦U+202E⟧`` and lone surrogates as U+FFFD."""
    if _BIDI.search(text):
        text = _BIDI.sub(lambda m: f"⟦U+{ord(m.group()):04X}⟧", text)
    if _SURROGATE.search(text):
        text = _SURROGATE.sub("\ufffd", text)
    return text


def clean(obj: Any, redact: Callable[[str], str]) -> Any:
    """A JSON-ready copy of ``obj``: strings redacted then made visible, non-finite numbers as strings."""
    memo: dict[str, str] = {}  # keys, states, metric names repeat in every item: each is redacted once

    def text(value: str) -> str:
        done = memo.get(value)
        if done is None:
            done = visible(redact(value))
            if len(value) < 64:
                memo[value] = done
        return done

    def walk(value: Any) -> Any:
        if isinstance(value, str):
            return text(value)
        if isinstance(value, bool) or value is None or isinstance(value, int):
            return value
        if isinstance(value, float):
            if math.isfinite(value):
                return value
            return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
        if isinstance(value, dict):
            return {text(str(k)): walk(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [walk(v) for v in value]
        return text(str(value))  # anything else (a complex metric value…) as its text

    return walk(obj)


def clean_page_data(payload: dict[str, Any], redact: Callable[[str], str]) -> dict[str, Any]:
    """:func:`clean` for a page's data, except its ``media`` table: thumbnails we encoded ourselves, as
    ``data:`` URIs, where masking a run of base64 that happens to look like a key would break the image."""
    out: dict[str, Any] = clean({k: v for k, v in payload.items() if k != "media"}, redact)
    if "media" in payload:
        out["media"] = {str(k): v for k, v in payload["media"].items() if isinstance(v, str) and v.startswith("data:")}
    return out


def refuse_run_files(path: Path, runs: Iterable[FinishedRun]) -> None:
    """ConfigError unless writing ``path`` replaces nothing but an earlier report."""
    for run in runs:
        if run.owns(path):
            raise ConfigError(f"refusing to write the report over {path}: it is a file of run {run.run_id}",
                              hint="pass --output with a new file name (or a folder) outside the run's files")
    if path.exists() and not is_report(path):
        raise ConfigError(f"refusing to write the report over {path}: it exists and is not an assay report",
                          hint="pass --output with a new file name, or remove that file first")


def is_report(path: Path) -> bool:
    """Whether ``path`` is a page assay wrote (its generator tag within the first 2 KiB)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(2048)
    except OSError:
        return False
    return GENERATOR.encode() in head
