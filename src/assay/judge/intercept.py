"""Judge calls that task code makes itself — ``requests.post(OPENAI_API_URL, …)``, the ``openai`` SDK's
``client.chat.completions.create(…)``, sync or ``AsyncOpenAI`` — answered by assay's judge.

While a run is active (first sample to last aggregation), the transports of ``requests``
(``HTTPAdapter.send``) and ``httpx`` / ``httpx2`` (``HTTPTransport`` and ``AsyncHTTPTransport``, under the
openai SDK) are wrapped. A wrapped call passes straight through unless it is made *by the run's task code*
(a sample's scoring, an aggregation, doc processing: the run's context is current) and is a POST to a
``…/chat/completions`` URL (OpenAI's or Azure's deployment shape). Such a call becomes one judgement of the
run's judge (its retries, concurrency, cache, cost, and the current judge log) and is answered with an
OpenAI chat completion built from the verdict — or, when the judge failed for good, a 502 marked
``x-should-retry: false`` so the SDK does not retry on top of assay. The address and key the helper read
from the environment are never used, so nothing is sent to a default endpoint: the judge is the run's
(``--judge_model``/``--judge_args``, ``API_TYPE`` …), and without one the call fails as a counted judge
failure naming what is missing.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from assay.judge.log import JudgeAbort, current_judge_log
from assay.judge.outcome import JudgeFailure, JudgeOutcome, Verdict
from assay.types import GenerationParams

_CHAT = re.compile(r"/chat/completions/?$")
_AZURE = re.compile(r"/openai/deployments/([^/]+)/chat/completions/?$")
_lock = threading.Lock()
_installed = 0
_originals: dict[str, tuple[Any, str, Callable[..., Any]]] = {}


def judge_payload(method: str, url: str, body: bytes | str | None) -> dict[str, Any] | None:
    """The chat request's JSON when this request is a judge call made inside a run; None to let it through."""
    from urllib.parse import urlsplit

    from assay.judge.runtime import active_judge

    path = urlsplit(url).path
    if method.upper() != "POST" or not _CHAT.search(path) or active_judge() is None:
        return None
    try:
        payload = json.loads(body or b"{}")
    except (ValueError, TypeError):
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("messages"), list):
        return None
    azure = _AZURE.search(path)
    if not payload.get("model") and azure:
        payload["model"] = azure.group(1)
    return payload


def judge_answer(method: str, url: str, body: bytes | str | None) -> tuple[int, dict[str, Any]] | None:
    """(status, JSON body) when this request is a judge call to answer; None to let it through.

    Made while a sample is scored, the judgement goes to that sample's log; made anywhere else in the run
    (doc processing, a filter, an aggregation outside its own scope) to the judge's run-wide log, so it is
    counted either way. A log that cannot use a failed judgement (an aggregation's) stops the task code."""
    from assay.judge.runtime import judge_sync

    payload = judge_payload(method, url, body)
    if payload is None:
        return None
    with _logged():
        outcome = judge_sync(payload["messages"], None, model=_model(payload), params=_params(payload))
        _abort_if_unusable(outcome)
    return _response(outcome)


async def judge_answer_async(method: str, url: str, body: bytes | str | None) -> tuple[int, dict[str, Any]] | None:
    """:func:`judge_answer` for ``AsyncOpenAI`` / ``httpx.AsyncClient``: on the run's own loop the judgement is
    awaited there; on another loop (task code's ``asyncio.run``) it is asked from a thread."""
    import asyncio

    from assay.judge.runtime import judge
    from assay.model.context import current_run

    payload = judge_payload(method, url, body)
    if payload is None:
        return None
    run = current_run.get()
    if run is None or run.loop is not asyncio.get_running_loop():
        return await asyncio.to_thread(judge_answer, method, url, body)
    with _logged():
        outcome = await judge(payload["messages"], None, model=_model(payload), params=_params(payload))
        _abort_if_unusable(outcome)
    return _response(outcome)


def _model(payload: dict[str, Any]) -> str | None:
    model = payload.get("model")
    return str(model) if model else None


@contextmanager
def _logged() -> Iterator[None]:
    """The current sample's judge log, or else the judge's run-wide one."""
    from assay.judge.runtime import active_judge

    found = active_judge()
    if current_judge_log.get() is not None or found is None:
        yield
        return
    token = current_judge_log.set(found.loose)
    try:
        yield
    finally:
        current_judge_log.reset(token)


def _abort_if_unusable(outcome: JudgeOutcome) -> None:
    log = current_judge_log.get()
    if isinstance(outcome, JudgeFailure) and log is not None and log.abort_on_failure:
        raise JudgeAbort(outcome)


def _response(outcome: JudgeOutcome) -> tuple[int, dict[str, Any]]:
    if isinstance(outcome, Verdict):
        return 200, {
            "id": "chatcmpl-assay-judge", "object": "chat.completion", "model": outcome.model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": outcome.raw},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": outcome.usage.input_tokens, "completion_tokens": outcome.usage.output_tokens,
                      "total_tokens": outcome.usage.total_tokens},
        }
    assert isinstance(outcome, JudgeFailure)
    return 502, {"error": {"message": f"assay judge: {outcome.reason}: {outcome.detail}",
                           "type": "assay_judge_failure", "code": outcome.reason}}


