"""What a vendor's batch API looks like to assay: a batch's state, one request's result, and the wire.

A provider with a batch API answers ``batch_wire()`` with an object of the :class:`BatchWire` shape: it
translates (a request to one line of a batch, a batch to the vendor's create call, the vendor's state and
result files back); one exchange per call, no retries, no polling. The batch layer
(:mod:`assay.model.batch`) owns submission, persistence, polling and what happens to failures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from assay.errors import ProviderError
from assay.types import Request, Response

BatchState = Literal["validating", "in_progress", "finalizing", "completed", "failed", "expired", "cancelling",
                     "cancelled"]
#: States after which a batch changes no more.
TERMINAL: frozenset[str] = frozenset({"completed", "failed", "expired", "cancelled"})


@dataclass(frozen=True)
class BatchStatus:
    """One batch as the vendor reports it, in assay's words."""

    id: str
    state: BatchState
    total: int = 0
    succeeded: int = 0
    failed: int = 0
    #: Why the vendor failed the whole batch (its validation message), if it did.
    reason: str | None = None
    #: Where the results are (output/error file ids, a results URL, inline responses): the wire's business.
    refs: dict[str, Any] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        return self.state in TERMINAL


@dataclass(frozen=True)
class BatchResult:
    """One request's outcome: an answer or the error the vendor gave it (mapped like an interactive one)."""

    custom_id: str
    response: Response | None = None
    error: ProviderError | None = None


class BatchWire(Protocol):
    vendor: str
    #: The vendor's limits for one batch.
    max_requests: int
    max_bytes: int

    def line(self, custom_id: str, request: Request) -> bytes:
        """One request as the batch carries it (a JSONL line, or one inline request)."""
        ...

    async def submit(self, lines: Sequence[bytes]) -> BatchStatus:
        """Create a batch of these lines (uploading a file first where the vendor wants one)."""
        ...

    async def status(self, batch_id: str) -> BatchStatus: ...

    async def results(self, status: BatchStatus, custom_ids: Sequence[str]) -> list[BatchResult]:
        """Every result the finished batch has (``custom_ids`` in submission order, for vendors that answer
        by position); requests it never ran (expired, cancelled) are absent."""
        ...
