"""Live credential checks (``assay doctor --probe``): one cheap authenticated call per credential.

Keys travel only in headers, never in a URL; a response body is never echoed (some services quote
the key they refused). Probes run concurrently, each bounded by ``timeout``.
"""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit, urlunsplit

from assay.env.credentials import CREDENTIALS, env_name
from assay.preflight.plan import MODEL_ARGS, Plan
from assay.preflight.requirements import requirements

if TYPE_CHECKING:
    import aiohttp

    from assay.env.settings import Settings

ProbeStatus = Literal["ok", "refused", "unreachable", "error"]

#: Fixed API addresses of services whose address is not a setting (tests may point them elsewhere).
SERVICE_URLS: dict[str, str] = {
    "openai": "https://api.openai.com/v1",
    "anthropic": "https://api.anthropic.com/v1",
    "google": "https://generativelanguage.googleapis.com/v1beta",
    "xai": "https://api.x.ai/v1",
    "reka": "https://api.reka.ai/v1",
}
DEFAULT_AZURE_API_VERSION = "2024-10-21"
_WANDB_QUERY = "{ viewer { username } }"
# Settings fields that can be probed without a plan, in display order.
PROBED_FIELDS = (
    "openai_api_key", "azure_api_key", "hf_token", "wandb_api_key",
    "anthropic_api_key", "google_api_key", "xai_api_key", "reka_api_key",
)


@dataclass(frozen=True)
class ProbeTarget:
    """One call to make. ``headers`` carry the secret, so they are left out of ``repr``."""

    credential: str  # what is being checked: "OPENAI_API_KEY" or "--model_args api_key"
    service: str
    method: str
    url: str
    fix: str
    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    json_body: Mapping[str, Any] | None = field(default=None, repr=False, hash=False, compare=False)


@dataclass(frozen=True)
class ProbeResult:
    credential: str
    service: str
    url: str
    status: ProbeStatus
    http_status: int | None
    message: str

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def as_dict(self) -> dict[str, Any]:
        return {
            "credential": self.credential,
            "service": self.service,
            "url": self.url,
            "status": self.status,
            "http_status": self.http_status,
            "message": self.message,
        }


# -- what to probe --------------------------------------------------------------------------------


def probe_targets(plan: Plan | None, settings: Settings) -> list[ProbeTarget]:
    """The calls to make: for each satisfied credential of ``plan``, or — without a plan — for every
    credential that is set."""
    found: list[ProbeTarget] = []
    if plan is None:
        for f in PROBED_FIELDS:
            secret = settings.secret(f)
            if secret:
                target = _target(f, env_name(f), secret, settings, None, None)
                if target is not None:
                    found.append(target)
    else:
        for status in requirements(plan, settings):
            if not status.satisfied:
                continue
            for f, source in status.satisfied_by:
                if f not in PROBED_FIELDS:
                    continue
                from_args = source.startswith(f"{MODEL_ARGS} ")
                label = source if from_args else env_name(f)
                secret = str(plan.model_args[source.split(" ", 1)[1]]) if from_args else settings.secret(f)
                model_base = plan.model_args.get("base_url") if status.requirement.kind == "model" else None
                model_endpoint = plan.model_args.get("endpoint") if status.requirement.kind == "model" else None
                if secret:
                    target = _target(f, label, secret, settings, model_base, model_endpoint)
                    if target is not None:
                        found.append(target)
    return list(dict.fromkeys(found))


def credential_target(f: str, label: str, secret: str, settings: Settings) -> ProbeTarget | None:
    """The probe call for one credential value (the settings field ``f``), named ``label`` in messages."""
    return _target(f, label, secret, settings, None, None)


def _target(
    f: str, label: str, secret: str, settings: Settings, base_url: Any, endpoint: Any
) -> ProbeTarget | None:
    info = CREDENTIALS.get(f)
    fix = info.get_it if info else f"check {label}"
    bearer: tuple[tuple[str, str], ...] = (("Authorization", f"Bearer {secret}"),)
    if f == "openai_api_key":
        base = str(base_url or settings.openai_base_url or SERVICE_URLS["openai"]).rstrip("/")
        if urlsplit(base).hostname != urlsplit(SERVICE_URLS["openai"]).hostname:
            fix = f"check which key the server at {_display(base)} expects"
        return ProbeTarget(label, "OpenAI", "GET", f"{base}/models", fix, bearer)
    if f == "azure_api_key":
        azure = str(endpoint or settings.azure_endpoint or "").rstrip("/")
        if not azure:
            return None
        version = settings.azure_api_version or DEFAULT_AZURE_API_VERSION
        url = f"{azure}/openai/models?api-version={version}"
        return ProbeTarget(label, "Azure OpenAI", "GET", url, fix, (("api-key", secret),))
    if f == "hf_token":
        url = f"{settings.hf_endpoint.rstrip('/')}/api/whoami-v2"
        return ProbeTarget(label, "Hugging Face", "GET", url, fix, bearer)
    if f == "wandb_api_key":
        basic = base64.b64encode(f"api:{secret}".encode()).decode()
        url = f"{settings.wandb_base_url.rstrip('/')}/graphql"
        headers: tuple[tuple[str, str], ...] = (("Authorization", f"Basic {basic}"),)
        return ProbeTarget(label, "Weights & Biases", "POST", url, fix, headers, {"query": _WANDB_QUERY})
    return _vendor_target(f, label, secret, settings, base_url, fix)
    return None


