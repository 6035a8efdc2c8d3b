"""Shared fixtures. Keep each one small and generic; add new ones below the existing ones."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import assay.compat  # noqa: F401  (fills the task layer's hooks, as every entry point does)
from assay.env.settings import Settings
from tests.loopback import LoopbackServer

# -- environment isolation ------------------------------------------------------------------------


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """cwd is ``tmp_path``; returns a fresh environ dict (LMMS_EVAL_HOME inside ``tmp_path``) to pass
    as ``load_settings(environ=...)``. The real environment and ~/.cache are never read or written."""
    monkeypatch.chdir(tmp_path)
    return {"LMMS_EVAL_HOME": str(tmp_path / "home")}


@pytest.fixture
def cli_env(isolated: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """For in-process CLI tests (the entry point reads the real ``os.environ``): every variable assay
    reads is removed, LMMS_EVAL_HOME points inside ``tmp_path``, cwd is ``tmp_path``, and HOME is
    ``tmp_path`` too, so no login file (``~/.netrc``, the Hugging Face token) of this machine is read."""
    from assay.env.settings import SPECS

    for spec in SPECS:
        for name in spec.env_names:
            monkeypatch.delenv(name, raising=False)
    for name in ("HF_HOME", "HF_TOKEN_PATH", "NETRC"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("LMMS_EVAL_HOME", isolated["LMMS_EVAL_HOME"])
    return isolated


@pytest.fixture
def settings(isolated: dict[str, str]) -> Settings:
    """Fresh settings from an isolated environment (no .env discovery, no real variables)."""
    from assay.env.settings import load_settings

    return load_settings(environ=isolated, discover_dotenv=False)


@pytest.fixture
def run_dir(cli_env: dict[str, str], tmp_path: Path) -> Path:
    """``cli_env`` for `assay run` tests: the isolated working directory outputs go under."""
    return tmp_path


@pytest.fixture(autouse=True)
def _reset_assay_logging() -> Iterator[None]:
    """Remove the stderr handler a CLI test installed, so it does not outlive the test."""
    yield
    from assay.env.log import reset_logging

    reset_logging()


# -- a loopback server for credential checks ------------------------------------------------------


@dataclass
class CredentialServer(LoopbackServer):
    """aiohttp on 127.0.0.1 in a thread. The first path segment picks the answer:
    ``ok`` (200, with whoami / W&B viewer bodies), ``deny`` (401), ``forbid`` (403), ``anon`` (200 with no
    W&B viewer), ``boom`` (500), ``slow`` (waits ``delay`` seconds, then 200). Every request is recorded."""

    delay: float = 2.0
    port: int = 0
    requests: list[dict[str, Any]] = field(default_factory=list)

    def url(self, mode: str) -> str:
        return f"http://127.0.0.1:{self.port}/{mode}"

    def make_app(self) -> Any:
        from aiohttp import web

        app = web.Application()
        app.router.add_route("*", "/{mode}/{tail:.*}", self._handle)
        return app

    async def _handle(self, request: Any) -> Any:
        from aiohttp import web

        body = await request.text()
        self.requests.append(
            {"method": request.method, "path": request.path, "query": request.query_string,
             "headers": dict(request.headers), "body": body}
        )
        mode, tail = request.match_info["mode"], request.match_info["tail"]
        if mode == "slow":
            await asyncio.sleep(self.delay)
        if mode in ("deny", "forbid"):
            return web.json_response({"error": "invalid key"}, status=401 if mode == "deny" else 403)
        if mode == "boom":
            return web.json_response({"error": "server error"}, status=500)
        if tail.endswith("graphql"):
            viewer = None if mode == "anon" else {"username": "tester"}
            return web.json_response({"data": {"viewer": viewer}})
        if tail.endswith("whoami-v2"):
            return web.json_response({"name": "tester"})
        return web.json_response({"object": "list", "data": []})


def closed_port() -> int:
    """A loopback port with nothing listening on it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
def credential_server() -> Iterator[CredentialServer]:
    with CredentialServer() as server:
        yield server


# -- lmms-eval compatibility ------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _restore_hf_home() -> Iterator[None]:
    """Loading a task sets HF_HOME for lmms-eval helpers when it is unset (assay.compat): not past a test."""
    import os

    before = os.environ.get("HF_HOME")
    yield
    if before is None:
        os.environ.pop("HF_HOME", None)
    else:
        os.environ["HF_HOME"] = before


_REPO = Path(__file__).resolve().parents[1]
#: lmms-eval's real task tree: ASSAY_LMMS_TASKS (its `lmms_eval/tasks` folder) when set; else
#: ../shared/lmms-eval-tasks next to the clone (CI), or two levels up (a worktree)
_GIVEN_TREE = os.environ.get("ASSAY_LMMS_TASKS")
SHARED_TREES = [*([Path(_GIVEN_TREE).expanduser()] if _GIVEN_TREE else []),
                *(base / "shared" / "lmms-eval-tasks" / "lmms_eval" / "tasks"
                  for base in (_REPO.parent, _REPO.parents[1]))]


@pytest.fixture(scope="session")
def lmms_tree() -> Path:
    """lmms-eval's real task tree (ASSAY_LMMS_TASKS, or ../shared/lmms-eval-tasks, which CI has); skipped where it
    is absent, and an error when ASSAY_LMMS_TASKS names a folder that is not there (a typo must not skip tests)."""
    if _GIVEN_TREE and not SHARED_TREES[0].is_dir():
        pytest.fail(f"ASSAY_LMMS_TASKS={_GIVEN_TREE} is not a folder (give lmms-eval's lmms_eval/tasks folder)")
    for tree in SHARED_TREES:
        if tree.is_dir():
            return tree
    pytest.skip(f"lmms-eval's task tree is not at {SHARED_TREES[0]} (set ASSAY_LMMS_TASKS to its lmms_eval/tasks)")
