"""Parsed task YAMLs kept between runs, so listing lmms-eval's 1,900 files does not re-parse them each time.

One JSON file in ``$LMMS_EVAL_HOME`` maps each YAML's path to its modification time, size and parsed content
(``!function`` placeholders encoded as ``{"\\u0000fn": [name, line]}``). A file whose time or size changed is
parsed again; a file whose content JSON cannot hold (a YAML date, bytes) is simply never cached. Writing is
atomic (a temporary file renamed into place), so concurrent runs at worst redo each other's work; a
corrupt or foreign cache file is ignored and rewritten. Small trees (the built-in tasks, a few folders of
one's own) are not worth a file and leave ``$LMMS_EVAL_HOME`` untouched.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

from assay.tasks.yaml.refs import FunctionRef

log = logging.getLogger(__name__)

VERSION = 1
_FN = "\u0000fn"
#: Below this many YAMLs parsing is a few milliseconds: no file is written (LMMS_EVAL_HOME stays untouched).
MIN_FILES = 200


def _encode(value: Any) -> Any:
    if isinstance(value, FunctionRef):
        return {_FN: [value.name, value.line]}
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise TypeError("non-string key")
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(type(value).__name__)


def _decode(value: Any, path: Path) -> Any:
    if isinstance(value, dict):
        if _FN in value:
            name, line = value[_FN]
            return FunctionRef(name, path, line)
        return {k: _decode(v, path) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v, path) for v in value]
    return value


class IndexStore:
    """The on-disk cache of parsed YAMLs; ``get``/``put`` by path with (mtime_ns, size) as the check."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._files: dict[str, list[Any]] = {}
        self._dirty = False
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(data, dict) and data.get("version") == VERSION and isinstance(data.get("files"), dict):
                self._files = data["files"]
        except (OSError, ValueError):
            pass  # no cache yet, or an unreadable one: start empty

    def get(self, path: Path, stat: os.stat_result) -> tuple[bool, Any]:
        entry = self._files.get(str(path))
        if entry is None or entry[0] != stat.st_mtime_ns or entry[1] != stat.st_size:
            return False, None
        return True, _decode(entry[2], path)

    def put(self, path: Path, stat: os.stat_result, data: Any) -> None:
        try:
            encoded = _encode(data)
        except TypeError:
            return  # a value JSON cannot hold: this file is parsed every time
        self._files[str(path)] = [stat.st_mtime_ns, stat.st_size, encoded]
        self._dirty = True

    def save(self) -> None:
        if not self._dirty or len(self._files) < MIN_FILES:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".task-index-", suffix=".json")
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump({"version": VERSION, "files": self._files}, f, separators=(",", ":"))
            os.replace(tmp, self.path)
            self._dirty = False
        except OSError as exc:  # a read-only home: listing still works, just without the speed-up
            log.debug("task index cache not written: %s", exc)
