"""The files sink: run ids unique beyond the second, files created exclusively, one samples file per task
whatever the names sanitize to, whole lines only, and a results document listing its files."""

from __future__ import annotations

import errno
import json
import math
import re
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assay.errors import ConfigError, OutputError
from assay.sinks import files as files_mod
from assay.sinks.files import FileSink, file_names, new_run_id, to_json
from tests.fault_server import FaultServer

RUN_ID = re.compile(r"^\d{8}_\d{6}_[0-9a-f]{6}$")


def sink(tmp_path: Path, *, log_samples: bool = True, timestamp: str = "20250101_000000") -> FileSink:
    return FileSink(tmp_path / "out", "org/model", timestamp, log_samples=log_samples, redact=lambda s: s)


def test_run_ids_are_unique_within_one_second() -> None:
    ids = {new_run_id("20250101_000000") for _ in range(200)}
    assert len(ids) == 200 and all(RUN_ID.match(i) for i in ids)
    assert RUN_ID.match(new_run_id())


def test_names_that_sanitize_alike_get_distinct_files() -> None:
    tasks = ["数学", "物理", "mme", "MME", "a/b", "a__b", "x" * 300, "plain_task-1.0"]
    names = file_names(tasks)
    assert len({n.lower() for n in names.values()}) == len(tasks)
    assert names["plain_task-1.0"] == "plain_task-1.0"  # safe names are kept as they are
    assert names["数学"] != "model" and len(names["x" * 300]) < 120
    assert file_names(["数学"]) == {"数学": names["数学"]}  # stable: the same name every run


def test_two_sinks_in_the_same_second_keep_everything(tmp_path: Path) -> None:
    a, b = sink(tmp_path), sink(tmp_path)
    for s in (a, b):
        s.start({"model": "m"}, ["数学", "物理"])
    assert a.run_id != b.run_id and a.results_path.is_file() and b.results_path.is_file()
    for s, tag in ((a, "a"), (b, "b")):
        for task in ("数学", "物理"):
            s.sample(task, {"task": task, "by": tag})
        s.finish({"status": "complete"})
    for s, tag in ((a, "a"), (b, "b")):
        doc = json.loads(s.results_path.read_text())
        assert doc["status"] == "complete" and doc["run_id"] == s.run_id
        assert set(doc["files"]["samples"]) == {"数学", "物理"}
        for task, name in doc["files"]["samples"].items():
            rows = [json.loads(line) for line in (s.folder / name).read_text().splitlines()]
            assert rows == [{"task": task, "by": tag}]
    assert len(list((tmp_path / "out").rglob("*.jsonl"))) == 4


def test_a_taken_name_is_never_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = sink(tmp_path)
    first.start({}, ["t"])
    ids = iter([first.run_id, first.run_id, "20250101_000000_abcdef"])
    monkeypatch.setattr(files_mod, "new_run_id", lambda timestamp=None: next(ids))
    second = FileSink(tmp_path / "out", "org/model", "20250101_000000", log_samples=True, redact=lambda s: s)
    second.start({}, ["t"])
    assert second.run_id == "20250101_000000_abcdef"
    assert json.loads(first.results_path.read_text())["status"] == "running"  # untouched


def test_the_results_document_exists_from_the_start(tmp_path: Path) -> None:
    s = sink(tmp_path, log_samples=False)
    s.start({"model": "m", "tasks": ["t"]}, ["t"])
    doc = json.loads(s.results_path.read_text())
    assert doc["status"] == "running" and doc["files"] == {"results": s.results_path.name, "samples": {}}
    assert [p.name for p in s.folder.iterdir()] == [s.results_path.name]  # no temporary file left


