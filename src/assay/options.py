"""RunOptions: everything `assay run` and `assay.evaluate()` accept, validated once."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assay.errors import UsageError

#: More resamples than this add nothing to a 95% interval but minutes of CPU per metric.
MAX_BOOTSTRAP_ITERS = 100_000
_HINTS = {
    "--limit": "e.g. --limit 50 or --limit 0.1",
    "--max_error_rate": "e.g. --max_error_rate 0.05 (5% of samples may fail), 1 to never fail a run",
    "--max_cost": "e.g. --max_cost 5",
    "--offset": "e.g. --offset 100",
    "--bootstrap_iters": "e.g. --bootstrap_iters 1000",
    "--seed": "e.g. --seed 1234",
    "--task_timeout": "seconds one call of task code may take, e.g. --task_timeout 600 (0: no limit)",
}


def _finite(value: object) -> bool:
    try:
        return math.isfinite(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return False


def _shown(value: Any) -> str:
    """A flag's bad value for its error message: short text as it is; anything as long as a key is not echoed
    (a key pasted into --limit must not land in the terminal, logs or CI output)."""
    text = str(value)
    return repr(text) if len(text) <= _ECHO_MAX or isinstance(value, (int, float)) else "<value hidden>"


#: Longer flag values are not echoed in errors: every credential shape assay knows is longer than this.
_ECHO_MAX = 12


def as_number(flag: str, value: Any, *, whole: bool = False) -> Any:
    """A flag's value (from the command line or a --config file) as a number, or a UsageError saying so:
    never an OverflowError or ValueError from deep inside a run."""
    if value is None or isinstance(value, bool):
        if value is None:
            return None
        raise UsageError(f"{flag} {_shown(value)} is not a number", hint=_HINTS.get(flag, "give a number"))
    try:
        number = float(value)
        if not math.isfinite(number):
            raise ValueError
        if whole:
            if not number.is_integer():
                raise ValueError
            return int(number)
        return number
    except (TypeError, ValueError, OverflowError):
        what = "a whole number" if whole else "a finite number"
        shown = f"{value:g}" if isinstance(value, float) else _shown(value)
        raise UsageError(f"{flag} {shown} is not {what}", hint=_HINTS.get(flag, "give a number")) from None


@dataclass(frozen=True)
class RunOptions:
    model: str
    tasks: tuple[str, ...]
    model_args: dict[str, Any] = field(default_factory=dict)
    limit: float | None = None
    offset: int = 0
    output_path: Path | None = None
    log_samples: bool = False
    predict_only: bool = False
    gen_kwargs: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    include_paths: tuple[Path, ...] = ()
    batch_size: int | str | None = None  # accepted for lmms-eval compatibility; concurrency is num_concurrent
    wandb_args: dict[str, Any] | None = None
    hub_args: dict[str, Any] | None = None
    bootstrap_iters: int = 0
    use_cache: bool | None = None
    #: Where the response cache lives (lmms-eval's ``--use_cache PATH``; None: under LMMS_EVAL_HOME).
    cache_path: Path | None = None
    #: A run whose share of failed samples exceeds this ends with status `failed` (exit 1), results written.
    max_error_rate: float = 0.05
    #: Log each task's samples as a W&B table too (``--wandb_log_samples``; implies ``log_samples``).
    wandb_log_samples: bool = False
    #: Write the HTML report beside the results (``--report``).
    report: bool = False
    #: Save a thumbnail of each distinct image/video frame under the run (``--log_media``; implies ``log_samples``).
    log_media: bool = False
    #: The judge: a provider name (None: API_TYPE decides), its arguments, and the share of judged samples
    #: per task that may fail before the run exits non-zero (results are written either way).
    judge_model: str | None = None
    judge_args: dict[str, Any] = field(default_factory=dict)
    max_judge_failure_rate: float = 0.05
    #: USD: stop sending requests once the run would spend more (None: no cap).
    max_cost: float | None = None
    #: Seconds one call of task code may take before its doc (or metric) is an error (None or 0: no limit).
    task_timeout: float | None = 600.0
    #: Build every prompt and print what the run would send and cost; send nothing (``--dry_run``).
    dry_run: bool = False
    #: Send the model's requests through the vendor's batch API (``--batch``; also ``batch=true`` in model_args).
    batch: bool = False
    # lmms-eval's flags that change what tasks send and how they score (see assay.tasks.task.RunSettings)
    num_fewshot: int | None = None
    fewshot_seed: int = 1234
    numpy_seed: int | None = 1234  # lmms-eval's --seed random,numpy,torch,fewshot (task code's global RNGs)
    torch_seed: int | None = 1234
    system_instruction: str | None = None
    reasoning_tags: Any = "default"
    repeats: int | None = None
    log_samples_suffix: str = "model_outputs"
    #: ``--ray [ADDRESS]``: shard the run over a Ray cluster (None: run here; "": RAY_ADDRESS, else ``auto``).
    ray: str | None = None
    #: Frames sampled per video (lmms-eval's ``max_frames_num`` model argument; None: 8).
    num_frames: int | None = None

    def __post_init__(self) -> None:
        if not self.tasks:
            raise UsageError("no tasks given", hint="pass --tasks, e.g. --tasks assay_arith_mc (see `assay tasks`)")
        for flag, value in (("--limit", self.limit), ("--max_error_rate", self.max_error_rate),
                            ("--max_cost", self.max_cost), ("--task_timeout", self.task_timeout)):
            if value is not None and (isinstance(value, bool) or not _finite(value)):
                raise UsageError(f"{flag} {_shown(value)} is not a finite number", hint=_HINTS[flag])
        for flag, count in (("--offset", self.offset), ("--bootstrap_iters", self.bootstrap_iters),
                            ("--seed", self.seed)):
            if isinstance(count, bool) or not isinstance(count, int):
                raise UsageError(f"{flag} {count!r} is not a whole number", hint=_HINTS[flag])
        if self.output_path is not None and not str(self.output_path).strip():
            raise UsageError("--output_path is empty", hint="give a folder, e.g. --output_path ./logs (the default)")
        if self.limit is not None and self.limit <= 0:
            raise UsageError(f"--limit {self.limit:g} must be a positive count or a fraction in (0, 1)",
                             hint=_HINTS["--limit"])
        if self.limit is not None and self.limit >= 1 and self.limit != int(self.limit):
            raise UsageError(f"--limit {self.limit:g} is neither a whole count nor a fraction below 1",
                             hint=_HINTS["--limit"])
        if self.offset < 0:
            raise UsageError("--offset must be 0 or more", hint=_HINTS["--offset"])
        if self.max_cost is not None and not self.max_cost > 0:
            raise UsageError(f"--max_cost {self.max_cost:g} must be a positive amount of USD", hint="e.g. --max_cost 5")
        if self.task_timeout is not None and self.task_timeout < 0:
            raise UsageError(f"--task_timeout {self.task_timeout:g} must be 0 (no limit) or more",
                             hint=_HINTS["--task_timeout"])
        if not 0 <= self.max_error_rate <= 1:
            raise UsageError(f"--max_error_rate {self.max_error_rate:g} must be between 0 and 1",
                             hint="e.g. --max_error_rate 0.05 (5% of samples may fail), 1 to never fail a run")
        if not 0.0 <= self.max_judge_failure_rate <= 1.0:
            raise UsageError(f"--max_judge_failure_rate {self.max_judge_failure_rate:g} is not between 0 and 1",
                             hint="e.g. --max_judge_failure_rate 0.05 (5% of judged samples may fail)")
        if not 0 <= self.bootstrap_iters <= MAX_BOOTSTRAP_ITERS:
            raise UsageError(f"--bootstrap_iters must be between 0 and {MAX_BOOTSTRAP_ITERS:,}",
                             hint=_HINTS["--bootstrap_iters"])
        # All three show samples, so they need the samples files (lmms-eval turns them on for --predict_only too:
        # without them a prediction run would pay for every answer and keep none).
        if self.wandb_log_samples or self.log_media or self.predict_only:
            object.__setattr__(self, "log_samples", True)
        needs_files = [flag for flag, on in (("--predict_only", self.predict_only), ("--report", self.report),
                                             ("--log_media", self.log_media),
                                             ("--wandb_args", self.wandb_args is not None),
                                             ("--hf_hub_log_args", self.hub_args is not None)) if on]
        if self.output_path is None and needs_files:  # reports and uploads are made from the run's files
            raise UsageError(f"{needs_files[0]} needs an output folder", hint="pass --output_path (default ./logs)")

    @property
    def doc_limit(self) -> int | float | None:
        """The limit as the task layer takes it: an int count or a float fraction."""
        if self.limit is None:
            return None
        return int(self.limit) if self.limit >= 1 else float(self.limit)
