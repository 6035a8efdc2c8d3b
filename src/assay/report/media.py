"""Thumbnails (and audio clips) carried inside the report, so it keeps every picture when moved.

Each distinct file is embedded once, as a ``data:`` URI, in a table the samples point into by key.
The budget is :data:`MEDIA_BUDGET` bytes of files per report file (per run file in a report folder):
thumbnails are small JPEGs (384 px, ~10-30 KB), so that is a few thousand distinct images. Past the
budget a sample says how many of its pictures were left out, never shows a broken image.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

MEDIA_BUDGET = 48 * 1024 * 1024
_MIME = {
    ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".webp": "image/webp", ".gif": "image/gif",
    # audio clips saved beside the thumbnails (a record's media entry of kind "audio")
    ".wav": "audio/wav", ".mp3": "audio/mpeg", ".ogg": "audio/ogg", ".oga": "audio/ogg", ".flac": "audio/flac",
    ".m4a": "audio/mp4", ".opus": "audio/ogg",
}


class MediaTable:
    """The media one report file embeds: ``table`` maps a key to its data URI."""

    def __init__(self, budget: int = MEDIA_BUDGET) -> None:
        self.budget = budget
        self.used = 0
        self.table: dict[str, str] = {}
        self.over: set[Path] = set()  # files left out: the budget was spent
        self._keys: dict[Path, str | None] = {}

    def add(self, path: Path) -> str | None:
        """The key of ``path`` in the table (embedded on first use), or None if it is missing, of an
        unknown type, or over the budget."""
        if path in self._keys:  # most samples of a run share a few images: no resolving them again
            return self._keys[path]
        resolved = path.resolve()
        key = self._keys[resolved] if resolved in self._keys else self._embed(resolved)
        self._keys[path] = self._keys[resolved] = key
        return key

    def _embed(self, path: Path) -> str | None:
        mime = _MIME.get(path.suffix.lower())
        try:
            size = path.stat().st_size if mime and path.is_file() else -1
        except OSError:
            size = -1
        if size < 0:
            return None
        if self.used + size > self.budget:
            self.over.add(path)
            return None
        try:
            data = path.read_bytes()
        except OSError:
            return None
        self.used += len(data)
        key = f"m{len(self.table)}"
        self.table[key] = f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
        return key

    def refs(self, entries: Any, folder: Path) -> tuple[list[list[Any]], int]:
        """A record's ``media`` as ``[[key, kind, frame], …]`` and how many were left out (over budget)."""
        out: list[list[Any]] = []
        missing = 0
        for entry in entries if isinstance(entries, list) else []:
            if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
                continue
            path = folder / entry["path"]
            key = self.add(path)
            if key is not None:
                out.append([key, str(entry.get("kind", "image")), entry.get("frame")])
            elif path in self.over or path.resolve() in self.over:
                missing += 1
        return out, missing
