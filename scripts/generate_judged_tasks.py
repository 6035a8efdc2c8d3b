"""Regenerate the data of assay's built-in judged tasks (deterministic docs; no downloads).

    python scripts/generate_judged_tasks.py          # needs PyAV for the clips: pip install 'assay[video]'

writes, under src/assay/tasks/builtin/:
  assay_judged_video/videos/clip-NN.mp4     12 short clips (96x96, 16 frames): one shape crossing a background
  assay_judged_video/assay_video_qa.jsonl   24 open-ended questions about them (judged like ActivityNetQA)
  assay_judged_video/assay_video_caption.jsonl  12 caption requests with the facts a caption should state (VDC)
  assay_judged_image/assay_image_pairwise.jsonl 16 instructions with a baseline model's answer (WildVision)
  assay_judged_image/assay_image_edit.jsonl     12 edit instructions on drawn images (VIEScore, GEdit-Bench)
The JSONL files are byte-identical on every run; the clips are re-encoded (FFmpeg may differ by version).
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

BUILTIN = Path(__file__).resolve().parents[1] / "src" / "assay" / "tasks" / "builtin"
VIDEO_DIR = BUILTIN / "assay_judged_video"
IMAGE_DIR = BUILTIN / "assay_judged_image"
SHAPES = ("circle", "square", "triangle")
COLORS = ("red", "green", "blue", "yellow", "purple", "orange")
DIRECTIONS = ("left to right", "right to left", "top to bottom", "bottom to top")
BACKGROUNDS = ("white", "black", "gray")
RGB = {
    "red": (220, 30, 30), "green": (30, 150, 60), "blue": (30, 80, 220), "yellow": (235, 195, 20),
    "purple": (140, 50, 180), "orange": (245, 125, 20), "white": (255, 255, 255), "black": (0, 0, 0),
    "gray": (128, 128, 128),
}
CLIP_SIZE, CLIP_FRAMES, CLIP_FPS = 96, 16, 8


def clips(n: int = 12, seed: int = 2024) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        color = COLORS[i % len(COLORS)]
        background = "white" if color == "yellow" else rng.choice(BACKGROUNDS)  # keep every shape visible
        out.append({"clip": f"clip-{i:02d}", "shape": SHAPES[i % 3], "color": color,
                    "direction": DIRECTIONS[i % 4], "background": background})
    return out


def video_qa_docs() -> list[dict[str, Any]]:
    docs = []
    for clip in clips():
        n = clip["clip"][-2:]
        docs.append({"id": f"vqa-{n}-object", **clip, "question": "What object moves across the video?",
                     "answer": f"a {clip['color']} {clip['shape']}"})
        docs.append({"id": f"vqa-{n}-direction", **clip,
                     "question": f"In which direction does the {clip['shape']} move?",
                     "answer": f"from {clip['direction']}"})
    return docs


def video_caption_docs() -> list[dict[str, Any]]:
    docs = []
    for clip in clips():
        facts = [
            {"question": "What shape is the moving object?", "answer": f"a {clip['shape']}"},
            {"question": "What color is the moving object?", "answer": clip["color"]},
            {"question": "In which direction does the object move?", "answer": f"from {clip['direction']}"},
            {"question": "What color is the background?", "answer": clip["background"]},
        ]
        caption = (f"A {clip['color']} {clip['shape']} moves steadily from {clip['direction']} across a plain "
                   f"{clip['background']} background.")
        docs.append({"id": f"cap-{clip['clip'][-2:]}", **clip, "caption": caption, "qa": facts})
    return docs


def pairwise_docs(n: int = 16, seed: int = 99) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    docs = []
    for i in range(n):
        shape, color = SHAPES[i % 3], COLORS[(i * 5) % len(COLORS)]
        count = rng.randint(1, 4)
        scene = {"shape": shape, "color": color, "count": count, "background": "white", "seed": rng.randint(0, 9999)}
        noun = shape if count == 1 else f"{shape}s"
        if i % 2 == 0:
            instruction = "Describe this image in one sentence."
            good = f"The image shows {count} {color} {noun} on a white background."
            poor = f"The image shows some {rng.choice([c for c in COLORS if c != color])} shapes."
        else:
            instruction = f"How many {color} {shape}s are in this image, and what else is in it?"
            good = f"There {'is' if count == 1 else 'are'} {count} {color} {noun}, on a plain white background."
            poor = f"There are {count + 2} {color} {shape}s and a tree."
        quality = "good" if i % 4 in (0, 1) else "poor"  # half the baseline answers are wrong on purpose
        docs.append({"id": f"pair-{i:02d}", "scene": scene, "instruction": instruction,
                     "baseline": good if quality == "good" else poor, "baseline_quality": quality,
                     "reference": good})
    return docs


def edit_docs(n: int = 12, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    docs: list[dict[str, Any]] = []
    seen: set[str] = set()
    while len(docs) < n:
        i = len(docs)
        source = {"shape": rng.choice(SHAPES), "color": rng.choice(COLORS), "background": "white"}
        target = dict(source)
        kind = ("recolor", "reshape", "background")[i % 3]
        if kind == "recolor":
            target["color"] = rng.choice([c for c in COLORS if c != source["color"]])
            instruction = f"Change the color of the {source['shape']} to {target['color']}."
        elif kind == "reshape":
            target["shape"] = rng.choice([s for s in SHAPES if s != source["shape"]])
            instruction = f"Replace the {source['color']} {source['shape']} with a {target['color']} {target['shape']}."
        else:
            target["background"] = rng.choice(["black", "gray"])
            kept = f"{source['color']} {source['shape']}"
            instruction = f"Make the background {target['background']} and keep the {kept}."
        if instruction in seen:  # every instruction names one edit of one image
            continue
        seen.add(instruction)
        docs.append({"id": f"edit-{i:02d}", "edit_type": kind, "source": source, "target": target,
                     "instruction": instruction})
    return docs


def clip_frames(clip: dict[str, Any]) -> list[Any]:
    """The clip's frames as PIL images (the shape crosses the frame in CLIP_FRAMES steps)."""
    from PIL import Image, ImageDraw

    frames = []
    radius, size = 14, CLIP_SIZE
    for t in range(CLIP_FRAMES):
        progress = radius + (size - 2 * radius) * t / (CLIP_FRAMES - 1)
        along = {"left to right": (progress, size / 2), "right to left": (size - progress, size / 2),
                 "top to bottom": (size / 2, progress), "bottom to top": (size / 2, size - progress)}
        cx, cy = along[clip["direction"]]
        image = Image.new("RGB", (size, size), RGB[clip["background"]])
        draw = ImageDraw.Draw(image)
        box = (cx - radius, cy - radius, cx + radius, cy + radius)
        fill = RGB[clip["color"]]
        if clip["shape"] == "circle":
            draw.ellipse(box, fill=fill)
        elif clip["shape"] == "square":
            draw.rectangle(box, fill=fill)
        else:
            draw.polygon([(cx, cy - radius), (cx + radius, cy + radius), (cx - radius, cy + radius)], fill=fill)
        frames.append(image)
    return frames


