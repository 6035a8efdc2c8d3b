"""Aggregating per-sample scores: mean/median/sum, standard error, bootstrap CI, group means.

Pure Python (``statistics``, ``random``); no numpy. Re-exported from :mod:`assay.metrics.scorers`, which is
the public face of both modules.

Conventions: an aggregate of no values is ``nan`` (``sum`` is ``0.0``), never an exception, so a
task whose every sample failed still produces a result row; the runner decides how to show it.
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Callable, Iterable, Sequence

from assay.env.registry import Registry

Aggregation = Callable[[list[float]], float]

__all__ = [
    "AGGREGATIONS",
    "Aggregation",
    "bootstrap_ci",
    "get_aggregation",
    "mean",
    "median",
    "stderr_of_mean",
    "sum_",
    "weighted_group_mean",
]


def mean(values: list[float]) -> float:
    """Arithmetic mean; ``nan`` for no values."""
    if not values:
        return math.nan
    return math.fsum(values) / len(values)


def median(values: list[float]) -> float:
    """Median (mean of the two middle values for an even count); ``nan`` for no values."""
    if not values:
        return math.nan
    return float(statistics.median(values))


def sum_(values: list[float]) -> float:
    """Sum (exact, via ``math.fsum``); ``0.0`` for no values."""
    return math.fsum(values)


AGGREGATIONS: Registry[Aggregation] = Registry("aggregation")
AGGREGATIONS.update({"mean": mean, "median": median, "sum": sum_})


def stderr_of_mean(values: Sequence[float]) -> float:
    """Standard error of the mean: sample standard deviation (n-1) / sqrt(n); 0.0 when n < 2."""
    n = len(values)
    if n < 2:
        return 0.0
    return statistics.stdev(values) / math.sqrt(n)


def _quantile(sorted_values: Sequence[float], q: float) -> float:
    """Linear-interpolation quantile of already sorted values (numpy's default method)."""
    pos = q * (len(sorted_values) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    frac = pos - lo
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * frac


def bootstrap_ci(
    values: Sequence[float],
    *,
    iterations: int = 1000,
    confidence: float = 0.95,
    seed: int = 1234,
    aggregate: Aggregation = mean,
) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of ``aggregate(values)``.

    Resamples ``values`` with replacement ``iterations`` times using ``random.Random(seed)``, so
    the same inputs always give the same interval. Returns ``(nan, nan)`` for no values and
    ``(v, v)`` for a single value.
    """
    if iterations < 1:
        raise ValueError(f"bootstrap_ci needs iterations >= 1, got {iterations}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"bootstrap_ci needs 0 < confidence < 1, got {confidence}")
    data = list(values)
    n = len(data)
    if n == 0:
        return (math.nan, math.nan)
    if n == 1:
        only = float(aggregate(data))
        return (only, only)
    rng = random.Random(seed)
    stats = sorted(float(aggregate(rng.choices(data, k=n))) for _ in range(iterations))
    alpha = 1.0 - confidence
    return (_quantile(stats, alpha / 2), _quantile(stats, 1.0 - alpha / 2))


def weighted_group_mean(pairs: Iterable[tuple[float, int]]) -> float:
    """Mean of subtask scores weighted by subtask size: ``sum(v * n) / sum(n)``.

    Pairs of size 0 are ignored (a ``nan`` score of an empty subtask does not poison the group);
    ``nan`` when the total size is 0. Negative sizes raise ``ValueError``.
    """
    total = 0
    acc: list[float] = []
    for value, size in pairs:
        if size < 0:
            raise ValueError(f"group sizes must be >= 0, got {size}")
        if size == 0:
            continue
        total += size
        acc.append(value * size)
    if total == 0:
        return math.nan
    return math.fsum(acc) / total


def get_aggregation(name: str) -> Aggregation:
    """The aggregation registered as ``name``; ``TaskError`` with suggestions if there is none."""
    return AGGREGATIONS.lookup(name)
