"""The Gemini API: ``POST /v1beta/models/{model}:generateContent`` with ``x-goog-api-key``.

Like the real service, a wrong key is answered 400 INVALID_ARGUMENT with reason API_KEY_INVALID (not 401),
and the key is never accepted from the URL by this emulator (assay must send it in the header)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.emulators import gemini_batch
from tests.emulators.base import (
    AUDIO_MIME,
    Emulator,
    audio_seconds,
    check_base64_audio,
    check_base64_image,
    only_keys,
)
from tests.emulators.batches import BatchBook
from tests.emulators.tokens import gemini_input_tokens, text_tokens

_CONFIG_KEYS = {"maxOutputTokens", "temperature", "topP", "topK", "stopSequences", "seed", "candidateCount",
                "presencePenalty", "frequencyPenalty", "responseMimeType", "thinkingConfig", "responseSchema",
                "responseModalities", "mediaResolution"}
_RPC = {400: "INVALID_ARGUMENT", 403: "PERMISSION_DENIED", 404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED",
        500: "INTERNAL", 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED"}


@dataclass
class GeminiEmulator(Emulator):
    """With batch mode (``tests/emulators/gemini_batch.py``)."""

    book: BatchBook = field(default_factory=BatchBook)

    def routes(self) -> list[tuple[str, str, str]]:
        return [("POST", "/v1beta/models/{call}", "generate"), ("GET", "/v1beta/models", "models"),
                *gemini_batch.ROUTES]

    async def _dispatch(self, request: web.Request, kind: str) -> web.StreamResponse:
        if request.match_info.get("call", "").endswith(":batchGenerateContent"):
            kind = "batch_create"
        return await super()._dispatch(request, kind)

    async def handle_other(self, kind: str, request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        if kind == "batch_create":
            return await gemini_batch.create(self, request, body)
        return await gemini_batch.handle(self, kind, request)

    def batch_answer(self, body: dict[str, Any], fault: tuple[int, str, str] | None) -> tuple[int, dict[str, Any]]:
        if fault is not None:
            return fault[0], self.error_body(*fault)
        return 200, self.answer_body(body, self.answer(body))

    def authorized(self, request: web.Request) -> bool:
        return request.headers.get("x-goog-api-key") == self.key and "key" not in request.query

    def error(self, status: int, message: str, code: str | None = None,
              headers: dict[str, str] | None = None) -> web.Response:
        if status == 401:  # what Gemini really answers to a bad key
            body = {"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.",
                              "status": "INVALID_ARGUMENT",
                              "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                                           "reason": "API_KEY_INVALID", "domain": "googleapis.com"}]}}
            return web.json_response(body, status=400, headers=headers)
        return super().error(status, message, code, headers)

    def violations(self, request: web.Request, body: dict[str, Any], call: str | None = None) -> list[str]:
        found = only_keys(body, {"contents", "systemInstruction", "generationConfig", "safetySettings"}, "body",
                          "gemini")
        call = call or request.match_info.get("call", "")
        if not call.endswith(":generateContent") or not call.removesuffix(":generateContent"):
            found.append(f"unknown method {call!r}")
        found += only_keys(body.get("generationConfig") or {}, _CONFIG_KEYS, "generationConfig", "gemini")
        contents = body.get("contents")
        if not isinstance(contents, list) or not contents:
            return [*found, "contents is not specified"]
        for i, item in enumerate(contents):
            if item.get("role") not in ("user", "model"):
                found.append(f"contents[{i}].role {item.get('role')!r} is not user or model")
            for j, part in enumerate(item.get("parts") or []):
                where = f"contents[{i}].parts[{j}]"
                if "inlineData" in part:
                    inline = part["inlineData"]
                    mime = inline.get("mimeType")
                    found += (check_base64_audio(inline.get("data"), AUDIO_MIME[mime], where) if mime in AUDIO_MIME
                              else check_base64_image(inline.get("data"), mime, where))
                elif not isinstance(part.get("text"), str) or not part["text"]:
                    found.append(f"{where} must have non-empty text or inlineData")
        return found

    def error_body(self, status: int, message: str, code: str | None = None) -> dict[str, Any]:
        return {"error": {"code": status, "message": message, "status": code or _RPC.get(status, "UNKNOWN")}}

    def answer_body(self, body: dict[str, Any], text: str) -> dict[str, Any]:
        return {"candidates": [{"content": {"parts": [{"text": text}], "role": "model"}, "finishReason": "STOP",
                                "index": 0}],
                "usageMetadata": self.with_audio(self.usage(body, text), body),
                "modelVersion": "gemini-emu-001"}

    @staticmethod
    def with_audio(usage: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        """Audio as Gemini counts it: 32 tokens a second, by modality in ``promptTokensDetails``."""
        audio = round(32 * audio_seconds(body))
        if not audio:
            return usage
        text = usage["promptTokenCount"]
        return {**usage, "promptTokenCount": text + audio, "totalTokenCount": usage["totalTokenCount"] + audio,
                "promptTokensDetails": [{"modality": "TEXT", "tokenCount": text},
                                        {"modality": "AUDIO", "tokenCount": audio}]}

    def usage(self, body: dict[str, Any], text: str) -> dict[str, int]:
        if not self.count_tokens:
            return {"promptTokenCount": 30, "candidatesTokenCount": 5, "thoughtsTokenCount": 2, "totalTokenCount": 37}
        prompt, answer = gemini_input_tokens(body), text_tokens(text)
        return {"promptTokenCount": prompt, "candidatesTokenCount": answer, "totalTokenCount": prompt + answer}

    def models_body(self) -> dict[str, Any]:
        return {"models": [{"name": "models/gemini-emu"}]}
