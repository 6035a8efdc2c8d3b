"""Whether any installed package could declare one of assay's entry point groups, answered without
:mod:`importlib.metadata`.

``importlib.metadata.entry_points()`` costs ~10 ms of every run's start-up (~4 ms to import it with
email, zipfile and csv; ~6 ms to parse every package's metadata), to find, nearly always, that no
package declares ``[assay.…]``. This looks where ``importlib.metadata`` looks, in the plain cases only —
the folders on ``sys.path``, their ``*.dist-info`` / ``*.egg-info`` folders' ``entry_points.txt`` — for a
section header that could be such a group. Anything it does not read the same way (a zip or egg on the
path, another distribution finder, an unreadable file) answers "maybe": the caller then asks
``importlib.metadata`` itself, so the answer "no" is never wrong.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Sequence
from importlib.machinery import PathFinder

_METADATA_SUFFIXES = (".dist-info", ".egg-info")


def may_declare_group(prefix: str, path: Sequence[str] | None = None) -> bool:
    """False only when no distribution ``importlib.metadata`` would find on ``path`` (``sys.path`` by
    default) has an ``entry_points.txt`` section whose name starts with ``prefix`` (e.g. ``"assay."``)."""
    if any(finder is not PathFinder and hasattr(finder, "find_distributions") for finder in sys.meta_path):
        return True  # a finder of its own may add distributions this scan does not see
    header = re.compile(r"^[ \t]*\[[ \t]*" + re.escape(prefix), re.MULTILINE)
    for entry in sys.path if path is None else path:
        folder = entry or "."
        try:
            names = os.listdir(folder)
        except OSError:
            if os.path.exists(folder):
                return True  # a zip archive on the path (importlib.metadata reads those too)
            continue
        for name in names:
            if _declares(folder, name, header):
                return True
    return False


def _declares(folder: str, name: str, header: re.Pattern[str]) -> bool:
    lowered = name.lower()
    if lowered.endswith(".egg"):
        return True  # an egg keeps its metadata in EGG-INFO, possibly zipped: not read here
    if not lowered.endswith(_METADATA_SUFFIXES):
        return False
    try:
        with open(os.path.join(folder, name, "entry_points.txt"), encoding="utf-8") as file:
            text = file.read()
    except (FileNotFoundError, NotADirectoryError):
        return False  # no entry points (an .egg-info may be a single file): importlib.metadata finds none either
    except (OSError, ValueError):
        return True  # unreadable or not UTF-8: importlib.metadata decides how that ends
    return header.search(text) is not None
