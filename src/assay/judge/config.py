"""The judge's configuration: ``--judge_model`` / ``--judge_args``, else lmms-eval's conventions.

Shaped like the model's: ``--judge_model PROVIDER`` is any name in the provider registry, and
``--judge_args`` splits into transport knobs (``num_concurrent``, ``timeout``, ``max_retries`` …, the
:class:`~assay.model.ModelConfig`), generation knobs (``temperature``, ``max_tokens``, ``top_p``) and
the provider's own arguments (``model``, ``base_url``, ``api_key`` …).

Without them, lmms-eval users' settings carry over: ``API_TYPE`` picks ``openai`` or ``azure_openai``;
the address is ``OPENAI_API_URL`` (a base URL, or a full ``…/chat/completions`` URL as lmms-eval's older
helpers use it), else ``OPENAI_BASE_URL``; the model is what the task asks for (``gpt_eval_model_name``
in its metadata, or the model lmms-eval's judge client is called with). Retries default to lmms-eval's:
5 retries, 10 s base delay (a server's Retry-After wins).

A second, named judge — ``viescore`` — reads ``VIESCORE_API_KEY`` / ``VIESCORE_API_BASE`` /
``VIESCORE_MODEL_NAME``, as lmms-eval's GEdit-Bench does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from assay.errors import ConfigError
from assay.model import ModelConfig
from assay.preflight.judging import OPENAI_FAMILY
from assay.types import GenerationParams

if TYPE_CHECKING:
    from assay.env.settings import Settings
    from assay.model.cost import Price

#: Judge transport defaults, as lmms-eval's ServerConfig has them: 5 retries, 10 s apart, 60 s timeout.
JUDGE_MODEL_CONFIG = ModelConfig(max_concurrency=32, max_attempts=6, timeout=60.0, backoff_initial=10.0,
                                 backoff_max=60.0)
DEFAULT_JUDGE_MODEL = "gpt-4o-mini"
DEFAULT_VIESCORE_MODEL = "gpt-4o"
DEFAULT_MAX_FAILURE_RATE = 0.05
#: Providers whose base URL may come from OPENAI_API_URL / OPENAI_BASE_URL.
_GENERATION_KEYS = ("temperature", "max_tokens", "max_new_tokens", "top_p", "seed")
#: The judge profiles tasks may name in their metadata (``judge: viescore``).
PROFILES = ("default", "viescore")


@dataclass(frozen=True)
class JudgeConfig:
    """One judge endpoint: a provider (registry name), its arguments, transport and generation knobs.

    ``model`` is the judge model the user chose (``--judge_args model=…``); when None, the model each task
    asks for is used (see :meth:`model_for`)."""

    provider: str
    provider_args: dict[str, Any] = field(default_factory=dict)
    transport: ModelConfig = JUDGE_MODEL_CONFIG
    params: GenerationParams = field(default_factory=lambda: GenerationParams(max_tokens=1024, temperature=0.0))
    model: str | None = None
    default_model: str = DEFAULT_JUDGE_MODEL
    profile: str = "default"
    #: USD per million tokens from ``--judge_args input_price=…,output_price=…`` (else the price table).
    price: Price | None = None
    #: Where the choices came from, for results and `assay doctor` ("--judge_model", "API_TYPE=azure" …).
    origin: str = ""

    def model_for(self, requested: str | None) -> str:
        """The judge model for one call: the user's choice, else what the task asked for, else the default."""
        return self.model or requested or self.default_model

    def describe(self) -> dict[str, Any]:
        """What results record about this judge (no secrets: keys are never part of it)."""
        shown = {k: v for k, v in self.provider_args.items() if k not in ("api_key", "key", "token")}
        return {"profile": self.profile, "provider": self.provider, "model": self.model,
                "price": self.price.as_dict() if self.price is not None else None,
                "default_model": self.default_model, "args": shown, "origin": self.origin,
                "max_attempts": self.transport.max_attempts, "timeout": self.transport.timeout,
                "num_concurrent": self.transport.max_concurrency, "params": self.params.as_dict()}


def normalise_api_url(url: str) -> str:
    """``OPENAI_API_URL`` as a base URL: lmms-eval uses it both as ``https://…/v1`` and as the full
    ``https://…/v1/chat/completions``; the second loses its endpoint path."""
    base = url.strip().rstrip("/")
    for tail in ("/chat/completions", "/completions"):
        if base.endswith(tail):
            return base[: -len(tail)]
    return base


def default_provider(settings: Settings) -> tuple[str, str]:
    """(provider, origin) from lmms-eval's ``API_TYPE``."""
    if settings.judge_api_type == "azure":
        return "azure_openai", "API_TYPE=azure"
    return "openai", "API_TYPE=openai" if settings.source_of("judge_api_type").kind != "default" else "default"


