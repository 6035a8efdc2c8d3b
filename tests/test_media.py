from __future__ import annotations

import base64
import io
import random
import sys
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from assay.errors import ConfigError
from assay.media import video as media_video
from assay.media.image import encode_image
from assay.media.video import frame_indices, video_part
from assay.types import ImagePart


def decode(part: ImagePart) -> Image.Image:
    img = Image.open(io.BytesIO(base64.b64decode(part.data_b64)))
    img.load()
    return img


def to_bytes(img: Image.Image, fmt: str, **options: Any) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **options)
    return buf.getvalue()


def noise(size: tuple[int, int], seed: int = 0) -> Image.Image:
    rng = random.Random(seed)
    return Image.frombytes("RGB", size, bytes(rng.getrandbits(8) for _ in range(size[0] * size[1] * 3)))


# --- modes --------------------------------------------------------------------------------------


def test_rgb_image_round_trips_losslessly() -> None:
    img = Image.new("RGB", (40, 30), (10, 200, 30))
    img.putpixel((5, 5), (255, 0, 0))
    part = encode_image(img)
    assert part.mime_type == "image/png"
    assert part.data_url.startswith("data:image/png;base64,")
    out = decode(part)
    assert (out.format, out.mode, out.size) == ("PNG", "RGB", (40, 30))
    assert out.getpixel((5, 5)) == (255, 0, 0) and out.getpixel((0, 0)) == (10, 200, 30)


def test_rgba_keeps_alpha() -> None:
    img = Image.new("RGBA", (20, 10), (255, 0, 0, 0))
    img.putpixel((1, 1), (0, 0, 255, 128))
    out = decode(encode_image(img))
    assert (out.format, out.mode) == ("PNG", "RGBA")
    assert out.getpixel((1, 1)) == (0, 0, 255, 128)
    assert out.getpixel((0, 0))[3] == 0


def test_palette_without_transparency_becomes_rgb() -> None:
    img = Image.new("RGB", (16, 16), (0, 128, 255)).convert("P", palette=Image.Palette.ADAPTIVE)
    assert img.mode == "P"
    out = decode(encode_image(img))
    assert out.mode == "RGB" and out.getpixel((3, 3)) == (0, 128, 255)


def test_palette_with_transparency_becomes_rgba() -> None:
    img = Image.new("P", (8, 8), 0)
    img.putpalette([255, 0, 0, 0, 255, 0] + [0] * 762)
    img.putpixel((0, 0), 1)
    img.info["transparency"] = 0
    out = decode(encode_image(img))
    assert out.mode == "RGBA"
    assert out.getpixel((0, 0)) == (0, 255, 0, 255)
    assert out.getpixel((4, 4))[3] == 0


def test_grayscale_stays_grayscale() -> None:
    img = Image.new("L", (12, 12), 77)
    out = decode(encode_image(img))
    assert out.mode == "L" and out.getpixel((0, 0)) == 77


def test_cmyk_becomes_rgb() -> None:
    img = Image.new("CMYK", (10, 10), (0, 255, 255, 0))  # pure red
    out = decode(encode_image(img))
    assert out.mode == "RGB" and out.getpixel((0, 0)) == (255, 0, 0)


@pytest.mark.parametrize(
    ("img", "expected"),
    [
        (Image.new("1", (4, 4), 1), 255),
        (Image.new("I;16", (4, 4), 40000), 40000 // 256),
        (Image.new("I", (4, 4), 100), 100),
        (Image.new("F", (4, 4), 0.5), 127),
        (Image.new("LA", (4, 4), (90, 255)), 90),
    ],
)
def test_other_modes_become_8_bit(img: Image.Image, expected: int) -> None:
    out = decode(encode_image(img))
    assert out.mode in ("L", "LA")
    value = out.getpixel((0, 0))
    assert (value[0] if isinstance(value, tuple) else value) == expected


def test_caller_image_is_not_modified() -> None:
    img = Image.new("P", (3000, 100), 3)
    encode_image(img)
    assert (img.mode, img.size) == ("P", (3000, 100))


# --- resizing -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "expected"),
    [((5000, 300), (2048, 123)), ((300, 5000), (123, 2048)), ((2048, 2048), (2048, 2048)), ((100, 50), (100, 50))],
)
def test_downsizes_longest_side_keeping_aspect(size: tuple[int, int], expected: tuple[int, int]) -> None:
    img = Image.linear_gradient("L").resize(size).convert("RGB")
    out = decode(encode_image(img))
    assert out.size == expected
    assert out.size[0] / out.size[1] == pytest.approx(size[0] / size[1], rel=0.01)


def test_custom_max_side() -> None:
    out = decode(encode_image(Image.new("RGB", (1000, 400)), max_side=500))
    assert out.size == (500, 200)


