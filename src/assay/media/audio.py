"""Audio as message parts: decoded without torch, mixed to mono, resampled, bounded, encoded once as wav.

What task helpers hand over (lmms-eval's ``doc_to_visual`` of an audio task): a Hugging Face ``Audio``
value (``{"array", "sampling_rate"}`` decoded, or ``{"bytes", "path"}`` as assay loads it), a file path
(wav, flac, ogg, mp3, m4a…), raw file bytes, or an :class:`AudioValue`. Files are decoded by ``soundfile``
(libsndfile: wav, flac, ogg, mp3) and, for what it cannot read (m4a/aac, webm…), by PyAV; resampled by
``soxr``. All three are imported inside the functions (``pip install 'assay[audio]'``).

A clip longer than ``max_seconds`` is refused before it is decoded (its length is read from the header),
so an hour-long file costs neither memory nor a request: the sample fails with a message saying how long
it is and what the bound is. Every failure the user can fix is a :class:`~assay.errors.ConfigError`.
"""

from __future__ import annotations

import base64
import hashlib
import io
import wave
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assay.errors import ConfigError
from assay.types import AudioPart

if TYPE_CHECKING:
    import numpy as np

__all__ = ["AUDIO_SUFFIXES", "DEFAULT_MAX_SECONDS", "DEFAULT_SAMPLE_RATE", "AudioValue", "decode_audio",
           "encode_audio", "is_audio_path", "is_audio_value", "looks_like_audio"]

#: What speech models behind the APIs take natively (Whisper, Qwen2-Audio, gpt-4o audio): 16 kHz mono.
DEFAULT_SAMPLE_RATE = 16_000
#: Ten minutes: 19 MB of 16 kHz wav, inside every audio API's request limits (OpenAI's is about 25 MB).
DEFAULT_MAX_SECONDS = 600.0
AUDIO_SUFFIXES = frozenset({".wav", ".flac", ".mp3", ".ogg", ".oga", ".opus", ".m4a", ".aac", ".wma", ".aiff",
                            ".aif"})
_INSTALL_HINT = "pip install 'assay[audio]'"


def is_audio_path(value: str | Path) -> bool:
    return Path(str(value)).suffix.lower() in AUDIO_SUFFIXES


def is_audio_value(item: object) -> bool:
    """A Hugging Face ``Audio`` value: decoded (array + sampling rate) or not (bytes/path of an audio file)."""
    if isinstance(item, AudioValue):
        return True
    if not isinstance(item, Mapping):
        return False
    if "array" in item and "sampling_rate" in item:
        return True
    path = item.get("path")
    return ("bytes" in item or "path" in item) and isinstance(path, str) and is_audio_path(path)


class AudioValue(dict[str, Any]):
    """A dataset's audio cell as lmms-eval helpers expect it: a ``dict`` with ``path``, ``array`` and
    ``sampling_rate`` (helpers test ``isinstance(value, dict)``), whose ``array`` and ``sampling_rate`` are
    decoded only when a helper reads them: building a message sends the file's own bytes, so most runs never
    hold a decoded waveform. Recent ``datasets`` decode audio only through torchcodec (torch); assay loads
    the column undecoded and wraps each cell in this. ``data`` may be a function that fetches the file's
    bytes when they are needed, so a run's selected docs do not all hold their clips at once."""

    __slots__ = ("_data", "_decoded")
    _LAZY = ("array", "sampling_rate")

    def __init__(self, data: bytes | Callable[[], bytes | None] | None, path: str | None) -> None:
        super().__init__(path=path, array=None, sampling_rate=None)
        self._data = data
        self._decoded: tuple[np.ndarray, int] | None = None

    @property
    def bytes(self) -> bytes | None:
        """The audio file's bytes (fetched now, and not kept, when they come from the dataset)."""
        return self._data() if callable(self._data) else self._data

    @property
    def path(self) -> str | None:
        path = super().__getitem__("path")
        return path if isinstance(path, str) else None

    def _decode(self) -> tuple[np.ndarray, int]:
        if self._decoded is None:
            data = self.bytes
            source: bytes | str | None = data if data else self.path
            if source is None:
                raise ConfigError("an audio cell has neither bytes nor a path", hint="check the dataset's audio column")
            self._decoded = decode_audio(source, label=self.path or "audio bytes")
        return self._decoded

    def __getitem__(self, key: str) -> Any:
        if key in self._LAZY:
            array, rate = self._decode()
            return array if key == "array" else rate
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        return self[key] if key in self else default  # noqa: SIM401 - self.get is this method

    def __iter__(self) -> Iterator[str]:  # also makes {**value} and dict(value) read through __getitem__
        return iter(("path", "array", "sampling_rate"))

    def keys(self) -> Any:
        return ["path", "array", "sampling_rate"]

    def items(self) -> Any:
        return [(key, self[key]) for key in self]

    def values(self) -> Any:
        return [self[key] for key in self]

    def __repr__(self) -> str:
        return f"AudioValue(path={self.path!r})"


