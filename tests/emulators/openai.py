"""OpenAI chat completions as OpenAI, xAI (same protocol, own root) and Azure OpenAI (deployment URL,
``api-key`` header, ``api-version`` query) serve it; plus ``/v1/completions`` with ``echo`` and
``logprobs`` as vLLM serves it, for loglikelihood."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.emulators import openai_batch
from tests.emulators.base import Emulator, audio_seconds, check_base64_audio, check_data_url, only_keys
from tests.emulators.batches import BatchBook
from tests.emulators.tokens import openai_input_tokens, text_tokens

_ROLES = {"system", "user", "assistant", "developer"}
_BODY_KEYS = {"model", "messages", "max_tokens", "max_completion_tokens", "temperature", "top_p", "stop", "seed",
              "n", "reasoning_effort", "logprobs", "top_logprobs", "frequency_penalty", "presence_penalty",
              "response_format", "user", "logit_bias", "service_tier", "store", "metadata", "prediction",
              "verbosity"}
_TOKEN = re.compile(r"\s*\S+|\s+")


def _audio_violations(part: dict[str, Any], where: str, *, audio_url: bool) -> list[str]:
    if part.get("type") == "input_audio":
        audio = part.get("input_audio") or {}
        return only_keys(audio, {"data", "format"}, f"{where}.input_audio") + check_base64_audio(
            audio.get("data"), audio.get("format"), f"{where}.input_audio")
    if not audio_url:  # vLLM's own part: OpenAI refuses it
        return [f"{where}.type 'audio_url' is not valid"]
    return check_data_url((part.get("audio_url") or {}).get("url"), f"{where}.audio_url.url", audio=True)


def chat_violations(body: dict[str, Any], *, audio_url: bool = False) -> list[str]:
    found = only_keys(body, _BODY_KEYS, "body", "openai")
    if not isinstance(body.get("model"), str) or not body.get("model"):
        found.append("model is required")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return [*found, "messages must be a non-empty list"]
    for i, message in enumerate(messages):
        if message.get("role") not in _ROLES:
            found.append(f"messages[{i}].role {message.get('role')!r} is not valid")
        content = message.get("content")
        if isinstance(content, list):
            for j, part in enumerate(content):
                where = f"messages[{i}].content[{j}]"
                if part.get("type") == "text":
                    found += [] if isinstance(part.get("text"), str) else [f"{where}.text must be a string"]
                elif part.get("type") == "image_url":
                    found += check_data_url((part.get("image_url") or {}).get("url"), f"{where}.image_url.url")
                elif part.get("type") in ("input_audio", "audio_url"):
                    found += _audio_violations(part, where, audio_url=audio_url)
                else:
                    found.append(f"{where}.type {part.get('type')!r} is not valid")
        elif not isinstance(content, str):
            found.append(f"messages[{i}].content must be a string or a list of parts")
    return found


@dataclass
class OpenAIEmulator(Emulator):
    """OpenAI at ``{base_url}/v1`` (xAI is the same protocol: only the root differs), with its Batch API
    (``tests/emulators/openai_batch.py``)."""

    #: Continuation tokens the "model" would not have chosen (loglikelihood is_greedy false).
    unlikely: tuple[str, ...] = ("B",)
    book: BatchBook = field(default_factory=BatchBook)
    files: dict[str, str] = field(default_factory=dict)
    batch_line_url: str = "/v1/chat/completions"

    def batch_answer(self, body: dict[str, Any], fault: tuple[int, str, str] | None) -> tuple[int, dict[str, Any]]:
        """One batched chat completion: what the interactive endpoint would answer."""
        found = chat_violations(body)
        if found:
            self.problems.extend(found)
            return 400, self.error_body(400, "; ".join(found), "invalid_request_error")
        if fault is not None:
            return fault[0], self.error_body(*fault)
        return 200, self.answer_body(body, self.answer(body))
    #: Also take vLLM's ``audio_url`` part (a vLLM server; OpenAI itself takes only ``input_audio``).
    vllm: bool = False

    @property
    def api_root(self) -> str:
        return f"{self.base_url}/v1"

    def routes(self) -> list[tuple[str, str, str]]:
        return [("POST", "/v1/chat/completions", "generate"), ("GET", "/v1/models", "models"),
                ("POST", "/v1/completions", "completions"), *openai_batch.routes("/v1")]

    def authorized(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {self.key}"

    def violations(self, request: web.Request, body: dict[str, Any]) -> list[str]:
        return chat_violations(body, audio_url=self.vllm)

    def error_body(self, status: int, message: str, code: str | None = None) -> dict[str, Any]:
        return {"error": {"message": message, "type": code or "invalid_request_error", "param": None, "code": code}}

    def answer_body(self, body: dict[str, Any], text: str) -> dict[str, Any]:
        return {"id": "chatcmpl-emu", "object": "chat.completion", "model": body["model"],
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                             "finish_reason": "stop"}],
                "usage": self.with_audio(self.usage(body, text), body)}

    @staticmethod
    def with_audio(usage: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        """Audio in the prompt as OpenAI counts it: 10 tokens a second, in ``prompt_tokens_details``."""
        audio = round(10 * audio_seconds(body))
        if not audio:
            return usage
        return {**usage, "prompt_tokens": usage["prompt_tokens"] + audio, "total_tokens": usage["total_tokens"] + audio,
                "prompt_tokens_details": {"audio_tokens": audio, "cached_tokens": 0}}

    def usage(self, body: dict[str, Any], text: str) -> dict[str, int]:
        if not self.count_tokens:
            return {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15}
        prompt, completion = openai_input_tokens(body), text_tokens(text)
        return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}

    async def handle_other(self, kind: str, request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        if kind != "completions":
            return await openai_batch.handle(self, kind, request)
        return await self._completions(body)

    async def _completions(self, body: dict[str, Any]) -> web.StreamResponse:
        """``/v1/completions`` with echo: a whitespace tokenizer; each token's logprob is -0.1 per character,
        and the top alternative at each position is the token itself unless it is in ``unlikely``."""
        if self.faults and "error" in self.faults[0]:
            status, message, code = self.faults.popleft()["error"]
            return self.error(status, message, code)
        expected = {"echo": True, "logprobs": 1, "max_tokens": 0}
        wrong = [f"{k} must be {v!r}" for k, v in expected.items() if body.get(k) != v]
        if wrong or not isinstance(body.get("prompt"), str):
            self.problems.extend(wrong or ["prompt must be a string"])
            return self.error(400, "; ".join(wrong or ["prompt must be a string"]))
        prompt: str = body["prompt"]
        tokens = _TOKEN.findall(prompt)
        offsets, position = [], 0
        for token in tokens:
            offsets.append(position)
            position += len(token)
        logprobs: list[float | None] = [None] + [round(-0.1 * len(t.strip() or t), 6) for t in tokens[1:]]
        top: list[dict[str, float] | None] = [None]
        for token, logprob in zip(tokens[1:], logprobs[1:], strict=True):
            assert logprob is not None
            best = logprob + 1.0 if token.strip() in self.unlikely else logprob
            top.append({token: logprob} if best == logprob else {" other": best, token: logprob})
        assert math.isclose(position, len(prompt))
        return web.json_response({
            "id": "cmpl-emu", "object": "text_completion", "model": body.get("model"),
            "choices": [{"index": 0, "text": prompt, "finish_reason": "length",
                         "logprobs": {"tokens": tokens, "token_logprobs": logprobs, "top_logprobs": top,
                                      "text_offset": offsets}}],
            "usage": {"prompt_tokens": len(tokens), "completion_tokens": 0, "total_tokens": len(tokens)},
        })


@dataclass
class AzureEmulator(OpenAIEmulator):
    deployment: str = "gpt4o-deploy"
    api_version: str = "2024-10-21"
    batch_line_url: str = "/chat/completions"

    def routes(self) -> list[tuple[str, str, str]]:
        return [("POST", "/openai/deployments/{deployment}/chat/completions", "generate"),
                ("GET", "/openai/models", "models"), *openai_batch.routes("/openai")]

    async def handle_other(self, kind: str, request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        if request.query.get("api-version") != self.api_version:
            self.problems.append(f"{request.path}: api-version {request.query.get('api-version')!r}")
            return self.error(404, "Resource not found", "404")
        return await super().handle_other(kind, request, body)

    def batch_answer(self, body: dict[str, Any], fault: tuple[int, str, str] | None) -> tuple[int, dict[str, Any]]:
        if body.get("model") != self.deployment:  # a global batch deployment is named as the model
            self.problems.append(f"batch line model {body.get('model')!r} is not the deployment")
        return super().batch_answer(body, fault)

    def authorized(self, request: web.Request) -> bool:
        return request.headers.get("api-key") == self.key and "Authorization" not in request.headers

    def violations(self, request: web.Request, body: dict[str, Any]) -> list[str]:
        found = chat_violations(body)
        if request.match_info.get("deployment") != self.deployment:
            found.append(f"deployment {request.match_info.get('deployment')!r} does not exist")
        if request.query.get("api-version") != self.api_version:
            found.append(f"api-version {request.query.get('api-version')!r} is not {self.api_version}")
        return found
