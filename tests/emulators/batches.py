"""What every vendor's batch emulation shares: a book of batches, each walking through scripted states one
poll at a time, its requests answered (or failed) by the emulator when it ends.

``batch_script`` is the states a new batch goes through, one per status read (default: validating →
in_progress → finalizing → completed); ``hold_batches`` keeps every batch in ``in_progress`` until
:meth:`release` (a test kills the client meanwhile); ``line_faults`` fail single requests, in order, with
``(status, message, code)``. An ``expired`` or ``cancelled`` ending runs only the first half of the requests.
The states are OpenAI's words; each vendor's emulator renders them in its own.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Answer = Callable[[dict[str, Any], "tuple[int, str, str] | None"], tuple[int, dict[str, Any]]]
DEFAULT_SCRIPT = ("validating", "in_progress", "finalizing", "completed")
_ids = itertools.count(1)


@dataclass
class Outcome:
    """One request's end: a 200 body, or an error (status, vendor error body)."""

    custom_id: str
    body: dict[str, Any] | None = None
    status: int = 200
    error: dict[str, Any] | None = None


@dataclass
class Batch:
    id: str
    requests: list[tuple[str, dict[str, Any]]]  # (custom_id, request body)
    script: list[str]
    state: str = ""
    reason: str | None = None
    outcomes: list[Outcome] = field(default_factory=list)
    polls: int = 0

    @property
    def ran(self) -> list[tuple[str, dict[str, Any]]]:
        """The requests that ran: all, or the first half of a batch that expired or was cancelled."""
        if self.state in ("expired", "cancelled"):
            return self.requests[: len(self.requests) // 2]
        return self.requests if self.state == "completed" else []

    @property
    def failed_count(self) -> int:
        return sum(1 for o in self.outcomes if o.status != 200)


@dataclass
class BatchBook:
    batch_script: tuple[str, ...] = DEFAULT_SCRIPT
    #: Scripts for the next batches created, in order (then ``batch_script``).
    next_scripts: list[tuple[str, ...]] = field(default_factory=list)
    #: Fail the next batch created at validation with this reason.
    reject: str | None = None
    hold_batches: bool = False
    #: Status reads answered 503 before the batch is shown again (a vendor having a bad minute).
    failing_reads: int = 0
    line_faults: list[tuple[int, str, str]] = field(default_factory=list)
    batches: dict[str, Batch] = field(default_factory=dict)

    def create(self, prefix: str, requests: list[tuple[str, dict[str, Any]]], reason: str | None = None) -> Batch:
        script = self.next_scripts.pop(0) if self.next_scripts else self.batch_script
        batch = Batch(f"{prefix}{next(_ids)}", requests, list(script))
        batch.state = batch.script.pop(0)
        reason, self.reject = reason or self.reject, None
        if reason is not None:  # rejected at validation
            batch.script = ["failed"]
            batch.reason = reason
        self.batches[batch.id] = batch
        return batch

    def read_fails(self) -> bool:
        """Whether this status read is one of the ``failing_reads``."""
        if self.failing_reads > 0:
            self.failing_reads -= 1
            return True
        return False

    def release(self) -> None:
        self.hold_batches = False

    def advance(self, batch: Batch, answer: Answer) -> Batch:
        """One status read: the next scripted state (held in ``in_progress`` while ``hold_batches``)."""
        batch.polls += 1
        if batch.script and not (self.hold_batches and batch.state == "in_progress"):
            batch.state = batch.script.pop(0)
            if batch.state in ("completed", "expired", "cancelled"):
                batch.outcomes = [self._outcome(custom_id, body, answer) for custom_id, body in batch.ran]
        return batch

    def _outcome(self, custom_id: str, body: dict[str, Any], answer: Answer) -> Outcome:
        """``answer(body, fault)`` is the vendor's: (status, the 200 body or its error body)."""
        status, payload = answer(body, self.line_faults.pop(0) if self.line_faults else None)
        if status == 200:
            return Outcome(custom_id, body=payload)
        return Outcome(custom_id, status=status, error=payload)


def book_fails(emu: Any) -> bool:
    """Whether this status read of ``emu``'s batches fails (see ``BatchBook.failing_reads``)."""
    return bool(emu.book.read_fails())
