"""Logging: one stderr handler on the root logger, every record passed through the redactor first.

Redaction happens twice, on purpose. The log-record factory redacts every record as it is created, so
*any* handler (a library's, pytest's caplog) only ever sees masked text; and the redacting filter on our
handler catches what is added later (exception text formatted at emit time). A filter on a *logger*
would not do: it does not see records propagated from child loggers.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assay.env.redaction import Redactor

#: Libraries that log every request at INFO; kept at WARNING unless the run is at DEBUG.
NOISY_LOGGERS = ("httpx", "httpx2", "httpcore", "urllib3", "aiohttp.access", "datasets", "filelock", "huggingface_hub",
                 "openai")
PLAIN_FORMAT = "%(levelname)s %(name)s: %(message)s"
_MARK = "_assay_handler"
_BASE_FACTORY = logging.getLogRecordFactory()


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at emit time (so a replaced stderr is honoured)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def configure_logging(verbosity: str, redactor: Redactor) -> None:
    """Install assay's single stderr handler (replacing one installed before) at ``verbosity``."""
    level = logging.getLevelName(verbosity.upper())
    if not isinstance(level, int):
        level = logging.INFO
    handler = _make_handler(level)
    handler.addFilter(redactor.filter())
    setattr(handler, _MARK, True)

    root = logging.getLogger()
    reset_logging()
    _install_record_factory(redactor)
    root.addHandler(handler)
    root.setLevel(level)
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET if level <= logging.DEBUG else logging.WARNING)
    logging.captureWarnings(True)


def drop_library_handlers(*names: str) -> None:
    """Remove the stderr handlers libraries install on their own loggers (huggingface_hub, datasets): their
    records still reach assay's one handler, so each warning is printed once, redacted, not twice."""
    for name in names:
        logger = logging.getLogger(name)
        for handler in list(logger.handlers):
            if type(handler) is logging.StreamHandler and not getattr(handler, _MARK, False):
                logger.removeHandler(handler)
        logger.propagate = True


def _install_record_factory(redactor: Redactor, base: Callable[..., logging.LogRecord] = _BASE_FACTORY) -> None:
    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = base(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a malformed %-format: leave it for logging's own error report
            return record
        record.msg, record.args = redactor.redact(message), None
        return record

    logging.setLogRecordFactory(factory)


@contextlib.contextmanager
def redacted_records(redactor: Redactor) -> Iterator[None]:
    """For library use (``assay.evaluate``): the application owns logging, so no handler is added, but
    every record created meanwhile is redacted before any handler of the application sees it."""
    previous = logging.getLogRecordFactory()
    _install_record_factory(redactor, base=previous)
    try:
        yield
    finally:
        logging.setLogRecordFactory(previous)


def reset_logging() -> None:
    """Remove the handler and record factory :func:`configure_logging` installed."""
    logging.setLogRecordFactory(_BASE_FACTORY)
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, _MARK, False):
            root.removeHandler(existing)
            existing.close()


def _make_handler(level: int) -> logging.Handler:
    handler: logging.Handler
    if getattr(sys.stderr, "isatty", lambda: False)():
        from rich.console import Console
        from rich.logging import RichHandler

        # markup off: log text is data, and a "[/]" in it must not be read as a style.
        handler = RichHandler(
            console=Console(stderr=True), show_time=False, show_path=False, markup=False, rich_tracebacks=False
        )
        handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    else:
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter(PLAIN_FORMAT))
    handler.setLevel(level)
    return handler
