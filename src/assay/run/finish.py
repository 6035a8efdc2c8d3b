"""Stage 3 of a run: the results document, built from what the workers finished and written first.

``build_results`` is synchronous on purpose: after an interrupt it runs without awaiting anything, so
nothing can cancel it halfway. Task aggregations are task code: each metric's failure is kept on that
metric and the other metrics, tasks and samples stand. The files sink writes the document atomically;
if the output folder fails, the document goes to a rescue folder instead and the error says where.
"""

from __future__ import annotations

import json
import logging
import platform
import tempfile
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from assay.run.results import summarize_task
from assay.run.taskcode import contained, limited
from assay.types import Usage

if TYPE_CHECKING:
    from assay.records.schema import CostReport, ResultsDocument, Timing, UsageTotals
    from assay.run.execute import Ending, RunState
    from assay.run.prepare import Prepared

log = logging.getLogger("assay.run")


def judge_status(p: Prepared, state: RunState, ending: Ending,
                 task_results: dict[str, Any]) -> tuple[str, str | None]:
    """(status, why): ``complete``, ``interrupted``, ``aborted``, or ``failed`` — a run that finished
    but whose results cannot be trusted: no sample succeeded, too many failed, or a metric could not be
    aggregated."""
    if ending == "interrupted":
        return "interrupted", state.stop_reason or "interrupted"
    if ending == "aborted":
        if state.output_error is not None:
            error = state.output_error
            return "aborted", f"cannot write the samples file: {getattr(error, 'strerror', None) or error}"
        return "aborted", p.redactor.redact(state.fatal.message) if state.fatal else None
    done = state.done
    failed = sum(sum(t.errors.values()) for t in state.tallies.values())
    if done and failed == done:
        return "failed", f"no sample succeeded ({failed} of {done} failed)"
    limit = p.options.max_error_rate
    if done and failed / done > limit:
        return "failed", f"{failed} of {done} samples failed ({failed / done:.1%}, over --max_error_rate {limit:g})"
    over = _judge_over_threshold(p, task_results)
    if over:
        return "failed", over
    broken = [f"{task}/{metric}" for task, entry in task_results.items()
              for metric, m in entry["metrics"].items() if m.get("error")]
    if broken:
        return "failed", f"aggregation of {', '.join(broken)} failed (see the metric's `error`)"
    return "complete", None


def _judge_over_threshold(p: Prepared, task_results: dict[str, Any]) -> str | None:
    """Why the run failed on its judge, or None: tasks whose judge failure rate exceeds the limit, tasks
    that never got a usable verdict (at any limit, 1 included), judgements outside any sample that failed."""
    from assay.judge.accounting import no_verdict, over_threshold

    limit = p.options.max_judge_failure_rate
    over, unjudged = over_threshold(task_results, limit), no_verdict(task_results)
    loose = p.judging.judge.loose.failure() if p.judging is not None else None
    parts = []
    for name in dict.fromkeys([*over, *unjudged]):
        entry = task_results[name]
        reasons = ", ".join(f"{reason} {n}" for reason, n in entry["judge_failed"].items())
        attempted = entry["n_judged"] + entry["n_judge_failed"]
        parts.append(f"{name} {float(entry['judge_failure_rate']):.1%} ({entry['n_judge_failed']} of {attempted}: "
                     f"{reasons})")
    if loose is not None:
        parts.append(f"a judgement outside any sample failed ({loose.reason}: {p.redactor.redact(loose.detail)})")
    if not parts:
        return None
    bound = f"over --max_judge_failure_rate {limit:g}" if over else "no usable verdict"
    return f"judge failures {bound}: {'; '.join(parts)}"


def _cost(p: Prepared) -> CostReport:
    """What the run cost, and beside it what its prompts were estimated to cost before they were sent."""
    from assay.run.estimate import estimate

    report = cast("CostReport", p.ledger.report())
    counted = estimate(p)
    if counted is not None:
        report["estimate"] = {key: counted[key] for key in ("tokens", "vendor_rules", "total", "notes")}
    return report


