"""Reading a task YAML file: plain files (:mod:`.plain`) without PyYAML, every other one with it
(:mod:`.loader`), to the same values and the same errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from assay.errors import TaskError
from assay.tasks.yaml.plain import NOT_PLAIN, parse_plain


def parse_yaml_file(path: Path) -> Any:
    """The parsed document of ``path``; ``!function`` values are :class:`FunctionRef` placeholders."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TaskError(f"cannot read task file {path}: {exc}", hint="check the file exists and is UTF-8") from None
    document = parse_plain(text, path)
    if document is NOT_PLAIN:
        from assay.tasks.yaml.loader import parse_yaml_text  # PyYAML (~7 ms to import) only for what needs it

        document = parse_yaml_text(text, path)
    return document
