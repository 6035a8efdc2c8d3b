"""``lmms_eval.filters.transformation``: rewriting responses (case, mapping, reasoning blocks)."""

from assay.tasks.scoring.filters import LowercaseFilter, MapFilter, StripThinkingFilter, UppercaseFilter

__all__ = ["LowercaseFilter", "MapFilter", "StripThinkingFilter", "UppercaseFilter"]
