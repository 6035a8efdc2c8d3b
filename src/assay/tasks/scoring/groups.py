"""Group files: ``group:`` + a ``task:`` list of names or inline task dicts, and how to aggregate them.

A group only names its members; inline dicts are either a whole new task (registered under its
``task`` name) or overrides for an existing task that apply when it runs as part of this group.
Group-level keys that are not group keys (e.g. ``generation_kwargs``) are overrides for every member.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assay.errors import TaskError
from assay.tasks.yaml.refs import FunctionRef

GROUP_ONLY_KEYS = frozenset({"group", "group_alias", "task", "aggregate_metric_list", "metadata", "include"})


@dataclass(frozen=True)
class AggregateMetric:
    """One ``aggregate_metric_list`` entry: mean of the members' ``metric`` (size-weighted or not)."""

    metric: str
    # "mean", or a `!function` (a FunctionRef until resolved) called fn(values, sizes, weight_by_size)
    aggregation: Any = "mean"
    weight_by_size: bool = False
    filter_list: tuple[str, ...] = ()


@dataclass(frozen=True)
class GroupInfo:
    name: str
    members: tuple[str, ...]
    aggregate_metric_list: tuple[AggregateMetric, ...] = ()
    alias: str | None = None
    yaml_path: Path | None = None
    source: str = ""
    # task name -> config keys this group sets for it (applied by TaskRegistry.load(..., group=...))
    overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class InlineTask:
    """A task defined inside a group file (registered like a file task)."""

    name: str
    raw: dict[str, Any]


@dataclass
class ParsedGroup:
    info: GroupInfo
    inline_tasks: list[InlineTask]
    nested: list[ParsedGroup]


def parse_group(
    raw: Mapping[str, Any], *, yaml_path: Path, source: str, file_tasks: set[str]
) -> ParsedGroup:
    """Structure of one group mapping; ``file_tasks`` are names defined by their own YAML files."""
    name = raw.get("group")
    where = f"{yaml_path}: group {name}"
    if not isinstance(name, str) or not name:
        raise TaskError(f"{yaml_path}: a `task:` list needs a `group:` name", hint="add `group: <name>`")
    items = raw.get("task")
    if not isinstance(items, list):
        raise TaskError(f"{where}: `task` must be a list", hint="list task names or inline task mappings")
    shared = {k: v for k, v in raw.items() if k not in GROUP_ONLY_KEYS}
    members: list[str] = []
    overrides: dict[str, dict[str, Any]] = {}
    inline: list[InlineTask] = []
    nested: list[ParsedGroup] = []
    for item in items:
        if isinstance(item, str):
            members.append(item)
            if shared:
                overrides[item] = dict(shared)
            continue
        if not isinstance(item, dict):
            raise TaskError(f"{where}: a `task` entry must be a name or a mapping, got {type(item).__name__}")
        if isinstance(item.get("task"), list):
            sub = parse_group(item, yaml_path=yaml_path, source=source, file_tasks=file_tasks)
            nested.append(sub)
            members.append(sub.info.name)
            continue
        task_name = item.get("task")
        if not isinstance(task_name, str) or not task_name:
            raise TaskError(f"{where}: an inline task mapping needs a `task:` name")
        members.append(task_name)
        own = {k: v for k, v in item.items() if k != "task"}
        if task_name in file_tasks:
            if shared or own:
                overrides[task_name] = {**shared, **own}
        else:
            inline.append(InlineTask(task_name, {**shared, **item}))
    metadata = raw.get("metadata")
    info = GroupInfo(
        name=name,
        members=tuple(dict.fromkeys(members)),
        aggregate_metric_list=parse_aggregate_metrics(raw.get("aggregate_metric_list"), where),
        alias=raw.get("group_alias") if isinstance(raw.get("group_alias"), str) else None,
        yaml_path=yaml_path,
        source=source,
        overrides=overrides,
        metadata=metadata if isinstance(metadata, dict) else {},
    )
    return ParsedGroup(info, inline, nested)


def parse_aggregate_metrics(value: Any, where: str) -> tuple[AggregateMetric, ...]:
    if value is None:
        return ()
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        raise TaskError(f"{where}: `aggregate_metric_list` must be a list", hint="e.g. - metric: exact_match")
    out: list[AggregateMetric] = []
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("metric"), str):
            raise TaskError(f"{where}: each aggregate_metric_list entry needs `metric: <name>`")
        aggregation = item.get("aggregation", "mean")
        if not (aggregation == "mean" or callable(aggregation) or isinstance(aggregation, FunctionRef)):
            raise TaskError(
                f"{where}: aggregate metric {item['metric']}: aggregation {aggregation!r} is not supported",
                hint="lmms-eval aggregates groups with `mean` or a !function(values, sizes, weight_by_size)",
            )
        filters = item.get("filter_list", ())
        filters = (filters,) if isinstance(filters, str) else tuple(str(f) for f in filters or ())
        out.append(AggregateMetric(item["metric"], aggregation, bool(item.get("weight_by_size", False)), filters))
    return tuple(out)
