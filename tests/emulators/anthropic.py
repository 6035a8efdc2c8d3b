"""The Anthropic Messages API: ``POST /v1/messages`` with ``x-api-key`` and ``anthropic-version``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.emulators import anthropic_batch
from tests.emulators.base import Emulator, check_base64_image, only_keys
from tests.emulators.batches import BatchBook
from tests.emulators.tokens import anthropic_input_tokens, text_tokens

_BODY_KEYS = {"model", "max_tokens", "messages", "system", "temperature", "top_p", "top_k", "stop_sequences",
              "metadata", "thinking", "service_tier"}
_STATUS_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
                 404: "not_found_error", 413: "request_too_large", 429: "rate_limit_error", 500: "api_error",
                 529: "overloaded_error"}


@dataclass
class AnthropicEmulator(Emulator):
    """With Message Batches (``tests/emulators/anthropic_batch.py``)."""

    book: BatchBook = field(default_factory=BatchBook)

    def routes(self) -> list[tuple[str, str, str]]:
        return [("POST", "/v1/messages", "generate"), ("GET", "/v1/models", "models"), *anthropic_batch.ROUTES]

    async def handle_other(self, kind: str, request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        return await anthropic_batch.handle(self, kind, request, body)

    def batch_answer(self, body: dict[str, Any], fault: tuple[int, str, str] | None) -> tuple[int, dict[str, Any]]:
        if fault is not None:
            return fault[0], self.error_body(*fault)
        return 200, self.answer_body(body, self.answer(body))

    def authorized(self, request: web.Request) -> bool:
        return request.headers.get("x-api-key") == self.key and "Authorization" not in request.headers

    def violations(self, request: web.Request, body: dict[str, Any]) -> list[str]:
        found = only_keys(body, _BODY_KEYS, "body", "anthropic")
        if not request.headers.get("anthropic-version"):
            found.append("anthropic-version header is required")
        if not isinstance(body.get("max_tokens"), int) or body["max_tokens"] < 1:
            found.append("max_tokens: field required (a positive integer)")
        if "system" in body and not isinstance(body["system"], (str, list)):
            found.append("system must be a string or a list of text blocks")
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return [*found, "messages: at least one message is required"]
        for i, message in enumerate(messages):
            if message.get("role") not in ("user", "assistant"):
                found.append(f"messages.{i}.role: Input should be 'user' or 'assistant'")
            content = message.get("content")
            if isinstance(content, str):
                found += [] if content else [f"messages.{i}: text content blocks must be non-empty"]
                continue
            for j, block in enumerate(content or []):
                where = f"messages.{i}.content.{j}"
                if block.get("type") == "text":
                    found += [] if block.get("text") else [f"{where}: text content blocks must be non-empty"]
                elif block.get("type") == "image":
                    source = block.get("source") or {}
                    if source.get("type") != "base64":
                        found.append(f"{where}.source.type must be base64")
                    found += check_base64_image(source.get("data"), source.get("media_type"), where)
                else:
                    found.append(f"{where}.type {block.get('type')!r} is not valid")
        return found

    def error_body(self, status: int, message: str, code: str | None = None) -> dict[str, Any]:
        error_type = code if (code and code.endswith("_error")) or code == "request_too_large" else None
        return {"type": "error", "error": {"type": error_type or _STATUS_TYPES.get(status, "api_error"),
                                           "message": message}, "request_id": "req_emu"}

    def answer_body(self, body: dict[str, Any], text: str) -> dict[str, Any]:
        return {"id": "msg_emu", "type": "message", "role": "assistant", "model": body["model"],
                "content": [{"type": "text", "text": text}], "stop_reason": "end_turn", "stop_sequence": None,
                "usage": self.usage(body, text)}

    def usage(self, body: dict[str, Any], text: str) -> dict[str, int]:
        if not self.count_tokens:
            return {"input_tokens": 21, "output_tokens": 4, "cache_read_input_tokens": 0}
        return {"input_tokens": anthropic_input_tokens(body), "output_tokens": text_tokens(text),
                "cache_read_input_tokens": 0}

    def models_body(self) -> dict[str, Any]:
        return {"data": [{"type": "model", "id": "claude-emu"}], "has_more": False}
