"""results.json and per-task samples JSONL: named so runs never collide, written so nothing is torn.

The contract other parts read (``assay push``, ``assay report``):

* a run id is ``YYYYMMDD_HHMMSS_<6 hex>``: the start second plus 24 random bits, so two runs started in
  the same second into the same folder still get different names;
* files live in ``{output_path}/{model}/`` as ``{run_id}_results.json`` and ``{run_id}_samples_{task}.jsonl``,
  every one created exclusively (a name already on disk is never reused: the run picks a new id);
* a task name that does not survive :func:`sanitize` unchanged (or that would clash with another task of
  the run, e.g. on a case-insensitive disk) gets a short hash of its real name, so two tasks never share
  a samples file;
* the results document lists its files: ``"run_id"`` and ``"files": {"results": name, "samples":
  {task: name}}`` (names relative to the results file's folder).

The results document is on disk from :meth:`FileSink.start` on, with ``"status": "running"``; the final
one replaces it atomically (a reader never sees half a file), so even a ``kill -9`` leaves a valid document
that says the run did not finish. Samples are appended in whole lines, as they complete (during a run,
the lines finished in one event-loop turn in one ``write``); a failed write is cut back to the last whole
line, so a file never holds a torn line.
Values are redacted before they are serialized (a secret in JSON-escaped form is still a secret); a sample
line is first screened once with the redactor's precompiled search, and only a line that may hold a secret
is redacted string by string. Both files stay valid JSON in valid UTF-8 whatever the values: a lone
surrogate is written as its ``\\udXXX`` escape (read back as the same string), and a number that is not
one (NaN, ±inf) as the string ``"NaN"``, ``"Infinity"``, ``"-Infinity"``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from assay.errors import ConfigError, OutputError
from assay.sinks.jsonline import redact_values, to_json, utf8

__all__ = ["FileSink", "file_names", "new_run_id", "redact_values", "sanitize", "to_json", "utf8"]

#: Longest sanitized name kept in a file name (the hash suffix keeps it unique when cut).
_MAX_NAME = 100
_CLAIM_ATTEMPTS = 8


def sanitize(name: str) -> str:
    """A model or task name made safe for a path (lmms-eval style: `org/model` -> `org__model`)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "__", name).strip("_") or "model"


def new_run_id(timestamp: str | None = None) -> str:
    """``YYYYMMDD_HHMMSS_<6 hex>``: unique beyond the second (24 random bits)."""
    stamp = timestamp or datetime.now(timezone.utc).strftime("%Y%m%d_%H%M%S")
    return f"{stamp}_{secrets.token_hex(3)}"


def _short_hash(name: str) -> str:
    return hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]


def file_names(tasks: list[str]) -> dict[str, str]:
    """Task -> the part of its samples file name after ``_samples_``, distinct for distinct tasks even
    on a case-insensitive file system. A name that sanitizes to itself (and is short) is kept as is;
    any other gets ``-<8 hex of sha256(name)>``."""
    out: dict[str, str] = {}
    for task in dict.fromkeys(tasks):
        safe = sanitize(task)
        out[task] = safe if safe == task and len(safe) <= _MAX_NAME else f"{safe[:_MAX_NAME]}-{_short_hash(task)}"
    by_folded: dict[str, list[str]] = {}
    for task, name in out.items():
        by_folded.setdefault(name.lower(), []).append(task)
    for clashing in (group for group in by_folded.values() if len(group) > 1):
        for task in clashing:  # e.g. `MME` and `mme`, or a literal `x-<hash>` meeting a hashed `x`
            out[task] = f"{sanitize(task)[:_MAX_NAME]}-{_short_hash(task)}"
    folded = [n.lower() for n in out.values()]
    if len(set(folded)) != len(folded):  # pragma: no cover - needs a sha256 prefix collision
        raise ConfigError("two task names map to the same samples file", hint="rename one of the tasks")
    return out


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


