"""Parse lmms-eval style ``--model_args`` / ``--gen_kwargs`` strings (``k=v,k2=v2``), and turn a run's
``--model`` and ``--model_args`` into a provider and the arguments it accepts (:func:`resolve_model`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from assay.env.masking import is_secret_value, looks_like_credential, shown_value
from assay.env.registry import did_you_mean
from assay.errors import ConfigError, UsageError

if TYPE_CHECKING:
    from pydantic import ValidationError

    from assay.env.settings import Settings
    from assay.providers.arguments import Schema

_EXAMPLES = {
    "--model_args": "model=gpt-4o-mini,num_concurrent=8",
    "--gen_kwargs": "temperature=0,max_new_tokens=64",
    "--judge_args": "model=gpt-4o-mini,num_concurrent=32,temperature=0",
    "--wandb_args": "project=lmms-eval,mode=offline",
    "--hf_hub_log_args": "hub_results_org=me,push_results_to_hub=True",
}
#: Flags whose pairs configure a model: a space around a pair there is a mistake with a price (a model named
#: ``gpt-4o base_url=…`` sent to the default endpoint), so it is refused with the fix.
_STRICT_FLAGS = ("--model_args", "--judge_args")
_SPACED_PAIR = re.compile(r"\s+[A-Za-z_][\w.]*=")


def coerce_scalar(text: str) -> Any:
    """'3' -> 3, '0.5' -> 0.5, 'true' -> True, 'none' -> None, anything else stays a string."""
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def parse_kv_string(text: str | None, flag: str = "--model_args") -> dict[str, Any]:
    """Parse ``k=v,k2=v2``. A value may contain '=' (URLs); a piece without '=' is an error."""
    out: dict[str, Any] = {}
    if not text or not text.strip():
        return out
    pieces = text.strip().split(",")
    for position, piece in enumerate(pieces, start=1):
        if not piece.strip():
            continue
        key, sep, value = piece.partition("=")
        if not sep or not key.strip():
            raise ConfigError(
                # The piece itself is not echoed: a pasted key would land in the terminal and logs.
                f"{flag}: item {position} is not key=value",
                hint=f"write {flag} as key=value pairs separated by commas, e.g. {_EXAMPLES.get(flag, 'a=1,b=2')}",
            )
        if flag in _STRICT_FLAGS and (piece != piece.strip() or key != key.strip() or value != value.lstrip()
                                      or _SPACED_PAIR.search(value)):
            raise ConfigError(f"{flag} has a space in item {position} ({key.strip()})",
                              hint=f"pairs are separated by commas, with no spaces: {flag} {_fixed(pieces)}")
        out[key.strip()] = coerce_scalar(value.strip())
    return out


def _fixed(pieces: list[str]) -> str:
    """The pairs written as they should be: commas, no spaces; secret-looking values masked."""
    pairs: list[str] = []
    for piece in pieces:
        for part in re.split(r"\s+(?=[A-Za-z_][\w.]*\s*=)", piece.strip()):
            key, _, value = part.partition("=")
            key, value = key.strip(), value.strip()
            if key:
                hidden = is_secret_value(key, value) or looks_like_credential(value)
                pairs.append(f"{key}={'…' if hidden else value}")
    return ",".join(pairs)


@dataclass(frozen=True)
class ResolvedModel:
    """The provider a run uses, the arguments it accepts (canonical names), and what the rest became."""

    provider: str
    args: dict[str, Any]
    #: lmms-eval's ``max_frames_num``: frames sampled per video (None: the task's default).
    num_frames: int | None = None
    notices: tuple[str, ...] = ()


def resolve_model(name: str, model_args: dict[str, Any], settings: Settings | None = None) -> ResolvedModel:
    """lmms-eval's model name and arguments -> an assay provider and the arguments its schema accepts.

    Raises UsageError for an lmms-eval backend assay does not run (with the way to serve it instead) and
    ConfigError for an argument the provider does not take (with the closest valid name)."""
    from assay.providers import get_spec
    from assay.providers.arguments import SCHEMAS

    args = dict(model_args)
    notices: list[str] = []
    provider = _provider_name(name, args, settings, notices)
    spec = get_spec(provider, settings)
    schema = SCHEMAS.get(spec.name) if spec.origin == "builtin" else None
    if schema is None:  # a plugin provider checks its own arguments
        return ResolvedModel(provider, args, notices=tuple(notices))
    extra, num_frames = _set_aside(args, schema, spec.name, notices)
    accepted = _validated(spec.name, args, spec.name)
    for key in extra:
        if key in accepted or key in schema:
            raise ConfigError(f"--model_args extra_body.{key} is an argument the {spec.name} provider knows",
                              hint=f"write {key}=… instead")
    return ResolvedModel(provider, {**accepted, **extra}, num_frames, tuple(notices))


def _provider_name(name: str, args: dict[str, Any], settings: Settings | None, notices: list[str]) -> str:
    """The assay provider for lmms-eval's ``name`` (``openai`` + ``azure_openai=True`` is Azure)."""
    from assay.providers.lmms_names import API_MODELS, LOCAL_BACKENDS, REFUSED_MODELS, serve_hint

    if name in REFUSED_MODELS:
        raise UsageError(f"--model {name} (an lmms-eval model) has no assay equivalent", hint=REFUSED_MODELS[name])
    if name in LOCAL_BACKENDS:
        model = args.get("pretrained") or args.get("model") or args.get("model_version")
        raise UsageError(f"--model {name} runs the model on local GPUs inside lmms-eval; assay evaluates models "
                         "through their APIs", hint=serve_hint(name, None if model is None else str(model)))
    provider = API_MODELS.get(name, name)
    if provider == "openai" and name != "openai" and settings is not None and settings.judge_api_type == "azure":
        provider = "azure_openai"  # lmms-eval's gpt4v family reads API_TYPE=azure
    if provider != name:
        notices.append(f"--model {name} is lmms-eval's name; assay runs it with its `{provider}` provider")
    azure = args.pop("azure_openai", None)
    if azure is not None and str(azure).strip().lower() not in ("true", "false", "1", "0"):
        raise ConfigError(f"--model_args azure_openai={shown_value(azure)} is not true or false",
                          hint="azure_openai=True sends the run to Azure OpenAI (AZURE_OPENAI_API_BASE…)")
    if str(azure).strip().lower() in ("true", "1") and provider in ("openai", "openai_compatible"):
        notices.append("--model_args azure_openai=True: assay runs this with its `azure_openai` provider "
                       "(AZURE_OPENAI_API_BASE, AZURE_OPENAI_API_KEY, AZURE_OPENAI_API_VERSION)")
        return "azure_openai"
    return provider


