"""Weights & Biases: a finished run's config, summary metrics, results table, results artifact and (with
``--wandb_log_samples``) one samples table and artifact per task — what lmms-eval's ``WandbLogger`` logs,
under the same keys (``{task}/{metric}``, ``evaluation/eval_results``, ``{task}_eval_results``).

``--wandb_args`` are ``wandb.init`` keywords, as in lmms-eval. The W&B run id is the assay run id, so
``assay push`` of the same run logs to the same W&B run. The API key comes from :class:`Settings` and is
handed to wandb explicitly; wandb's own metadata collection is off because it records ``sys.argv``, where
a ``--model_args api_key=…`` would sit in plain text.
"""

from __future__ import annotations

import inspect
import logging
from typing import TYPE_CHECKING, Any

from assay.errors import AssayError, ConfigError, UploadAuthError, UploadError, UsageError
from assay.sinks import view
from assay.text import clip

if TYPE_CHECKING:
    from assay.env.redaction import Redactor
    from assay.env.settings import Settings
    from assay.records import ResultsDocument, SampleRecord
    from assay.sinks.rundir import FinishedRun

log = logging.getLogger("assay.sinks.wandb")

NO_NETWORK_MODES = frozenset({"offline", "disabled", "dryrun"})
#: wandb.init keywords assay sets itself (or that would undo what the run needs).
_RESERVED = frozenset({"settings", "config", "config_exclude_keys", "config_include_keys", "reinit", "anonymous",
                       "save_code", "sync_tensorboard", "tensorboard", "monitor_gym", "fork_from", "resume_from"})
_MAX_TABLE_ROWS = 10_000  # wandb.Table.MAX_ROWS: W&B truncates longer tables; the artifact keeps every sample
_SECRET_HINT = "set WANDB_API_KEY in .env or run `wandb login`; never put the key in --wandb_args"


def wandb_mode(args: dict[str, Any], settings: Settings) -> str:
    return str(args.get("mode") or settings.wandb_mode or "online").strip().lower()


def push_wandb(run: FinishedRun, args: dict[str, Any], *, settings: Settings, redactor: Redactor,
               log_samples: bool) -> str:
    """Log ``run`` to W&B; returns where it went (the run URL, or the offline folder to `wandb sync`)."""
    wandb = import_wandb()
    mode = wandb_mode(args, settings)
    init_args = _init_args(wandb, args, mode, run_id=run.run_id, model_name=run.model_name)
    key = settings.secret("wandb_api_key")
    wb_settings = wandb.Settings(
        mode=mode, base_url=settings.wandb_base_url, api_key=key if mode not in NO_NETWORK_MODES else None,
        console="off", silent=True, x_disable_meta=True, x_disable_stats=True, disable_git=True,
        save_code=False, disable_job_creation=True, init_timeout=settings.wandb_init_timeout,
    )
    attached = wandb.run is not None  # a W&B run the caller (Python API) started: log into it, leave it open
    if not attached and mode not in NO_NETWORK_MODES:  # wandb itself is silent while it waits for its server
        log.info("W&B: connecting to %s (giving up after %gs: WANDB_INIT_TIMEOUT)", settings.wandb_base_url,
                 settings.wandb_init_timeout)
    try:
        wb_run = wandb.run if attached else wandb.init(**init_args, settings=wb_settings)
    except Exception as exc:
        raise _upload_error(wandb, exc, redactor, settings) from None
    failed = True
    try:
        _log_run(wandb, wb_run, run, redactor, log_samples=log_samples)
        failed = False
    except Exception as exc:
        raise _upload_error(wandb, exc, redactor) from None
    finally:
        if not attached:
            wb_run.finish(exit_code=1 if failed else 0)
            # wandb keeps process-wide state (settings read from the environment at the first init, its
            # service process); tear it down so the next push in this process starts from its own settings.
            wandb.teardown()
    if mode == "disabled":
        return "disabled (WANDB_MODE or mode=disabled): nothing logged"
    if mode in NO_NETWORK_MODES:
        where = getattr(wb_run.settings, "sync_dir", None) or "the wandb folder"
        return f"offline run saved in {where} (upload it with `wandb sync {where}`)"
    return str(getattr(wb_run, "url", None) or f"W&B run {wb_run.id}")


def check_args(args: dict[str, Any], settings: Settings) -> None:
    """Before a run: wandb is installed and every ``--wandb_args`` key is a ``wandb.init`` keyword."""
    _init_args(import_wandb(), args, wandb_mode(args, settings), run_id="check", model_name="check")


