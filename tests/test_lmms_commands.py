"""lmms-eval users' command lines, as typed, against loopback servers that reject unknown request keys the way
each vendor does (OpenAI: 400 ``Unrecognized request argument supplied: …``; Anthropic, Gemini, Reka: theirs).

Each line comes from lmms-eval's README, docs or ``examples/`` (the source is named), with the variables its
script exports (some from a ``.env`` file). Only two things are changed: the task is the built-in
``assay_colors`` (no Hub here), and the address is the emulator's. Each line either runs to a complete
result — and then no request body carried an lmms-eval model argument or a misspelled one — or is refused
before any request with one ``error:`` line naming the argument or flag, and a ``hint:`` with the fix.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import pytest

from assay.cli import main
from tests.emulators import AnthropicEmulator, AzureEmulator, Emulator, GeminiEmulator, OpenAIEmulator, RekaEmulator

KEY = "sk-lmms-cmd-0123456789abcdef"
TASK = "assay_colors"


@dataclass(frozen=True)
class Line:
    source: str
    argv: tuple[str, ...]  # {root}: the emulator's address, {key}: the key, {out}: a folder of the test's
    env: dict[str, str] = field(default_factory=dict)  # exported by the script
    dotenv: dict[str, str] = field(default_factory=dict)  # the same, from a .env file
    emulator: Callable[..., Emulator] = OpenAIEmulator
    refused: str | None = None  # what the one error line names (None: the run completes)
    notices: tuple[str, ...] = ()  # lines stderr must carry


def _openai_env(**extra: str) -> dict[str, str]:
    return {"OPENAI_API_KEY": "{key}", "OPENAI_API_BASE": "{root}/v1", "HF_HOME": "{out}/hf", **extra}


ADAPTIVE = ("num_concurrent=16,adaptive_concurrency=true,adaptive_min_concurrency=1,adaptive_max_concurrency=64,"
            "adaptive_target_latency_s=15.0,adaptive_increase_step=0.15,adaptive_decrease_factor=0.75,"
            "adaptive_failure_threshold=0.05,retry_backoff_s=1.0,prefix_aware_queue=true,prefix_hash_chars=256")

LINES: dict[str, Line] = {
    "openrouter_api": Line("examples/models/openrouter_api.sh", (
        "--model", "openai", "--model_args", "model_version=openai/gpt-4.1-mini", "--tasks", TASK, "--batch_size",
        "1", "--limit", "8", "--output_path", "{out}/logs/openrouter_api", "--log_samples", "--verbosity", "DEBUG"),
        env=_openai_env()),
    "openrouter_molmo_dotenv": Line("examples/models/openrouter_molmo.sh (variables in .env)", (
        "--model", "openai", "--model_args", "model_version=allenai/molmo-2-8b:free", "--tasks", TASK,
        "--batch_size", "1", "--limit", "5", "--output_path", "{out}/logs/openrouter_test/", "--log_samples",
        "--verbosity", "DEBUG"), dotenv=_openai_env()),
    "xai_grok": Line("examples/models/xai_grok.sh", (
        "--model", "openai", "--model_args", "model_version=grok-2-vision-1212", "--tasks", TASK, "--batch_size", "1",
        "--limit", "2"), env=_openai_env()),
    "response_cache": Line("examples/cache/test_response_cache_e2e.sh", (
        "--model", "openai", "--force_simple", "--model_args",
        "model_version=google/gemma-3-4b-it:free,timeout=60,max_retries=3,num_concurrent=2", "--tasks", TASK,
        "--limit", "3", "--batch_size", "1", "--use_cache", "{out}/cache", "--output_path", "{out}/run1",
        "--log_samples", "--verbosity", "INFO"), env=_openai_env()),
    "async_openai_compatible": Line("examples/models/async_openai_compatible.sh", (
        "--model", "async_openai", "--model_args",
        "model_version=Qwen/Qwen3-VL-4B-Instruct,max_pixels=151200,base_url={root}/v1,api_key={key},num_cpus=8,"
        "timeout=6000,is_qwen3_vl=True", "--tasks", TASK, "--batch_size", "1", "--output_path", "{out}/logs/",
        "--log_samples", "--verbosity", "DEBUG", "--limit", "2"), env=_openai_env(),
        notices=("--model async_openai is lmms-eval's name", "--model_args max_pixels (lmms-eval) has no effect")),
    "caching_doc": Line("docs/caching.md", (
        "--model", "async_openai", "--model_args", "model_version=gpt-4o-2024-11-20,base_url={root}/v1", "--tasks",
        TASK, "--batch_size", "1", "--output_path", "{out}/logs/", "--limit", "2"), env=_openai_env()),
    "sampling_params": Line("docs (async_openai generation parameters)", (
        "--model", "async_openai", "--model_args", "model_version=gpt-4o,temperature=0.7,top_p=0.95,max_tokens=2048",
        "--tasks", TASK, "--limit", "2"), env=_openai_env()),
    "pretrained_message_format": Line("docs/migration (message_format)", (
        "--model", "async_openai", "--model_args", "pretrained=gpt-4o,message_format=openai", "--tasks", TASK,
        "--limit", "2"), env=_openai_env()),
    "adaptive_openai": Line("docs/throughput (openai, adaptive concurrency)", (
        "--model", "openai", "--model_args", f"model_version=m,{ADAPTIVE}", "--tasks", TASK, "--limit", "2"),
        env=_openai_env(), notices=("adaptive_concurrency (lmms-eval) has no effect",)),
    "adaptive_async": Line("docs/throughput (async_openai, num_cpus)", (
        "--model", "async_openai", "--model_args", f"model_version=m,num_cpus=16,{ADAPTIVE.split(',', 1)[1]}",
        "--tasks", TASK, "--limit", "2"), env=_openai_env()),
    "agentic_openai": Line("docs (agentic tasks, --model openai)", (
        "--model", "openai", "--model_args", "model=moonshotai/kimi-k2.5", "--tasks", TASK, "--limit", "2",
        "--batch_size", "1"), env=_openai_env()),
    "faq_openai": Line("README FAQ", ("--model", "openai", "--model_args", "model=gpt-4o", "--tasks", TASK,
                                      "--limit", "2"), env=_openai_env()),
    "frames_and_size": Line("issue 17 (the lmms-eval openai arguments)", (
        "--model", "openai", "--model_args", "model_version=gpt-4o,azure_openai=False,max_frames_num=10,"
        "max_size_in_mb=20", "--tasks", TASK, "--limit", "2", "-b", "1"), env=_openai_env(),
        notices=("videos are sampled to 10 frames",)),
    "predict_only": Line("README (--predict_only, -x)", (
        "--model", "openai", "--model_args", "model=gpt-4o", "--tasks", TASK, "--limit", "3", "-x",
        "--output_path", "{out}/pred"), env=_openai_env()),
    "json_output": Line("lmms-eval --output_path FILE.json", (
        "--model", "openai", "--model_args", "model=gpt-4o", "--tasks", TASK, "--limit", "2", "--output_path",
        "{out}/results.json"), env=_openai_env()),
    "cache_short_flag": Line("lmms-eval -c PATH", (
        "--model", "openai", "--model_args", "model=gpt-4o", "--tasks", TASK, "--limit", "2", "-c",
        "{out}/c"), env=_openai_env()),
    "azure_openai_true": Line("examples/models/openai_compatible.sh", (
        "--model", "openai", "--model_args", "model_version=gpt-4o-2024-11-20,azure_openai=True", "--tasks", TASK,
        "--batch_size", "1", "--limit", "2"), env={"AZURE_OPENAI_API_KEY": "{key}", "AZURE_OPENAI_API_BASE": "{root}",
                                                   "AZURE_OPENAI_API_VERSION": "2023-07-01-preview"},
        emulator=partial(AzureEmulator, deployment="gpt-4o-2024-11-20", api_version="2023-07-01-preview"),
        notices=("azure_openai=True",)),
    "gpt4v_azure": Line("lmms-eval gpt4v with API_TYPE=azure", (
        "--model", "gpt4v", "--model_args", "model_version=gpt-4o,modality=image,max_frames_num=10,timeout=120",
        "--tasks", TASK, "--limit", "2"),
        dotenv={"API_TYPE": "azure", "AZURE_API_KEY": "{key}", "AZURE_ENDPOINT": "{root}",
                "AZURE_API_VERSION": "2024-02-15-preview"},
        emulator=partial(AzureEmulator, deployment="gpt-4o", api_version="2024-02-15-preview")),
    "claude": Line("lmms-eval claude", (
        "--model", "claude", "--model_args", "model_version=claude-3-opus-20240229,image_token=<image>,"
        "max_frames_num=10,modality=image", "--tasks", TASK, "--limit", "2"),
        env={"ANTHROPIC_API_KEY": "{key}", "ANTHROPIC_BASE_URL": "{root}"}, emulator=AnthropicEmulator),
    "gemini_api": Line("lmms-eval gemini_api", (
        "--model", "gemini_api", "--model_args", "model_version=gemini-1.5-pro,timeout=120,interleave=False,"
        "max_frames_num=10,thinking_budget=0,num_concurrent=4", "--tasks", TASK, "--limit", "2"),
        env={"GOOGLE_API_KEY": "{key}", "GOOGLE_GEMINI_BASE_URL": "{root}"}, emulator=GeminiEmulator),
    "reka": Line("lmms-eval reka (base_url added: Reka has no address variable)", (
        "--model", "reka", "--model_args", "model_version=reka-edge,modality=image,max_frames_num=5,timeout=120,"
        "base_url={root}/v1", "--tasks", TASK, "--limit", "2"), env={"REKA_API_KEY": "{key}"}, emulator=RekaEmulator),
    # -- refused before any request ----------------------------------------------------------------------------
    "typo": Line("issue 17 (a misspelled argument)", (
        "--model", "openai", "--model_args", "model=gpt-4o,num_concurent=4", "--tasks", TASK, "--limit", "2"),
        env=_openai_env(), refused="num_concurent"),
    "space_between_pairs": Line("issue 17 (a space instead of a comma)", (
        "--model", "openai", "--model_args", "model=gpt-4o base_url={root}/v1", "--tasks", TASK, "--limit", "2"),
        env=_openai_env(), refused="--model_args has a space"),
    "mcp_server": Line("docs (async_openai with an MCP server)", (
        "--model", "async_openai", "--model_args", "model_version=gpt-4o-2024-11-20,mcp_server_path=/p/mcp.py",
        "--tasks", TASK, "--batch_size", "1"), env=_openai_env(), refused="mcp_server_path"),
    "vertex": Line("lmms-eval gemini on Vertex AI", (
        "--model", "gemini", "--model_args", "model_version=gemini-2.0-flash,vertexai=True,project=p,location=x",
        "--tasks", TASK), env={"GOOGLE_API_KEY": "{key}", "GOOGLE_GEMINI_BASE_URL": "{root}"},
        emulator=GeminiEmulator, refused="vertexai"),
    "vllm": Line("README (vLLM backend)", (
        "--model", "vllm", "--model_args", "model=Qwen/Qwen2.5-VL-3B-Instruct,tensor_parallel_size=2,"
        "data_parallel_size=4", "--tasks", "ai2d", "--batch_size", "512"), refused="--model vllm"),
    "sglang": Line("docs (SGLang backend)", (
        "--model", "sglang", "--model_args", "pretrained=Qwen/Qwen2.5-VL-7B", "--tasks", TASK),
        refused="--model sglang"),
    "qwen3_vl_local": Line("examples/test_reasoning_tag_stripping.sh", (
        "--model", "qwen3_vl", "--model_args", "pretrained=Qwen/Qwen3-VL-4B-Instruct,attn_implementation="
        "flash_attention_2", "--tasks", "mme", "--batch_size", "1", "--limit", "8", "--log_samples",
        "--output_path", "{out}/output_reasoning_test"), refused="--model qwen3_vl"),
    "litellm": Line("lmms-eval litellm", ("--model", "litellm", "--model_args", "model=anthropic/claude-3-5-sonnet",
                                          "--tasks", TASK), refused="--model litellm"),
}


@pytest.fixture
def emulator() -> Iterator[Callable[..., Emulator]]:
    """``emulator(factory, **kw)``: a started emulator holding KEY, stopped after the test."""
    started: list[Emulator] = []

    def start(factory: Callable[..., Emulator], **kw: object) -> Emulator:
        started.append(factory(key=KEY, **kw).start())
        return started[-1]

    yield start
    for emu in started:
        emu.stop()


def _fill(text: str, emu: Emulator, out: Path) -> str:
    return text.replace("{root}", emu.base_url).replace("{key}", KEY).replace("{out}", str(out))


def _run(line: Line, out: Path, emu: Emulator, monkeypatch: pytest.MonkeyPatch,
         capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    for name, value in line.env.items():
        monkeypatch.setenv(name, _fill(value, emu, out))
    if line.dotenv:
        (out / ".env").write_text("".join(f"{k}={_fill(v, emu, out)}\n" for k, v in line.dotenv.items()))
    monkeypatch.chdir(out)
    code = main(["run", *(_fill(a, emu, out) for a in line.argv)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("name", list(LINES))
def test_lmms_eval_command_line(name: str, run_dir: Path, monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str],
                                emulator: Callable[..., Emulator]) -> None:
    line = LINES[name]
    emu = emulator(line.emulator)
    code, out, err = _run(line, run_dir, emu, monkeypatch, capsys)
    assert "Traceback" not in err and KEY not in out + err
    if line.refused is not None:
        errors = [e for e in err.splitlines() if e.startswith("error:")]
        assert code in (2, 3) and emu.requests == [], err
        assert len(errors) == 1 and line.refused in errors[0], err
        assert any(e.startswith("hint:") for e in err.splitlines()), err
        return
    assert code == 0, err
    assert emu.requests and emu.problems == [], emu.problems  # every body was one the vendor accepts
    for notice in line.notices:
        assert notice in err, err
    docs = list(run_dir.rglob("*_results.json"))
    assert docs and all(json.loads(d.read_text())["status"] == "complete" for d in docs)


def test_predict_only_keeps_every_answer(run_dir: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str],
                                         emulator: Callable[..., Emulator]) -> None:
    emu = emulator(OpenAIEmulator, answer=lambda body: "seven")
    code, _, err = _run(LINES["predict_only"], run_dir, emu, monkeypatch, capsys)
    assert code == 0, err
    rows = [json.loads(r) for f in (run_dir / "pred").rglob("*_samples_*.jsonl") for r in f.read_text().splitlines()]
    assert len(rows) == 3 and all("seven" in json.dumps(r) for r in rows)


def test_output_path_json_is_the_results_file(run_dir: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str],
                                              emulator: Callable[..., Emulator]) -> None:
    emu = emulator(OpenAIEmulator)
    code, out, err = _run(LINES["json_output"], run_dir, emu, monkeypatch, capsys)
    assert code == 0, err
    target = run_dir / "results.json"
    assert target.is_file() and json.loads(target.read_text())["results"][TASK]["n_scored"] == 2
    assert f"results: {target}" in out


def test_use_cache_dir_resumes_from_that_folder(run_dir: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str],
                                                emulator: Callable[..., Emulator]) -> None:
    emu = emulator(OpenAIEmulator)
    line = LINES["response_cache"]
    assert _run(line, run_dir, emu, monkeypatch, capsys)[0] == 0
    sent = len(emu.requests)
    assert sent == 3 and (run_dir / "cache" / "responses.sqlite").is_file()
    code, _, err = _run(line, run_dir, emu, monkeypatch, capsys)  # the second run of the script: all cached
    assert code == 0, err
    assert len(emu.requests) == sent


def test_no_body_carries_an_lmms_eval_argument(run_dir: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str],
                                               emulator: Callable[..., Emulator]) -> None:
    emu = emulator(OpenAIEmulator)
    code, _, err = _run(LINES["frames_and_size"], run_dir, emu, monkeypatch, capsys)
    assert code == 0, err
    for body in emu.bodies:
        assert not {"model_version", "azure_openai", "max_frames_num", "max_size_in_mb"} & set(body)
        assert body["model"] == "gpt-4o"
