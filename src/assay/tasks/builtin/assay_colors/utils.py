"""Images for assay_colors, drawn with PIL from each doc's fields (same doc -> same pixels).

A doc describes its scene: the asked-about ``shape``/``color``/``count``, ``distractors`` (other
shape/colour combinations) and a ``seed`` that places everything on a 4x4 grid without overlap.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PIL import Image

SIZE = 336
GRID = 4
COLORS: dict[str, tuple[int, int, int]] = {
    "red": (220, 30, 30),
    "green": (30, 150, 60),
    "blue": (30, 80, 220),
    "yellow": (235, 195, 20),
    "purple": (140, 50, 180),
    "orange": (245, 125, 20),
}
SHAPES = ("circle", "square", "triangle")


def scene_objects(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """(shape, color) of every object in the image, the asked-about ones first."""
    objects = [(doc["shape"], doc["color"])] * int(doc["count"])
    for d in doc.get("distractors") or []:
        objects += [(d["shape"], d["color"])] * int(d["count"])
    return objects


def draw_scene(doc: dict[str, Any]) -> Image.Image:
    from PIL import Image, ImageDraw

    rng = random.Random(int(doc["seed"]))
    objects = scene_objects(doc)
    cells = rng.sample(range(GRID * GRID), len(objects))
    image = Image.new("RGB", (SIZE, SIZE), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    cell = SIZE // GRID
    for (shape, color), index in zip(objects, cells, strict=True):
        radius = rng.randint(cell // 4, cell * 2 // 5)
        cx = (index % GRID) * cell + cell // 2 + rng.randint(-(cell // 2 - radius), cell // 2 - radius)
        cy = (index // GRID) * cell + cell // 2 + rng.randint(-(cell // 2 - radius), cell // 2 - radius)
        box = (cx - radius, cy - radius, cx + radius, cy + radius)
        fill = COLORS[color]
        if shape == "circle":
            draw.ellipse(box, fill=fill)
        elif shape == "square":
            draw.rectangle(box, fill=fill)
        else:
            draw.polygon([(cx, cy - radius), (cx + radius, cy + radius), (cx - radius, cy + radius)], fill=fill)
    return image


def colors_doc_to_visual(doc: dict[str, Any]) -> list[Image.Image]:
    return [draw_scene(doc)]


def colors_doc_to_text(doc: dict[str, Any], lmms_eval_specific_kwargs: dict[str, Any] | None = None) -> str:
    kwargs = lmms_eval_specific_kwargs or {}
    return f"{kwargs.get('pre_prompt', '')}{doc['question']}{kwargs.get('post_prompt', '')}"
