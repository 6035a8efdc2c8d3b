"""Audio for tests, made with numpy (no speech engine at test time): tones whose pitch says which doc a
clip belongs to, written in the formats tasks hand over, and the server side that hears them back."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import numpy as np


def tone(freq: float, seconds: float = 1.0, rate: int = 16_000, channels: int = 1) -> np.ndarray:
    t = np.arange(int(seconds * rate), dtype=np.float64) / rate
    wave = (0.4 * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    return wave if channels == 1 else np.stack([wave] * channels, axis=1)


def encoded(samples: np.ndarray, rate: int, fmt: str) -> bytes:
    """``samples`` as a file of format ``fmt``: WAV, FLAC, OGG and MP3 by soundfile, M4A (AAC) by PyAV."""
    if fmt == "M4A":
        return _m4a(samples, rate)
    import soundfile

    buffer = io.BytesIO()
    soundfile.write(buffer, samples, rate, format=fmt)
    return buffer.getvalue()


def _m4a(samples: np.ndarray, rate: int) -> bytes:
    import av

    buffer = io.BytesIO()
    with av.open(buffer, "w", format="ipod") as container:
        stream = container.add_stream("aac", rate=rate)
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1).astype(np.float32), format="fltp", layout="mono")
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()


def write_tone(path: Path, freq: float, seconds: float = 1.0, rate: int = 16_000) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(encoded(tone(freq, seconds, rate), rate, path.suffix.lstrip(".").upper()))
    return path


def pitch(wav: bytes) -> tuple[float, int, float]:
    """(loudest frequency in Hz, sample rate, seconds) of a wav clip, as a server would hear it."""
    import soundfile

    samples, rate = soundfile.read(io.BytesIO(wav), dtype="float32")
    spectrum = np.abs(np.fft.rfft(samples))
    return float(np.argmax(spectrum) * rate / len(samples)), int(rate), len(samples) / rate


def sent_audio(body: dict[str, Any]) -> list[bytes]:
    """Every audio clip in a chat-completions or Gemini body."""
    clips: list[bytes] = []
    for message in body.get("messages") or []:
        for part in message["content"] if isinstance(message.get("content"), list) else []:
            if part.get("type") == "input_audio":
                clips.append(base64.b64decode(part["input_audio"]["data"]))
            elif part.get("type") == "audio_url":
                clips.append(base64.b64decode(part["audio_url"]["url"].split(";base64,", 1)[1]))
    for content in body.get("contents") or []:
        for part in content.get("parts") or []:
            inline = part.get("inlineData") or {}
            if str(inline.get("mimeType", "")).startswith("audio/"):
                clips.append(base64.b64decode(inline["data"]))
    return clips


def by_pitch(answers: dict[int, str], step: float = 100.0) -> Any:
    """An oracle: the answer for the tone it hears (``freq = step * key``), "" when it hears none."""

    def answer(body: dict[str, Any]) -> str:
        clips = sent_audio(body)
        if not clips:
            return ""
        heard = round(pitch(clips[0])[0] / step)
        return answers.get(heard, json.dumps({"unknown pitch": heard}))

    return answer
