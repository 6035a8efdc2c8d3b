"""What is installed, read where :mod:`importlib.metadata` reads it, without importing it.

``importlib.metadata`` costs ~5 ms to import (with email, zipfile, csv and importlib.abc) and ~1–6 ms a
query, on every run: once at start-up for the plugin entry points (nearly always: none) and once at the
finish for the library versions the results record. The plain cases are read here, the way
``importlib.metadata`` reads them: the folders on ``sys.path`` in order, their ``*.dist-info`` /
``*.egg-info`` folders matched by normalized name, the first match winning. Anything read otherwise — a
zip archive on the path, another distribution finder, an ``.egg-info`` package, an unreadable or unusual
file — gives :data:`UNDECIDED`, and the caller asks ``importlib.metadata`` itself, as before.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator, Sequence
from enum import Enum
from importlib.machinery import PathFinder
from typing import Final, Literal, TextIO


class _Undecided(Enum):
    UNDECIDED = "ask importlib.metadata"


#: "Ask importlib.metadata": this module does not read that case as it does.
UNDECIDED: Final = _Undecided.UNDECIDED

_METADATA_SUFFIXES = (".dist-info", ".egg-info")
#: A metadata file's ``Version:`` line (what importlib.metadata.version gives, without the e-mail parser).
VERSION_LINE = re.compile(r"^Version:[ \t]*(\S+)[ \t]*$", re.MULTILINE)


class _Unusual(Exception):
    """Something importlib.metadata reads in a way of its own."""


def may_declare_group(prefix: str, path: Sequence[str] | None = None) -> bool:
    """False only when no distribution ``importlib.metadata`` would find on ``path`` (``sys.path`` by
    default) has an ``entry_points.txt`` section whose name starts with ``prefix`` (e.g. ``"assay."``)."""
    header = re.compile(r"^[ \t]*\[[ \t]*" + re.escape(prefix), re.MULTILINE)
    try:
        for folder, name in _metadata_folders(path):
            try:
                with open(os.path.join(folder, name, "entry_points.txt"), encoding="utf-8") as file:
                    text = file.read()
            except (FileNotFoundError, NotADirectoryError):
                continue  # no entry points (an .egg-info may be a single file): importlib.metadata finds none either
            except (OSError, ValueError):
                return True  # unreadable or not UTF-8: importlib.metadata decides how that ends
            if header.search(text) is not None:
                return True
    except _Unusual:
        return True
    return False


Version = str | Literal[_Undecided.UNDECIDED] | None


def installed_version(dist: str, path: Sequence[str] | None = None) -> Version:
    """The ``Version:`` line of the metadata ``importlib.metadata.distribution(dist)`` would read (None: no
    such distribution), or :data:`UNDECIDED`."""
    return installed_versions([dist], path)[dist]


def installed_versions(dists: Sequence[str], path: Sequence[str] | None = None) -> dict[str, Version]:
    """:func:`installed_version` of each of ``dists``, from one look at the folders on ``path``."""
    try:
        first: dict[str, tuple[str, str]] = {}  # normalized name -> where importlib.metadata finds it first
        for folder, name in _metadata_folders(path):
            first.setdefault(_normalize(name.lower().rpartition(".")[0].partition("-")[0]), (folder, name))
    except _Unusual:
        return dict.fromkeys(dists, UNDECIDED)
    return {dist: _version_in(first.get(_normalize(dist))) for dist in dists}


def _version_in(found: tuple[str, str] | None) -> Version:
    if found is None:
        return None
    folder, name = found
    if not name.lower().endswith(".dist-info"):
        return UNDECIDED  # an .egg-info keeps its version in PKG-INFO, read by the e-mail parser
    try:
        with open(os.path.join(folder, name, "METADATA"), encoding="utf-8") as file:
            line = _first_version_line(file)
    except (OSError, ValueError):
        return UNDECIDED
    return line.group(1) if line else UNDECIDED


def _first_version_line(file: TextIO) -> re.Match[str] | None:
    """The first ``Version:`` line of the whole text, usually found in the headers without reading the long
    description after them (100 KB and more for some packages)."""
    start = file.read(8192)
    headers_end = start.find("\n\n")
    if headers_end >= 0:  # a match there is the text's first: a match never spans lines
        found = VERSION_LINE.search(start[:headers_end + 1])
        if found is not None:
            return found
    return VERSION_LINE.search(start + file.read())


def _normalize(name: str) -> str:
    """importlib.metadata's name matching (PEP 503, dashes as underscores)."""
    return re.sub(r"[-_.]+", "-", name).lower().replace("-", "_")


def _metadata_folders(path: Sequence[str] | None) -> Iterator[tuple[str, str]]:
    """``(folder, name)`` of every metadata folder on ``path``, in importlib.metadata's order; _Unusual where
    it would find distributions this does not see."""
    if any(finder is not PathFinder and hasattr(finder, "find_distributions") for finder in sys.meta_path):
        raise _Unusual  # a finder of its own may add distributions
    for entry in sys.path if path is None else path:
        folder = entry or "."
        if folder.lower().endswith(".egg"):
            raise _Unusual  # an egg on the path keeps its metadata in EGG-INFO
        try:
            names = os.listdir(folder)
        except OSError:
            if os.path.exists(folder):
                raise _Unusual from None  # a zip archive on the path (importlib.metadata reads those too)
            continue
        for name in names:
            if name.lower().endswith(_METADATA_SUFFIXES):
                yield folder, name