def _set_aside(args: dict[str, Any], schema: Schema, provider: str,
               notices: list[str]) -> tuple[dict[str, Any], int | None]:
    """Take out of ``args`` what is not for the schema: ``extra_body.NAME`` entries (returned), lmms-eval's
    arguments assay honours under its own name (``max_frames_num``) or only notes; refused ones raise."""
    from assay.providers.arguments import EXTRA_BODY, HONOURED, LMMS_ONLY, REFUSED, accepted_names

    known = set(accepted_names(schema))
    extra: dict[str, Any] = {}
    num_frames: int | None = None
    for key in list(args):
        if key.startswith(EXTRA_BODY):
            name = key[len(EXTRA_BODY):]
            if not re.fullmatch(r"[A-Za-z_][\w.-]*", name):
                raise ConfigError(f"--model_args {key}: no parameter name after {EXTRA_BODY}",
                                  hint=f"e.g. {EXTRA_BODY}my_param=1 sends my_param=1 in the request body")
            extra[name] = args.pop(key)
        elif key in known:
            continue
        elif key in REFUSED and args[key] in (False, None, ""):
            args.pop(key)  # `vertexai=False`: lmms-eval's default, nothing to refuse
        elif key in REFUSED:
            raise ConfigError(f"--model_args {key} is not supported by the {provider} provider", hint=REFUSED[key])
        elif key in HONOURED:
            num_frames = _frames(key, args.pop(key))
            notices.append(f"--model_args {key}: videos are sampled to {num_frames} frames")
        elif key in LMMS_ONLY:
            args.pop(key)
            notices.append(f"--model_args {key} (lmms-eval) has no effect in assay: {LMMS_ONLY[key]}")
    return extra, num_frames


def _frames(key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"--model_args {key}={shown_value(value)} must be a whole number of frames, at least 1",
                          hint=f"e.g. {key}=8")
    return value


def _validated(schema_name: str, args: dict[str, Any], provider: str,
               flag: str = "--model_args") -> dict[str, Any]:
    """``args`` checked against the built-in provider's schema: the usual ones without pydantic, the rest
    converted by pydantic or refused with its reason."""
    from assay.providers.arguments import SCHEMAS, Unsure, fast_check, pydantic_model

    try:
        return fast_check(SCHEMAS[schema_name], args)
    except Unsure:
        pass
    from pydantic import ValidationError

    try:
        model = pydantic_model(schema_name).model_validate(args)
    except ValidationError as exc:
        raise _config_error(exc, SCHEMAS[schema_name], args, provider, flag) from None
    return {k: v for k, v in model.model_dump(exclude_unset=True).items() if v is not None}


def _config_error(exc: ValidationError, schema: Schema, args: dict[str, Any],
                  provider: str, flag: str = "--model_args") -> ConfigError:
    """The first validation error as one line naming the argument (its value masked if it looks secret)."""
    from assay.providers.arguments import EXTRA_BODY, HONOURED, LMMS_ONLY, accepted_names

    first = exc.errors()[0]
    key = str(first["loc"][0]) if first["loc"] else "?"
    if first["type"] == "extra_forbidden":
        names = accepted_names(schema)
        suggestion = did_you_mean(key, [*names, *HONOURED, *LMMS_ONLY], n=1, quote=str, cutoff=0.7)
        return ConfigError(f"{flag} {key} is not an argument of the {provider} provider",
                           hint=f"{suggestion}the README lists what each provider takes (Coming from lmms-eval); a "
                                f"request parameter assay does not know yet goes as {EXTRA_BODY}{key}=…")
    value = args.get(key)
    shown = "<hidden>" if is_secret_value(key, value) else shown_value(value)
    reason = str(first["msg"]).removeprefix("Value error, ")
    return ConfigError(f"{flag} {key}={shown}: {reason[:1].lower()}{reason[1:]}",
                       hint=f"fix {key} in {flag} (see the {provider} provider in the README)")


def check_judge_args(provider: str, args: dict[str, Any], settings: Settings | None = None) -> None:
    """``--judge_args`` for a built-in judge provider, checked against the same schema as ``--model_args``
    (a misspelled judge argument is refused before anything is sent, not put in every judge request)."""
    from assay.providers import get_spec
    from assay.providers.arguments import SCHEMAS

    spec = get_spec(provider, settings)
    if spec.origin == "builtin" and spec.name in SCHEMAS:
        _validated(spec.name, dict(args), spec.name, "--judge_args")
