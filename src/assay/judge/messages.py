"""A judge prompt in any of the shapes callers have: text, assay messages, or OpenAI chat dicts.

lmms-eval helpers build OpenAI-style ``[{"role": …, "content": str | [parts]}]`` lists with images as
``data:`` URLs; assay's own tasks build :class:`~assay.types.Message` tuples. Both become the same
:class:`~assay.types.Message` tuple, so every judge call goes through one provider translation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from assay.errors import ConfigError
from assay.types import ImagePart, Message, Part, Role, TextPart

Prompt = str | Message | Sequence[Message] | Sequence[Mapping[str, Any]]
_ROLES: dict[str, Role] = {"system": "system", "user": "user", "assistant": "assistant", "developer": "system"}


def to_messages(prompt: Prompt, system: str | None = None) -> tuple[Message, ...]:
    """``prompt`` as messages; ``system`` is prepended unless the prompt already has a system turn."""
    if isinstance(prompt, str):
        messages: tuple[Message, ...] = (Message.user(prompt),)
    elif isinstance(prompt, Message):
        messages = (prompt,)
    else:
        messages = tuple(m if isinstance(m, Message) else from_openai(m) for m in prompt)
    if system and not any(m.role == "system" for m in messages):
        messages = (Message("system", (TextPart(system),)), *messages)
    return messages


def from_openai(message: Mapping[str, Any]) -> Message:
    """One OpenAI chat message (``content`` a string or a list of text / image_url parts)."""
    role = _ROLES.get(str(message.get("role", "user")), "user")
    content = message.get("content")
    if content is None or isinstance(content, str):
        return Message(role, (TextPart(content or ""),))
    parts: list[Part] = []
    for part in content if isinstance(content, list) else [content]:
        if isinstance(part, str):
            parts.append(TextPart(part))
            continue
        kind = part.get("type")
        if kind in ("text", "input_text"):
            parts.append(TextPart(str(part.get("text", ""))))
        elif kind in ("image_url", "input_image"):
            url = part.get("image_url")
            url = url.get("url") if isinstance(url, Mapping) else url
            parts.append(image_from_url(str(url or "")))
        else:
            raise ConfigError(f"a judge prompt has a {kind!r} part, which assay's judge cannot send",
                              hint="judge prompts may hold text and image_url parts")
    return Message(role, tuple(parts))


def image_from_url(url: str) -> ImagePart:
    """A ``data:image/…;base64,…`` URL as an image part (lmms-eval sometimes leaves a space after the comma)."""
    if not url.startswith("data:"):
        raise ConfigError("a judge prompt's image is a remote URL, which assay's judge does not fetch",
                          hint="send images to the judge as data: URLs (base64)")
    header, _, data = url.partition(",")
    mime = header[5:].split(";")[0] or "image/png"
    return ImagePart(data.strip(), mime)


def prompt_text(messages: Sequence[Message]) -> str:
    """The prompt as one string, for logs and samples (media as placeholders)."""
    lines = []
    for message in messages:
        pieces = [p.text if isinstance(p, TextPart) else f"<{p.type}>" for p in message.parts]
        lines.append(f"{message.role}: {' '.join(pieces)}")
    return "\n".join(lines)
