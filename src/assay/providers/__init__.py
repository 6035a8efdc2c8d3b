"""Provider registry: names -> lazily imported provider classes, and what each one needs.

Nothing here imports a provider module or an SDK; ``load_provider_class`` does, when a run needs it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from assay.errors import UsageError

if TYPE_CHECKING:
    from assay.providers.base import Provider
    from assay.settings import Settings

    #: A provider class: built from the run's settings and its own --model_args.
    ProviderFactory = Callable[[Settings, dict[str, Any]], Provider]


@dataclass(frozen=True)
class ProviderSpec:
    """A provider's registry entry.

    ``credentials`` are Settings fields the provider needs (all of them); when ``keyless_with_base_url``
    is true, a custom ``base_url`` (a local vLLM/SGLang server) makes them optional.
    ``key_arg`` is the ``--model_args`` key that may carry the credential instead.
    """

    name: str
    target: str
    credentials: tuple[str, ...] = ()
    keyless_with_base_url: bool = False
    key_arg: str = "api_key"
    description: str = ""


_OPENAI = "assay.providers.openai:OpenAIProvider"
PROVIDERS: dict[str, ProviderSpec] = {
    spec.name: spec
    for spec in (
        ProviderSpec("openai", _OPENAI, ("openai_api_key",), True, description="OpenAI chat completions"),
        ProviderSpec("openai_compatible", _OPENAI, ("openai_api_key",), True,
                     description="any OpenAI-compatible server (vLLM, SGLang, llama.cpp)"),
        ProviderSpec("openai_compatible_chat", _OPENAI, ("openai_api_key",), True,
                     description="alias of openai_compatible"),
        ProviderSpec("local", "assay.providers.local:LocalProvider",
                     description="embedded llama.cpp model (SmolLM2-135M by default), no credentials"),
    )
}

# Vendors whose providers are not built yet still declare their credentials, so `assay doctor`
# and preflight can explain a plan that names them.
PLANNED_CREDENTIALS: dict[str, tuple[str, ...]] = {
    "azure_openai": ("azure_api_key", "azure_endpoint"),
    "gemini": ("google_api_key",),
    "gemini_api": ("google_api_key",),
    "claude": ("anthropic_api_key",),
    "anthropic": ("anthropic_api_key",),
    "xai": ("xai_api_key",),
    "grok": ("xai_api_key",),
    "reka": ("reka_api_key",),
}


def get_spec(name: str) -> ProviderSpec:
    try:
        return PROVIDERS[name]
    except KeyError:
        import difflib

        close = difflib.get_close_matches(name, list(PROVIDERS), n=1)
        suggestion = f"did you mean `{close[0]}`? " if close else ""
        raise UsageError(
            f"unknown model `{name}`",
            hint=f"{suggestion}available models: {', '.join(sorted(PROVIDERS))}",
        ) from None


def load_provider_class(name: str) -> ProviderFactory:
    spec = get_spec(name)
    module_name, _, attr = spec.target.partition(":")
    factory: ProviderFactory = getattr(importlib.import_module(module_name), attr)
    return factory
