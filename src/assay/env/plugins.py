"""Plugins: providers, tasks and metrics from other installed packages.

Two ways in:

- entry points (the packaging standard): groups ``assay.providers`` (name → ``module:ProviderClass``),
  ``assay.tasks`` (any name → a package whose folder holds task YAMLs, or ``module:attr`` naming a
  folder or a function returning one) and ``assay.metrics.scorers`` (name → ``module:function``);
- lmms-eval's convention: for each package in ``LMMS_EVAL_PLUGINS``, its ``models`` module's
  ``AVAILABLE_MODELS = {name: "ClassName"}`` (class in ``<package>.models.<name>``; a ``module:Class``
  value is taken as is). Its ``tasks`` folder is found by :mod:`assay.tasks.registry.discovery`.

A plugin name that is already built in is refused (the built-in stays) unless ``ASSAY_PLUGIN_OVERRIDES``
names it (or is ``*``). This module sits below the registries it serves: they hand it the built-in names
it must not shadow (``builtin_providers`` / ``builtin_metrics``), it never imports them.

A plugin that cannot be imported or is malformed is reported by name, as a
warning and in ``assay models``; it never stops a run that does not use it. Entry points are read once
per process; provider and metric targets are imported only when used.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assay.env.installed import may_declare_group
from assay.env.registry import load_target, refusal

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

    from assay.env.settings import Settings

log = logging.getLogger(__name__)

PROVIDER_GROUP, TASK_GROUP, METRIC_GROUP = "assay.providers", "assay.tasks", "assay.metrics"


@dataclass(frozen=True)
class PluginIndex:
    """What installed plugins offer, with every refusal and failure named."""

    providers: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (module:Class, origin)
    metrics: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (target, origin)
    task_roots: tuple[tuple[str, Path], ...] = ()
    problems: tuple[str, ...] = ()  # one line each: what is broken or refused, and which plugin


def _origin(ep: EntryPoint) -> str:
    dist = getattr(ep, "dist", None)
    name = getattr(dist, "name", None) or ep.module.split(".")[0]
    return f"plugin {name}"


def _select(group: str) -> list[EntryPoint]:
    return sorted(_entry_points()[group], key=lambda ep: (ep.name, ep.value))


@lru_cache(maxsize=1)
def _entry_points() -> dict[str, list[EntryPoint]]:
    """assay's entry point groups, from one read of every installed package's metadata (a read per group
    would open them all each time); none, without importing importlib.metadata, when no package can have any."""
    groups = (PROVIDER_GROUP, TASK_GROUP, METRIC_GROUP)
    if not may_declare_group("assay."):
        return {group: [] for group in groups}
    from importlib.metadata import entry_points

    everything = entry_points()
    return {group: list(everything.select(group=group)) for group in groups}


def _provider_entries(plugins: tuple[str, ...]) -> tuple[list[tuple[str, str, str]], list[str]]:
    """``(name, target, origin)`` from entry points and LMMS_EVAL_PLUGINS models modules, and problems."""
    found: list[tuple[str, str, str]] = []
    problems: list[str] = []
    for ep in _select(PROVIDER_GROUP):
        if ":" not in ep.value:
            problems.append(f"{_origin(ep)}: provider entry point `{ep.name} = {ep.value}` is not module:Class")
            continue
        found.append((ep.name, ep.value, f"{_origin(ep)} (entry point)"))
    for package in plugins:
        module_name = f"{package}.models"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name in (module_name, package):
                continue  # a tasks-only plugin (or not installed: task discovery reports that)
            problems.append(f"plugin {package}: {module_name} cannot be imported: {type(exc).__name__}: {exc}")
            continue
        except Exception as exc:  # a plugin's bug must not crash assay
            problems.append(f"plugin {package}: {module_name} cannot be imported: {type(exc).__name__}: {exc}")
            continue
        models = getattr(module, "AVAILABLE_MODELS", None)
        if not isinstance(models, dict):
            problems.append(f"plugin {package}: {module_name} has no AVAILABLE_MODELS dict")
            continue
        for name, target in models.items():
            if not isinstance(target, str) or not target:
                problems.append(f"plugin {package}: AVAILABLE_MODELS[{name!r}] is not a class name")
                continue
            if ":" not in target:
                target = (f"{module_name}.{name}:{target}" if "." not in target
                          else "{}:{}".format(*target.rsplit(".", 1)))
            found.append((str(name), target, f"plugin {package} (LMMS_EVAL_PLUGINS)"))
    return found, problems


def _task_roots() -> tuple[list[tuple[str, Path]], list[str]]:
    roots: list[tuple[str, Path]] = []
    problems: list[str] = []
    for ep in _select(TASK_GROUP):
        origin = _origin(ep)
        try:
            folder = _tasks_folder(ep)
        except Exception as exc:
            problems.append(f"{origin}: task entry point `{ep.name} = {ep.value}` is broken: "
                            f"{type(exc).__name__}: {exc}")
            continue
        if folder is None or not folder.exists():
            problems.append(f"{origin}: task entry point `{ep.name} = {ep.value}` names no folder")
            continue
        roots.append((f"{origin} ({ep.name})", folder.resolve()))
    return roots, problems


def _tasks_folder(ep: EntryPoint) -> Path | None:
    if ":" not in ep.value:
        import importlib.util

        spec = importlib.util.find_spec(ep.value)  # the package's folder, without importing it
        locations = list(spec.submodule_search_locations or []) if spec else []
        return Path(locations[0]) if locations else None
    value: Any = ep.load()
    if callable(value):
        value = value()
    return Path(value) if isinstance(value, (str, Path)) else None


_said: set[str] = set()  # problems already logged: several registries read the same index


@lru_cache(maxsize=16)
def _build(plugins: tuple[str, ...], overrides: tuple[str, ...], builtin_providers: frozenset[str],
           builtin_metrics: frozenset[str]) -> PluginIndex:
    entries, problems = _provider_entries(plugins)
    providers: dict[str, tuple[str, str]] = {}
    for name, target, origin in entries:
        taken = providers.get(name)
        problem = refusal("provider", name, origin, builtin=builtin_providers,
                          taken_by=taken[1] if taken else None, overrides=overrides)
        if problem is not None:
            problems.append(problem)
            continue
        providers[name] = (target, origin)
    metrics: dict[str, tuple[str, str]] = {}
    for ep in _select(METRIC_GROUP):
        origin = _origin(ep)
        taken = metrics.get(ep.name)
        problem = refusal("metric", ep.name, origin, builtin=builtin_metrics,
                          taken_by=taken[1] if taken else None, overrides=overrides)
        if problem is not None:
            problems.append(problem)
        else:
            metrics[ep.name] = (ep.value, origin)
    roots, root_problems = _task_roots()
    problems.extend(root_problems)
    for problem in problems:
        if problem not in _said:
            _said.add(problem)
            log.warning("%s", problem)
    return PluginIndex(providers, metrics, tuple(roots), tuple(problems))


def index(settings: Settings | None = None, *, builtin_providers: Iterable[str] = (),
          builtin_metrics: Iterable[str] = ()) -> PluginIndex:
    """Every installed plugin, read once per (LMMS_EVAL_PLUGINS, ASSAY_PLUGIN_OVERRIDES, built-in names)."""
    plugins, overrides = (tuple(settings.plugins), tuple(settings.plugin_overrides)) if settings else ((), ())
    return _build(plugins, overrides, frozenset(builtin_providers), frozenset(builtin_metrics))


def plugin_providers(settings: Settings | None = None, *,
                     builtin: Iterable[str] = ()) -> dict[str, tuple[str, str]]:
    """Plugin providers as ``name -> (module:Class, origin)``; names in ``builtin`` are refused unless overridden."""
    return index(settings, builtin_providers=builtin).providers


def plugin_task_roots(settings: Settings | None = None) -> list[tuple[str, Path]]:
    return list(index(settings).task_roots)


def load_metric(name: str, settings: Settings | None = None, *,
                builtin: Iterable[str] = ()) -> Callable[..., Any] | None:
    """A plugin metric function, or None when no plugin provides ``name``; an import error names the plugin."""
    from assay.errors import TaskError

    found = index(settings, builtin_metrics=builtin).metrics.get(name)
    if found is None:
        return None
    target, origin = found
    try:
        function: Callable[..., Any] = load_target(target)
    except Exception as exc:
        raise TaskError(f"metric `{name}` from {origin} cannot be loaded: {type(exc).__name__}: {exc}",
                        hint=f"fix or reinstall that package ({target})") from None
    return function


def clear_cache() -> None:
    """Forget what was read (tests install plugins mid-process)."""
    _entry_points.cache_clear()
    _build.cache_clear()
    _said.clear()