def encode_audio(
    source: Any, *, sample_rate: int = DEFAULT_SAMPLE_RATE, max_seconds: float = DEFAULT_MAX_SECONDS
) -> AudioPart:
    """``source`` (see the module doc) as a mono 16-bit wav part at ``sample_rate``, at most ``max_seconds``."""
    if sample_rate < 1 or max_seconds <= 0:
        raise ConfigError(f"audio needs sample_rate >= 1 and max_seconds > 0, got {sample_rate} and {max_seconds}",
                          hint="pass positive limits")
    label = _label(source)
    raw = _raw_source(source)
    if raw is not None:
        _check_length(_header_seconds(raw, label), label, max_seconds)
        samples, rate = _decode_pcm16(raw, label)
    else:
        floats, rate = _array_source(source, label)
        samples = _pcm16(floats)
    _check_length(len(samples) / rate, label, max_seconds)
    # 16-bit from the decoder to the wav: half the bytes of float32 at every step, and fewer large temporaries,
    # which is what made a 1,000-clip run's heap fragment (bench/audio_memory.py).
    samples = _resampled(samples, rate, sample_rate)
    data = _wav_bytes(samples, sample_rate)
    return AudioPart(data_b64=base64.b64encode(data).decode("ascii"), format="wav", sample_rate=sample_rate,
                     duration_s=round(len(samples) / sample_rate, 3), sha256=hashlib.sha256(data).hexdigest(),
                     source=label if isinstance(source, (str, Path)) or _path_of(source) else "")


def decode_audio(source: bytes | str | Path, *, label: str = "audio") -> tuple[np.ndarray, int]:
    """(mono float32 samples, sample rate) of an audio file or its bytes: soundfile first, PyAV for the rest."""
    raw = _read(source, label) if isinstance(source, (str, Path)) else bytes(source)
    read = _read_with_soundfile(raw, "float32")
    if read is None:
        return _decode_with_av(raw, label)
    data, rate = read
    return _mono(data), rate


def _read_with_soundfile(raw: bytes, dtype: str) -> tuple[np.ndarray, int] | None:
    """(frames × channels, sample rate) as ``dtype``, or None for a format libsndfile does not read."""
    try:
        import soundfile
    except ImportError:
        raise ConfigError("decoding audio needs soundfile, which is not installed", hint=_INSTALL_HINT) from None
    try:
        data, rate = soundfile.read(io.BytesIO(raw), dtype=dtype, always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, TypeError):
        return None
    return data, int(rate)


def _decode_pcm16(raw: bytes, label: str) -> tuple[np.ndarray, int]:
    """(mono int16 samples, sample rate): what :func:`encode_audio` resamples and writes."""
    read = _read_with_soundfile(raw, "int16")
    if read is None:
        floats, av_rate = _decode_with_av(raw, label)
        return _pcm16(floats), av_rate
    data, rate = read
    if data.shape[1] == 1:
        import numpy as np

        return np.ascontiguousarray(data[:, 0]), rate
    return data.mean(axis=1).round().astype("<i2"), rate


def _pcm16(samples: np.ndarray) -> np.ndarray:
    """Float samples in [-1, 1] as int16, the inverse of soundfile's int16 -> float (x / 32768)."""
    import numpy as np

    return np.clip(np.round(samples * 32768.0), -32768, 32767).astype("<i2")


# -- sources ------------------------------------------------------------------------------------------------


def _label(source: Any) -> str:
    if isinstance(source, (str, Path)):
        return str(source)
    path = _path_of(source)
    if path:
        return path
    if isinstance(source, (bytes, bytearray, memoryview)):
        return f"audio bytes ({len(source)} bytes)"
    return "audio"


def _path_of(source: Any) -> str | None:
    if isinstance(source, AudioValue):
        return source.path
    if isinstance(source, Mapping):
        path = source.get("path")
        return path if isinstance(path, str) and path else None
    return None


