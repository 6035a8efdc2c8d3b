"""An aiohttp application served on 127.0.0.1 from a thread of its own: the test servers' common part.

A server class builds its app in :meth:`LoopbackServer.make_app`; this class starts it on a free port,
stops it (cancelling handlers still sleeping on an injected delay), and is a context manager.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from aiohttp import web


class LoopbackServer:
    port: int = 0
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None

    def make_app(self) -> web.Application:
        raise NotImplementedError

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Any:
        ready = threading.Event()
        app = self.make_app()
        # A handler still sleeping on an injected delay must not hold shutdown for long.
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)

        def serve() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            loop.run_until_complete(runner.setup())
            site = web.TCPSite(runner, "127.0.0.1", 0)
            loop.run_until_complete(site.start())
            self.port = runner.addresses[0][1]
            ready.set()
            loop.run_forever()
            for task in asyncio.all_tasks(loop):
                task.cancel()  # delayed handlers whose client has gone
            loop.run_until_complete(runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=serve, daemon=True)
        self._thread.start()
        assert ready.wait(10), f"{type(self).__name__} did not start"
        return self

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self) -> Any:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
