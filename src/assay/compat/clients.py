"""Packages lmms-eval helpers import, provided by assay when the real one is absent.

``sglang`` (VDC's caption scoring runs SGLang programs against a judge server) is answered by
:mod:`assay.compat.sglang`, which sends each ``gen`` to the run's judge; ``latex2sympy2`` (which cannot
be installed beside math-verify) by :mod:`assay.compat.latex2sympy2`, its maintained fork. As with
``lmms_eval``, each finder is installed only when the import finds nothing else, and answers only its name.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

SHIMS = {name: Path(__file__).resolve().parent / name for name in ("sglang", "latex2sympy2")}
_installed: set[str] = set()
_lock = threading.Lock()


class _ClientFinder:  # a meta path finder (find_spec); not importlib.abc's: ~2 ms to import
    def __init__(self, name: str, folder: Path) -> None:
        self.name, self.folder = name, folder

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if fullname != self.name:
            return None
        return importlib.util.spec_from_file_location(self.name, self.folder / "__init__.py",
                                                      submodule_search_locations=[str(self.folder)])


def _really_installed(name: str) -> bool:
    saved = sys.meta_path[:]
    try:
        sys.meta_path[:] = [f for f in saved if not isinstance(f, _ClientFinder)]
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False
    finally:
        sys.meta_path[:] = saved


def install_client_shims() -> list[str]:
    """Install a finder for each judge-client package that is not installed; the names now shimmed."""
    with _lock:
        for name, folder in SHIMS.items():
            if name not in _installed and name not in sys.modules and not _really_installed(name):
                sys.meta_path.append(_ClientFinder(name, folder))  # last: anything real wins
                _installed.add(name)
        return sorted(_installed)
