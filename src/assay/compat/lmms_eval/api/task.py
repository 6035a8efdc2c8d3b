"""``lmms_eval.api.task``: the task base classes, so task folders that subclass them import cleanly.

Python-class tasks (a YAML with ``class:``) are refused by name when loaded; these classes exist only so
that a helper module defining such a subclass next to ordinary YAML tasks still imports.
"""

from __future__ import annotations

from typing import Any

from assay.errors import TaskError


class Task:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise TaskError(f"{type(self).__name__} is a Python-class task, which assay does not run",
                        hint="only YAML tasks (doc_to_text/doc_to_visual/…) run in assay")


class ConfigurableTask(Task):
    pass


class ConfigurableMessagesTask(ConfigurableTask):
    pass