def write_clip(path: Path, clip: dict[str, Any]) -> None:
    import av

    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("mpeg4", rate=CLIP_FPS)
        stream.width = stream.height = CLIP_SIZE
        stream.pix_fmt = "yuv420p"
        stream.bit_rate = 200_000
        for image in clip_frames(clip):
            for packet in stream.encode(av.VideoFrame.from_image(image)):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def write_jsonl(path: Path, docs: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs), encoding="utf-8")
    print(f"wrote {len(docs)} docs to {path}")


def main() -> None:
    (VIDEO_DIR / "videos").mkdir(parents=True, exist_ok=True)
    for clip in clips():
        write_clip(VIDEO_DIR / "videos" / f"{clip['clip']}.mp4", clip)
    print(f"wrote {len(clips())} clips to {VIDEO_DIR / 'videos'}")
    write_jsonl(VIDEO_DIR / "assay_video_qa.jsonl", video_qa_docs())
    write_jsonl(VIDEO_DIR / "assay_video_caption.jsonl", video_caption_docs())
    IMAGE_DIR.mkdir(parents=True, exist_ok=True)
    write_jsonl(IMAGE_DIR / "assay_image_pairwise.jsonl", pairwise_docs())
    write_jsonl(IMAGE_DIR / "assay_image_edit.jsonl", edit_docs())


if __name__ == "__main__":
    main()
