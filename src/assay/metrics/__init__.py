"""Metric functions, their registry, and aggregation (mean, stderr, bootstrap confidence intervals)."""

from typing import TYPE_CHECKING

from assay.env.lazy import moved_names

if not TYPE_CHECKING:  # the old module's names, for code written before it became this package
    __getattr__ = moved_names(__name__, "assay.metrics.scorers")
