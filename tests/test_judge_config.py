"""Judge configuration: --judge_args split like --model_args, lmms-eval's variables as fallbacks (with
where each came from), and bad values refused with a hint before anything is sent."""

from __future__ import annotations

import pytest

from assay.env.settings import load_settings
from assay.errors import ConfigError, UsageError
from assay.judge.config import normalise_api_url, parse_failure_rate, resolve_judge_config, viescore_config


@pytest.mark.parametrize(("url", "base"), [
    ("https://api.openai.com/v1/chat/completions", "https://api.openai.com/v1"),
    ("https://api.openai.com/v1/", "https://api.openai.com/v1"),
    ("http://127.0.0.1:8000/v1/chat/completions/", "http://127.0.0.1:8000/v1"),
    ("http://gw.example/openai/v1", "http://gw.example/openai/v1"),
])
def test_openai_api_url_is_a_base_or_a_full_url(url: str, base: str) -> None:
    assert normalise_api_url(url) == base


def test_lmms_eval_variables_with_their_sources() -> None:
    settings = load_settings(environ={
        "OPENAI_API_URL": "http://judge.local/v1/chat/completions", "OPENAI_BASE_URL": "http://model.local/v1",
        "API_VERSION": "2024-06-01", "VIESCORE_API_KEY": "vie-key-0123456789", "VIESCORE_API_BASE": "http://vie/v1",
        "VIESCORE_MODEL_NAME": "qwen-vl",
    }, discover_dotenv=False)
    assert str(settings.source_of("openai_api_url")) == "env OPENAI_API_URL"
    assert (settings.azure_api_version, str(settings.source_of("azure_api_version"))) == ("2024-06-01",
                                                                                         "env API_VERSION")
    config = resolve_judge_config(None, {}, settings)
    assert config.provider == "openai" and config.provider_args["base_url"] == "http://judge.local/v1"
    vie = viescore_config(config, settings)
    assert (vie.provider, vie.model, vie.provider_args["base_url"]) == ("openai_compatible", "qwen-vl", "http://vie/v1")
    assert vie.provider_args["api_key"] == "vie-key-0123456789"
    assert "api_key" not in vie.describe()["args"]  # never in results


def test_openai_base_url_is_the_fallback_and_judge_args_win() -> None:
    settings = load_settings(environ={"OPENAI_BASE_URL": "http://model.local/v1"}, discover_dotenv=False)
    assert resolve_judge_config(None, {}, settings).provider_args["base_url"] == "http://model.local/v1"
    given = resolve_judge_config("openai_compatible", {"base_url": "http://mine/v1"}, settings)
    assert given.provider_args["base_url"] == "http://mine/v1"


def test_api_type_azure_picks_the_azure_provider() -> None:
    settings = load_settings(environ={"API_TYPE": "Azure"}, discover_dotenv=False)
    config = resolve_judge_config(None, {}, settings)
    assert (config.provider, config.origin) == ("azure_openai", "API_TYPE=azure")
    assert "base_url" not in config.provider_args  # OPENAI_* addresses are not Azure's


def test_judge_args_split_into_transport_generation_provider_and_price() -> None:
    settings = load_settings(environ={}, discover_dotenv=False)
    config = resolve_judge_config("openai_compatible", {
        "model": "j", "base_url": "http://x/v1", "num_concurrent": 64, "timeout": 30, "max_retries": 2,
        "temperature": 0.3, "max_tokens": 99, "reasoning_effort": "low", "input_price": 1, "output_price": 2,
    }, settings)
    assert (config.transport.max_concurrency, config.transport.timeout, config.transport.max_attempts) == (64, 30, 3)
    assert config.transport.backoff_initial == 10.0  # the judge's default base delay stays
    assert (config.params.temperature, config.params.max_tokens) == (0.3, 99)
    assert config.model == "j" and config.provider_args == {"base_url": "http://x/v1", "reasoning_effort": "low"}
    assert config.price is not None and (config.price.input, config.price.output) == (1.0, 2.0)
    assert config.model_for("task-asks-for-this") == "j"
    assert resolve_judge_config(None, {}, settings).model_for("gpt-4o") == "gpt-4o"
    assert resolve_judge_config(None, {}, settings).model_for(None) == "gpt-4o-mini"


@pytest.mark.parametrize(("args", "words"), [
    ({"num_concurrent": "many"}, "--judge_args num_concurrent"),
    ({"temperature": "hot"}, "--judge_args temperature"),
    ({"input_price": 1}, "--judge_args input_price and output_price go together"),
])
def test_bad_judge_args_are_config_errors(args: dict[str, object], words: str) -> None:
    with pytest.raises(ConfigError) as raised:
        resolve_judge_config("openai", args, load_settings(environ={}, discover_dotenv=False))
    assert words in raised.value.message and raised.value.hint


def test_unknown_judge_provider_suggests_the_right_name() -> None:
    from assay.env.credentials import Redactor
    from assay.preflight.plan import plan_from_flags

    with pytest.raises(UsageError) as raised:
        plan_from_flags("openai", None, {}, None, None, Redactor(), judge_model="openai_compatibel")
    assert "unknown --judge_model" in raised.value.message and "openai_compatible" in raised.value.hint


@pytest.mark.parametrize(("given", "rate"), [("0.05", 0.05), ("5%", 0.05), (0, 0.0), ("1", 1.0)])
def test_failure_rate_values(given: object, rate: float) -> None:
    assert parse_failure_rate(given) == pytest.approx(rate)


@pytest.mark.parametrize("given", ["-0.1", "1.5", "lots"])
def test_bad_failure_rates(given: str) -> None:
    with pytest.raises(UsageError, match="--max_judge_failure_rate"):
        parse_failure_rate(given)
