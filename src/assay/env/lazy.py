"""Lazy re-exports for package ``__init__`` modules (PEP 562), so importing a package stays cheap."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_getattr(package: str, exports: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``exports[name]`` (a module path) on first access."""

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(module), name)

    return __getattr__


def moved_names(package: str, *modules: str) -> Callable[[str], Any]:
    """A package ``__getattr__`` for a module that became this package: the old module's names are found in
    ``modules`` (tried in order), so ``from assay.preflight import check_requirements`` keeps working.

    A name that is one of the package's own submodules is left to the import system (never shadowed by a
    function of the same name in ``modules``)."""

    def __getattr__(name: str) -> Any:
        import importlib.util  # only on this fallback path: off the start-up path

        if not name.startswith("__") and importlib.util.find_spec(f"{package}.{name}") is None:
            for module in modules:
                found = importlib.import_module(module)
                if hasattr(found, name):
                    return getattr(found, name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
