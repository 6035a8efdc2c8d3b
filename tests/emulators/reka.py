"""The Reka chat API (reka-api v3): ``POST /v1/chat`` with ``X-Api-Key``; FastAPI-style errors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tests.emulators.base import Emulator, check_data_url, only_keys

_BODY_KEYS = {"model", "messages", "max_tokens", "temperature", "top_p", "top_k", "stop", "seed",
              "presence_penalty", "frequency_penalty", "use_search_engine"}


@dataclass
class RekaEmulator(Emulator):
    def routes(self) -> list[tuple[str, str, str]]:
        return [("POST", "/v1/chat", "generate"), ("GET", "/v1/models", "models")]

    def authorized(self, request: web.Request) -> bool:
        return request.headers.get("X-Api-Key") == self.key

    def violations(self, request: web.Request, body: dict[str, Any]) -> list[str]:
        found = only_keys(body, _BODY_KEYS, "body")
        if not isinstance(body.get("model"), str):
            found.append("model: field required")
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return [*found, "messages: field required"]
        for i, message in enumerate(messages):
            if message.get("role") not in ("user", "assistant", "system"):
                found.append(f"messages.{i}.role is not valid")
            content = message.get("content")
            if isinstance(content, str):
                continue
            for j, item in enumerate(content or []):
                where = f"messages.{i}.content.{j}"
                if item.get("type") == "text":
                    found += [] if isinstance(item.get("text"), str) else [f"{where}.text must be a string"]
                elif item.get("type") == "image_url":
                    found += check_data_url(item.get("image_url"), f"{where}.image_url")
                else:
                    found.append(f"{where}.type {item.get('type')!r} is not valid")
        return found

    def error_body(self, status: int, message: str, code: str | None = None) -> dict[str, Any]:
        return {"detail": message}

    def answer_body(self, body: dict[str, Any], text: str) -> dict[str, Any]:
        return {"id": "reka-emu", "model": body["model"],
                "responses": [{"finish_reason": "stop", "message": {"role": "assistant", "content": text}}],
                "usage": {"input_tokens": 40, "output_tokens": 6}}

    def models_body(self) -> Any:
        return [{"id": "reka-flash"}]
