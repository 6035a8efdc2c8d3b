"""Thumbnails of the images and video frames a run sent, and its audio clips, saved once each (``--log_media``).

Samples files log media as ``<image>`` placeholders, never the payload. With ``--log_media`` each distinct
image (by the SHA-256 of its encoded bytes) is also saved once as a small JPEG under
``{run_id}_media/<sha256>.jpg``, each distinct audio clip as the wav that was sent (``<sha256>.wav``), and
the sample record lists them under ``"media"`` (paths relative to the results folder, kind ``image``,
``video_frame`` or ``audio``), so a report or a W&B table can show (and play) what the model got without
copying it per sample.
"""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from assay.types import AudioPart, ImagePart, Request, VideoPart

log = logging.getLogger("assay.sinks.media")

THUMBNAIL_SIDE = 384
THUMBNAIL_QUALITY = 80
#: Frames shown per video: evenly spaced, first and last included.
MAX_VIDEO_FRAMES = 8


def media_dir_name(run_id: str) -> str:
    return f"{run_id}_media"


class MediaStore:
    """Writes thumbnails into ``folder`` (created on first use). Thread-safe; each image is decoded and
    written at most once per run, however many samples show it."""

    def __init__(self, folder: Path, *, side: int = THUMBNAIL_SIDE) -> None:
        self.folder = folder
        self.side = side
        self._known: dict[str, str | threading.Event] = {}  # sha256 -> file name ("" if none), or in progress
        self._lock = threading.Lock()

    def refs(self, request: Request) -> list[dict[str, Any]]:
        """The media of ``request`` as record entries: ``{"kind", "path"[, "frame"]}``. Call it off the
        event loop: decoding and resizing an image takes milliseconds."""
        out: list[dict[str, Any]] = []
        for message in request.messages:
            for part in message.parts:
                if isinstance(part, ImagePart):
                    name = self.save(part)
                    if name:
                        out.append({"kind": "image", "path": f"{self.folder.name}/{name}"})
                elif isinstance(part, VideoPart):
                    for index in _frame_choice(len(part.frames)):
                        name = self.save(part.frames[index])
                        if name:
                            out.append({"kind": "video_frame", "frame": index,
                                        "path": f"{self.folder.name}/{name}"})
                elif isinstance(part, AudioPart):
                    name = self.save_audio(part)
                    if name:
                        out.append({"kind": "audio", "path": f"{self.folder.name}/{name}"})
        return out

    def save(self, part: ImagePart) -> str | None:
        """The thumbnail's file name for ``part``, written now if this image was not seen before."""
        raw = base64.b64decode(part.data_b64)
        return self._once(hashlib.sha256(raw).hexdigest(), "jpg", lambda path: self._write(raw, path))

    def save_audio(self, part: AudioPart) -> str | None:
        """The clip's file name: the bytes that were sent, written now if this clip was not seen before."""
        raw = base64.b64decode(part.data_b64)
        digest = part.sha256 or hashlib.sha256(raw).hexdigest()
        return self._once(digest, part.format, lambda path: self._write_bytes(raw, path))

    def _once(self, digest: str, suffix: str, write: Callable[[Path], None]) -> str | None:
        """``{digest}.{suffix}``, written by ``write`` by the first thread to see it (None: it could not be)."""
        with self._lock:
            known = self._known.get(digest)
            if known is None:  # first sight: this thread writes it, others showing it wait for the outcome
                self._known[digest] = threading.Event()
        if isinstance(known, threading.Event):
            known.wait()
            known = self._known[digest]
        if isinstance(known, str):
            return known or None
        name = f"{digest}.{suffix}"
        try:
            write(self.folder / name)
        except Exception as exc:  # a file that cannot be written costs the record its picture (or clip) only
            log.debug("no media file for %s: %s", digest[:12], exc)
            name = ""
        with self._lock:
            pending = self._known[digest]
            self._known[digest] = name
        if isinstance(pending, threading.Event):
            pending.set()
        return name or None

    def _write(self, raw: bytes, path: Path) -> None:
        from PIL import Image

        if path.exists():  # the same image saved by an earlier process (a resumed run)
            return
        with Image.open(io.BytesIO(raw)) as img:
            img.draft("RGB", (self.side, self.side))  # JPEG: decode at reduced size, much faster
            thumb = img.convert("RGB")
            thumb.thumbnail((self.side, self.side))
            buffer = io.BytesIO()
            thumb.save(buffer, format="JPEG", quality=THUMBNAIL_QUALITY, optimize=True)
        self._write_bytes(buffer.getvalue(), path)

    def _write_bytes(self, data: bytes, path: Path) -> None:
        if path.exists():  # written by an earlier process (a resumed run)
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_bytes(data)
        tmp.replace(path)  # atomic: a reader never sees half a file


def _frame_choice(n: int) -> list[int]:
    if n <= MAX_VIDEO_FRAMES:
        return list(range(n))
    step = (n - 1) / (MAX_VIDEO_FRAMES - 1)
    return sorted({round(i * step) for i in range(MAX_VIDEO_FRAMES)})
