"""The response cache: successful answers in SQLite, so a rerun or a resumed run never pays twice.

One table, keyed by :func:`cache_key` — the sha256 of canonical JSON of the provider's identity (vendor,
base URL, model), the messages (images and video frames by the sha256 of their base64 data) and the
generation parameters. Transport knobs (concurrency, timeout, retries, rpm) are not part of it, and no
secret is ever stored: credentials are dropped from the identity, secret-looking body arguments kept only
as a hash (:func:`assay.env.redaction.public_identity`), and answers redacted before they are written.
Errors and empty answers are never stored.

The database runs in WAL mode with ``synchronous=NORMAL`` and autocommit: each ``put`` is its own
transaction, durable against a crash or Ctrl-C of the process once it returns. Calls are plain
synchronous sqlite3 (sub-millisecond on a local disk, cheaper than a thread hop).
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assay.env.masking import public_identity
from assay.errors import ConfigError
from assay.types import (
    AudioPart,
    ImagePart,
    Loglikelihood,
    LoglikelihoodRequest,
    Message,
    Request,
    Response,
    TextPart,
    Usage,
    VideoPart,
)

if TYPE_CHECKING:
    from assay.env.settings import Settings

log = logging.getLogger("assay.model.cache")

#: Stored in ``PRAGMA user_version``; a file from a newer assay is refused rather than misread.
SCHEMA_VERSION = 1

_SCHEMA = """
BEGIN IMMEDIATE;
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    identity TEXT NOT NULL,
    model TEXT NOT NULL,
    response_model TEXT NOT NULL,
    text TEXT NOT NULL,
    input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    finish_reason TEXT,
    created_at TEXT NOT NULL,
    task TEXT NOT NULL,
    doc_id INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS responses_by_model ON responses (model);