def resolve_judge_config(
    judge_model: str | None,
    judge_args: Mapping[str, Any] | None,
    settings: Settings,
    *,
    max_concurrency: int | None = None,
) -> JudgeConfig:
    """The default judge from the flags, falling back to lmms-eval's variables (see the module doc)."""
    from assay.model.cost import split_price_args

    try:
        price, args = split_price_args(dict(judge_args or {}))
    except ConfigError as exc:
        raise ConfigError(exc.message.replace("--model_args", "--judge_args"), hint=exc.hint) from None
    if judge_model:
        provider, origin = judge_model, "--judge_model"
    else:
        provider, origin = default_provider(settings)
    transport, generation, provider_args = split_judge_args(args)
    if max_concurrency is not None and "num_concurrent" not in args and "max_concurrency" not in args:
        transport = replace(transport, max_concurrency=max_concurrency)
    from assay.model.args import check_judge_args

    check_judge_args(provider, provider_args, settings)  # a typo is refused, not sent with every verdict
    model = provider_args.pop("model", None) or provider_args.pop("model_version", None)
    if provider in OPENAI_FAMILY and not provider_args.get("base_url"):
        url = settings.openai_api_url or settings.openai_base_url
        if url:
            provider_args["base_url"] = normalise_api_url(url)
    return JudgeConfig(provider=provider, provider_args=provider_args, transport=transport, params=generation,
                       model=str(model) if model else None, origin=origin, price=price)


def viescore_config(default: JudgeConfig, settings: Settings) -> JudgeConfig:
    """The VIEScore judge: an OpenAI-compatible server from ``VIESCORE_*``, with the default judge's
    transport and generation knobs."""
    args: dict[str, Any] = {}
    if settings.viescore_base_url:
        args["base_url"] = normalise_api_url(settings.viescore_base_url)
    key = settings.secret("viescore_api_key")
    if key:
        args["api_key"] = key
    return JudgeConfig(provider="openai_compatible", provider_args=args, transport=default.transport,
                       params=default.params, model=settings.viescore_model or None, price=default.price,
                       default_model=DEFAULT_VIESCORE_MODEL, profile="viescore",
                       origin="VIESCORE_API_KEY / VIESCORE_API_BASE / VIESCORE_MODEL_NAME")


def split_judge_args(args: Mapping[str, Any]) -> tuple[ModelConfig, GenerationParams, dict[str, Any]]:
    """(transport, generation, provider args) from ``--judge_args``, with the judge's defaults."""
    generation: dict[str, Any] = {}
    rest: dict[str, Any] = {}
    for key, value in args.items():
        (generation if key in _GENERATION_KEYS else rest)[key] = value
    transport_args = {k: v for k, v in rest.items() if k in _TRANSPORT_KEYS}
    provider_args = {k: v for k, v in rest.items() if k not in _TRANSPORT_KEYS}
    try:
        parsed, _ = ModelConfig.split_model_args(transport_args)
    except ConfigError as exc:
        raise ConfigError(exc.message.replace("--model_args", "--judge_args"),
                          hint=exc.hint.replace("--model_args", "--judge_args")) from None
    defaults = JUDGE_MODEL_CONFIG
    transport = replace(defaults, **{f: getattr(parsed, f) for f in _given_fields(transport_args)})
    max_tokens = generation.get("max_tokens", generation.get("max_new_tokens", 1024))
    try:
        params = GenerationParams(
            max_tokens=int(max_tokens),
            temperature=float(generation.get("temperature", 0.0)),
            top_p=None if generation.get("top_p") is None else float(generation["top_p"]),
            seed=None if generation.get("seed") is None else int(generation["seed"]),
        )
    except (TypeError, ValueError):
        raise ConfigError("--judge_args temperature, max_tokens, top_p and seed must be numbers",
                          hint="e.g. --judge_args model=gpt-4o-mini,temperature=0,max_tokens=256") from None
    return transport, params, provider_args


def _given_fields(transport_args: Mapping[str, Any]) -> list[str]:
    from assay.model.wrapper import WRAPPER_ARGS

    return list(dict.fromkeys(WRAPPER_ARGS[k] for k in transport_args))


def _transport_keys() -> frozenset[str]:
    from assay.model.wrapper import WRAPPER_ARGS

    return frozenset(WRAPPER_ARGS)


_TRANSPORT_KEYS = _transport_keys()


def parse_failure_rate(value: Any) -> float:
    """``--max_judge_failure_rate``: a fraction in [0, 1] (``5%`` also accepted)."""
    text = str(value).strip()
    try:
        rate = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        rate = -1.0
    if not 0.0 <= rate <= 1.0:
        from assay.errors import UsageError

        raise UsageError(f"--max_judge_failure_rate {text!r} is not a fraction between 0 and 1",
                         hint="e.g. --max_judge_failure_rate 0.05 (5% of judged samples may fail)")
    return rate


