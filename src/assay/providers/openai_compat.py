"""The OpenAI chat-completions wire format, shared by every vendor that speaks it.

OpenAI, OpenAI-compatible servers (vLLM, SGLang, llama.cpp), xAI and Azure OpenAI differ only in
where the request goes and how the key is sent; a subclass says that in :meth:`endpoint`, and the
translation (messages, parameters, the answer, errors) lives here once.

Speaks the wire format directly over aiohttp: measured on this machine (bench/throughput.py), the
official SDK (on httpx) dispatches ~10x fewer requests per second than aiohttp against the same
loopback stub, and the SDK's own retries would nest under ours.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from assay.errors import ConfigError, ProviderError
from assay.providers._endpoint import route_not_found
from assay.providers._http import JsonClient, as_int, error_from_http, malformed, parse_json, tagged
from assay.text import clip
from assay.types import (
    AudioPart,
    GenerationParams,
    ImagePart,
    Message,
    Request,
    Response,
    TextPart,
    Usage,
    VideoPart,
)

if TYPE_CHECKING:
    from assay.env.settings import Settings

# Reasoning models take max_completion_tokens and reject temperature/top_p.
_REASONING_MODEL = re.compile(r"^(o\d|gpt-5)", re.IGNORECASE)


@dataclass(frozen=True)
class Endpoint:
    """Where one vendor's chat completions live and how it wants the key."""

    base_url: str  # shown in messages and part of the cache identity
    chat_url: str
    headers: dict[str, str] = field(repr=False)  # carries the credential
    key_hint: str
    connect_hint: str
    identity: dict[str, Any] = field(default_factory=dict)  # vendor-specific identity (e.g. api_version)


#: How an audio part is written: OpenAI's ``input_audio`` (base64 and format; vLLM and SGLang take it too),
#: or vLLM's ``audio_url`` (a data URL), for servers that know only that one.
AUDIO_PART_STYLES = ("input_audio", "audio_url")


def audio_content(part: AudioPart, style: str = "input_audio") -> dict[str, Any]:
    if style == "audio_url":
        return {"type": "audio_url", "audio_url": {"url": part.data_url}}
    return {"type": "input_audio", "input_audio": {"data": part.data_b64, "format": part.format}}


def content(message: Message, audio_style: str = "input_audio") -> str | list[dict[str, Any]]:
    """A message's ``content``: a plain string for text, typed parts when it carries images, video or audio."""
    if len(message.parts) == 1 and type(message.parts[0]) is TextPart:  # most prompts: one text part
        return message.parts[0].text
    if not message.has_media():
        return message.text
    parts: list[dict[str, Any]] = []
    for part in message.parts:
        if isinstance(part, TextPart):
            parts.append({"type": "text", "text": part.text})
        elif isinstance(part, ImagePart):
            parts.append({"type": "image_url", "image_url": {"url": part.data_url}})
        elif isinstance(part, VideoPart):
            # Chat completions has no video part: a video is sent as its sampled frames.
            parts.extend({"type": "image_url", "image_url": {"url": f.data_url}} for f in part.frames)
        elif isinstance(part, AudioPart):
            parts.append(audio_content(part, audio_style))
    return parts


def _audio_tokens(usage: dict[str, Any]) -> int:
    """``prompt_tokens_details.audio_tokens``: the audio part of the prompt, which OpenAI prices apart."""
    details = usage.get("prompt_tokens_details")
    return as_int(details.get("audio_tokens")) if isinstance(details, dict) else 0


def pop_model(args: dict[str, Any], provider: str, example: str) -> str:
    """``model=`` (lmms-eval's ``model_version=`` too) from --model_args, or a ConfigError."""
    model = args.pop("model", None) or args.pop("model_version", None)
    if not model:
        raise ConfigError(f"--model_args needs model=… for the {provider} provider",
                          hint=f"e.g. --model_args {example}")
    return str(model)