def test_a_failed_write_leaves_only_whole_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    s = sink(tmp_path)
    s.start({}, ["t"])
    s.sample("t", {"n": 1})
    real_write = files_mod.os.write

    def half_then_full_disk(fd: int, data: Any) -> int:
        if len(data) > 10:
            return real_write(fd, bytes(data[: len(data) // 2]))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files_mod.os, "write", half_then_full_disk)
    with pytest.raises(OutputError, match="1 lines so far are kept") as info:
        s.sample("t", {"n": 2, "pad": "x" * 100})
    assert info.value.path == s.sample_paths["t"]
    monkeypatch.undo()
    lines = s.sample_paths["t"].read_text().splitlines()
    assert [json.loads(line) for line in lines] == [{"n": 1}]


def test_an_unwritable_folder_fails_at_start(tmp_path: Path) -> None:
    (tmp_path / "out").write_text("a file, not a folder")
    with pytest.raises(ConfigError, match="cannot write to --output_path"):
        sink(tmp_path).start({}, ["t"])


def test_values_are_redacted_before_serialization(tmp_path: Path) -> None:
    secret = 'ab"c\\d\te-secret'
    s = FileSink(tmp_path, "m", log_samples=True, redact=lambda text: text.replace(secret, "<redacted>"))
    s.start({}, ["t"])
    s.sample("t", {"answer": f"echo {secret}", secret: 1})
    s.finish({"config": {"note": secret}})
    for path in (p for p in tmp_path.rglob("*") if p.is_file()):
        raw = path.read_text()
        assert secret not in raw and json.dumps(secret)[1:-1] not in raw
        assert "<redacted>" in raw


def test_concurrent_runs_into_one_folder_each_keep_everything(run_dir: Path) -> None:
    """Two real runs of the same task into the same folder, started together (same second)."""
    import assay

    out = run_dir / "logs"
    results: list[Any] = []
    with FaultServer(answer=lambda body: "A") as server:

        def one() -> None:
            results.append(assay.evaluate("openai_compatible", "assay_arith_mc", limit=20, log_samples=True,
                                          model_args={"model": "m", "base_url": server.base_url},
                                          output_path=out))

        threads = [threading.Thread(target=one) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    assert len(results) == 2
    docs = [json.loads(p.read_text()) for p in out.rglob("*_results.json")]
    assert len(docs) == 2 and docs[0]["run_id"] != docs[1]["run_id"]
    for doc in docs:
        name = doc["files"]["samples"]["assay_arith_mc"]
        rows = [json.loads(line) for line in (out / "m" / name).read_text().splitlines()]
        assert sorted(r["doc_id"] for r in rows) == list(range(20))


def test_held_lines_are_written_together_when_the_scheduled_write_runs(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    s = sink(tmp_path)
    s.start({}, ["t"])
    scheduled: list[Any] = []
    errors: list[Exception] = []
    s.hold_writes(scheduled.append, errors.append)
    writes: list[int] = []
    real_write = files_mod.os.write

    def counted(fd: int, data: Any) -> int:
        writes.append(len(data))
        return real_write(fd, data)

    monkeypatch.setattr(files_mod.os, "write", counted)
    for n in range(3):
        s.sample("t", {"n": n})
    assert len(scheduled) == 1 and s.writes_pending and s.sample_paths["t"].read_text() == ""
    scheduled.pop()()
    assert len(writes) == 1 and not s.writes_pending and not errors
    s.sample("t", {"n": 3})
    s.release_writes()  # the stage's end: what is held is written, and later samples go straight to disk
    s.sample("t", {"n": 4})
    assert [json.loads(x)["n"] for x in s.sample_paths["t"].read_text().splitlines()] == [0, 1, 2, 3, 4]


def test_a_held_batch_that_does_not_fit_keeps_every_line_that_does(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    s = sink(tmp_path)
    s.start({}, ["t"])
    scheduled: list[Any] = []
    errors: list[Exception] = []
    s.hold_writes(scheduled.append, errors.append)
    room = [25]  # bytes left on the "disk"
    real_write = files_mod.os.write

    def small_disk(fd: int, data: Any) -> int:
        if len(data) > room[0]:
            raise OSError(errno.EFBIG, "File too large")
        room[0] -= len(data)
        return real_write(fd, data)

    monkeypatch.setattr(files_mod.os, "write", small_disk)
    for n in range(3):
        s.sample("t", {"n": n})  # 9 bytes a line: two fit
    scheduled.pop()()
    assert len(errors) == 1 and isinstance(errors[0], OutputError) and "2 lines so far are kept" in str(errors[0])
    assert [json.loads(x) for x in s.sample_paths["t"].read_text().splitlines()] == [{"n": 0}, {"n": 1}]


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
              st.text(alphabet=st.characters(blacklist_categories=("Cs",)))),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.tuples(inner, inner),
                            st.dictionaries(st.text(max_size=5), inner, max_size=4)), max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_a_line_is_what_json_dumps_writes(value: Any) -> None:
    """to_json keeps one C encoder for every line; what it writes is json.dumps's text, byte for byte."""
    assert to_json(value) == json.dumps(value, ensure_ascii=False, allow_nan=False)


def test_a_float_that_is_not_a_number_still_raises() -> None:
    for value in (math.nan, {"x": [math.inf]}, [-math.inf]):
        with pytest.raises(ValueError):
            to_json(value)
