"""Judged image tasks: pairwise comparison with a baseline (like WildVision-Bench) and image editing
scored with VIEScore's semantics (like GEdit-Bench). Images are drawn from each doc's fields.

Scoring is ``async`` (awaited on the event loop); image encoding for the judge goes to a worker thread.
A failed judgement is excluded by the runner whatever these functions return.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import math
import random
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assay.judge import Verdict, json_object, judge, pairwise
from assay.judge.parsers import score_list
from assay.types import Message, TextPart

if TYPE_CHECKING:
    from PIL import Image

RGB = {
    "red": (220, 30, 30), "green": (30, 150, 60), "blue": (30, 80, 220), "yellow": (235, 195, 20),
    "purple": (140, 50, 180), "orange": (245, 125, 20), "white": (255, 255, 255), "black": (0, 0, 0),
    "gray": (128, 128, 128),
}
BASELINE = "assay-baseline-v1"

# -- drawing --------------------------------------------------------------------------------------


def _shape(draw: Any, shape: str, cx: float, cy: float, r: float, color: str) -> None:
    box, fill = (cx - r, cy - r, cx + r, cy + r), RGB[color]
    if shape == "circle":
        draw.ellipse(box, fill=fill)
    elif shape == "square":
        draw.rectangle(box, fill=fill)
    else:
        draw.polygon([(cx, cy - r), (cx + r, cy + r), (cx - r, cy + r)], fill=fill)


def draw_scene(scene: dict[str, Any], size: int = 192) -> Image.Image:
    """``count`` shapes of one kind on a 4x4 grid (pairwise docs)."""
    from PIL import Image, ImageDraw

    rng = random.Random(int(scene["seed"]))
    image = Image.new("RGB", (size, size), RGB[scene["background"]])
    draw, cell = ImageDraw.Draw(image), size // 4
    for index in rng.sample(range(16), int(scene["count"])):
        _shape(draw, scene["shape"], (index % 4 + 0.5) * cell, (index // 4 + 0.5) * cell, cell * 0.35,
               scene["color"])
    return image


def draw_single(spec: dict[str, Any], size: int = 128) -> Image.Image:
    """One centred shape (editing docs: the source image, and what a perfect edit looks like)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (size, size), RGB[spec["background"]])
    _shape(ImageDraw.Draw(image), spec["shape"], size / 2, size / 2, size * 0.3, spec["color"])
    return image


def _parts(*images: Image.Image) -> tuple[Any, ...]:
    from assay.media.image import encode_image

    return tuple(encode_image(image, format="png") for image in images)


# -- pairwise (WildVision-style) ------------------------------------------------------------------

PAIR_SYSTEM = (
    "You compare two assistants' answers to a user's request about an image. Decide which answer serves the "
    "user better: correct about what the image shows, complete, and to the point. The order of the answers "
    "says nothing about their quality. Think briefly, then end with exactly one verdict label: [[A>>B]] (A "
    "much better), [[A>B]], [[A=B]] (equal), [[B>A]] or [[B>>A]] (B much better)."
)
PAIR_PROMPT = "User request: {instruction}\n\n[Answer A]\n{a}\n[End of answer A]\n\n[Answer B]\n{b}\n[End of answer B]"


def pairwise_doc_to_visual(doc: dict[str, Any]) -> list[Image.Image]:
    return [draw_scene(doc["scene"])]


def pairwise_doc_to_text(doc: dict[str, Any], lmms_eval_specific_kwargs: dict[str, Any] | None = None) -> str:
    kwargs = lmms_eval_specific_kwargs or {}
    return f"{kwargs.get('pre_prompt', '')}{doc['instruction']}{kwargs.get('post_prompt', '')}"


def _pair_messages(doc: dict[str, Any], answer: str) -> tuple[Message, ...]:
    text = PAIR_PROMPT.format(instruction=doc["instruction"], a=doc["baseline"], b=answer)
    return (Message("system", (TextPart(PAIR_SYSTEM),)),
            Message("user", (*_parts(draw_scene(doc["scene"])), TextPart(text))))


async def pairwise_process_results(doc: dict[str, Any], results: list[str]) -> dict[str, float]:
    """The baseline is answer A, the model under test answer B (as WildVision-Bench orders them)."""
    messages = await asyncio.to_thread(_pair_messages, doc, results[0].strip())
    outcome = await judge(messages, pairwise)
    if not isinstance(outcome, Verdict):
        return {}
    verdict = outcome.value
    outcome_for_model = 1.0 if verdict.winner == "B" else 0.5 if verdict.winner == "tie" else 0.0
    return {"win_rate": outcome_for_model, "elo": outcome_for_model, "raw_score": float(verdict.score_for("B"))}


