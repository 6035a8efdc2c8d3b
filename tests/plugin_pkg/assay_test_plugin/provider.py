"""EchoProvider: answers the number in the last user message plus one (so a task can score it)."""

from __future__ import annotations

import asyncio
import re
from typing import Any, ClassVar

from assay.types import Request, Response, Usage


class EchoProvider:
    name: ClassVar[str] = "echo"
    max_concurrency: ClassVar[int | None] = None
    accepts_media: ClassVar[bool] = False

    def __init__(self, settings: Any, model_args: dict[str, Any]) -> None:
        self._model = str(model_args.get("model", "echo-1"))
        # A misbehaving plugin, on request: fail_at=init|generate, fail_with=SystemExit|BaseException|CancelledError
        self._fail_at, self._fail_with = model_args.get("fail_at"), str(model_args.get("fail_with", ""))
        if self._fail_at == "init":
            self._fail()

    def _fail(self) -> None:
        if self._fail_with == "SystemExit":
            raise SystemExit(0)
        if self._fail_with == "CancelledError":
            raise asyncio.CancelledError()
        raise BaseException("the plugin gave up")

    @property
    def model_name(self) -> str:
        return self._model

    def identity(self) -> dict[str, Any]:
        return {"provider": "echo", "model": self._model}

    async def generate(self, request: Request) -> Response:
        if self._fail_at == "generate":
            self._fail()
        numbers = re.findall(r"\d+", request.messages[-1].text)
        answer = str(int(numbers[-1]) + 1) if numbers else "none"
        return Response(text=answer, usage=Usage(10, 1), model=self._model)

    async def aclose(self) -> None:
        return None


class EchoKeyed(EchoProvider):
    """Declares the credential it needs, so assay's preflight checks it before a run."""

    name: ClassVar[str] = "echo_keyed"
    credentials: ClassVar[tuple[str, ...]] = ("openai_api_key",)


class EchoAcme(EchoProvider):
    """A vendor assay does not know: declares its own key variable, reads it through Settings.variable, and
    (as a careless server might) echoes it in every answer, so a test can see it masked everywhere."""

    name: ClassVar[str] = "echo_acme"
    credentials: ClassVar[tuple[str, ...]] = ("ACME_API_KEY",)

    def __init__(self, settings: Any, model_args: dict[str, Any]) -> None:
        args = dict(model_args)
        self._key = str(args.pop("api_key", None) or settings.variable("ACME_API_KEY")[0])
        super().__init__(settings, args)

    async def generate(self, request: Request) -> Response:
        answer = await super().generate(request)
        return Response(text=f"{answer.text} (key {self._key})", usage=answer.usage, model=answer.model)
