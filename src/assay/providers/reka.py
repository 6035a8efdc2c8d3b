"""Reka chat: ``POST {base_url}/chat`` with the ``X-Api-Key`` header.

``base_url`` is what the reka-api SDK (v3) means by it: the API root including ``/v1`` (default
``https://api.reka.ai/v1``); the bare root (``https://api.reka.ai``) works too. Images are sent as
``image_url`` data URLs; a video as its sampled frames, as lmms-eval's Reka model does.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from assay.errors import FailureKind, ProviderError
from assay.providers._endpoint import parse_base_url, required_key
from assay.providers._http import JsonClient, as_int, error_message, http_error, malformed, parse_json, tagged
from assay.providers.openai_compat import pop_model
from assay.types import ImagePart, Message, Request, Response, TextPart, Usage, VideoPart

if TYPE_CHECKING:
    from assay.env.settings import Settings

REKA_BASE_URL = "https://api.reka.ai/v1"
KEY_HINT = "set REKA_API_KEY (in .env or the environment) to a valid key from platform.reka.ai"
_EXTRA_PARAMS = frozenset({"top_k", "presence_penalty", "frequency_penalty"})


def error_kind(status: int, message: str) -> FailureKind | None:
    """Reka's (FastAPI-style ``{"detail": …}``) error bodies → assay's failure kind."""
    lowered = message.lower()
    if status == 402 or "credit" in lowered or ("insufficient" in lowered and "balance" in lowered):
        return "quota"
    if status in (400, 413, 422) and ("context" in lowered and ("length" in lowered or "long" in lowered)):
        return "context_length"
    if status in (400, 422) and ("safety" in lowered or "moderation" in lowered or "policy" in lowered):
        return "content_policy"
    return None


def content(message: Message) -> str | list[dict[str, Any]]:
    if not message.has_media():
        return message.text
    items: list[dict[str, Any]] = []
    for part in message.parts:
        if isinstance(part, TextPart):
            if part.text:
                items.append({"type": "text", "text": part.text})
        elif isinstance(part, ImagePart):
            items.append({"type": "image_url", "image_url": part.data_url})
        elif isinstance(part, VideoPart):
            items.extend({"type": "image_url", "image_url": f.data_url} for f in part.frames)
    return items


class RekaProvider:
    name: ClassVar[str] = "reka"
    max_concurrency: ClassVar[int | None] = None
    accepts_media: ClassVar[bool] = True

    def __init__(self, settings: Settings, model_args: dict[str, Any]) -> None:
        args = dict(model_args)
        self._model = pop_model(args, self.name, "model=reka-flash")
        given_key = args.pop("api_key", None)
        self._base = parse_base_url(str(args.pop("base_url", None) or REKA_BASE_URL), setting="--model_args base_url")
        self._base_url = self._base.base
        api_key = required_key(given_key, settings, "reka_api_key", "REKA_API_KEY", hint=KEY_HINT)
        self._extra_body = args
        # The SDK's root includes /v1; the bare API root (https://api.reka.ai, a gateway in front of it) is
        # accepted too, so either form drops in unchanged.
        self._url = self._base.url("chat" if urlsplit(self._base_url).path.strip("/") else "v1/chat")
        self._http = JsonClient({"X-Api-Key": api_key, **self._base.basic_auth()},
                                provider=self.name, where=self._base_url,
                                connect_hint="check base_url and your network connection to api.reka.ai")

    @property
    def model_name(self) -> str:
        return self._model

    def identity(self) -> dict[str, Any]:
        identity: dict[str, Any] = {"provider": self.name, "base_url": self._base.public_url, "model": self._model}
        if self._extra_body:
            identity["body"] = dict(sorted(self._extra_body.items()))
        return identity

    def body(self, request: Request) -> dict[str, Any]:
        params = request.params
        body: dict[str, Any] = {
            "model": self._model,
            "messages": [{"role": m.role, "content": content(m)} for m in request.messages],
        }
        if params.max_tokens is not None:
            body["max_tokens"] = params.max_tokens
        if params.temperature is not None:
            body["temperature"] = params.temperature
        if params.top_p is not None:
            body["top_p"] = params.top_p
        if params.stop:
            body["stop"] = list(params.stop)
        if params.seed is not None:
            body["seed"] = params.seed
        body.update({k: v for k, v in params.extra if k in _EXTRA_PARAMS})
        body.update(self._extra_body)
        return body

    async def generate(self, request: Request) -> Response:
        status, headers, text = await self._http.post(self._url, self.body(request))
        if status >= 400:
            message, _ = error_message(text)
            raise http_error(status, headers, message, kind=error_kind(status, message), provider=self.name,
                             url=self._base_url, key_hint=KEY_HINT, model=self._model)
        with tagged(headers):
            return self.parse(text)

    def parse(self, text: str) -> Response:
        data = parse_json(text, provider=self.name, where=self._base_url, what="Reka chat response")
        try:
            first = data["responses"][0]
            answer = first["message"].get("content") or ""
        except (KeyError, IndexError, TypeError, AttributeError):
            raise malformed(text, provider=self.name, where=self._base_url, what="Reka chat response") from None
        if isinstance(answer, list):  # typed content items
            answer = "".join(str(i.get("text") or "") for i in answer if isinstance(i, dict))
        finish = first.get("finish_reason")
        if finish == "context" and not str(answer).strip():
            raise ProviderError(f"{self.name}: the prompt is longer than {self._model}'s context",
                                hint="use fewer images or frames, or a model with a longer context",
                                kind="context_length", provider=self.name)
        usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
        return Response(text=answer if isinstance(answer, str) else json.dumps(answer),
                        usage=Usage(as_int(usage.get("input_tokens")), as_int(usage.get("output_tokens"))),
                        model=str(data.get("model") or self._model), finish_reason=finish)

    async def aclose(self) -> None:
        await self._http.aclose()