def test_extreme_aspect_ratio_keeps_one_pixel() -> None:
    out = decode(encode_image(Image.new("RGB", (10000, 2)), max_side=1000))
    assert out.size == (1000, 1)


# --- bytes and paths ----------------------------------------------------------------------------


def test_png_bytes_that_fit_pass_through_unchanged() -> None:
    raw = to_bytes(Image.new("RGB", (30, 20), (1, 2, 3)), "PNG")
    part = encode_image(raw)
    assert part.mime_type == "image/png" and base64.b64decode(part.data_b64) == raw


def test_jpeg_bytes_that_fit_pass_through_unchanged() -> None:
    raw = to_bytes(noise((64, 48)), "JPEG", quality=75)
    part = encode_image(raw)
    assert part.mime_type == "image/jpeg" and base64.b64decode(part.data_b64) == raw


def test_large_jpeg_is_resized_and_stays_jpeg() -> None:
    raw = to_bytes(Image.linear_gradient("L").resize((4000, 3000)).convert("RGB"), "JPEG")
    part = encode_image(raw)
    out = decode(part)
    assert part.mime_type == "image/jpeg" and out.size == (2048, 1536)


def test_exif_orientation_is_applied() -> None:
    img = Image.new("RGB", (40, 20), (200, 10, 10))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    raw = to_bytes(img, "JPEG", exif=exif.tobytes())
    out = decode(encode_image(raw))
    assert out.size == (20, 40)
    assert out.getexif().get(0x0112, 1) == 1


def test_animated_gif_uses_first_frame() -> None:
    frames = [Image.new("RGB", (10, 10), c) for c in [(255, 0, 0), (0, 0, 255)]]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:])
    part = encode_image(buf.getvalue())
    out = decode(part)
    assert part.mime_type == "image/png"
    assert out.convert("RGB").getpixel((5, 5)) == (255, 0, 0)


@pytest.mark.parametrize("as_str", [False, True])
def test_path_input(tmp_path: Path, as_str: bool) -> None:
    path = tmp_path / "img.png"
    Image.new("RGBA", (9, 7), (1, 2, 3, 4)).save(path)
    part = encode_image(str(path) if as_str else path)
    assert base64.b64decode(part.data_b64) == path.read_bytes()
    assert decode(part).size == (9, 7)


def test_encoding_is_deterministic() -> None:
    img = noise((300, 200))
    assert encode_image(img) == encode_image(img)
    assert encode_image(img, format="jpeg") == encode_image(img, format="jpeg")


# --- the size cap -------------------------------------------------------------------------------


def test_png_over_cap_falls_back_to_jpeg_under_cap() -> None:
    img = noise((600, 600))
    png_b64 = len(encode_image(img).data_b64)
    cap = png_b64 // 2
    part = encode_image(img, max_bytes=cap)
    assert part.mime_type == "image/jpeg"
    assert len(part.data_b64) <= cap
    assert decode(part).size == (600, 600)  # the cap never silently shrinks the image


def test_cap_counts_base64_bytes() -> None:
    raw = to_bytes(noise((64, 64)), "PNG")
    b64_len = len(base64.b64encode(raw))
    assert encode_image(raw, max_bytes=b64_len).mime_type == "image/png"
    assert encode_image(raw, max_bytes=b64_len - 1).mime_type == "image/jpeg"


def test_alpha_is_flattened_onto_white_for_jpeg() -> None:
    img = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    out = decode(encode_image(img, format="jpeg"))
    assert out.mode == "RGB"
    assert all(c >= 250 for c in out.getpixel((10, 10)))


def test_forced_png_over_cap_is_config_error() -> None:
    with pytest.raises(ConfigError) as info:
        encode_image(noise((400, 400)), max_bytes=50_000, format="png")
    assert "50000" in info.value.message and "max_bytes" in info.value.hint


def test_image_that_cannot_fit_is_config_error() -> None:
    with pytest.raises(ConfigError) as info:
        encode_image(noise((300, 300)), max_bytes=100)
    assert "cap" in info.value.message
    assert "max_side" in info.value.hint
    assert "\n" not in info.value.message


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        (b"definitely not an image", "not an image"),
        (b"", "not an image"),
        (to_bytes(Image.new("RGB", (200, 200)), "PNG")[:80], "cannot decode"),  # truncated
        ("https://example.com/cat.png", "URL"),
        (12345, "int"),
        (Image.new("RGB", (0, 0)), "empty"),
    ],
)
def test_bad_input_is_config_error(value: Any, needle: str) -> None:
    with pytest.raises(ConfigError) as info:
        encode_image(value)
    assert needle in info.value.message
    assert info.value.hint


def test_missing_file_is_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found") as info:
        encode_image(tmp_path / "nope.png")
    assert "path" in info.value.hint


def test_directory_is_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        encode_image(tmp_path)


