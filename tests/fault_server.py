"""A small OpenAI-compatible server on loopback for what llmock does not script.

llmock (a maintained package) covers HTTP errors, Retry-After, delays and scripted replies; this adds
the non-streaming faults it lacks — a connection dropped before any response, a malformed JSON body —
and an *oracle* mode that answers each request from its content, so answer-key tests can run with
real concurrency. It runs aiohttp in a background thread and counts every request it sees.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from aiohttp import web

from tests.loopback import LoopbackServer

Answer = Callable[[dict[str, Any]], str]


def last_user_text(body: dict[str, Any]) -> str:
    content = body["messages"][-1]["content"]
    if isinstance(content, str):
        return content
    return " ".join(p.get("text", "") for p in content if p.get("type") == "text")


class FaultServer(LoopbackServer):
    def __init__(self, answer: Answer | None = None,
                 logprobs: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> None:
        self.answer: Answer = answer or (lambda body: "ok")
        self.logprobs = logprobs
        self.faults: deque[dict[str, Any]] = deque()
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.urls: list[str] = []  # path and query of every request
        self.sticky: dict[str, Any] = {}  # the fault for every request once the queue is empty
        #: A fault chosen from the request itself (once the queue is empty), for faults that must meet one
        #: known sample however requests interleave: body -> fault dict ({} for a normal answer).
        self.fault_for: Callable[[dict[str, Any]], dict[str, Any]] | None = None
        self._lock = threading.Lock()
        self.latency = 0.0  # seconds every answer takes (faults' own delays come on top)
        self.in_flight = 0
        self.max_in_flight = 0  # the most requests the server was holding at once

    # -- scripting ---------------------------------------------------------------------------------
    def queue(self, *faults: dict[str, Any]) -> None:
        """Each fault is consumed by one request: {"drop": True}, {"malformed": True},
        {"status": 503, "headers": {...}, "body": {...}}, {"empty": True}, {"delay": 0.5},
        {"raw": b"...", "status": 200}, {"redirect": "http://elsewhere/v1/chat/completions"},
        {"usage": {...}} (a normal answer with these usage fields), {"text": "this answer instead"},
        {"finish_reason": "content_filter"}. ``sticky`` faults apply to every request once the queue is empty."""
        with self._lock:
            self.faults.extend(faults)

    @property
    def count(self) -> int:
        with self._lock:
            return len(self.requests)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    # -- server ------------------------------------------------------------------------------------
    async def _chat(self, request: web.Request) -> web.StreamResponse:
        try:
            body = await request.json()
        except ValueError:  # a redirected request (aiohttp turns some into GETs): no body
            body = {}
        with self._lock:
            self.requests.append(body)
            self.headers.append(dict(request.headers))
            self.urls.append(str(request.rel_url))
            fault = self.faults.popleft() if self.faults else dict(self.sticky)
            if not fault and self.fault_for is not None:
                fault = self.fault_for(body)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.latency:
                await asyncio.sleep(self.latency)
            return await self._answer(request, body, fault)
        finally:
            with self._lock:
                self.in_flight -= 1

    async def _answer(self, request: web.Request, body: dict[str, Any], fault: dict[str, Any]) -> web.StreamResponse:
        if "delay" in fault:
            await asyncio.sleep(fault["delay"])
        if fault.get("drop"):
            assert request.transport is not None
            request.transport.close()  # no status line at all: the client sees a dropped connection
            return web.Response()
        if fault.get("malformed"):
            return web.Response(text='{"id": "x", "choices": [', content_type="application/json")
        if "raw" in fault:  # any bytes at all (not UTF-8, not JSON)
            return web.Response(body=fault["raw"], status=fault.get("status", 200),
                                content_type=fault.get("content_type", "application/json"))
        if "redirect" in fault:
            raise web.HTTPTemporaryRedirect(fault["redirect"])
        if "status" in fault:
            return web.json_response(fault.get("body", {"error": {"message": "injected"}}),
                                     status=fault["status"], headers=fault.get("headers"))
        text = "" if fault.get("empty") else fault.get("text", self.answer(body))
        finish = fault.get("finish_reason", "stop")
        return web.json_response({
            "id": "chatcmpl-test", "object": "chat.completion", "model": body.get("model", "m"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish}],
            "usage": fault.get("usage", {"prompt_tokens": 11, "completion_tokens": 3, "total_tokens": 14}),
        }, headers=fault.get("headers"))

    async def _completions(self, request: web.Request) -> web.StreamResponse:
        """``/v1/completions`` with ``echo`` + ``logprobs`` (log-likelihood scoring): ``self.logprobs(body)``
        gives the ``logprobs`` object (tokens, token_logprobs, text_offset, top_logprobs) of the prompt."""
        body = await request.json()
        with self._lock:
            self.requests.append(body)
            self.headers.append(dict(request.headers))
        if self.logprobs is None:
            return web.json_response({"error": {"message": "no completions here"}}, status=404)
        return web.json_response({
            "id": "cmpl-test", "object": "text_completion", "model": body.get("model", "m"),
            "choices": [{"index": 0, "text": body["prompt"], "logprobs": self.logprobs(body),
                         "finish_reason": "length"}],
            "usage": {"prompt_tokens": len(body["prompt"]), "completion_tokens": 0},
        })

    async def _models(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": "m"}]})

    def make_app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/v1/chat/completions", self._chat)
        # Azure OpenAI's shape: the deployment in the path, the API version in the query.
        app.router.add_post("/openai/deployments/{deployment}/chat/completions", self._chat)
        app.router.add_get("/v1/models", self._models)
        app.router.add_post("/v1/completions", self._completions)
        return app

