"""Sending a run's requests as vendor batches."""

from __future__ import annotations

from assay.errors import UsageError
from assay.providers.base import Provider


def refuse_without_batch_api(provider: Provider) -> None:
    """--batch with a provider that has no batch API: said before anything is sent."""
    if getattr(provider, "batch_wire", None) is None:
        raise UsageError(f"--batch: {provider.name} has no batch API in assay",
                         hint="batch APIs: openai, azure_openai, anthropic, gemini; drop --batch for this model")
