"""Scoring a doc as lmms-eval does: filters, ``process_results``, lmms-eval's metrics, groups."""

from typing import TYPE_CHECKING

from assay.env.lazy import moved_names

if not TYPE_CHECKING:  # the old module's names, for code written before it became this package
    __getattr__ = moved_names(__name__, "assay.tasks.scoring.results")
