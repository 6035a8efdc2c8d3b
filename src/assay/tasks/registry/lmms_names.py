"""Whether an unknown task name is one of lmms-eval's, and the ``--include_path`` that would find it.

The names (tasks, groups, tags) are measured from lmms-eval's tree by ``scripts/lmms_task_names.py`` into
``lmms_task_names.txt``; read only when a name is unknown, so a run never pays for it.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

_NAMES = Path(__file__).with_name("lmms_task_names.txt")


def lmms_task_hint(name: str) -> str | None:
    """The fix for ``name`` if lmms-eval's tree has it (None: not an lmms-eval name)."""
    try:
        names = {line.strip() for line in _NAMES.read_text(encoding="utf-8").splitlines() if line[:1] != "#"}
    except OSError:
        return None
    if name not in names:
        return None
    spec = importlib.util.find_spec("lmms_eval")  # finds an installed lmms-eval without importing it
    origin = spec.origin if spec is not None else None
    if origin is not None and (Path(origin).parent / "tasks").is_dir():
        return f"add --include_path {Path(origin).parent / 'tasks'} (the installed lmms-eval's task tree)"
    return ("add --include_path pointing at lmms-eval's task tree, e.g. git clone https://github.com/"
            "EvolvingLMMs-Lab/lmms-eval ~/lmms-eval, then --include_path ~/lmms-eval/lmms_eval/tasks")
