"""``lmms_eval.filters.extraction``: regex-based answer extraction filters."""

from assay.tasks.scoring.filters import (
    ExtendedRegexFilter,
    MultiChoiceRegexFilter,
    RegexFilter,
    SimpleMultiChoiceRegexFilter,
    WhitespaceFilter,
)

__all__ = ["ExtendedRegexFilter", "MultiChoiceRegexFilter", "RegexFilter", "SimpleMultiChoiceRegexFilter",
           "WhitespaceFilter"]
