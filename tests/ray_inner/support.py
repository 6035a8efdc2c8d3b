"""What the cluster tests share: running `assay run` as a user would, and reading what it wrote."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.fault_server import last_user_text

ADDRESS = os.environ.get("ASSAY_RAY_ADDRESS", "")
TEMP = Path(os.environ.get("ASSAY_RAY_TEMP", "/nonexistent"))
#: Credentials in the run's settings: every one must stay out of everything Ray keeps.
SECRETS = {"OPENAI_API_KEY": "sk-raycluster-5f2c9e1a7b3d4c", "HF_TOKEN": "hf_rayclusterTok9d8c7b6a5",
           "WANDB_API_KEY": "wandbraysecret0123456789abcdef0123456789"}


def env(home: Path, **extra: str) -> dict[str, str]:
    """A user's environment: the secrets set, nothing else of this machine's assay settings."""
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV")}
    return {**base, "HOME": str(home), "LMMS_EVAL_HOME": str(home / "lmms"), **SECRETS, **extra}


def assay(home: Path, *args: str, timeout: float = 300, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "assay", "run", *args], env=env(home, **extra),
                          capture_output=True, text=True, timeout=timeout, cwd=home)


def pick(body: dict[str, Any], choices: str) -> str:
    """An answer that depends on the prompt only: local and cluster runs get the same one."""
    digest = hashlib.sha256(last_user_text(body).encode()).digest()
    return choices[digest[0] % len(choices)]


def results(out: Path) -> dict[str, Any]:
    files = list(out.rglob("*_results.json"))
    assert len(files) == 1, files
    return json.loads(files[0].read_text())  # type: ignore[no-any-return]


def rows(out: Path, task: str) -> list[dict[str, Any]]:
    files = list(out.rglob(f"*_samples_{task}.jsonl"))
    assert len(files) == 1, files
    return [json.loads(line) for line in files[0].read_text().splitlines()]


#: What a sample says about the model and its scoring (not timing, not how many attempts a server took).
SAME = ("doc_id", "target", "arguments", "resps", "filtered_resps", "metrics", "error", "usage")


def assert_same_run(local: Path, cluster: Path, tasks: list[str]) -> None:
    """Per-sample scores and prompts, and every task's aggregates, equal between the two runs."""
    for task in tasks:
        mine = {r["doc_id"]: {k: r.get(k) for k in SAME} for r in rows(local, task)}
        theirs = [r["doc_id"] for r in rows(cluster, task)]
        assert sorted(theirs) == sorted(set(theirs)), f"{task}: a doc written twice"
        assert {r["doc_id"]: {k: r.get(k) for k in SAME} for r in rows(cluster, task)} == mine
        judged = [r.get("judge", {}).get("status") for r in rows(cluster, task)]
        assert judged == [r.get("judge", {}).get("status") for r in sorted(rows(local, task),
                                                                           key=lambda r: theirs.index(r["doc_id"]))]
    a, b = results(local)["results"], results(cluster)["results"]
    for task in tasks:
        for key in ("n_samples", "n_completed", "n_scored", "n_errors", "n_judged"):
            assert a[task].get(key) == b[task].get(key), (task, key)
        assert {m: v["value"] for m, v in a[task]["metrics"].items()} == \
            {m: v["value"] for m, v in b[task]["metrics"].items()}, task
