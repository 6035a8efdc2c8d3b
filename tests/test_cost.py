"""Prices, cost accounting (model and judge apart) and the --max_cost cap, against a real loopback server."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from assay.env.settings import Settings, load_settings
from assay.errors import ConfigError, ProviderError
from assay.model import Model, ModelConfig
from assay.model.cost import CostLedger, Price, price_for, split_price_args
from assay.providers import load_provider_class
from assay.types import Message, Request, Usage
from tests.emulators import OpenAIEmulator
from tests.helpers import results_file, run_cli, samples

KEY = "emu-cost-key-00000000001"
HI = Request(messages=(Message.user("hi"),))


@pytest.fixture
def emu() -> Iterator[OpenAIEmulator]:
    with OpenAIEmulator(key=KEY) as server:  # every answer: 12 input and 3 output tokens
        yield server


# -- prices ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("model", "entry"), [
    ("gpt-4o", "gpt-4o"), ("gpt-4o-2024-08-06", "gpt-4o"), ("gpt-4o-mini-2024-07-18", "gpt-4o-mini"),
    ("claude-opus-4-5-20251101", "claude-opus-4-5"), ("claude-opus-4-1-20250805", "claude-opus-4"),
    ("models/gemini-2.5-flash-lite", "gemini-2.5-flash-lite"), ("o3-mini", "o3-mini"),
])
def test_table_matches_exact_then_longest_prefix(model: str, entry: str) -> None:
    price = price_for(model)
    assert price is not None and price.model == entry


@pytest.mark.parametrize("model", ["gpt-4oxyz", "my-azure-deployment", "reka-flash", "Qwen/Qwen2-VL-7B"])
def test_unknown_models_have_no_price(model: str) -> None:
    assert price_for(model) is None


def test_prices_file_adds_and_replaces(isolated: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "prices.yaml"
    path.write_text("my-deployment: {input: 2.5, output: 10}\ngpt-4o: {input: 1, output: 2}\n")
    settings = load_settings(environ={**isolated, "ASSAY_PRICES": str(path)}, discover_dotenv=False)
    mine = price_for("my-deployment", settings)
    assert mine is not None and (mine.input, mine.output) == (2.5, 10.0) and str(path) in mine.source
    replaced = price_for("gpt-4o-2024-08-06", settings)
    assert replaced is not None and (replaced.input, replaced.output) == (1.0, 2.0)


@pytest.mark.parametrize("text", ["- a list\n", "gpt-4o: {input: cheap, output: 1}\n", "x: [unclosed\n",
                                  "gpt-4o: {input: -1, output: 1}\n"])
def test_a_bad_prices_file_is_a_config_error(isolated: dict[str, str], tmp_path: Path, text: str) -> None:
    path = tmp_path / "prices.yaml"
    path.write_text(text)
    settings = load_settings(environ={**isolated, "ASSAY_PRICES": str(path)}, discover_dotenv=False)
    with pytest.raises(ConfigError) as caught:
        price_for("gpt-4o", settings)
    assert "ASSAY_PRICES" in caught.value.message and caught.value.hint


def test_price_args() -> None:
    price, rest = split_price_args({"model": "m", "input_price": "2", "output_price": 8})
    assert price is not None and (price.input, price.output) == (2.0, 8.0) and rest == {"model": "m"}
    with pytest.raises(ConfigError):
        split_price_args({"input_price": 2})
    with pytest.raises(ConfigError):
        split_price_args({"input_price": "x", "output_price": 1})


# -- meters and the ledger ------------------------------------------------------------------------

def model_for(emu: OpenAIEmulator, settings: Settings, ledger: CostLedger, role: str, price: Price | None,
              concurrency: int = 8) -> Model:
    provider = load_provider_class("openai_compatible")(settings, {"model": "m", "base_url": emu.api_root,
                                                                  "api_key": KEY})
    return Model(provider, ModelConfig(max_concurrency=concurrency, max_attempts=2), sleep=_no_sleep,
                 meter=ledger.meter(role, price))


async def test_model_and_judge_are_counted_apart_in_one_ledger(emu: OpenAIEmulator, settings: Settings) -> None:
    ledger = CostLedger()
    model = model_for(emu, settings, ledger, "model", Price(1.0, 2.0, "m"))
    judge = model_for(emu, settings, ledger, "judge", Price(10.0, 20.0, "j"))
    try:
        await asyncio.gather(*(model.generate(HI) for _ in range(3)))
        await judge.generate(HI)
    finally:
        await model.aclose()
        await judge.aclose()
    report = ledger.report()
    assert report["model"]["usd"] == pytest.approx(3 * (12 * 1.0 + 3 * 2.0) / 1e6)
    assert report["judge"]["usd"] == pytest.approx((12 * 10.0 + 3 * 20.0) / 1e6)
    assert report["total_usd"] == pytest.approx(report["model"]["usd"] + report["judge"]["usd"])
    assert report["model"]["input_tokens"] == 36 and report["judge"]["output_tokens"] == 3
    assert report["cap_reached"] is False and report["max_cost"] is None


async def test_the_cap_stops_requests_before_they_are_sent(emu: OpenAIEmulator, settings: Settings) -> None:
    # "hi" is at most 26 input tokens (its bytes and the framing): $0.26 held per attempt at $10,000/M; each
    # answer bills 12 tokens ($0.12). A $0.50 cap: 0.12 + 0.26, then 0.24 + 0.26 fit; 0.36 + 0.26 does not.
    ledger = CostLedger(max_cost=0.50)
    model = model_for(emu, settings, ledger, "model", Price(10_000.0, 0.0, "m"), concurrency=8)
    try:
        outcomes = await asyncio.gather(*(model.generate(HI) for _ in range(10)), return_exceptions=True)
    finally:
        await model.aclose()
    answered = [o for o in outcomes if not isinstance(o, BaseException)]
    refused = [o for o in outcomes if isinstance(o, ProviderError)]
    assert len(answered) == 3 and len(refused) == 7 and len(emu.requests) == 3
    assert all(e.kind == "budget" and "cost cap reached" in e.message for e in refused)
    assert "held by requests in flight" in refused[0].message
    assert ledger.spent == pytest.approx(0.36) and ledger.exhausted and ledger.reserved == 0


async def test_the_judge_spends_from_the_same_cap(emu: OpenAIEmulator, settings: Settings) -> None:
    ledger = CostLedger(max_cost=0.40)
    model = model_for(emu, settings, ledger, "model", Price(10_000.0, 0.0, "m"))
    judge = model_for(emu, settings, ledger, "judge", Price(10_000.0, 0.0, "j"))
    try:
        await model.generate(HI)
        await judge.generate(HI)
        with pytest.raises(ProviderError) as caught:
            await model.generate(HI)  # 0.24 spent + up to 0.26 > 0.40
    finally:
        await model.aclose()
        await judge.aclose()
    assert caught.value.kind == "budget" and len(emu.requests) == 2


async def test_failed_attempts_release_their_reservation(emu: OpenAIEmulator, settings: Settings) -> None:
    emu.queue({"error": (500, "boom", None)})
    ledger = CostLedger(max_cost=1.0)
    model = model_for(emu, settings, ledger, "model", Price(10_000.0, 0.0, "m"), concurrency=1)
    try:
        response = await model.generate(HI)
    finally:
        await model.aclose()
    assert response.attempts == 2 and ledger.reserved == 0 and ledger.spent == pytest.approx(0.12)


async def test_an_attempt_holds_its_worst_case_and_waits_for_room() -> None:
    ledger = CostLedger(max_cost=0.0025)
    meter = ledger.meter("model", Price(1.0, 1.0))
    first = await meter.reserve(worst=Usage(1000, 0))  # $0.001 held
    second = await meter.reserve(worst=Usage(1000, 0))
    waiting = asyncio.ensure_future(meter.reserve(worst=Usage(1000, 0)))  # 0.003 > 0.0025: waits
    await asyncio.sleep(0.01)
    assert first.amount == pytest.approx(0.001) and not waiting.done()
    meter.settle(first, Usage(200, 0))  # billed $0.0002: room for the third
    third = await asyncio.wait_for(waiting, 1)
    assert third.amount == pytest.approx(0.001) and ledger.reserved == pytest.approx(0.002)
    meter.settle(second, Usage())  # no usage returned: charged at its worst case, counted as estimated
    assert meter.usd == pytest.approx(0.0012) and meter.as_dict()["estimated"]["answers"] == 1


# -- through assay run ----------------------------------------------------------------------------

def run_args(emu: OpenAIEmulator, out: Path, *extra: str, model_args: str = "") -> list[str]:
    args = f"model=gpt-4o-mini,base_url={emu.api_root},api_key={KEY},num_concurrent=4{model_args}"
    return ["--model", "openai_compatible", "--model_args", args, "--tasks", "assay_arith_mc",
            "--output_path", str(out), "--log_samples", *extra]


def test_results_report_the_cost(emu: OpenAIEmulator, run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, *run_args(emu, run_dir / "out", "--limit", "5"))
    assert code == 0, err
    cost = results_file(run_dir / "out")["cost"]
    each = (12 * 0.15 + 3 * 0.60) / 1e6  # gpt-4o-mini's list price
    assert cost["model"]["usd"] == pytest.approx(5 * each, abs=1e-6)
    assert cost["model"]["price"]["model"] == "gpt-4o-mini" and cost["total_usd"] == cost["model"]["usd"]
    assert "$" in out


def test_max_cost_stops_the_run_keeps_results_and_says_so(emu: OpenAIEmulator, run_dir: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    # Each attempt may cost up to max_new_tokens 8 × $0.04 = $0.32 and bills 3 output tokens ($0.12): after
    # two answers, $0.24 spent + $0.32 > $0.50, so the third is never sent.
    code, _, err = run_cli(capsys, *run_args(emu, run_dir / "out", "--limit", "10", "--max_cost", "0.5",
                                             model_args=",input_price=0,output_price=40000"))
    assert code == 1
    assert "cost cap reached" in err and "--max_cost" in err
    doc = results_file(run_dir / "out")
    assert doc["status"] == "aborted" and "cost cap reached" in doc["status_reason"]
    assert doc["cost"]["cap_reached"] is True and doc["cost"]["total_usd"] == pytest.approx(0.24)
    assert doc["cost"]["max_cost"] == 0.5 and len(emu.requests) == 2
    rows = samples(run_dir / "out")
    assert sum(1 for r in rows if not r.get("error")) == 2


def test_max_cost_without_a_price_is_refused_before_any_request(emu: OpenAIEmulator, run_dir: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    args = run_args(emu, run_dir / "out", "--limit", "3", "--max_cost", "1")
    args[3] = args[3].replace("model=gpt-4o-mini", "model=my-own-finetune")
    code, _, err = run_cli(capsys, *args)
    assert code == 2 and "needs a price for my-own-finetune" in err and "input_price" in err
    assert emu.requests == []


def test_cached_answers_cost_nothing(emu: OpenAIEmulator, run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for out in ("first", "second"):
        code, _, err = run_cli(capsys, *run_args(emu, run_dir / out, "--limit", "3", "--use_cache"))
        assert code == 0, err
    assert results_file(run_dir / "first")["cost"]["model"]["usd"] > 0
    assert results_file(run_dir / "second")["cost"]["model"]["usd"] == 0
    assert len(emu.requests) == 3


async def _no_sleep(seconds: float) -> None:
    return None
