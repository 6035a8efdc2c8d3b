"""Video as message parts: frames sampled uniformly with PyAV (an optional extra), each encoded as an image.

PyAV is imported inside the functions, so importing this module is cheap. A missing or unreadable file,
a file without frames, or PyAV not installed is a :class:`~assay.errors.ConfigError` with a hint.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from assay.errors import ConfigError
from assay.media.image import DEFAULT_MAX_BYTES, DEFAULT_MAX_SIDE, ImageFormat, encode_image
from assay.types import VideoPart

if TYPE_CHECKING:
    from PIL import Image

__all__ = ["frame_indices", "video_part"]


def frame_indices(total: int, num_frames: int) -> list[int]:
    """Indices of ``num_frames`` frames spread uniformly over ``total`` frames, first and last included.

    The same frames as lmms-eval's ``np.linspace(0, total - 1, num_frames, dtype=int)``, float
    rounding included, so scores stay comparable. When the video has no more frames than asked
    for, every frame is used once rather than repeating frames.
    """
    if total <= 0 or num_frames <= 0:
        return []
    if num_frames >= total:
        return list(range(total))
    if num_frames == 1:
        return [0]
    step = (total - 1) / (num_frames - 1)  # the same float arithmetic as numpy, so the same frames
    return [int(i * step) for i in range(num_frames - 1)] + [total - 1]


def video_part(
    path: str | Path,
    num_frames: int = 8,
    *,
    max_side: int = DEFAULT_MAX_SIDE,
    max_bytes: int = DEFAULT_MAX_BYTES,
    format: ImageFormat = "jpeg",
) -> VideoPart:
    """Sample ``num_frames`` frames uniformly (see :func:`frame_indices`) and encode each one.

    Frames are encoded with :func:`encode_image` (``max_side``/``max_bytes`` apply per frame;
    JPEG by default, as video frames are lossy already). Needs PyAV (``pip install 'assay[video]'``).
    Raises ConfigError for a missing or unreadable file or a file without video frames.
    """
    if num_frames < 1:
        raise ConfigError(f"num_frames must be >= 1, got {num_frames}", hint="ask for at least one frame")
    video = Path(path)
    if not video.is_file():
        raise ConfigError(
            f"video file not found: {video}",
            hint="check the path (relative paths are resolved from the current directory)",
        )
    try:
        import av
    except ImportError:
        raise ConfigError(
            "reading videos needs PyAV, which is not installed", hint="pip install 'assay[video]'"
        ) from None

    try:
        total = _metadata_frame_count(video)
        if total <= 0:  # some containers do not record it: count by decoding
            _, total = _decode_frames(video, frozenset())
        wanted = frame_indices(total, num_frames)
        images, decoded = _decode_frames(video, frozenset(wanted))
        if len(images) < len(wanted):  # the recorded count was too high: resample over what exists
            wanted = frame_indices(decoded, num_frames)
            images, _ = _decode_frames(video, frozenset(wanted))
    except av.FFmpegError as exc:
        raise ConfigError(
            f"cannot read video {video}: {exc}", hint="check that it is a video file FFmpeg can decode"
        ) from None
    if not images:
        raise ConfigError(f"video {video} has no decodable frames", hint="check the file is not empty or corrupt")
    frames = tuple(encode_image(img, max_side=max_side, max_bytes=max_bytes, format=format) for img in images)
    return VideoPart(frames=frames, source=str(video))


def _metadata_frame_count(video: Path) -> int:
    import av

    with av.open(str(video)) as container:
        if not container.streams.video:
            raise ConfigError(f"{video} has no video stream", hint="pass a video file, not audio or an image")
        return int(container.streams.video[0].frames or 0)


def _decode_frames(video: Path, wanted: frozenset[int]) -> tuple[list[Image.Image], int]:
    """Decode in order, keeping the frames at ``wanted`` indices; stop after the last one.

    Returns the kept frames (as RGB PIL images) and how many frames were decoded.
    """
    import av

    images: list[Image.Image] = []
    last = max(wanted, default=-1)
    count = 0
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for frame in container.decode(stream):
            if count in wanted:
                decoded: Any = frame  # VideoFrame.to_image is untyped in PyAV's stubs
                images.append(decoded.to_image())
            count += 1
            if wanted and count > last:
                break
    return images, count
