"""Parse task YAML (lmms-eval dialect) without importing any task code.

``!function module.fn`` becomes a :class:`FunctionRef` placeholder that remembers the file and line it
was written in; :mod:`assay.tasks.yaml.functions` imports it only when a task is actually loaded. This is
what keeps listing hundreds of tasks fast and side-effect free.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from assay.errors import ConfigError, TaskError
from assay.tasks.yaml.refs import FunctionRef, FunctionStr, for_display

__all__ = ["FunctionRef", "FunctionStr", "check_expansion", "dump_yaml", "for_display", "parse_yaml_text",
           "safe_load_bounded"]

# The C loader is ~10x faster; fall back to the pure-Python one where libyaml is missing.
_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


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


def parse_yaml_text(text: str, path: Path) -> Any:
    """``text`` (written in ``path``) parsed by PyYAML, with ``!function`` placeholders and bounded aliases."""
    loader = _TaskLoader(text)
    loader.yaml_path = path
    try:
        return _bounded_document(loader, str(path), TaskError)
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


#: Nodes a document may stand for once every alias is expanded where it is used. lmms-eval's largest task
#: file stands for 416; an "alias bomb" (a few lines, each aliasing the one before nine times) for billions,
#: and anything that walks the data (display, include merging, JSON) would expand them all.
MAX_EXPANDED_NODES = 100_000


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [item for pair in node.value for item in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def check_expansion(root: yaml.Node, where: str, error: type[ConfigError] = TaskError) -> int:
    """The number of nodes ``root`` expands to (each alias counted at every use), computed without
    expanding anything; ``error`` when it exceeds :data:`MAX_EXPANDED_NODES` or an alias contains itself."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            open_nodes.discard(key)
            sizes[key] = 1 + sum(sizes[id(child)] for child in _children(node))
            if sizes[key] > MAX_EXPANDED_NODES:
                line = node.start_mark.line + 1
                raise error(f"{where}:{line}: aliases expand to more than {MAX_EXPANDED_NODES:,} values",
                            hint="this looks like a YAML alias bomb; write the values out, or alias less deeply")
            continue
        if key in sizes:
            continue
        if key in open_nodes:  # reached again while still inside it: the alias contains itself
            raise error(f"{where}:{node.start_mark.line + 1}: a YAML alias refers to itself",
                        hint="remove the recursive alias")
        open_nodes.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in sizes)
    return sizes[id(root)]


def _bounded_document(loader: Any, where: str, error: type[ConfigError]) -> Any:
    """The loader's single document, its alias expansion checked before anything is constructed."""
    node = loader.get_single_node()
    if node is None:
        return None
    check_expansion(node, where, error)
    return loader.construct_document(node)


def safe_load_bounded(text: str, where: str) -> Any:
    """``yaml.safe_load`` for configuration files (``--config``), with alias expansion bounded."""
    loader = _BaseLoader(text)
    try:
        return _bounded_document(loader, where, ConfigError)
    finally:
        loader.dispose()


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
