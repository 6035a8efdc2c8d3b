"""A doc that lacks the field ``doc_to_target`` names must not be scored against the field's *name*.

lmms-eval reads a ``doc_to_target`` string as a field when the doc has it, else as a template or literal
text. So a doc missing its ``answer`` field was scored against the text "answer", silently. If other docs
of the dataset have that field, the doc is broken: an error for that doc. If none has it, the string is
literal text by design (or a typo): said once per task, then scored as before. Tasks scored by
``process_results`` read the doc themselves, so their target is only shown and nothing is checked.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from typing import Any

from assay.errors import TaskError

log = logging.getLogger("assay.tasks")
#: A doc_to_target string that could be a field name (not a template, not a sentence).
_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class TargetFieldCheck:
    def __init__(self, task: str, columns: Callable[[], Iterable[str] | None], *, enabled: bool = True) -> None:
        self.task = task
        self._columns_of_dataset = columns
        self._columns: frozenset[str] | None = None
        self._enabled = enabled
        self._said = False

    def __call__(self, name: str, doc: dict[str, Any]) -> None:
        if not self._enabled or name in doc or not _FIELD_NAME.fullmatch(name):
            return
        if self._columns is None:  # once per task: the dataset's field names (JSONL: noted when checked)
            self._columns = frozenset(self._columns_of_dataset() or ())
        if name in self._columns:
            raise TaskError(f"task {self.task}: this doc has no field {name!r}, which doc_to_target names",
                            hint="every doc needs the target field; fix the data or doc_to_target")
        if not self._said:
            self._said = True
            log.warning("task %s: doc_to_target %r is not a field of its docs; every doc is scored against "
                        "that literal text", self.task, name)
