"""``lmms_eval.api.metrics``: lmms-eval's metric and aggregation functions (assay's implementations)."""

from assay.tasks.scoring.lmms_metrics import (
    anls,
    bits_per_byte,
    bleu,
    bypass,
    bypass_agg,
    chrf,
    exact_match_fn,
    exact_match_hf_evaluate,
    f1_score,
    levenshtein_distance,
    matthews_corrcoef,
    mean,
    mean_stderr,
    median,
    perplexity,
    pop_stddev,
    sample_stddev,
    ter,
    weighted_mean,
    weighted_perplexity,
)

__all__ = ["anls", "bits_per_byte", "bleu", "bypass", "bypass_agg", "chrf", "exact_match_fn",
           "exact_match_hf_evaluate", "f1_score", "levenshtein_distance", "matthews_corrcoef", "mean",
           "mean_stderr", "median", "perplexity", "pop_stddev", "sample_stddev", "ter", "weighted_mean",
           "weighted_perplexity"]
