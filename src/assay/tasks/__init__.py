"""Tasks in the lmms-eval YAML format: discovery, configs, datasets, prompts and scoring hooks.

``TaskRegistry.discover(settings, include_paths=[...])`` indexes task names from YAML alone (no task
Python, no ``datasets``); ``registry.load(name, settings=..., model_name=...)`` builds a :class:`Task`.
Heavy pieces are imported on first use, so ``import assay.tasks`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from assay._lazy import lazy_getattr

__all__ = [
    "AggregateMetric",
    "DocList",
    "GroupInfo",
    "MetricSpec",
    "Task",
    "TaskConfig",
    "TaskEntry",
    "TaskRegistry",
]

_EXPORTS = {
    "AggregateMetric": "assay.tasks.groups",
    "DocList": "assay.tasks.doclist",
    "GroupInfo": "assay.tasks.groups",
    "MetricSpec": "assay.tasks.config",
    "Task": "assay.tasks.task",
    "TaskConfig": "assay.tasks.config",
    "TaskEntry": "assay.tasks.registry",
    "TaskRegistry": "assay.tasks.registry",
}

if TYPE_CHECKING:
    from assay.tasks.config import MetricSpec, TaskConfig
    from assay.tasks.doclist import DocList
    from assay.tasks.groups import AggregateMetric, GroupInfo
    from assay.tasks.registry import TaskEntry, TaskRegistry
    from assay.tasks.task import Task


__getattr__ = lazy_getattr(__name__, _EXPORTS)
