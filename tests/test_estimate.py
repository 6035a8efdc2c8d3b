"""--dry_run and the estimate: vendors' image rules, offline token counts, and estimates checked against what
each vendor emulation bills for the same run (text and image tasks)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import assay
from assay.env.settings import load_settings
from assay.model.estimate.media import anthropic_image, gemini_image, openai_rule, rules_for
from assay.model.estimate.tokens import CHARACTER_RATIO, text_counter
from tests.emulators import VENDORS, Emulator, Vendor
from tests.helpers import results_file, run_cli

KEY = "emu-estimate-key-000000001"


@pytest.mark.parametrize(("model", "size", "tokens"), [
    ("gpt-4o", (1024, 1024), 765), ("gpt-4o", (2048, 4096), 1105), ("gpt-4o", (512, 512), 255),
    ("gpt-4o-2024-08-06", (1024, 1024), 765), ("gpt-4o-mini", (1024, 1024), 2833 + 4 * 5667),
    ("gpt-4.1-mini", (1024, 1024), 1659), ("gpt-4.1-mini", (1800, 2400), 2353),  # 1,452 patches (1056×1408) × 1.62,
])
def test_openai_image_tokens_match_the_published_examples(model: str, size: tuple[int, int], tokens: int) -> None:
    assert openai_rule(model)(*size) == tokens


def test_anthropic_and_gemini_image_tokens() -> None:
    assert anthropic_image(1000, 1000) == 1334  # w*h/750
    assert anthropic_image(4000, 4000) == anthropic_image(1072, 1072)  # brought within ~1.15 MP first
    assert gemini_image(300, 384) == 258
    assert gemini_image(1024, 1024) == 4 * 258  # tiles of 682 px
    assert rules_for("claude", "claude-sonnet-4-5").vendor == "anthropic"
    assert rules_for("gemini_api", "gemini-2.5-flash").vendor == "gemini"
    assert rules_for("xai", "grok-4").vendor == "openai"


def test_text_is_counted_offline_and_the_fallback_is_close_on_prose() -> None:
    counter = text_counter()
    assert counter.name.startswith("cl100k_base")  # the tokens extra ships the encoding: no download
    prose = "Which of the shapes in the picture is red? Answer with the letter of the option only. " * 20
    exact, rough = counter.count(prose), CHARACTER_RATIO.count(prose)
    assert counter.count("hello world") == 2  # cl100k_base: [15339, 1917]
    assert abs(rough - exact) / exact < 0.25
    assert counter.count("") == 0 == CHARACTER_RATIO.count("")


@pytest.fixture(params=["openai", "anthropic", "gemini"])
def vendor(request: pytest.FixtureRequest) -> Vendor:
    return VENDORS[request.param]


@pytest.fixture
def counting(vendor: Vendor) -> Iterator[Emulator]:
    with vendor.emulator(key=KEY, count_tokens=True) as emu:
        yield emu


def _args(vendor: Vendor, emu: Emulator, task: str, out: Path, *extra: str) -> list[str]:
    model_args = ",".join(f"{k}={v}" for k, v in vendor.model_args(emu, num_concurrent=4).items())
    return ["--model", vendor.provider, "--model_args", model_args, "--tasks", task, "--limit", "12",
            "--output_path", str(out), *extra]


@pytest.mark.parametrize("task", ["assay_arith_mc", "assay_colors"])
def test_dry_run_sends_nothing_and_is_within_10_percent_of_what_the_vendor_bills(
        vendor: Vendor, counting: Emulator, task: str, run_dir: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(vendor.variable, KEY)
    code, out, err = run_cli(capsys, *_args(vendor, counting, task, run_dir / "dry", "--dry_run"))
    assert code == 0, err
    assert counting.requests == [] and not (run_dir / "dry").exists()  # nothing sent, nothing written
    assert "nothing was sent" in out and "total" in out and "input tokens" in out and "$" in out

    code, _, err = run_cli(capsys, *_args(vendor, counting, task, run_dir / "real", "--max_cost", "1000"))
    assert code == 0, err
    doc = results_file(run_dir / "real")
    estimated, billed = doc["cost"]["estimate"]["total"]["input_tokens"], doc["usage"]["input_tokens"]
    assert len(counting.requests) == 12 and billed > 0
    assert abs(estimated - billed) / billed <= 0.10, (estimated, billed)
    if task == "assay_colors":
        assert doc["cost"]["estimate"]["total"]["images"] == 12
    low, high = doc["cost"]["estimate"]["total"]["usd_min"], doc["cost"]["estimate"]["total"]["usd_max"]
    assert low <= doc["cost"]["model"]["usd"] <= high  # what the vendor billed is inside the range


def test_dry_run_from_python(isolated: dict[str, str]) -> None:
    settings = load_settings(environ={**isolated, "OPENAI_API_KEY": KEY}, discover_dotenv=False)
    with VENDORS["openai"].emulator(key=KEY) as emu:
        plain = assay.evaluate("openai", "assay_colors", model_args=f"model=gpt-4o,base_url={emu.base_url}/v1",
                               limit=5, dry_run=True, settings=settings)
        assert emu.requests == []
    assert plain.status == "dry_run" and plain.results_path is None
    total = plain["estimate"]["total"]
    assert total["requests"] == 5 and total["images"] == 5 and total["input_tokens"] > 5 * 255
    assert total["usd_min"] < total["usd_max"] and plain["estimate"]["price"]["model"] == "gpt-4o"


def test_max_cost_below_the_estimated_minimum_is_refused_before_anything_is_sent(
        run_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    vendor = VENDORS["openai"]
    monkeypatch.setenv(vendor.variable, KEY)
    with vendor.emulator(key=KEY) as emu:
        code, _, err = run_cli(capsys, *_args(vendor, emu, "assay_colors", run_dir / "out", "--max_cost", "0.0001"))
        assert emu.requests == []
    assert code == 2 and "estimated to cost at least $" in err and "--max_cost" in err and "hint:" in err
    assert "Traceback" not in err and not (run_dir / "out").exists()


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "GIF"])
def test_an_images_size_is_read_from_its_header_whatever_its_format(fmt: str) -> None:
    import base64
    import io
    import os

    from PIL import Image

    from assay.model.estimate.media import image_size
    from assay.types import ImagePart

    buffer = io.BytesIO()
    exif = Image.Exif()
    exif[0x010E] = "x" * 40_000  # a description big enough to push a JPEG's size marker past the first bytes
    img = Image.frombytes("RGB", (333, 222), os.urandom(333 * 222 * 3))
    img.save(buffer, fmt, **({"exif": exif} if fmt == "JPEG" else {}))
    part = ImagePart(base64.b64encode(buffer.getvalue()).decode(), f"image/{fmt.lower()}")
    assert image_size(part) == (333, 222)
    assert image_size(ImagePart("bm90IGFuIGltYWdl")) == (0, 0)  # "not an image": no size, no crash
