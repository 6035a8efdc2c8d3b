"""The SQLite response cache: the key, what is (never) stored, resuming real runs, and `assay cache`.

Everything runs against real SQLite files under ``tmp_path`` and a real loopback server.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, ClassVar

import pytest

from assay.cli import main
from assay.errors import ConfigError, ProviderError
from assay.model import Model
from assay.model.cache import ResponseCache, cache_key, public_identity
from assay.types import GenerationParams, ImagePart, Message, Request, Response, TextPart, Usage, VideoPart
from tests.fault_server import FaultServer, last_user_text
from tests.helpers import results_file, run_cli, samples

TASK = "assay_arith_mc"
IDENTITY = {"provider": "openai", "base_url": "http://127.0.0.1:1/v1", "model": "m"}


def answer(body: dict[str, Any]) -> str:
    """A deterministic mix of letters, so metrics are neither 0 nor 1."""
    return f"({'AB'[len(last_user_text(body)) % 2]})"



def assay_run(capsys: pytest.CaptureFixture[str], out: Path, model_args: str, *extra: str, limit: int = 5) -> int:
    code, _, err = run_cli(capsys, "--model", "openai_compatible", "--model_args", model_args, "--tasks", TASK,
                       "--limit", str(limit), "--output_path", str(out), "--log_samples", *extra)
    assert "Traceback" not in err
    return code




def cache_file(run_dir: Path) -> Path:
    return run_dir / "home" / "cache" / "responses.sqlite"


def request(*parts: TextPart | ImagePart | VideoPart, params: GenerationParams | None = None) -> Request:
    return Request(messages=(Message("user", parts),), params=params or GenerationParams(max_tokens=8))


def png(payload: bytes) -> ImagePart:
    return ImagePart(base64.b64encode(payload).decode())


# -- the key ------------------------------------------------------------------------------------------


def test_key_is_canonical_and_covers_identity_messages_and_params() -> None:
    base = cache_key(IDENTITY, request(TextPart("2+2?")))
    assert len(base) == 64 and base == cache_key(dict(reversed(IDENTITY.items())), request(TextPart("2+2?")))
    assert cache_key({**IDENTITY, "model": "other"}, request(TextPart("2+2?"))) != base
    assert cache_key({**IDENTITY, "base_url": "http://127.0.0.1:2/v1"}, request(TextPart("2+2?"))) != base
    assert cache_key({**IDENTITY, "provider": "azure"}, request(TextPart("2+2?"))) != base
    assert cache_key(IDENTITY, request(TextPart("2+3?"))) != base
    assert cache_key(IDENTITY, Request((Message("system", (TextPart("2+2?"),)),), GenerationParams(8))) != base
    assert cache_key(IDENTITY, request(TextPart("2+2?"), params=GenerationParams(8, temperature=0.7))) != base
    assert cache_key(IDENTITY, request(TextPart("2+2?"), params=GenerationParams(8, extra=(("n", 2),)))) != base
    # task and doc_id are bookkeeping, not content: the same prompt in two tasks is one answer
    same = Request(request(TextPart("2+2?")).messages, GenerationParams(max_tokens=8), task="t2", doc_id=9)
    assert cache_key(IDENTITY, same) == base


def test_images_are_keyed_by_content_hash_not_data() -> None:
    a, b = png(b"\x89PNG one"), png(b"\x89PNG two")
    key_a = cache_key(IDENTITY, request(TextPart("what colour?"), a))
    assert key_a != cache_key(IDENTITY, request(TextPart("what colour?"), b))
    assert key_a == cache_key(IDENTITY, request(TextPart("what colour?"), png(b"\x89PNG one")))
    assert key_a != cache_key(IDENTITY, request(TextPart("what colour?"), ImagePart(a.data_b64, "image/jpeg")))
    video = VideoPart((a, b), source="/somewhere/clip.mp4")
    assert cache_key(IDENTITY, request(video)) != cache_key(IDENTITY, request(VideoPart((b, a))))
    # the source path is not sent to the model, so it is not part of the key
    assert cache_key(IDENTITY, request(video)) == cache_key(IDENTITY, request(VideoPart((a, b), source="/x.mp4")))


def test_identity_never_carries_secrets() -> None:
    identity = {"provider": "openai", "base_url": "https://user:sk-pass@host.example/v1", "model": "m",
                "api_key": "sk-x", "auth_token": "t"}
    assert public_identity(identity) == {"provider": "openai", "base_url": "https://host.example/v1", "model": "m"}
    assert cache_key(identity, request(TextPart("q"))) == cache_key(
        {"provider": "openai", "base_url": "https://host.example/v1", "model": "m"}, request(TextPart("q")))


# -- the store ----------------------------------------------------------------------------------------


async def test_put_get_round_trip_and_what_is_never_stored(tmp_path: Path) -> None:
    path = tmp_path / "c" / "responses.sqlite"
    with ResponseCache(path) as cache:
        req = Request(request(TextPart("q"), png(b"pixels" * 100)).messages, task="t", doc_id=3)
        assert await cache.get(IDENTITY, req) is None
        await cache.put(IDENTITY, req, Response("A", Usage(11, 3), model="m-2024", finish_reason="stop"))
        hit = await cache.get(IDENTITY, req)
        assert hit == Response("A", Usage(11, 3), model="m-2024", finish_reason="stop", attempts=0, cached=True)
        other = request(TextPart("empty?"))
        await cache.put(IDENTITY, other, Response("  \n"))
        assert await cache.get(IDENTITY, other) is None
        assert cache.stats()["entries"] == 1
        assert cache.db.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL (per connection)
        db = sqlite3.connect(path)  # a second connection sees the row before close: it is committed
        row = db.execute("SELECT identity, model, task, doc_id, text, input_tokens FROM responses").fetchone()
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA user_version").fetchone()[0] == 1
        db.close()
    assert json.loads(row[0]) == IDENTITY and row[1:] == ("m", "t", 3, "A", 11)
    assert png(b"pixels" * 100).data_b64.encode() not in path.read_bytes()


async def test_failures_are_not_cached_through_the_model_wrapper(tmp_path: Path) -> None:
    class Flaky:
        name: ClassVar[str] = "flaky"
        max_concurrency: ClassVar[int | None] = None
        model_name = "m"
        calls = 0

        def identity(self) -> dict[str, Any]:
            return dict(IDENTITY)

        async def generate(self, request: Request) -> Response:
            self.calls += 1
            if self.calls == 1:
                raise ProviderError("bad", kind="bad_request", status=400)
            return Response("B")

        async def aclose(self) -> None:
            return None

    with ResponseCache(tmp_path / "r.sqlite") as cache:
        provider = Flaky()
        model = Model(provider, cache=cache)
        with pytest.raises(ProviderError):
            await model.generate(request(TextPart("q")))
        assert cache.stats()["entries"] == 0
        first = await model.generate(request(TextPart("q")))
        again = await model.generate(request(TextPart("q")))
    assert (first.cached, again.cached, again.attempts, again.text) == (False, True, 0, "B")
    assert provider.calls == 2 and model.stats.cache_hits == 1


async def test_an_unstorable_request_is_a_warning_not_a_failure(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    odd = request(TextPart("q"), params=GenerationParams(extra=(("x", object()),)))
    with ResponseCache(tmp_path / "r.sqlite") as cache, caplog.at_level(logging.WARNING, "assay.model.cache"):
        assert await cache.get(IDENTITY, odd) is None
        await cache.put(IDENTITY, odd, Response("A"))
        assert cache.stats()["entries"] == 0
    assert sum("response cache" in r.message for r in caplog.records) == 1  # warned once, not per request


def test_a_put_survives_the_process_dying(tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite"
    code = (
        "import asyncio, os, sys\n"
        "from assay.model.cache import ResponseCache\n"
        "from assay.types import Message, Request, Response\n"
        "c = ResponseCache(sys.argv[1])\n"
        "asyncio.run(c.put({'model': 'm'}, Request((Message.user('q'),)), Response('A')))\n"
        "os._exit(9)  # no close, no checkpoint: as if killed\n"
    )
    assert subprocess.run([sys.executable, "-c", code, str(path)], timeout=60).returncode == 9
    with ResponseCache(path) as cache:
        hit = asyncio.run(cache.get({"model": "m"}, Request((Message.user("q"),))))
    assert hit is not None and hit.text == "A"


@pytest.mark.parametrize("content", [b"this is not a database at all" * 40, b"SQLite format 3\x00" + b"\xff" * 200])
def test_a_corrupt_file_is_a_config_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "responses.sqlite"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as info:
        ResponseCache(path)
    assert "\n" not in info.value.message and "assay cache clear" in info.value.hint


def test_foreign_or_newer_databases_are_refused(tmp_path: Path) -> None:
    foreign = tmp_path / "foreign.sqlite"
    with sqlite3.connect(foreign) as db:
        db.execute("CREATE TABLE notes (x)")
    with pytest.raises(ConfigError, match="not an assay response cache"):
        ResponseCache(foreign)
    newer = tmp_path / "newer.sqlite"
    ResponseCache(newer).close()
    with sqlite3.connect(newer) as db:
        db.execute("PRAGMA user_version = 99")
    with pytest.raises(ConfigError, match="newer"):
        ResponseCache(newer)


def test_clear_all_or_one_model(tmp_path: Path) -> None:
    with ResponseCache(tmp_path / "r.sqlite") as cache:
        for model, n in (("a", 3), ("b", 2)):
            for i in range(n):
                asyncio.run(cache.put({**IDENTITY, "model": model}, request(TextPart(str(i))), Response("x")))
        assert cache.stats()["models"] == {"a": 3, "b": 2}
        assert cache.clear("nope") == 0
        assert cache.clear("a") == 3
        assert cache.stats()["models"] == {"b": 2}
        assert cache.clear() == 2
        assert cache.stats()["entries"] == 0


# -- end to end: `assay run` --------------------------------------------------------------------------


def test_a_rerun_is_served_from_the_cache(run_dir: Path, capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LMMS_EVAL_USE_CACHE", "1")
    with FaultServer(answer=answer) as server:
        args = f"model=t,base_url={server.base_url},num_concurrent=4"
        assert assay_run(capsys, run_dir / "first", args, limit=10) == 0
        assert server.count == 10
        assert assay_run(capsys, run_dir / "second", args, limit=10) == 0
        assert server.count == 10  # nothing new was sent
    first, second = results_file(run_dir / "first"), results_file(run_dir / "second")
    assert first["results"][TASK]["metrics"] == second["results"][TASK]["metrics"]
    assert 0 < second["results"][TASK]["metrics"]["mc_accuracy"]["value"] < 1
    assert (first["results"][TASK]["n_cached"], second["results"][TASK]["n_cached"]) == (0, 10)
    assert first["model_stats"]["cache_hits"] == 0
    assert second["model_stats"] == {"requests": 0, "retries": 0, "failures": 0, "cache_hits": 10}
    # The rerun paid for nothing; the tokens it reused are reported apart.
    assert second["usage"]["input_tokens"] == 0 and second["usage"]["output_tokens"] == 0
    assert second["usage"]["from_cache"] == {k: first["usage"][k] for k in ("input_tokens", "output_tokens")}
    rows = {r["doc_id"]: r for r in samples(run_dir / "first")}
    for r in samples(run_dir / "second"):
        assert r["cached"] is True and r["attempts"] == 0
        assert r["resps"] == rows[r["doc_id"]]["resps"] and r["usage"] == rows[r["doc_id"]]["usage"]



def test_an_interrupted_run_resumes_from_the_cache(tmp_path: Path) -> None:
    from assay.env.settings import SPECS

    drop = {name for spec in SPECS for name in spec.env_names}
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY") and k not in drop}
    env.update(HOME=str(tmp_path), LMMS_EVAL_HOME=str(tmp_path / "home"), LMMS_EVAL_USE_CACHE="1")
    limit, answered = 10, 6

    def command(base_url: str, out: str) -> list[str]:
        return [sys.executable, "-m", "assay", "run", "--model", "openai_compatible",
                "--model_args", f"model=t,base_url={base_url},num_concurrent=1", "--tasks", TASK,
                "--limit", str(limit), "--output_path", str(tmp_path / out), "--log_samples"]

    with FaultServer(answer=answer) as slow:
        slow.queue(*[{}] * answered, *[{"delay": 30}] * limit)
        proc = subprocess.Popen(command(slow.base_url, "first"), cwd=tmp_path, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        # One request at a time: the 7th arriving means the 6th answer was put in the cache.
        while slow.count <= answered:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the run did not get going"
            time.sleep(0.01)
        interrupted_at = time.monotonic()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=15)
        took = time.monotonic() - interrupted_at
        assert proc.returncode == 130 and took < 5, (proc.returncode, took, err)
        assert "error: interrupted" in err and "Traceback" not in err
        first = results_file(tmp_path / "first")
        assert first["status"] == "interrupted"
        assert first["results"][TASK]["n_completed"] == answered
        assert len(samples(tmp_path / "first")) == answered

        # The same server (its address is part of the key), now answering at once.
        slow.faults.clear()
        before = slow.count
        done = subprocess.run(command(slow.base_url, "second"), cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert slow.count - before == limit - answered
    second = results_file(tmp_path / "second")
    assert second["status"] == "complete" and second["results"][TASK]["n_cached"] == answered
    cached = sorted(r["doc_id"] for r in samples(tmp_path / "second") if r["cached"])
    assert cached == list(range(answered))


def test_model_identity_is_part_of_the_key(run_dir: Path, capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LMMS_EVAL_USE_CACHE", "1")
    with FaultServer(answer=answer) as one, FaultServer(answer=answer) as two:
        assert assay_run(capsys, run_dir / "a", f"model=m1,base_url={one.base_url}") == 0
        assert assay_run(capsys, run_dir / "b", f"model=m2,base_url={one.base_url}") == 0
        assert one.count == 10  # another model: every prompt sent again
        assert assay_run(capsys, run_dir / "c", f"model=m1,base_url={two.base_url}") == 0
        assert (one.count, two.count) == (10, 5)  # same model name, another server: sent again
        assert assay_run(capsys, run_dir / "d", f"model=m2,base_url={one.base_url}") == 0
        assert one.count == 10
    assert results_file(run_dir / "d")["results"][TASK]["n_cached"] == 5


def test_generation_params_are_in_the_key_and_transport_knobs_are_not(
    run_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with FaultServer(answer=answer) as server:
        base = f"model=t,base_url={server.base_url}"
        assert assay_run(capsys, run_dir / "a", base, "--use_cache") == 0
        assert assay_run(capsys, run_dir / "b", base, "--use_cache", "--gen_kwargs", "temperature=0.7") == 0
        assert server.count == 10
        knobs = f"{base},num_concurrent=1,timeout=33,max_attempts=2,rpm=60000,backoff_initial=0.5"
        assert assay_run(capsys, run_dir / "c", knobs, "--use_cache") == 0
        assert assay_run(capsys, run_dir / "d", base, "--use_cache", "--gen_kwargs", "temperature=0.7") == 0
        assert server.count == 10
    assert results_file(run_dir / "c")["results"][TASK]["n_cached"] == 5


def test_provider_body_args_are_in_the_key(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with FaultServer(answer=answer) as server:
        base = f"model=t,base_url={server.base_url}"
        assert assay_run(capsys, run_dir / "a", f"{base},reasoning_effort=low", "--use_cache") == 0
        assert assay_run(capsys, run_dir / "b", f"{base},reasoning_effort=high", "--use_cache") == 0
        assert server.count == 10


def test_errors_and_empty_answers_are_retried_next_run(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with FaultServer(answer=answer) as server:
        args = f"model=t,base_url={server.base_url},num_concurrent=1,max_attempts=2,backoff_initial=0.01"
        server.queue({}, {"status": 400, "body": {"error": {"message": "bad image"}}}, {"empty": True},
                     {"empty": True})
        # 2 of 5 failed: over the default --max_error_rate, so the run fails (exit 1), results written.
        assert assay_run(capsys, run_dir / "a", args, "--use_cache") == 1
        assert server.count == 6  # doc 0, doc 1 (400, not retried), doc 2 (empty twice), docs 3-4
        first_doc = results_file(run_dir / "a")
        assert first_doc["status"] == "failed" and "2 of 5 samples failed" in first_doc["status_reason"]
        first = first_doc["results"][TASK]
        assert first["errors"] == {"bad_request": 1, "empty": 1}
        assert assay_run(capsys, run_dir / "b", args, "--use_cache") == 0
        assert server.count == 8  # only the two failed docs were asked again
    rows = {r["doc_id"]: r for r in samples(run_dir / "b")}
    assert [rows[i]["cached"] for i in range(5)] == [True, False, False, True, True]
    assert all(r["error"] is None for r in rows.values())


def test_the_cache_file_holds_no_secret(run_dir: Path, capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "sk-cache-SECRET-5f3a9c1e7b"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    with FaultServer(answer=answer) as server:
        assert assay_run(capsys, run_dir / "a", f"model=t,base_url={server.base_url}", "--use_cache") == 0
        assert all(secret in h.get("Authorization", "") for h in server.headers)  # the key was really in play
    db = cache_file(run_dir)
    assert db.exists()
    for path in (run_dir / "home").rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path


def test_the_cache_is_off_by_default(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with FaultServer(answer=answer) as server:
        assert assay_run(capsys, run_dir / "a", f"model=t,base_url={server.base_url}") == 0
        assert assay_run(capsys, run_dir / "b", f"model=t,base_url={server.base_url}") == 0
        assert server.count == 10
    home = run_dir / "home"
    assert not home.exists() or not any(home.rglob("*"))
    assert results_file(run_dir / "b")["model_stats"]["cache_hits"] == 0


# -- `assay cache` ------------------------------------------------------------------------------------


def cache_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["cache", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_cache_command_info_path_and_clear(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = cache_file(run_dir)
    code, out, _ = cache_cli(capsys)
    assert code == 0 and "entries: 0" in out and "empty" in out and str(path) in out
    assert not (run_dir / "home").exists()  # looking does not create anything
    assert cache_cli(capsys, "path") == (0, f"{path}\n", "")
    with FaultServer(answer=answer) as server:
        assert assay_run(capsys, run_dir / "a", f"model=m1,base_url={server.base_url}", "--use_cache") == 0
        assert assay_run(capsys, run_dir / "b", f"model=m2,base_url={server.base_url}", "--use_cache",
                         limit=3) == 0
    code, out, _ = cache_cli(capsys, "info")
    assert code == 0 and "entries: 8" in out and "size:" in out and "bytes" in out
    assert "m1" in out and "m2" in out
    expected = f"removed 0 cached responses for model nope from {path}\n"
    assert cache_cli(capsys, "clear", "--model", "nope")[:2] == (0, expected)
    code, out, _ = cache_cli(capsys, "clear", "--model", "m2")
    assert code == 0 and "removed 3 cached responses for model m2" in out
    code, out, _ = cache_cli(capsys, "clear")
    assert code == 0 and "removed 5 cached responses" in out
    assert "entries: 0" in cache_cli(capsys, "info")[1]
    code, _, err = cache_cli(capsys, "info", "--model", "m1")
    assert code == 2 and err.startswith("error:") and "hint:" in err


def test_cache_command_on_a_corrupt_file(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = cache_file(run_dir)
    path.parent.mkdir(parents=True)
    path.write_bytes(os.urandom(4096))
    code, _, err = cache_cli(capsys, "info")
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 2 and "Traceback" not in err
    assert lines[0].startswith("error:") and str(path) in lines[0]
    assert lines[1].startswith("hint:") and "assay cache clear" in lines[1]
    with FaultServer(answer=answer) as server:  # a run with the cache on stops before paying for anything
        code, _, err = run_cli(capsys, "--model", "openai_compatible", "--model_args",
                           f"model=t,base_url={server.base_url}", "--tasks", TASK, "--limit", "2", "--use_cache",
                           "--output_path", str(run_dir / "out"))
        assert code == 2 and server.count == 0 and "hint:" in err and "Traceback" not in err
    code, _, err = cache_cli(capsys, "clear", "--model", "t")
    assert code == 2 and "without --model" in err
    code, out, _ = cache_cli(capsys, "clear")
    assert code == 0 and "removed the unreadable cache file" in out and not path.exists()
    assert "entries: 0" in cache_cli(capsys, "info")[1]