def elo_vs_baseline(outcomes: list[float]) -> float:
    """An Elo-style rating against the baseline fixed at 1000: the rating difference whose expected score
    equals the model's observed score (wins + half the ties), kept finite for a clean sweep."""
    n = len(outcomes)
    observed = sum(outcomes) / n
    p = min(max(observed, 1 / (2 * n)), 1 - 1 / (2 * n))
    return 1000.0 + 400.0 * math.log10(p / (1 - p))


# -- image editing (VIEScore semantics) -----------------------------------------------------------

SC_PROMPT = (
    "You rate an image edit. The first image is the original, the second the edited result. The edit "
    "instruction was: \"{instruction}\".\nGive two scores from 0 to 10: how well the edit does what the "
    "instruction asks (10: exactly), and how well everything the instruction did not mention is left as it "
    "was (10: nothing else changed). Reply with JSON only: "
    '{{"score": [instruction_score, preservation_score], "reasoning": "one sentence"}}'
)
PQ_PROMPT = (
    "You rate the quality of a generated image. Give two scores from 0 to 10: how natural the image looks "
    "(10: entirely natural for its kind of picture), and how free it is of artifacts such as smudges, "
    "distortions or broken shapes (10: none). Reply with JSON only: "
    '{{"score": [naturalness, artifact_free], "reasoning": "one sentence"}}'
)
VIESCORE = json_object({"score": score_list(0, 10, 2)})


def edit_doc_to_visual(doc: dict[str, Any]) -> list[Image.Image]:
    return [draw_single(doc["source"])]


def edit_doc_to_text(doc: dict[str, Any], lmms_eval_specific_kwargs: dict[str, Any] | None = None) -> str:
    kwargs = lmms_eval_specific_kwargs or {}
    return f"{kwargs.get('pre_prompt', '')}{doc['instruction']}{kwargs.get('post_prompt', '')}"


def edited_image(answer: str) -> Image.Image | None:
    """The edited image in a model's answer: a ``data:image/…`` URL, or lmms-eval's unified output
    ``{"text": …, "images": [path or data URL]}``. None when there is no image."""
    from PIL import Image

    text = answer.strip()
    try:
        data = json.loads(text)
        images = data.get("images") if isinstance(data, dict) else None
        text = str(images[0]) if images else text
    except ValueError:
        pass
    start = text.find("data:image/")
    try:
        if start >= 0:
            payload = text[start:].split(",", 1)[1].split()[0].strip("\"')")
            return Image.open(io.BytesIO(base64.b64decode(payload))).convert("RGB")
        if Path(text).is_file():
            return Image.open(text).convert("RGB")
    except (OSError, ValueError, IndexError):
        return None
    return None


def _edit_messages(doc: dict[str, Any], edited: Image.Image) -> tuple[Message, Message]:
    source_part, edited_part = _parts(draw_single(doc["source"]), edited)
    semantics = Message("user", (source_part, edited_part, TextPart(SC_PROMPT.format(instruction=doc["instruction"]))))
    quality = Message("user", (edited_part, TextPart(PQ_PROMPT)))
    return semantics, quality


async def edit_process_results(doc: dict[str, Any], results: list[str]) -> dict[str, float]:
    """VIEScore: semantics = min of the two instruction scores, quality = min of the two quality scores,
    overall = sqrt(semantics x quality). No image in the answer is the model's failure: 0, not a judge one."""
    edited = await asyncio.to_thread(edited_image, results[0])
    if edited is None:
        return {"semantics": 0.0, "quality": 0.0, "overall": 0.0}
    semantics_prompt, quality_prompt = await asyncio.to_thread(_edit_messages, doc, edited)
    sc, pq = await asyncio.gather(judge(semantics_prompt, VIESCORE, profile="viescore"),
                                  judge(quality_prompt, VIESCORE, profile="viescore"))
    if not (isinstance(sc, Verdict) and isinstance(pq, Verdict)):
        return {}
    semantics, quality = min(sc.value["score"]), min(pq.value["score"])
    return {"semantics": semantics, "quality": quality, "overall": math.sqrt(semantics * quality)}