def _params(payload: dict[str, Any]) -> GenerationParams:
    def number(key: str) -> float | None:
        value = payload.get(key)
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    max_tokens = number("max_tokens") or number("max_completion_tokens")
    extra = (("response_format", payload["response_format"]),) if "response_format" in payload else ()
    return GenerationParams(max_tokens=int(max_tokens) if max_tokens else None, temperature=number("temperature"),
                            top_p=number("top_p"), extra=extra)


# -- the transports -------------------------------------------------------------------------------

_HEADERS = {"Content-Type": "application/json", "x-should-retry": "false"}


def _requests_send(original: Callable[..., Any]) -> Callable[..., Any]:
    def send(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        answer = judge_answer(request.method or "", request.url or "", request.body)
        if answer is None:
            return original(self, request, *args, **kwargs)
        import requests
        from requests.structures import CaseInsensitiveDict

        status, payload = answer
        response = requests.Response()
        response.status_code, response.reason = status, "OK" if status == 200 else "Bad Gateway"
        response._content = json.dumps(payload).encode()
        response.headers = CaseInsensitiveDict(_HEADERS)
        response.url, response.request, response.encoding = request.url, request, "utf-8"
        return response

    return send


def _httpx_handle(module_name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """For httpx, and httpx2 (what recent openai SDKs are built on): the same transport API."""

    def wrap(original: Callable[..., Any]) -> Callable[..., Any]:
        def handle_request(self: Any, request: Any) -> Any:
            answer = judge_answer(request.method, str(request.url), request.read())
            if answer is None:
                return original(self, request)
            import importlib

            status, payload = answer
            response_class = importlib.import_module(module_name).Response
            return response_class(status, json=payload, headers={"x-should-retry": "false"}, request=request)

        return handle_request

    return wrap


def _httpx_handle_async(module_name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``AsyncOpenAI`` and ``httpx.AsyncClient``: the async transport of the same two packages."""

    def wrap(original: Callable[..., Any]) -> Callable[..., Any]:
        async def handle_async_request(self: Any, request: Any) -> Any:
            answer = await judge_answer_async(request.method, str(request.url), await request.aread())
            if answer is None:
                return await original(self, request)
            import importlib

            status, payload = answer
            response_class = importlib.import_module(module_name).Response
            return response_class(status, json=payload, headers={"x-should-retry": "false"}, request=request)

        return handle_async_request

    return wrap


def _targets() -> list[tuple[str, str, str, Callable[[Callable[..., Any]], Callable[..., Any]]]]:
    return [("requests", "requests.adapters", "HTTPAdapter.send", _requests_send),
            ("httpx", "httpx", "HTTPTransport.handle_request", _httpx_handle("httpx")),
            ("httpx2", "httpx2", "HTTPTransport.handle_request", _httpx_handle("httpx2")),
            ("httpx-async", "httpx", "AsyncHTTPTransport.handle_async_request", _httpx_handle_async("httpx")),
            ("httpx2-async", "httpx2", "AsyncHTTPTransport.handle_async_request", _httpx_handle_async("httpx2"))]


def install() -> None:
    """Wrap the transports (idempotent, counted: each install needs one uninstall). A client library already
    imported is wrapped now; one task code imports later is wrapped as it is imported (importing them all
    up front cost every run ~0.1 s and several MB for libraries most runs never touch)."""
    import sys

    global _installed
    with _lock:
        _installed += 1
        if _installed > 1:
            return
        waiting = set()
        for module_name in {module_name for _, module_name, _, _ in _targets()}:
            if module_name in sys.modules:
                _wrap(module_name, sys.modules[module_name])
            else:
                waiting.add(module_name)
        if waiting:
            _hook.names = frozenset(waiting)
            sys.meta_path.insert(0, _hook)


def _wrap(module_name: str, module: Any) -> None:
    for key, name, attribute, wrap in _targets():
        if name != module_name or key in _originals:
            continue
        class_name, method = attribute.split(".")
        owner = getattr(module, class_name, None)
        original = getattr(owner, method, None)
        if owner is None or original is None:
            continue
        _originals[key] = (owner, method, original)
        setattr(owner, method, wrap(original))


class _WrapOnImport:
    """A meta-path finder that finds nothing itself: for the transports' modules it asks the other finders
    and wraps the module once it has been executed."""

    names: frozenset[str] = frozenset()

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        import sys

        if fullname not in self.names:
            return None
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            if finder is self or find is None:
                continue
            spec = find(fullname, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _WrappingLoader(spec.loader, fullname)
                return spec
        return None


class _WrappingLoader:
    def __init__(self, loader: Any, name: str) -> None:
        self._loader, self._name = loader, name

    def create_module(self, spec: Any) -> Any:
        return self._loader.create_module(spec)

    def exec_module(self, module: Any) -> None:
        self._loader.exec_module(module)
        with _lock:
            if _installed:
                _wrap(self._name, module)

    def __getattr__(self, name: str) -> Any:  # is_package, get_code, get_resource_reader…
        return getattr(self._loader, name)


_hook = _WrapOnImport()


def uninstall() -> None:
    global _installed
    with _lock:
        _installed = max(0, _installed - 1)
        if _installed:
            return
        import sys

        if _hook in sys.meta_path:
            sys.meta_path.remove(_hook)
        for owner, method, original in _originals.values():
            setattr(owner, method, original)
        _originals.clear()
