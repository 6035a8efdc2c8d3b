"""Settings: assay's own configuration and every credential, built once at the entry point.

Values come from, highest priority first: the command line / Python API, the real environment,
`.env` files, defaults. A `.env` never overrides a variable already set (python-dotenv semantics) and
is read without mutating ``os.environ``. Every value remembers where it came from, so ``assay doctor``
can say "OPENAI_API_KEY from /home/me/proj/.env:3". This is the only module that reads the
environment; everything else receives a ``Settings``.
"""

from __future__ import annotations

import dataclasses
import os
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from assay.env.dotenv_files import expand_path, find_dotenv, read_dotenv
from assay.env.login_files import login_files
from assay.env.masking import shown_value
from assay.env.setting_values import (
    Secret,
    Unusual,
    before,
    convert,
    expand_home,
    explain,
    fold_case,
    parse_bool,
    split_names,
)
from assay.errors import ConfigError

__all__ = [
    "SPECS",
    "SPEC_BY_FIELD",
    "Secret",
    "SettingSpec",
    "Settings",
    "Source",
    "expand_path",
    "find_dotenv",
    "load_settings",
    "parse_bool",
    "read_dotenv",
]

Verbosity = Literal["DEBUG", "INFO", "WARNING", "ERROR"]


@dataclass(frozen=True)
class SettingSpec:
    """One setting: its field, the environment names it is read from (first wins), and what it is.
    Derived from the :class:`Settings` field (:data:`SPECS`), never written twice."""

    field: str
    env_names: tuple[str, ...]
    description: str
    secret: bool = False

    @property
    def env_name(self) -> str:
        return self.env_names[0]


def _setting(default: Any, *env_names: str, about: str, **bounds: Any) -> Any:
    """A Settings field with the variables it is read from (first wins), what it is, and the bounds of a
    number (``ge``, ``gt``; never NaN or infinite): the one declaration."""
    return dataclasses.field(default=default, metadata={"env": env_names, "about": about, "bounds": bounds})


def _private(default: Any) -> Any:
    return dataclasses.field(default=default, init=False, repr=False, compare=False)


@dataclass(frozen=True)
class Source:
    """Where a value came from: ``default``, ``env`` (variable), ``dotenv`` (file:line), ``cli`` (flag) or
    ``login`` (a tool's own login file: ``huggingface-cli login``'s token, ``wandb login``'s netrc entry)."""

    kind: Literal["default", "env", "dotenv", "cli", "login"]
    detail: str = ""

    def __str__(self) -> str:
        if self.kind == "default":
            return "default"
        return f"{self.kind} {self.detail}" if self.detail else self.kind


