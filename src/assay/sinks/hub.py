"""The Hugging Face Hub: a finished run's results and samples pushed to dataset repos, with a card.

``--hf_hub_log_args`` takes lmms-eval's keys. Asking for the Hub is asking to push: results and (when
the run logged them) samples are pushed unless ``push_results_to_hub=False`` / ``push_samples_to_hub=False``.
Repos follow lmms-eval's names: ``{org}/{name}`` when ``public_repo=True``, else ``{org}/{name}-private``
(created private); ``org`` defaults to the token's owner. Each push is one commit per repo; the files'
paths are fixed by the run (``{model}/{run_id}_…``), so pushing the same run again changes nothing.

The token comes from :class:`Settings` (``HF_TOKEN``) or lmms-eval's ``token=`` key, and is handed to the
client as ``token=`` — never put into an argument string, a message or a file.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from assay.errors import AssayError, ConfigError, UploadAuthError, UploadError, UsageError
from assay.sinks import card
from assay.text import clip

if TYPE_CHECKING:
    from assay.env.redaction import Redactor
    from assay.env.settings import Settings
    from assay.sinks.rundir import FinishedRun

log = logging.getLogger("assay.sinks.hub")

DEFAULT_REPO_NAME = "lmms-eval-results"
_BOOL_KEYS = ("push_results_to_hub", "push_samples_to_hub", "public_repo", "gated")
_KNOWN = frozenset({*_BOOL_KEYS, "hub_results_org", "hub_repo_name", "details_repo_name", "results_repo_name",
                    "point_of_contact", "leaderboard_url", "token", "output_path"})
_TOKEN_HINT = ("set a valid HF_TOKEN with write access in .env (create one at https://huggingface.co/settings/tokens); "
               "never put it in --hf_hub_log_args")


@dataclass(frozen=True)
class HubOptions:
    org: str | None = None
    results_name: str = DEFAULT_REPO_NAME
    details_name: str = DEFAULT_REPO_NAME
    push_results: bool = True
    push_samples: bool = True
    public: bool = False
    gated: bool = False
    point_of_contact: str = ""
    leaderboard_url: str = ""

    def repo_id(self, org: str, name: str) -> str:
        return f"{org}/{name}" if self.public else f"{org}/{name}-private"


def hub_options(args: dict[str, Any]) -> HubOptions:
    """``--hf_hub_log_args`` as options; an unknown key or a non-boolean flag is a UsageError."""
    unknown = sorted(set(args) - _KNOWN)
    if unknown:
        raise UsageError(f"--hf_hub_log_args: unknown key{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}",
                         hint=f"known keys: {', '.join(sorted(_KNOWN - {'token', 'output_path'}))}")
    flags = {key: _flag(args, key) for key in _BOOL_KEYS}
    shared = _text(args.get("hub_repo_name"))  # lmms-eval: one name for both repos
    details = shared or _text(args.get("details_repo_name")) or DEFAULT_REPO_NAME
    results = shared or _text(args.get("results_repo_name")) or details
    return HubOptions(
        org=_text(args.get("hub_results_org")) or None, results_name=results, details_name=details,
        push_results=flags["push_results_to_hub"] is not False, push_samples=flags["push_samples_to_hub"] is not False,
        public=bool(flags["public_repo"]), gated=bool(flags["gated"]),
        point_of_contact=_text(args.get("point_of_contact")), leaderboard_url=_text(args.get("leaderboard_url")),
    )


def hub_token(args: dict[str, Any], settings: Settings) -> str | None:
    given = args.get("token")
    return str(given) if isinstance(given, str) and given.strip() else settings.secret("hf_token")


def push_hub(run: FinishedRun, args: dict[str, Any], *, settings: Settings, redactor: Redactor) -> str:
    """Push ``run``; returns a one-line summary of what went where."""
    options = hub_options(args)
    samples = dict(run.samples) if options.push_samples else {}
    if not options.push_results and not samples:
        return "nothing to push (push_results_to_hub=False and no samples to push)"
    token = hub_token(args, settings)
    if not token:
        raise UploadAuthError("pushing to the Hugging Face Hub needs a token, and none is set", hint=_TOKEN_HINT)
    api = _client(settings.hf_endpoint, token)
    try:
        org = options.org or _owner(api)
        done: list[str] = []
        if options.push_results:
            repo = options.repo_id(org, options.results_name)
            files = {f"{run.model_dir}/{run.results_path.name}": _redacted_bytes(run.results_path, redactor)}
            done.append(_push(api, repo, files, run, options, redactor, kind="results"))
        if samples:
            repo = options.repo_id(org, options.details_name)
            files = {f"{run.model_dir}/{path.name}": _redacted_bytes(path, redactor) for path in samples.values()}
            done.append(_push(api, repo, files, run, options, redactor, kind="samples"))
    except AssayError:
        raise
    except Exception as exc:
        raise _upload_error(exc, settings.hf_endpoint, redactor) from None
    return "; ".join(done)


def check_args(args: dict[str, Any]) -> None:
    """Before a run: the options are valid and huggingface_hub is installed."""
    hub_options(args)
    _import_hub()


def _import_hub() -> Any:
    try:
        import huggingface_hub
    except ImportError:
        raise ConfigError("--hf_hub_log_args needs the huggingface_hub package, which is not installed",
                          hint="pip install 'assay[hub]'") from None
    return huggingface_hub


def _client(endpoint: str, token: str) -> Any:
    hf = _import_hub()
    from huggingface_hub import constants
    # huggingface_hub >= 1.x fetches an "agent harness" registry for its user agent from the endpoint it saw
    # at import (huggingface.co unless HF_ENDPOINT was exported), even when pushing to another endpoint.
    # assay sends no telemetry: with it off, every request goes to `endpoint` and nowhere else.
    constants.HF_HUB_DISABLE_TELEMETRY = True
    return hf.HfApi(endpoint=endpoint.rstrip("/"), token=token, library_name="assay")


def _owner(api: Any) -> str:
    who = api.whoami()
    name = who.get("name") if isinstance(who, dict) else None
    if not name:
        raise UploadError("the Hub did not say who owns the token", hint="set hub_results_org=ORG in --hf_hub_log_args")
    return str(name)


def _push(api: Any, repo: str, files: dict[str, bytes], run: FinishedRun, options: HubOptions,
          redactor: Redactor, *, kind: str) -> str:
    from huggingface_hub import CommitOperationAdd

    api.create_repo(repo, repo_type="dataset", private=not options.public, exist_ok=True)
    if options.gated:
        api.update_repo_settings(repo, gated="auto", repo_type="dataset")
    old_card = _current_card(api, repo)
    entry = card.run_entry(run, results_file=next(iter(files)) if kind == "results" else None,
                           sample_files=_sample_paths(run, files) if kind == "samples" else None)
    new_card = redactor.redact(card.render(old_card, entry, repo=repo, leaderboard_url=options.leaderboard_url,
                                           point_of_contact=options.point_of_contact))
    operations = [CommitOperationAdd(path_in_repo=path, path_or_fileobj=data) for path, data in files.items()]
    operations.append(CommitOperationAdd(path_in_repo="README.md", path_or_fileobj=new_card.encode("utf-8")))
    info = api.create_commit(repo, operations, repo_type="dataset",
                             commit_message=f"Add {kind} of {run.model_name} run {run.run_id}")
    url = getattr(info, "commit_url", None) or repo
    log.info("Hub: %s of run %s pushed to %s (%s)", kind, run.run_id, repo, url)
    return f"{kind} -> {repo}"


def _sample_paths(run: FinishedRun, files: dict[str, bytes]) -> dict[str, str]:
    by_name = {path.rsplit("/", 1)[-1]: path for path in files}
    return {task: by_name[p.name] for task, p in run.samples.items() if p.name in by_name}


def _current_card(api: Any, repo: str) -> str | None:
    """The repo's README.md, or None when it has none yet."""
    from huggingface_hub import get_session, hf_hub_url, hf_raise_for_status

    url = hf_hub_url(repo, "README.md", repo_type="dataset", endpoint=api.endpoint)
    response = get_session().get(url, headers={"Authorization": f"Bearer {api.token}"})
    if response.status_code == 404:
        return None
    hf_raise_for_status(response)
    return str(response.content.decode("utf-8", errors="replace"))


