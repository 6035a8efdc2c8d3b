"""Base URLs parsed, keys checked, usage fields tolerated, wrapper knobs validated — before any request."""

from __future__ import annotations

import math

import pytest

from assay.errors import ConfigError
from assay.model import ModelConfig
from assay.providers._endpoint import authorization, check_key, parse_base_url
from assay.providers._http import as_int


def test_a_query_string_stays_at_the_end_of_every_request_url() -> None:
    e = parse_base_url("https://h.example:8443/openai/v1/?api-version=2024-10&key=k", setting="S")
    assert e.url("chat/completions") == "https://h.example:8443/openai/v1/chat/completions?api-version=2024-10&key=k"
    assert e.base == "https://h.example:8443/openai/v1" and e.public_url == "https://h.example:8443/openai/v1?api-version=2024-10"


def test_userinfo_becomes_basic_auth_and_conflicts_with_an_explicit_key() -> None:
    e = parse_base_url("http://us%40er:p%3Ass@h/v1", setting="S")
    assert e.base == "http://h/v1" and (e.user, e.password) == ("us@er", "p:ss")
    assert authorization(e, "sk-env", url_setting="S", key_setting="K", key_given=False) == "Basic dXNAZXI6cDpzcw=="
    with pytest.raises(ConfigError, match="S carries user:password and K is given too"):
        authorization(e, "sk-given", url_setting="S", key_setting="K", key_given=True)
    plain = parse_base_url("http://h/v1", setting="S")
    assert authorization(plain, "sk-1\t2", url_setting="S", key_setting="K", key_given=True) == "Bearer sk-1\t2"
    assert authorization(plain, None, url_setting="S", key_setting="K", key_given=False) is None


@pytest.mark.parametrize("url", ["ftp://h/v1", "h/v1", "http://", "http://h:0x1/v1", "http://h/v\n1", "file:///etc/x"])
def test_anything_but_an_absolute_http_url_is_refused(url: str) -> None:
    with pytest.raises(ConfigError, match=r"^S "):
        parse_base_url(url, setting="S")


@pytest.mark.parametrize("key", ["a\nb", "a\rb", "a\x00b", "ключ", " padded", "padded "])
def test_keys_that_cannot_be_a_header_are_refused_without_echoing(key: str) -> None:
    with pytest.raises(ConfigError) as info:
        check_key(key, setting="OPENAI_API_KEY")
    assert key.strip() not in info.value.message and info.value.message.startswith("OPENAI_API_KEY ")


@pytest.mark.parametrize(("value", "count"), [(7, 7), ("12", 12), (3.9, 3), (None, 0), ("many", 0), ([1], 0),
                                              (-4, 0), (True, 0), (1e308, 0), (math.nan, 0), ("inf", 0)])
def test_usage_fields_of_any_shape_become_a_count(value: object, count: int) -> None:
    assert as_int(value) == count


@pytest.mark.parametrize("args", [{"timeout": "nan"}, {"timeout": "inf"}, {"timeout": 0}, {"num_concurrent": 2.5},
                                  {"num_concurrent": 0}, {"max_attempts": "1e400"}, {"rpm": -1},
                                  {"backoff_max": "-inf"}, {"max_retry_after": "nan"}, {"max_retries": -2},
                                  {"timeout": True}, {"timeout": "fast"}])
def test_wrapper_numbers_must_be_finite_and_in_range(args: dict[str, object]) -> None:
    with pytest.raises(ConfigError, match="--model_args"):
        ModelConfig.split_model_args(args)


def test_valid_wrapper_numbers() -> None:
    config, rest = ModelConfig.split_model_args({"num_concurrent": "8.0", "max_retries": 0, "timeout": "2.5",
                                                 "max_retry_after": 0, "model": "m"})
    assert (config.max_concurrency, config.max_attempts, config.timeout, config.max_retry_after) == (8, 1, 2.5, 0)
    assert rest == {"model": "m"}