def build_results(p: Prepared, state: RunState, ending: Ending) -> dict[str, Any]:
    """The results document, built in the shape :class:`assay.records.ResultsDocument` declares (mypy
    checks every key and value here); handed on as a plain dict, which the sinks complete and write."""
    o, redactor = p.options, p.redactor
    task_results = {} if o.predict_only else _task_results(p, state)
    status, why = judge_status(p, state, ending, task_results)
    wall = time.monotonic() - p.started
    stats = p.model.stats
    results: ResultsDocument = {
        "status": status,
        "status_reason": why,
        "config": redactor.redact_obj({
            "model": o.model, "model_args": o.model_args, "tasks": p.names, "limit": o.limit, "offset": o.offset,
            "seed": o.seed, "gen_kwargs": o.gen_kwargs, "batch_size": o.batch_size, "log_samples": o.log_samples,
            "predict_only": o.predict_only, "bootstrap_iters": o.bootstrap_iters,
            "max_error_rate": o.max_error_rate, "shuffle_docs": p.settings.shuffle_docs,
            "judge_model": o.judge_model, "judge_args": o.judge_args,
            "max_judge_failure_rate": o.max_judge_failure_rate,
        }),
        # The identity under its own key: its "provider" (the vendor) must not replace --model's name.
        "model": {"name": p.provider.model_name, "provider": o.model,
                  "identity": redactor.redact_obj(p.provider.identity())},
        "results": task_results,
        "groups": {},
        "n_samples": {name: t.total for name, t in state.tallies.items()},
        "usage": _usage_totals(state),
        "cost": _cost(p),
        "model_stats": {"requests": stats.requests, "retries": stats.retries, "failures": stats.failures,
                        "cache_hits": stats.cache_hits},
        "timing": _timing(p, wall),
        "throughput": {
            "samples_per_s": round(state.done / wall, 3) if wall else None,
            "requests_per_s": round(stats.requests / wall, 3) if wall else None,
        },
        "versions": _versions(),
        "configs": redactor.redact_obj(p.configs),
    }
    if p.judging is not None and (p.judging.judged or p.judging.judge.outcomes):
        loose = p.judging.judge.loose
        results["judge"] = redactor.redact_obj({
            **p.judging.judge.summary(), "tasks": p.judging.judged or sorted(
                name for name, entry in task_results.items() if "n_judged" in entry),
            **({"outside_samples": loose.records(redactor.redact)} if loose else {}),
            "max_failure_rate": o.max_judge_failure_rate,
            "over_threshold": {name: entry["judge_failure_rate"] for name, entry in task_results.items()
                               if entry.get("judge_failure_rate", 0.0) > o.max_judge_failure_rate},
        })
    if p.batch_runners:
        from assay.run.batching import batch_report

        results["batch"] = batch_report(p)
    if state.sink_failures:
        results["sink_failures"] = dict(state.sink_failures)
    document = cast(dict[str, Any], results)
    if not o.predict_only:
        _lmms_eval_view(p, state, document)
    return document


def _lmms_eval_view(p: Prepared, state: RunState, results: dict[str, Any]) -> None:
    """lmms-eval's keys beside assay's (``results[task]["acc,none"]``, ``n-samples``, groups…)."""
    from assay.tasks.lmms_view import add_to_results
    from assay.tasks.yaml.functions import resolve_all

    groups = p.registry.groups_for(p.names)

    def resolve(value: Any) -> Any:
        return contained("groups", "importing a group aggregation", resolve_all, value)

    add_to_results(results, tasks=p.tasks, values={n: t.values for n, t in state.tallies.items()},
                   docs={n: len(d) for n, d in p.docs.items()}, groups=groups,
                   members={g: p.registry.resolve([g]) for g in groups}, resolve=resolve)


def _task_results(p: Prepared, state: RunState) -> dict[str, Any]:
    from assay.compat.cli_args import cli_args
    from assay.judge.aggregation import judged_aggregation
    from assay.judge.scoring import requested_judge_model

    args = cli_args(p.options, p.redactor.redact)
    out: dict[str, Any] = {}
    for name in p.names:
        task = p.tasks[name]

        def aggregate(metric: str, values: list[Any], task: Any = task, name: str = name) -> float:
            # lmms-eval passes its command line to aggregations that take `args` (submission files…); an
            # aggregation may judge (HallusionBench): its judgements are counted, a failed one voids the metric.
            value: float = judged_aggregation(
                lambda: limited(name, f"aggregation of {metric}", task.aggregate, metric, values, args),
                state.tallies[name].judge, requested_model=requested_judge_model(task.config.metadata),
                redact=p.redactor.redact)
            return value

        out[name] = summarize_task(task, state.tallies[name], bootstrap_iters=p.options.bootstrap_iters,
                                   seed=p.options.seed, alias=p.configs[name].get("task_alias"), aggregate=aggregate)
        judged = p.judging is not None and name in p.judging.judged
        if (judged or state.tallies[name].judge.any) and "n_judged" not in out[name]:
            out[name].update(state.tallies[name].judge.summary())  # a judged task shows its counts, even 0
        for metric, entry in out[name]["metrics"].items():
            if entry.get("error"):
                log.warning("%s/%s: %s", name, metric, entry["error"])
    return out


