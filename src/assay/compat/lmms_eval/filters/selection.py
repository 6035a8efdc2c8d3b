"""``lmms_eval.filters.selection``: choosing among a doc's repeated responses."""

from assay.tasks.scoring.filters import MajorityVoteFilter, TakeFirstFilter, TakeKFilter

__all__ = ["MajorityVoteFilter", "TakeFirstFilter", "TakeKFilter"]
