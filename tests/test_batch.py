"""--batch against each vendor's batch API emulation: the same scores as an interactive run, no interactive
request for the model, batch prices; per-request failures, expired and rejected batches; resume after a kill."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.emulators import VENDORS, Emulator, Vendor
from tests.helpers import results_file, run_cli, samples

KEY = "emu-batch-key-00000000001"
BATCH_VENDORS = ["openai", "azure_openai", "anthropic", "gemini"]
GENERATE_PATHS = ("/chat/completions", "/v1/messages", ":generateContent")


def interactive_requests(emu: Emulator) -> list[str]:
    return [r.path for r in emu.requests if r.path.endswith(GENERATE_PATHS)]


def answer_by_question(body: dict[str, Any]) -> str:
    """The right option for some questions, a wrong one for others: scores that can differ."""
    text = json.dumps(body)
    return "C" if "66 + 15" in text or "2 \\u00d7 10" in text or "2 × 10" in text else "A"


@pytest.fixture(params=BATCH_VENDORS)
def vendor(request: pytest.FixtureRequest) -> Vendor:
    return VENDORS[request.param]


@pytest.fixture
def emu(vendor: Vendor) -> Iterator[Emulator]:
    with vendor.emulator(key=KEY, answer=answer_by_question, count_tokens=True) as server:
        yield server


def run_args(vendor: Vendor, emu: Emulator, out: Path, *extra: str, limit: int = 8, **model_args: Any) -> list[str]:
    model_args = {"num_concurrent": 4, "input_price": 100, "output_price": 400, **model_args}
    args = ",".join(f"{k}={v}" for k, v in vendor.model_args(emu, **model_args).items())
    return ["--model", vendor.provider, "--model_args", args, "--tasks", "assay_arith_mc", "--limit", str(limit),
            "--output_path", str(out), "--log_samples", *extra]


def scores(out: Path) -> dict[int, Any]:
    return {row["doc_id"]: (row.get("resps"), row.get("acc") or row.get("scores")) for row in samples(out)}


def test_a_batch_run_scores_as_the_interactive_run_at_the_batch_price(
        vendor: Vendor, emu: Emulator, run_dir: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(vendor.variable, KEY)
    code, _, err = run_cli(capsys, *run_args(vendor, emu, run_dir / "live"))
    assert code == 0, err
    live = len(interactive_requests(emu))
    assert live == 8
    code, _, err = run_cli(capsys, *run_args(vendor, emu, run_dir / "batch", "--batch", batch_poll_interval=0.01))
    assert code == 0, err
    assert len(interactive_requests(emu)) == live  # the batch run sent no interactive request
    assert emu.problems == []
    assert scores(run_dir / "batch") == scores(run_dir / "live")
    live_doc, batch_doc = results_file(run_dir / "live"), results_file(run_dir / "batch")
    assert batch_doc["results"]["assay_arith_mc"]["metrics"] == live_doc["results"]["assay_arith_mc"]["metrics"]
    assert batch_doc["usage"] == live_doc["usage"] and batch_doc["usage"]["input_tokens"] > 0
    assert batch_doc["cost"]["model"]["usd"] == pytest.approx(live_doc["cost"]["model"]["usd"] / 2, rel=1e-4)
    assert "batch rate" in batch_doc["cost"]["model"]["price"]["source"]
    batch = batch_doc["batch"]
    assert batch["answers"] == 8 and len(batch["batches"]) == 1
    assert batch["batches"][0]["state"] == "completed" and batch["batches"][0]["succeeded"] == 8
    assert batch_doc["model_stats"]["requests"] == 0
