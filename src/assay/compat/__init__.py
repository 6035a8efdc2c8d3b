"""lmms-eval compatibility: the ``lmms_eval`` modules that real task helpers import, written for assay.

Task folders written for lmms-eval import from ``lmms_eval.*`` (``lmms_eval.filters.extraction``,
``lmms_eval.api.metrics``, ``lmms_eval.utils``, ``lmms_eval.llm_judge``…) and from each other through
``lmms_eval.tasks.<folder>.<module>``. :func:`activate` makes those imports work without lmms-eval:

* **Only when the real lmms-eval is absent.** Before our finder is on ``sys.meta_path`` we ask
  ``importlib.util.find_spec("lmms_eval")``; the answer then comes from the ordinary path finders, never
  from us. A hit that is a *regular* package (it has an ``__init__.py``) is the real lmms-eval and is
  used as it is. A namespace-package hit (a bare ``lmms_eval/`` folder on ``sys.path``, e.g. the current
  directory holding a copy of the task tree) is not a real lmms-eval, so the shim is used.
* **A real package, not aliases.** The shim lives at ``assay/compat/lmms_eval/``; our meta-path finder
  answers the one top-level name ``lmms_eval`` with a spec whose ``__path__`` is that folder, so every
  submodule is an ordinary module named ``lmms_eval.…`` found by the standard path finder.
* **``lmms_eval.tasks`` spans the task roots.** Every include path that lies in (or is) an
  ``…/lmms_eval/tasks`` folder adds that folder to ``lmms_eval.tasks.__path__``, so
  ``lmms_eval.tasks._task_utils.file_utils`` and ``lmms_eval.tasks.mmbench.mmbench_evals`` resolve to
  the included tree's own files, as they do inside lmms-eval.
* **The environment helpers expect.** Helpers read ``os.environ["HF_HOME"]`` at import; it is set from
  :attr:`Settings.hf_home` when unset (the same default the Hugging Face libraries use). They also read
  their judge's variables (``OPENAI_API_KEY``, ``API_TYPE``, ``AZURE_*``…): values assay took from a
  `.env` file are given to them under those names. This package and ``assay.env.settings`` are the only
  places that touch ``os.environ``.
"""

from __future__ import annotations

import contextlib
import importlib.machinery
import importlib.util
import logging
import os
import sys
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assay.env.settings import Settings

log = logging.getLogger(__name__)

SHIM_DIR = Path(__file__).resolve().parent / "lmms_eval"
NAME = "lmms_eval"


@dataclass
class _State:
    shim: bool  # True: our package answers `lmms_eval`; False: the real lmms-eval is installed
    roots: list[str] = field(default_factory=list)


_state: _State | None = None
_lock = threading.Lock()


