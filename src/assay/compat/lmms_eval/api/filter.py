"""``lmms_eval.api.filter``: the filter base class and the pipeline of filters."""

from assay.tasks.scoring.filters import Filter
from assay.tasks.scoring.filters import FilterPipeline as FilterEnsemble

__all__ = ["Filter", "FilterEnsemble"]
