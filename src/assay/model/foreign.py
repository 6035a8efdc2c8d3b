"""A provider is foreign code when it comes from a plugin: whatever its constructor or ``generate()``
raises — ``SystemExit``, a bare ``BaseException``, a ``CancelledError`` nobody asked for — ends as a
:class:`~assay.errors.ProviderError` naming the plugin (a failed run, or a failed sample), never as an
exit 0, a raw traceback or a run marked ``interrupted`` although no signal came.

``KeyboardInterrupt`` is left alone (a real Ctrl-C), and so is a ``CancelledError`` while the task is
really being cancelled (``Task.cancelling()``): those are how a run is stopped.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from assay.errors import AssayError, ProviderError

if TYPE_CHECKING:
    from assay.env.settings import Settings
    from assay.providers import ProviderFactory
    from assay.providers.base import Provider


def origin(provider: Any) -> str:
    """``provider `echo` (plugin assay_test_plugin.provider.EchoProvider)`` or ``provider `openai```."""
    cls = provider if isinstance(provider, type) else type(provider)
    name = getattr(cls, "name", None) or cls.__name__
    where = f"{cls.__module__}.{cls.__qualname__}"
    return f"provider `{name}`" if where.startswith("assay.") else f"provider `{name}` (plugin {where})"


def is_plugin(provider: Any) -> bool:
    cls = provider if isinstance(provider, type) else type(provider)
    return not cls.__module__.startswith("assay.")


def build_provider(factory: ProviderFactory, settings: Settings, args: dict[str, Any]) -> Provider:
    """``factory(settings, args)``; a constructor that raises anything but our own errors is named."""
    try:
        return factory(settings, args)
    except (AssayError, KeyboardInterrupt):
        raise
    except BaseException as exc:
        if isinstance(exc, asyncio.CancelledError) and _really_cancelled():
            raise
        raise ProviderError(f"{origin(factory)} failed while being built: {_what(exc)}",
                            hint=_hint(factory), kind="client", retryable=False) from None


def foreign_failure(provider: Any, exc: BaseException) -> BaseException:
    """What an attempt that raised ``exc`` ends as: ``exc`` itself when it is ours or a real stop, else a
    non-retryable ProviderError naming the provider."""
    if isinstance(exc, (ProviderError, KeyboardInterrupt)):
        return exc
    if isinstance(exc, asyncio.CancelledError) and _really_cancelled():
        return exc
    return ProviderError(f"{origin(provider)} failed on the client side: {_what(exc)}", hint=_hint(provider),
                         kind="client", provider=getattr(provider, "name", None), retryable=False)


def _really_cancelled() -> bool:
    try:
        task = asyncio.current_task()
    except RuntimeError:  # no running loop: nobody is cancelling us
        return False
    return task is not None and task.cancelling() > 0


def _what(exc: BaseException) -> str:
    if isinstance(exc, SystemExit):
        return f"it called sys.exit({exc.code!r})"
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _hint(provider: Any) -> str:
    if is_plugin(provider):
        return "the error is in the plugin's code; rerun with --verbosity DEBUG and report it to the plugin's authors"
    return "this is a bug in assay's provider; rerun with --verbosity DEBUG and please report it"