class _ShimFinder:  # a meta path finder (find_spec); not importlib.abc's: ~2 ms to import
    """Answers only the top-level name ``lmms_eval``; submodules follow the package's ``__path__``."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != NAME:
            return None
        return importlib.util.spec_from_file_location(
            NAME, SHIM_DIR / "__init__.py", submodule_search_locations=[str(SHIM_DIR)]
        )


def real_lmms_eval_installed() -> bool:
    """Whether ``import lmms_eval`` finds lmms-eval itself (asked of the standard finders only)."""
    module = sys.modules.get(NAME)
    if module is not None:
        return not _is_shim_module(module)
    finders = [f for f in sys.meta_path if not isinstance(f, _ShimFinder)]
    saved = sys.meta_path[:]
    try:
        sys.meta_path[:] = finders
        spec = importlib.util.find_spec(NAME)
    except (ImportError, ValueError):
        spec = None
    finally:
        sys.meta_path[:] = saved
    # A namespace package (no __init__.py) is a stray folder named lmms_eval, not the library.
    return spec is not None and spec.origin not in (None, "namespace") and spec.loader is not None


def _is_shim_module(module: ModuleType) -> bool:
    origin = getattr(getattr(module, "__spec__", None), "origin", None)
    return origin is not None and Path(origin).resolve().parent == SHIM_DIR


def activate(settings: Settings | None = None, task_roots: Iterable[str | Path] = ()) -> bool:
    """Make ``import lmms_eval`` work for task helpers; True when the shim (not lmms-eval) answers.

    Safe to call more than once: the finder is installed once, task roots are added as they come.
    """
    global _state
    with _lock:
        if _state is None:
            _state = _State(shim=not real_lmms_eval_installed())
            if _state.shim:
                sys.meta_path.insert(0, _ShimFinder())
                log.debug("lmms-eval is not installed: assay's lmms_eval compatibility package answers it")
                from assay.compat.clients import install_client_shims

                install_client_shims()  # judge clients helpers import (sglang), answered by assay's judge
            _route_loguru_when_imported()
        if settings is not None:
            _set_helper_environment(settings)
        if _state.shim:
            for root in task_roots:
                _add_root(_state, root)
        return _state.shim


def shim_active() -> bool:
    return _state is not None and _state.shim


def tasks_package_root(path: Path) -> Path | None:
    """The ``…/lmms_eval/tasks`` folder ``path`` lies in, if any (the root ``lmms_eval.tasks`` maps to)."""
    for candidate in (path, *path.parents):
        if candidate.name == "tasks" and candidate.parent.name == NAME:
            return candidate
    return None


def module_name_for(path: Path) -> str | None:
    """``lmms_eval.tasks.<folder>.<module>`` for a helper file under a mapped root, when the shim is on.

    Helpers imported under that name share one module with ``from lmms_eval.tasks.… import …`` and can
    use relative imports. None when the file is elsewhere or a path part is not an identifier.
    """
    if _state is None or not _state.shim:
        return None
    resolved = path.resolve()
    for root in _state.roots:
        try:
            rel = resolved.relative_to(root)
        except ValueError:
            continue
        parts = [*rel.parent.parts, rel.stem]
        if all(p.isidentifier() for p in parts):
            return ".".join((NAME, "tasks", *parts))
    return None


def _add_root(state: _State, root: str | Path) -> None:
    folder = tasks_package_root(Path(root).expanduser().resolve())
    if folder is None or str(folder) in state.roots:
        return
    state.roots.append(str(folder))
    package = sys.modules.get(f"{NAME}.tasks")
    if package is not None and str(folder) not in package.__path__:
        package.__path__.append(str(folder))
    importlib.invalidate_caches()


def task_roots() -> list[str]:
    """The folders ``lmms_eval.tasks`` spans (read by the shim's ``tasks/__init__.py``)."""
    return list(_state.roots) if _state is not None else []


def _route_loguru_when_imported() -> None:
    """Helpers log with loguru (``from loguru import logger as eval_logger``), whose default sink writes to
    stderr past assay's log level and redaction: its records are sent through ``logging`` instead, as soon
    as loguru is imported (a run whose tasks never import it does not pay for its import)."""
    module = sys.modules.get("loguru")
    if module is not None:
        _route_loguru(module)
    elif not any(isinstance(f, _LoguruRouter) for f in sys.meta_path):
        sys.meta_path.insert(0, _LoguruRouter())


class _LoguruRouter:  # a meta path finder (find_spec); not importlib.abc's: ~2 ms to import
    """On the first ``import loguru``: loguru's own spec, whose module is routed once it has run."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != "loguru":
            return None
        with contextlib.suppress(ValueError):  # once; and the standard finders find loguru itself below
            sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        loader = spec.loader if spec is not None else None
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        run_module = loader.exec_module

        def exec_module(module: ModuleType) -> None:
            run_module(module)
            _route_loguru(module)

        loader.exec_module = exec_module  # type: ignore[method-assign]  # this spec's own loader object
        return spec


def _route_loguru(loguru: ModuleType) -> None:
    def forward(message: Any) -> None:
        record = message.record
        name = record["name"] or "lmms_eval"
        logging.getLogger(name).log(record["level"].no, "%s", record["message"],
                                    exc_info=record["exception"] is not None and log.isEnabledFor(logging.DEBUG))

    loguru.logger.remove()
    loguru.logger.add(forward, level=0, format="{message}", catch=True)


#: Settings whose variables lmms-eval helpers read themselves (counted in lmms-eval's task tree:
#: API_TYPE 65 times, OPENAI_API_KEY 60, OPENAI_API_URL 40, AZURE_* 29 each, …).
HELPER_SETTINGS = ("judge_api_type", "openai_api_key", "openai_api_url", "openai_base_url", "azure_api_key",
                   "azure_endpoint", "azure_api_version", "viescore_api_key", "hf_token", "shuffle_docs")


def _set_helper_environment(settings: Settings) -> None:
    # Helpers do `os.environ["HF_HOME"]` at import and join media folders to it. Setting it to what the
    # Hugging Face libraries would use anyway changes nothing for them; an explicit HF_HOME is kept.
    if not os.environ.get("HF_HOME"):
        os.environ["HF_HOME"] = str(Path(os.path.expanduser(str(settings.hf_home))))
    # Helpers also read their judge's variables themselves (`OpenAI(api_key=os.getenv("OPENAI_API_KEY"))`
    # at import). A value assay took from a `.env` file (or a login file) is given to them under the names
    # they read, so an lmms-eval `.env` works for helpers as it does for assay; the real environment
    # always wins. Their judge calls are answered by assay's judge whatever key they hold.
    from assay.env.settings import SPEC_BY_FIELD

    for name in HELPER_SETTINGS:
        spec = SPEC_BY_FIELD[name]
        if settings.source_of(name).kind in ("default", "env") or any(n in os.environ for n in spec.env_names):
            continue
        value = settings.secret(name) if spec.secret else getattr(settings, name)
        if value is None or value == "":
            continue
        text = ("1" if value else "0") if isinstance(value, bool) else str(value)
        for env_name in spec.env_names:
            os.environ[env_name] = text


def _install_task_hooks() -> None:
    from assay.compat.packages import missing_module
    from assay.tasks.hooks import install

    install(activate=activate, module_name_for=module_name_for, missing_module=missing_module)


_install_task_hooks()  # tasks never import compat: importing compat is what turns it on
