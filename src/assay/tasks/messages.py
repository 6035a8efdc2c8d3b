"""Turn lmms-eval visuals and chat lists into :class:`assay.types.Message` values.

Encoding is :mod:`assay.media`'s job (imported on first use, so listing tasks never loads PIL); this module
only decides which part each item becomes: an image, a video (by its file extension) or audio (a ``datasets``
Audio value, an audio file path, or bytes that start like an audio file).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from assay.errors import TaskError
from assay.types import AudioPart, ImagePart, Message, Part, TextPart, VideoPart

MediaPart = ImagePart | VideoPart | AudioPart

VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mov", ".webm", ".mkv"})
_ROLES = frozenset({"system", "user", "assistant"})


def is_video_path(value: str | Path) -> bool:
    return Path(str(value)).suffix.lower() in VIDEO_SUFFIXES


def visual_part(item: Any, *, num_frames: int = 8, audio_max_seconds: float | None = None) -> MediaPart:
    """One ``doc_to_visual`` item: a PIL image, image or audio bytes, an audio value, or a path (by extension)."""
    from assay.media.audio import is_audio_path, is_audio_value, looks_like_audio
    from assay.media.image import encode_image
    from assay.media.video import video_part

    if isinstance(item, (str, Path)):
        if is_audio_path(item):
            return _audio(item, audio_max_seconds)
        part: ImagePart | VideoPart = (
            video_part(item, num_frames=num_frames) if is_video_path(item) else encode_image(item)
        )
        return part
    if is_audio_value(item):
        return _audio(item, audio_max_seconds)
    if isinstance(item, (bytes, bytearray)):
        return _audio(bytes(item), audio_max_seconds) if looks_like_audio(bytes(item)) else encode_image(bytes(item))
    if isinstance(item, dict) and ("bytes" in item or "path" in item):
        # an undecoded `datasets` Image value: {"bytes": ..., "path": ...}
        if item.get("bytes"):
            return visual_part(bytes(item["bytes"]), num_frames=num_frames, audio_max_seconds=audio_max_seconds)
        if item.get("path"):
            return visual_part(item["path"], num_frames=num_frames, audio_max_seconds=audio_max_seconds)
    if _is_pil_image(item):
        return encode_image(item)
    raise TaskError(
        f"doc_to_visual returned an unsupported {type(item).__name__}",
        hint="return PIL images, image or audio bytes, datasets Audio values, or image/video/audio file paths",
    )


def _audio(item: Any, max_seconds: float | None) -> AudioPart:
    from assay.media.audio import encode_audio

    return encode_audio(item) if max_seconds is None else encode_audio(item, max_seconds=max_seconds)


def _is_pil_image(item: Any) -> bool:
    module = sys.modules.get("PIL.Image")  # if PIL was never imported, this cannot be a PIL image
    return module is not None and isinstance(item, module.Image)


def visual_parts(visuals: Any, *, num_frames: int = 8, audio_max_seconds: float | None = None) -> list[MediaPart]:
    if visuals is None:
        return []
    items: Iterable[Any] = visuals if isinstance(visuals, (list, tuple)) else [visuals]
    return [visual_part(v, num_frames=num_frames, audio_max_seconds=audio_max_seconds) for v in items if v is not None]


def user_message(parts: Sequence[MediaPart], text: str) -> Message:
    """lmms-eval puts the visuals (and audio) before the question."""
    return Message("user", (*parts, TextPart(text)))


def convert_chat(chat: Any, *, num_frames: int = 8, audio_max_seconds: float | None = None) -> tuple[Message, ...]:
    """lmms-eval chat format (``[{"role", "content": [{"type": ...}, ...]}]``) to messages."""
    if not isinstance(chat, list) or not chat:
        raise TaskError("doc_to_messages must return a non-empty list of {role, content} dicts")
    messages: list[Message] = []
    for turn in chat:
        role = turn.get("role") if isinstance(turn, dict) else None
        if role not in _ROLES:
            raise TaskError(f"doc_to_messages: role must be one of {sorted(_ROLES)}, got {role!r}")
        content = turn.get("content")
        items = [{"type": "text", "text": content}] if isinstance(content, str) else content
        if not isinstance(items, list):
            raise TaskError("doc_to_messages: content must be a string or a list of parts")
        messages.append(Message(role, tuple(_chat_part(p, num_frames, audio_max_seconds) for p in items)))
    return tuple(messages)


def _chat_part(item: Any, num_frames: int, audio_max_seconds: float | None) -> Part:
    kind = item.get("type") if isinstance(item, dict) else None
    if kind == "text":
        return TextPart(str(item.get("text", "")))
    if kind in ("image", "video", "audio"):
        value = item.get("url", item.get(kind))
        if value is None:
            raise TaskError(f"doc_to_messages: {kind} part has no `url`")
        if kind == "video":
            from assay.media.video import video_part

            return video_part(value, num_frames=num_frames)
        if kind == "audio":
            return _audio(value, audio_max_seconds)
        return visual_part(value, num_frames=num_frames, audio_max_seconds=audio_max_seconds)
    raise TaskError(
        f"doc_to_messages: part type {kind!r} is not supported",
        hint="supported part types: text, image, video, audio",
    )
