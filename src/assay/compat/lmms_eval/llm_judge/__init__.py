"""``lmms_eval.llm_judge``: lmms-eval's judge client API (``ServerConfig``, ``Request``, ``get_server``…),
written for assay and backed by the run's judge — retries, concurrency, cache, cost and failure
accounting included. See :mod:`.base`."""

from __future__ import annotations

from .base import AsyncServerInterface, JudgeRequestError, ServerInterface
from .factory import ProviderFactory
from .protocol import Request, Response, ServerConfig
from .utils import JudgePromptBuilder, ResponseParser


def get_server(server_name: str | None = None, config: ServerConfig | None = None) -> ServerInterface:
    """A judge server (``server_name`` is lmms-eval's api_type; the run decides the backend)."""
    return ProviderFactory.create_provider(api_type=server_name, config=config)


__all__ = [
    "AsyncServerInterface",
    "JudgePromptBuilder",
    "JudgeRequestError",
    "ProviderFactory",
    "Request",
    "Response",
    "ResponseParser",
    "ServerConfig",
    "ServerInterface",
    "get_server",
]
