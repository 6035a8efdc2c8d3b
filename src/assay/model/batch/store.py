"""Every submitted batch, on disk before it is polled: ``$LMMS_EVAL_HOME/batches.sqlite``.

A row per batch (vendor, the provider identity it was sent for, the vendor's id) and a row per request it
holds (its cache key, which is also its ``custom_id``, in submission order). A rerun that needs any of those
requests finds the batch here and polls it instead of submitting (and paying) again. A batch is *open*
until the run that used its answers ends; then it is marked consumed and never resumed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from assay.errors import ConfigError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS batches (
    id TEXT NOT NULL,
    vendor TEXT NOT NULL,
    identity TEXT NOT NULL,
    created_at TEXT NOT NULL,
    consumed INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (vendor, id)
);
CREATE TABLE IF NOT EXISTS batch_requests (
    vendor TEXT NOT NULL,
    batch_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    key TEXT NOT NULL,
    PRIMARY KEY (vendor, batch_id, position)
);
CREATE INDEX IF NOT EXISTS batch_requests_by_key ON batch_requests (key);
"""


@dataclass(frozen=True)
class OpenBatch:
    id: str
    keys: tuple[str, ...]  # in submission order


class BatchStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise ConfigError(f"cannot open the batch record {path}: {exc}",
                              hint="check LMMS_EVAL_HOME is a writable folder") from None

    def record(self, vendor: str, identity: str, batch_id: str, keys: Iterable[str]) -> None:
        """A batch just created: durable once this returns (one transaction)."""
        now = datetime.now(timezone.utc).isoformat()
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("INSERT OR IGNORE INTO batches (id, vendor, identity, created_at) VALUES (?, ?, ?, ?)",
                             (batch_id, vendor, identity, now))
            self._db.executemany("INSERT OR REPLACE INTO batch_requests VALUES (?, ?, ?, ?)",
                                 [(vendor, batch_id, i, key) for i, key in enumerate(keys)])

    def open_batches(self, vendor: str, identity: str, wanted: set[str]) -> list[OpenBatch]:
        """Batches not yet consumed, sent for this identity, holding any of ``wanted`` (oldest first)."""
        rows = self._db.execute("SELECT id FROM batches WHERE vendor = ? AND identity = ? AND consumed = 0 "
                                "ORDER BY created_at", (vendor, identity)).fetchall()
        found = []
        for (batch_id,) in rows:
            keys = tuple(k for (k,) in self._db.execute(
                "SELECT key FROM batch_requests WHERE vendor = ? AND batch_id = ? ORDER BY position",
                (vendor, batch_id)))
            if wanted.intersection(keys):
                found.append(OpenBatch(batch_id, keys))
        return found

    def consume(self, vendor: str, batch_ids: Iterable[str]) -> None:
        with self._db:
            self._db.executemany("UPDATE batches SET consumed = 1 WHERE vendor = ? AND id = ?",
                                 [(vendor, b) for b in batch_ids])

    def count(self, vendor: str | None = None) -> int:
        if vendor is None:
            return int(self._db.execute("SELECT COUNT(*) FROM batches").fetchone()[0])
        return int(self._db.execute("SELECT COUNT(*) FROM batches WHERE vendor = ?", (vendor,)).fetchone()[0])

    def close(self) -> None:
        self._db.close()
