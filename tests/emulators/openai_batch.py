"""OpenAI's Batch API as OpenAI (``/v1/files``, ``/v1/batches``) and Azure OpenAI (``/openai/…?api-version``)
serve it: a JSONL file uploaded as multipart form data with ``purpose=batch``, a batch created over it and
read back (``status``, ``request_counts``, ``output_file_id``, ``error_file_id``, ``errors``), and the output
and error files as JSONL (``custom_id``, ``response.status_code``, ``response.body``, ``error``)."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from aiohttp import web

from tests.emulators.batches import Batch, BatchBook, book_fails

if TYPE_CHECKING:
    from tests.emulators.openai import OpenAIEmulator

_CUSTOM_ID = re.compile(r"^.{1,512}$")


def routes(prefix: str) -> list[tuple[str, str, str]]:
    return [("POST", f"{prefix}/files", "files"), ("POST", f"{prefix}/batches", "batch_create"),
            ("GET", f"{prefix}/batches/{{batch_id}}", "batch_get"),
            ("POST", f"{prefix}/batches/{{batch_id}}/cancel", "batch_cancel"),
            ("GET", f"{prefix}/files/{{file_id}}/content", "file_content")]


def validate(lines: list[str], line_url: str) -> tuple[list[tuple[str, dict[str, Any]]], str | None]:
    """(requests, why the batch fails validation or None), as OpenAI checks an input file."""
    requests: list[tuple[str, dict[str, Any]]] = []
    seen: set[str] = set()
    for number, line in enumerate(lines, 1):
        try:
            item = json.loads(line)
        except ValueError:
            return [], f"line {number} is not valid JSON"
        custom_id = item.get("custom_id")
        if not isinstance(custom_id, str) or not _CUSTOM_ID.match(custom_id) or custom_id in seen:
            return [], f"line {number}: custom_id must be a unique string"
        if item.get("method") != "POST" or item.get("url") != line_url:
            return [], f"line {number}: method must be POST and url {line_url}"
        seen.add(custom_id)
        requests.append((custom_id, item.get("body") or {}))
    models = {body.get("model") for _, body in requests}
    if len(models) > 1:
        return [], "all requests in a batch must use the same model"
    return requests, None if requests else "the input file is empty"


def batch_object(emu: OpenAIEmulator, batch: Batch) -> dict[str, Any]:
    done = [o for o in batch.outcomes]
    data: dict[str, Any] = {
        "id": batch.id, "object": "batch", "endpoint": emu.batch_line_url, "status": batch.state,
        "input_file_id": f"file-in-{batch.id}", "completion_window": "24h",
        "request_counts": {"total": len(batch.requests), "completed": sum(1 for o in done if o.status == 200),
                           "failed": batch.failed_count},
        "output_file_id": f"file-out-{batch.id}" if done else None,
        "error_file_id": f"file-err-{batch.id}" if batch.failed_count or batch.state == "expired" else None,
        "errors": None,
    }
    if batch.reason:
        data["errors"] = {"object": "list", "data": [{"code": "invalid_request", "message": batch.reason, "line": 1}]}
    return data


def _file(emu: OpenAIEmulator, batch: Batch, which: str) -> str:
    lines = []
    for outcome in batch.outcomes:
        if (outcome.status == 200) != (which == "out"):
            continue
        lines.append({"id": f"batch_req_{outcome.custom_id[:8]}", "custom_id": outcome.custom_id,
                      "response": {"status_code": outcome.status, "request_id": "req_emu",
                                   "body": outcome.body if outcome.status == 200 else outcome.error}, "error": None})
    if which == "err" and batch.state == "expired":
        ran = {o.custom_id for o in batch.outcomes}
        lines += [{"id": "batch_req_x", "custom_id": custom_id, "response": None,
                   "error": {"code": "batch_expired", "message": "This request could not be executed before the "
                             "completion window expired."}} for custom_id, _ in batch.requests if custom_id not in ran]
    return "".join(json.dumps(line) + "\n" for line in lines)


async def handle(emu: OpenAIEmulator, kind: str, request: web.Request) -> web.StreamResponse:
    book: BatchBook = emu.book
    if kind == "files":
        form = await request.post()
        upload = form.get("file")
        if form.get("purpose") != "batch" or not isinstance(upload, web.FileField):
            emu.problems.append("files: expected purpose=batch and a file part")
            return emu.error(400, "purpose must be batch, with a file")
        file_id = f"file-{len(emu.files) + 1}"
        emu.files[file_id] = upload.file.read().decode("utf-8")
        return web.json_response({"id": file_id, "object": "file", "purpose": "batch",
                                  "bytes": len(emu.files[file_id])})
    if kind == "batch_create":
        body = json.loads(await request.text())
        text = emu.files.get(str(body.get("input_file_id")))
        if text is None or body.get("endpoint") != emu.batch_line_url or body.get("completion_window") != "24h":
            emu.problems.append(f"batches: bad create body {body}")
            return emu.error(400, "input_file_id, endpoint and completion_window are required")
        requests, reason = validate([line for line in text.splitlines() if line.strip()], emu.batch_line_url)
        return web.json_response(batch_object(emu, book.create("batch_", requests, reason)))
    batch = book.batches.get(request.match_info.get("batch_id", "")) if kind != "file_content" else None
    if kind == "batch_get" and book_fails(emu):
        return emu.error(503, "the service is having a bad minute", "server_error")
    if kind == "batch_get" and batch is not None:
        return web.json_response(batch_object(emu, book.advance(batch, emu.batch_answer)))
    if kind == "batch_cancel" and batch is not None:
        batch.script = ["cancelling", "cancelled"]
        return web.json_response(batch_object(emu, batch))
    if kind == "file_content":
        which, _, batch_id = request.match_info["file_id"].removeprefix("file-").partition("-")
        found = book.batches.get(batch_id)
        if found is not None and which in ("out", "err"):
            return web.Response(text=_file(emu, found, which), content_type="application/jsonl")
    return emu.error(404, "no such object", "not_found")
