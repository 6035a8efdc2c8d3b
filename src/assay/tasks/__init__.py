"""Tasks in the lmms-eval YAML format: discovery, configs, datasets, prompts and scoring hooks.

``TaskRegistry.discover(settings, include_paths=[...])`` indexes task names from YAML alone (no task
Python, no ``datasets``); ``registry.load(name, settings=..., model_name=...)`` builds a :class:`Task`.
Heavy pieces are imported on first use, so ``import assay.tasks`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from assay.env.lazy import lazy_getattr

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
    "AggregateMetric": "assay.tasks.scoring.groups",
    "DocList": "assay.tasks.data.doclist",
    "GroupInfo": "assay.tasks.scoring.groups",
    "MetricSpec": "assay.tasks.yaml.config",
    "Task": "assay.tasks.task",
    "TaskConfig": "assay.tasks.yaml.config",
    "TaskEntry": "assay.tasks.registry.index",
    "TaskRegistry": "assay.tasks.registry.index",
}

if TYPE_CHECKING:
    from assay.tasks.data.doclist import DocList
    from assay.tasks.registry.index import TaskEntry, TaskRegistry
    from assay.tasks.scoring.groups import AggregateMetric, GroupInfo
    from assay.tasks.task import Task
    from assay.tasks.yaml.config import MetricSpec, TaskConfig


__getattr__ = lazy_getattr(__name__, _EXPORTS)
