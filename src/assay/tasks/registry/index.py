"""The task registry: an index of task, group and tag names built from YAML alone.

Discovery parses each YAML (``!function`` left as placeholders) and merges its includes, so listing
imports no task Python and no dataset library; :meth:`TaskRegistry.load` does that for one task.

One bad file never takes the rest down: a YAML that cannot be read, parsed or merged, or a group that
cannot be built, is recorded in :attr:`TaskRegistry.problems` (``file:line: what``) and skipped.
"""

from __future__ import annotations

import fnmatch
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assay.env.registry import did_you_mean
from assay.errors import TaskError
from assay.tasks.registry.discovery import task_roots, yaml_files
from assay.tasks.scoring.groups import GroupInfo, ParsedGroup, parse_group
from assay.tasks.yaml.config import task_tags
from assay.tasks.yaml.includes import YamlCache, absolute, load_with_includes, merge_includes
from assay.tasks.yaml.refs import for_display

if TYPE_CHECKING:
    from assay.env.settings import Settings
    from assay.tasks.task import RunSettings, Task

log = logging.getLogger(__name__)
_GLOB_CHARS = frozenset("*?[")


@dataclass(frozen=True)
class Problem:
    """A task file (or group) skipped at discovery: where, what, and a short cause for summaries."""

    path: Path
    message: str
    cause: str

    def __str__(self) -> str:
        return self.message


def _short(path: Path) -> str:
    """The last three parts of a YAML path: enough to tell two definitions apart, short enough to read."""
    return "/".join(path.parts[-3:])


@dataclass(frozen=True)
class TaskEntry:
    """One indexed task: its includes merged, its ``!function`` values still placeholders."""

    name: str
    yaml_path: Path
    raw: Mapping[str, Any]
    source: str
    inline: bool = False  # defined inside a group file


