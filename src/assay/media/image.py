"""Turning images into message parts, encoded once when the message is built (video frames: :mod:`.video`).

:func:`encode_image` takes a PIL image, a file path or raw bytes and returns an
:class:`~assay.types.ImagePart` that fits the providers' limits:

* the longest side is at most ``max_side`` (aspect ratio kept, Lanczos resampling);
* the **base64 payload** is at most ``max_bytes`` — providers count the encoded string (Anthropic
  rejects an image whose base64 exceeds 5 MiB), so that is what the cap measures;
* EXIF orientation is applied, so the model sees the image the way a viewer shows it;
* PNG or JPEG files that already fit are passed through byte for byte (no generation loss);
* otherwise ``format="auto"`` keeps lossless PNG unless the source was a JPEG, falling back to JPEG
  at decreasing quality (90 … 40) when the PNG is over the cap. Transparency is kept in PNG and
  flattened onto white for JPEG.

PIL is imported inside the functions, so importing this module is cheap. Every failure
the user can fix (missing or unreadable file, not an image, cannot fit the cap) is a
:class:`~assay.errors.ConfigError` with a hint.
"""

from __future__ import annotations

import base64
import io
import math
from pathlib import Path
from typing import TYPE_CHECKING, Literal, cast

from assay.errors import ConfigError
from assay.types import ImagePart

if TYPE_CHECKING:
    from PIL import Image

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_SIDE",
    "ImageFormat",
    "encode_image",
]

DEFAULT_MAX_SIDE = 2048
DEFAULT_MAX_BYTES = 5 * 1024 * 1024

ImageFormat = Literal["auto", "png", "jpeg"]

_JPEG_QUALITIES = (90, 80, 70, 60, 50, 40)
_LOSSY_FORMATS = frozenset({"JPEG", "MPO"})
_PASS_THROUGH_MODES = {"PNG": frozenset({"RGB", "RGBA", "L", "LA", "P"}), "JPEG": frozenset({"RGB", "L"})}
_MIME = {"PNG": "image/png", "JPEG": "image/jpeg"}
_ORIENTATION_TAG = 0x0112
_SIZE_HINT = "raise max_bytes, lower max_side, or use format='auto'/'jpeg'"


def _b64_len(n_bytes: int) -> int:
    return 4 * ((n_bytes + 2) // 3)


def _part(data: bytes, fmt: str) -> ImagePart:
    return ImagePart(data_b64=base64.b64encode(data).decode("ascii"), mime_type=_MIME[fmt])


def encode_image(
    image: Image.Image | str | Path | bytes,
    *,
    max_side: int = DEFAULT_MAX_SIDE,
    max_bytes: int = DEFAULT_MAX_BYTES,
    format: ImageFormat = "auto",
) -> ImagePart:
    """Encode ``image`` (PIL image, file path or file bytes) as a base64 PNG or JPEG part.

    ``max_side`` bounds the longest side in pixels; ``max_bytes`` bounds the base64 payload;
    ``format`` forces ``"png"`` (raises if it cannot fit) or ``"jpeg"``, or picks (``"auto"``).
    A PIL image passed in is never modified. Raises ConfigError for unreadable input or an image
    that cannot fit the cap.
    """
    if max_side < 1 or max_bytes < 1:
        raise ConfigError(
            f"encode_image needs max_side >= 1 and max_bytes >= 1, got {max_side} and {max_bytes}",
            hint="pass positive limits",
        )
    if format not in ("auto", "png", "jpeg"):
        raise ConfigError(f"unknown image format {format!r}", hint="use 'auto', 'png' or 'jpeg'")
    img, raw, label = _source(image)
    source_format = (img.format or "").upper()
    prepared = _decoded(img, raw, label, source_format, max_side=max_side, max_bytes=max_bytes, format=format)
    if isinstance(prepared, ImagePart):
        return prepared
    return _fit(prepared, label, source_format, max_bytes=max_bytes, format=format)


def _source(image: Image.Image | str | Path | bytes) -> tuple[Image.Image, bytes | None, str]:
    """(the image, its file bytes when it came from a file or bytes, a label for errors)."""
    from PIL import Image

    if isinstance(image, Image.Image):
        return image, None, "image"
    if isinstance(image, (bytes, bytearray, memoryview)):
        raw = bytes(image)
        label = f"image bytes ({len(raw)} bytes)"
        return _open(raw, label), raw, label
    if isinstance(image, (str, Path)):
        raw, label = _read_file(image), str(image)
        return _open(raw, label), raw, label
    raise ConfigError(
        f"cannot encode a {type(image).__name__} as an image",
        hint="pass a PIL image, a file path or the file's bytes",
    )


def _decoded(img: Image.Image, raw: bytes | None, label: str, source_format: str, *, max_side: int,
             max_bytes: int, format: ImageFormat) -> Image.Image | ImagePart:
    """The image decoded, turned upright and scaled to ``max_side`` — or, for a PNG/JPEG file that already
    fits as it is, that file's own bytes as the part."""
    from PIL import Image

    orientation = _orientation(img)
    width, height = img.size
    if width < 1 or height < 1:
        raise ConfigError(f"{label} is empty ({width}x{height} pixels)", hint="check the dataset's image column")
    scale = min(1.0, max_side / max(width, height, 1))
    if raw is not None and scale < 1.0 and source_format in _LOSSY_FORMATS:
        # Let libjpeg decode at a reduced size (>= the target): much faster for huge photos.
        img.draft(None, (math.ceil(width * scale), math.ceil(height * scale)))
    try:
        img.load()  # decode fully, also for pass-through: a truncated file fails here, not at the provider
        # A PNG/JPEG file that already fits is sent as it is.
        if (
            raw is not None
            and source_format in _PASS_THROUGH_MODES
            and format in ("auto", source_format.lower())
            and img.mode in _PASS_THROUGH_MODES[source_format]
            and not getattr(img, "is_animated", False)
            and scale == 1.0
            and orientation == 1
            and _b64_len(len(raw)) <= max_bytes
        ):
            return _part(raw, source_format)
        if orientation != 1:
            from PIL import ImageOps

            img = ImageOps.exif_transpose(img)
        img = _normalize_mode(img)
        if scale < 1.0:
            # From the original size (draft() may have shrunk img already), turned like the EXIF.
            w, h = (height, width) if orientation in (5, 6, 7, 8) else (width, height)
            target = (min(max_side, max(1, round(w * scale))), min(max_side, max(1, round(h * scale))))
            img = img.resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0)
    except (OSError, ValueError, SyntaxError) as exc:
        raise ConfigError(
            f"cannot decode {label}: {exc}", hint="the file may be truncated or corrupt; re-export it"
        ) from None
    return img


