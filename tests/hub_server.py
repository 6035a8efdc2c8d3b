"""A small, honest loopback emulation of the Hugging Face Hub endpoints `huggingface_hub` uses to push a
dataset: whoami, repo create, repo settings (visibility, gating), YAML validation, preupload, commit,
revision info and file download. There is no installable Hub server; this keeps to what the real one
answers for these calls (status codes, ``X-Error-Code``/``X-Error-Message`` headers, git blob oids) and
checks the ``Authorization`` header on every request.

Files up to 10 MB that are not images go in the commit payload ("regular"), as on the Hub; bigger or
binary files would need LFS/Xet storage, which this server does not emulate (it answers 501).
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from dataclasses import dataclass, field
from typing import Any

import yaml
from aiohttp import web

from tests.loopback import LoopbackServer

REGULAR_MAX = 10 * 1024 * 1024
#: Public, anonymous endpoints the client reads on its own (huggingface_hub >= 1.x: the agent registry).
PUBLIC_PATHS = frozenset({"/api/agent-harnesses"})
ANONYMOUS = web.RequestKey("anonymous", bool)
_BINARY = (".jpg", ".jpeg", ".png", ".webp", ".gif", ".mp4", ".parquet", ".arrow")


def git_blob_oid(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\x00" % len(data) + data).hexdigest()


@dataclass
class Repo:
    repo_id: str
    private: bool
    gated: Any = False
    files: dict[str, bytes] = field(default_factory=dict)
    commits: list[dict[str, Any]] = field(default_factory=list)

    @property
    def head(self) -> str:
        return self.commits[-1]["oid"] if self.commits else "0" * 40


class HubServer(LoopbackServer):
    def __init__(self, token: str, user: str = "tester", orgs: tuple[str, ...] = ("team",)) -> None:
        self.token = token
        self.user = user
        self.orgs = orgs
        self.repos: dict[str, Repo] = {}
        self.requests: list[dict[str, Any]] = []
        self.fail_commits = False  # answer 500 to commits (an outage after the token was checked)
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def received_bytes(self) -> list[bytes]:
        """Every request body, plus every file as stored (decoded from the commits' base64)."""
        with self._lock:
            bodies = [r["body"] for r in self.requests]
            files = [data for repo in self.repos.values() for data in repo.files.values()]
        return bodies + files

    # -- helpers -----------------------------------------------------------------------------------

    def _auth(self, request: web.Request) -> web.Response | None:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return web.json_response({"error": "Invalid credentials in Authorization header"}, status=401,
                                     headers={"X-Error-Message": "Invalid credentials in Authorization header"})
        return None

    def _repo(self, request: web.Request) -> Repo | web.Response:
        repo_id = f"{request.match_info['ns']}/{request.match_info['name']}"
        repo = self.repos.get(repo_id)
        if repo is None or (repo.private and request.get(ANONYMOUS)):
            return web.json_response({"error": "Repository not found"}, status=404,
                                     headers={"X-Error-Code": "RepoNotFound"})
        return repo

    def _may_write(self, namespace: str) -> bool:
        return namespace == self.user or namespace in self.orgs

    @web.middleware
    async def _record(self, request: web.Request, handler: Any) -> web.StreamResponse:
        body = await request.read()
        with self._lock:
            self.requests.append({"method": request.method, "path": request.path, "query": request.query_string,
                                  "headers": {k.lower(): v for k, v in request.headers.items()}, "body": body})
        anonymous = "Authorization" not in request.headers
        request[ANONYMOUS] = anonymous
        # As on the Hub: an anonymous caller may read public repos and registries; a wrong token is refused.
        public = request.path.startswith("/datasets/") or request.path in PUBLIC_PATHS
        if not (anonymous and request.method in ("GET", "HEAD") and public):
            denied = self._auth(request)
            if denied is not None:
                return denied
        response: web.StreamResponse = await handler(request)
        return response

    # -- endpoints ---------------------------------------------------------------------------------

    async def agent_harnesses(self, request: web.Request) -> web.Response:
        return web.json_response({"standardEnvVars": [], "harnesses": {}})

    async def whoami(self, request: web.Request) -> web.Response:
        return web.json_response({"type": "user", "name": self.user, "orgs": [{"name": o} for o in self.orgs],
                                  "auth": {"type": "access_token", "accessToken": {"role": "write"}}})

    async def create(self, request: web.Request) -> web.Response:
        body = json.loads(await request.read())
        namespace = body.get("organization") or self.user
        repo_id = f"{namespace}/{body['name']}"
        if body.get("type") != "dataset":
            return web.json_response({"error": "this emulation only has dataset repos"}, status=400)
        if not self._may_write(namespace):
            return web.json_response({"error": "You don't have the rights to create a dataset under this namespace"},
                                     status=403)
        url = f"{self.url}/datasets/{repo_id}"
        with self._lock:
            if repo_id in self.repos:
                return web.json_response({"error": "You already created this dataset repo", "url": url}, status=409)
            private = body.get("visibility") == "private" if "visibility" in body else bool(body.get("private"))
            self.repos[repo_id] = Repo(repo_id, private=private)
        return web.json_response({"url": url, "name": repo_id, "id": repo_id})

    async def settings(self, request: web.Request) -> web.Response:
        repo = self._repo(request)
        if isinstance(repo, web.Response):
            return repo
        body = json.loads(await request.read())
        if "gated" in body:
            if body["gated"] not in ("auto", "manual", False):
                return web.json_response({"error": "invalid gated value"}, status=400)
            repo.gated = body["gated"]
        if "visibility" in body:
            repo.private = body["visibility"] == "private"
        if "private" in body:
            repo.private = bool(body["private"])
        return web.json_response({})

    async def validate_yaml(self, request: web.Request) -> web.Response:
        body = json.loads(await request.read())
        content = body.get("content", "")
        if content.startswith("---\n"):
            try:
                yaml.safe_load(content.split("---\n", 2)[1])
            except yaml.YAMLError as exc:
                return web.json_response({"error": f"Invalid metadata in README.md: {exc}"}, status=400)
        return web.json_response({"errors": [], "warnings": []})

    async def preupload(self, request: web.Request) -> web.Response:
        repo = self._repo(request)
        if isinstance(repo, web.Response):
            return repo
        body = json.loads(await request.read())
        files = []
        for item in body["files"]:
            path, size = item["path"], int(item["size"])
            lfs = size > REGULAR_MAX or path.lower().endswith(_BINARY)
            existing = repo.files.get(path)
            oid = None
            if existing is not None:
                oid = hashlib.sha256(existing).hexdigest() if lfs else git_blob_oid(existing)
            files.append({"path": path, "uploadMode": "lfs" if lfs else "regular", "shouldIgnore": False, "oid": oid})
        return web.json_response({"files": files, "commitOid": repo.head})

    async def commit(self, request: web.Request) -> web.Response:
        repo = self._repo(request)
        if isinstance(repo, web.Response):
            return repo
        if not self._may_write(repo.repo_id.split("/")[0]):
            return web.json_response({"error": "You don't have the rights to write to this repo"}, status=403)
        if self.fail_commits:
            return web.json_response({"error": "Internal Error - We're working hard to fix this as soon as possible!"},
                                     status=500)
        lines = [json.loads(line) for line in (await request.read()).splitlines() if line.strip()]
        header = lines[0]
        if header.get("key") != "header":
            return web.json_response({"error": "first line must be the header"}, status=400)
        changed: dict[str, bytes] = {}
        for line in lines[1:]:
            if line["key"] == "file":
                value = line["value"]
                if value.get("encoding") != "base64":
                    return web.json_response({"error": "unsupported encoding"}, status=400)
                changed[value["path"]] = base64.b64decode(value["content"])
            elif line["key"] == "lfsFile":
                return web.json_response({"error": "LFS files are not emulated"}, status=501)
            else:
                return web.json_response({"error": f"unsupported operation {line['key']}"}, status=400)
        with self._lock:
            repo.files.update(changed)
            oid = hashlib.sha1(f"{repo.head}{sorted(changed)}{len(repo.commits)}".encode()).hexdigest()
            repo.commits.append({"oid": oid, "summary": header["value"].get("summary"), "files": sorted(changed)})
        return web.json_response({"success": True, "commitOid": oid,
                                  "commitUrl": f"{self.url}/datasets/{repo.repo_id}/commit/{oid}"})

    async def revision(self, request: web.Request) -> web.Response:
        repo = self._repo(request)
        if isinstance(repo, web.Response):
            return repo
        return web.json_response({"id": repo.repo_id, "sha": repo.head, "private": repo.private, "gated": repo.gated,
                                  "siblings": [{"rfilename": p} for p in sorted(repo.files)]})

    async def resolve(self, request: web.Request) -> web.Response:
        repo = self._repo(request)
        if isinstance(repo, web.Response):
            return repo
        data = repo.files.get(request.match_info["path"])
        if data is None:
            return web.json_response({"error": "Entry not found"}, status=404,
                                     headers={"X-Error-Code": "EntryNotFound"})
        return web.Response(body=data, headers={"X-Repo-Commit": repo.head, "ETag": f'"{git_blob_oid(data)}"'})

    async def not_emulated(self, request: web.Request) -> web.Response:
        return web.json_response({"error": f"{request.path} is not emulated"}, status=501)

    # -- lifecycle ---------------------------------------------------------------------------------

    def make_app(self) -> web.Application:
        repo = "/{ns}/{name}"
        app = web.Application(middlewares=[self._record], client_max_size=1 << 30)
        app.router.add_get("/api/whoami-v2", self.whoami)
        app.router.add_get("/api/agent-harnesses", self.agent_harnesses)
        app.router.add_post("/api/repos/create", self.create)
        app.router.add_put(f"/api/datasets{repo}/settings", self.settings)
        app.router.add_post("/api/validate-yaml", self.validate_yaml)
        app.router.add_post(f"/api/datasets{repo}/preupload/{{rev}}", self.preupload)
        app.router.add_post(f"/api/datasets{repo}/commit/{{rev}}", self.commit)
        app.router.add_get(f"/api/datasets{repo}/revision/{{rev}}", self.revision)
        app.router.add_get(f"/datasets{repo}/resolve/{{rev}}/{{path:.+}}", self.resolve)
        app.router.add_route("*", "/{tail:.*}", self.not_emulated)
        return app
