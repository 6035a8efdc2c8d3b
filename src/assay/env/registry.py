"""One registry type for every "name → thing" table: providers, metrics, aggregations, filters, plugins.

A :class:`Registry` holds entries by name, each an object or a lazy ``module:attr`` target imported on first
use (so listing names imports nothing), with aliases and an origin (``builtin`` or the plugin that gave it).
It refuses collisions — a second built-in under a taken name is a bug, a plugin shadowing a built-in is
refused unless ``ASSAY_PLUGIN_OVERRIDES`` names it — and says "did you mean" for an unknown name, the same
way for every kind of thing. It sits below everything that uses it and imports nothing of assay's but
the errors.

A registry is a read-only ``Mapping`` from every name and alias to the loaded object, so code that read the
old dict tables (``name in METRICS``, ``sorted(FILTERS)``, ``AGGREGATIONS[name]``) reads it unchanged.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from assay.errors import AssayError, TaskError

T = TypeVar("T")

BUILTIN = "builtin"


def suggestions(name: str, known: Iterable[str], n: int = 3, cutoff: float = 0.6) -> list[str]:
    """The known names closest to ``name`` (difflib's ratio, at least ``cutoff``), best first."""
    import difflib  # only when a name is wrong: kept off the start-up path

    return difflib.get_close_matches(name, sorted(set(known)), n=n, cutoff=cutoff)


def did_you_mean(name: str, known: Iterable[str], n: int = 3, quote: Callable[[str], str] = repr,
                 cutoff: float = 0.6) -> str:
    """``"did you mean 'a' or 'b'? "`` for the closest known names, or ``""``: the start of a hint."""
    close = suggestions(name, known, n, cutoff)
    return f"did you mean {' or '.join(quote(c) for c in close)}? " if close else ""


def load_target(target: str) -> Any:
    """The object a ``module:attr`` (or ``module:attr.inner``) target names. Import errors propagate: the
    caller knows whose target it is and names it."""
    module_name, colon, attr = target.partition(":")
    if not colon or not module_name or not attr:
        raise ValueError(f"{target!r} is not module:attr")
    found: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        found = getattr(found, part)
    return found


def overridable(name: str, overrides: Iterable[str]) -> bool:
    """Whether ``ASSAY_PLUGIN_OVERRIDES`` lets a plugin replace the built-in ``name`` (``*``: every name)."""
    chosen = set(overrides)
    return "*" in chosen or name in chosen


def refusal(kind: str, name: str, origin: str, *, builtin: Iterable[str], taken_by: str | None,
            overrides: Iterable[str]) -> str | None:
    """Why a plugin's ``name`` is refused (one line naming the plugin), or None when it may be registered:
    a built-in name is kept unless overridden, and the first plugin to claim a name keeps it."""
    if name in set(builtin) and not overridable(name, overrides):
        return (f"{origin}: {kind} `{name}` is refused: the name is built in "
                f"(set ASSAY_PLUGIN_OVERRIDES={name} to let the plugin replace it)")
    if taken_by is not None:
        return f"{origin}: {kind} `{name}` is refused: {taken_by} already provides it"
    return None


@dataclass(frozen=True)
class Entry(Generic[T]):
    """One registered thing: the object, or the ``module:attr`` it is imported from when first used."""

    name: str
    value: T | None = None
    target: str | None = None
    origin: str = BUILTIN
    aliases: tuple[str, ...] = ()


class Registry(Mapping[str, T]):
    """Named entries of one ``kind`` ("provider", "metric", "aggregation", "filter"), loaded lazily.

    ``error`` builds the error for an unknown name (a :class:`TaskError` unless told otherwise)."""

    def __init__(self, kind: str, *, error: Callable[[str, str], AssayError] | None = None) -> None:
        self.kind = kind
        self._entries: dict[str, Entry[T]] = {}  # canonical name -> entry
        self._names: dict[str, str] = {}  # every name and alias -> canonical name
        self._loaded: dict[str, T] = {}
        self._error = error or (lambda message, hint: TaskError(message, hint=hint))

    # -- filling -----------------------------------------------------------------------------------

    def add(self, name: str, value: T | None = None, *, target: str | None = None, origin: str = BUILTIN,
            aliases: Iterable[str] = ()) -> None:
        """Register ``value`` (or the lazy ``target``) as ``name``. A name or alias already taken is a
        programming error (ValueError): plugins go through :meth:`admit`, which refuses politely."""
        if (value is None) == (target is None):
            raise ValueError(f"{self.kind} {name!r}: give a value or a module:attr target, not both or neither")
        entry = Entry(name, value, target, origin, tuple(aliases))
        for key in (name, *entry.aliases):
            if key in self._names:
                raise ValueError(f"{self.kind} {key!r} is registered twice")
        self._put(entry)

    def update(self, values: Mapping[str, T]) -> None:
        """Register every ``name: value`` (the built-in table of a module)."""
        for name, value in values.items():
            self.add(name, value)

    def admit(self, name: str, target: str, origin: str, overrides: Iterable[str] = ()) -> str | None:
        """Register a plugin's entry unless refused; the refusal (one line naming the plugin) is returned."""
        current = self._entries.get(self._names.get(name, name))
        taken_by = current.origin if current is not None and current.origin != BUILTIN else None
        builtin = [name] if current is not None and current.origin == BUILTIN else []
        problem = refusal(self.kind, name, origin, builtin=builtin, taken_by=taken_by, overrides=overrides)
        if problem is None:
            self._put(Entry(name, None, target, origin))
        return problem

    def copy(self) -> Registry[T]:
        """A registry with the same entries, to admit plugins into without touching the built-in table."""
        other: Registry[T] = Registry(self.kind, error=self._error)
        other._entries, other._names, other._loaded = dict(self._entries), dict(self._names), dict(self._loaded)
        return other

    def _put(self, entry: Entry[T]) -> None:
        self._entries[entry.name] = entry
        self._loaded.pop(entry.name, None)
        for key in (entry.name, *entry.aliases):
            self._names[key] = entry.name

    # -- reading -----------------------------------------------------------------------------------

    def canonical(self, name: str) -> str | None:
        """The registered name ``name`` (a name or an alias) stands for, or None."""
        return self._names.get(name)

    def entry(self, name: str) -> Entry[T] | None:
        canonical = self._names.get(name)
        return None if canonical is None else self._entries[canonical]

    def origin(self, name: str) -> str | None:
        entry = self.entry(name)
        return None if entry is None else entry.origin

    def names(self) -> list[str]:
        """Registered names (no aliases), sorted."""
        return sorted(self._entries)

    def __getitem__(self, name: str) -> T:
        canonical = self._names[name]  # KeyError for an unknown name, as a dict would
        if canonical not in self._loaded:
            entry = self._entries[canonical]
            self._loaded[canonical] = cast(T, entry.value if entry.target is None else load_target(entry.target))
        return self._loaded[canonical]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def unknown(self, name: str, *, where: str = "", why: str = "", also: Iterable[str] = (),
                hint_tail: str = "") -> AssayError:
        """The error for a name nobody registered: "did you mean" the closest names, then every name
        (``also``: names served from elsewhere, e.g. plugins). ``where`` starts the message, ``why`` ends it."""
        known = sorted({*self._names, *also})
        hint = f"{did_you_mean(name, known)}available {self.kind}s: {', '.join(known)}{hint_tail}"
        return self._error(f"{where}unknown {self.kind} {name!r}{why}", hint)

    def lookup(self, name: str, **unknown: Any) -> T:
        """``self[name]``, or :meth:`unknown`'s error (keyword arguments go to it)."""
        if name not in self._names:
            raise self.unknown(name, **unknown)
        return self[name]
