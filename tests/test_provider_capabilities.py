"""Optional provider capabilities are runtime-checkable protocols: present member = capability, its flag decides."""

from __future__ import annotations

from typing import Any

import pytest

from assay.env.settings import Settings
from assay.providers import load_provider_class
from assay.providers.base import (
    AcceptsAudio,
    Deterministic,
    Provider,
    ScoresLoglikelihood,
    WarmsUp,
    accepts_audio,
    is_deterministic,
    loglikelihood_accepts_media,
    supports_loglikelihood,
)


def build(settings: Settings, name: str, **args: Any) -> Any:
    return load_provider_class(name)(settings, {"api_key": "k-test-0001", **args})


@pytest.mark.parametrize(("name", "args", "audio", "scores"), [
    ("openai", {"model": "gpt-4o-mini"}, True, False),
    ("openai_compatible", {"model": "m", "base_url": "http://127.0.0.1:9/v1"}, True, True),
    ("xai", {"model": "grok-4"}, False, False),  # declares accepts_audio = False: present, and it says no
    ("gemini", {"model": "gemini-2.5-flash"}, True, False),
    ("anthropic", {"model": "claude-sonnet-4-5"}, False, False),
    ("reka", {"model": "reka-flash"}, False, False),
])
async def test_each_cloud_providers_capabilities(settings: Settings, name: str, args: dict[str, Any], audio: bool,
                                                 scores: bool) -> None:
    provider = build(settings, name, **args)
    try:
        assert isinstance(provider, Provider)
        assert accepts_audio(provider) is audio
        assert supports_loglikelihood(provider) is scores
        assert not isinstance(provider, WarmsUp) and not is_deterministic(provider)
        assert not loglikelihood_accepts_media(provider)
    finally:
        await provider.aclose()


def test_the_local_model_warms_up_scores_and_is_deterministic() -> None:
    cls = load_provider_class("local")
    # Checked on the class's members (building one needs a model file): the protocols see the same names.
    assert callable(cls.warm_up) and cls.deterministic is True and cls.supports_loglikelihood is True
    assert {"warm_up", "loglikelihood"} <= set(dir(cls))


class _Flags:
    """A plugin provider that declares every flag, each saying no."""

    supports_loglikelihood = False
    accepts_audio = False
    deterministic = False
    loglikelihood_accepts_media = False

    async def loglikelihood(self, request: Any) -> Any:
        raise AssertionError("never called: its flag says no")


class _Bare:
    """A plugin provider with no optional member at all."""


def test_a_flag_that_is_present_but_false_is_no_capability() -> None:
    flags = _Flags()
    assert isinstance(flags, ScoresLoglikelihood) and isinstance(flags, AcceptsAudio)
    assert isinstance(flags, Deterministic)
    assert not supports_loglikelihood(flags) and not accepts_audio(flags) and not is_deterministic(flags)
    assert not loglikelihood_accepts_media(flags)
    bare = _Bare()
    assert not isinstance(bare, (ScoresLoglikelihood, AcceptsAudio, Deterministic, WarmsUp))
    assert not supports_loglikelihood(bare) and not accepts_audio(bare)
