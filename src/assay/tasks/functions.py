"""Turn ``!function module.fn`` placeholders into callables, and call them lmms-eval's way.

A module is looked up next to the YAML that names it (``<dir>/utils.py`` for ``utils.fn``) and
executed under a unique name, so two task folders that both have a ``utils.py`` never collide. If no
such file exists we fall back to a normal import, as lmms-eval does for shared helpers
(``lmms_eval.tasks._task_utils.file_utils.fn``).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from assay.errors import TaskError
from assay.tasks.yaml_loader import FunctionRef

# resolved file path -> module, so a utils.py shared by many tasks is executed once per process
_MODULES: dict[Path, ModuleType] = {}
_HINT = "check the module file sits next to the YAML, defines the function, and imports cleanly"


def resolve_function(ref: FunctionRef) -> Callable[..., Any]:
    """The callable a :class:`FunctionRef` names; ``TaskError`` naming the YAML file and function."""
    where = f"{ref.yaml_path}:{ref.line}"
    module = _load_module(ref, where)
    fn = getattr(module, ref.attr, None)
    if fn is None:
        raise TaskError(
            f"{where}: !function {ref.name}: {_module_label(module)} has no attribute {ref.attr!r}", hint=_HINT
        )
    if not callable(fn):
        raise TaskError(f"{where}: !function {ref.name}: {ref.attr!r} is not callable", hint=_HINT)
    return fn  # type: ignore[no-any-return]


def resolve_all(value: Any) -> Any:
    """A copy of a config value with every FunctionRef (at any depth) replaced by its callable."""
    if isinstance(value, FunctionRef):
        return resolve_function(value)
    if isinstance(value, dict):
        return {k: resolve_all(v) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_all(v) for v in value]
    return value


def _candidate_files(ref: FunctionRef) -> list[Path]:
    folder = ref.yaml_path.parent
    module = ref.module
    # `utils.fn` -> utils.py; `sub.utils.fn` -> sub/utils.py, or lmms-eval's literal sub.utils.py
    return [folder / (module.replace(".", "/") + ".py"), folder / (module + ".py")]


def _load_module(ref: FunctionRef, where: str) -> ModuleType:
    for path in _candidate_files(ref):
        if path.is_file():
            return _exec_file(path.resolve(), ref, where)
    try:
        return importlib.import_module(ref.module)
    except ImportError as exc:
        looked = " or ".join(str(p) for p in dict.fromkeys(_candidate_files(ref)))
        raise TaskError(
            f"{where}: !function {ref.name}: no {looked}, and module {ref.module!r} cannot be imported ({exc})",
            hint=_HINT,
        ) from None
    except Exception as exc:
        raise TaskError(
            f"{where}: !function {ref.name}: importing {ref.module!r} failed: {type(exc).__name__}: {exc}",
            hint=_HINT,
        ) from exc


def _exec_file(path: Path, ref: FunctionRef, where: str) -> ModuleType:
    cached = _MODULES.get(path)
    if cached is not None:
        return cached
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:12]
    unique = f"assay_task_{digest}_{path.stem}"
    spec = importlib.util.spec_from_file_location(unique, path)
    if spec is None or spec.loader is None:
        raise TaskError(f"{where}: !function {ref.name}: cannot load {path}", hint=_HINT)
    module = importlib.util.module_from_spec(spec)
    # Registered before executing so dataclasses/pickle inside the module can find it by name.
    sys.modules[unique] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        sys.modules.pop(unique, None)
        raise TaskError(
            f"{where}: !function {ref.name}: importing {path} failed: {type(exc).__name__}: {exc}",
            hint=_HINT,
        ) from exc
    _MODULES[path] = module
    return module


def _module_label(module: ModuleType) -> str:
    return getattr(module, "__file__", None) or module.__name__


def accepts_second_arg(fn: Callable[..., Any]) -> bool:
    """Whether ``fn(doc, kwargs)`` is a valid call (lmms-eval passes the 2nd argument only then)."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):  # builtins without a signature: assume the simple form
        return False
    positional = 0
    for p in params:
        if p.kind is inspect.Parameter.VAR_POSITIONAL:
            return True
        if p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD):
            positional += 1
    return positional >= 2


def call_with_kwargs(fn: Callable[..., Any], doc: Any, kwargs: Any) -> Any:
    """``fn(doc, kwargs)`` if ``fn`` takes a second argument, else ``fn(doc)``."""
    return fn(doc, kwargs) if accepts_second_arg(fn) else fn(doc)
