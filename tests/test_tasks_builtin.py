"""The built-in tasks: their data is what the generator makes, they load, and their prompts look right."""

from __future__ import annotations

import base64
import importlib.util
import io
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

from assay.env.settings import Settings
from assay.tasks import TaskRegistry
from assay.tasks.registry.discovery import BUILTIN_DIR
from assay.types import ImagePart, TextPart

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def generator() -> ModuleType:
    path = ROOT / "scripts" / "generate_builtin_tasks.py"
    spec = importlib.util.spec_from_file_location("generate_builtin_tasks", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def read_jsonl(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_committed_data_is_what_the_generator_makes(generator: ModuleType) -> None:
    assert read_jsonl(BUILTIN_DIR / "assay_arith_mc" / "assay_arith_mc.jsonl") == generator.arith_docs()
    assert read_jsonl(BUILTIN_DIR / "assay_colors" / "assay_colors.jsonl") == generator.colors_docs()


def test_arith_mc_docs_prompt_and_scoring(settings: Settings) -> None:
    task = TaskRegistry.discover(settings).load("assay_arith_mc", settings=settings, model_name="openai")
    docs = task.docs()
    assert len(docs) == 300
    doc = docs[0]
    (message,) = task.messages(doc)
    assert message.parts == (TextPart(message.text),)
    lines = message.text.splitlines()
    assert lines[0].startswith("What is ") and [line[:3] for line in lines[1:5]] == ["A. ", "B. ", "C. ", "D. "]
    assert lines[-1] == "Answer with the option's letter from the given choices directly."
    letter = task.target(doc)
    assert letter in "ABCD" and doc["options"]["ABCD".index(letter)] == str(doc["value"])
    assert task.score(doc, letter).scores == {"mc_accuracy": 1.0, "exact_match": 1.0}
    assert task.score(doc, f"The answer is ({letter}).")["mc_accuracy"] == 1.0
    wrong = "ABCD"[("ABCD".index(letter) + 1) % 4]
    assert task.score(doc, wrong)["mc_accuracy"] == 0.0
    params = task.generation_params()
    assert params.max_tokens == 8 and params.temperature == 0.0
    assert {d["answer"] for d in docs} == set("ABCD")


def test_colors_docs_are_image_questions(settings: Settings) -> None:
    task = TaskRegistry.discover(settings).load("assay_colors", settings=settings, model_name="openai")
    docs = task.docs()
    assert len(docs) == 200
    assert {d["question_type"] for d in docs} == {"count", "color"}
    for doc in docs[:4]:
        (message,) = task.messages(doc)
        image, text = message.parts
        assert isinstance(image, ImagePart) and isinstance(text, TextPart)
        assert text.text == doc["question"]
        assert task.target(doc) == doc["answer"]
        assert task.score(doc, str(doc["answer"])).scores == {"exact_match": 1.0}


def test_colors_images_are_deterministic_and_show_the_scene(settings: Settings) -> None:
    from PIL import Image

    task = TaskRegistry.discover(settings).load("assay_colors", settings=settings, model_name="openai")
    doc = next(d for d in task.docs() if d["question_type"] == "count" and d["count"] >= 3)
    first, again = (task.messages(doc)[0].parts[0] for _ in range(2))
    assert isinstance(first, ImagePart) and first == again
    image = Image.open(io.BytesIO(base64.b64decode(first.data_b64))).convert("RGB")
    wanted = {"red": (220, 30, 30), "green": (30, 150, 60), "blue": (30, 80, 220),
              "yellow": (235, 195, 20), "purple": (140, 50, 180), "orange": (245, 125, 20)}[doc["color"]]
    colours = {c for _, c in image.getcolors(maxcolors=1 << 16) or []}
    assert any(sum(abs(a - b) for a, b in zip(c, wanted, strict=True)) < 30 for c in colours)


def test_demo_group_resolves_to_both(settings: Settings) -> None:
    registry = TaskRegistry.discover(settings)
    assert registry.resolve(["assay_demo"]) == ["assay_arith_mc", "assay_colors"]
    assert registry.resolve(["assay_builtin"]) == ["assay_arith_mc", "assay_colors"]
