"""A task folder of its own for an adversarial test: JSON-lines docs and a YAML naming them."""

from __future__ import annotations

import textwrap
from pathlib import Path

from tests.helpers import write


def jsonl_task(folder: Path, name: str, docs: str, rest: str, *, data: Path | None = None) -> Path:
    """``folder`` holding ``docs.jsonl`` (``docs``; or ``data``, a file of the test's making) and ``name.yaml``:
    the dataset lines, then ``rest`` (the task's own keys, dedented)."""
    if data is None:
        data = write(folder, "docs.jsonl", docs)
    write(folder, f"{name}.yaml", f"task: {name}\ndataset_path: json\ndataset_kwargs:\n  data_files:\n"
                                  f"    test: {data}\ntest_split: test\n{textwrap.dedent(rest)}")
    return folder
