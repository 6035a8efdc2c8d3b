"""Answer functions for loopback servers that play a model or a judge on the built-in judged tasks.

Each looks only at the request it gets (plus the task's own data files, as a grader with an answer key
would), so what the tests assert is computed independently of assay's scoring code.
"""

from __future__ import annotations

import base64
import io
import json
import re
from typing import Any

from assay.tasks.registry.discovery import BUILTIN_DIR
from tests.fault_server import last_user_text

IMAGE = BUILTIN_DIR / "assay_judged_image"


def _docs(name: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (IMAGE / f"{name}.jsonl").read_text().splitlines()]


def _image_urls(body: dict[str, Any]) -> list[str]:
    content = body["messages"][-1]["content"]
    return [p["image_url"]["url"] for p in content if isinstance(p, dict) and p.get("type") == "image_url"]


def _png(image: Any) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _draw(spec: dict[str, Any]) -> Any:
    from PIL import Image, ImageDraw

    rgb = {"red": (220, 30, 30), "green": (30, 150, 60), "blue": (30, 80, 220), "yellow": (235, 195, 20),
           "purple": (140, 50, 180), "orange": (245, 125, 20), "white": (255, 255, 255), "black": (0, 0, 0),
           "gray": (128, 128, 128)}
    size = 128
    image = Image.new("RGB", (size, size), rgb[spec["background"]])
    draw, c, r = ImageDraw.Draw(image), size / 2, size * 0.3
    box, fill = (c - r, c - r, c + r, c + r), rgb[spec["color"]]
    if spec["shape"] == "circle":
        draw.ellipse(box, fill=fill)
    elif spec["shape"] == "square":
        draw.rectangle(box, fill=fill)
    else:
        draw.polygon([(c, c - r), (c + r, c + r), (c - r, c + r)], fill=fill)
    return image


def _edit_doc(instruction: str) -> tuple[int, dict[str, Any]]:
    for i, doc in enumerate(_docs("assay_image_edit")):
        if doc["instruction"] == instruction:
            return i, doc
    raise AssertionError(f"no edit doc for {instruction!r}")


def edit_model_answer(body: dict[str, Any]) -> str:
    """An image editor that edits even-numbered docs perfectly and returns odd ones unchanged."""
    instruction = last_user_text(body).replace(" Answer with the edited image.", "").strip()
    index, doc = _edit_doc(instruction)
    return "Here is the edited image: " + _png(_draw(doc["target"] if index % 2 == 0 else doc["source"]))


def viescore_grade(body: dict[str, Any]) -> str:
    """VIEScore-style grading: semantics [9, 9] for an exact edit, [2, 6] otherwise; quality always [8, 9]."""
    from PIL import Image, ImageChops

    text = last_user_text(body)
    quoted = re.search(r'instruction was: "(.*?)"', text)
    if quoted is None:  # the perceptual-quality prompt: one image, no instruction
        return json.dumps({"score": [8, 9], "reasoning": "clean flat shapes"})
    _, doc = _edit_doc(quoted.group(1))
    edited = _image_urls(body)[1]
    image = Image.open(io.BytesIO(base64.b64decode(edited.split(",", 1)[1]))).convert("RGB")
    exact = ImageChops.difference(image, _draw(doc["target"])).getbbox() is None
    return json.dumps({"score": [9, 9] if exact else [2, 6], "reasoning": "compared with the instruction"})


def pairwise_grade(body: dict[str, Any]) -> str:
    """Prefers the answer that matches the doc's reference; equal quality is a tie."""
    text = last_user_text(body)
    a = re.search(r"\[Answer A\]\n(.*?)\n\[End of answer A\]", text, re.S)
    b = re.search(r"\[Answer B\]\n(.*?)\n\[End of answer B\]", text, re.S)
    assert a and b, text
    references = {d["reference"] for d in _docs("assay_image_pairwise")}
    a_good, b_good = a.group(1) in references, b.group(1) in references
    label = "A=B" if a_good == b_good else ("A>>B" if a_good else "B>A")
    return f"Comparing both answers with the image. My final verdict: [[{label}]]"


def caption_grade(body: dict[str, Any]) -> str:
    """VDC-style: answers the question from the description, yes/5 when the reference is stated in it."""
    text = last_user_text(body)
    found = re.search(r"Description: (.*?)\n\nQuestion: (.*?)\nReference answer: (.*?)\n", text, re.S)
    assert found, text
    stated = found.group(3).lower() in found.group(1).lower()
    return json.dumps({"answer": found.group(3) if stated else "not stated", "pred": "yes" if stated else "no",
                       "score": 5 if stated else 0})