@dataclass(frozen=True)
class Settings:
    """Validated settings. Build with :func:`load_settings`, not by reading the environment elsewhere
    (``Settings()`` is every default)."""

    home: Path = _setting(Path("~/.cache/lmms-eval"), "LMMS_EVAL_HOME", about="where caches and state live")
    use_cache: bool = _setting(False, "LMMS_EVAL_USE_CACHE", about="reuse cached model responses")
    plugins: tuple[str, ...] = _setting((), "LMMS_EVAL_PLUGINS",
                                        about="packages whose `tasks` folders and `models` modules are added")
    shuffle_docs: bool = _setting(False, "LMMS_EVAL_SHUFFLE_DOCS", about="shuffle docs (with --seed) before --limit")
    max_line_mb: int = _setting(256, "ASSAY_MAX_LINE_MB", about="longest JSONL data line read, in MB", ge=1)
    verbosity: Verbosity = _setting("INFO", "VERBOSITY", about="log level: DEBUG, INFO, WARNING or ERROR")
    hf_token: Secret | None = _setting(None, "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", about="Hugging Face Hub token")
    hf_endpoint: str = _setting("https://huggingface.co", "HF_ENDPOINT", about="Hugging Face Hub address")
    hf_hub_offline: bool = _setting(False, "HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE",
                                    about="load Hub datasets from the local cache only (huggingface_hub's name)")
    hf_home: Path = _setting(Path("~/.cache/huggingface"), "HF_HOME",
                             about="Hugging Face cache root; lmms-eval task helpers find media under it")
    openai_api_key: Secret | None = _setting(None, "OPENAI_API_KEY", about="OpenAI API key")
    openai_base_url: str | None = _setting(None, "OPENAI_BASE_URL", "OPENAI_API_BASE",
                                           about="OpenAI-compatible server address")
    azure_api_key: Secret | None = _setting(None, "AZURE_API_KEY", "AZURE_OPENAI_API_KEY", about="Azure OpenAI key")
    azure_endpoint: str | None = _setting(None, "AZURE_ENDPOINT", "AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_API_BASE",
                                          about="Azure OpenAI endpoint")
    azure_api_version: str | None = _setting(None, "AZURE_API_VERSION", "AZURE_OPENAI_API_VERSION",
                                             "OPENAI_API_VERSION", "API_VERSION", about="Azure OpenAI API version")
    azure_deployment: str | None = _setting(None, "DEPLOYMENT_NAME", "AZURE_OPENAI_DEPLOYMENT_NAME",
                                            about="Azure OpenAI deployment used when --model_args names none")
    judge_api_type: Literal["openai", "azure"] = _setting("openai", "API_TYPE",
                                                          about="LLM judge backend: openai or azure")
    openai_api_url: str | None = _setting(None, "OPENAI_API_URL", about="LLM judge address (lmms-eval's name): a "
                                          "base URL or a full …/chat/completions URL")
    llm_judge_url: str | None = _setting(None, "LLM_JUDGE_URL", about="lmms-eval's local judge server; in assay: "
                                         "--judge_model openai_compatible --judge_args base_url=…")
    wandb_api_key: Secret | None = _setting(None, "WANDB_API_KEY", about="Weights & Biases API key")
    wandb_base_url: str = _setting("https://api.wandb.ai", "WANDB_BASE_URL", about="Weights & Biases server address")
    wandb_mode: str | None = _setting(None, "WANDB_MODE", about="Weights & Biases mode: online, offline or disabled")
    wandb_init_timeout: float = _setting(30.0, "WANDB_INIT_TIMEOUT",
                                         about="seconds to wait for the W&B server before giving up on the upload",
                                         gt=0, allow_inf_nan=False)
    viescore_api_key: Secret | None = _setting(None, "VIESCORE_API_KEY", about="VIEScore judge key")
    viescore_base_url: str | None = _setting(None, "VIESCORE_API_BASE", "VIESCORE_BASE_URL",
                                             about="VIEScore judge address")
    viescore_model: str | None = _setting(None, "VIESCORE_MODEL_NAME", "VIESCORE_MODEL", about="VIEScore judge model")
    google_api_key: Secret | None = _setting(None, "GOOGLE_API_KEY", "GEMINI_API_KEY", about="Google Gemini API key")
    anthropic_api_key: Secret | None = _setting(None, "ANTHROPIC_API_KEY", about="Anthropic API key")
    anthropic_base_url: str | None = _setting(None, "ANTHROPIC_BASE_URL",
                                              about="Anthropic API root (a proxy or gateway)")
    anthropic_api_url: str | None = _setting(None, "ANTHROPIC_API_URL", about="lmms-eval's claude address (its old "
                                             "/v1/complete URL); not used: ANTHROPIC_BASE_URL is the API root")
    gemini_base_url: str | None = _setting(None, "GOOGLE_GEMINI_BASE_URL", about="Gemini API root (a proxy or gateway)")
    xai_api_key: Secret | None = _setting(None, "XAI_API_KEY", about="xAI (Grok) API key")
    reka_api_key: Secret | None = _setting(None, "REKA_API_KEY", about="Reka API key")
    dashscope_api_key: Secret | None = _setting(None, "DASHSCOPE_API_KEY", about="Alibaba DashScope key "
                                                   "(lmms-eval's qwen_vl_api); in assay: openai_compatible, api_key=…")
    aws_bedrock_token: Secret | None = _setting(None, "AWS_BEARER_TOKEN_BEDROCK",
                                                   about="lmms-eval's Bedrock judge key; Bedrock judges are not "
                                                         "supported, the value is only kept out of every output")
    aws_region: str | None = _setting(None, "AWS_REGION", about="lmms-eval's Bedrock judge region (not used)")
    prices: Path | None = _setting(None, "ASSAY_PRICES", about="YAML/JSON file of model prices (USD per 1M tokens)")
    plugin_overrides: tuple[str, ...] = _setting((), "ASSAY_PLUGIN_OVERRIDES", about="built-in names (provider, "
                                                 "metric) that plugins may replace, comma-separated, or *")
    audio_max_seconds: float = _setting(600.0, "ASSAY_AUDIO_MAX_SECONDS", about="longest audio clip sent as one "
                                        "part, in seconds: a longer one fails its sample, unsent",
                                        gt=0, allow_inf_nan=False)
    ray_address: str | None = _setting(None, "RAY_ADDRESS", about="the Ray cluster `--ray` joins (HOST:PORT or auto)")

    _sources: dict[str, Source] = dataclasses.field(default_factory=dict, init=False, repr=False, compare=False)
    _env_files: tuple[Path, ...] = _private(())
    #: Where variables no field declares are looked up (a plugin vendor's key): the environment, then `.env`.
    _layers: tuple[tuple[Source, Mapping[str, str]], ...] = _private(())
    #: The fields given a value (the rest are defaults).
    _given: frozenset[str] = _private(frozenset())

    # -- queries ---------------------------------------------------------------------------------

    def source_of(self, field: str) -> Source:
        return self._sources.get(field, Source("default"))

    @property
    def env_files(self) -> tuple[Path, ...]:
        """The `.env` files that were read, lowest priority first."""
        return self._env_files

    def variable(self, name: str) -> tuple[str | None, Source]:
        """A variable no setting declares (``ACME_API_KEY``, a plugin vendor's key), with the same precedence:
        the environment, then `.env` files (a later one first); ``(None, default)`` when unset."""
        for source, values in self._layers:
            if values.get(name):
                return values[name], Source(source.kind, f"{source.detail} ({name})" if source.detail else name)
        return None, Source("default")

    def secret(self, field: str) -> str | None:
        value = getattr(self, field)
        return value.get_secret_value() if isinstance(value, Secret) else None

    def secret_values(self) -> dict[str, str]:
        """Every secret that is set, by its primary variable name (for the redactor)."""
        out: dict[str, str] = {}
        for spec in SPECS:
            if spec.secret and (value := self.secret(spec.field)):
                out[spec.env_name] = value
        return out

    def url_values(self) -> dict[str, str]:
        """Every URL-valued setting that is set, by its primary variable name (credentials can hide in a
        URL: ``https://user:pass@host``, ``?key=…``; the redactor registers them)."""
        out: dict[str, str] = {}
        for spec in SPECS:
            value = getattr(self, spec.field)
            if not spec.secret and isinstance(value, str) and "://" in value:
                out[spec.env_name] = value
        return out

    def ensure_home(self) -> Path:
        """The home folder, created on first use (never at start-up)."""
        try:
            self.home.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(
                f"cannot create LMMS_EVAL_HOME {self.home}: {exc.strerror}",
                hint="set LMMS_EVAL_HOME to a writable folder",
            ) from None
        return self.home

    def with_overrides(self, overrides: Mapping[str, Any], flag_names: Mapping[str, str] | None = None) -> Settings:
        """A copy with command-line / API values on top (their source is ``cli``)."""
        values = {f: getattr(self, f) for f in self._given | (set(self._sources) & set(SPEC_BY_FIELD))}
        sources = dict(self._sources)
        for field, value in overrides.items():
            if value is None:
                continue
            values[field] = value
            sources[field] = Source("cli", (flag_names or {}).get(field, f"--{field}"))
        return _validated(values, sources, self._env_files, self._layers)


