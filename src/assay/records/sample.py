"""The per-sample record written to samples JSONL (lmms-eval field names where they exist)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from assay.text import clip
from assay.types import AudioPart, ImagePart, Request, Response, SampleError, TextPart, VideoPart

if TYPE_CHECKING:
    from assay.records.schema import AudioRef, MediaRef, SampleErrorRecord, SampleRecord

_MAX_DOC_STRING = 2000


def describe_messages(request: Request) -> list[dict[str, str]]:
    """The prompt as logged: text verbatim, media as placeholders (never the base64 payload)."""
    out = []
    for message in request.messages:
        pieces: list[str] = []
        for part in message.parts:
            if isinstance(part, TextPart):
                pieces.append(part.text)
            elif isinstance(part, ImagePart):
                pieces.append("<image>")
            elif isinstance(part, VideoPart):
                pieces.append(f"<video {len(part.frames)} frames>")
            elif isinstance(part, AudioPart):
                pieces.append(f"<audio {part.duration_s:g} s>")
        out.append({"role": message.role, "content": "".join(pieces) if len(pieces) == 1 else " ".join(pieces)})
    return out


def audio_parts(request: Request) -> list[AudioRef]:
    """What the samples file says about each audio part sent: never the bytes."""
    out: list[AudioRef] = []
    for message in request.messages:
        for part in message.parts:
            if isinstance(part, AudioPart):
                ref: AudioRef = {"format": part.format, "duration_s": part.duration_s,
                                 "sample_rate": part.sample_rate, "sha256": part.sha256}
                if part.source:
                    ref["source"] = part.source
                out.append(ref)
    return out


def loggable_doc(doc: dict[str, Any]) -> dict[str, Any]:
    """The doc without images/bytes and with long strings cut, so sample files stay readable."""
    out: dict[str, Any] = {}
    for key, value in doc.items():
        kind = type(value)  # the plain kinds most values are, first (no media check for them)
        if kind is str:
            out[key] = value if len(value) <= _MAX_DOC_STRING else clip(value, _MAX_DOC_STRING)
        elif kind is int or kind is float or kind is bool or value is None:
            out[key] = value
        elif _is_audio(value):
            out[key] = "<audio>"
        elif isinstance(value, (bytes, bytearray)) or (hasattr(value, "size") and hasattr(value, "mode")):
            out[key] = "<image>"
        elif isinstance(value, str) and len(value) > _MAX_DOC_STRING:
            out[key] = clip(value, _MAX_DOC_STRING)
        elif isinstance(value, (str, int, float, bool)) or value is None:
            out[key] = value
        elif isinstance(value, (list, tuple)) and all(isinstance(v, (str, int, float, bool)) for v in value):
            out[key] = list(value)
        elif isinstance(value, dict):
            out[key] = loggable_doc(value)
        else:
            out[key] = f"<{type(value).__name__}>"
    return out


def _is_audio(value: Any) -> bool:
    """A ``datasets`` Audio cell (decoded, or as assay loads it: :class:`assay.media.audio.AudioValue`)."""
    if type(value).__name__ == "AudioValue":
        return True
    return isinstance(value, dict) and "array" in value and "sampling_rate" in value


def sample_record(
    *,
    task: str,
    doc_id: int,
    doc: dict[str, Any],
    target: Any,
    request: Request,
    response: Response | None,
    error: SampleError | None,
    scores: dict[str, Any] | None,
    latency_s: float,
    media: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """``media``: thumbnails saved for this sample (``--log_media``), see :mod:`assay.sinks.media`."""
    text = response.text if response is not None else None
    record: SampleRecord = {  # the declared shape: mypy checks every key and value against the schema
        "task": task,
        "doc_id": doc_id,
        "doc": loggable_doc(doc),
        "target": target,
        "arguments": {"messages": describe_messages(request), "gen_kwargs": request.params.as_dict()},
        "resps": [[text]] if text is not None else [],
        "filtered_resps": [text] if text is not None else [],
        "metrics": scores or {},
        "error": cast("SampleErrorRecord", error.as_dict()) if error else None,
        "usage": (
            {"input_tokens": response.usage.input_tokens, "output_tokens": response.usage.output_tokens,
             **({"audio_input_tokens": response.usage.audio_input_tokens} if response.usage.audio_input_tokens
                else {})}
            if response is not None
            else None
        ),
        "attempts": response.attempts if response is not None else (error.attempts if error else 0),
        "cached": bool(response and response.cached),
        "latency_s": round(latency_s, 4),
    }
    audio = audio_parts(request)
    if audio:
        record["audio"] = audio
    if media:
        record["media"] = cast("list[MediaRef]", media)
    return cast(dict[str, Any], record)