def _redacted_bytes(path: Any, redactor: Redactor) -> bytes:
    return redactor.redact(path.read_text(encoding="utf-8")).encode("utf-8")


def _upload_error(exc: BaseException, endpoint: str, redactor: Redactor) -> AssayError:
    status = getattr(getattr(exc, "response", None), "status_code", None)
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    text = clip(first, 300, redact=redactor.redact)
    if status == 401:
        return UploadAuthError(f"the Hugging Face Hub at {endpoint} refused the token (401)", hint=_TOKEN_HINT)
    if status == 403:
        return UploadAuthError(f"the Hugging Face Hub at {endpoint} refused to write ({text})",
                               hint="use a token with write access to the org, or set hub_results_org to yours")
    if status is None and _is_connection_error(exc):
        return UploadError(f"could not reach the Hugging Face Hub at {endpoint}: {type(exc).__name__}",
                           hint="check HF_ENDPOINT and your network")
    return UploadError(f"pushing to the Hugging Face Hub failed: {text}", hint="check the repo name and your network")


def _is_connection_error(exc: BaseException) -> bool:
    names = {cls.__name__ for cls in type(exc).__mro__}
    return bool(names & {"ConnectError", "ConnectionError", "TimeoutException", "ConnectTimeout", "OSError"})


def _flag(args: dict[str, Any], key: str) -> bool | None:
    value = args.get(key)
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise UsageError(f"--hf_hub_log_args: {key}={value} is not true or false", hint=f"e.g. {key}=True")


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()
