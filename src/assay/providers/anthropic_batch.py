"""Anthropic's Message Batches, as translation: ``POST /v1/messages/batches`` with every request inline
(``custom_id`` + the Messages ``params``), ``GET …/{id}`` for ``processing_status`` and ``request_counts``,
and the ``results_url`` JSONL (``succeeded`` with the message, ``errored`` with the error, ``expired``,
``canceled``). Anthropic validates a batch when it is created: a bad one is refused there (400)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from assay.errors import ProviderError
from assay.providers._http import JsonClient, as_int, parse_json
from assay.providers.batch import BatchResult, BatchState, BatchStatus

if TYPE_CHECKING:
    from assay.providers.anthropic import AnthropicProvider
    from assay.types import Request

#: An errored result carries the error body without an HTTP status: the status its type means.
_TYPE_STATUS = {"invalid_request_error": 400, "authentication_error": 401, "permission_error": 403,
                "not_found_error": 404, "request_too_large": 413, "rate_limit_error": 429, "api_error": 500,
                "overloaded_error": 529}


class AnthropicBatchWire:
    vendor = "anthropic"
    max_requests = 100_000
    max_bytes = 250 * 1024 * 1024  # the limit is 256 MB

    def __init__(self, provider: AnthropicProvider, http: JsonClient, url: str) -> None:
        self._provider = provider
        self._http = http
        self._url = url

    def line(self, custom_id: str, request: Request) -> bytes:
        return json.dumps({"custom_id": custom_id, "params": self._provider.body(request)},
                          ensure_ascii=False).encode("utf-8")

    async def submit(self, lines: Sequence[bytes]) -> BatchStatus:
        return self._status(await self._json("POST", self._url, data=b'{"requests":[' + b",".join(lines) + b"]}"))

    async def status(self, batch_id: str) -> BatchStatus:
        return self._status(await self._json("GET", f"{self._url}/{batch_id}"))

    async def results(self, status: BatchStatus, custom_ids: Sequence[str]) -> list[BatchResult]:
        url = status.refs.get("results_url")
        if not url:
            return []
        code, headers, text = await self._http.send("GET", str(url))
        if code >= 400:
            raise self._provider.error(code, headers, text)
        return [self._result(json.loads(line)) for line in text.splitlines() if line.strip()]

    def _result(self, line: dict[str, Any]) -> BatchResult:
        custom_id, result = str(line.get("custom_id")), line.get("result") or {}
        kind = result.get("type")
        try:
            if kind == "succeeded":
                return BatchResult(custom_id, response=self._provider.parse(json.dumps(result.get("message"))))
        except ProviderError as exc:  # a refusal, or a malformed message
            return BatchResult(custom_id, error=exc)
        if kind == "errored":
            body = result.get("error") or {}
            error_type = (body.get("error") or {}).get("type")
            return BatchResult(custom_id, error=self._provider.error(_TYPE_STATUS.get(str(error_type), 500), {},
                                                                     json.dumps(body)))
        return BatchResult(custom_id)  # expired or canceled: it never ran

    async def _json(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        code, headers, text = await self._http.send(method, url, **kwargs)
        if code >= 400:
            raise self._provider.error(code, headers, text)
        data = parse_json(text, provider=self._provider.name, where=self._url, what="message batch")
        return data if isinstance(data, dict) else {}

    def _status(self, data: dict[str, Any]) -> BatchStatus:
        counts = {k: as_int(v) for k, v in (data.get("request_counts") or {}).items()}
        state: BatchState = "in_progress"
        if data.get("processing_status") == "canceling":
            state = "cancelling"
        elif data.get("processing_status") == "ended":
            state = "cancelled" if counts.get("canceled") else "expired" if counts.get("expired") else "completed"
        return BatchStatus(id=str(data.get("id")), state=state, total=sum(counts.values()),
                           succeeded=counts.get("succeeded", 0), failed=counts.get("errored", 0),
                           refs={"results_url": data.get("results_url")} if data.get("results_url") else {})
