"""What the task layer asks of the layer above it, filled in by that layer: hooks, not imports.

Task helpers written for lmms-eval import ``lmms_eval``; answering them is :mod:`assay.compat`'s job, and
compat sits *above* tasks (it imports the task layer's loaders, filters and metrics). So tasks never
import compat: it calls these hooks, which ``assay.compat`` installs when it is imported. Without compat
(a plain assay task folder) the defaults apply: no shim, helper modules loaded by file, and a missing
module named as such.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assay.env.settings import Settings


def _no_shim(settings: Settings | None = None, task_roots: Iterable[str | Path] = ()) -> bool:
    return False


def _no_package(path: Path) -> str | None:
    return None


def _plain_missing(name: str) -> tuple[str, str]:
    top = name.split(".")[0]
    return f"no module named {name!r}", f"install the package that provides it (`pip install {top}`)"


@dataclass
class TaskCodeHooks:
    #: Make ``import lmms_eval`` work for helpers under ``task_roots``; True when a shim answers it.
    activate: Callable[..., bool] = _no_shim
    #: The package-qualified module name a helper file is imported under (None: load it by file).
    module_name_for: Callable[[Path], str | None] = _no_package
    #: ``(message, hint)`` for a module task code imports but cannot find.
    missing_module: Callable[[str], tuple[str, str]] = _plain_missing


hooks = TaskCodeHooks()


def install(*, activate: Callable[..., bool], module_name_for: Callable[[Path], str | None],
            missing_module: Callable[[str], tuple[str, str]]) -> None:
    """Called once by :mod:`assay.compat` on import."""
    hooks.activate = activate
    hooks.module_name_for = module_name_for
    hooks.missing_module = missing_module
