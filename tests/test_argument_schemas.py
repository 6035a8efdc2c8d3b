"""--model_args without pydantic on the usual path: for every built-in provider, whatever the fast check
takes it gives exactly as the provider's pydantic model does; the rest is left to that model."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from assay.providers.arguments import SCHEMAS, Unsure, accepted_names, fast_check, pydantic_model

values = st.one_of(
    st.none(), st.booleans(), st.integers(-30, 5000), st.floats(-3, 300), st.sampled_from([float("inf"), float("nan")]),
    st.text(max_size=6), st.lists(st.text(max_size=3), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(),
                                                                                    max_size=2),
)


@st.composite
def provider_args(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    provider = draw(st.sampled_from(sorted(SCHEMAS)))
    names = st.one_of(st.sampled_from(accepted_names(SCHEMAS[provider])), st.sampled_from(["modle", "x", "top-p"]))
    return provider, draw(st.dictionaries(names, values, max_size=5))


@settings(max_examples=500, deadline=None)
@given(case=provider_args())
def test_the_fast_check_agrees_with_the_pydantic_model(case: tuple[str, dict[str, Any]]) -> None:
    from pydantic import ValidationError

    provider, args = case
    try:
        fast = fast_check(SCHEMAS[provider], args)
    except Unsure:
        return
    try:
        model = pydantic_model(provider).model_validate(args)
    except ValidationError as exc:  # pragma: no cover - the failure says which value
        raise AssertionError(f"fast took {args} for {provider}, pydantic refused: {exc}") from None
    checked = {k: v for k, v in model.model_dump(exclude_unset=True).items() if v is not None}
    assert list(fast.items()) == list(checked.items())
    assert [type(v) for v in fast.values()] == [type(v) for v in checked.values()]


def test_the_usual_arguments_take_the_fast_path() -> None:
    args = {"model_version": "gpt-4o", "base_url": "http://h/v1", "num_concurrent": 64, "temperature": 0,
            "max_tokens": 8, "reasoning": False, "retry_backoff_s": 1, "batch": "auto"}
    assert fast_check(SCHEMAS["openai_compatible"], args) == {
        "model": "gpt-4o", "base_url": "http://h/v1", "num_concurrent": 64, "backoff_initial": 1.0, "batch": "auto",
        "reasoning": False, "temperature": 0.0, "max_tokens": 8}


def test_the_rest_is_left_to_pydantic() -> None:
    for args in ({"num_concurrent": 0}, {"temperature": 3}, {"modle": "x"}, {"model": 4},
                 {"model": "a", "pretrained": "b"}, {"stop": ["a"]}, {"timeout": float("inf")}):
        try:
            fast_check(SCHEMAS["openai_compatible"], args)
        except Unsure:
            continue
        raise AssertionError(f"the fast check took {args}")