def import_wandb() -> Any:
    try:
        import wandb
    except ImportError:
        raise ConfigError("--wandb_args needs the wandb package, which is not installed",
                          hint="pip install 'assay[wandb]'") from None
    return wandb


def _init_args(wandb: Any, args: dict[str, Any], mode: str, *, run_id: str, model_name: str) -> dict[str, Any]:
    known = set(inspect.signature(wandb.init).parameters) - _RESERVED
    unknown = sorted(k for k in args if k not in known)
    if unknown:
        raise UsageError(f"--wandb_args: unknown key{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}",
                         hint=f"wandb.init accepts: {', '.join(sorted(known - {'mode'}))}; "
                              f"the key comes from WANDB_API_KEY")
    out = {k: v for k, v in args.items() if k != "mode"}
    out.setdefault("id", run_id)
    out.setdefault("name", f"{model_name} {run_id}")
    out.setdefault("job_type", "eval")
    if isinstance(out.get("tags"), str):
        out["tags"] = [t for t in str(out["tags"]).split("|") if t]
    if mode not in NO_NETWORK_MODES:
        out.setdefault("resume", "allow")  # the same assay run pushed again updates the same W&B run
    return out


def _log_run(wandb: Any, wb_run: Any, run: FinishedRun, redactor: Redactor, *, log_samples: bool) -> None:
    results = run.results
    wb_run.config.update(redactor.redact_obj({
        "task_configs": results.get("configs", {}), "cli_configs": results.get("config", {}),
        "model": results.get("model", {}), "versions": results.get("versions", {}),
        "assay": {"run_id": run.run_id, "status": run.status},
    }), allow_val_change=True)
    summary = summary_of(results)
    wb_run.summary.update(summary)
    wb_run.log(summary)
    wb_run.log({"evaluation/eval_results": _results_table(wandb, results)})
    if results.get("groups"):
        wb_run.log({"evaluation/group_eval_results": _groups_table(wandb, results)})
    artifact = wandb.Artifact("results", type="eval_results")
    with artifact.new_file("results.json", mode="w", encoding="utf-8") as handle:
        handle.write(redactor.redact(run.results_path.read_text(encoding="utf-8")))
    wb_run.log_artifact(artifact)
    if log_samples:
        for task in run.task_names:
            if task in run.samples:
                _log_task_samples(wandb, wb_run, run, task, redactor)


def summary_of(results: ResultsDocument) -> dict[str, Any]:
    """Flat ``{task}/{metric}`` numbers, as lmms-eval logs them (plus stderr, CI bounds, counts, usage)."""
    out: dict[str, Any] = {}
    for task, entry in (results.get("results") or {}).items():
        for metric, m in view.task_metrics(entry).items():
            _put(out, f"{task}/{metric}", m.get("value"))
            _put(out, f"{task}/{metric}_stderr", m.get("stderr"))
            ci = m.get("ci95")
            if isinstance(ci, list) and len(ci) == 2:
                _put(out, f"{task}/{metric}_ci95_low", ci[0])
                _put(out, f"{task}/{metric}_ci95_high", ci[1])
        if isinstance(entry, dict):
            for key in ("n_samples", "n_scored", "n_errors"):
                _put(out, f"{task}/{key}", entry.get(key))
            for kind, n in (entry.get("errors") or {}).items():
                _put(out, f"{task}/errors/{kind}", n)
            for key in ("n_judged", "n_judge_failed", "judge_failure_rate"):
                _put(out, f"{task}/{key}", entry.get(key))
            for reason, n in (entry.get("judge_failed") or {}).items():
                _put(out, f"{task}/judge_failed/{reason}", n)
    for group, entry in (results.get("groups") or {}).items():
        for metric, m in (entry.get("metrics") or {}).items():
            _put(out, f"{group}/{metric}", view.metric_value(m))
    usage = results.get("usage") or {}
    for key in ("input_tokens", "output_tokens"):
        _put(out, f"usage/{key}", usage.get(key))
    cost = results.get("cost")
    if isinstance(cost, dict):
        _put(out, "cost/total_usd", cost.get("total_usd"))
    return out


def _put(out: dict[str, Any], key: str, value: Any) -> None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        out[key] = value


def _results_table(wandb: Any, results: ResultsDocument) -> Any:
    table = wandb.Table(columns=["Tasks", "Metric", "Value", "Stderr", "CI95 low", "CI95 high", "N", "Errors"])
    for task, entry in (results.get("results") or {}).items():
        errors = entry.get("n_errors") if isinstance(entry, dict) else None
        for metric, m in view.task_metrics(entry).items():
            ci = m.get("ci95")
            if not (isinstance(ci, list) and len(ci) == 2):
                ci = [None, None]
            table.add_data(task, metric, _num(m.get("value")), _num(m.get("stderr")), _num(ci[0]), _num(ci[1]),
                           m.get("n"), errors)
    return table


