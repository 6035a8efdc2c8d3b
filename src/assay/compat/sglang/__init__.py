"""``sglang``'s frontend language, as lmms-eval judge helpers use it, answered by assay's judge.

lmms-eval's VDC helpers score captions with SGLang programs::

    @function
    def grade(s, qa):
        s += system("…")
        s += user(f"… {qa['question']} …")
        s += assistant(gen("answer_1", max_tokens=256))

    state = grade.run(qa=qa)      # after set_default_backend(RuntimeEndpoint("http://localhost:30000"))
    state["answer_1"]

Installed as the top-level ``sglang`` only when SGLang itself is not (see :mod:`assay.compat.clients`).
Each ``gen`` is one judgement of the run's judge with the conversation so far; the backend address is
ignored (the judge is the run's). A judgement that fails raises here — the helper's own handling decides
what it returns, and the sample is excluded either way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from assay.judge.outcome import Verdict
from assay.judge.runtime import judge_sync
from assay.types import GenerationParams


class SglangJudgeError(RuntimeError):
    """A ``gen`` got no usable answer from the judge (already counted in the sample's judge log)."""


@dataclass(frozen=True)
class Gen:
    name: str
    max_tokens: int | None = None
    temperature: float | None = None
    stop: tuple[str, ...] = ()


@dataclass(frozen=True)
class Turn:
    role: str
    content: str | Gen


def gen(name: str, max_tokens: int | None = None, temperature: float | None = None,
        stop: str | list[str] | None = None, **_: Any) -> Gen:
    stops = (stop,) if isinstance(stop, str) else tuple(stop or ())
    return Gen(name, max_tokens, temperature, stops)


def system(content: str | Gen) -> Turn:
    return Turn("system", content)


def user(content: str | Gen) -> Turn:
    return Turn("user", content)


def assistant(content: str | Gen) -> Turn:
    return Turn("assistant", content)


@dataclass
class ProgramState:
    """What ``s`` is inside a program: the conversation so far and every ``gen`` result by name."""

    messages: list[dict[str, str]] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)

    def __iadd__(self, turn: Turn | str) -> ProgramState:
        if isinstance(turn, str):
            turn = Turn("user", turn)
        content = turn.content
        if isinstance(content, Gen):
            content = self._generate(content)
        self.messages.append({"role": turn.role, "content": content})
        return self

    def _generate(self, spec: Gen) -> str:
        params = GenerationParams(max_tokens=spec.max_tokens, temperature=0.0 if spec.temperature is None
                                  else spec.temperature, stop=spec.stop)
        outcome = judge_sync(list(self.messages), None, params=params)
        if not isinstance(outcome, Verdict):
            raise SglangJudgeError(f"assay judge: {outcome.reason}: {outcome.detail}")
        self.variables[spec.name] = outcome.raw
        return outcome.raw

    def __getitem__(self, name: str) -> str:
        return self.variables[name]

    def text(self) -> str:
        return "\n".join(m["content"] for m in self.messages)


class SglFunction:
    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn
        self.__name__ = getattr(fn, "__name__", "sgl_function")

    def run(self, *args: Any, **kwargs: Any) -> ProgramState:
        for key in ("temperature", "max_new_tokens", "backend", "stream"):  # sampling options of run()
            kwargs.pop(key, None)
        state = ProgramState()
        self.fn(state, *args, **kwargs)
        return state

    def run_batch(self, batch_kwargs: list[dict[str, Any]], **_: Any) -> list[ProgramState]:
        return [self.run(**kwargs) for kwargs in batch_kwargs]

    def __call__(self, *args: Any, **kwargs: Any) -> ProgramState:
        return self.run(*args, **kwargs)


def function(fn: Callable[..., Any] | None = None, **_: Any) -> Any:
    """``@function`` or ``@function(num_api_spec_tokens=…)``."""
    if fn is None:
        return lambda f: SglFunction(f)
    return SglFunction(fn)


class RuntimeEndpoint:
    """Accepted and ignored: the judge is the run's (``--judge_model`` / ``--judge_args``)."""

    def __init__(self, base_url: str = "", *args: Any, **kwargs: Any) -> None:
        self.base_url = base_url


OpenAI = RuntimeEndpoint


def set_default_backend(backend: Any) -> None:
    """Accepted and ignored, like :class:`RuntimeEndpoint`."""


__all__ = ["OpenAI", "RuntimeEndpoint", "SglFunction", "assistant", "function", "gen", "set_default_backend",
           "system", "user"]