class ChatCompletionsProvider:
    """Translation to and from chat completions; subclasses say where to send it (:meth:`endpoint`)."""

    name: ClassVar[str] = "openai"
    max_concurrency: ClassVar[int | None] = None
    accepts_media: ClassVar[bool] = True
    #: Whether audio parts can be sent (chat completions' ``input_audio``: OpenAI's audio models, Azure's,
    #: vLLM/SGLang serving Qwen2-Audio or Qwen2.5-Omni).
    accepts_audio: ClassVar[bool] = True
    #: --model_args example for the "needs model=…" error.
    model_example: ClassVar[str] = "model=gpt-4o-mini"

    def __init__(self, settings: Settings, model_args: dict[str, Any]) -> None:
        args = dict(model_args)
        self._model = self._pop_model(args)
        self._endpoint = self.endpoint(settings, args)  # pops the arguments it uses
        self.audio_style = self._pop_audio_style(args)
        reasoning = args.pop("reasoning", None)
        self._reasoning = bool(_REASONING_MODEL.match(self._model)) if reasoning is None else bool(reasoning)
        # Whatever is left (e.g. reasoning_effort, seed) is sent as-is in the request body.
        self._extra_body = args
        self._settings_parts: dict[GenerationParams, dict[str, Any]] = {}
        self._last_params: GenerationParams | None = None
        self._last_part: dict[str, Any] = {}
        self._http = JsonClient(self._endpoint.headers, provider=self.name, where=self._endpoint.base_url,
                                connect_hint=self._endpoint.connect_hint)

    def _pop_model(self, args: dict[str, Any]) -> str:
        return pop_model(args, self.name, self.model_example)

    def _pop_audio_style(self, args: dict[str, Any]) -> str:
        """``audio_part=audio_url`` in --model_args for a server that reads only vLLM's form."""
        style = str(args.pop("audio_part", "input_audio"))
        if style not in AUDIO_PART_STYLES:
            raise ConfigError(f"audio_part={style} is not an audio part form",
                              hint=f"use one of: {', '.join(AUDIO_PART_STYLES)}")
        return style

    def endpoint(self, settings: Settings, args: dict[str, Any]) -> Endpoint:
        """Where requests go and the auth headers; pops the --model_args it consumes."""
        raise NotImplementedError

    @property
    def model_name(self) -> str:
        return self._model

    def identity(self) -> dict[str, Any]:
        # Everything that changes what is sent for the same request (not the key): extra body
        # arguments such as reasoning_effort, and the reasoning-model parameter mapping.
        identity: dict[str, Any] = {"provider": self.name, "base_url": self._endpoint.base_url, "model": self._model}
        identity.update(self._endpoint.identity)
        if self._reasoning:
            identity["reasoning"] = True
        if self._extra_body:
            identity["body"] = dict(sorted(self._extra_body.items()))
        if self.audio_style != "input_audio":
            identity["audio_part"] = self.audio_style
        return identity

    def body(self, request: Request) -> dict[str, Any]:
        """The JSON body for one request (public for tests and the cache key)."""
        body: dict[str, Any] = {
            "model": self._model,
            "messages": [{"role": m.role, "content": content(m, self.audio_style)} for m in request.messages],
        }
        body.update(self._settings_part(request.params))
        return body

    def _settings_part(self, params: GenerationParams) -> dict[str, Any]:
        """The body's fields after the messages, for these parameters: the same for every request of a task,
        so built once per parameter set (a few µs a request otherwise) and kept for a few sets."""
        if params is self._last_params:  # a task's every request has the same parameters object
            return self._last_part
        try:
            known = self._settings_parts.get(params)
        except TypeError:  # a parameter value that cannot be a key (a list in gen_kwargs): built each time
            return self._build_settings_part(params)
        if known is None:
            known = self._build_settings_part(params)
            if len(self._settings_parts) < 64:
                self._settings_parts[params] = known
        self._last_params, self._last_part = params, known
        return known

    def _build_settings_part(self, params: GenerationParams) -> dict[str, Any]:
        fields = params.as_dict()
        part: dict[str, Any] = {}
        max_tokens = fields.pop("max_tokens", None)
        if self._reasoning:
            fields.pop("temperature", None)
            fields.pop("top_p", None)
            if max_tokens is not None:
                part["max_completion_tokens"] = max_tokens
        elif max_tokens is not None:
            part["max_tokens"] = max_tokens
        part.update(fields)
        part.update(self._extra_body)
        return part

    async def generate(self, request: Request) -> Response:
        status, headers, text = await self._http.post(self._endpoint.chat_url, self.body(request))
        if status >= 400:
            raise self.error(status, headers, text)
        with tagged(headers):
            return self.parse(text)

    def error(self, status: int, headers: Any, text: str) -> ProviderError:
        """This vendor's error body → a typed error (one place per vendor; OpenAI's shape by default)."""
        exc = error_from_http(status, headers, text, provider=self.name, url=self._endpoint.base_url,
                              key_hint=self._endpoint.key_hint, model=self._model)
        return route_not_found(exc, self._endpoint.chat_url, self._endpoint.base_url) if status == 404 else exc

    def parse(self, text: str) -> Response:
        where = self._endpoint.base_url
        data = parse_json(text, provider=self.name, where=where, what="chat completion")
        try:
            choice = data["choices"][0]
            message = choice["message"]
            answer = message.get("content") or ""
        except (KeyError, IndexError, TypeError, AttributeError):
            raise malformed(text, provider=self.name, where=where, what="chat completion") from None
        finish = choice.get("finish_reason")
        refusal = message.get("refusal")
        if not answer and (finish == "content_filter" or refusal):
            # Azure's content filter and OpenAI's refusals answer 200 with no content: a refusal, not an
            # empty answer to retry.
            raise ProviderError(
                f"{self.name} refused to answer ({'content_filter' if finish == 'content_filter' else 'refusal'})"
                f"{f': {clip(str(refusal), 200)}' if refusal else ''}",
                hint="the vendor's content policy blocked this prompt or answer; it is counted, not retried",
                kind="content_policy",
                provider=self.name,
            )
        usage = data.get("usage") if isinstance(data, dict) else None
        usage = usage if isinstance(usage, dict) else {}
        return Response(  # text, usage, model, finish_reason (by position: a little cheaper, once a request)
            answer if isinstance(answer, str) else json.dumps(answer),
            Usage(as_int(usage.get("prompt_tokens")), as_int(usage.get("completion_tokens")), _audio_tokens(usage)),
            str(data.get("model") or self._model),
            finish,
        )

    async def aclose(self) -> None:
        await self._http.aclose()
