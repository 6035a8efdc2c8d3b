"""Bare client loops against the stub: the floors assay's own dispatch is compared with.

    python bench/floors.py aiohttp|aiohttp-uvloop|httpx|openai|anthropic|genai URL N CONCURRENCY
URL is the OpenAI-style root (``…/v1``); the Anthropic and Gemini SDKs get the server root, as their
``base_url`` means. Every SDK is built with its own retries off. Prints one JSON line: {"wall_s": …}.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

BODY = {"model": "bench", "messages": [{"role": "user", "content": "What is 2+2? A. 3 B. 4"}], "max_tokens": 8}


async def with_aiohttp(url: str, n: int, c: int) -> None:
    import aiohttp

    sem = asyncio.Semaphore(c)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

        async def one() -> None:
            async with sem, session.post(f"{url}/chat/completions", json=BODY) as resp:
                json.loads(await resp.text())

        await asyncio.gather(*(one() for _ in range(n)))


async def with_httpx(url: str, n: int, c: int) -> None:
    import httpx

    sem = asyncio.Semaphore(c)
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=c)) as client:

        async def one() -> None:
            async with sem:
                (await client.post(f"{url}/chat/completions", json=BODY)).json()

        await asyncio.gather(*(one() for _ in range(n)))


async def with_openai(url: str, n: int, c: int) -> None:
    from openai import AsyncOpenAI

    sem = asyncio.Semaphore(c)
    client = AsyncOpenAI(base_url=url, api_key="bench", max_retries=0)

    async def one() -> None:
        async with sem:
            await client.chat.completions.create(**BODY)  # type: ignore[call-overload]

    await asyncio.gather(*(one() for _ in range(n)))
    await client.close()


async def with_anthropic(url: str, n: int, c: int) -> None:
    from anthropic import AsyncAnthropic

    sem = asyncio.Semaphore(c)
    client = AsyncAnthropic(base_url=url.removesuffix("/v1"), api_key="bench", max_retries=0)

    async def one() -> None:
        async with sem:
            await client.messages.create(model="bench", max_tokens=8, messages=BODY["messages"])  # type: ignore[arg-type]

    await asyncio.gather(*(one() for _ in range(n)))
    await client.close()


async def with_genai(url: str, n: int, c: int) -> None:
    from google import genai
    from google.genai import types

    sem = asyncio.Semaphore(c)
    # retry_options left unset: the SDK makes one attempt unless told otherwise.
    client = genai.Client(api_key="bench", http_options=types.HttpOptions(base_url=url.removesuffix("/v1"),
                                                                              api_version="v1beta"))

    async def one() -> None:
        async with sem:
            await client.aio.models.generate_content(model="bench", contents="What is 2+2? A. 3 B. 4",
                                                     config=types.GenerateContentConfig(max_output_tokens=8))

    await asyncio.gather(*(one() for _ in range(n)))


CLIENTS = {"aiohttp": with_aiohttp, "httpx": with_httpx, "openai": with_openai, "anthropic": with_anthropic,
           "genai": with_genai, "aiohttp-uvloop": with_aiohttp}


def main() -> None:
    kind, url, n, c = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    start = time.perf_counter()
    if kind.endswith("-uvloop"):  # the same loop on uvloop's event loop, which `assay run` goes on when installed
        import uvloop

        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(CLIENTS[kind](url, n, c))
    else:
        asyncio.run(CLIENTS[kind](url, n, c))
    print(json.dumps({"wall_s": time.perf_counter() - start}))


if __name__ == "__main__":
    main()
