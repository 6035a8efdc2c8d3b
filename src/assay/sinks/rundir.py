"""A finished run on disk: its results document, its samples files and its media folder.

Remote sinks (W&B, the Hub) and the report read runs from here, so ``assay run`` and ``assay push RUN``
share one code path and the local files always exist before anything is uploaded.

Run files (``{output_path}/{model}/``): ``{run_id}_results.json`` and ``{run_id}_samples_{task}.jsonl``.
The results document lists its own files under ``"files"`` (``{"samples": {task: name}, "media": name}``);
for documents written before that key existed, the samples files are found by name.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from assay.errors import UsageError
from assay.records import ResultsDocument, SampleRecord, check_sample, read_results

RESULTS_SUFFIX = "_results.json"
_SAMPLES_MARK = "_samples_"
_MAX_LISTED = 5


@dataclass(frozen=True)
class FinishedRun:
    """One run's files. ``samples`` maps each task to its JSONL file (only tasks whose file exists)."""

    results_path: Path
    results: ResultsDocument
    samples: dict[str, Path] = field(default_factory=dict)
    media_dir: Path | None = None

    @property
    def run_id(self) -> str:
        return self.results_path.name[: -len(RESULTS_SUFFIX)]

    @property
    def folder(self) -> Path:
        return self.results_path.parent

    @property
    def model_dir(self) -> str:
        """The model folder's name (``org__model``), as it appears under the output path."""
        return self.folder.name

    @property
    def model_name(self) -> str:
        model = self.results.get("model")
        if isinstance(model, dict) and model.get("name"):
            return str(model["name"])
        return str(self.results.get("model_name") or self.model_dir)

    @property
    def status(self) -> str:
        return str(self.results.get("status", "unknown"))

    @property
    def task_names(self) -> list[str]:
        """Tasks in the order the run listed them (results first, then any with samples only)."""
        names = [str(t) for t in (self.results.get("config") or {}).get("tasks") or []]
        names += [t for t in (self.results.get("results") or {}) if t not in names]
        names += [t for t in self.samples if t not in names]
        return names

    def owns(self, path: Path) -> bool:
        """Whether ``path`` is one of this run's files: its results, a samples file, or inside its media
        folder (what `assay report` must never write over)."""
        target = path.resolve()
        if target == self.results_path.resolve() or any(target == p.resolve() for p in self.samples.values()):
            return True
        if self.media_dir is not None and target.is_relative_to(self.media_dir.resolve()):
            return True
        name = target.name  # a samples file of this run that the document does not list
        return target.parent == self.folder.resolve() and name.startswith(f"{self.run_id}{_SAMPLES_MARK}")

    def iter_samples(self, task: str) -> Iterator[SampleRecord]:
        """The task's sample records in file order, each checked (ConfigError naming the file, line and
        field otherwise); a line that is not JSON (a torn write at an interrupt) is skipped."""
        path = self.samples.get(task)
        if path is None:
            return
        with path.open(encoding="utf-8", errors="surrogateescape") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                yield check_sample(record, f"{path}, line {number}")


def find_run(path: str | Path, run_id: str | None = None) -> FinishedRun:
    """The run at ``path``: a ``*_results.json`` file, or a folder holding runs (the newest, or ``run_id``)."""
    target = Path(path).expanduser()
    if target.is_file():
        if not target.name.endswith(RESULTS_SUFFIX):
            raise UsageError(f"{target} is not a results file (expected a name ending in {RESULTS_SUFFIX})",
                             hint="pass a *_results.json file or the folder --output_path wrote (e.g. ./logs)")
        return load_run(target)
    if not target.is_dir():
        raise UsageError(f"{target} does not exist",
                         hint="pass a *_results.json file or the folder --output_path wrote (e.g. ./logs)")
    found = list_runs(target)
    if not found:
        raise UsageError(f"no run found in {target} (no *{RESULTS_SUFFIX} file in it or its subfolders)",
                         hint="pass the folder --output_path wrote (e.g. ./logs) or a *_results.json file")
    if run_id is None:
        return load_run(found[-1])
    matches = [p for p in found if p.name[: -len(RESULTS_SUFFIX)] == run_id]
    if not matches:
        known = ", ".join(p.name[: -len(RESULTS_SUFFIX)] for p in found[-_MAX_LISTED:])
        raise UsageError(f"no run {run_id} in {target}", hint=f"runs there (newest last): {known}")
    if len(matches) > 1:
        listed = ", ".join(str(p.parent.name) for p in matches)
        raise UsageError(f"run {run_id} exists for several models in {target} ({listed})",
                         hint="pass the model's folder or the results file itself")
    return load_run(matches[0])


def list_runs(folder: Path) -> list[Path]:
    """Results files in ``folder`` and its model subfolders, oldest first: by the start second the run id
    begins with, then (two runs in one second) by when the file was last written."""
    candidates = list(folder.glob(f"*{RESULTS_SUFFIX}")) + list(folder.glob(f"*/*{RESULTS_SUFFIX}"))
    files = [p for p in candidates if p.is_file()]
    return sorted(files, key=lambda p: (p.name[:15], p.stat().st_mtime, p.name))


def load_run(results_path: Path) -> FinishedRun:
    """The run whose results document is ``results_path`` (checked: ConfigError naming a bad field)."""
    results = read_results(results_path)
    run_id = results_path.name[: -len(RESULTS_SUFFIX)]
    samples = _sample_files(results_path.parent, run_id, results)
    media = _media_dir(results_path.parent, run_id, results)
    return FinishedRun(results_path, results, samples, media)


def _sample_files(folder: Path, run_id: str, results: ResultsDocument) -> dict[str, Path]:
    files = results.get("files")
    listed = files.get("samples") if isinstance(files, dict) else None
    if isinstance(listed, dict):
        out = {str(task): folder / Path(str(name)).name for task, name in listed.items()}
        return {task: path for task, path in out.items() if path.is_file()}
    # Before the document listed its files: `{run_id}_samples_{task}.jsonl`, the task read from a record.
    found: dict[str, Path] = {}
    for path in sorted(folder.glob(f"{run_id}{_SAMPLES_MARK}*.jsonl")):
        task = _first_task(path) or path.name[len(run_id) + len(_SAMPLES_MARK): -len(".jsonl")]
        found.setdefault(task, path)
    return found


def _first_task(path: Path) -> str | None:
    try:
        with path.open(encoding="utf-8") as handle:
            line = handle.readline()
        record = json.loads(line) if line.strip() else None
    except (OSError, ValueError):
        return None
    task = record.get("task") if isinstance(record, dict) else None
    return str(task) if task else None


def _media_dir(folder: Path, run_id: str, results: ResultsDocument) -> Path | None:
    files = results.get("files")
    name = files.get("media") if isinstance(files, dict) else None
    path = folder / Path(str(name)).name if name else folder / f"{run_id}_media"
    return path if path.is_dir() else None
