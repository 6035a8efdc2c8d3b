"""What a run produces after its local files: the HTML report (``--report``) and the uploads
(``--wandb_args``, ``--hf_hub_log_args``), both made from the files on disk, after they are written.

Nothing here raises for a failed upload or report: the outcome is returned, the caller (``assay run``,
``assay.evaluate``) says so and picks the exit code, and the local files are never touched.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from assay.errors import AssayError
from assay.sinks.remote import PushOutcome, RemoteTargets

if TYPE_CHECKING:
    from assay.env.redaction import Redactor
    from assay.env.settings import Settings
    from assay.sinks.rundir import FinishedRun

log = logging.getLogger("assay.sinks")

#: Exit code of `assay run` when the evaluation finished and its files are written but an upload failed.
UPLOAD_FAILED_EXIT = 5


@dataclass
class RunOutputs:
    run: FinishedRun | None = None
    targets: RemoteTargets = field(default_factory=RemoteTargets)
    report_path: Path | None = None
    report_error: AssayError | None = None
    uploads: list[PushOutcome] = field(default_factory=list)
    skipped: str = ""  # why the uploads were not attempted

    @property
    def failed_uploads(self) -> list[PushOutcome]:
        return [u for u in self.uploads if not u.ok]


def deliver(results_path: Path | None, status: str, *, targets: RemoteTargets, report: bool, settings: Settings,
            redactor: Redactor) -> RunOutputs:
    """Write the report and push the run, as asked. Uploads only for a complete run."""
    from assay.sinks.rundir import load_run

    out = RunOutputs(targets=targets)
    if results_path is None or not (report or targets.any):
        return out
    try:
        out.run = load_run(results_path)
    except AssayError as exc:  # the document was just written: this would be a bug, not a user error
        out.report_error = exc
        return out
    if report and status != "interrupted":
        out.report_path, out.report_error = _report(out.run, redactor)
    if targets.any:
        if status == "complete":
            from assay.sinks.remote import push_run

            out.uploads = push_run(out.run, targets, settings=settings, redactor=redactor)
        else:
            out.skipped = f"not uploaded: the run's status is `{status}`"
    for upload in out.failed_uploads:
        log.debug("%s upload failed: %s", upload.service, upload.error)
    return out


def _report(run: FinishedRun, redactor: Redactor) -> tuple[Path | None, AssayError | None]:
    from assay.report import write_report

    try:
        return write_report([run], redactor=redactor), None
    except AssayError as exc:
        return None, exc
    except Exception as exc:  # the report is a view: its failure must not cost the run its exit code
        log.debug("report failed", exc_info=True)
        return None, AssayError(redactor.redact(f"the report could not be written: {type(exc).__name__}: {exc}"))
