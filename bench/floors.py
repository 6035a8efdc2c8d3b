"""Bare client loops against the stub: the floors assay's own dispatch is compared with.

    python bench/floors.py aiohttp|httpx|openai URL N CONCURRENCY
Prints one JSON line: {"wall_s": …}.
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


def main() -> None:
    kind, url, n, c = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    start = time.perf_counter()
    asyncio.run({"aiohttp": with_aiohttp, "httpx": with_httpx, "openai": with_openai}[kind](url, n, c))
    print(json.dumps({"wall_s": time.perf_counter() - start}))


if __name__ == "__main__":
    main()
