"""Data files that are not files: a FIFO blocks the reader forever, ``/dev/zero`` never ends, a directory
is not data. Each is refused by what it is, before it is opened (not reported as "not found")."""

from __future__ import annotations

import stat
from pathlib import Path

from assay.errors import DatasetError

_KINDS = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a folder"))


def special_kind(path: Path) -> str | None:
    """What ``path`` is when it exists and is not a regular file (links followed); None otherwise."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    for test, kind in _KINDS:
        if test(mode):
            return kind
    return None


def refuse_special(path: Path) -> None:
    kind = special_kind(path)
    if kind is not None:
        raise DatasetError(f"data file {path} is {kind}, not a regular file",
                           hint="point dataset_path / data_files at a regular file")
