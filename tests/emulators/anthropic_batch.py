"""Anthropic's Message Batches: ``POST /v1/messages/batches`` (``requests``: ``custom_id`` + ``params``,
checked when the batch is created: a bad one is refused there with 400), ``GET …/{id}``
(``processing_status`` in_progress → canceling → ended, ``request_counts``, ``results_url``) and
``GET …/{id}/results`` (JSONL of ``succeeded`` / ``errored`` / ``expired`` / ``canceled`` results)."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from aiohttp import web

from tests.emulators.batches import Batch, book_fails

if TYPE_CHECKING:
    from tests.emulators.anthropic import AnthropicEmulator

_CUSTOM_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
ROUTES = [("POST", "/v1/messages/batches", "batch_create"), ("GET", "/v1/messages/batches/{batch_id}", "batch_get"),
          ("GET", "/v1/messages/batches/{batch_id}/results", "batch_results"),
          ("POST", "/v1/messages/batches/{batch_id}/cancel", "batch_cancel")]


def batch_object(emu: AnthropicEmulator, batch: Batch) -> dict[str, Any]:
    ended = batch.state in ("completed", "expired", "cancelled", "failed")
    ran = {o.custom_id for o in batch.outcomes}
    never = len(batch.requests) - len(ran) if ended else 0
    return {
        "id": batch.id, "type": "message_batch",
        "processing_status": "ended" if ended else "canceling" if batch.state == "cancelling" else "in_progress",
        "request_counts": {"processing": 0 if ended else len(batch.requests),
                           "succeeded": sum(1 for o in batch.outcomes if o.status == 200),
                           "errored": batch.failed_count,
                           "canceled": never if batch.state == "cancelled" else 0,
                           "expired": never if batch.state == "expired" else 0},
        "results_url": f"{emu.base_url}/v1/messages/batches/{batch.id}/results" if ended else None,
    }


def _results(batch: Batch) -> str:
    lines = []
    for outcome in batch.outcomes:
        result = ({"type": "succeeded", "message": outcome.body} if outcome.status == 200
                  else {"type": "errored", "error": outcome.error})
        lines.append({"custom_id": outcome.custom_id, "result": result})
    ran = {o.custom_id for o in batch.outcomes}
    never = "canceled" if batch.state == "cancelled" else "expired"
    lines += [{"custom_id": c, "result": {"type": never}} for c, _ in batch.requests if c not in ran]
    return "".join(json.dumps(line) + "\n" for line in lines)


async def handle(emu: AnthropicEmulator, kind: str, request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
    if kind == "batch_create":
        items = body.get("requests")
        if not isinstance(items, list) or not items:
            return emu.error(400, "requests: at least one request is required", "invalid_request_error")
        ids = [item.get("custom_id") for item in items]
        bad = [i for i in ids if not isinstance(i, str) or not _CUSTOM_ID.match(i)]
        found = [f"requests[{n}]: {v}" for n, item in enumerate(items)
                 for v in emu.violations(request, item.get("params") or {})]
        if emu.book.reject is not None:  # Anthropic refuses a bad batch when it is created
            why, emu.book.reject = emu.book.reject, None
            return emu.error(400, why, "invalid_request_error")
        if bad or len(set(ids)) != len(ids) or found:
            why = "; ".join(found) or f"custom_id must be unique and match ^[a-zA-Z0-9_-]{{1,64}}$: {bad[:1]}"
            emu.problems.append(why)
            return emu.error(400, why, "invalid_request_error")
        batch = emu.book.create("msgbatch_", [(item["custom_id"], item["params"]) for item in items])
        batch.state = "in_progress"  # Anthropic has no validating state: it validated above
        return web.json_response(batch_object(emu, batch))
    batch = emu.book.batches.get(request.match_info.get("batch_id", ""))
    if batch is None:
        return emu.error(404, "batch not found", "not_found_error")
    if kind == "batch_get" and book_fails(emu):
        return emu.error(503, "the service is having a bad minute", "server_error")
    if kind == "batch_get":
        return web.json_response(batch_object(emu, emu.book.advance(batch, emu.batch_answer)))
    if kind == "batch_cancel":
        batch.script = ["cancelling", "cancelled"]
        return web.json_response(batch_object(emu, batch))
    return web.Response(text=_results(batch), content_type="application/binary")