class TaskRegistry:
    def __init__(self) -> None:
        self._tasks: dict[str, TaskEntry] = {}
        self._tags: dict[str, list[str]] = {}
        self._group_raw: dict[str, tuple[dict[str, Any], Path, str]] = {}
        self._groups: dict[str, GroupInfo] = {}
        self.problems: list[Problem] = []
        self.roots: list[Path] = []

    # -- building ----------------------------------------------------------------------------------

    @classmethod
    def discover(cls, settings: Settings, include_paths: Sequence[str | Path] = ()) -> TaskRegistry:
        """Index built-in tasks, then ``settings.plugins``' ``tasks`` folders, then ``include_paths``."""
        from assay.tasks.yaml.index_cache import IndexStore

        registry = cls()
        cache = YamlCache(IndexStore(settings.home / "task-index.json"))
        seen: set[Path] = set()
        for source, root in task_roots(settings.plugins, include_paths):
            registry.roots.append(root)
            for path in yaml_files(root):
                if absolute(path) not in seen:  # an include path overlapping another root
                    seen.add(absolute(path))
                    try:
                        registry._index_file(path, source, cache)
                    except TaskError as exc:
                        registry._skip(path, exc)
        registry._build_groups(cache)
        cache.save()
        return registry

    def _skip(self, path: Path, exc: TaskError) -> None:
        message = exc.message if str(path) in exc.message else f"{path}: {exc.message}"
        cause = "malformed YAML" if "malformed YAML" in message else "invalid task file"
        self.problems.append(Problem(path, message, cause))
        log.warning("skipped %s", message)

    def _index_file(self, path: Path, source: str, cache: YamlCache) -> None:
        config = load_with_includes(path, cache)
        task = config.get("task")
        if isinstance(task, list):
            name = config.get("group")
            if not isinstance(name, str):
                raise TaskError(f"{path}: a `task:` list needs a `group:` name", hint="add `group: <name>`")
            if name in self._group_raw:
                log.warning("group %s in %s replaces the one in %s", name, path, self._group_raw[name][1])
            self._group_raw[name] = (config, path, source)
        elif isinstance(task, str):
            self._add_task(TaskEntry(task, absolute(path), config, source))
        else:
            log.debug("%s defines no task or group (a template?); skipped", path)

    def _add_task(self, entry: TaskEntry) -> None:
        previous = self._tasks.get(entry.name)
        if previous is not None:
            # Twice within one tree (lmms-eval's own has three such pairs) is that tree's business: said at DEBUG.
            # Across sources it is an override the user made, worth one short line.
            same = entry.source == previous.source
            log.log(logging.DEBUG if same else logging.WARNING, "task %s is defined twice: %s replaces %s%s",
                    entry.name, _short(entry.yaml_path), _short(previous.yaml_path),
                    "" if same else f" ({entry.source} over {previous.source})")
        self._tasks[entry.name] = entry
        for tag in task_tags(entry.raw):
            members = self._tags.setdefault(tag, [])
            if entry.name not in members:
                members.append(entry.name)

    def _build_groups(self, cache: YamlCache) -> None:
        file_tasks = set(self._tasks)
        for config, path, source in self._group_raw.values():
            try:
                parsed = parse_group(config, yaml_path=path, source=source, file_tasks=file_tasks)
                self._register_group(parsed, cache)
            except TaskError as exc:
                self._skip(path, exc)
        for name in [t for t in self._tags if t in self._groups]:
            log.warning("tag %s is also a group name; the group is used", name)
            del self._tags[name]

    def _register_group(self, parsed: ParsedGroup, cache: YamlCache) -> None:
        info = parsed.info
        path = info.yaml_path or Path()
        for inline in parsed.inline_tasks:
            raw = merge_includes(inline.raw, path.parent, cache, origin=f"{path} (task {inline.name})")
            self._add_task(TaskEntry(inline.name, path, raw, info.source, inline=True))
        for sub in parsed.nested:
            self._register_group(sub, cache)
        self._groups[info.name] = info

    # -- names -------------------------------------------------------------------------------------

    def task_names(self) -> list[str]:
        return sorted(self._tasks)

    def group_names(self) -> list[str]:
        return sorted(self._groups)

    def tag_names(self) -> list[str]:
        return sorted(self._tags)

    def task_entry(self, name: str) -> TaskEntry:
        if name not in self._tasks:
            raise self._unknown(name, "task")
        return self._tasks[name]

    def group(self, name: str) -> GroupInfo:
        if name not in self._groups:
            raise self._unknown(name, "group")
        return self._groups[name]

    def tag_members(self, name: str) -> list[str]:
        if name not in self._tags:
            raise self._unknown(name, "tag")
        return list(self._tags[name])

    def resolve(self, specs: Iterable[str]) -> list[str]:
        """Task names for task/group/tag names and shell globs (``mme*``), in order, without repeats.

        A spec may hold several names separated by commas, as ``--tasks`` does.
        """
        out: list[str] = []
        for spec in specs:
            for piece in (p.strip() for p in spec.split(",")):
                if piece:
                    out.extend(self._expand(piece, ()))
        return list(dict.fromkeys(out))

    def _expand(self, name: str, stack: tuple[str, ...]) -> list[str]:
        if name in self._tasks:
            return [name]
        if name in self._groups:
            if name in stack:
                raise TaskError(f"group cycle: {' -> '.join((*stack, name))}", hint="a group cannot contain itself")
            info = self._groups[name]
            out: list[str] = []
            for member in info.members:
                if not self._known(member) and not (_GLOB_CHARS & set(member)):
                    raise self._unknown(member, "task", context=f"group {name} ({info.yaml_path}) lists ")
                out.extend(self._expand(member, (*stack, name)))
            return out
        if name in self._tags:
            return list(self._tags[name])
        if _GLOB_CHARS & set(name):
            matches = fnmatch.filter(self._all_names(), name)
            if not matches:
                raise TaskError(f"no task, group or tag matches {name!r}", hint="run `assay tasks` to list them")
            return [t for m in matches for t in self._expand(m, stack)]
        raise self._unknown(name, "task")

    def groups_for(self, task_names: Iterable[str]) -> dict[str, GroupInfo]:
        """The groups every task of which is in ``task_names`` (so their aggregates can be reported)."""
        wanted = set(task_names)
        out: dict[str, GroupInfo] = {}
        for name in sorted(self._groups):
            try:
                tasks = set(self._expand(name, ()))
            except TaskError as exc:  # a broken group elsewhere must not break this run
                log.debug("group %s skipped: %s", name, exc)
                continue
            if tasks and tasks <= wanted:
                out[name] = self._groups[name]
        return out

    # -- configs and loading -----------------------------------------------------------------------

    def config(self, name: str) -> dict[str, Any]:
        """The resolved config of a task (or group, or tag) for display: includes merged,
        ``!function`` values as ``"!function module.fn"`` strings; nothing is imported."""
        if name in self._tasks:
            return dict(for_display(dict(self._tasks[name].raw)))
        if name in self._groups:
            info = self._groups[name]
            raw = self._group_raw.get(name)
            if raw is not None:
                return dict(for_display({k: v for k, v in raw[0].items() if k != "include"}))
            return {"group": name, "task": list(info.members)}
        if name in self._tags:
            return {"tag": name, "task": list(self._tags[name])}
        raise self._unknown(name, "task")

    def load(self, name: str, *, settings: Settings, model_name: str, group: str | None = None,
             run: RunSettings | None = None) -> Task:
        """Import the task's ``!function`` modules and build it; ``group`` applies that group's overrides.

        Task helpers written for lmms-eval import ``lmms_eval``: the compatibility package answers them
        when lmms-eval itself is not installed (through :mod:`assay.tasks.hooks`, which ``assay.compat`` fills).
        """
        from assay.tasks.hooks import hooks
        from assay.tasks.task import Task
        from assay.tasks.yaml.config import build_config
        from assay.tasks.yaml.functions import function_files, resolve_all
        from assay.tasks.yaml.keys import check_keys, check_output_type

        if name not in self._tasks:
            if name in self._groups or name in self._tags:
                kind = "group" if name in self._groups else "tag"
                raise TaskError(f"{name} is a {kind}, not a task", hint="expand it first with TaskRegistry.resolve")
            raise self._unknown(name, "task")
        entry = self._tasks[name]
        raw = dict(entry.raw)
        if group is not None:
            raw.update(self.group(group).overrides.get(name, {}))
        raw.pop("include", None)
        check_keys(raw, f"task {name} ({entry.yaml_path})")  # a refused key is said before any import
        check_output_type(raw.get("output_type"), f"task {name} ({entry.yaml_path})")
        # helpers of included YAMLs (a wrapper including lmms-eval's own) import from their own tree
        hooks.activate(settings, [*self.roots, entry.yaml_path, *function_files(raw)])
        resolved = resolve_all(raw)
        config = build_config(resolved, name=name, yaml_path=entry.yaml_path, model_name=model_name)
        return Task(config, settings=settings, run=run)

    # -- helpers -----------------------------------------------------------------------------------

    def _known(self, name: str) -> bool:
        return name in self._tasks or name in self._groups or name in self._tags

    def _all_names(self) -> list[str]:
        return sorted({*self._tasks, *self._groups, *self._tags})

    def _unknown(self, name: str, kind: str, context: str = "") -> TaskError:
        from assay.tasks.registry.lmms_names import lmms_task_hint

        lmms = lmms_task_hint(name)
        if lmms is not None:
            return TaskError(f"{context}unknown {kind} {name!r}: it is an lmms-eval task, and lmms-eval's task tree "
                             "is not on the include path", hint=lmms)
        hint = did_you_mean(name, self._all_names())
        return TaskError(f"{context}unknown {kind} {name!r}", hint=hint + "run `assay tasks` to list tasks")
