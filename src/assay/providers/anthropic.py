"""Anthropic Messages API (``claude``): ``POST {base_url}/v1/messages`` with ``x-api-key``.

``base_url`` is what the anthropic SDK means by it: the API root (default ``https://api.anthropic.com``,
``ANTHROPIC_BASE_URL`` too). Images go as base64 ``image`` blocks; a video as its sampled frames.
``max_tokens`` is required by the API, so a task that sets none gets :data:`DEFAULT_MAX_TOKENS`.

Hand-written over aiohttp rather than the anthropic SDK: bench/throughput.py measures both against the
same loopback emulation (the SDK, on httpx, stays below the 1,000 dispatches/s this project needs).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from assay.errors import FailureKind, ProviderError
from assay.providers._endpoint import parse_base_url, required_key
from assay.providers._http import JsonClient, as_int, error_message, http_error, malformed, parse_json, tagged
from assay.providers.anthropic_batch import AnthropicBatchWire
from assay.providers.openai_compat import pop_model
from assay.types import ImagePart, Message, Request, Response, TextPart, Usage, VideoPart

if TYPE_CHECKING:
    from assay.env.settings import Settings

ANTHROPIC_BASE_URL = "https://api.anthropic.com"
API_VERSION = "2023-06-01"
DEFAULT_MAX_TOKENS = 1024
KEY_HINT = "set ANTHROPIC_API_KEY (in .env or the environment) to a valid key from console.anthropic.com"
#: gen_kwargs the Messages API accepts besides max_tokens/temperature/top_p/stop (others are HF-only).
_EXTRA_PARAMS = frozenset({"top_k", "metadata", "thinking", "service_tier"})


def error_kind(status: int, error_type: str | None, message: str) -> FailureKind | None:
    """Anthropic's error body → assay's failure kind (None: decided by the status)."""
    lowered = message.lower()
    if error_type == "overloaded_error" or status == 529:
        return "overloaded"
    if error_type in ("authentication_error", "permission_error"):
        return "auth"
    if error_type == "rate_limit_error":
        return "rate_limit"
    if error_type == "not_found_error":
        return "not_found"
    if status == 413 or error_type == "request_too_large":
        return "context_length"
    if error_type == "invalid_request_error":
        if "credit balance" in lowered or "billing" in lowered:
            return "quota"
        if "prompt is too long" in lowered or "context window" in lowered or "too many tokens" in lowered:
            return "context_length"
        if "content filtering policy" in lowered or "usage policy" in lowered:
            return "content_policy"
        return "bad_request"
    if error_type == "api_error":
        return "server"
    return None


def _block(part: TextPart | ImagePart) -> dict[str, Any]:
    if isinstance(part, TextPart):
        return {"type": "text", "text": part.text}
    return {"type": "image", "source": {"type": "base64", "media_type": part.mime_type, "data": part.data_b64}}


def content(message: Message) -> str | list[dict[str, Any]]:
    if not message.has_media():
        return message.text
    blocks: list[dict[str, Any]] = []
    for part in message.parts:
        if isinstance(part, VideoPart):
            blocks.extend(_block(frame) for frame in part.frames)
        elif isinstance(part, TextPart) and not part.text:
            continue  # the API rejects empty text blocks
        elif isinstance(part, (TextPart, ImagePart)):
            blocks.append(_block(part))
        else:  # audio: the Messages API has no audio block (a run refuses audio tasks before sending)
            raise ProviderError("Anthropic's Messages API takes no audio", kind="unsupported", provider="anthropic",
                                retryable=False)
    return blocks


class AnthropicProvider:
    name: ClassVar[str] = "anthropic"
    max_concurrency: ClassVar[int | None] = None
    accepts_media: ClassVar[bool] = True
    #: Message Batches (``/v1/messages/batches``).
    supports_batch: ClassVar[bool] = True

    def __init__(self, settings: Settings, model_args: dict[str, Any]) -> None:
        args = dict(model_args)
        self._model = pop_model(args, self.name, "model=claude-sonnet-4-5")
        given_url, given_key = args.pop("base_url", None), args.pop("api_key", None)
        self._base = parse_base_url(str(given_url or settings.anthropic_base_url or ANTHROPIC_BASE_URL),
                                    setting="--model_args base_url" if given_url else "ANTHROPIC_BASE_URL")
        self._base_url = self._base.base
        api_key = required_key(given_key, settings, "anthropic_api_key", "ANTHROPIC_API_KEY", hint=KEY_HINT)
        self._max_tokens = int(args.pop("max_tokens", DEFAULT_MAX_TOKENS))
        self._extra_body = args  # sent as-is (e.g. thinking={…} from a config file)
        self._url = self._base.url("v1/messages")
        self._http = JsonClient({"x-api-key": api_key, "anthropic-version": API_VERSION, **self._base.basic_auth()},
                                provider=self.name, where=self._base_url,
                                connect_hint="check base_url / ANTHROPIC_BASE_URL and your network")

    @property
    def model_name(self) -> str:
        return self._model

    def identity(self) -> dict[str, Any]:
        identity: dict[str, Any] = {"provider": self.name, "base_url": self._base.public_url, "model": self._model,
                                    "default_max_tokens": self._max_tokens}
        if self._extra_body:
            identity["body"] = dict(sorted(self._extra_body.items()))
        return identity

    def body(self, request: Request) -> dict[str, Any]:
        params = request.params
        system = "\n\n".join(m.text for m in request.messages if m.role == "system" and m.text)
        body: dict[str, Any] = {
            "model": self._model,
            "max_tokens": params.max_tokens if params.max_tokens is not None else self._max_tokens,
            "messages": [{"role": m.role, "content": content(m)} for m in request.messages if m.role != "system"],
        }
        if system:
            body["system"] = system
        if params.temperature is not None:
            body["temperature"] = params.temperature
        if params.top_p is not None:
            body["top_p"] = params.top_p
        if params.stop:
            body["stop_sequences"] = list(params.stop)
        body.update({k: v for k, v in params.extra if k in _EXTRA_PARAMS})
        body.update(self._extra_body)
        return body

    async def generate(self, request: Request) -> Response:
        status, headers, text = await self._http.post(self._url, self.body(request))
        if status >= 400:
            raise self.error(status, headers, text)
        with tagged(headers):
            return self.parse(text)

    def error(self, status: int, headers: Any, text: str) -> ProviderError:
        """Anthropic's error body → a typed error (one place, for messages and message batches)."""
        message, error_type = error_message(text)
        return http_error(status, headers, message, kind=error_kind(status, error_type, message),
                          provider=self.name, url=self._base_url, key_hint=KEY_HINT, model=self._model)

    def batch_wire(self) -> AnthropicBatchWire:
        return AnthropicBatchWire(self, self._http, self._base.url("v1/messages/batches"))

    def parse(self, text: str) -> Response:
        data = parse_json(text, provider=self.name, where=self._base_url, what="Anthropic message")
        blocks = data.get("content") if isinstance(data, dict) else None
        if not isinstance(blocks, list):
            raise malformed(text, provider=self.name, where=self._base_url, what="Anthropic message")
        # Thinking blocks are the model's scratchpad, not its answer.
        answer = "".join(str(b.get("text") or "") for b in blocks if isinstance(b, dict) and b.get("type") == "text")
        stop = data.get("stop_reason")
        if stop == "refusal" and not answer.strip():
            raise ProviderError(f"{self.name} refused to answer (stop_reason: refusal)",
                                hint="the model's safety policy declined this prompt; it is counted, not retried",
                                kind="content_policy", provider=self.name)
        usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
        # Cache reads and writes are input tokens too (billed at other rates; counted here as input).
        input_tokens = sum(as_int(usage.get(k)) for k in
                           ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"))
        return Response(text=answer, usage=Usage(input_tokens, as_int(usage.get("output_tokens"))),
                        model=str(data.get("model") or self._model), finish_reason=stop)

    async def aclose(self) -> None:
        await self._http.aclose()
