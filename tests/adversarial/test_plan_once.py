"""The run's plan is built once (issue 15): preflight runs once, the price table (ASSAY_PRICES) is read
once, and each provider class (model, judge) is looked up once — the stages read the plan instead of
calling back into preflight, judge setup and the provider registry."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.fault_server import FaultServer
from tests.helpers import results_file, run_cli
from tests.test_judge_lmms_tasks import FAST


def _counted(calls: Counter[str], name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        calls[name] += 1
        return fn(*args, **kwargs)

    return wrapper


def test_a_judged_capped_run_resolves_its_plan_once(run_dir: Path, capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import assay.model.cost as cost
    import assay.preflight.requirements as requirements
    import assay.providers as providers

    prices = run_dir / "prices.yaml"
    prices.write_text("m: {input: 1, output: 1}\nj: {input: 1, output: 1}\n")
    monkeypatch.setenv("ASSAY_PRICES", str(prices))
    calls: Counter[str] = Counter()
    monkeypatch.setattr(requirements, "preflight", _counted(calls, "preflight", requirements.preflight))
    monkeypatch.setattr(cost, "_read_prices", _counted(calls, "prices file", cost._read_prices))
    monkeypatch.setattr(providers, "load_provider_class",
                        _counted(calls, "provider class", providers.load_provider_class))
    with FaultServer(lambda body: "A red circle.") as model, FaultServer(lambda body: "yes") as judge:
        code, _, err = run_cli(capsys, "--model", "openai_compatible", "--model_args",
                               f"model=m,base_url={model.base_url}", "--tasks", "assay_video_qa", "--limit", "2",
                               "--judge_model", "openai_compatible", "--judge_args",
                               f"model=j,base_url={judge.base_url},{FAST}", "--max_cost", "5",
                               "--output_path", str(run_dir / "out"))
    assert results_file(run_dir / "out")["cost"]["judge"]["price"]["model"] == "j", err
    assert calls == Counter({"preflight": 1, "prices file": 1, "provider class": 2}), (calls, code, err)
