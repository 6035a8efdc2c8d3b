"""How many input tokens an image costs, by each vendor's published rule.

- OpenAI (GPT-4o, GPT-4.1, o1/o3, GPT-5): the image is fit inside 2048×2048, then its short side brought
  down to 768; each 512-pixel tile costs a fixed amount on top of a base (85 + 170 per tile for GPT-4o;
  GPT-4o-mini bills 2,833 + 5,667 so that its price per image matches GPT-4o's). GPT-4.1-mini/nano and
  o4-mini count 32-pixel patches (at most 1,536) times a multiplier instead.
- Anthropic: width × height / 750 after the image is brought within 1,568 pixels on its long edge and
  about 1.15 megapixels.
- Gemini (2.0 and later): 258 for an image within 384×384; a larger one is cut into tiles of
  min(width, height) / 1.5 (between 256 and 768 pixels), 258 each.

Other OpenAI-compatible vendors (xAI, Reka, vLLM servers) publish no rule: the GPT-4o rule stands in.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Callable
from dataclasses import dataclass

from assay.types import ImagePart

ImageRule = Callable[[int, int], int]


def _tiles(base: int, per_tile: int) -> ImageRule:
    def rule(width: int, height: int) -> int:
        w, h = float(width), float(height)
        if max(w, h) > 2048:
            scale = 2048 / max(w, h)
            w, h = w * scale, h * scale
        if min(w, h) > 768:
            scale = 768 / min(w, h)
            w, h = w * scale, h * scale
        return base + per_tile * math.ceil(w / 512) * math.ceil(h / 512)

    return rule


def _patches(multiplier: float) -> ImageRule:
    def rule(width: int, height: int) -> int:
        patches = math.ceil(width / 32) * math.ceil(height / 32)
        if patches > 1536:
            r = math.sqrt(32 * 32 * 1536 / (width * height))
            r *= min(math.floor(width * r / 32) / (width * r / 32), math.floor(height * r / 32) / (height * r / 32))
            patches = min(1536, math.ceil(width * r / 32) * math.ceil(height * r / 32))
        return math.ceil(patches * multiplier)

    return rule


def anthropic_image(width: int, height: int) -> int:
    scale = min(1.0, 1568 / max(width, height), math.sqrt(1_150_000 / (width * height)))
    return math.ceil(round(width * scale) * round(height * scale) / 750)


def gemini_image(width: int, height: int) -> int:
    if width <= 384 and height <= 384:
        return 258
    unit = min(768, max(256, math.floor(min(width, height) / 1.5)))
    return 258 * math.ceil(width / unit) * math.ceil(height / unit)


GPT_4O = _tiles(85, 170)
#: OpenAI models by name prefix (longest match wins): their image rule.
OPENAI_RULES: dict[str, ImageRule] = {
    "gpt-4o": GPT_4O, "gpt-4o-mini": _tiles(2833, 5667), "gpt-4.1": GPT_4O, "gpt-4.5": GPT_4O,
    "o1": GPT_4O, "o3": GPT_4O, "gpt-5": _tiles(70, 140), "gpt-5-mini": _patches(1.62),
    "gpt-5-nano": _patches(2.46), "gpt-4.1-mini": _patches(1.62), "gpt-4.1-nano": _patches(2.46),
    "o4-mini": _patches(1.72),
}


@dataclass(frozen=True)
class MediaRules:
    """One vendor's image rule, and the tokens its chat format adds per message and per request."""

    vendor: str
    image: ImageRule
    per_message: int
    per_request: int
    #: Tokens per second of audio (None: the vendor publishes no rate).
    audio_per_s: float | None = None


def openai_rule(model: str) -> ImageRule:
    name = model.rsplit("/", 1)[-1]
    matches = [m for m in OPENAI_RULES if name == m or name.startswith(m + "-")]
    return OPENAI_RULES[max(matches, key=len)] if matches else GPT_4O


def rules_for(provider: str, model: str) -> MediaRules:
    """The counting rules for ``--model provider`` serving ``model``."""
    if provider in ("anthropic", "claude"):
        return MediaRules("anthropic", anthropic_image, per_message=4, per_request=3)
    if provider in ("gemini", "gemini_api"):
        return MediaRules("gemini", gemini_image, per_message=0, per_request=0, audio_per_s=32.0)
    # OpenAI's chat format: 3 tokens around each message (and its role), 3 to prime the reply.
    return MediaRules("openai", openai_rule(model), per_message=3, per_request=3, audio_per_s=10.0)


#: Base64 characters decoded to find an image's size, tried in turn: its header is in the first few bytes
#: (a JPEG's may follow tens of KB of EXIF/ICC), and some formats (WebP) want the whole file.
HEADER_CHARS = (4 * 1024, 4 * 32 * 1024)


def image_size(part: ImagePart) -> tuple[int, int]:
    """(width, height) from the encoded image's header (only its first bytes are decoded, not the whole
    image: a megabyte of base64 takes milliseconds); (0, 0) when it cannot be read."""
    from PIL import Image, UnidentifiedImageError

    for chars in (*HEADER_CHARS, len(part.data_b64)):
        try:
            with Image.open(io.BytesIO(base64.b64decode(part.data_b64[:chars]))) as img:
                return int(img.width), int(img.height)
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
            if chars >= len(part.data_b64):
                break
    return 0, 0
