"""Old import paths keep working: ``assay.settings`` is ``assay.env.settings`` (the same module object).

Plugins and user scripts written before the code moved into layer folders import the old dotted names.
Rather than a shim file per old module (the package root keeps to its public surface), one meta-path
finder, appended last to ``sys.meta_path`` by ``assay/__init__.py``, answers only for the names below,
after every normal finder has failed — so it costs nothing on any other import. Old *modules* that became
packages (``assay.preflight``, ``assay.metrics``, ``assay.media``, ``assay.tasks.data`` …) keep their
names through the package's ``__getattr__`` (:func:`assay.env.lazy.moved_names`).
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from importlib.abc import Loader  # importlib.abc itself is not cheap to import at start-up

#: Old dotted name → the module(s) now holding it. One target: that very module object is returned.
#: Several: the old module was split; a read-only view looks names up in each, in order.
MOVED: dict[str, tuple[str, ...]] = {
    "assay._lazy": ("assay.env.lazy",),
    "assay.settings": ("assay.env.settings",),
    "assay.dotenv_files": ("assay.env.dotenv_files",),
    "assay.credentials": ("assay.env.credentials",),
    "assay.redaction": ("assay.env.redaction", "assay.env.masking"),
    "assay.log": ("assay.env.log",),
    "assay.plugins": ("assay.env.plugins",),
    "assay.aggregation": ("assay.metrics.aggregation",),
    "assay.model_args": ("assay.model.args",),
    "assay.cache": ("assay.model.cache",),
    "assay.cost": ("assay.model.cost",),
    "assay.plan": ("assay.preflight.plan",),
    "assay.probe": ("assay.preflight.probe",),
    "assay.results": ("assay.run.results",),
    "assay.run.bridge": ("assay.model.bridge",),
    "assay.run.context": ("assay.model.context",),
    "assay.sinks.outputs": ("assay.run.outputs",),
    "assay.tasks.doclist": ("assay.tasks.data.doclist",),
    "assay.tasks.fewshot": ("assay.tasks.data.fewshot",),
    "assay.tasks.jsonl_docs": ("assay.tasks.data.jsonl_docs",),
    "assay.tasks.local_files": ("assay.tasks.data.local_files",),
    "assay.tasks.media_archives": ("assay.tasks.data.media_archives",),
    "assay.tasks.check": ("assay.tasks.registry.check",),
    "assay.tasks.discovery": ("assay.tasks.registry.discovery",),
    "assay.tasks.index_cache": ("assay.tasks.yaml.index_cache",),
    "assay.tasks.registry.index_cache": ("assay.tasks.yaml.index_cache",),
    "assay.tasks.filters": ("assay.tasks.scoring.filters",),
    "assay.tasks.groups": ("assay.tasks.scoring.groups",),
    "assay.tasks.lmms_metrics": ("assay.tasks.scoring.lmms_metrics",),
    "assay.tasks.target_field": ("assay.tasks.scoring.target_field",),
    "assay.tasks.config": ("assay.tasks.yaml.config",),
    "assay.tasks.functions": ("assay.tasks.yaml.functions",),
    "assay.tasks.generation": ("assay.tasks.yaml.generation",),
    "assay.tasks.includes": ("assay.tasks.yaml.includes",),
    "assay.tasks.keys": ("assay.tasks.yaml.keys",),
    "assay.tasks.yaml_loader": ("assay.tasks.yaml.loader",),
    "assay.tasks.templates": ("assay.tasks.yaml.templates",),
}


class _AliasLoader:
    """Hands the import system an existing module: ``create_module`` returns it, ``exec_module`` does nothing
    (the import system keeps a module's own ``__name__``/``__spec__`` when they are set)."""

    def __init__(self, targets: Sequence[str]) -> None:
        self.targets = tuple(targets)

    def create_module(self, spec: ModuleSpec) -> types.ModuleType:
        if len(self.targets) == 1:
            return importlib.import_module(self.targets[0])
        return _split_view(spec.name, [importlib.import_module(t) for t in self.targets])

    def exec_module(self, module: types.ModuleType) -> None:
        return None


class AliasFinder:
    """A ``sys.meta_path`` finder for the names in :data:`MOVED` only."""

    def __init__(self, moved: dict[str, tuple[str, ...]]) -> None:
        self.moved = moved

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> ModuleSpec | None:
        targets = self.moved.get(fullname)
        return None if targets is None else ModuleSpec(fullname, cast("Loader", _AliasLoader(targets)))


def _split_view(name: str, modules: list[types.ModuleType]) -> types.ModuleType:
    """A module named ``name`` whose attributes come from ``modules`` (the first that has one wins)."""
    view = types.ModuleType(name, f"Moved: see {', '.join(m.__name__ for m in modules)}.")

    def __getattr__(attr: str) -> Any:
        for module in modules:
            if hasattr(module, attr):
                return getattr(module, attr)
        raise AttributeError(f"module {name!r} has no attribute {attr!r}")

    view.__getattr__ = __getattr__  # type: ignore[method-assign]
    return view


def install() -> None:
    """Append the finder once (last: every real module is found first)."""
    if not any(isinstance(finder, AliasFinder) for finder in sys.meta_path):
        sys.meta_path.append(AliasFinder(MOVED))
