"""Where task YAMLs live: the built-in folder, plugin packages' ``tasks`` folders, ``--include_path``.

Nothing here imports a plugin package: its folder is found through its import spec only.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from collections.abc import Sequence
from pathlib import Path

from assay.errors import TaskError

log = logging.getLogger(__name__)

BUILTIN_DIR = Path(__file__).resolve().parent.parent / "builtin"
_SKIP_DIRS = frozenset({"__pycache__", ".ipynb_checkpoints", ".git", "node_modules"})


def task_roots(plugins: Sequence[str], include_paths: Sequence[str | Path]) -> list[tuple[str, Path]]:
    """``(source label, folder or file)`` in priority order: a later root wins a duplicate name."""
    roots: list[tuple[str, Path]] = [("builtin", BUILTIN_DIR)]
    for name in plugins:
        folder = plugin_tasks_dir(name)
        if folder is not None:
            roots.append((f"plugin {name}", folder))
    from assay.env.plugins import plugin_task_roots

    roots.extend(plugin_task_roots())  # `assay.tasks` entry points of installed packages
    for raw in include_paths:
        path = Path(raw).expanduser()
        if not path.exists():
            raise TaskError(
                f"include path {raw} does not exist",
                hint="pass --include_path a folder of task YAMLs (searched recursively) or one .yaml file",
            )
        roots.append((f"include_path {raw}", path.resolve()))
    return roots


def plugin_tasks_dir(name: str) -> Path | None:
    """``<package>/tasks`` of an installed plugin package, found without importing the package."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError) as exc:
        raise TaskError(
            f"plugin package {name!r} cannot be located: {exc}",
            hint="fix LMMS_EVAL_PLUGINS (comma-separated installed package names)",
        ) from None
    if spec is None or not spec.submodule_search_locations:
        raise TaskError(
            f"plugin package {name!r} is not installed (or is not a package)",
            hint="install it into this environment, or remove it from LMMS_EVAL_PLUGINS",
        )
    for location in spec.submodule_search_locations:
        folder = Path(location) / "tasks"
        if folder.is_dir():
            return folder.resolve()
    log.warning("plugin package %s has no tasks/ folder; it adds no tasks", name)
    return None


def yaml_files(root: Path) -> list[Path]:
    """Every ``*.yaml`` under ``root`` (or ``root`` itself), sorted for a stable index."""
    if root.is_file():
        return [root]
    found: list[Path] = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and not d.startswith("."))
        found.extend(Path(folder) / f for f in sorted(files) if f.endswith(".yaml"))
    return found
