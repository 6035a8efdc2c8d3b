"""`assay cache [info | clear [--model NAME] | path]`: inspect or empty the response cache.

Inspecting never creates anything: a missing cache file is reported as an empty cache.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Protocol

from assay.errors import UsageError

if TYPE_CHECKING:
    from pathlib import Path

    from rich.console import Console

    from assay.env.settings import Settings


class _Redactor(Protocol):
    def redact(self, text: str) -> str: ...


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", nargs="?", default="info", choices=["info", "clear", "path"],
                        help="`info` (the default): path, entries, size and per-model counts; `clear`: delete "
                        "cached responses; `path`: print the cache file's path")
    parser.add_argument("--model", default=None, metavar="NAME",
                        help="with `clear`: delete only this model's responses (as in --model_args model=NAME)")


def run(args: argparse.Namespace, settings: Settings, redactor: _Redactor) -> int:
    from assay.model.cache import default_cache_path

    path = default_cache_path(settings, create=False)
    if args.model is not None and args.action != "clear":
        raise UsageError("--model only applies to `assay cache clear`", hint="e.g. assay cache clear --model gpt-4o")
    if args.action == "path":
        print(redactor.redact(str(path)))
        return 0
    if args.action == "clear":
        return _clear(path, args.model, redactor)
    return _info(path, settings, redactor)


def _console() -> Console:
    from rich.console import Console

    probe = Console(file=sys.stdout)
    return Console(file=sys.stdout, width=max(120, probe.width), highlight=False)


def _size(n: int) -> str:
    size = float(n)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{n} bytes" if unit == "bytes" else f"{size:.1f} {unit} ({n} bytes)"
        size /= 1024
    return f"{n} bytes"  # pragma: no cover


def _info(path: Path, settings: Settings, redactor: _Redactor) -> int:
    from rich.table import Table

    from assay.model.cache import ResponseCache

    console = _console()
    source = settings.source_of("use_cache")
    enabled = "on" if settings.use_cache else "off (enable with --use_cache or LMMS_EVAL_USE_CACHE=1)"
    console.print(f"response cache: {redactor.redact(str(path))}", markup=False, soft_wrap=True)
    console.print(f"enabled: {enabled} [{source}]", markup=False)
    if not path.exists():
        console.print("entries: 0 (empty: no cache file yet)", markup=False)
        return 0
    with ResponseCache(path) as cache:
        stats = cache.stats()
    console.print(f"entries: {stats['entries']}", markup=False)
    console.print(f"size: {_size(stats['size_bytes'])}", markup=False)
    if stats["models"]:
        table = Table(title="cached responses per model")
        table.add_column("model")
        table.add_column("entries", justify="right")
        for model, count in stats["models"].items():
            table.add_row(redactor.redact(model) or "(none)", str(count))
        console.print(table)
    return 0


def _clear(path: Path, model: str | None, redactor: _Redactor) -> int:
    from assay.model.cache import CacheUnreadableError, ResponseCache, remove_cache_file

    shown = redactor.redact(str(path))
    if not path.exists() and not path.is_symlink():
        print(f"removed 0 cached responses: there is no cache file at {shown}")
        return 0
    try:
        cache = ResponseCache(path)
    except CacheUnreadableError as exc:
        # What `assay run` told the user to repair: repaired here, whatever stands at the path.
        if model is not None:
            raise UsageError(f"{exc.message}; cannot clear one model from it",
                             hint="`assay cache clear` (without --model) clears the whole cache") from None
        print(redactor.redact(remove_cache_file(path, "unreadable cache file")))
        return 0
    with cache:
        removed = cache.clear(model)
    scope = f" for model {redactor.redact(model)}" if model is not None else ""
    noun = "response" if removed == 1 else "responses"
    print(f"removed {removed} cached {noun}{scope} from {shown}")
    return 0
