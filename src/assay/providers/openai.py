"""OpenAI chat completions and any OpenAI-compatible server (vLLM, SGLang, llama.cpp, xAI).

Speaks the wire format directly over aiohttp: measured on this machine (bench/throughput.py), the
official SDK (on httpx) dispatches ~10x fewer requests per second than aiohttp against the same
loopback stub, and the SDK's own retries would nest under ours. Only translation lives here.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import TYPE_CHECKING, Any, ClassVar

from assay.errors import ConfigError, CredentialError, ProviderError
from assay.providers._endpoint import authorization, parse_endpoint
from assay.providers._http import as_int, client_error, decode_body, error_from_http, other_origin
from assay.types import ImagePart, Message, Request, Response, TextPart, Usage, VideoPart

if TYPE_CHECKING:
    import aiohttp

    from assay.settings import Settings

OPENAI_BASE_URL = "https://api.openai.com/v1"
KEY_HINT = "set OPENAI_API_KEY (in .env or the environment) to a valid key from platform.openai.com/api-keys"
# Reasoning models take max_completion_tokens and reject temperature/top_p.
_REASONING_MODEL = re.compile(r"^(o\d|gpt-5)", re.IGNORECASE)


def _content(message: Message) -> str | list[dict[str, Any]]:
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
    return parts


class OpenAIProvider:
    name: ClassVar[str] = "openai"
    max_concurrency: ClassVar[int | None] = None
    accepts_media: ClassVar[bool] = True

    def __init__(self, settings: Settings, model_args: dict[str, Any]) -> None:
        args = dict(model_args)
        model = args.pop("model", None) or args.pop("model_version", None)
        if not model:
            raise ConfigError(
                "--model_args needs model=… for the openai provider",
                hint="e.g. --model_args model=gpt-4o-mini (or the name your vLLM/SGLang server serves)",
            )
        self._model = str(model)
        given_url = args.pop("base_url", None)
        url_setting = "--model_args base_url" if given_url else "OPENAI_BASE_URL"
        # Parsed, not pasted: a query string stays at the end of the request URL, user:password@ is
        # authentication (never part of a message), and only http(s) gets this far.
        self._endpoint = parse_endpoint(str(given_url or settings.openai_base_url or OPENAI_BASE_URL),
                                        setting=url_setting)
        self._base_url = self._endpoint.base
        given_key = args.pop("api_key", None)
        api_key = given_key or settings.secret("openai_api_key")
        if not api_key and self._base_url == OPENAI_BASE_URL:
            raise CredentialError("OPENAI_API_KEY is not set", hint=KEY_HINT)
        self._authorization = authorization(
            self._endpoint, None if api_key is None else str(api_key), url_setting=url_setting,
            key_setting="--model_args api_key" if given_key else "OPENAI_API_KEY", key_given=bool(given_key),
        ) or "Bearer EMPTY"  # local OpenAI-compatible servers usually accept any key
        reasoning = args.pop("reasoning", None)
        self._reasoning = bool(_REASONING_MODEL.match(self._model)) if reasoning is None else bool(reasoning)
        # Whatever is left (e.g. reasoning_effort, seed) is sent as-is in the request body.
        self._extra_body = args
        self._url = self._endpoint.url("chat/completions")
        self._session: aiohttp.ClientSession | None = None

    @property
    def model_name(self) -> str:
        return self._model

    def identity(self) -> dict[str, Any]:
        # Everything that changes what is sent for the same request (not the key): extra body
        # arguments such as reasoning_effort, and the reasoning-model parameter mapping.
        identity: dict[str, Any] = {"provider": "openai", "base_url": self._endpoint.public_url, "model": self._model}
        if self._reasoning:
            identity["reasoning"] = True
        if self._extra_body:
            identity["body"] = dict(sorted(self._extra_body.items()))
        return identity

    def body(self, request: Request) -> dict[str, Any]:
        """The JSON body for one request (public for tests and the cache key)."""
        params = request.params.as_dict()
        body: dict[str, Any] = {
            "model": self._model,
            "messages": [{"role": m.role, "content": _content(m)} for m in request.messages],
        }
        max_tokens = params.pop("max_tokens", None)
        if self._reasoning:
            params.pop("temperature", None)
            params.pop("top_p", None)
            if max_tokens is not None:
                body["max_completion_tokens"] = max_tokens
        elif max_tokens is not None:
            body["max_tokens"] = max_tokens
        body.update(params)
        body.update(self._extra_body)
        return body

    async def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            import aiohttp

            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0, ttl_dns_cache=300),
                # The Model wrapper owns per-attempt timeouts; aiohttp's would race with them.
                timeout=aiohttp.ClientTimeout(total=None, connect=30),
                headers={"Authorization": self._authorization, "Content-Type": "application/json"},
            )
        return self._session

    async def generate(self, request: Request) -> Response:
        import aiohttp

        session = await self._client()
        try:
            async with session.post(self._url, data=json.dumps(self.body(request))) as resp:
                text = decode_body(await resp.read(), resp.charset)
                if resp.status >= 400:
                    raise error_from_http(
                        resp.status, resp.headers, text,
                        provider="openai", url=self._base_url, key_hint=KEY_HINT, model=self._model,
                        redirected_to=other_origin(self._base_url, resp),
                    )
        except aiohttp.ClientError as exc:
            raise client_error(exc, provider="openai", where=self._base_url,
                               connect_hint="check base_url / OPENAI_BASE_URL and that the server is running") from None
        return self.parse(text)

    def parse(self, text: str) -> Response:
        try:
            data = json.loads(text)
            choice = data["choices"][0]
            content = choice["message"].get("content") or ""
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            raise ProviderError(
                f"{self._base_url} returned a malformed completion: {text[:120]!r}",
                hint="the server's answer is not an OpenAI chat completion; assay retries it",
                kind="malformed",
                provider="openai",
            ) from None
        usage = data.get("usage") if isinstance(data, dict) else None
        usage = usage if isinstance(usage, dict) else {}  # odd usage fields never cost a valid answer
        finish = choice.get("finish_reason") if isinstance(choice, dict) else None
        return Response(
            text=content if isinstance(content, str) else json.dumps(content),
            usage=Usage(as_int(usage.get("prompt_tokens")), as_int(usage.get("completion_tokens"))),
            model=str(data.get("model") or self._model),
            finish_reason=None if finish is None else str(finish),
        )

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
            await asyncio.sleep(0)  # let aiohttp close its transports before the loop ends
