"""A minimal stub of every vendor's chat route for benchmarks: fixed latency, fixed answer, request stats.

Run as a separate process so that the client under test has its own core:
    python bench/stub_server.py --latency-ms 200   # prints the port on stdout
    python bench/stub_server.py --latency-ms 200 --answer '{"pred": "yes", "score": 4}'   # a judge
GET /stats -> {"count", "first_request_at", "last_answer_at"} (wall-clock seconds); POST /reset clears them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

BODY = json.dumps({
    "id": "chatcmpl-bench", "object": "chat.completion", "model": "bench",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "A"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 20, "completion_tokens": 1, "total_tokens": 21},
}).encode()

# The same fixed answer in each vendor's wire format (the providers under test parse these).
BODIES = {
    "openai": BODY,
    "anthropic": json.dumps({
        "id": "msg_bench", "type": "message", "role": "assistant", "model": "bench",
        "content": [{"type": "text", "text": "A"}], "stop_reason": "end_turn", "stop_sequence": None,
        "usage": {"input_tokens": 20, "output_tokens": 1},
    }).encode(),
    "gemini": json.dumps({
        "candidates": [{"content": {"parts": [{"text": "A"}], "role": "model"}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": {"promptTokenCount": 20, "candidatesTokenCount": 1, "totalTokenCount": 21},
        "modelVersion": "bench",
    }).encode(),
    "reka": json.dumps({
        "id": "reka-bench", "model": "bench",
        "responses": [{"finish_reason": "stop", "message": {"role": "assistant", "content": "A"}}],
        "usage": {"input_tokens": 20, "output_tokens": 1},
    }).encode(),
}
#: (path, vendor) of every chat route: OpenAI/xAI, Azure OpenAI, Anthropic, Gemini, Reka.
ROUTES = (
    ("/v1/chat/completions", "openai"),
    ("/openai/deployments/{deployment}/chat/completions", "openai"),
    ("/v1/messages", "anthropic"),
    ("/v1beta/models/{call}", "gemini"),
    ("/v1/chat", "reka"),
)

def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--answer", help="the OpenAI-format routes answer this text instead of 'A' (a judge stub)")
    args = parser.parse_args()
    if args.answer is not None:
        answer = json.loads(BODY)
        answer["choices"][0]["message"]["content"] = args.answer
        BODIES["openai"] = json.dumps(answer).encode()
    latency = args.latency_ms / 1000.0
    stats: dict[str, float | int | None] = {"count": 0, "first_request_at": None, "last_answer_at": None}

    def chat_handler(body: bytes) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def chat(request: web.Request) -> web.Response:
            await request.read()
            if stats["first_request_at"] is None:
                stats["first_request_at"] = time.time()
            stats["count"] = int(stats["count"] or 0) + 1
            if latency:
                await asyncio.sleep(latency)
            stats["last_answer_at"] = time.time()
            return web.Response(body=body, content_type="application/json")

        return chat

    async def get_stats(request: web.Request) -> web.Response:
        return web.json_response(stats)

    async def reset(request: web.Request) -> web.Response:
        stats.update(count=0, first_request_at=None, last_answer_at=None)
        return web.json_response(stats)

    async def serve() -> None:
        app = web.Application(client_max_size=256 * 1024 * 1024)  # video frames: requests of several MB
        for path, vendor in ROUTES:
            app.router.add_post(path, chat_handler(BODIES[vendor]))
        app.router.add_get("/stats", get_stats)
        app.router.add_post("/reset", reset)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
        await site.start()
        server = site._server
        assert server is not None and server.sockets
        print(server.sockets[0].getsockname()[1], flush=True)
        sys.stdout.close()
        await asyncio.Event().wait()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