#: Each field's "before" step: what the raw value goes through ahead of its type.
_BEFORE: dict[str, Callable[[object], object]] = {
    "home": expand_home, "hf_home": expand_home, "use_cache": parse_bool, "shuffle_docs": parse_bool,
    "hf_hub_offline": parse_bool, "plugins": split_names, "plugin_overrides": split_names,
    "verbosity": fold_case(upper=True), "judge_api_type": fold_case(upper=False)}
#: Each field's type, resolved once (the annotations are text: ``from __future__ import annotations``).
_TYPES: dict[str, Any] = typing.get_type_hints(Settings)


def _specs() -> tuple[SettingSpec, ...]:
    """Every setting's spec, read from the Settings fields (their declaration is the only list)."""
    specs: list[SettingSpec] = []
    for info in dataclasses.fields(Settings):
        if "env" not in info.metadata:
            continue
        annotation = _TYPES[info.name]
        secret = annotation is Secret or Secret in typing.get_args(annotation)
        specs.append(SettingSpec(info.name, tuple(info.metadata["env"]), info.metadata["about"], secret))
    return tuple(specs)


SPECS: tuple[SettingSpec, ...] = _specs()
SPEC_BY_FIELD: dict[str, SettingSpec] = {s.field: s for s in SPECS}
_BOUNDS: dict[str, Mapping[str, Any]] = {f.name: f.metadata["bounds"] for f in dataclasses.fields(Settings)
                                         if "bounds" in f.metadata}


# -- loading -------------------------------------------------------------------------------------


