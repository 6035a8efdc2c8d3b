"""The built-in judged tasks: their data is what the generator makes, the clips decode to what the docs
say, and their scoring helpers read the model's answers as documented."""

from __future__ import annotations

import base64
import importlib.util
import io
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from assay.env.settings import Settings
from assay.tasks import TaskRegistry
from assay.tasks.registry.discovery import BUILTIN_DIR
from assay.types import ImagePart, TextPart, VideoPart

ROOT = Path(__file__).resolve().parents[1]
TASKS = ["assay_image_edit", "assay_image_pairwise", "assay_video_caption", "assay_video_qa"]


def load_module(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def generator() -> ModuleType:
    return load_module(ROOT / "scripts" / "generate_judged_tasks.py", "generate_judged_tasks")


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_committed_data_is_what_the_generator_makes(generator: ModuleType) -> None:
    video, image = BUILTIN_DIR / "assay_judged_video", BUILTIN_DIR / "assay_judged_image"
    assert read_jsonl(video / "assay_video_qa.jsonl") == generator.video_qa_docs()
    assert read_jsonl(video / "assay_video_caption.jsonl") == generator.video_caption_docs()
    assert read_jsonl(image / "assay_image_pairwise.jsonl") == generator.pairwise_docs()
    assert read_jsonl(image / "assay_image_edit.jsonl") == generator.edit_docs()
    assert len({d["instruction"] for d in generator.edit_docs()}) == 12  # one edit per instruction


def test_the_clips_show_what_their_docs_say(generator: ModuleType) -> None:
    from assay.media.video import video_part

    for clip in generator.clips():
        part = video_part(BUILTIN_DIR / "assay_judged_video" / "videos" / f"{clip['clip']}.mp4", num_frames=16)
        assert len(part.frames) == 16
        from PIL import Image

        first = Image.open(io.BytesIO(base64.b64decode(part.frames[0].data_b64))).convert("RGB")
        corner = first.getpixel((2, 2))
        expected = generator.RGB[clip["background"]]
        assert all(abs(a - b) < 40 for a, b in zip(corner, expected, strict=True)), (clip, corner)


def test_judged_tasks_load_with_their_media(settings: Settings) -> None:
    registry = TaskRegistry.discover(settings)
    assert registry.resolve(["assay_judged"]) == TASKS
    kinds = {}
    for name in TASKS:
        task = registry.load(name, settings=settings, model_name="openai")
        (message,) = task.messages(task.docs(limit=1)[0])
        kinds[name] = [type(p) for p in message.parts]
    assert kinds["assay_video_qa"] == [VideoPart, TextPart]
    assert kinds["assay_image_edit"] == [ImagePart, TextPart]


def test_scoring_outside_a_run_is_a_judge_failure_not_a_score() -> None:
    import asyncio

    from assay.judge.log import judging_sample

    utils = load_module(BUILTIN_DIR / "assay_judged_video" / "utils.py", "judged_video_utils")
    doc = read_jsonl(BUILTIN_DIR / "assay_judged_video" / "assay_video_qa.jsonl")[0]

    async def score() -> dict[str, float]:
        with judging_sample() as log:
            scores: dict[str, float] = await utils.video_qa_process_results(doc, ["a red circle"])
        failure = log.failure()
        assert failure is not None and failure.reason == "request_failed" and "no judge" in failure.detail
        return scores

    assert asyncio.run(score()) == {}


def test_edited_images_are_read_from_data_urls_and_lmms_eval_output(tmp_path: Path) -> None:
    from PIL import Image

    utils = load_module(BUILTIN_DIR / "assay_judged_image" / "utils.py", "judged_image_utils")
    image = Image.new("RGB", (8, 8), (1, 2, 3))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    url = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    path = tmp_path / "edited.png"
    image.save(path)
    for answer in (url, f"Here you go: {url}", json.dumps({"text": "done", "images": [str(path)]}),
                   json.dumps({"text": "", "images": [url]})):
        found = utils.edited_image(answer)
        assert found is not None and found.getpixel((0, 0)) == (1, 2, 3)
    assert utils.edited_image("I cannot edit images.") is None
    assert utils.edited_image("data:image/png;base64,not-base64!") is None


def test_elo_against_the_baseline() -> None:
    utils = load_module(BUILTIN_DIR / "assay_judged_image" / "utils.py", "judged_image_utils2")
    assert utils.elo_vs_baseline([0.5, 0.5]) == pytest.approx(1000.0)
    assert utils.elo_vs_baseline([1.0, 1.0, 0.0, 1.0]) == pytest.approx(1000 + 400 * 0.47712125, abs=1e-3)
    clean_sweep = utils.elo_vs_baseline([1.0] * 10)
    assert 1400 < clean_sweep < 1600  # finite, as if one of 20 half-games were lost
