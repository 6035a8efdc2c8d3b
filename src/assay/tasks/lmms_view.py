"""lmms-eval's view of a results document, written beside assay's own layout in the same document.

Dashboards and scripts built on lmms-eval's output read ``results[task]["<metric>,<filter>"]``,
``results[task]["<metric>_stderr,<filter>"]`` (``"N/A"`` where lmms-eval has none), ``results[task]["alias"]``
and ``["samples"]``, and the top-level ``configs``, ``versions``, ``n-shot``, ``n-samples``,
``higher_is_better`` and ``group_subtasks``. Groups are consolidated with lmms-eval's rules: every
``metric,filter`` of the members whose name contains an ``aggregate_metric_list`` metric is combined
with ``mean`` (size-weighted or not) or the group's ``!function(values, sizes, weight_by_size)``, its
stderr pooled.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from assay.errors import AssayError, TaskError

if TYPE_CHECKING:
    from assay.tasks.scoring.groups import GroupInfo
    from assay.tasks.task import Task

NA = "N/A"


def task_fields(task: Task, entry: Mapping[str, Any], values: Mapping[str, list[Any]]) -> dict[str, Any]:
    """A task's lmms-eval keys, from its assay entry (the aggregated values) and its per-doc values."""
    out: dict[str, Any] = {}
    samples = 0
    for key in task.metric_keys:
        metric, filter_name = task.split_key(key)
        got = values.get(key, [])
        if not got:
            continue
        samples = len(got)
        out[f"{metric},{filter_name}"] = entry["metrics"].get(key, {}).get("value")
        try:
            stderr = task.stderr(key, got)
        except AssayError:
            stderr = None
        out[f"{metric}_stderr,{filter_name}"] = NA if stderr is None else stderr
        out.update(_clt_fields(task, metric, filter_name, got))
    out["samples"] = samples
    return out


def _clt_fields(task: Task, metric: str, filter_name: str, values: list[Any]) -> dict[str, Any]:
    """lmms-eval's ``_stderr_clt`` and ``_stderr_clustered`` (by the task's ``cluster_key``/``score_key``)."""
    from assay.tasks.scoring.lmms_metrics import clt_stderr, clustered_stderr, score_items

    scores, clusters = score_items(values, task.config.score_key, task.config.cluster_key)
    clt, clustered = clt_stderr(scores), clustered_stderr(scores, clusters)
    return {f"{metric}_stderr_clt,{filter_name}": NA if clt is None else clt,
            f"{metric}_stderr_clustered,{filter_name}": NA if clustered is None else clustered}


def aggregate_subtask_metrics(metrics: Sequence[float], sizes: Sequence[int], weight_by_size: bool = True) -> float:
    weights = list(sizes) if weight_by_size else [1] * len(sizes)
    return sum(m * w for m, w in zip(metrics, weights, strict=True)) / sum(weights)


def pooled_sample_stderr(stderrs: Sequence[float], sizes: Sequence[int]) -> float:
    pooled = sum((n - 1) * s**2 * n for n, s in zip(sizes, stderrs, strict=True)) / (sum(sizes) - len(sizes))
    return math.sqrt(pooled / sum(sizes))


def group_fields(info: GroupInfo, members: Sequence[str], results: Mapping[str, Mapping[str, Any]],
                 resolve: Callable[[Any], Any]) -> dict[str, Any]:
    """A group's lmms-eval keys over its leaf ``members`` (``resolve`` imports a ``!function``)."""
    out: dict[str, Any] = {}
    if not info.aggregate_metric_list:
        return out
    keys = {k for m in members for k in results.get(m, {}) if "," in k and "_stderr" not in k}
    for key in sorted(keys):
        stderr_key = "_stderr,".join(key.split(","))
        having = [m for m in members if key in results.get(m, {}) and _number(results[m][key])]
        metrics = [float(results[m][key]) for m in having]
        sizes = [int(results[m].get("samples", 0)) for m in having]
        stderrs = [results[m].get(stderr_key, NA) for m in having]
        for spec in info.aggregate_metric_list:
            if spec.metric not in key or not metrics:
                continue  # lmms-eval matches by substring (so `acc` also aggregates `acc_norm`)
            fn = aggregate_subtask_metrics if spec.aggregation == "mean" else resolve(spec.aggregation)
            try:
                out[key] = fn(metrics, sizes, spec.weight_by_size)
            except Exception as exc:
                raise TaskError(f"group {info.name}: aggregating {key} failed: {type(exc).__name__}: {exc}",
                                hint=f"see the group's aggregate_metric_list ({info.yaml_path})") from exc
            try:
                out[stderr_key] = NA if NA in stderrs else pooled_sample_stderr([float(s) for s in stderrs], sizes)
            except (ZeroDivisionError, TypeError, ValueError):
                out[stderr_key] = NA
        out["samples"] = sum(int(results[m].get("samples", 0)) for m in members if m in results)
    return out


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def document_fields(tasks: Mapping[str, Task], docs: Mapping[str, int], groups: Mapping[str, Sequence[str]],
                    library_versions: Mapping[str, str]) -> dict[str, Any]:
    """The top-level lmms-eval keys. ``versions`` keeps assay's library versions and adds each task's."""
    return {
        "versions": {**library_versions, **{name: task.config.version for name, task in sorted(tasks.items())}},
        "n-shot": {name: task.num_fewshot for name, task in sorted(tasks.items())},
        "n-samples": {name: {"original": _original(task), "effective": docs[name]} for name, task in tasks.items()},
        "higher_is_better": {name: {m.name: m.higher_is_better for m in task.metrics}
                             for name, task in sorted(tasks.items())},
        "group_subtasks": {**{g: list(m) for g, m in groups.items()},
                           **{name: [] for name in tasks if not any(name in m for m in groups.values())}},
    }


def _original(task: Task) -> int | None:
    try:
        return len(task.dataset())
    except AssayError:
        return None


def add_to_results(results: dict[str, Any], *, tasks: Mapping[str, Task], values: Mapping[str, Mapping[str, list[Any]]],
                   docs: Mapping[str, int], groups: Mapping[str, GroupInfo],
                   members: Mapping[str, Sequence[str]], resolve: Callable[[Any], Any]) -> None:
    """Write lmms-eval's keys into a results document (``results`` and ``groups`` entries, top-level keys).

    ``groups`` are the run's groups (every leaf task in the run) and ``members`` their leaf tasks. A group
    whose consolidation fails keeps the error on its entry; the tasks' entries stand.
    """
    task_results = results["results"]
    for name, task in tasks.items():
        if name in task_results:
            task_results[name].update(task_fields(task, task_results[name], values.get(name, {})))
    out_groups: dict[str, Any] = {}
    for group, info in groups.items():
        leaves = list(members[group])
        entry: dict[str, Any] = {"alias": info.alias or group, "members": leaves}
        try:
            fields = group_fields(info, leaves, task_results, resolve)
        except AssayError as exc:
            entry["error"] = exc.message
            fields = {}
        # assay's layout: "metric" under the default filter, "metric,filter" otherwise (as for tasks)
        entry["metrics"] = {(key.split(",")[0] if key.endswith(",none") else key): {"value": value,
                                                                                    "n": fields.get("samples", 0)}
                            for key, value in fields.items() if "," in key and "_stderr" not in key}
        entry.update(fields)
        out_groups[group] = entry
    results["groups"] = out_groups
    results.update(document_fields(tasks, docs, {g: list(members[g]) for g in groups}, results.get("versions", {})))
