"""The part every vendor emulator shares: aiohttp on 127.0.0.1 in a background thread, a record of every
request, scripted faults, and a list of protocol violations found in what the client sent.

A vendor subclass says where its routes are (``routes``), how it checks the key (``authorized``), what a
valid request looks like (``violations``), how it shapes an error (``error_body``) and an answer
(``answer_body``). A request that breaks the protocol is answered the way the real service would (400
with the vendor's error shape) *and* recorded in ``problems``, so a test fails on both counts.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.loopback import LoopbackServer

Answer = Callable[[dict[str, Any]], str]


@dataclass
class Seen:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: dict[str, Any]
    raw: str = ""


@dataclass
class Emulator(LoopbackServer):
    key: str = "test-key-0123456789"
    answer: Answer = field(default=lambda body: "ok")
    requests: list[Seen] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    faults: deque[dict[str, Any]] = field(default_factory=deque)
    port: int = 0
    #: Bill input and output tokens as the vendor counts them (tests/emulators/tokens.py), not fixed numbers.
    count_tokens: bool = False

    # -- what a vendor subclass says ---------------------------------------------------------------
    def routes(self) -> list[tuple[str, str, str]]:
        """(method, path pattern, kind): kind ``generate``, ``models`` (the probe) or another the subclass
        handles in :meth:`handle_other`."""
        raise NotImplementedError

    def authorized(self, request: web.Request) -> bool:
        raise NotImplementedError

    def violations(self, request: web.Request, body: dict[str, Any]) -> list[str]:
        raise NotImplementedError

    def error_body(self, status: int, message: str, code: str | None = None) -> dict[str, Any]:
        raise NotImplementedError

    def answer_body(self, body: dict[str, Any], text: str) -> dict[str, Any]:
        raise NotImplementedError

    def models_body(self) -> Any:
        return {"object": "list", "data": [{"id": "m"}]}

    async def handle_other(self, kind: str, request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        raise NotImplementedError(kind)

    # -- scripting ---------------------------------------------------------------------------------
    def queue(self, *faults: dict[str, Any]) -> None:
        """Each fault is consumed by one generate request: ``{"status": 529, "body": {...}, "headers": {...}}``,
        ``{"error": (status, message, code)}`` (in the vendor's own error shape), ``{"reply": {...}}`` (a
        200 body as given), ``{"drop": True}``, ``{"malformed": True}``, ``{"delay": s}``."""
        self.faults.extend(faults)

    @property
    def base_url(self) -> str:
        """The address given to the provider as ``base_url`` (what the vendor's SDK calls its base URL)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return [r.body for r in self.requests]

    # -- serving -----------------------------------------------------------------------------------
    async def _dispatch(self, request: web.Request, kind: str) -> web.StreamResponse:
        multipart = request.content_type.startswith("multipart/")  # a file upload: its handler reads it
        raw = await request.text() if request.can_read_body and not multipart else ""
        try:
            import json

            body = json.loads(raw) if raw else {}
        except ValueError:
            body = {}
            self.problems.append(f"{request.path}: body is not JSON")
        self.requests.append(Seen(request.method, request.path, request.query_string, dict(request.headers), body,
                                  raw))
        if not self.authorized(request):
            return self.error(401, "invalid credential", "authentication_error")
        if kind == "models":
            return web.json_response(self.models_body())
        if kind != "generate":
            return await self.handle_other(kind, request, body)
        found = self.violations(request, body)
        if found:
            self.problems.extend(found)
            return self.error(400, "; ".join(found), "invalid_request_error")
        return await self._generate(request, body)

    def _handler(self, kind: str) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def handle(request: web.Request) -> web.StreamResponse:
            return await self._dispatch(request, kind)

        return handle

    def error(self, status: int, message: str, code: str | None = None,
              headers: dict[str, str] | None = None) -> web.Response:
        return web.json_response(self.error_body(status, message, code), status=status, headers=headers)

    async def _generate(self, request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        fault = self.faults.popleft() if self.faults else {}
        if "delay" in fault:
            await asyncio.sleep(fault["delay"])
        if fault.get("drop"):
            assert request.transport is not None
            request.transport.close()
            return web.Response()
        if fault.get("malformed"):
            return web.Response(text='{"partial": [', content_type="application/json")
        if "error" in fault:
            status, message, code = fault["error"]
            return self.error(status, message, code, fault.get("headers"))
        if "status" in fault:
            return web.json_response(fault.get("body", {}), status=fault["status"], headers=fault.get("headers"))
        if "reply" in fault:
            return web.json_response(fault["reply"])
        return web.json_response(self.answer_body(body, self.answer(body)))

    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        for method, path, kind in self.routes():
            app.router.add_route(method, path, self._handler(kind))
        return app


# -- checks several vendors share -------------------------------------------------------------------

IMAGE_MIME = ("image/png", "image/jpeg", "image/gif", "image/webp")


def check_base64_image(data: Any, mime: Any, where: str) -> list[str]:
    """A base64 image payload as vendors check it: a known image type whose bytes start like one."""
    if mime not in IMAGE_MIME:
        return [f"{where}: media type {mime!r} is not one of {', '.join(IMAGE_MIME)}"]
    if not isinstance(data, str) or not data:
        return [f"{where}: image data is missing"]
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return [f"{where}: image data is not valid base64"]
    magic = {"image/png": b"\x89PNG", "image/jpeg": b"\xff\xd8", "image/gif": b"GIF8", "image/webp": b"RIFF"}
    if not raw.startswith(magic[mime]):
        return [f"{where}: image bytes are not {mime}"]
    return []


#: What the audio APIs take inline, and how each format's bytes start.
AUDIO_MAGIC = {"wav": (b"RIFF",), "mp3": (b"ID3", b"\xff\xfb", b"\xff\xf3")}
AUDIO_MIME = {"audio/wav": "wav", "audio/x-wav": "wav", "audio/mpeg": "mp3", "audio/mp3": "mp3"}


def check_base64_audio(data: Any, fmt: Any, where: str) -> list[str]:
    """A base64 audio payload: a format the API takes (wav, mp3) whose bytes decode as that format."""
    if fmt not in AUDIO_MAGIC:
        return [f"{where}: audio format {fmt!r} is not one of {', '.join(AUDIO_MAGIC)}"]
    if not isinstance(data, str) or not data:
        return [f"{where}: audio data is missing"]
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return [f"{where}: audio data is not valid base64"]
    if not raw.startswith(AUDIO_MAGIC[fmt]) or (fmt == "wav" and raw[8:12] != b"WAVE"):
        return [f"{where}: audio bytes are not {fmt}"]
    return []


def audio_seconds(body: dict[str, Any]) -> float:
    """Seconds of wav audio in a chat-completions or Gemini body (what the vendors bill audio tokens by)."""
    import io
    import wave

    clips: list[str] = []
    for message in body.get("messages") or []:
        for part in message.get("content") if isinstance(message.get("content"), list) else []:
            if part.get("type") == "input_audio":
                clips.append((part.get("input_audio") or {}).get("data", ""))
    for content in body.get("contents") or []:
        clips += [p["inlineData"].get("data", "") for p in content.get("parts") or []
                  if str((p.get("inlineData") or {}).get("mimeType", "")).startswith("audio/")]
    seconds = 0.0
    for data in clips:
        try:
            with wave.open(io.BytesIO(base64.b64decode(data))) as clip:
                seconds += clip.getnframes() / clip.getframerate()
        except (wave.Error, EOFError, binascii.Error, ValueError):
            continue
    return seconds


def check_data_url(url: Any, where: str, *, audio: bool = False) -> list[str]:
    """A ``data:…;base64,`` URL of an image (or, with ``audio``, of an audio clip)."""
    if not isinstance(url, str) or not url.startswith("data:") or ";base64," not in url:
        return [f"{where}: expected a data:…;base64, URL"]
    header, _, data = url.partition(";base64,")
    mime = header.removeprefix("data:")
    if audio:
        return check_base64_audio(data, AUDIO_MIME.get(mime, mime), where)
    return check_base64_image(data, mime, where)


#: How each vendor words an unknown request key ({key}, {where}), as its API answers it with a 400.
UNKNOWN_KEY = {
    "openai": "Unrecognized request argument supplied: {key}",
    "anthropic": "{where}.{key}: Extra inputs are not permitted",
    "gemini": 'Invalid JSON payload received. Unknown name "{key}" at \'{where}\': Cannot find field.',
    "reka": "{where}: unexpected field {key}",
}


def only_keys(obj: dict[str, Any], allowed: set[str], where: str, vendor: str = "reka") -> list[str]:
    """One message per key the vendor does not take, worded as that vendor words it."""
    return [UNKNOWN_KEY[vendor].format(key=key, where=where) for key in sorted(set(obj) - allowed)]
