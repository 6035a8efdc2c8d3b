"""Per-task and per-group aggregation of sample scores into the results document."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from assay.judge.accounting import JudgeTally
from assay.types import SampleError, Usage

Aggregate = Callable[[str, list[Any]], float]


class ScoredTask(Protocol):
    name: str

    @property
    def metric_names(self) -> list[str]: ...

    def higher_is_better(self, metric: str) -> bool: ...

    def aggregate(self, metric: str, values: list[float]) -> float: ...


@dataclass
class TaskTally:
    """What one task's samples added up to so far."""

    total: int
    done: int = 0
    values: dict[str, list[float]] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)
    usage: Usage = field(default_factory=Usage)  # tokens this run paid for
    cached_usage: Usage = field(default_factory=Usage)  # tokens of answers served from the cache
    cached: int = 0
    judge: JudgeTally = field(default_factory=JudgeTally)  # judged samples and judge failures by reason
    #: Metric values that are not numbers (NaN, ±inf, complex, beyond a float), by metric and kind: shown
    #: in the sample's record as they are, kept out of the aggregate, counted in the metric's entry.
    not_numbers: dict[str, Counter[str]] = field(default_factory=dict)

    def add(self, scores: dict[str, float] | None, error: SampleError | None, usage: Usage, cached: bool) -> None:
        self.done += 1
        if cached:
            self.cached += 1
            self.cached_usage = self.cached_usage + usage
        else:
            self.usage = self.usage + usage
        if error is not None:
            self.errors[error.type] += 1
            return
        for metric, value in (scores or {}).items():
            kind = None if type(value) is float and math.isfinite(value) else not_a_number(value)
            if kind is None:
                self.values.setdefault(metric, []).append(value)
            else:
                self.not_numbers.setdefault(metric, Counter())[kind] += 1


def not_a_number(value: Any) -> str | None:
    """What kind of non-number a metric value is (``nan``, ``inf``, ``-inf``, ``complex``, ``huge``), or None
    for a usable value (a finite number, or anything else an aggregation may take: a dict, a string)."""
    if isinstance(value, float):
        if math.isfinite(value):
            return None
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, complex):
        return "complex"
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            float(value)
        except OverflowError:
            return "huge"
    return None


def _finite(x: float) -> float | None:
    return x if isinstance(x, (int, float)) and math.isfinite(x) else None


def summarize_task(task: ScoredTask, tally: TaskTally, *, bootstrap_iters: int, seed: int,
                   alias: str | None = None, aggregate: Aggregate | None = None) -> dict[str, Any]:
    """One task's entry in the results document. ``aggregate`` (default ``task.aggregate``) may raise an
    AssayError for one metric: that metric then carries the error and no value; the others are kept."""
    from assay.errors import AssayError
    from assay.metrics.aggregation import bootstrap_ci, stderr_of_mean

    aggregate = aggregate or task.aggregate
    metrics: dict[str, Any] = {}
    for metric in task.metric_names:
        values = tally.values.get(metric, [])
        entry: dict[str, Any] = {"value": None, "n": len(values), "higher_is_better": task.higher_is_better(metric)}
        if metric in tally.not_numbers:  # excluded, like judge failures: counted, never aggregated
            entry["n_not_numbers"] = sum(tally.not_numbers[metric].values())
            entry["not_numbers"] = dict(tally.not_numbers[metric])
        if values:
            numeric = all(isinstance(v, (int, float)) for v in values)
            try:
                entry["value"] = aggregate(metric, values)
            except AssayError as exc:
                entry["error"] = exc.message
            if numeric:
                entry["stderr"] = _finite(stderr_of_mean([float(v) for v in values]))
                if bootstrap_iters > 0:
                    low, high = bootstrap_ci([float(v) for v in values], iterations=bootstrap_iters, seed=seed)
                    entry["ci95"] = [low, high]
        metrics[metric] = entry
    n_errors = sum(tally.errors.values())
    summary: dict[str, Any] = {
        "alias": alias or task.name,
        "metrics": metrics,
        "n_samples": tally.total,
        "n_completed": tally.done,
        # A judge failure is neither scored nor an error of the model: it is counted under the judge.
        "n_scored": tally.done - n_errors - tally.judge.n_failed,
        "n_errors": n_errors,
        "errors": dict(tally.errors),
        "n_cached": tally.cached,
        "usage": {"input_tokens": tally.usage.input_tokens, "output_tokens": tally.usage.output_tokens},
        "usage_from_cache": {"input_tokens": tally.cached_usage.input_tokens,
                             "output_tokens": tally.cached_usage.output_tokens},
    }
    if tally.judge.judged or tally.judge.n_failed:
        summary.update(tally.judge.summary())
    return summary
