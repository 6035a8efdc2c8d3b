"""Google Gemini (``generateContent``): ``POST {base_url}/{api_version}/models/{model}:generateContent``.

``base_url`` is what the google-genai SDK means by it: the API root (default
``https://generativelanguage.googleapis.com``; ``GOOGLE_GEMINI_BASE_URL`` too), with ``api_version``
(default ``v1beta``) appended. The key goes in the ``x-goog-api-key`` header, never the URL. Images are
sent inline; a video as its sampled frames (inline too: a request stays under Gemini's 20 MB inline
limit at the frame counts lmms-eval tasks use, and the Files API's upload round trips buy nothing then).

A prompt or answer blocked for safety (``promptFeedback.blockReason``, ``finishReason: SAFETY`` and the
like) is a refusal (kind ``content_policy``), never an empty answer to retry.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

from assay.errors import FailureKind, ProviderError
from assay.providers._endpoint import parse_base_url, required_key
from assay.providers._http import JsonClient, as_int, http_error, malformed, parse_json, tagged
from assay.providers.gemini_batch import GeminiBatchWire
from assay.providers.openai_compat import pop_model
from assay.text import clip
from assay.types import AudioPart, ImagePart, Message, Request, Response, TextPart, Usage, VideoPart

if TYPE_CHECKING:
    from assay.env.settings import Settings

GEMINI_BASE_URL = "https://generativelanguage.googleapis.com"
DEFAULT_API_VERSION = "v1beta"
KEY_HINT = "set GOOGLE_API_KEY (or GEMINI_API_KEY) to a valid key from aistudio.google.com/apikey"
_BLOCKED = frozenset({"SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY",
                      "LANGUAGE"})
#: gen_kwargs → generationConfig names (besides max_tokens/temperature/top_p/stop/seed).
_EXTRA_PARAMS = {"top_k": "topK", "candidate_count": "candidateCount", "presence_penalty": "presencePenalty",
                 "frequency_penalty": "frequencyPenalty", "response_mime_type": "responseMimeType",
                 "thinking_config": "thinkingConfig"}
_DURATION = re.compile(r"^([\d.]+)s$")


def _details(error: dict[str, Any]) -> list[dict[str, Any]]:
    details = error.get("details")
    return [d for d in details if isinstance(d, dict)] if isinstance(details, list) else []


def error_kind(status: int, error: dict[str, Any]) -> tuple[FailureKind | None, float | None]:
    """Gemini's ``{"error": {"code", "message", "status", "details"}}`` → (kind, retry-after seconds)."""
    rpc_status = str(error.get("status") or "")
    message = str(error.get("message") or "").lower()
    details = _details(error)
    reasons = {str(d.get("reason")) for d in details if d.get("reason")}
    retry_after = None
    for detail in details:
        match = _DURATION.match(str(detail.get("retryDelay") or ""))
        if match:
            retry_after = float(match.group(1))
    if "API_KEY_INVALID" in reasons or rpc_status in ("UNAUTHENTICATED", "PERMISSION_DENIED"):
        return "auth", None  # Gemini answers 400, not 401, for a wrong key
    if status == 429 or rpc_status == "RESOURCE_EXHAUSTED":
        quota_ids = " ".join(str(v.get("quotaId", "")) for d in details for v in d.get("violations", []) or []
                             if isinstance(v, dict))
        if "PerDay" in quota_ids:  # a daily quota: waiting seconds will not help this run
            return "quota", None
        return "rate_limit", retry_after
    if rpc_status == "FAILED_PRECONDITION" and "billing" in message:
        return "quota", None
    if "token count" in message and "exceeds" in message:
        return "context_length", None
    if rpc_status in ("UNAVAILABLE",) or status == 503:
        return "overloaded", retry_after
    if rpc_status == "NOT_FOUND":
        return "not_found", None
    if rpc_status in ("INVALID_ARGUMENT", "FAILED_PRECONDITION", "OUT_OF_RANGE"):
        return "bad_request", None
    return None, retry_after


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _part(part: TextPart | ImagePart | AudioPart) -> dict[str, Any]:
    """Text, or inline media: images and audio (wav, mp3) go as the same ``inlineData`` blob."""
    if isinstance(part, TextPart):
        return {"text": part.text}
    return {"inlineData": {"mimeType": part.mime_type, "data": part.data_b64}}


def parts(message: Message) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for part in message.parts:
        if isinstance(part, VideoPart):
            out.extend(_part(frame) for frame in part.frames)
        elif not (isinstance(part, TextPart) and not part.text):
            out.append(_part(part))
    return out


