"""The most one attempt can cost, in tokens, known before it is sent: what the cost cap reserves.

Input: a token never covers less than one byte, so a text's UTF-8 length bounds its tokens; each message
adds a few for its framing; each image, video frame and second of audio counts at the provider's declared
worst case (``max_image_tokens``, ``max_audio_tokens_per_s`` class attributes) or at generous defaults.
Output: the request's ``max_tokens``, else the provider's ``max_output_tokens``, else a stated default.
A bound is loose on purpose: the cap holds as long as no answer costs more than its bound.
"""

from __future__ import annotations

from typing import Any

from assay.types import AudioPart, ImagePart, LoglikelihoodRequest, Message, Request, TextPart, Usage, VideoPart

#: Tokens per image when the provider declares none (OpenAI high detail at its largest tiling ~1,100;
#: gpt-4o-mini bills images ~33x that per tile: a provider that knows better declares max_image_tokens).
DEFAULT_IMAGE_TOKENS = 6_000
DEFAULT_AUDIO_TOKENS_PER_S = 100
#: Output tokens assumed when neither the request nor the provider sets a maximum.
DEFAULT_MAX_OUTPUT_TOKENS = 16_384
_PER_MESSAGE = 16  # a message's framing (role, separators): 3-4 tokens at OpenAI, more on some servers
_PER_REQUEST = 8  # the reply's priming


def worst_case(request: Request | LoglikelihoodRequest, provider: Any = None) -> Usage:
    """The most ``request`` can be billed by ``provider``."""
    if isinstance(request, LoglikelihoodRequest):
        return Usage(_input(request.context, provider) + len(request.continuation.encode()), 1)
    output = request.params.max_tokens or getattr(provider, "max_output_tokens", None) or DEFAULT_MAX_OUTPUT_TOKENS
    return Usage(_input(request.messages, provider), int(output))


def _input(messages: tuple[Message, ...], provider: Any) -> int:
    image = int(getattr(provider, "max_image_tokens", None) or DEFAULT_IMAGE_TOKENS)
    audio = float(getattr(provider, "max_audio_tokens_per_s", None) or DEFAULT_AUDIO_TOKENS_PER_S)
    total = _PER_REQUEST
    for message in messages:
        total += _PER_MESSAGE
        for part in message.parts:
            if isinstance(part, TextPart):
                total += len(part.text.encode("utf-8", "surrogatepass"))
            elif isinstance(part, ImagePart):
                total += image
            elif isinstance(part, VideoPart):
                total += image * max(1, len(part.frames))
            elif isinstance(part, AudioPart):
                total += int(audio * max(1.0, part.duration_s)) + 1
    return total
