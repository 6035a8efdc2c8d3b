"""Peak memory of an audio run against a same-sized image run (issue 19: audio within 1.5x of images).

    python bench/audio_memory.py [--n 1000] [--seconds 3] [--side 224] [--repeat 1]

Writes two lmms-eval style tasks of ``--n`` docs each as parquet with Hugging Face features, as lmms-lab's
datasets are: an ``Audio`` column (``--seconds`` of 44.1 kHz FLAC per doc: decoded, resampled to 16 kHz
and sent as wav) and an ``Image`` column (a ``--side``² JPEG per doc: sent as it is). Each runs as
``assay run --model openai_compatible --log_samples`` in a fresh process against bench/stub_server.py
(0 ms), twice: the first run also builds ``datasets``' Arrow cache from the parquet (a one-time cost that
grows with the dataset's bytes, not with what assay does with them), the second reads that cache, as every
later run and every lmms-eval user's downloaded dataset does. The table gives each process's peak RSS
(wait4) beside the image run, the baseline. A text-only run of the same size is shown for scale.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from throughput import BENCH_KEYS, _popen_with_rss  # noqa: E402

YAML = """task: {name}
dataset_path: parquet
dataset_kwargs:
  data_files:
    test: {name}.parquet
test_split: test
output_type: generate_until
doc_to_visual: !function utils.visual
doc_to_text: question
doc_to_target: answer
generation_kwargs:
  max_new_tokens: 8
  temperature: 0
metric_list:
  - metric: exact_match
    aggregation: mean
    higher_is_better: true
"""
UTILS = "def visual(doc):\n    return [doc['media']] if 'media' in doc else []\n"


def _flac(i: int, seconds: float) -> bytes:
    import numpy as np
    import soundfile

    rate = 22_050
    t = np.arange(int(seconds * rate)) / rate
    noise = np.random.default_rng(i).normal(0, 0.05, t.size)  # speech-like entropy: FLAC cannot shrink it to nothing
    buffer = io.BytesIO()
    soundfile.write(buffer, (0.3 * np.sin(2 * np.pi * (200 + i % 500) * t) + noise).astype("float32"), rate,
                    format="FLAC")
    return buffer.getvalue()


def _jpeg(i: int, side: int) -> bytes:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(i)
    base = np.linspace(0, 255, side, dtype=np.float32)
    pixels = (base[None, :, None] * 0.6 + rng.normal(0, 25, (side, side, 3)) + (i % 7) * 10).clip(0, 255)
    buffer = io.BytesIO()
    Image.fromarray(pixels.astype("uint8")).save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def make_tasks(folder: Path, n: int, seconds: float, side: int) -> dict[str, float]:
    """The three tasks; returns each one's mean media bytes per doc."""
    import datasets
    import pyarrow as pa
    import pyarrow.parquet as pq

    sizes: dict[str, float] = {}
    for name, feature, make in (("bench_audio", datasets.Audio(), lambda i: _flac(i, seconds)),
                                ("bench_image", datasets.Image(), lambda i: _jpeg(i, side)),
                                ("bench_text", None, None)):
        rows, total = [], 0
        for i in range(n):
            row = {"question": f"What is in item {i}?", "answer": "A"}
            if make is not None:
                data = make(i)
                total += len(data)
                row["media"] = {"bytes": data, "path": f"{i}.{'flac' if name == 'bench_audio' else 'jpg'}"}
            rows.append(row)
        features = {"question": datasets.Value("string"), "answer": datasets.Value("string")}
        if feature is not None:
            features["media"] = feature
        pq.write_table(pa.Table.from_pylist(rows, schema=datasets.Features(features).arrow_schema),
                       folder / f"{name}.parquet")
        (folder / f"{name}.yaml").write_text(YAML.format(name=name))
        sizes[name] = total / n
    (folder / "utils.py").write_text(UTILS)
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--side", type=int, default=512)
    parser.add_argument("--repeat", type=int, default=1, help="runs per task; the lowest peak is kept")
    parser.add_argument("--make", type=Path, help=argparse.SUPPRESS)  # the data, written by a child process
    args = parser.parse_args()
    if args.make is not None:
        print(json.dumps(make_tasks(args.make, args.n, args.seconds, args.side)))
        return
    stub = subprocess.Popen([sys.executable, str(HERE / "stub_server.py")], stdout=subprocess.PIPE, text=True)
    try:
        assert stub.stdout is not None
        port = int(stub.stdout.readline())
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            # Written by a child: a child's peak RSS starts from its parent's at fork, so the parent stays small.
            made = subprocess.run([sys.executable, __file__, "--make", str(folder), "--n", str(args.n), "--seconds",
                                   str(args.seconds), "--side", str(args.side)], capture_output=True, text=True,
                                  check=True)
            sizes = json.loads(made.stdout)
            env = {k: v for k, v in os.environ.items() if k not in BENCH_KEYS} | BENCH_KEYS
            env.update(LMMS_EVAL_HOME=str(folder / "home"), HF_HOME=str(folder / "hf"))  # a fresh datasets cache
            cold: dict[str, float] = {}
            peaks: dict[str, tuple[float, float]] = {}
            for name in ("bench_image", "bench_audio", "bench_text"):
                cmd = [sys.executable, "-m", "assay", "run", "--model", "openai_compatible", "--model_args",
                       f"model=bench,base_url=http://127.0.0.1:{port}/v1,num_concurrent=16", "--tasks", name,
                       "--include_path", str(folder), "--output_path", str(folder / "out"), "--log_samples"]
                cold[name] = _popen_with_rss(cmd, env)[2]  # builds the Arrow cache
                runs = [_popen_with_rss(cmd, env) for _ in range(args.repeat)]
                peaks[name] = min((rss, wall) for _, wall, rss, _ in runs)
    finally:
        stub.terminate()
        stub.wait(timeout=10)
    base, cold_base = peaks["bench_image"][0], cold["bench_image"]
    print(f"{args.n} docs per run, openai_compatible against the stub (0 ms), --log_samples; baseline: the image run")
    print(f"{'run':<14} {'media/doc':>10} {'wall s':>8} {'peak RSS MB':>12} {'x image':>8} "
          f"{'1st run MB':>11} {'x image':>8}")
    for name, label in (("bench_image", f"image {args.side}px jpeg"), ("bench_audio", f"audio {args.seconds:g} s"),
                        ("bench_text", "text only")):
        rss, wall = peaks[name]
        media = f"{sizes[name] / 1024:.0f} KB" if sizes[name] else "-"
        print(f"{label:<14} {media:>10} {wall:>8.1f} {rss:>12.1f} {rss / base:>8.2f} {cold[name]:>11.1f} "
              f"{cold[name] / cold_base:>8.2f}")


if __name__ == "__main__":
    main()