def _fit(img: Image.Image, label: str, source_format: str, *, max_bytes: int, format: ImageFormat) -> ImagePart:
    """PNG when it is lossless by nature and fits; else JPEG at the best quality that fits the cap."""
    has_alpha = img.mode in ("RGBA", "LA")
    if format == "png" or (format == "auto" and (has_alpha or source_format not in _LOSSY_FORMATS)):
        data = _save(img, "PNG")
        if _b64_len(len(data)) <= max_bytes:
            return _part(data, "PNG")
        if format == "png":
            raise ConfigError(
                f"{label} as PNG at {img.width}x{img.height} is {_b64_len(len(data))} base64 bytes,"
                f" over the {max_bytes}-byte cap",
                hint=_SIZE_HINT,
            )
    flat = _flatten(img)
    smallest = 0
    for quality in _JPEG_QUALITIES:
        data = _save(flat, "JPEG", quality=quality)
        smallest = _b64_len(len(data))
        if smallest <= max_bytes:
            return _part(data, "JPEG")
    raise ConfigError(
        f"{label} does not fit the {max_bytes}-byte cap at {img.width}x{img.height}: "
        f"{smallest} base64 bytes even as JPEG quality {_JPEG_QUALITIES[-1]}",
        hint=_SIZE_HINT,
    )


def _read_file(path: str | Path) -> bytes:
    text = str(path)
    if text.startswith(("http://", "https://")):
        raise ConfigError(
            f"cannot encode an image URL: {text}", hint="download the image first and pass its path or bytes"
        )
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            f"image file not found: {text}",
            hint="check the path (relative paths are resolved from the current directory)",
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"cannot read image file {text}: {exc.strerror or exc}", hint="check that it is a readable file"
        ) from None


def _open(raw: bytes, label: str) -> Image.Image:
    from PIL import Image, UnidentifiedImageError

    try:
        return Image.open(io.BytesIO(raw))
    except UnidentifiedImageError:
        raise ConfigError(
            f"{label} is not an image Pillow can read",
            hint="use a PNG, JPEG, GIF, WEBP, BMP or TIFF file",
        ) from None
    except Image.DecompressionBombError as exc:
        raise ConfigError(f"{label} is too large to decode safely: {exc}", hint="downscale it first") from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise ConfigError(f"cannot decode {label}: {exc}", hint="the file may be truncated or corrupt") from None


def _orientation(img: Image.Image) -> int:
    try:
        value = img.getexif().get(_ORIENTATION_TAG, 1)
    except Exception:  # malformed EXIF must not stop an evaluation: ignore it
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _normalize_mode(img: Image.Image) -> Image.Image:
    """Convert to a mode PNG and JPEG both handle well: RGB, RGBA, L or LA (8 bits per channel)."""
    mode = img.mode
    if mode in ("RGB", "RGBA", "L", "LA"):
        return img
    if mode == "1":
        return img.convert("L")
    if mode in ("P", "PA"):
        return img.convert("RGBA" if mode == "PA" or "transparency" in img.info else "RGB")
    if mode == "La":
        return img.convert("LA")
    if mode == "RGBa":
        return img.convert("RGBA")
    if mode.startswith("I;16"):
        return img.convert("I").point(lambda v: v * (1 / 256)).convert("L")
    if mode in ("I", "F"):
        lo_raw, hi_raw = img.getextrema()
        lo, hi = float(cast(float, lo_raw)), float(cast(float, hi_raw))
        if mode == "F" and lo >= 0 and hi <= 1.0:  # a float image in [0, 1]
            return img.point(lambda v: v * 255).convert("L")
        if lo >= 0 and hi <= 255:
            return img.convert("L")
        if lo >= 0 and hi <= 65535:  # 16-bit range
            return img.point(lambda v: v * (1 / 256)).convert("L")
        span = (hi - lo) or 1.0
        return img.point(lambda v: (v - lo) * (255 / span)).convert("L")
    try:
        return img.convert("RGB")  # CMYK, YCbCr, LAB, HSV, RGBX, ...
    except ValueError as exc:
        raise ConfigError(f"cannot convert a {mode} image to RGB: {exc}", hint="convert it first") from None


def _flatten(img: Image.Image) -> Image.Image:
    """Drop alpha for JPEG by compositing onto white."""
    from PIL import Image

    if img.mode not in ("RGBA", "LA"):
        return img
    base_mode = "RGB" if img.mode == "RGBA" else "L"
    background = Image.new(base_mode, img.size, 255 if base_mode == "L" else (255, 255, 255))
    background.paste(img.convert(base_mode), mask=img.getchannel("A"))
    return background


def _save(img: Image.Image, fmt: str, **options: int) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **options)
    return buf.getvalue()


# --- video --------------------------------------------------------------------------------------
