"""One request's estimate (tokens in, media, the output bound) and a run's totals, per task."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from assay.model.estimate.media import MediaRules, image_size
from assay.model.estimate.tokens import TextCounter
from assay.types import AudioPart, ImagePart, LoglikelihoodRequest, Message, Request, TextPart, VideoPart

#: The output bound assumed when neither the task nor --gen_kwargs sets max_tokens (said in the output).
ASSUMED_OUTPUT_BOUND = 4096


@dataclass
class Tally:
    """What a task (or the run) sends: requests, input tokens, media, and output tokens between a typical
    answer and the generation settings' bound."""

    requests: int = 0
    input_tokens: int = 0
    images: int = 0
    frames: int = 0
    audio_s: float = 0.0
    output_typical: int = 0
    output_bound: int = 0
    #: Requests with no max_tokens, whose bound is ASSUMED_OUTPUT_BOUND.
    unbounded: int = 0
    judge_requests: int = 0

    def add(self, other: Tally) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict[str, Any]:
        return {name: (round(value, 3) if isinstance(value, float) else value)
                for name, value in self.__dict__.items()}


@dataclass
class RequestCounter:
    """Counts requests by one vendor's rules."""

    rules: MediaRules
    text: TextCounter
    #: The provider's own max_tokens when the request sets none (Anthropic requires one: 1024).
    default_max_tokens: int | None = None

    def messages(self, messages: tuple[Message, ...], tally: Tally) -> int:
        tokens = self.rules.per_request
        for message in messages:
            tokens += self.rules.per_message + (self.text.count(message.role) if self.rules.per_message else 0)
            for part in message.parts:
                if isinstance(part, TextPart):
                    tokens += self.text.count(part.text)
                elif isinstance(part, ImagePart):
                    tally.images += 1
                    tokens += self._image(part)
                elif isinstance(part, VideoPart):  # sent as its frames
                    tally.frames += len(part.frames)
                    tokens += sum(self._image(frame) for frame in part.frames)
                elif isinstance(part, AudioPart):
                    tally.audio_s += part.duration_s
                    tokens += round(part.duration_s * (self.rules.audio_per_s or 0.0))
        return tokens

    def _image(self, part: ImagePart) -> int:
        width, height = image_size(part)
        return self.rules.image(width, height) if width and height else 0

    def generate(self, request: Request, typical: int, tally: Tally) -> None:
        tally.requests += 1
        tally.input_tokens += self.messages(request.messages, tally)
        bound = request.params.max_tokens or self.default_max_tokens
        if bound is None:
            tally.unbounded += 1
            bound = ASSUMED_OUTPUT_BOUND
        tally.output_bound += bound
        tally.output_typical += min(bound, typical)

    def loglikelihood(self, request: LoglikelihoodRequest, tally: Tally) -> None:
        """The context and the continuation are both input; nothing is generated."""
        tally.requests += 1
        tally.input_tokens += self.messages(request.context, tally) + self.text.count(request.continuation)


def typical_output(target: Any, counter: TextCounter) -> int:
    """A typical answer's length: the doc's target (its first one, for a list), at least one token."""
    if isinstance(target, (list, tuple)) and target:
        target = target[0]
    return max(1, counter.count(str(target)) if target is not None else 1)


@dataclass
class RunTally:
    """Per-task tallies, filled from worker threads (prompts are built off the event loop)."""

    counter: RequestCounter
    tasks: dict[str, Tally] = field(default_factory=dict)
    judged: frozenset[str] = frozenset()
    #: Every doc was counted before the run (a dry run, or --max_cost's check): nothing more to add.
    complete: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, task: str, target: Any, generate: tuple[Request, ...],
            loglikelihood: tuple[LoglikelihoodRequest, ...]) -> None:
        tally = Tally()
        typical = typical_output(target, self.counter.text) if generate else 0
        for request in generate:
            self.counter.generate(request, typical, tally)
        for ll_request in loglikelihood:
            self.counter.loglikelihood(ll_request, tally)
        if task in self.judged:
            tally.judge_requests += len(generate)
        with self._lock:
            self.tasks.setdefault(task, Tally()).add(tally)

    def total(self) -> Tally:
        total = Tally()
        for tally in self.tasks.values():
            total.add(tally)
        return total
