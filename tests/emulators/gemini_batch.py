"""Gemini's batch mode: ``POST /v1beta/models/{model}:batchGenerateContent`` (``batch.input_config.requests
.requests``: each a ``request`` and its ``metadata``) answered with an operation ``batches/{id}``;
``GET /v1beta/batches/{id}`` (``metadata.state`` ``BATCH_STATE_*``, ``batchStats``, ``done``, and once done
``response.inlinedResponses.inlinedResponses`` in request order, each a ``response`` or an ``error``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from tests.emulators.batches import Batch, book_fails

if TYPE_CHECKING:
    from tests.emulators.gemini import GeminiEmulator

ROUTES = [("GET", "/v1beta/batches/{batch_id}", "batch_get"),
          ("POST", "/v1beta/batches/{batch_id}:cancel", "batch_cancel")]
_STATES = {"validating": "BATCH_STATE_PENDING", "in_progress": "BATCH_STATE_RUNNING",
           "finalizing": "BATCH_STATE_RUNNING", "cancelling": "BATCH_STATE_RUNNING",
           "completed": "BATCH_STATE_SUCCEEDED", "failed": "BATCH_STATE_FAILED",
           "cancelled": "BATCH_STATE_CANCELLED", "expired": "BATCH_STATE_EXPIRED"}


def operation(batch: Batch, model: str) -> dict[str, Any]:
    done = batch.state in ("completed", "failed", "cancelled", "expired")
    name = f"batches/{batch.id}"
    op: dict[str, Any] = {
        "name": name,
        "metadata": {"@type": "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch",
                     "name": name, "model": model, "displayName": "assay", "state": _STATES[batch.state],
                     "batchStats": {"requestCount": str(len(batch.requests)),
                                    "successfulRequestCount": str(sum(1 for o in batch.outcomes if o.status == 200)),
                                    "failedRequestCount": str(batch.failed_count)}},
        "done": done,
    }
    if done and batch.outcomes:
        op["response"] = {
            "@type": "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatchOutput",
            "inlinedResponses": {"inlinedResponses": [
                {"response": o.body} if o.status == 200 else {"error": o.error["error"] if o.error else {}}
                for o in batch.outcomes]}}
    if batch.state == "failed":
        op["error"] = {"code": 400, "message": batch.reason or "batch failed"}
    return op


async def create(emu: GeminiEmulator, request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
    model = "models/" + request.match_info["call"].removesuffix(":batchGenerateContent")
    batch_body = body.get("batch") or {}
    items = (((batch_body.get("input_config") or {}).get("requests") or {}).get("requests")) or []
    if not batch_body.get("display_name") or not isinstance(items, list) or not items:
        emu.problems.append(f"batchGenerateContent: bad body {str(body)[:200]}")
        return emu.error(400, "batch.display_name and batch.input_config.requests are required")
    requests = []
    for n, item in enumerate(items):
        found = emu.violations(request, item.get("request") or {}, call=model + ":generateContent")
        key = (item.get("metadata") or {}).get("key")
        if found or not isinstance(key, str):
            emu.problems.extend(found or [f"requests[{n}].metadata.key missing"])
            return emu.error(400, "; ".join(found) or "metadata.key missing")
        requests.append((key, item["request"]))
    batch = emu.book.create("", requests)
    batch.state = "validating"
    return web.json_response(operation(batch, model))


async def handle(emu: GeminiEmulator, kind: str, request: web.Request) -> web.StreamResponse:
    batch = emu.book.batches.get(request.match_info.get("batch_id", ""))
    if batch is None:
        return emu.error(404, "batch not found")
    if kind == "batch_get" and book_fails(emu):
        return emu.error(503, "the service is having a bad minute", "server_error")
    if kind == "batch_cancel":
        batch.script = ["cancelling", "cancelled"]
        return web.json_response({})
    return web.json_response(operation(emu.book.advance(batch, emu.batch_answer), "models/m"))
