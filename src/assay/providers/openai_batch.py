"""OpenAI's and Azure OpenAI's Batch API, as translation: a JSONL file of chat-completion requests is
uploaded (``files``, purpose ``batch``), a batch created over it, its state read, and its output and error
files read back. Azure serves the same protocol under ``/openai/…?api-version=`` with lines addressed to
``/chat/completions`` and the deployment as the model."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from assay.errors import ProviderError
from assay.providers._http import as_int, parse_json
from assay.providers.batch import BatchResult, BatchState, BatchStatus

if TYPE_CHECKING:
    from assay.providers.openai_compat import ChatCompletionsProvider
    from assay.types import Request

#: OpenAI's states in assay's words (they are the same words but for "canceling"/"cancelled").
_STATES: dict[str, BatchState] = {
    "validating": "validating", "in_progress": "in_progress", "finalizing": "finalizing",
    "completed": "completed", "failed": "failed", "expired": "expired", "cancelling": "cancelling",
    "canceling": "cancelling", "cancelled": "cancelled", "canceled": "cancelled",
}


class OpenAIBatchWire:
    vendor = "openai"
    max_requests = 50_000
    max_bytes = 190 * 1024 * 1024  # the file limit is 200 MB

    def __init__(self, provider: ChatCompletionsProvider, url: Callable[[str], str], line_url: str) -> None:
        self._provider = provider
        self._url = url  # "batches" -> where that collection lives
        self._line_url = line_url
        self._http = provider._http

    def line(self, custom_id: str, request: Request) -> bytes:
        body = {"custom_id": custom_id, "method": "POST", "url": self._line_url, "body": self._provider.body(request)}
        return json.dumps(body, ensure_ascii=False).encode("utf-8") + b"\n"

    async def submit(self, lines: Sequence[bytes]) -> BatchStatus:
        import aiohttp

        form = aiohttp.FormData()
        form.add_field("purpose", "batch")
        form.add_field("file", b"".join(lines), filename="assay_batch.jsonl", content_type="application/jsonl")
        payload = form()
        uploaded = await self._json("POST", self._url("files"), data=payload,
                                    headers={"Content-Type": payload.content_type})
        created = await self._json("POST", self._url("batches"), data=json.dumps({
            "input_file_id": uploaded["id"], "endpoint": self._line_url, "completion_window": "24h"}))
        return self._status(created)

    async def status(self, batch_id: str) -> BatchStatus:
        return self._status(await self._json("GET", self._url(f"batches/{batch_id}")))

    async def results(self, status: BatchStatus, custom_ids: Sequence[str]) -> list[BatchResult]:
        out: list[BatchResult] = []
        for ref in ("output_file_id", "error_file_id"):
            file_id = status.refs.get(ref)
            if not file_id:
                continue
            code, headers, text = await self._http.send("GET", self._url(f"files/{file_id}/content"))
            if code >= 400:
                raise self._provider.error(code, headers, text)
            out += [self._result(json.loads(line)) for line in text.splitlines() if line.strip()]
        return out

    def _result(self, line: dict[str, Any]) -> BatchResult:
        custom_id = str(line.get("custom_id"))
        response = line.get("response") or {}
        body = json.dumps(response.get("body") or {})
        code = as_int(response.get("status_code"))
        try:
            if code == 200:
                return BatchResult(custom_id, response=self._provider.parse(body))
            if code:
                return BatchResult(custom_id, error=self._provider.error(code, {}, body))
        except ProviderError as exc:  # a 200 that is a refusal or malformed
            return BatchResult(custom_id, error=exc)
        error = line.get("error") or {}
        expired = error.get("code") == "batch_expired"
        return BatchResult(custom_id, error=ProviderError(
            f"{self._provider.name} batch: {error.get('message') or 'no result for this request'}",
            hint="assay retries it in a follow-up batch" if expired else None,
            kind="timeout" if expired else "unknown", provider=self._provider.name))

    async def _json(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        code, headers, text = await self._http.send(method, url, **kwargs)
        if code >= 400:
            raise self._provider.error(code, headers, text)
        data = parse_json(text, provider=self._provider.name, where=self._provider._endpoint.base_url,
                          what="batch API answer")
        return data if isinstance(data, dict) else {}

    def _status(self, data: dict[str, Any]) -> BatchStatus:
        counts = data.get("request_counts") or {}
        errors = (data.get("errors") or {}).get("data") or []
        reason = "; ".join(f"{e.get('message')}" + (f" (line {e['line']})" if e.get("line") else "")
                           for e in errors if isinstance(e, dict)) or None
        return BatchStatus(
            id=str(data.get("id")), state=_STATES.get(str(data.get("status")), "in_progress"),
            total=as_int(counts.get("total")), succeeded=as_int(counts.get("completed")),
            failed=as_int(counts.get("failed")), reason=reason,
            refs={k: data.get(k) for k in ("output_file_id", "error_file_id") if data.get(k)})
