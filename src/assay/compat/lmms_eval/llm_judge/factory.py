"""``lmms_eval.llm_judge.factory``: ``ProviderFactory.create_provider(api_type, config)``.

Every ``api_type`` lmms-eval knows (``openai``, ``azure``, ``async_openai``, ``async_azure``, ``bedrock``,
``local``, ``dummy``) gives a server backed by the run's judge: which backend answers is decided once for
the run (``--judge_model``, else ``API_TYPE``) and checked by preflight, not per helper module.
"""

from __future__ import annotations

from .base import AsyncServerInterface, ServerInterface
from .protocol import ServerConfig


class ProviderFactory:
    _provider_classes: dict[str, type[ServerInterface]] = {
        name: ServerInterface for name in ("openai", "azure", "bedrock", "local", "dummy")
    } | {"async_openai": AsyncServerInterface, "async_azure": AsyncServerInterface}

    @classmethod
    def register_additional_providers(cls) -> None:
        """Nothing to register: every api_type is served by assay's judge."""

    @classmethod
    def create_provider(cls, api_type: str | None = None, config: ServerConfig | None = None) -> ServerInterface:
        server_class = cls._provider_classes.get(str(api_type or "openai").lower(), ServerInterface)
        return server_class(config=config)

    @classmethod
    def register_provider(cls, api_type: str, judge_class: type) -> None:
        if not issubclass(judge_class, ServerInterface):
            raise ValueError(f"{judge_class} must be a subclass of ServerInterface")
        cls._provider_classes[api_type] = judge_class
