"""``include:`` resolution: a task YAML inherits every key of the files it includes.

Semantics follow lmms-eval's ``load_yaml_config``: the merge is shallow (top-level keys), the
including file wins over what it includes, and with a list of includes the first one listed wins.
Paths are relative to the including file's folder (falling back to the path as written). No task
Python is imported here: ``!function`` values stay placeholders.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from assay.errors import TaskError
from assay.tasks.yaml.index_cache import IndexStore
from assay.tasks.yaml.read import parse_yaml_file


def absolute(path: Path) -> Path:
    """``path`` made absolute and normalised, without following links: ``Path.resolve`` stats every
    component, which made listing lmms-eval's tree 3x slower (11,674 calls, 87,000 lstat)."""
    return Path(os.path.normpath(os.path.join(os.getcwd(), path)))


class YamlCache:
    """Parsed files by path, so a template included by 200 tasks is read once per discovery; with a
    ``store``, also between runs (unchanged files are not parsed again)."""

    def __init__(self, store: IndexStore | None = None) -> None:
        self._parsed: dict[Path, Any] = {}
        self._store = store

    def parse(self, path: Path) -> Any:
        key = absolute(path)
        if key not in self._parsed:
            self._parsed[key] = self._load(key)
        return self._parsed[key]

    def _load(self, key: Path) -> Any:
        if self._store is None:
            return parse_yaml_file(key)
        try:
            stat = key.stat()
        except OSError:
            return parse_yaml_file(key)  # its own error message
        hit, data = self._store.get(key, stat)
        if not hit:
            data = parse_yaml_file(key)
            self._store.put(key, stat, data)
        return data

    def save(self) -> None:
        if self._store is not None:
            self._store.save()


def load_with_includes(path: Path, cache: YamlCache | None = None) -> dict[str, Any]:
    """``path``'s mapping with its includes merged in (recursively); ``include`` itself removed."""
    return _load(absolute(path), cache or YamlCache(), ())


def merge_includes(
    config: dict[str, Any], base_dir: Path, cache: YamlCache | None = None, *, origin: str = "inline config"
) -> dict[str, Any]:
    """Resolve ``include`` in an already-parsed mapping (an inline task inside a group file)."""
    return _merge(config, base_dir, origin, cache or YamlCache(), ())


def _load(path: Path, cache: YamlCache, stack: tuple[Path, ...]) -> dict[str, Any]:
    if path in stack:
        chain = " -> ".join(str(p) for p in (*stack, path))
        raise TaskError(f"include cycle: {chain}", hint="remove one of the `include:` lines in that chain")
    data = cache.parse(path)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise TaskError(
            f"{path}: a task file must be a YAML mapping, got {type(data).__name__}",
            hint="write the task as `key: value` lines",
        )
    return _merge(data, path.parent, str(path), cache, (*stack, path))


def _merge(
    data: dict[str, Any], base_dir: Path, origin: str, cache: YamlCache, stack: tuple[Path, ...]
) -> dict[str, Any]:
    if "include" not in data:
        return dict(data)
    includes = data["include"]
    if isinstance(includes, str):
        includes = [includes]
    if not isinstance(includes, list) or not all(isinstance(i, str) for i in includes):
        raise TaskError(f"{origin}: `include` must be a path or a list of paths", hint="e.g. include: _default.yaml")
    merged: dict[str, Any] = {}
    for item in reversed(includes):  # first listed wins, as in lmms-eval
        merged.update(_load(_find_include(item, base_dir, origin), cache, stack))
    merged.update({k: v for k, v in data.items() if k != "include"})
    return merged


def _find_include(item: str, base_dir: Path, origin: str) -> Path:
    written = Path(item).expanduser()
    candidates = [written] if written.is_absolute() else [base_dir / written, written]
    for candidate in candidates:
        if candidate.is_file():
            return absolute(candidate)
    raise TaskError(
        f"{origin}: included file {item!r} not found (looked in {base_dir})",
        hint="include paths are relative to the YAML file that includes them",
    )
