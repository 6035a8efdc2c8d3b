"""Scoring a doc as lmms-eval does: filters, ``process_results``, lmms-eval's metrics, groups."""
