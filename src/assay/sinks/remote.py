"""Remote sinks (W&B, the Hugging Face Hub) driven from a finished run on disk.

``assay run`` calls :func:`push_run` after the local files are written, and ``assay push RUN`` calls the
same function later: one code path, the local files always first, and a remote failure can never lose
them. Each service is tried on its own (one failing does not stop the other); the outcomes say what
happened and :func:`retry_command` the exact ``assay push`` command to try again.
"""

from __future__ import annotations

import logging
import shlex
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from assay.env.masking import is_secret_key
from assay.errors import AssayError, UploadAuthError, UploadError
from assay.text import clip

if TYPE_CHECKING:
    from assay.env.redaction import Redactor
    from assay.env.settings import Settings
    from assay.sinks.rundir import FinishedRun

log = logging.getLogger("assay.sinks")

WANDB, HUB = "W&B", "Hugging Face Hub"


@dataclass(frozen=True)
class RemoteTargets:
    """Where a run goes besides its local files (``--wandb_args``, ``--hf_hub_log_args``)."""

    wandb_args: dict[str, Any] | None = None
    hub_args: dict[str, Any] | None = None
    wandb_log_samples: bool = False

    @property
    def any(self) -> bool:
        return self.wandb_args is not None or self.hub_args is not None


@dataclass(frozen=True)
class PushOutcome:
    service: str
    detail: str = ""
    error: AssayError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def check_targets(targets: RemoteTargets, settings: Settings) -> None:
    """Before anything is paid for: the options are valid and the client packages are installed."""
    if targets.hub_args is not None:
        from assay.sinks import hub

        hub.check_args(targets.hub_args)
    if targets.wandb_args is not None:
        from assay.sinks import wandb

        wandb.check_args(targets.wandb_args, settings)


async def check_credentials(targets: RemoteTargets, settings: Settings, *, timeout: float = 10) -> None:
    """One cheap authenticated call per service that will be used online: a refused key fails now
    (exit 3, before the run), an unreachable service only warns (``assay push`` can retry later)."""
    from assay.preflight.probe import credential_target, probe_all
    from assay.sinks.hub import hub_options, hub_token
    from assay.sinks.wandb import NO_NETWORK_MODES, wandb_mode

    targets_to_probe = []
    if targets.wandb_args is not None and wandb_mode(targets.wandb_args, settings) not in NO_NETWORK_MODES:
        key = settings.secret("wandb_api_key")
        target = credential_target("wandb_api_key", "WANDB_API_KEY", key, settings) if key else None
        if target is not None:
            targets_to_probe.append(target)
    if targets.hub_args is not None:
        options = hub_options(targets.hub_args)
        token = hub_token(targets.hub_args, settings)
        if token and (options.push_results or options.push_samples):
            target = credential_target("hf_token", "HF_TOKEN", token, settings)
            if target is not None:
                targets_to_probe.append(target)
    if not targets_to_probe:
        return
    for result in await probe_all(targets_to_probe, timeout=timeout):
        if result.status == "refused":
            hint = ("run `wandb login` or set WANDB_API_KEY in .env" if result.service == "Weights & Biases"
                    else "set a valid HF_TOKEN with write access in .env (https://huggingface.co/settings/tokens)")
            raise UploadAuthError(result.message, hint=hint)
        if not result.ok:
            log.warning("%s; uploading will be tried after the run (or later with `assay push`)", result.message)


def push_run(run: FinishedRun, targets: RemoteTargets, *, settings: Settings, redactor: Redactor,
             allow_incomplete: bool = False) -> list[PushOutcome]:
    """Upload ``run`` to every target; never raises for an upload failure (see each outcome's error)."""
    outcomes: list[PushOutcome] = []
    if run.status != "complete" and not allow_incomplete:
        error = UploadError(f"run {run.run_id} has status `{run.status}`; only complete runs are uploaded",
                            hint="pass --allow_incomplete to `assay push` to upload it anyway")
        return [PushOutcome(s, error=error) for s, on in ((WANDB, targets.wandb_args), (HUB, targets.hub_args))
                if on is not None]
    if targets.wandb_args is not None:
        outcomes.append(_attempt(WANDB, run, targets, settings, redactor))
    if targets.hub_args is not None:
        outcomes.append(_attempt(HUB, run, targets, settings, redactor))
    return outcomes


def _attempt(service: str, run: FinishedRun, targets: RemoteTargets, settings: Settings,
             redactor: Redactor) -> PushOutcome:
    try:
        if service == WANDB:
            from assay.sinks.wandb import push_wandb

            assert targets.wandb_args is not None
            detail = push_wandb(run, targets.wandb_args, settings=settings, redactor=redactor,
                                log_samples=targets.wandb_log_samples)
        else:
            from assay.sinks.hub import push_hub

            assert targets.hub_args is not None
            detail = push_hub(run, targets.hub_args, settings=settings, redactor=redactor)
    except AssayError as exc:
        log.debug("%s upload failed", service, exc_info=True)
        return PushOutcome(service, error=exc)
    except Exception as exc:  # a bug or an unforeseen client error: still an outcome, never a lost run
        log.debug("%s upload failed", service, exc_info=True)
        message = clip(f"{type(exc).__name__}: {exc}".splitlines()[0], 300, redact=redactor.redact)
        return PushOutcome(service, error=UploadError(f"{service} upload failed: {message}"))
    log.info("%s: %s", service, detail)
    return PushOutcome(service, detail=detail)


def retry_command(run: FinishedRun, targets: RemoteTargets, failed: list[str] | None = None) -> str:
    """The ``assay push`` command that retries the (failed) uploads of ``run``. Secret-looking keys are
    left out: the key belongs in .env."""
    parts = ["assay", "push", str(run.results_path)]
    services = failed if failed is not None else [WANDB, HUB]
    if WANDB in services and targets.wandb_args is not None:
        parts += ["--wandb_args", _kv(targets.wandb_args)]
        if targets.wandb_log_samples:
            parts.append("--wandb_log_samples")
    if HUB in services and targets.hub_args is not None:
        parts += ["--hf_hub_log_args", _kv(targets.hub_args)]
    return " ".join(shlex.quote(p) for p in parts)


def _kv(args: dict[str, Any]) -> str:
    return ",".join(f"{k}={v}" for k, v in args.items() if not is_secret_key(str(k)) and k != "output_path")