PRAGMA user_version = 1;
COMMIT;
"""

#: finish_reason of rows holding a log-likelihood (multiple_choice scoring) instead of generated text
_LOGLIKELIHOOD = "loglikelihood"
_CLEAR_HINT = "run `assay cache clear` or delete the file (it only holds cached answers)"


class CacheUnreadableError(ConfigError):
    """The cache file is not an SQLite database, is corrupt, or belongs to something else."""


def default_cache_path(settings: Settings, *, create: bool = True) -> Path:
    """``$LMMS_EVAL_HOME/cache/responses.sqlite``; with ``create=False`` no folder is made (for inspecting)."""
    home = settings.ensure_home() if create else settings.home
    return home / "cache" / "responses.sqlite"


# -- the key -----------------------------------------------------------------------------------------


def _media(part: ImagePart) -> dict[str, str]:
    return {"type": "image", "mime_type": part.mime_type,
            "sha256": hashlib.sha256(part.data_b64.encode("utf-8")).hexdigest()}


def _message(message: Message) -> dict[str, Any]:
    parts: list[dict[str, Any]] = []
    for part in message.parts:
        if isinstance(part, TextPart):
            parts.append({"type": "text", "text": part.text})
        elif isinstance(part, ImagePart):
            parts.append(_media(part))
        elif isinstance(part, VideoPart):  # what is sent is the frames, not the source path
            parts.append({"type": "video", "frames": [_media(f) for f in part.frames]})
        elif isinstance(part, AudioPart):  # the hash of the encoded clip: what is sent, not where it came from
            parts.append({"type": "audio", "format": part.format, "sample_rate": part.sample_rate,
                          "sha256": part.sha256 or hashlib.sha256(part.data_b64.encode("utf-8")).hexdigest()})
        else:  # a new part type must get an explicit key form, never a repr
            raise TypeError(f"no cache key form for {type(part).__name__}")
    return {"role": message.role, "parts": parts}


#: Marks an answer stored as JSON because it is not valid Unicode (a lone surrogate): SQLite takes only
#: UTF-8, and an answer the cache refused would be paid for again on every rerun.
_ESCAPED = "\x00json:"


def _storable(text: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _ESCAPED + json.dumps(text)  # ASCII: the surrogate as its \\u escape, read back as it was
    return text


def _from_storage(text: str) -> str:
    if text.startswith(_ESCAPED):
        value = json.loads(text[len(_ESCAPED):])
        return value if isinstance(value, str) else text
    return text


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def cache_key(identity: Mapping[str, Any], request: Request) -> str:
    """sha256 of canonical JSON of {identity, messages, params}. TypeError/ValueError if not JSON-able."""
    payload: dict[str, Any] = {
        "identity": public_identity(identity),
        "messages": [_message(m) for m in request.messages],
        "params": request.params.as_dict(),
    }
    if request.repeat:  # a task's repeated samples are distinct answers; the first keeps the plain key
        payload["repeat"] = request.repeat
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


def loglikelihood_key(identity: Mapping[str, Any], request: LoglikelihoodRequest) -> str:
    """sha256 of canonical JSON of {identity, loglikelihood: {context, continuation}}: a key form no
    generation request can produce (those have ``messages`` and ``params``)."""
    payload = {
        "identity": public_identity(identity),
        "loglikelihood": {"context": [_message(m) for m in request.context], "continuation": request.continuation},
    }
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


# -- the store ---------------------------------------------------------------------------------------


def _unusable(path: Path, exc: sqlite3.Error) -> ConfigError:
    if isinstance(exc, sqlite3.OperationalError):  # permissions, a lock held too long, a full disk
        return ConfigError(f"cannot use the response cache {path}: {exc}",
                           hint="check the file's permissions and free space, or " + _CLEAR_HINT)
    return CacheUnreadableError(f"the response cache {path} is unreadable: {exc}", hint=_CLEAR_HINT)


def _connect(path: Path) -> sqlite3.Connection:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create the cache folder {path.parent}: {exc.strerror}",
                          hint="set LMMS_EVAL_HOME to a writable folder") from None
    if path.is_dir():
        raise CacheUnreadableError(f"the response cache {path} is a folder, not a file",
                                   hint="run `assay cache clear` (it moves the folder aside) or move it yourself")
    db: sqlite3.Connection | None = None
    try:
        db = sqlite3.connect(path, isolation_level=None, timeout=10.0)  # autocommit; waits out other writers
        version = int(db.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise CacheUnreadableError(
                f"the response cache {path} has schema {version}, newer than this assay knows ({SCHEMA_VERSION})",
                hint="upgrade assay, or " + _CLEAR_HINT)
        if version == 0 and db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
            raise CacheUnreadableError(f"{path} is an SQLite file but not an assay response cache",
                                       hint=_CLEAR_HINT)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        if version == 0:
            db.executescript(_SCHEMA)
        return db
    except sqlite3.Error as exc:
        if db is not None:
            db.close()
        raise _unusable(path, exc) from None
    except BaseException:
        if db is not None:
            db.close()
        raise


class ResponseCache:
    """The :class:`assay.model.ResponseStore` the Model wrapper consults before every request."""

    def __init__(self, path: Path, *, redact: Callable[[str], str] | None = None) -> None:
        self.path = Path(path)
        self._db: sqlite3.Connection | None = _connect(self.path)
        self._warned = False
        # Answers are redacted before they are stored: a server echoing a key must not put it in the file,
        # and a key rotated later must not be replayed from it into new samples.
        self._redact: Callable[[str], str] = redact or (lambda text: text)

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError("the response cache is closed")
        return self._db

    def _warn(self, what: str, exc: Exception) -> None:
        """A cache failure mid-run costs a cache entry, never an answer: warn once, then go on."""
        if not self._warned:
            self._warned = True
            log.warning("response cache %s failed (%s); continuing without it for such requests", what, exc)
        else:
            log.debug("response cache %s failed: %s", what, exc)

    def _key(self, make: Callable[[Any, Any], str], identity: dict[str, Any], request: Any, what: str) -> str | None:
        """The request's key, or None (warned once) when it cannot be made: not JSON-able."""
        try:
            return make(identity, request)
        except (TypeError, ValueError) as exc:
            self._warn(what, exc)
            return None

    async def get(self, identity: dict[str, Any], request: Request) -> Response | None:
        key = self._key(cache_key, identity, request, "lookup")
        return None if key is None else self.lookup(key)

    def lookup(self, key: str) -> Response | None:
        """The answer stored under ``key`` (:func:`cache_key`), if any: a cluster's workers compute the key
        themselves and ask the one store on the driver's node (:mod:`assay.cluster`)."""
        try:
            row = self.db.execute(
                "SELECT text, input_tokens, output_tokens, finish_reason, response_model FROM responses WHERE key = ?",
                (key,),
            ).fetchone()
        except sqlite3.Error as exc:
            self._warn("lookup", exc)
            return None
        if row is None:
            return None
        text, input_tokens, output_tokens, finish_reason, response_model = row
        return Response(text=_from_storage(text), usage=Usage(input_tokens, output_tokens), model=response_model,
                        finish_reason=finish_reason, attempts=0, cached=True)

    async def put(self, identity: dict[str, Any], request: Request, response: Response) -> None:
        key = self._key(cache_key, identity, request, "write")
        if key is not None:
            self.store(key, public_identity(identity), request.task, request.doc_id, response)

    def store(self, key: str, public: dict[str, Any], task: str, doc_id: int, response: Response) -> None:
        """Keep ``response`` under ``key``; ``public`` is the provider identity without secrets."""
        if response.cached or not response.text.strip():
            return  # an empty answer is a failure to retry next time, not an answer to replay
        finish = None if response.finish_reason is None else self._redact(response.finish_reason)
        self._insert(key, public, self._redact(response.model), _storable(self._redact(response.text)),
                     response.usage, finish, task, doc_id)

    def _insert(self, key: str, public: dict[str, Any], response_model: str, text: str, usage: Usage,
                finish_reason: str | None, task: str, doc_id: int) -> None:
        try:
            self.db.execute(
                "INSERT OR REPLACE INTO responses (key, identity, model, response_model, text, input_tokens,"
                " output_tokens, finish_reason, created_at, task, doc_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (key, canonical_json(public), str(public.get("model", "")), response_model, text, usage.input_tokens,
                 usage.output_tokens, finish_reason, datetime.now(timezone.utc).isoformat(timespec="seconds"), task,
                 doc_id),
            )
        except (TypeError, ValueError, sqlite3.Error) as exc:
            self._warn("write", exc)

    async def get_loglikelihood(self, identity: dict[str, Any], request: LoglikelihoodRequest) -> Loglikelihood | None:
        key = self._key(loglikelihood_key, identity, request, "lookup")
        return None if key is None else self.lookup_loglikelihood(key)

    def lookup_loglikelihood(self, key: str) -> Loglikelihood | None:
        """A stored log-likelihood (its row's text is ``{"logprob", "is_greedy"}``, finish_reason marks it)."""
        try:
            row = self.db.execute("SELECT text, input_tokens FROM responses WHERE key = ? AND finish_reason = ?",
                                  (key, _LOGLIKELIHOOD)).fetchone()
            if row is None:
                return None
            value = json.loads(row[0])
            return Loglikelihood(float(value["logprob"]), bool(value["is_greedy"]), Usage(row[1], 0), attempts=0,
                                 cached=True)
        except (TypeError, ValueError, KeyError, sqlite3.Error) as exc:
            self._warn("lookup", exc)
            return None

    async def put_loglikelihood(self, identity: dict[str, Any], request: LoglikelihoodRequest,
                                result: Loglikelihood) -> None:
        key = self._key(loglikelihood_key, identity, request, "write")
        if key is not None:
            self.store_loglikelihood(key, public_identity(identity), request.task, request.doc_id, result)

    def store_loglikelihood(self, key: str, public: dict[str, Any], task: str, doc_id: int,
                            result: Loglikelihood) -> None:
        if not result.cached:
            self._insert(key, public, "", canonical_json({"logprob": result.logprob, "is_greedy": result.is_greedy}),
                         Usage(result.usage.input_tokens, 0), _LOGLIKELIHOOD, task, doc_id)

    def stats(self) -> dict[str, Any]:
        """``{"path", "entries", "size_bytes", "models": {model: entries}}``."""
        try:
            models = {str(m): int(n) for m, n in self.db.execute(
                "SELECT model, count(*) FROM responses GROUP BY model ORDER BY count(*) DESC, model")}
        except sqlite3.Error as exc:
            raise _unusable(self.path, exc) from None
        size = sum(p.stat().st_size for p in (self.path, Path(f"{self.path}-wal")) if p.exists())
        return {"path": str(self.path), "entries": sum(models.values()), "size_bytes": size, "models": models}

    def clear(self, model: str | None = None) -> int:
        """Delete every entry (or one model's); returns how many were removed."""
        try:
            if model is None:
                removed = self.db.execute("DELETE FROM responses").rowcount
            else:
                removed = self.db.execute("DELETE FROM responses WHERE model = ?", (model,)).rowcount
        except sqlite3.Error as exc:
            raise _unusable(self.path, exc) from None
        if removed:
            try:  # give the space back; another process using the file may make this wait or fail
                self.db.execute("VACUUM")
                self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.OperationalError as exc:
                log.debug("cache VACUUM skipped: %s", exc)
        return int(removed)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def __enter__(self) -> ResponseCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def remove_cache_file(path: Path, what: str = "cache file") -> str:
    """Make way for a fresh cache at ``path``, and say what was done: the file and its WAL/shared-memory
    companions deleted; a folder in its place removed if empty, else moved aside (assay never deletes
    files it did not write). A ConfigError if even that is impossible."""
    try:
        if path.is_dir() and not path.is_symlink():
            if not any(path.iterdir()):
                path.rmdir()
                return f"removed the empty folder {path} that stood where the cache file goes"
            aside = path.with_name(f"{path.name}.folder-{datetime.now().strftime('%Y%m%d_%H%M%S')}")
            path.rename(aside)
            return f"moved the folder {path} (not a cache file) aside to {aside}"
        existed = path.exists() or path.is_symlink()
        for candidate in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            if candidate.is_dir() and not candidate.is_symlink():
                candidate.rename(candidate.with_name(f"{candidate.name}.folder-{datetime.now():%Y%m%d_%H%M%S}"))
            else:
                candidate.unlink(missing_ok=True)
        return f"removed the {what} {path}" if existed else f"there is no cache file at {path}"
    except OSError as exc:
        raise ConfigError(f"cannot clear the response cache at {path}: {exc.strerror or exc}",
                          hint=f"check the permissions of {path.parent}, or remove {path} yourself") from None
