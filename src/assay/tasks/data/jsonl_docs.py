"""Docs that stay in their files: JSON lines read one doc at a time, and a selection of docs that loads
each one only when the run takes it.

A 50,000-doc JSONL task used to be read whole (the text, then every doc as a dict, then a copy of every
selected doc): ~115 MB peak at 50k docs against ~54 MB at 1k. :class:`JsonlDocs` reads the files as far
as it is asked (all of them for ``len()``; only the first N docs for ``--limit N``), checking every line
it passes and noting where each doc starts (8 bytes per doc), then parses a doc only when asked. No line
is read whole past ``max_line_bytes``: a 2 GB line is an error naming its file and line, not 4.8 GB of
memory; FIFOs and devices are refused by what they are.
:class:`DocSelection` is what a run iterates: the chosen dataset indices, each doc read as it is taken.
``process_docs`` functions see the ``DocList`` API (``filter``, ``map``, …): those calls read every doc,
as they must, and return an in-memory ``DocList``.
"""

from __future__ import annotations

import json
import re
import sys
import threading
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, overload

import orjson

from assay.errors import DatasetError
from assay.tasks.data.doclist import DocList
from assay.tasks.data.special_files import refuse_special

#: The longest JSON line read (ASSAY_MAX_LINE_MB): a doc with an inlined image fits; a runaway file does not.
DEFAULT_MAX_LINE_BYTES = 256 * 1024 * 1024

Doc = dict[str, Any]
#: Where orjson and json could read a line differently: an integer literal of 19 digits or more.
_LONG_DIGITS = re.compile(rb"\d{19}")
#: DocList methods a ``process_docs`` function may call: served by an in-memory copy.
_DOCLIST_METHODS = frozenset({"filter", "map", "select", "shuffle", "remove_columns", "select_columns",
                              "rename_column", "add_column", "unique", "to_list"})


def _open_binary(path: Path) -> Any:
    refuse_special(path)
    try:
        return path.open("rb")
    except FileNotFoundError:
        raise DatasetError(f"data file {path} does not exist", hint="check dataset_path / data_files") from None
    except OSError as exc:
        raise DatasetError(f"cannot read data file {path}: {exc.strerror or exc}", hint="check the file") from None


def _read_line(handle: Any, path: Path, lineno: int, max_line_bytes: int) -> bytes:
    """The next line, read no further than ``max_line_bytes`` (+1 to see it is longer)."""
    line: bytes = handle.readline(max_line_bytes + 1)
    if len(line) > max_line_bytes:
        raise DatasetError(f"{path}:{lineno}: line longer than {max_line_bytes:,} bytes",
                           hint="one JSON object per line; raise ASSAY_MAX_LINE_MB if such long lines are meant")
    return line


def _parse(line: bytes, path: Path, lineno: int) -> Doc:
    """The doc on ``line`` as ``json.loads`` reads it. orjson reads it when it reads it the same way (~2x
    faster, and every line is parsed twice: checked, then read): json takes what orjson refuses or reads
    otherwise — a byte order mark, NaN/Infinity, a lone surrogate, an integer of 19
    digits or more (orjson's is a float beyond 64 bits) — and gives every error message."""
    if _LONG_DIGITS.search(line) is None:
        try:
            fast = orjson.loads(line)
        except orjson.JSONDecodeError:
            pass
        else:
            if type(fast) is dict:
                return fast
    try:
        doc = json.loads(line.decode("utf-8-sig" if lineno == 1 else "utf-8"))
    except UnicodeDecodeError:
        raise DatasetError(f"{path}:{lineno}: not UTF-8 text", hint="save the data file as UTF-8") from None
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{path}:{lineno}: invalid JSON line: {exc.msg}", hint="one JSON object per line") from None
    if not isinstance(doc, dict):
        raise DatasetError(f"{path}: row {lineno} is a {type(doc).__name__}, not an object",
                           hint="each doc is a JSON object")
    return doc


@dataclass
class _Scan:
    """How far the files have been indexed."""

    file: int = 0
    handle: Any = None
    offset: int = 0
    lineno: int = 0


