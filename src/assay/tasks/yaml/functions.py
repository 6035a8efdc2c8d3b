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
from assay.tasks.yaml.refs import FunctionRef

# resolved file path -> module, so a utils.py shared by many tasks is executed once per process
_MODULES: dict[Path, ModuleType] = {}
_HINT = "check the module file sits next to the YAML, defines the function, and imports cleanly"


def resolve_function(ref: FunctionRef) -> Any:
    """The value (usually a callable) a :class:`FunctionRef` names; ``TaskError`` naming the YAML file."""
    where = f"{ref.yaml_path}:{ref.line}"
    module = _load_module(ref, where)
    fn = getattr(module, ref.attr, None)
    if fn is None:
        raise TaskError(
            f"{where}: !function {ref.name}: {_module_label(module)} has no attribute {ref.attr!r}", hint=_HINT
        )
    return fn  # not always callable: lmms-eval passes any value, e.g. `features: !function utils.features`


def resolve_all(value: Any) -> Any:
    """A copy of a config value with every FunctionRef (at any depth) replaced by its callable."""
    if isinstance(value, FunctionRef):
        return resolve_function(value)
    if isinstance(value, dict):
        return {k: resolve_all(v) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_all(v) for v in value]
    return value


def function_files(value: Any) -> list[Path]:
    """The YAML files the ``!function`` references in a config were written in (any depth)."""
    if isinstance(value, FunctionRef):
        return [value.yaml_path]
    if isinstance(value, dict):
        return [p for v in value.values() for p in function_files(v)]
    if isinstance(value, list):
        return [p for v in value for p in function_files(v)]
    return []


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
        if isinstance(exc, ModuleNotFoundError) and exc.name and not ref.module.startswith(exc.name):
            raise _import_failed(ref, where, ref.module, exc) from exc
        looked = " or ".join(str(p) for p in dict.fromkeys(_candidate_files(ref)))
        raise TaskError(
            f"{where}: !function {ref.name}: no {looked}, and module {ref.module!r} cannot be imported ({exc})",
            hint=_HINT,
        ) from None
    except (Exception, SystemExit) as exc:
        raise _import_failed(ref, where, ref.module, exc) from exc


def _exec_file(path: Path, ref: FunctionRef, where: str) -> ModuleType:
    cached = _MODULES.get(path)
    if cached is not None:
        return cached
    from assay.tasks.hooks import hooks

    package_name = hooks.module_name_for(path)
    if package_name is not None:
        # Under an lmms_eval/tasks root: one module shared with `from lmms_eval.tasks.x.utils import …`,
        # and relative imports (`from .utils import …`) work, as inside lmms-eval.
        module = _import_named(package_name, path, ref, where)
    else:
        module = _exec_unique(path, ref, where)
    _MODULES[path] = module
    return module


def _import_named(name: str, path: Path, ref: FunctionRef, where: str) -> ModuleType:
    try:
        module = importlib.import_module(name)
    except (Exception, SystemExit) as exc:
        raise _import_failed(ref, where, str(path), exc) from exc
    if Path(getattr(module, "__file__", "") or "").resolve() != path:  # shadowed: load the file itself
        return _exec_unique(path, ref, where)
    return module


def _exec_unique(path: Path, ref: FunctionRef, where: str) -> ModuleType:
    # A unique name per file, so two task folders that both have a utils.py never collide.
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
    except (Exception, SystemExit) as exc:
        sys.modules.pop(unique, None)
        raise _import_failed(ref, where, str(path), exc) from exc
    return module


def _import_failed(ref: FunctionRef, where: str, what: str, exc: BaseException) -> TaskError:
    """An import error in task code, naming the missing package (and the extra that brings it) if any."""
    from assay.tasks.hooks import hooks

    if isinstance(exc, ModuleNotFoundError) and exc.name:
        message, hint = hooks.missing_module(exc.name)
        return TaskError(f"{where}: !function {ref.name}: importing {what}: {message}", hint=hint)
    if isinstance(exc, SystemExit):
        return TaskError(f"{where}: !function {ref.name}: importing {what} called sys.exit({exc.code!r})", hint=_HINT)
    return TaskError(f"{where}: !function {ref.name}: importing {what} failed: {type(exc).__name__}: {exc}",
                     hint=_HINT)


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