def load_settings(
    *,
    environ: Mapping[str, str] | None = None,
    env_files: Sequence[str | Path] | None = None,
    cwd: str | Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    flag_names: Mapping[str, str] | None = None,
    discover_dotenv: bool = True,
) -> Settings:
    """Build the run's settings once.

    ``env_files`` (``--env-file``, repeatable) are read in order, a later file winning over an earlier
    one; without them the nearest `.env` from ``cwd`` upwards is read. ``overrides`` are field values
    from the command line or Python API and win over everything.
    """
    env = os.environ if environ is None else environ
    files: list[Path] = []
    if env_files:
        for f in env_files:
            path = Path(f).expanduser()
            if not path.is_file():
                raise ConfigError(f"env file {path} does not exist", hint="check the path given to --env-file")
            files.append(path)
    elif discover_dotenv:
        found = find_dotenv(Path(cwd) if cwd is not None else Path.cwd())
        if found is not None:
            files.append(found)
    dotenv_layers = [(path, read_dotenv(path, discovered=not env_files)) for path in files]

    values: dict[str, Any] = {}
    sources: dict[str, Source] = {}
    for spec in SPECS:
        if overrides and overrides.get(spec.field) is not None:
            values[spec.field] = overrides[spec.field]
            sources[spec.field] = Source("cli", (flag_names or {}).get(spec.field, f"--{spec.field}"))
            continue
        found_value = _first_set(spec, env)
        if found_value is not None:
            name, value = found_value
            if value:
                values[spec.field], sources[spec.field] = value, Source("env", name)
            else:  # set but empty: deliberately unset, and `.env` must not fill it in (python-dotenv)
                sources[spec.field] = Source("env", f"{name} (empty)")
            continue
        for path, layer in reversed(dotenv_layers):
            hit = next(((n, layer[n]) for n in spec.env_names if layer.get(n, ("", 0))[0] != ""), None)
            if hit is not None:
                name, (value, line) = hit
                values[spec.field], sources[spec.field] = value, Source("dotenv", f"{path}:{line} ({name})")
                break
    for path_field in ("home", "prices", "hf_home"):
        if isinstance(values.get(path_field), str):
            # Expand against the environment we were given (the validator alone would use os.environ).
            values[path_field] = expand_path(values[path_field], env)
    for field, (value, where) in login_files(env, values).items():
        values[field], sources[field] = value, Source("login", where)
    layers = ((Source("env"), dict(env)),
              *((Source("dotenv", str(path)), {k: v for k, (v, _) in layer.items()})
                for path, layer in reversed(dotenv_layers)))
    return _validated(values, sources, tuple(files), layers)


def _first_set(spec: SettingSpec, env: Mapping[str, str]) -> tuple[str, str] | None:
    """The first of the setting's variables with a value; else the first one set but empty (a set
    variable always wins over `.env`, as python-dotenv has it, even an empty one)."""
    empty: tuple[str, str] | None = None
    for name in spec.env_names:
        value = env.get(name)
        if value:
            return name, value
        if value is not None and empty is None:
            empty = (name, "")
    return empty


def _validated(values: dict[str, Any], sources: dict[str, Source], files: tuple[Path, ...],
               layers: tuple[tuple[Source, Mapping[str, str]], ...]) -> Settings:
    """The settings from the given field values (names no field declares are ignored), each checked
    against its field; the first value that is wrong is a ConfigError naming its variable and source."""
    typed: dict[str, Any] = {}
    for spec in SPECS:
        if spec.field in values:
            typed[spec.field] = _checked(spec, values[spec.field], sources)
    settings = Settings(**typed)
    for name, value in (("_sources", sources), ("_env_files", files), ("_layers", layers),
                        ("_given", frozenset(typed))):
        object.__setattr__(settings, name, value)  # frozen: set once, here
    return settings


def _checked(spec: SettingSpec, raw: Any, sources: dict[str, Source]) -> Any:
    bounds = _BOUNDS[spec.field]
    try:
        value = before(spec.field, raw, _BEFORE)
        try:
            return convert(_TYPES[spec.field], value, bounds)
        except Unusual:  # another form, or an error: pydantic gives the value, or says what is wrong
            return explain(_TYPES[spec.field], value, bounds)
    except ValueError as exc:
        reason = str(exc)
    source = sources.get(spec.field, Source("default"))
    # A key pasted into the wrong setting must not be echoed by that setting's error either.
    shown = "<hidden>" if spec.secret else shown_value(raw)
    if isinstance(raw, str) and raw and shown.startswith("<hidden"):
        reason = reason.replace(repr(raw), "<hidden>").replace(raw, "<hidden>")
    raise ConfigError(
        f"{spec.env_name}={shown} (from {source}) is not valid: {reason}",
        hint=f"fix {spec.env_name}; it is: {spec.description}",
    ) from None