@pytest.mark.parametrize("kwargs", [{"max_side": 0}, {"max_bytes": 0}, {"format": "gif"}])
def test_bad_limits_are_config_errors(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        encode_image(Image.new("RGB", (4, 4)), **kwargs)


# --- frame sampling -----------------------------------------------------------------------------


def test_frame_indices() -> None:
    assert frame_indices(30, 8) == [0, 4, 8, 12, 16, 20, 24, 29]
    assert frame_indices(10, 1) == [0]
    assert frame_indices(10, 2) == [0, 9]
    assert frame_indices(5, 8) == [0, 1, 2, 3, 4]  # never repeats frames
    assert frame_indices(0, 8) == []


def test_frame_indices_match_lmms_eval_linspace() -> None:
    np = pytest.importorskip("numpy")
    for total in range(2, 200, 7):
        for num in range(2, min(total, 40)):
            assert frame_indices(total, num) == np.linspace(0, total - 1, num, dtype=int).tolist()


# --- video --------------------------------------------------------------------------------------

N_FRAMES = 30


def colour(i: int) -> tuple[int, int, int]:
    return (i * 8, 255 - i * 8, 128)


def write_video(path: Path, n: int = N_FRAMES, codec: str = "mpeg4") -> Path:
    av = pytest.importorskip("av")
    container = av.open(str(path), mode="w")
    stream = container.add_stream(codec, rate=10)
    stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
    stream.bit_rate = 4_000_000
    for i in range(n):
        frame = av.VideoFrame.from_image(Image.new("RGB", (64, 48), colour(i)))
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)
    container.close()
    return path


def nearest_frame(part: ImagePart) -> int:
    """The source frame index whose colour is closest to the centre of the decoded frame."""
    pixel = decode(part).convert("RGB").getpixel((32, 24))
    assert isinstance(pixel, tuple)
    return min(range(N_FRAMES), key=lambda i: sum((a - b) ** 2 for a, b in zip(pixel, colour(i), strict=True)))


@pytest.mark.parametrize("suffix", ["mp4", "mkv"])  # mkv does not record a frame count: it is counted
def test_video_frames_are_sampled_uniformly(tmp_path: Path, suffix: str) -> None:
    path = write_video(tmp_path / f"clip.{suffix}")
    part = video_part(path, num_frames=8)
    assert part.type == "video" and part.source == str(path)
    assert len(part.frames) == 8
    assert [nearest_frame(f) for f in part.frames] == [0, 4, 8, 12, 16, 20, 24, 29]
    assert all(f.mime_type == "image/jpeg" and decode(f).size == (64, 48) for f in part.frames)


def test_video_frame_counts(tmp_path: Path) -> None:
    path = write_video(tmp_path / "clip.mp4")
    assert [nearest_frame(f) for f in video_part(path, num_frames=1).frames] == [0]
    assert len(video_part(path, num_frames=100).frames) == N_FRAMES  # all frames, none repeated
    small = video_part(str(path), num_frames=3, max_side=32, format="png")
    assert [decode(f).size for f in small.frames] == [(32, 24)] * 3
    assert {f.mime_type for f in small.frames} == {"image/png"}


def test_video_with_overstated_frame_count_is_resampled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_video(tmp_path / "clip.mp4")
    monkeypatch.setattr(media_video, "_metadata_frame_count", lambda video: 45)
    part = video_part(path, num_frames=8)
    assert [nearest_frame(f) for f in part.frames] == [0, 4, 8, 12, 16, 20, 24, 29]


def test_missing_video_is_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        video_part(tmp_path / "missing.mp4")


def test_unreadable_video_is_config_error(tmp_path: Path) -> None:
    pytest.importorskip("av")
    path = tmp_path / "notes.mp4"
    path.write_text("this is not a video")
    with pytest.raises(ConfigError, match="cannot read video") as info:
        video_part(path)
    assert info.value.hint


def test_audio_only_file_is_config_error(tmp_path: Path) -> None:
    av = pytest.importorskip("av")
    path = tmp_path / "tone.wav"
    container = av.open(str(path), mode="w")
    stream = container.add_stream("pcm_s16le", rate=8000)
    frame = av.AudioFrame(format="s16", layout="mono", samples=800)
    for plane in frame.planes:
        plane.update(bytes(plane.buffer_size))
    frame.sample_rate = 8000
    for packet in stream.encode(frame):
        container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)
    container.close()
    with pytest.raises(ConfigError, match="no video stream"):
        video_part(path)


def test_bad_num_frames_is_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="num_frames"):
        video_part(tmp_path / "x.mp4", num_frames=0)


def test_missing_pyav_gives_install_hint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"\x00" * 16)
    monkeypatch.setitem(sys.modules, "av", None)  # makes `import av` raise ImportError
    with pytest.raises(ConfigError) as info:
        video_part(path)
    assert info.value.hint == "pip install 'assay[video]'"
