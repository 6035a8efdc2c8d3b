"""Metric functions, their registry, and aggregation (mean, stderr, bootstrap confidence intervals)."""