def _raw_source(source: Any) -> bytes | None:
    """The file bytes when ``source`` is (or carries) a file; None for an already decoded array."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    if isinstance(source, (str, Path)):
        return _read(source, str(source))
    if isinstance(source, AudioValue):
        data = source.bytes  # one fetch: it may read the dataset
        if data:
            return data
        if source.path:
            return _read(source.path, source.path)
    if isinstance(source, Mapping) and "array" not in source:
        data, path = source.get("bytes"), source.get("path")
        if data:
            return bytes(data)
        if path:
            return _read(path, str(path))
    if isinstance(source, Mapping) and "array" in source:
        return None
    raise ConfigError(f"cannot use a {type(source).__name__} as audio",
                      hint="return a datasets Audio value, an audio file path or the file's bytes")


def _array_source(source: Mapping[str, Any], label: str) -> tuple[np.ndarray, int]:
    import numpy as np

    rate = source.get("sampling_rate")
    if not isinstance(rate, (int, float)) or isinstance(rate, bool) or rate <= 0:
        raise ConfigError(f"{label}: sampling_rate must be a positive number, got {rate!r}",
                          hint="an audio dict needs an `array` and its `sampling_rate`")
    try:
        array = np.asarray(source["array"], dtype=np.float32)
    except (TypeError, ValueError):
        raise ConfigError(f"{label}: `array` is not numeric audio", hint="pass the samples as a 1-D array") from None
    if array.ndim == 2:  # (channels, samples) as datasets gives multi-channel audio
        array = array.mean(axis=0 if array.shape[0] < array.shape[1] else 1)
    if array.ndim != 1 or array.size == 0:
        raise ConfigError(f"{label}: audio array has shape {array.shape}", hint="pass a non-empty 1-D array")
    return array, int(rate)


def _read(path: str | Path, label: str) -> bytes:
    file = Path(path).expanduser()
    if not file.is_file():
        raise ConfigError(f"audio file not found: {label}",
                          hint="check the path (relative paths are resolved from the current directory)")
    try:
        return file.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read audio file {label}: {exc.strerror or exc}",
                          hint="check its permissions") from None


# -- length, decoding, resampling, encoding -------------------------------------------------------------------


def _header_seconds(raw: bytes, label: str) -> float | None:
    """The clip's length from its header, without decoding it (None: the header does not say)."""
    try:
        import soundfile

        info = soundfile.info(io.BytesIO(raw))
        if info.samplerate > 0 and info.frames > 0:
            return float(info.frames) / float(info.samplerate)
    except Exception:
        pass
    try:
        import av

        with av.open(io.BytesIO(raw), mode="r") as container:
            if container.duration:
                return float(container.duration) / 1_000_000  # microseconds (av.time_base)
    except Exception:
        pass
    return None


def _check_length(seconds: float | None, label: str, max_seconds: float) -> None:
    if seconds is not None and seconds > max_seconds:
        raise ConfigError(f"{label} is {seconds:.1f} s long, over the {max_seconds:g} s bound for one audio part "
                          "(not sent)", hint="send shorter clips, or raise ASSAY_AUDIO_MAX_SECONDS")


def _decode_with_av(raw: bytes, label: str) -> tuple[np.ndarray, int]:
    try:
        import av
        import numpy as np
    except ImportError:
        raise ConfigError(f"{label} is not a format soundfile reads, and PyAV is not installed",
                          hint=_INSTALL_HINT) from None
    chunks: list[np.ndarray] = []
    rate = 0
    try:
        with av.open(io.BytesIO(raw), mode="r") as container:
            if not container.streams.audio:
                raise ConfigError(f"{label} has no audio stream", hint="pass an audio file")
            stream = container.streams.audio[0]
            resampler = av.AudioResampler(format="flt", layout="mono")  # packed float32, one channel
            for frame in container.decode(stream):
                rate = frame.sample_rate
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
    except av.FFmpegError as exc:
        raise ConfigError(f"cannot decode audio {label}: {exc}",
                          hint="check that it is an audio file (wav, flac, ogg, mp3, m4a…)") from None
    if not chunks or rate <= 0:
        raise ConfigError(f"audio {label} has no decodable samples", hint="check the file is not empty or corrupt")
    return np.concatenate(chunks).astype(np.float32, copy=False), rate


def _mono(data: np.ndarray) -> np.ndarray:
    return data[:, 0] if data.shape[1] == 1 else data.mean(axis=1, dtype="float32")


def _resampled(samples: np.ndarray, rate: int, target: int) -> np.ndarray:
    if rate == target:
        return samples
    try:
        import soxr
    except ImportError:
        raise ConfigError("resampling audio needs soxr, which is not installed", hint=_INSTALL_HINT) from None
    resampled: np.ndarray = soxr.resample(samples, rate, target)
    return resampled


def _wav_bytes(pcm: np.ndarray, rate: int) -> bytes:
    """16-bit PCM wav (the standard library's writer: every API reads it)."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm.tobytes())
    return buffer.getvalue()


#: How audio files start (wav, flac, ogg, mp3 with or without an ID3 tag, MPEG-4 audio): bytes from a
#: helper are audio when they start like one of these, an image otherwise.
_MAGIC = (b"RIFF", b"fLaC", b"OggS", b"ID3", b"\xff\xfb", b"\xff\xf3", b"\xff\xf2", b"FORM")


def looks_like_audio(data: bytes) -> bool:
    if data[:4] == b"RIFF":
        return data[8:12] == b"WAVE"
    return data.startswith(_MAGIC) or (data[4:8] == b"ftyp" and data[8:11] in (b"M4A", b"M4B"))
