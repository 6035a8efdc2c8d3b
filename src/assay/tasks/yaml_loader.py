"""Parse task YAML (lmms-eval dialect) without importing any task code.

``!function module.fn`` becomes a :class:`FunctionRef` placeholder that remembers the file and line it
was written in; :mod:`assay.tasks.functions` imports it only when a task is actually loaded. This is
what keeps listing hundreds of tasks fast and side-effect free.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from assay.errors import TaskError

# The C loader is ~10x faster; fall back to the pure-Python one where libyaml is missing.
_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


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
    """A ``!function`` shown as text (``assay tasks show``); dumped back as a real ``!function`` tag."""

    __slots__ = ()


class _TaskLoader(_BaseLoader):  # type: ignore[misc,valid-type]
    yaml_path: Path = Path()


def _construct_function(loader: _TaskLoader, node: yaml.Node) -> FunctionRef:
    line = node.start_mark.line + 1
    value = loader.construct_scalar(node) if isinstance(node, yaml.ScalarNode) else None
    if not isinstance(value, str) or "." not in value.strip():
        raise TaskError(
            f"{loader.yaml_path}:{line}: `!function` needs `module.function`, got {value!r}",
            hint="write e.g. `doc_to_text: !function utils.doc_to_text` (utils.py next to the YAML)",
        )
    return FunctionRef(value.strip(), loader.yaml_path, line)


_TaskLoader.add_constructor("!function", _construct_function)


def parse_yaml_file(path: Path) -> Any:
    """The parsed document of ``path``; ``!function`` values are :class:`FunctionRef` placeholders."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TaskError(f"cannot read task file {path}: {exc}", hint="check the file exists and is UTF-8") from None
    return parse_yaml_text(text, path)


def parse_yaml_text(text: str, path: Path) -> Any:
    loader = _TaskLoader(text)
    loader.yaml_path = path
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = exc.problem or exc.context or "invalid YAML"
        raise TaskError(
            f"{where}: malformed YAML: {problem}",
            hint="fix the YAML syntax at that line (indentation, quoting, a missing ':')",
        ) from None
    except yaml.YAMLError as exc:
        raise TaskError(f"{path}: malformed YAML: {exc}", hint="fix the YAML syntax") from None
    finally:
        loader.dispose()


def for_display(value: Any) -> Any:
    """A copy with every :class:`FunctionRef` turned into a :class:`FunctionStr` (``!function m.fn``)."""
    if isinstance(value, FunctionRef):
        return FunctionStr(str(value))
    if isinstance(value, dict):
        return {k: for_display(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [for_display(v) for v in value]
    return value


class _Dumper(yaml.SafeDumper):
    def choose_scalar_style(self) -> str:
        # PyYAML quotes every explicitly tagged scalar; `!function utils.fn` reads better plain.
        event = self.event
        if isinstance(event, yaml.ScalarEvent) and event.tag == "!function":
            return ""
        return str(super().choose_scalar_style())


def _represent_function(dumper: _Dumper, data: FunctionStr) -> yaml.ScalarNode:
    return dumper.represent_scalar("!function", str(data).removeprefix("!function "))


def _represent_path(dumper: _Dumper, data: Path) -> yaml.ScalarNode:
    return dumper.represent_str(str(data))


_Dumper.add_representer(FunctionStr, _represent_function)
_Dumper.add_multi_representer(Path, _represent_path)


def dump_yaml(config: Any) -> str:
    """YAML text of a (display) config, keys in their written order, functions as ``!function`` tags."""
    return yaml.dump(
        for_display(config), Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False
    )