#: The provider whose probe checks each vendor key, and its key in SERVICE_URLS.
_VENDOR_KEYS = {"anthropic_api_key": ("anthropic", "anthropic"), "google_api_key": ("gemini", "google"),
                "xai_api_key": ("xai", "xai"), "reka_api_key": ("reka", "reka")}


def _vendor_target(f: str, label: str, secret: str, settings: Settings, base_url: Any, fix: str) -> ProbeTarget | None:
    """The probe of a vendor key: ``GET {base_url}{probe_path}`` as the provider's registry entry says, at
    the model's own ``base_url`` (or the vendor's base-URL setting) when one is given, else SERVICE_URLS."""
    from assay.providers import PROVIDERS

    if f not in _VENDOR_KEYS:
        return None
    provider, service_key = _VENDOR_KEYS[f]
    spec = PROVIDERS[provider]
    custom = base_url or (getattr(settings, spec.base_url_setting, None) if spec.base_url_setting else None)
    url = f"{str(custom).rstrip('/')}{spec.probe_path}" if custom else f"{SERVICE_URLS[service_key]}/models"
    value = f"Bearer {secret}" if spec.auth_header == "Authorization" else secret
    info = CREDENTIALS.get(f)
    service = info.service if info else provider
    return ProbeTarget(label, service, "GET", url, fix, ((spec.auth_header, value), *spec.probe_headers))


# -- probing --------------------------------------------------------------------------------------


async def probe(plan: Plan | None, settings: Settings, *, timeout: float = 10) -> list[ProbeResult]:
    """Check each credential of ``plan`` (every set credential when ``plan`` is None) with one call."""
    targets = probe_targets(plan, settings)
    if not targets:
        return []
    return await probe_all(targets, timeout=timeout)


async def probe_all(targets: list[ProbeTarget], *, timeout: float = 10) -> list[ProbeResult]:
    import aiohttp

    client_timeout = aiohttp.ClientTimeout(total=timeout)
    async with aiohttp.ClientSession(timeout=client_timeout) as session:
        return list(await asyncio.gather(*(_probe_one(session, t, timeout) for t in targets)))


async def _probe_one(session: aiohttp.ClientSession, target: ProbeTarget, timeout: float) -> ProbeResult:
    import aiohttp

    shown = _display(target.url)

    def result(status: ProbeStatus, http_status: int | None, message: str) -> ProbeResult:
        return ProbeResult(target.credential, target.service, shown, status, http_status, message)

    try:
        # The key under test goes in a header; user:password in the URL would clash with it.
        async with session.request(
            target.method, shown, headers=dict(target.headers), json=target.json_body, allow_redirects=False
        ) as response:
            code = response.status
            payload: Any = None
            # Gemini answers a wrong key with 400 API_KEY_INVALID (the body is read, never echoed).
            key_invalid = code == 400 and "API_KEY_INVALID" in await response.text()
            if 200 <= code < 300:
                try:
                    payload = await response.json(content_type=None)
                except (ValueError, aiohttp.ClientError):
                    payload = None
    except asyncio.TimeoutError:
        return result("unreachable", None, f"no answer from {shown} within {timeout:g}s")
    except aiohttp.InvalidURL:
        return result("error", None, f"{shown} is not a valid URL (checking {target.credential})")
    except aiohttp.ClientError as exc:
        reason = _reason(exc)
        return result("unreachable", None, f"could not reach {shown}: {reason}")

    refused = f"{target.credential} was refused ({code}) by {shown}; {_fix_sentence(target.fix)}"
    if code in (401, 403) or key_invalid:
        return result("refused", code, refused)
    if 200 <= code < 300:
        if target.service == "Weights & Biases" and not _wandb_user(payload):
            return result("refused", code, refused)
        who = _who(target.service, payload)
        return result("ok", code, f"{target.credential} accepted by {shown}{who}")
    return result("error", code, f"{shown} answered {code} when checking {target.credential}")


def _wandb_user(payload: Any) -> str | None:
    data = payload.get("data") if isinstance(payload, dict) else None
    viewer = data.get("viewer") if isinstance(data, dict) else None
    name = viewer.get("username") if isinstance(viewer, dict) else None
    return str(name) if name else None


def _who(service: str, payload: Any) -> str:
    if service == "Weights & Biases":
        name = _wandb_user(payload)
    elif service == "Hugging Face" and isinstance(payload, dict):
        name = payload.get("name")
    else:
        name = None
    return f" (as {name})" if isinstance(name, str) and name else ""


def _fix_sentence(fix: str) -> str:
    # "get a key at …" reads as "create a new key at …" after a refusal.
    return fix.replace("get a key at", "create a new key at", 1)


def _reason(exc: BaseException) -> str:
    import aiohttp

    if isinstance(exc, aiohttp.ClientConnectorError):
        inner = exc.os_error
        if isinstance(inner.errno, int) and inner.errno > 0:
            return os.strerror(inner.errno).lower()
        return inner.strerror or "connection failed"
    return type(exc).__name__


def _display(url: str) -> str:
    """The URL without any user:password part."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    netloc = parts.hostname or ""
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
