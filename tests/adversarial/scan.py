"""Secret scanning for the adversarial tests: every form a secret can take once written, everywhere."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote, quote_plus


def forms(secret: str) -> set[str]:
    """The secret raw, JSON-escaped (UTF-8 and ASCII-only), URL-encoded (both ways) and repr-escaped."""
    out = {secret, quote(secret, safe=""), quote_plus(secret, safe=""), repr(secret)[1:-1]}
    for ascii_only in (False, True):
        out.add(json.dumps(secret, ensure_ascii=ascii_only)[1:-1])
    return out


def leaks(secrets: Iterable[str], texts: Iterable[str] = (), folders: Iterable[Path] = (),
          skip: Iterable[str] = (".env",)) -> list[str]:
    """Where any form of any secret occurs: ``["stderr: …", "path/to/file: …"]`` (empty: nothing leaked).
    Files are read as bytes (SQLite caches and their WAL included)."""
    found: list[str] = []
    wanted = [(s, f) for s in secrets for f in forms(s)]
    for i, text in enumerate(texts):
        found += [f"text #{i}: {f!r} (of {s[:6]}…)" for s, f in wanted if f in text]
    for folder in folders:
        for path in sorted(p for p in Path(folder).rglob("*") if p.is_file() and p.name not in set(skip)):
            data = path.read_bytes()
            found += [f"{path}: {f!r} (of {s[:6]}…)" for s, f in wanted if f.encode("utf-8", "surrogatepass") in data]
    return found
