"""`assay push RUN`: upload a finished run to W&B and/or the Hugging Face Hub (again), from its files.

Exit codes: 0 every upload done; 2 bad flags or no run found; 3 a credential is missing or refused;
5 an upload failed for another reason. The local files are only read, never changed.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from assay.errors import UsageError

if TYPE_CHECKING:
    from assay.env.redaction import Redactor
    from assay.env.settings import Settings
    from assay.run.outputs import RunOutputs
    from assay.sinks.remote import PushOutcome, RemoteTargets
    from assay.sinks.rundir import FinishedRun


def add_arguments(parser: argparse.ArgumentParser) -> None:
    a = parser.add_argument
    a("run", metavar="RUN", help="a *_results.json file, or the folder `assay run` wrote (its newest run)")
    a("--run", dest="run_id", metavar="ID", help="which run of the folder (a run id, e.g. 20250101_120000_1a2b3c)")
    a("--wandb_args", help="Weights & Biases options (wandb.init keywords), e.g. project=lmms-eval,mode=offline")
    a("--wandb_log_samples", action="store_true", help="also log each task's samples as a W&B table")
    a("--hf_hub_log_args", help="Hugging Face Hub options, e.g. hub_results_org=me,public_repo=False")
    a("--allow_incomplete", action="store_true", help="upload a run whose status is not `complete`")


def run(args: argparse.Namespace, settings: Settings, redactor: Redactor) -> int:
    import asyncio

    from assay.preflight.plan import plan_from_flags
    from assay.preflight.requirements import preflight
    from assay.sinks.remote import RemoteTargets, check_credentials, check_targets, push_run
    from assay.sinks.rundir import find_run

    if not args.wandb_args and not args.hf_hub_log_args:
        raise UsageError("nothing to push: give --wandb_args and/or --hf_hub_log_args",
                         hint="e.g. assay push ./logs --hf_hub_log_args hub_results_org=me")
    finished = find_run(args.run, args.run_id)
    plan = plan_from_flags(None, None, None, args.wandb_args, args.hf_hub_log_args, redactor)
    targets = RemoteTargets(plan.wandb_args, plan.hub_args, wandb_log_samples=bool(args.wandb_log_samples))
    check_targets(targets, settings)
    preflight(plan, settings)
    asyncio.run(check_credentials(targets, settings))
    outcomes = push_run(finished, targets, settings=settings, redactor=redactor,
                        allow_incomplete=bool(args.allow_incomplete))
    return report_outcomes(finished, targets, outcomes, redactor, retry=False)


def report_outcomes(finished: FinishedRun, targets: RemoteTargets, outcomes: list[PushOutcome],
                    redactor: Redactor, *, retry: bool) -> int:
    """Print one line per upload; failures as ``error:``/``hint:`` pairs. Returns the exit code: 0, 3 if
    every failure is a refused or missing credential, else 5. With ``retry``, the hint names the
    ``assay push`` command."""
    from assay.errors import CredentialError, UploadError
    from assay.sinks.remote import retry_command

    code = 0
    failed = [o.service for o in outcomes if not o.ok]
    for outcome in outcomes:
        if outcome.ok:
            print(redactor.redact(f"{outcome.service}: {outcome.detail}"), file=sys.stdout)
            continue
        error = outcome.error
        assert error is not None
        hint = error.hint
        if retry:
            kept = f"the results are in {finished.results_path}"
            hint = f"{hint + '; ' if hint else ''}{kept}; retry with: {retry_command(finished, targets, failed)}"
        print(f"error: {redactor.redact(error.message)}", file=sys.stderr)
        if hint:
            print(f"hint: {redactor.redact(hint)}", file=sys.stderr)
        code = max(code, 3 if isinstance(error, CredentialError) else UploadError.exit_code)
    return code


def print_outputs(outputs: RunOutputs | None, redactor: Redactor) -> int:
    """After `assay run`: the report's path and each upload's outcome. Returns the exit code: 0, or 5
    (:data:`~assay.run.outputs.UPLOAD_FAILED_EXIT`) when an upload failed — the run itself is fine and
    its files are written; the hint names the ``assay push`` command that retries."""
    if outputs is None:  # no report, no upload asked for (their module is not imported)
        return 0
    from assay.run.outputs import UPLOAD_FAILED_EXIT

    if outputs.report_path is not None:
        print(f"report: {outputs.report_path}", file=sys.stdout)
    if outputs.report_error is not None:
        print(f"warning: no report: {redactor.redact(outputs.report_error.message)}", file=sys.stderr)
    if outputs.skipped:
        print(f"warning: {outputs.skipped} (upload it later with `assay push`)", file=sys.stderr)
    if outputs.run is None or not outputs.uploads:
        return 0
    code = report_outcomes(outputs.run, outputs.targets, outputs.uploads, redactor, retry=True)
    return UPLOAD_FAILED_EXIT if code else 0
