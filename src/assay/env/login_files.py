"""Credentials the vendors' own login commands saved (``huggingface-cli login``, ``wandb login``)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from assay.env.dotenv_files import expand_path


def login_files(env: Mapping[str, str], values: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """Credentials saved by the vendors' own login commands, lowest priority of all.

    ``huggingface-cli login`` writes ``$HF_HOME/token`` (HF_TOKEN_PATH overrides); ``wandb login`` writes
    an entry for its API host in ``~/.netrc``. Without HOME in the given environment nothing is read, so
    tests that pass ``environ=`` stay hermetic. Returns ``{field: (value, where it was read)}``.
    """
    found: dict[str, tuple[str, str]] = {}
    home = env.get("HOME")
    if "hf_token" not in values:
        hf_home = env.get("HF_HOME") or (f"{home}/.cache/huggingface" if home else None)
        token_path = env.get("HF_TOKEN_PATH") or (f"{hf_home}/token" if hf_home else None)
        if token_path:
            try:
                token = Path(expand_path(token_path, env)).read_text(encoding="utf-8").strip()
            except (OSError, UnicodeDecodeError):
                token = ""
            if token:
                found["hf_token"] = (token, f"{token_path} (huggingface-cli login)")
    netrc_path = env.get("NETRC") or (f"{home}/.netrc" if home else None)
    if "wandb_api_key" not in values and netrc_path and Path(netrc_path).is_file():
        import netrc
        from urllib.parse import urlparse

        host = urlparse(str(values.get("wandb_base_url") or "https://api.wandb.ai")).hostname or "api.wandb.ai"
        try:
            entry = netrc.netrc(netrc_path).authenticators(host)
        except (OSError, netrc.NetrcParseError):
            entry = None  # not ours to validate: other tools own this file
        if entry and entry[2]:
            found["wandb_api_key"] = (entry[2], f"{netrc_path} ({host}, wandb login)")
    return found