class JsonlDocs(Sequence[Doc]):
    """The docs of one or more JSON-lines files, in order, each parsed when it is asked for."""

    def __init__(self, paths: Sequence[Path], *, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> None:
        self.paths = [Path(p) for p in paths]
        self.max_line_bytes = max_line_bytes
        self._file_of = array("H")  # doc -> index into paths
        self._offset = array("Q")  # doc -> byte offset of its line
        self._lineno = array("L")  # doc -> line number (for error messages)
        self._columns: dict[str, None] = {}
        self._scan = _Scan()
        self._scan_lock = threading.Lock()
        self._local = threading.local()  # one open handle per file per thread (docs are read from threads)
        for path in self.paths:
            refuse_special(path)
        self.available(1)  # a missing or broken first line fails now

    def available(self, wanted: int) -> int:
        """How many docs there are, counting no further than ``wanted`` (reads only what that takes)."""
        with self._scan_lock:
            scan = self._scan
            while len(self._offset) < wanted and scan.file < len(self.paths):
                path = self.paths[scan.file]
                if scan.handle is None:
                    scan.handle, scan.offset, scan.lineno = _open_binary(path), 0, 0
                scan.lineno += 1
                line = _read_line(scan.handle, path, scan.lineno, self.max_line_bytes)
                if not line:  # this file is done: on to the next
                    scan.handle.close()
                    scan.handle, scan.file = None, scan.file + 1
                    continue
                if line.strip():
                    # Every line passed is checked now, so a broken file fails before the run, not halfway.
                    self._columns.update(dict.fromkeys(_parse(line, path, scan.lineno)))
                    self._file_of.append(scan.file)
                    self._offset.append(scan.offset)
                    self._lineno.append(scan.lineno)
                scan.offset += len(line)
            return min(wanted, len(self._offset))

    def __len__(self) -> int:
        return self.available(sys.maxsize)

    @overload
    def __getitem__(self, key: int) -> Doc: ...
    @overload
    def __getitem__(self, key: slice) -> DocList: ...
    @overload
    def __getitem__(self, key: str) -> list[Any]: ...

    def __getitem__(self, key: int | slice | str) -> Doc | DocList | list[Any]:
        if isinstance(key, str):
            return self.materialize()[key]
        if isinstance(key, slice):
            return DocList(self._read(i) for i in range(len(self))[key])
        if key < 0:  # from the end: every doc must be counted
            key += len(self)
        if key < 0 or self.available(key + 1) <= key:  # from the start: read no further than this doc
            raise IndexError(f"doc {key} out of range ({len(self)} docs)")
        return self._read(key)

    def __iter__(self) -> Iterator[Doc]:
        for i in range(len(self)):
            yield self._read(i)

    def _read(self, i: int) -> Doc:
        index = self._file_of[i]
        handles: dict[int, Any] | None = getattr(self._local, "handles", None)
        if handles is None:  # this thread's first read: its own handles (a file position is per handle)
            handles = self._local.handles = {}
        handle = handles.get(index)
        if handle is None:
            handle = handles[index] = _open_binary(self.paths[index])
        handle.seek(self._offset[i])
        return _parse(_read_line(handle, self.paths[index], self._lineno[i], self.max_line_bytes), self.paths[index],
                      self._lineno[i])

    @property
    def column_names(self) -> list[str]:
        """Every key seen in any doc, in first-seen order (collected when the files were checked)."""
        len(self)
        return list(self._columns)

    @property
    def num_rows(self) -> int:
        return len(self)

    def materialize(self) -> DocList:
        """Every doc, in memory (for ``process_docs`` calls that need them all)."""
        return DocList(self)

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name in _DOCLIST_METHODS:
            return getattr(self.materialize(), name)  # type: ignore[no-any-return]
        raise AttributeError(name)


class DocSelection(Sequence[tuple[int, Doc]]):
    """``(dataset index, doc)`` pairs for the chosen indices; a doc is read (and copied) when it is taken,
    so a run holds only the docs in flight."""

    def __init__(self, dataset: Any, order: Sequence[int]) -> None:
        self._dataset = dataset
        self._order = order if isinstance(order, range) else array("q", order)
        # A JSON-lines doc is parsed afresh at each read: already a copy of its own, not the dataset's.
        self._fresh = isinstance(dataset, JsonlDocs)

    def __len__(self) -> int:
        return len(self._order)

    @overload
    def __getitem__(self, key: int) -> tuple[int, Doc]: ...
    @overload
    def __getitem__(self, key: slice) -> list[tuple[int, Doc]]: ...

    def __getitem__(self, key: int | slice) -> tuple[int, Doc] | list[tuple[int, Doc]]:
        if isinstance(key, slice):
            return [self._pair(i) for i in self._order[key]]
        return self._pair(self._order[key])

    def __iter__(self) -> Iterator[tuple[int, Doc]]:
        for i in self._order:
            yield self._pair(i)

    def _pair(self, index: int) -> tuple[int, Doc]:
        doc = self._dataset[index]
        return index, (doc if self._fresh else dict(doc))

    def __eq__(self, other: object) -> bool:  # compares like the list it stands for
        if isinstance(other, (list, tuple, DocSelection)):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"DocSelection({len(self)} docs)"
