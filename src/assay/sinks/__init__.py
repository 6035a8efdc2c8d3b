"""Where results go. One small protocol: ``start``, ``sample``, ``finish``.

Sinks see plain, already-redacted records, never providers or settings secrets.
"""

from __future__ import annotations

from typing import Any, Protocol


class Sink(Protocol):
    def start(self, run_info: dict[str, Any], task_names: list[str]) -> None: ...

    def sample(self, task: str, record: dict[str, Any]) -> None: ...

    def finish(self, results: dict[str, Any]) -> None: ...
