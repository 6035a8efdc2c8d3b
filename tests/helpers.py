"""Small helpers shared by test modules (fixtures live in conftest.py)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest


def write(folder: Path, name: str, text: str) -> Path:
    """Write dedented ``text`` to ``folder/name`` (parents created) and return the path."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``assay run ARGS`` in-process: (exit code, stdout, stderr)."""
    from assay.cli import main

    code = main(["run", *args])
    out, err = capsys.readouterr()
    return code, out, err


def results_file(out_dir: Path) -> dict[str, Any]:
    """The one results document written under ``out_dir``."""
    files = list(out_dir.rglob("*_results.json"))
    assert len(files) == 1, files
    return json.loads(files[0].read_text())  # type: ignore[no-any-return]


def samples(out_dir: Path) -> list[dict[str, Any]]:
    """The rows of the one samples file written under ``out_dir``."""
    files = list(out_dir.rglob("*_samples_*.jsonl"))
    assert len(files) == 1, files
    return [json.loads(line) for line in files[0].read_text().splitlines()]


def question_task(root: Path, name: str, n: int, *, utils: str = "", metric: str = "- metric: exact_match",
                  extra: str = "") -> Path:
    """A task folder under ``root/tasks``: ``n`` docs ``{"q": "q<i>", "answer": "A"}`` asked as ``q``, with
    ``utils.py`` holding ``utils`` (its functions for ``!function``), one metric entry and ``extra`` YAML."""
    folder = root / "tasks"
    write(folder, f"{name}.jsonl", "".join(json.dumps({"q": f"q{i}", "answer": "A"}) + "\n" for i in range(n)))
    write(folder, "utils.py", utils)
    write(folder, f"{name}.yaml", f"""
        task: {name}
        dataset_path: json
        dataset_kwargs:
          data_files:
            test: {name}.jsonl
        doc_to_text: q
        doc_to_target: answer
        metric_list:
          {metric}
        {extra}
        """)
    return folder
