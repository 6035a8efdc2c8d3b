"""``lmms_eval.api.filter``: the filter base class and the pipeline of filters."""

from assay.tasks.filters import Filter
from assay.tasks.filters import FilterPipeline as FilterEnsemble

__all__ = ["Filter", "FilterEnsemble"]
