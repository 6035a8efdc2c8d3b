"""``lmms_eval.filters``: the filter base class, the built-in filters by name, and pipelines.

The filters are assay's (:mod:`assay.tasks.scoring.filters`), with lmms-eval's names and arguments, so a task
folder's own filter classes can subclass them.
"""

from __future__ import annotations

from typing import Any

from assay.tasks.scoring.filters import FILTERS as FILTER_REGISTRY
from assay.tasks.scoring.filters import Filter, FilterPipeline

from . import extraction, selection, transformation

__all__ = ["FILTER_REGISTRY", "Filter", "FilterEnsemble", "build_filter_ensemble", "extraction", "get_filter",
           "selection", "transformation"]

FilterEnsemble = FilterPipeline


def get_filter(filter_name: Any) -> Any:
    return FILTER_REGISTRY.get(filter_name, filter_name)


def build_filter_ensemble(filter_name: str, components: list[tuple[Any, dict[str, Any] | None]]) -> FilterPipeline:
    filters = [get_filter(fn)(**(kwargs or {})) for fn, kwargs in components]
    return FilterPipeline(filter_name, filters)
