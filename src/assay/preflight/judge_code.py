"""Which tasks call a judge from their own code, found statically: the modules a task's ``!function``
references name, and the task-folder modules those import (``from lmms_eval.tasks.mathvista.mathvista_evals
import …``, ``from .utils import …``, ``import utils``), read as text and never run.

A module that reads a judge's key or address, builds an OpenAI / Azure client, posts to a
chat-completions URL, or uses lmms-eval's judge client marks its task as judged — MathVista (its
evaluator module), MM-Vet, HallusionBench (its aggregation's helper module) — although the YAML says
nothing. Preflight then checks the judge's credentials before the first paid request, for ``assay run``
and ``assay doctor --tasks`` alike. Nothing is imported: a scan costs a few file reads per task.
"""

from __future__ import annotations

import ast
import re
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

#: What task code that talks to a judge contains.
JUDGE_CODE = re.compile(
    r"llm_judge|get_server\(|OPENAI_API_KEY|AZURE_API_KEY|chat/completions|\bOpenAI\(|AzureOpenAI\(|"
    r"\bsglang\b|VIESCORE_API_KEY"
)
_MAX_DEPTH = 3
_found: dict[Path, Path | None] = {}  # module file -> the file that judges (None: none), per process


def judging_file(config: Mapping[str, Any]) -> Path | None:
    """The module file through which this task's code calls a judge, or None."""
    for module in _referenced_modules(config):
        found = _scan(module, _MAX_DEPTH, set())
        if found is not None:
            return found
    return None


def _referenced_modules(value: Any) -> Iterator[Path]:
    """The module files of every ``!function`` reference in a task config (any depth): a ``FunctionRef``, or
    the ``FunctionStr`` a displayed config shows it as (its ``ref``)."""
    value = getattr(value, "ref", None) or value
    yaml_path, name = getattr(value, "yaml_path", None), getattr(value, "name", None)
    if isinstance(yaml_path, Path) and isinstance(name, str):
        module = name.rpartition(".")[0]
        local = yaml_path.parent.joinpath(*module.split(".")).with_suffix(".py") if module else None
        if local is not None and local.is_file():
            yield local
        elif module.startswith("lmms_eval.tasks."):
            found = _in_tree(yaml_path, module)
            if found is not None:
                yield found
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _referenced_modules(item)
    elif isinstance(value, list):
        for item in value:
            yield from _referenced_modules(item)


def _scan(path: Path, depth: int, seen: set[Path]) -> Path | None:
    path = path.resolve()
    if path in _found:
        return _found[path]
    if path in seen:
        return None
    seen.add(path)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    found: Path | None = path if JUDGE_CODE.search(text) else None
    if found is None and depth > 0:
        for imported in _imports(path, text):
            found = _scan(imported, depth - 1, seen)
            if found is not None:
                break
    _found[path] = found
    return found


def _imports(path: Path, text: str) -> Iterator[Path]:
    """The files of the task-folder modules ``path`` imports (lmms-eval's task tree, relative, or siblings)."""
    try:
        with warnings.catch_warnings():  # foreign code's invalid escapes are not ours to report
            warnings.simplefilter("ignore")
            tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom):
            if node.level:  # from .utils import x / from . import utils
                base = path.parent.joinpath(*([".."] * (node.level - 1)))
                parts = node.module.split(".") if node.module else []
                yield from _existing([base.joinpath(*parts).with_suffix(".py")] if parts else
                                     [base / f"{alias.name}.py" for alias in node.names])
                continue
            names = [node.module or ""]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            if name.startswith("lmms_eval.tasks."):
                found = _in_tree(path, name)
                if found is not None:
                    yield found
            elif name and "." not in name:
                yield from _existing([path.parent / f"{name}.py"])  # a sibling module: `import utils`


def _existing(paths: list[Path]) -> Iterator[Path]:
    yield from (p for p in paths if p.is_file())


def _in_tree(near: Path, module: str) -> Path | None:
    """``lmms_eval.tasks.x.y`` as a file of the task tree ``near`` lies in (its ``…/lmms_eval/tasks`` ancestor)."""
    parts = module.split(".")[2:]
    for ancestor in near.resolve().parents:
        if ancestor.name == "tasks" and ancestor.parent.name == "lmms_eval":
            for candidate in (ancestor.joinpath(*parts).with_suffix(".py"), ancestor.joinpath(*parts, "__init__.py")):
                if candidate.is_file():
                    return candidate
            return None
    return None
