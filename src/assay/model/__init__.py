"""The Model wrapper and retry policy."""

from assay.model.retry import RetryDecision, classify
from assay.model.wrapper import Model, ModelConfig, ModelStats, ResponseStore

__all__ = ["Model", "ModelConfig", "ModelStats", "ResponseStore", "RetryDecision", "classify"]