def _groups_table(wandb: Any, results: ResultsDocument) -> Any:
    table = wandb.Table(columns=["Groups", "Metric", "Value", "N"])
    for group, entry in (results.get("groups") or {}).items():
        for metric, m in (entry.get("metrics") or {}).items():
            table.add_data(group, metric, _num(view.metric_value(m)), m.get("n") if isinstance(m, dict) else None)
    return table


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _log_task_samples(wandb: Any, wb_run: Any, run: FinishedRun, task: str, redactor: Redactor) -> None:
    metric_names = list(view.task_metrics((run.results.get("results") or {}).get(task)))
    columns = ["id", "input", "image", "labels", "filtered_predictions", "raw_predictions", *metric_names,
               "error", "judge"]
    table = wandb.Table(columns=columns)
    for n, record in enumerate(run.iter_samples(task)):
        if n >= _MAX_TABLE_ROWS:
            log.warning("W&B: %s has more than %d samples; the table shows the first %d, the artifact all",
                        task, _MAX_TABLE_ROWS, _MAX_TABLE_ROWS)
            break
        metrics = view.record_metrics(record, metric_names)  # lmms-eval's records keep them at the top level
        raw = record.get("resps")
        table.add_data(
            record.get("doc_id"), redactor.redact(view.prompt_text(record)), _first_image(wandb, run, record),
            redactor.redact(view.target_text(record)), redactor.redact(view.answer_text(record) or ""),
            redactor.redact(view.answer_text({"resps": raw}) or ""),
            *[_cell(metrics.get(m)) for m in metric_names],
            redactor.redact(_error_cell(record)), redactor.redact(view.judge_text(record)),
        )
    wb_run.log({f"{task}_eval_results": table})
    artifact = wandb.Artifact(_artifact_name(task), type="samples_by_task")
    with artifact.new_file(f"{task}_eval_samples.jsonl", mode="w", encoding="utf-8") as handle:
        handle.write(redactor.redact(run.samples[task].read_text(encoding="utf-8")))
    wb_run.log_artifact(artifact)


def _first_image(wandb: Any, run: FinishedRun, record: SampleRecord) -> Any:
    for item in record.get("media") or []:
        path = run.folder / str(item.get("path", "")) if isinstance(item, dict) else None
        if path is not None and path.is_file():
            return wandb.Image(str(path))
    return None


def _cell(value: Any) -> Any:
    """A sample's score: a number where there is one (an MME-style dict gives its score), else text."""
    number = view.score_value(value)
    if number is not None:
        return number
    if isinstance(value, str) or value is None:
        return value
    return str(value)


def _error_cell(record: SampleRecord) -> str:
    kind = view.error_kind(record)
    return f"{kind}: {view.error_message(record)}" if kind else ""


def _artifact_name(task: str) -> str:
    import re

    return re.sub(r"[^A-Za-z0-9._-]+", "_", task) or "samples"


def _upload_error(wandb: Any, exc: BaseException, redactor: Redactor,
                  settings: Settings | None = None) -> AssayError:
    if isinstance(exc, AssayError):
        return exc
    if settings is not None and _timed_out(wandb, exc):
        return UploadError(f"W&B at {redactor.redact(settings.wandb_base_url)} did not answer within "
                           f"{settings.wandb_init_timeout:g}s", hint="check WANDB_BASE_URL and your network, raise "
                           "WANDB_INIT_TIMEOUT, or use --wandb_args mode=offline and `wandb sync` later")
    text = clip(f"{type(exc).__name__}: {exc}".splitlines()[0], 300, redact=redactor.redact)
    errors = getattr(wandb, "errors", None)
    auth = getattr(errors, "AuthenticationError", ()) if errors is not None else ()
    if (auth and isinstance(exc, auth)) or "api key" in text.lower() or "401" in text:
        return UploadAuthError(f"W&B refused the API key ({text})", hint=_SECRET_HINT)
    return UploadError(f"W&B logging failed: {text}", hint="check the W&B server address and your network")



def _timed_out(wandb: Any, exc: BaseException) -> bool:
    errors = getattr(wandb, "errors", None)
    comm = getattr(errors, "CommError", None) if errors is not None else None
    text = str(exc).lower()
    waited = "timed out" in text or "deadline exceeded" in text
    return waited and (comm is None or isinstance(exc, comm) or "timeout" in type(exc).__name__.lower())
