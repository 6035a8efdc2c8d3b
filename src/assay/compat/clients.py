"""Judge-client packages lmms-eval helpers import, provided by assay when the real one is absent.

``sglang`` (VDC's caption scoring runs SGLang programs against a judge server) is answered by
:mod:`assay.compat.sglang`, which sends each ``gen`` to the run's judge. As with ``lmms_eval``, the
finder is installed only when ``import sglang`` finds nothing else, and answers only that name.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

SHIMS = {"sglang": Path(__file__).resolve().parent / "sglang"}
_installed: set[str] = set()
_lock = threading.Lock()


class _ClientFinder(importlib.abc.MetaPathFinder):
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