def write_results(p: Prepared, results: dict[str, Any]) -> tuple[Path | None, str | None]:
    """Write the document through every sink, the files sink first. Returns (where it is on disk, and the
    error that kept it from the output folder, if any). Without an output folder, (None, None)."""
    where: Path | None = None
    problem: str | None = None
    for sink in p.sinks:
        try:
            sink.finish(results)
            if sink is p.file_sink:
                where = _verified(p.file_sink.results_path)
        except Exception as exc:  # one broken sink must not cost the others their results
            if sink is not p.file_sink:
                log.warning("results sink %s failed: %s", type(sink).__name__, exc, exc_info=log.isEnabledFor(10))
                continue
            problem = f"{getattr(exc, 'strerror', None) or exc}"
            # The run ends with an error (exit 1) now: the rescued document and the sinks after this one say
            # so, not the `complete` it would have been.
            if results.get("status") != "interrupted":
                results["status"] = "aborted"
                results["status_reason"] = f"cannot write the results document to {p.file_sink.folder}: {problem}"
            where = _rescue(p, results)
    return where, problem


def _verified(path: Path) -> Path:
    """The path, once the document on disk is proven whole (it parses)."""
    json.loads(path.read_text(encoding="utf-8"))
    return path


def _rescue(p: Prepared, results: dict[str, Any]) -> Path | None:
    """The output folder failed: put the document where it can be written (LMMS_EVAL_HOME, then /tmp)."""
    assert p.file_sink is not None
    name = p.file_sink.results_path.name
    from assay.sinks.files import redact_values, utf8

    # Values redacted before they are serialized, as the files sink does: escaping cannot hide a secret.
    text = json.dumps(redact_values(results, p.redactor.redact), indent=2, ensure_ascii=False, default=str)
    for folder in (p.settings.home / "rescued", Path(tempfile.gettempdir()) / "assay-rescued"):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / name
            path.write_bytes(utf8(text))
            return _verified(path)
        except (OSError, ValueError):
            continue
    return None


def _usage_totals(state: RunState) -> UsageTotals:
    """Tokens this run paid for; answers served from the cache are counted apart."""
    paid, cached = Usage(), Usage()
    for tally in state.tallies.values():
        paid, cached = paid + tally.usage, cached + tally.cached_usage
    return {"input_tokens": paid.input_tokens, "output_tokens": paid.output_tokens,
            "from_cache": {"input_tokens": cached.input_tokens, "output_tokens": cached.output_tokens}}


def _timing(p: Prepared, wall: float) -> Timing:
    first = p.model.stats.first_request_at
    return {
        "started_at": p.started_wall.isoformat(),
        "finished_at": datetime.now(timezone.utc).isoformat(),
        "wall_s": round(wall, 4),
        "time_to_first_request_s": round(first - p.started, 4) if first is not None else None,
    }


_LIBRARIES = ("assay", "aiohttp", "pydantic", "datasets", "xllamacpp")


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version(), "platform": platform.platform()}
    out.update({dist: found for dist, found in library_versions(_LIBRARIES).items() if found is not None})
    return out


def library_versions(dists: Sequence[str]) -> dict[str, str | None]:
    """``importlib.metadata.version`` of each of ``dists`` (None: not installed), read from the metadata's
    ``Version:`` line: the library's own call runs the whole file through the e-mail parser (~1 ms a package,
    at the finish). Where :mod:`assay.env.installed` finds a package as importlib.metadata would (one look at
    ``sys.path`` for all of them), that is not even imported (~5 ms)."""
    from assay.env.installed import UNDECIDED, installed_versions

    return {dist: _importlib_version(dist) if here is UNDECIDED else here
            for dist, here in installed_versions(dists).items()}


def _importlib_version(dist: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, distribution

    from assay.env.installed import VERSION_LINE

    try:
        found = distribution(dist)
    except PackageNotFoundError:
        return None
    line = VERSION_LINE.search(found.read_text("METADATA") or "")
    return line.group(1) if line else found.version
