"""Answers a batch brought back, waiting for the workers: each doc's request finds its answer here by its
cache key, so batched answers flow into the same scoring, samples, cache and cost as interactive ones."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from assay.errors import ProviderError
from assay.model.cache import cache_key
from assay.types import Request, Response


@dataclass
class BatchAnswers:
    answers: Mapping[str, Response | ProviderError]

    def take(self, identity: dict[str, Any], request: Request) -> Response | ProviderError | None:
        """The batch's answer to ``request`` (None: it was not batched, or is left to the interactive path)."""
        return self.answers.get(cache_key(identity, request))
