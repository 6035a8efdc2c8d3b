"""Plain data shared by every layer: messages, requests, responses, usage, sample errors.

Imports nothing of ours, so any module may depend on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True, slots=True)
class TextPart:
    text: str
    type: Literal["text"] = "text"


@dataclass(frozen=True, slots=True)
class ImagePart:
    """An image, encoded once (base64) when the message is built, never per request."""

    data_b64: str
    mime_type: str = "image/png"
    type: Literal["image"] = "image"

    @property
    def data_url(self) -> str:
        return f"data:{self.mime_type};base64,{self.data_b64}"


@dataclass(frozen=True, slots=True)
class VideoPart:
    """A video as the frames sampled from it (each an encoded image)."""

    frames: tuple[ImagePart, ...]
    source: str = ""
    type: Literal["video"] = "video"


AudioFormat = Literal["wav", "mp3"]


@dataclass(frozen=True, slots=True)
class AudioPart:
    """A clip, decoded, resampled and encoded once (base64 wav or mp3) when the message is built.

    ``sha256`` is of the encoded bytes (the cache key and the samples record use it, never the bytes);
    ``duration_s`` and ``sample_rate`` describe what is sent (after any trimming and resampling).
    """

    data_b64: str
    format: AudioFormat = "wav"
    sample_rate: int = 16000
    duration_s: float = 0.0
    sha256: str = ""
    source: str = ""
    type: Literal["audio"] = "audio"

    @property
    def mime_type(self) -> str:
        return "audio/mpeg" if self.format == "mp3" else "audio/wav"

    @property
    def data_url(self) -> str:
        return f"data:{self.mime_type};base64,{self.data_b64}"


Part = TextPart | ImagePart | VideoPart | AudioPart


@dataclass(frozen=True, slots=True)
class Message:
    role: Role
    parts: tuple[Part, ...]

    @classmethod
    def user(cls, text: str) -> Message:
        return cls("user", (TextPart(text),))

    @property
    def text(self) -> str:
        """The text parts joined, for text-only providers and logs."""
        return "".join(p.text for p in self.parts if isinstance(p, TextPart))

    def has_media(self) -> bool:
        return any(not isinstance(p, TextPart) for p in self.parts)

    def has_audio(self) -> bool:
        return any(isinstance(p, AudioPart) for p in self.parts)


@dataclass(frozen=True, slots=True)
class GenerationParams:
    """Generation parameters sent to the provider (they are part of the cache key)."""

    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop: tuple[str, ...] = ()
    seed: int | None = None
    extra: tuple[tuple[str, Any], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.max_tokens is not None:
            out["max_tokens"] = self.max_tokens
        if self.temperature is not None:
            out["temperature"] = self.temperature
        if self.top_p is not None:
            out["top_p"] = self.top_p
        if self.stop:
            out["stop"] = list(self.stop)
        if self.seed is not None:
            out["seed"] = self.seed
        out.update(dict(self.extra))
        return out


@dataclass(frozen=True, slots=True)
class Request:
    messages: tuple[Message, ...]
    params: GenerationParams = field(default_factory=GenerationParams)
    task: str = ""
    doc_id: int = 0
    #: which of a task's `repeats` generations this is (0 for the first); later ones are fresh samples
    repeat: int = 0

    def has_media(self) -> bool:
        return any(m.has_media() for m in self.messages)

    def has_audio(self) -> bool:
        return any(m.has_audio() for m in self.messages)


@dataclass(frozen=True, slots=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    #: Of ``input_tokens``, those the vendor counted for audio (priced apart where the vendor does).
    audio_input_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(self.input_tokens + other.input_tokens, self.output_tokens + other.output_tokens,
                     self.audio_input_tokens + other.audio_input_tokens)


@dataclass(frozen=True, slots=True)
class Response:
    text: str
    usage: Usage = field(default_factory=Usage)
    model: str = ""
    finish_reason: str | None = None
    attempts: int = 1
    cached: bool = False


@dataclass(frozen=True, slots=True)
class LoglikelihoodRequest:
    """lmms-eval's ``loglikelihood`` request: log P(``continuation`` | ``context``).

    ``context`` is the prompt as messages (a text-only provider uses their text); ``continuation`` is one
    candidate answer (a ``multiple_choice`` task sends one request per choice). How the two are joined
    (a raw completion prompt, or the continuation as the start of the assistant turn of a chat template)
    is the provider's business and part of its identity.
    """

    context: tuple[Message, ...]
    continuation: str
    task: str = ""
    doc_id: int = 0

    def has_media(self) -> bool:
        return any(m.has_media() for m in self.context)


@dataclass(frozen=True, slots=True)
class Loglikelihood:
    """The answer to a :class:`LoglikelihoodRequest`: the summed log-probability of the continuation's
    tokens and whether greedy decoding would have produced exactly the continuation."""

    logprob: float
    is_greedy: bool
    usage: Usage = field(default_factory=Usage)
    attempts: int = 1
    cached: bool = False


@dataclass(frozen=True, slots=True)
class SampleError:
    """A request that still failed after retries: recorded on its sample, never scored."""

    type: str
    message: str
    status: int | None = None
    attempts: int = 1
    request_id: str | None = None  # the vendor's id for the failed request, for their support

    def as_dict(self) -> dict[str, Any]:
        record: dict[str, Any] = {"type": self.type, "status": self.status, "message": self.message,
                                  "attempts": self.attempts}
        if self.request_id is not None:
            record["request_id"] = self.request_id
        return record
