"""``!function`` values as the task YAML readers leave them: placeholders that remember where they were
written, and their display form. No YAML library here: both readers (:mod:`.plain` and PyYAML's in
:mod:`.loader`) make them, and the registry handles them without importing either."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class FunctionRef:
    """An unresolved ``!function module.fn`` written at ``yaml_path:line``."""

    name: str
    yaml_path: Path
    line: int

    @property
    def module(self) -> str:
        return self.name.rpartition(".")[0]

    @property
    def attr(self) -> str:
        return self.name.rpartition(".")[2]

    def __str__(self) -> str:
        return f"!function {self.name}"


class FunctionStr(str):
    """A ``!function`` shown as text (``assay tasks show``); dumped back as a real ``!function`` tag. It keeps
    the reference it shows (``ref``: where it was written), so a static reader (preflight's scan of task code
    for judge calls) can find the module without importing anything."""

    ref: FunctionRef | None = None


def for_display(value: Any) -> Any:
    """A copy with every :class:`FunctionRef` turned into a :class:`FunctionStr` (``!function m.fn``)."""
    if isinstance(value, FunctionRef):
        shown = FunctionStr(str(value))
        shown.ref = value
        return shown
    if isinstance(value, dict):
        return {k: for_display(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [for_display(v) for v in value]
    return value
