"""--log_media: each distinct image saved once as a small JPEG, referenced from the sample records."""

from __future__ import annotations

import io
import json
import threading
from pathlib import Path

from PIL import Image

from assay.media.image import encode_image
from assay.sinks.media import MAX_VIDEO_FRAMES, MediaStore
from assay.types import ImagePart, Message, Request, TextPart, VideoPart
from tests.sinks_support import make_run


def _image(color: tuple[int, int, int], size: tuple[int, int] = (1600, 1200)) -> ImagePart:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return encode_image(buffer.getvalue())


def _request(*parts: object) -> Request:
    return Request(messages=(Message("user", (*parts, TextPart("what is it?"))),))  # type: ignore[arg-type]


def test_the_same_image_is_saved_once_however_many_threads_show_it(tmp_path: Path) -> None:
    store = MediaStore(tmp_path / "run_media")
    red, blue = _image((255, 0, 0)), _image((0, 0, 255))
    refs: list[list[dict[str, object]]] = []
    lock = threading.Lock()

    def show(part: ImagePart) -> None:
        found = store.refs(_request(part))
        with lock:
            refs.append(found)

    threads = [threading.Thread(target=show, args=(red if i % 2 else blue,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    files = sorted((tmp_path / "run_media").iterdir())
    assert len(files) == 2  # two distinct images, sixteen samples
    assert all(len(r) == 1 and r[0]["kind"] == "image" for r in refs)  # every sample got its reference
    assert {r[0]["path"] for r in refs} == {f"run_media/{f.name}" for f in files}
    for f in files:
        with Image.open(f) as thumb:
            assert thumb.format == "JPEG" and max(thumb.size) == 384 and thumb.size == (384, 288)


def test_video_frames_are_sampled_and_a_broken_image_costs_only_its_picture(tmp_path: Path) -> None:
    store = MediaStore(tmp_path / "m")
    frames = tuple(_image((i * 8, 0, 0), (64, 48)) for i in range(20))
    broken = ImagePart(data_b64="bm90IGFuIGltYWdl")  # "not an image"
    refs = store.refs(_request(VideoPart(frames), broken))
    assert [r["frame"] for r in refs] == [0, 3, 5, 8, 11, 14, 16, 19]
    assert len(refs) == MAX_VIDEO_FRAMES and all(r["kind"] == "video_frame" for r in refs)
    assert len(list((tmp_path / "m").iterdir())) == MAX_VIDEO_FRAMES


def test_a_run_with_log_media_references_its_thumbnails(tmp_path: Path) -> None:
    results = make_run(tmp_path, tasks="assay_colors", limit=4)
    doc = json.loads(results.read_text())
    folder = results.parent / f"{doc['run_id']}_media"
    records = [json.loads(line) for name in doc["files"]["samples"].values()
               for line in (results.parent / name).read_text().splitlines()]
    assert len(records) == 4
    for record in records:
        (ref,) = record["media"]
        assert (results.parent / ref["path"]).is_file() and ref["path"].startswith(folder.name + "/")
        assert record["arguments"]["messages"][0]["content"].startswith("<image>")  # still no payload inline
    assert len(list(folder.iterdir())) == len({r["media"][0]["path"] for r in records})
