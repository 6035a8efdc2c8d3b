"""The Python API: ``assay.evaluate(...)`` with the same options as ``assay run``."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assay.model.args import parse_kv_string
from assay.options import RunOptions

if TYPE_CHECKING:
    from assay.env.credentials import Redactor
    from assay.env.settings import Settings
    from assay.errors import AssayError
    from assay.run import EvaluationResult

log = logging.getLogger("assay")


def _as_dict(value: str | dict[str, Any] | None, flag: str) -> dict[str, Any] | None:
    if value is None:
        return None
    return dict(value) if isinstance(value, dict) else parse_kv_string(value, flag)


def evaluate(
    model: str,
    tasks: str | Sequence[str],
    *,
    model_args: str | dict[str, Any] | None = None,
    limit: float | None = None,
    offset: int = 0,
    output_path: str | Path | None = "./logs",
    log_samples: bool = False,
    predict_only: bool = False,
    gen_kwargs: str | dict[str, Any] | None = None,
    seed: int = 0,
    include_path: str | Path | Sequence[str | Path] | None = None,
    batch_size: int | str | None = None,
    wandb_args: str | dict[str, Any] | None = None,
    hf_hub_log_args: str | dict[str, Any] | None = None,
    bootstrap_iters: int = 0,
    use_cache: bool | None = None,
    max_error_rate: float = 0.05,
    wandb_log_samples: bool = False,
    report: bool = False,
    log_media: bool = False,
    judge_model: str | None = None,
    judge_args: str | dict[str, Any] | None = None,
    max_judge_failure_rate: float = 0.05,
    max_cost: float | None = None,
    task_timeout: float | None = 600.0,
    ray: str | bool | None = None,
    dry_run: bool = False,
    batch: bool = False,
    verbosity: str | None = None,
    env_file: str | Path | Sequence[str | Path] | None = None,
    settings: Settings | None = None,
    redactor: Redactor | None = None,
    **lmms_options: Any,
) -> EvaluationResult:
    """Run an evaluation and return its results (also written under ``output_path``).

    ``settings`` defaults to the environment and the nearest `.env` (as the CLI does); pass your own
    :func:`assay.load_settings` result to control it. Raises :class:`assay.AssayError` subclasses; when the
    run ended but cannot be trusted (status ``failed``: no sample succeeded, or more than ``max_error_rate``
    of them failed) that is :class:`assay.RunFailedError`, whose ``result`` holds what was written.

    ``ray``: shard the run over a Ray cluster — an address (``"HOST:PORT"``, ``"auto"``), or True for
    ``RAY_ADDRESS`` (else ``auto``); needs the ``ray`` extra.
    ``dry_run=True`` sends nothing: the result's ``status`` is ``dry_run`` and ``result["estimate"]`` holds
    what the run would send and cost, per task and in total. ``batch=True`` sends the model's requests
    through the vendor's batch API at its batch price (see the README).

    A failed upload (``wandb_args`` / ``hf_hub_log_args``) does not raise: see ``result.outputs``, retry
    with ``assay push``. lmms-eval's run options are keywords too (:data:`LMMS_OPTIONS`: ``num_fewshot``…).
    """
    from assay.env.log import redacted_records

    settings = settings or _load_settings(env_file, verbosity, use_cache)
    redactor = redactor or _redactor_for(settings)
    include = [include_path] if isinstance(include_path, (str, Path)) else list(include_path or [])
    options = RunOptions(
        model=model,
        tasks=tuple(t.strip() for t in (tasks.split(",") if isinstance(tasks, str) else tasks) if t.strip()),
        model_args=_as_dict(model_args, "--model_args") or {},
        limit=limit,
        offset=offset,
        output_path=Path(output_path) if output_path is not None else None,
        log_samples=log_samples,
        predict_only=predict_only,
        gen_kwargs=_as_dict(gen_kwargs, "--gen_kwargs") or {},
        seed=seed,
        include_paths=tuple(Path(p) for p in include),
        batch_size=batch_size,
        wandb_args=_as_dict(wandb_args, "--wandb_args"),
        hub_args=_as_dict(hf_hub_log_args, "--hf_hub_log_args"),
        bootstrap_iters=bootstrap_iters,
        use_cache=use_cache,
        max_error_rate=max_error_rate,
        wandb_log_samples=wandb_log_samples,
        report=report,
        log_media=log_media,
        judge_model=judge_model,
        judge_args=_as_dict(judge_args, "--judge_args") or {},
        max_judge_failure_rate=max_judge_failure_rate,
        max_cost=max_cost,
        task_timeout=task_timeout,
        ray=("" if ray is True else str(ray)) if ray not in (None, False) else None,
        dry_run=dry_run,
        batch=batch,
        **_checked_lmms_options(lmms_options),
    )
    from assay.run.eventloop import run as run_on_loop

    # No shell history here: a key passed in model_args is redacted but not warned about.
    with redacted_records(redactor):
        result = run_on_loop(runner_for(options)(settings, options, redactor, from_command_line=False))
    _warn_failed_uploads(result, redactor)
    return result


def runner_for(options: RunOptions) -> Callable[..., Coroutine[Any, Any, EvaluationResult]]:
    """The local runner, or with ``--ray`` the cluster's (imported only then: Ray stays unloaded otherwise).
    A dry run sends nothing: it needs no cluster."""
    if options.ray is None or options.dry_run:
        from assay.run import run_evaluation

        return run_evaluation
    from assay.cluster import run_on_cluster

    return run_on_cluster


def sweep(
    runs: Sequence[RunOptions | Mapping[str, Any]],
    *,
    ray: str | bool = True,
    verbosity: str | None = None,
    env_file: str | Path | Sequence[str | Path] | None = None,
    settings: Settings | None = None,
    redactor: Redactor | None = None,
) -> list[EvaluationResult | AssayError]:
    """Several runs over a Ray cluster at once (models, checkpoints, task sets), each with its own results
    document. Each run is a :class:`~assay.options.RunOptions` or a mapping of its fields (``tasks`` may be
    a comma-separated string). ``ray`` as in :func:`evaluate`. Returns each run's result, or the
    :class:`AssayError` it ended with: one failed run does not stop the others."""
    from assay.cluster import sweep as on_cluster
    from assay.env.log import redacted_records

    settings = settings or _load_settings(env_file, verbosity, None)
    redactor = redactor or _redactor_for(settings)
    address = "" if ray is True else str(ray)
    options = [replace(r, ray=address) if isinstance(r, RunOptions) else _run_options(r, address) for r in runs]
    from assay.run.eventloop import run as run_on_loop

    with redacted_records(redactor):
        return run_on_loop(on_cluster([(settings, o) for o in options], redactor))


def _run_options(fields: Mapping[str, Any], ray: str) -> RunOptions:
    given = dict(fields)
    tasks = given.pop("tasks", ())
    if isinstance(tasks, str):
        tasks = [t.strip() for t in tasks.split(",") if t.strip()]
    for key in ("model_args", "gen_kwargs", "judge_args"):
        if isinstance(given.get(key), str):
            given[key] = _as_dict(given[key], f"--{key}") or {}
    if isinstance(given.get("output_path"), str):
        given["output_path"] = Path(given["output_path"])
    try:
        return RunOptions(tasks=tuple(tasks), ray=ray, **given)
    except TypeError as exc:
        from assay.errors import UsageError

        raise UsageError(f"sweep(): a run has {exc}",
                         hint="each run takes RunOptions' fields (see help(assay.sweep))") from None


#: RunOptions fields that mirror lmms-eval's flags, accepted by evaluate() as keywords.
LMMS_OPTIONS = ("num_fewshot", "system_instruction", "repeats", "reasoning_tags", "log_samples_suffix",
                "fewshot_seed", "numpy_seed", "torch_seed")


def _checked_lmms_options(given: dict[str, Any]) -> dict[str, Any]:
    from assay.env.registry import did_you_mean
    from assay.errors import UsageError

    for name in given:
        if name not in LMMS_OPTIONS:
            raise UsageError(f"evaluate() got an unknown option {name!r}",
                             hint=did_you_mean(name, LMMS_OPTIONS, n=1) + "see help(assay.evaluate)")
    return given


def _load_settings(env_file: str | Path | Sequence[str | Path] | None, verbosity: str | None,
                   use_cache: bool | None) -> Settings:
    from assay.env.settings import load_settings

    files = [env_file] if isinstance(env_file, (str, Path)) else env_file
    return load_settings(env_files=files, overrides={"verbosity": verbosity, "use_cache": use_cache})


def _redactor_for(settings: Settings) -> Redactor:
    from assay.env.credentials import Redactor

    redactor = Redactor()
    redactor.add_settings(settings)
    return redactor


def _warn_failed_uploads(result: EvaluationResult, redactor: Redactor) -> None:
    for upload in result.outputs.failed_uploads if result.outputs is not None else []:
        assert upload.error is not None
        log.warning("%s upload failed: %s (the files are kept; retry with `assay push %s`)", upload.service,
                    redactor.redact(upload.error.message), result.results_path)
