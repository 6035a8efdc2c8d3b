"""Provider registry: names -> lazily imported provider classes, and what each one needs.

Nothing here imports a provider module or an SDK; ``load_provider_class`` does, when a run needs it.
Plugin providers (entry points, ``LMMS_EVAL_PLUGINS``) are found by :mod:`assay.env.plugins` only when a
name is not built in (or a built-in name is explicitly open to replacement), so a run of a built-in
provider never scans installed packages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from assay.env.registry import Registry, did_you_mean, load_target
from assay.errors import ConfigError, UsageError

if TYPE_CHECKING:
    from assay.env.settings import Settings
    from assay.providers.base import Provider

    #: A provider class: built from the run's settings and its own --model_args.
    ProviderFactory = Callable[[Settings, dict[str, Any]], Provider]

ALL_MEDIA = ("text", "image", "video")
#: Providers whose API also takes audio in the prompt.
WITH_AUDIO = (*ALL_MEDIA, "audio")


@dataclass(frozen=True)
class ProviderSpec:
    """A provider's registry entry.

    ``credentials`` are Settings fields the provider needs (all of them); when ``keyless_with_base_url``
    is true, a custom ``base_url`` (a local vLLM/SGLang server) makes them optional. ``arg_keys`` say
    which ``--model_args`` key may carry each credential instead (``api_key`` for the secret ones).
    ``default_base_url``/``base_url_setting``/``probe_path``/``auth_header`` tell ``doctor --probe``
    where one cheap authenticated GET goes (``{base_url}{probe_path}``) and how the key is sent
    (``auth_header`` ``Authorization`` means ``Bearer <key>``). ``origin`` is ``builtin`` or the plugin.
    """

    name: str
    target: str
    credentials: tuple[str, ...] = ()
    keyless_with_base_url: bool = False
    key_arg: str = "api_key"
    description: str = ""
    aliases: tuple[str, ...] = ()
    modalities: tuple[str, ...] = ALL_MEDIA
    arg_keys: tuple[tuple[str, str], ...] = ()
    default_base_url: str = ""
    base_url_setting: str | None = None
    probe_path: str = ""
    auth_header: str = "Authorization"
    probe_headers: tuple[tuple[str, str], ...] = ()
    origin: str = "builtin"

    def arg_for(self, field: str) -> str | None:
        """The --model_args key that may carry settings field ``field``."""
        for f, key in self.arg_keys:
            if f == field:
                return key
        return None




def _openai_like(name: str, target: str, description: str, aliases: tuple[str, ...] = ()) -> ProviderSpec:
    return ProviderSpec(name, target, ("openai_api_key",), True, description=description, aliases=aliases,
                        arg_keys=(("openai_api_key", "api_key"),), default_base_url="https://api.openai.com/v1",
                        base_url_setting="openai_base_url", probe_path="/models", modalities=WITH_AUDIO)


BUILTIN: tuple[ProviderSpec, ...] = (
    _openai_like("openai", "assay.providers.openai:OpenAIProvider", "OpenAI chat completions"),
    _openai_like("openai_compatible", "assay.providers.openai:OpenAICompatibleProvider",
                 "any OpenAI-compatible server (vLLM, SGLang, llama.cpp); loglikelihood via /completions",
                 aliases=("openai_compatible_chat",)),
    ProviderSpec("azure_openai", "assay.providers.azure_openai:AzureOpenAIProvider",
                 ("azure_api_key", "azure_endpoint"), description="Azure OpenAI deployment (chat completions)",
                 aliases=("azure",), modalities=WITH_AUDIO,
                 arg_keys=(("azure_api_key", "api_key"), ("azure_endpoint", "endpoint")),
                 auth_header="api-key"),
    ProviderSpec("anthropic", "assay.providers.anthropic:AnthropicProvider", ("anthropic_api_key",),
                 description="Anthropic Messages API (Claude)", aliases=("claude",),
                 arg_keys=(("anthropic_api_key", "api_key"),), default_base_url="https://api.anthropic.com",
                 base_url_setting="anthropic_base_url", probe_path="/v1/models", auth_header="x-api-key",
                 probe_headers=(("anthropic-version", "2023-06-01"),)),
    ProviderSpec("gemini", "assay.providers.gemini:GeminiProvider", ("google_api_key",),
                 description="Google Gemini API (generateContent)", aliases=("gemini_api",), modalities=WITH_AUDIO,
                 arg_keys=(("google_api_key", "api_key"),),
                 default_base_url="https://generativelanguage.googleapis.com", base_url_setting="gemini_base_url",
                 probe_path="/v1beta/models", auth_header="x-goog-api-key"),
    ProviderSpec("xai", "assay.providers.xai:XAIProvider", ("xai_api_key",),
                 description="xAI Grok (OpenAI-compatible protocol)", aliases=("grok",),
                 arg_keys=(("xai_api_key", "api_key"),), default_base_url="https://api.x.ai/v1", probe_path="/models"),
    ProviderSpec("reka", "assay.providers.reka:RekaProvider", ("reka_api_key",), description="Reka chat API",
                 arg_keys=(("reka_api_key", "api_key"),), default_base_url="https://api.reka.ai/v1",
                 probe_path="/models", auth_header="X-Api-Key"),
    ProviderSpec("local", "assay.providers.local:LocalProvider", modalities=("text",),
                 description="embedded llama.cpp model (SmolLM2-135M by default), no credentials"),
)
#: Built-in providers by name and alias.
PROVIDERS: Registry[ProviderSpec] = Registry("provider")
for _spec in BUILTIN:
    PROVIDERS.add(_spec.name, _spec, aliases=_spec.aliases)


def plugin_specs(settings: Settings | None = None) -> dict[str, ProviderSpec]:
    """Providers from installed plugins (a plugin may not take a built-in name unless overridden)."""
    from assay.env.plugins import plugin_providers

    found = plugin_providers(settings, builtin=PROVIDERS)
    return {name: ProviderSpec(name, target, description=f"from {origin}", origin=origin)
            for name, (target, origin) in found.items()}


def _plugin_spec(name: str, settings: Settings | None) -> ProviderSpec | None:
    return plugin_specs(settings).get(name)


def find_spec(name: str, settings: Settings | None = None) -> ProviderSpec | None:
    """The provider called ``name``: built in, or from a plugin (None: no such provider).

    A plugin provider replaces a built-in only where ``ASSAY_PLUGIN_OVERRIDES`` allows that name."""
    overrides = settings.plugin_overrides if settings is not None else ()
    if name in PROVIDERS and (name in overrides or "*" in overrides):
        plugin = _plugin_spec(name, settings)
        if plugin is not None:
            return plugin
    if name in PROVIDERS:
        return PROVIDERS[name]
    return _plugin_spec(name, settings)


def get_spec(name: str, settings: Settings | None = None) -> ProviderSpec:
    spec = find_spec(name, settings)
    if spec is not None:
        return spec
    known = sorted({*PROVIDERS, *plugin_specs(settings)})
    suggestion = did_you_mean(name, known, n=1, quote=lambda close: f"`{close}`")
    raise UsageError(
        f"unknown model `{name}`",
        hint=f"{suggestion}available models: {', '.join(known)} (see `assay models`)",
    )


def load_provider_class(name: str, settings: Settings | None = None) -> ProviderFactory:
    return _load(get_spec(name, settings), name)


def with_declared_credentials(spec: ProviderSpec) -> ProviderSpec:
    """A plugin's spec completed from its class: its modalities (``accepts_media``) and the ``credentials`` it
    declares, checked by preflight and doctor like a built-in's (the key may also come as ``api_key=``).

    A credential is an assay settings field (``"openai_api_key"``) or, for a vendor assay does not know, the
    environment variable of its key (``"ACME_API_KEY"``): read from the environment or `.env`
    (``Settings.variable``), checked by preflight, shown by doctor and kept out of every output like any key.
    Built-ins are returned as they are; a plugin that cannot be loaded raises ConfigError naming it."""
    if spec.origin == "builtin":
        return spec
    import re
    from dataclasses import replace

    from assay.env.settings import SPEC_BY_FIELD

    cls = _load(spec, spec.name)
    declared = getattr(cls, "credentials", ())
    fields = tuple(f for f in declared if isinstance(f, str)) if isinstance(declared, (tuple, list)) else ()
    unknown = [f for f in fields if f not in SPEC_BY_FIELD and not re.fullmatch(r"[A-Z][A-Z0-9_]*", f)]
    if unknown:
        raise ConfigError(f"provider `{spec.name}` from {spec.origin} declares unknown credentials: "
                          f"{', '.join(unknown)}", hint="a plugin's `credentials` names assay settings fields "
                          "(\"openai_api_key\") or its own key variables in capitals (\"ACME_API_KEY\")")
    keys = tuple((f, spec.key_arg) for f in fields if f not in SPEC_BY_FIELD or SPEC_BY_FIELD[f].secret)
    modalities = ALL_MEDIA if getattr(cls, "accepts_media", True) else ("text",)
    if getattr(cls, "accepts_audio", False):
        modalities = (*modalities, "audio")
    return replace(spec, credentials=fields, arg_keys=keys, modalities=modalities)


def key_variables(spec: ProviderSpec) -> tuple[str, ...]:
    """The credentials of a (completed) spec that are variables no assay setting declares: a plugin vendor's."""
    from assay.env.settings import SPEC_BY_FIELD

    return tuple(f for f in spec.credentials if f not in SPEC_BY_FIELD)


def capabilities(name: str, settings: Settings | None = None) -> frozenset[str]:
    """What model ``name`` can take (its declared modalities) and do (``loglikelihood``), without building it."""
    spec = with_declared_credentials(get_spec(name, settings))
    found = set(spec.modalities)
    if getattr(_load(spec, name), "supports_loglikelihood", False):
        found.add("loglikelihood")
    return frozenset(found)


def _load(spec: ProviderSpec, name: str) -> ProviderFactory:
    try:
        factory: ProviderFactory = load_target(spec.target)
    except Exception as exc:  # a plugin's import error must name the plugin, not crash
        if spec.origin == "builtin":
            raise
        raise ConfigError(
            f"provider `{name}` from {spec.origin} cannot be loaded: {type(exc).__name__}: {exc}",
            hint=f"fix or reinstall that package, or remove it ({spec.target})",
        ) from None
    return factory
