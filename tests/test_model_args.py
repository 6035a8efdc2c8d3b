"""--model_args: each provider's schema, lmms-eval's names for the same things, and what is refused (and how)."""

from __future__ import annotations

import pytest

from assay.env.settings import load_settings
from assay.errors import ConfigError, UsageError
from assay.model.args import parse_kv_string, resolve_model

PASTED = "sk-proj-PASTEDpastedPASTED0123456789"


def test_lmms_eval_names_become_assay_names_and_lmms_only_arguments_are_noted() -> None:
    resolved = resolve_model("openai", parse_kv_string(
        "model_version=gpt-4o,max_retries=3,retry_backoff_s=0.5,num_concurrent=4,max_size_in_mb=20,max_frames_num=12,"
        "httpx_trust_env=False,reasoning_effort=low"))
    assert resolved.provider == "openai"
    assert resolved.args == {"model": "gpt-4o", "max_retries": 3, "backoff_initial": 0.5, "num_concurrent": 4,
                             "reasoning_effort": "low"}
    assert resolved.num_frames == 12
    assert any("max_size_in_mb (lmms-eval) has no effect" in n for n in resolved.notices)
    assert any("httpx_trust_env" in n for n in resolved.notices)


@pytest.mark.parametrize(("typed", "suggested"), [("num_concurent", "num_concurrent"), ("temprature", "temperature"),
                                                   ("max_frame_num", "max_frames_num"), ("base_ur", "base_url")])
def test_a_misspelled_argument_is_refused_with_the_closest_name(typed: str, suggested: str) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve_model("openai", {"model": "m", typed: 4})
    assert f"--model_args {typed} is not an argument of the openai provider" in caught.value.message
    assert f"did you mean {suggested}?" in caught.value.hint and f"extra_body.{typed}=" in caught.value.hint


def test_extra_body_is_the_explicit_escape_hatch() -> None:
    resolved = resolve_model("openai_compatible", parse_kv_string("model=m,extra_body.new_param=7,top_k=20"))
    assert resolved.args == {"model": "m", "top_k": 20, "new_param": 7}
    with pytest.raises(ConfigError, match=r"extra_body\.top_k is an argument"):
        resolve_model("openai_compatible", {"model": "m", "extra_body.top_k": 2})
    with pytest.raises(ConfigError, match="no parameter name"):
        resolve_model("openai", {"model": "m", "extra_body.": 2})
    # a vendor parameter of one API is not silently sent to another
    with pytest.raises(ConfigError, match="top_k is not an argument of the openai provider"):
        resolve_model("openai", {"model": "m", "top_k": 2})


@pytest.mark.parametrize(("arg", "reason"), [("timeout=-1", "greater than 0"), ("num_concurrent=2.5", "integer"),
                                             ("temperature=3", "less than or equal to 2"), ("rpm=inf", "finite")])
def test_bounds_are_checked_before_anything_is_sent(arg: str, reason: str) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve_model("openai", parse_kv_string(f"model=m,{arg}"))
    assert caught.value.message.startswith(f"--model_args {arg.split('=')[0]}=") and reason in caught.value.message


def test_a_key_pasted_into_a_number_is_not_echoed() -> None:
    with pytest.raises(ConfigError) as caught:
        resolve_model("openai", {"model": "m", "timeout": PASTED})
    assert PASTED not in caught.value.message + caught.value.hint and "hidden" in caught.value.message


@pytest.mark.parametrize("text", ["model=gpt-4o base_url=http://h/v1", "model=gpt-4o, num_concurrent=4",
                                  "model =gpt-4o", "model= gpt-4o"])
def test_spaces_around_pairs_are_refused_with_the_fix(text: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_kv_string(text, "--model_args")
    assert caught.value.message.startswith("--model_args has a space in item")
    assert "--model_args model=gpt-4o," in caught.value.hint or caught.value.hint.endswith("model=gpt-4o")
    assert parse_kv_string("temperature=0, max_new_tokens=4", "--gen_kwargs") == {"temperature": 0,
                                                                                  "max_new_tokens": 4}


def test_the_fix_masks_a_pasted_key() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_kv_string(f"model=gpt-4o api_key={PASTED}", "--model_args")
    assert PASTED not in caught.value.hint and "api_key=…" in caught.value.hint


def test_openai_with_azure_openai_true_is_azure_and_gpt4v_follows_api_type() -> None:
    resolved = resolve_model("openai", {"model_version": "gpt-4o", "azure_openai": True})
    assert resolved.provider == "azure_openai" and resolved.args == {"model": "gpt-4o"}
    assert resolve_model("openai", {"model": "m", "azure_openai": False}).provider == "openai"
    azure = load_settings(environ={"API_TYPE": "azure"}, discover_dotenv=False)
    assert resolve_model("gpt4v", {"model_version": "gpt-4o"}, azure).provider == "azure_openai"
    assert resolve_model("gpt4v", {"model_version": "gpt-4o"}).provider == "openai"


def test_local_gpu_backends_say_how_to_serve_the_model() -> None:
    with pytest.raises(UsageError) as caught:
        resolve_model("vllm", {"model": "Qwen/Qwen2.5-VL-3B-Instruct", "tensor_parallel_size": 2})
    assert "runs the model on local GPUs" in caught.value.message
    assert "vllm serve Qwen/Qwen2.5-VL-3B-Instruct" in caught.value.hint
    assert "--model openai_compatible" in caught.value.hint
    with pytest.raises(UsageError) as caught:
        resolve_model("llava_sglang", {})
    assert "sglang.launch_server" in caught.value.hint


def test_refused_lmms_eval_arguments_name_the_fix() -> None:
    with pytest.raises(ConfigError, match="vertexai") as caught:
        resolve_model("gemini", {"model": "g", "vertexai": True})
    assert "GOOGLE_API_KEY" in caught.value.hint
    assert resolve_model("gemini", {"model": "g", "vertexai": False}).args == {"model": "g"}


def test_gemini_thinking_budget_and_snake_case_config() -> None:
    resolved = resolve_model("gemini_api", {"model_version": "g", "thinking_budget": 0,
                                            "response_mime_type": "application/json"})
    assert resolved.args == {"model": "g", "thinking_budget": 0, "responseMimeType": "application/json"}
    from assay.providers.gemini import GeminiProvider
    from assay.types import Message, Request

    provider = GeminiProvider(load_settings(environ={"GOOGLE_API_KEY": "k" * 20}, discover_dotenv=False),
                              resolved.args)
    config = provider.body(Request(messages=(Message.user("hi"),)))["generationConfig"]
    assert config["thinkingConfig"] == {"thinkingBudget": 0} and config["responseMimeType"] == "application/json"


def test_judge_args_are_checked_against_the_same_schema() -> None:
    from assay.judge.config import resolve_judge_config

    settings = load_settings(environ={}, discover_dotenv=False)
    with pytest.raises(ConfigError) as caught:
        resolve_judge_config("openai", {"model": "j", "num_concurent": 3}, settings)
    assert caught.value.message == "--judge_args num_concurent is not an argument of the openai provider"
    assert "did you mean num_concurrent?" in caught.value.hint
    config = resolve_judge_config("openai", {"model": "j", "reasoning_effort": "low", "num_concurrent": 3}, settings)
    assert config.provider_args == {"reasoning_effort": "low"} and config.model == "j"
