"""The current run, as task code running in a worker thread sees it.

The execute stage sets :data:`current_run` before it starts its workers; ``asyncio.to_thread`` copies the
context into each worker thread, so synchronous task code (an lmms-eval ``process_results`` that calls
a judge) can find the run's event loop and models without any global state.
"""

from __future__ import annotations

import asyncio
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assay.env.redaction import Redactor
    from assay.env.settings import Settings
    from assay.model import Model


@dataclass
class RunContext:
    """What a run shares with the code it calls: its loop, its models, its settings."""

    loop: asyncio.AbstractEventLoop
    model: Model
    settings: Settings
    redactor: Redactor
    #: Further run-wide services by name (e.g. the judge), added by the stage that builds them.
    services: dict[str, Any] = field(default_factory=dict)


current_run: ContextVar[RunContext | None] = ContextVar("assay_current_run", default=None)
