"""results.json and per-task samples JSONL, written as samples complete.

Samples are appended and flushed line by line so an interrupted run keeps every answer it paid for.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import IO, Any

from assay.errors import ConfigError


def sanitize(name: str) -> str:
    """A model or task name made safe for a path (lmms-eval style: `org/model` -> `org__model`)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "__", name).strip("_") or "model"


def to_json(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return f"<{len(value)} bytes>"
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if hasattr(value, "size") and hasattr(value, "mode"):  # a PIL image
        return f"<image {getattr(value, 'size', '')}>"
    return repr(value)


class FileSink:
    """``{output_path}/{model}/{timestamp}_results.json`` and ``…_samples_{task}.jsonl``."""

    def __init__(self, output_path: Path, model_name: str, timestamp: str, *, log_samples: bool,
                 redact: Any) -> None:
        self.folder = Path(output_path).expanduser() / sanitize(model_name)
        self.timestamp = timestamp
        self.log_samples = log_samples
        self._redact = redact
        self._files: dict[str, IO[str]] = {}
        self.sample_paths: dict[str, Path] = {}
        self.results_path = self.folder / f"{timestamp}_results.json"

    def start(self, run_info: dict[str, Any], task_names: list[str]) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            # Proven writable now, before the first paid request, not when the results are due.
            probe = self.folder / f".assay-write-check-{os.getpid()}"
            probe.write_bytes(b"")
            probe.unlink()
            if self.log_samples:
                for task in task_names:
                    path = self.folder / f"{self.timestamp}_samples_{sanitize(task)}.jsonl"
                    self._files[task] = path.open("w", encoding="utf-8", buffering=1)
                    self.sample_paths[task] = path
        except OSError as exc:
            raise ConfigError(f"cannot write to --output_path {self.folder}: {exc.strerror}",
                              hint="choose a writable --output_path") from None

    def sample(self, task: str, record: dict[str, Any]) -> None:
        handle = self._files.get(task)
        if handle is not None:
            handle.write(self._redact(to_json(record)) + "\n")

    def finish(self, results: dict[str, Any]) -> None:
        for handle in self._files.values():
            handle.close()
        self._files.clear()
        tmp = self.results_path.with_suffix(".json.tmp")
        tmp.write_text(self._redact(json.dumps(results, indent=2, ensure_ascii=False, default=_json_default)),
                       encoding="utf-8")
        tmp.replace(self.results_path)  # atomic: a reader never sees half a results file