class GeminiProvider:
    name: ClassVar[str] = "gemini"
    max_concurrency: ClassVar[int | None] = None
    accepts_media: ClassVar[bool] = True
    #: Batch mode (``models/{model}:batchGenerateContent``, inline requests).
    supports_batch: ClassVar[bool] = True
    accepts_audio: ClassVar[bool] = True

    def __init__(self, settings: Settings, model_args: dict[str, Any]) -> None:
        args = dict(model_args)
        self._model = pop_model(args, self.name, "model=gemini-2.5-flash").removeprefix("models/")
        given_url, given_key = args.pop("base_url", None), args.pop("api_key", None)
        self._base = parse_base_url(str(given_url or settings.gemini_base_url or GEMINI_BASE_URL),
                                    setting="--model_args base_url" if given_url else "GOOGLE_GEMINI_BASE_URL")
        self._base_url = self._base.base
        self._api_version = str(args.pop("api_version", DEFAULT_API_VERSION))
        api_key = required_key(given_key, settings, "google_api_key", "GOOGLE_API_KEY", hint=KEY_HINT)
        budget = args.pop("thinking_budget", None)  # lmms-eval's name for thinkingConfig.thinkingBudget
        if budget is not None:
            args["thinkingConfig"] = {**dict(args.get("thinkingConfig") or {}), "thinkingBudget": budget}
        self._config = args  # extra generationConfig entries (e.g. thinkingConfig from a config file)
        self._url = self._base.url(f"{self._api_version}/models/{quote(self._model, safe='-._')}:generateContent")
        self._http = JsonClient({"x-goog-api-key": api_key, **self._base.basic_auth()},
                                provider=self.name, where=self._base_url,
                                connect_hint="check base_url / GOOGLE_GEMINI_BASE_URL and your network")

    @property
    def model_name(self) -> str:
        return self._model

    def identity(self) -> dict[str, Any]:
        identity: dict[str, Any] = {"provider": self.name, "base_url": self._base.public_url, "model": self._model,
                                    "api_version": self._api_version}
        if self._config:
            identity["config"] = dict(sorted(self._config.items()))
        return identity

    def body(self, request: Request) -> dict[str, Any]:
        params = request.params
        config: dict[str, Any] = {}
        if params.max_tokens is not None:
            config["maxOutputTokens"] = params.max_tokens
        if params.temperature is not None:
            config["temperature"] = params.temperature
        if params.top_p is not None:
            config["topP"] = params.top_p
        if params.stop:
            config["stopSequences"] = list(params.stop)
        if params.seed is not None:
            config["seed"] = params.seed
        config.update({_EXTRA_PARAMS[k]: v for k, v in params.extra if k in _EXTRA_PARAMS})
        config.update(self._config)
        system = [{"text": m.text} for m in request.messages if m.role == "system" and m.text]
        body: dict[str, Any] = {
            "contents": [{"role": "model" if m.role == "assistant" else "user", "parts": parts(m)}
                         for m in request.messages if m.role != "system"],
        }
        if system:
            body["systemInstruction"] = {"parts": system}
        if config:
            body["generationConfig"] = config
        return body

    async def generate(self, request: Request) -> Response:
        status, headers, text = await self._http.post(self._url, self.body(request))
        if status >= 400:
            raise self.error(status, headers, text)
        with tagged(headers):
            return self.parse(text)

    def error(self, status: int, headers: Any, text: str) -> ProviderError:
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        error = data.get("error") if isinstance(data, dict) else None
        error = error if isinstance(error, dict) else {}
        message = clip(str(error.get("message") or text.strip() or "no error body"), 300)
        kind, retry_after = error_kind(status, error)
        return http_error(status, headers, message, kind=kind, provider=self.name, url=self._base_url,
                          key_hint=KEY_HINT, model=self._model, retry_after=retry_after)

    def batch_wire(self) -> GeminiBatchWire:
        return GeminiBatchWire(self, self._http, self._base.url(self._api_version), quote(self._model, safe="-._"))

    def _refused(self, why: str) -> ProviderError:
        return ProviderError(f"{self.name} blocked the {why}",
                             hint="Gemini's safety filters refused this; it is counted as refused, not retried",
                             kind="content_policy", provider=self.name)

    def parse(self, text: str) -> Response:
        data = parse_json(text, provider=self.name, where=self._base_url, what="Gemini response")
        if not isinstance(data, dict):
            raise malformed(text, provider=self.name, where=self._base_url, what="Gemini response")
        feedback = _dict(data.get("promptFeedback"))
        candidates = data.get("candidates")
        if not candidates:
            if feedback.get("blockReason"):
                raise self._refused(f"prompt (blockReason: {feedback['blockReason']})")
            raise malformed(text, provider=self.name, where=self._base_url, what="Gemini response")
        candidate = _dict(candidates[0]) if isinstance(candidates, list) else {}
        content = _dict(candidate.get("content"))
        answer = "".join(str(p.get("text") or "") for p in content.get("parts") or []
                         if isinstance(p, dict) and not p.get("thought"))
        finish = candidate.get("finishReason")
        if not answer.strip() and finish in _BLOCKED:
            raise self._refused(f"answer (finishReason: {finish})")
        usage = _dict(data.get("usageMetadata"))
        # Thinking tokens are billed as output.
        output = as_int(usage.get("candidatesTokenCount")) + as_int(usage.get("thoughtsTokenCount"))
        audio = sum(as_int(d.get("tokenCount")) for d in usage.get("promptTokensDetails") or []
                    if isinstance(d, dict) and d.get("modality") == "AUDIO")  # priced apart from text
        return Response(text=answer, usage=Usage(as_int(usage.get("promptTokenCount")), output, audio),
                        model=str(data.get("modelVersion") or self._model),
                        finish_reason=str(finish).lower() if finish else None)

    async def aclose(self) -> None:
        await self._http.aclose()
