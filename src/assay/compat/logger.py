"""A loguru-style logger over the standard ``logging`` module, for ``lmms_eval.utils.eval_logger``.

Task helpers call ``eval_logger.info("… {}", x)`` (loguru's ``str.format`` style); records go to the
``lmms_eval`` logger, so they pass through assay's handlers and redaction like every other record.
"""

from __future__ import annotations

import logging
from typing import Any

_log = logging.getLogger("lmms_eval")


class EvalLogger:
    """The loguru methods task code uses: ``trace`` … ``critical``, ``exception``, ``opt``, ``bind``."""

    def _emit(self, level: int, message: Any, args: tuple[Any, ...], kwargs: dict[str, Any],
              exc_info: bool = False) -> None:
        if not _log.isEnabledFor(level):
            return
        text = str(message)
        if args or kwargs:
            try:
                text = text.format(*args, **kwargs)
            except (IndexError, KeyError, ValueError):
                text = " ".join([text, *map(str, args)])
        _log.log(level, "%s", text, exc_info=exc_info, stacklevel=3)

    def trace(self, message: Any, *args: Any, **kwargs: Any) -> None:
        self._emit(5, message, args, kwargs)

    def debug(self, message: Any, *args: Any, **kwargs: Any) -> None:
        self._emit(logging.DEBUG, message, args, kwargs)

    def info(self, message: Any, *args: Any, **kwargs: Any) -> None:
        self._emit(logging.INFO, message, args, kwargs)

    def success(self, message: Any, *args: Any, **kwargs: Any) -> None:
        self._emit(logging.INFO, message, args, kwargs)

    def warning(self, message: Any, *args: Any, **kwargs: Any) -> None:
        self._emit(logging.WARNING, message, args, kwargs)

    def error(self, message: Any, *args: Any, **kwargs: Any) -> None:
        self._emit(logging.ERROR, message, args, kwargs)

    def critical(self, message: Any, *args: Any, **kwargs: Any) -> None:
        self._emit(logging.CRITICAL, message, args, kwargs)

    def exception(self, message: Any, *args: Any, **kwargs: Any) -> None:
        self._emit(logging.ERROR, message, args, kwargs, exc_info=True)

    def log(self, level: int | str, message: Any, *args: Any, **kwargs: Any) -> None:
        number = logging.getLevelName(level.upper()) if isinstance(level, str) else level
        self._emit(number if isinstance(number, int) else logging.INFO, message, args, kwargs)

    def opt(self, *args: Any, **kwargs: Any) -> EvalLogger:
        return self

    def bind(self, **kwargs: Any) -> EvalLogger:
        return self

    def add(self, *args: Any, **kwargs: Any) -> int:
        return 0  # sinks are assay's business

    def remove(self, *args: Any, **kwargs: Any) -> None:
        return None


eval_logger = EvalLogger()
