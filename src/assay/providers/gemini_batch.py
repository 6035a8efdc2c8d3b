"""Gemini's batch mode, as translation: ``POST /{version}/models/{model}:batchGenerateContent`` with the
requests inline (each a ``generateContent`` body with ``metadata.key``), ``GET /{version}/batches/{id}``
(an operation whose ``metadata.state`` is ``BATCH_STATE_*``), and, once done, the inlined responses in the
order the requests were given (each a response or an error)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from assay.errors import ProviderError
from assay.providers._http import JsonClient, as_int, parse_json
from assay.providers.batch import BatchResult, BatchState, BatchStatus

if TYPE_CHECKING:
    from assay.providers.gemini import GeminiProvider
    from assay.types import Request

#: A pending batch is one the service has not accepted to run yet: assay waits past it before submitting the
#: next, so a batch the service fails is reported before anything else is sent.
_STATES: dict[str, BatchState] = {
    "BATCH_STATE_PENDING": "validating", "BATCH_STATE_RUNNING": "in_progress",
    "BATCH_STATE_SUCCEEDED": "completed", "BATCH_STATE_FAILED": "failed", "BATCH_STATE_CANCELLED": "cancelled",
    "BATCH_STATE_EXPIRED": "expired",
}


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


class GeminiBatchWire:
    vendor = "gemini"
    max_requests = 10_000
    max_bytes = 19 * 1024 * 1024  # inline requests: 20 MB per batch

    def __init__(self, provider: GeminiProvider, http: JsonClient, root: str, model: str) -> None:
        self._provider = provider
        self._http = http
        self._root = root  # {base_url}/{api_version}
        self._model = model

    def line(self, custom_id: str, request: Request) -> bytes:
        return json.dumps({"request": self._provider.body(request), "metadata": {"key": custom_id}},
                          ensure_ascii=False).encode("utf-8")

    async def submit(self, lines: Sequence[bytes]) -> BatchStatus:
        body = (b'{"batch":{"display_name":"assay","input_config":{"requests":{"requests":['
                + b",".join(lines) + b"]}}}}")
        return self._status(await self._json("POST", f"{self._root}/models/{self._model}:batchGenerateContent",
                                              data=body))

    async def status(self, batch_id: str) -> BatchStatus:
        return self._status(await self._json("GET", f"{self._root}/{batch_id}"))

    async def results(self, status: BatchStatus, custom_ids: Sequence[str]) -> list[BatchResult]:
        out = []
        for position, item in enumerate(status.refs.get("inlined") or []):
            item = _dict(item)
            key = _dict(item.get("metadata")).get("key") or (custom_ids[position] if position < len(custom_ids)
                                                             else None)
            if key is None:
                continue
            try:
                if "response" in item:
                    out.append(BatchResult(str(key), response=self._provider.parse(json.dumps(item["response"]))))
                    continue
            except ProviderError as exc:  # a blocked prompt or answer, or a malformed response
                out.append(BatchResult(str(key), error=exc))
                continue
            error = _dict(item.get("error"))
            out.append(BatchResult(str(key), error=self._provider.error(as_int(error.get("code")) or 500, {},
                                                                        json.dumps({"error": error}))))
        return out

    async def _json(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        code, headers, text = await self._http.send(method, url, **kwargs)
        if code >= 400:
            raise self._provider.error(code, headers, text)
        data = parse_json(text, provider=self._provider.name, where=self._root, what="batch operation")
        return data if isinstance(data, dict) else {}

    def _status(self, data: dict[str, Any]) -> BatchStatus:
        metadata = _dict(data.get("metadata"))
        stats = _dict(metadata.get("batchStats"))
        output = _dict(data.get("response")) or _dict(metadata.get("output"))
        inlined = _dict(output.get("inlinedResponses")).get("inlinedResponses") or []
        error = _dict(data.get("error"))
        return BatchStatus(
            id=str(data.get("name") or metadata.get("name")),
            state=_STATES.get(str(metadata.get("state")), "in_progress"),
            total=as_int(stats.get("requestCount")), succeeded=as_int(stats.get("successfulRequestCount")),
            failed=as_int(stats.get("failedRequestCount")), reason=str(error["message"]) if error else None,
            refs={"inlined": inlined} if inlined else {})
