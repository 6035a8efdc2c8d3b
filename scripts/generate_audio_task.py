"""Regenerate the built-in audio task's clips (assay_spoken_digits): three spoken digits per clip.

    python scripts/generate_audio_task.py

Needs Debian's ``espeak-ng`` (speech) at generation time only: the clips are shipped as 16 kHz mono FLAC
beside the task, so running the task needs neither espeak-ng nor the network. The same seed gives the same
digits, voices and speeds (espeak-ng is deterministic), so re-running it rewrites the same files.
"""

from __future__ import annotations

import json
import random
import subprocess
import tempfile
from pathlib import Path

FOLDER = Path(__file__).resolve().parents[1] / "src" / "assay" / "tasks" / "builtin" / "assay_spoken_digits"
WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
VOICES = ("en", "en-us", "en-gb-x-rp")
RATE = 16_000


def speak(text: str, voice: str, speed: int, out: Path) -> None:
    import numpy as np
    import soundfile
    import soxr

    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "speech.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(wav), text], check=True)
        samples, rate = soundfile.read(wav, dtype="float32")
    samples = soxr.resample(samples, rate, RATE) if rate != RATE else samples
    soundfile.write(out, np.asarray(samples, dtype="float32"), RATE, format="FLAC", subtype="PCM_16")


def main(n: int = 12, seed: int = 19) -> int:
    rng = random.Random(seed)
    (FOLDER / "clips").mkdir(parents=True, exist_ok=True)
    docs = []
    for i in range(n):
        digits = [rng.randrange(10) for _ in range(3)]
        voice, speed = VOICES[i % len(VOICES)], rng.choice((140, 160, 175))
        name = f"clips/digits-{i:02d}.flac"
        speak(", ".join(WORDS[d] for d in digits), voice, speed, FOLDER / name)
        docs.append({"id": f"digits-{i:02d}", "audio": name, "answer": " ".join(str(d) for d in digits),
                     "voice": voice, "speed": speed})
    lines = "".join(json.dumps(doc, sort_keys=True) + "\n" for doc in docs)
    (FOLDER / "assay_spoken_digits.jsonl").write_text(lines, encoding="utf-8")
    print(f"wrote {n} clips under {FOLDER}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