class _SamplesFile:
    """One task's JSONL, opened exclusively, appended whole lines at a time (one line, or the lines held
    back since the last write)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | getattr(os, "O_CLOEXEC", 0), 0o644)
        self.size = 0
        self.lines = 0
        self.held: list[bytes] = []  # lines not yet written (while the sink holds writes back)

    def append(self, data: bytes, lines: int = 1) -> None:
        try:
            _write_all(self.fd, data)
        except BaseException:
            with contextlib.suppress(OSError):  # cut a partly written line off: whole lines only
                os.ftruncate(self.fd, self.size)
            raise
        self.size += len(data)
        self.lines += lines

    def close(self) -> None:
        if self.fd >= 0:
            fd, self.fd = self.fd, -1
            os.close(fd)


class FileSink:
    """``{output_path}/{model}/{run_id}_results.json`` and ``…_samples_{task}.jsonl``."""

    def __init__(self, output_path: Path, model_name: str, timestamp: str | None = None, *, log_samples: bool,
                 redact: Callable[[str], str], run_id: str | None = None,
                 may_change: Callable[[str], bool] | None = None) -> None:
        """``may_change(line)``: whether redacting could change a serialized line (the redactor's screen);
        without it every sample is redacted string by string."""
        # Absolute: every message about these files says exactly where they are, whatever the cwd.
        self.folder = Path(output_path).expanduser().absolute() / sanitize(model_name)
        self.timestamp = timestamp
        self.run_id = run_id or new_run_id(timestamp)
        self.log_samples = log_samples
        self._redact = redact
        self._may_change = may_change
        self._first: dict[str, Any] = {}  # the document written at the start (status: running)
        self._final = threading.Lock()  # held while the final document is written
        self.finished = False
        self._files: dict[str, _SamplesFile] = {}
        self._names: dict[str, str] = {}
        self.sample_paths: dict[str, Path] = {}
        # While writes are held back (hold_writes): how to schedule the next write of the held lines, what
        # to do when it fails, and whether one is scheduled. The lock keeps a forced results write (another
        # thread, see write_unfinished) from interleaving with the event loop's write.
        self._schedule: Callable[[Callable[[], None]], object] | None = None
        self._on_error: Callable[[Exception], None] | None = None
        self._scheduled = False
        self._writing = threading.Lock()

    @property
    def results_path(self) -> Path:
        return self.folder / f"{self.run_id}_results.json"

    def _sample_path(self, task: str) -> Path:
        return self.folder / f"{self.run_id}_samples_{self._names[task]}.jsonl"

    def files_entry(self) -> dict[str, Any]:
        """``{"results": name, "samples": {task: name}}``, names relative to the results file's folder."""
        return {"results": self.results_path.name, "samples": {t: p.name for t, p in self.sample_paths.items()}}

    # -- the Sink protocol -------------------------------------------------------------------------

    def start(self, run_info: dict[str, Any], task_names: list[str]) -> None:
        """Create the folder and every file of the run, exclusively (a taken name means a new run id),
        and write the first results document (``status: running``). Fails before any request is paid."""
        self._names = file_names(list(task_names))
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            for attempt in range(_CLAIM_ATTEMPTS):
                try:
                    self._claim(list(self._names) if self.log_samples else [], run_info)
                    return
                except FileExistsError:
                    if attempt == _CLAIM_ATTEMPTS - 1:
                        raise
                    self.run_id = new_run_id(self.timestamp)
        except OSError as exc:
            raise ConfigError(f"cannot write to --output_path {self.folder}: {exc.strerror or exc}",
                              hint="choose a writable --output_path with free space") from None

    def _claim(self, tasks: list[str], run_info: dict[str, Any]) -> None:
        created: list[_SamplesFile] = []
        try:
            for task in tasks:
                created.append(_SamplesFile(self._sample_path(task)))
            self._files = {task: f for task, f in zip(tasks, created, strict=True)}
            self.sample_paths = {task: f.path for task, f in self._files.items()}
            first = {"status": "running", "run_id": self.run_id, "files": self.files_entry(),
                     **{k: v for k, v in run_info.items() if k not in ("status", "run_id", "files")}}
            self._write_results(first, exclusive=True)
            self._first = first
        except BaseException:
            for f in created:
                f.close()
                f.path.unlink(missing_ok=True)
            self._files, self.sample_paths = {}, {}
            raise

    def sample(self, task: str, record: dict[str, Any]) -> None:
        handle = self._files.get(task)
        if handle is None:
            return
        line = utf8(self._line(record) + "\n")
        if self._schedule is None:
            self._append(handle, line, 1)
            return
        handle.held.append(line)
        if not self._scheduled:
            self._scheduled = True
            self._schedule(self._write_held)

    def hold_writes(self, schedule: Callable[[Callable[[], None]], object],
                    on_error: Callable[[Exception], None]) -> None:
        """From now on, sample lines are written in batches: the first line held back schedules (with
        ``schedule``, e.g. the event loop's ``call_soon``: once per loop turn) one write of every line held
        by then. A write that fails goes to ``on_error`` (an :class:`OutputError`). One ``write`` call a
        batch instead of one a sample: ~9 µs a sample on this machine (bench/throughput.py)."""
        self._schedule, self._on_error = schedule, on_error

    @property
    def writes_pending(self) -> bool:
        """Whether lines are held back and their write is scheduled (see :meth:`hold_writes`)."""
        return self._scheduled

    def release_writes(self) -> None:
        """Write every line held back, and write each later sample at once again (raises OutputError)."""
        self._schedule = self._on_error = None
        self.flush()

    def flush(self) -> None:
        """Write every line held back, each file's in one call (raises OutputError)."""
        with self._writing:
            self._flush_locked()

    def _flush_locked(self) -> None:
        self._scheduled = False
        for handle in self._files.values():
            if handle.held:
                lines, handle.held = handle.held, []
                try:
                    self._append(handle, b"".join(lines), len(lines))
                except OutputError:  # the batch does not fit (a full disk): keep every line that does
                    for line in lines:
                        self._append(handle, line, 1)

    def _write_held(self) -> None:
        try:
            self.flush()
        except Exception as exc:
            if self._on_error is None:
                raise
            self._on_error(exc)

    def _append(self, handle: _SamplesFile, data: bytes, lines: int) -> None:
        try:
            handle.append(data, lines)
        except OSError as exc:
            raise OutputError(
                f"cannot write samples to {handle.path}: {exc.strerror or exc}; "
                f"its {handle.lines} lines so far are kept",
                hint="free space or choose another --output_path, then rerun with --use_cache to pay only "
                     "for what is missing",
                path=handle.path,
            ) from None

    def _line(self, record: dict[str, Any]) -> str:
        """The record as one JSON line, redacted: serialized once and screened with one search; redacted
        value by value (before serializing again) only if the screen finds something it could change."""
        if self._may_change is not None:
            try:
                line = to_json(record)
            except ValueError:  # a float that is not a number: the careful path writes it as a string
                pass
            else:
                if not self._may_change(line):
                    return line
        return to_json(redact_values(record, self._redact))

    def finish(self, results: dict[str, Any]) -> None:
        """Close the samples files and replace the results document with the final one. ``results`` gets
        ``run_id`` and ``files`` added (in place), so later sinks and the caller see where things are."""
        try:
            self.release_writes()
        finally:
            for handle in self._files.values():
                handle.close()
        results.setdefault("run_id", self.run_id)
        results["files"] = self.files_entry()
        try:
            with self._final:
                self._write_results(results, exclusive=False)
                self.finished = True
        except OSError as exc:
            raise OutputError(
                f"cannot write the results document {self.results_path}: {exc.strerror or exc}",
                hint="free space or choose another --output_path; the samples files are kept",
                path=self.results_path,
            ) from None

    def write_unfinished(self, update: dict[str, Any]) -> bool:
        """For a process about to be ended: the first document with ``update`` (a status, the counts so
        far), unless the final one is written or being written. Returns whether it wrote."""
        if not self._final.acquire(timeout=1.0):
            return False
        try:
            if self.finished or not self._first:
                return False
            if self._writing.acquire(timeout=1.0):  # the lines held back, unless the loop is writing them
                try:
                    with contextlib.suppress(OSError, OutputError):
                        self._flush_locked()
                finally:
                    self._writing.release()
            self._write_results({**self._first, **update}, exclusive=False)
            return True
        finally:
            self._final.release()

    # -- writing -----------------------------------------------------------------------------------

    def _write_results(self, doc: dict[str, Any], *, exclusive: bool) -> None:
        """Write ``doc`` to a temporary file, flush it to disk, then move it into place: atomically
        replacing our own earlier document, or (``exclusive``) only if no file has that name yet."""
        text = json.dumps(redact_values(doc, self._redact), indent=2, ensure_ascii=False, allow_nan=False)
        tmp = self.folder / f".{self.run_id}_results.json.{secrets.token_hex(4)}.tmp"
        try:
            with open(tmp, "xb") as handle:
                handle.write(utf8(text))
                handle.flush()
                os.fsync(handle.fileno())
            if exclusive:
                _link_exclusive(tmp, self.results_path)
            else:
                os.replace(tmp, self.results_path)
        finally:
            tmp.unlink(missing_ok=True)


def _link_exclusive(src: Path, dst: Path) -> None:
    """Make ``dst`` the file ``src`` is, failing with FileExistsError if ``dst`` exists (unlike a rename)."""
    try:
        os.link(src, dst)
    except FileExistsError:
        raise
    except OSError:  # a file system without hard links: exclusive create, then copy
        with open(dst, "xb") as out:
            out.write(src.read_bytes())
