"""Bounded reads of task data: one JSONL line over the limit (ASSAY_MAX_LINE_MB) is an error naming the
file and line, read no further than the limit; `--limit N` reads no further than the N docs it needs;
FIFOs and devices are refused by what they are, never reported as "not found" (nor read forever)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.adversarial.local_tasks import jsonl_task
from tests.fault_server import FaultServer
from tests.helpers import results_file, run_cli

MB = 1024 * 1024


@pytest.fixture
def model() -> Iterator[FaultServer]:
    with FaultServer(lambda body: "4") as server:
        yield server


def _task(folder: Path, data: Path) -> Path:
    return jsonl_task(folder, "bounded", "", """\
        output_type: generate_until
        doc_to_text: "{{q}}"
        doc_to_target: "a"
        metric_list:
          - metric: exact_match
        """, data=data)


def _run(capsys: pytest.CaptureFixture[str], folder: Path, model: FaultServer, out: Path,
         *extra: str) -> tuple[int, str]:
    code, _, err = run_cli(capsys, "--model", "openai_compatible", "--model_args",
                           f"model=m,base_url={model.base_url}", "--tasks", "bounded", "--include_path", str(folder),
                           "--output_path", str(out), "--log_samples", *extra)
    return code, err


def _docs(path: Path, n: int, *, huge_at: int | None = None, size: int = 0) -> Path:
    with path.open("w") as handle:
        for i in range(n):
            doc = {"q": f"2+2 ({i})", "a": "4"}
            if i == huge_at:
                doc["pad"] = "x" * size
            handle.write(json.dumps(doc) + "\n")
    return path


def test_a_line_over_the_limit_names_file_and_line(run_dir: Path, capsys: pytest.CaptureFixture[str],
                                                   model: FaultServer, monkeypatch: pytest.MonkeyPatch) -> None:
    data = _docs(run_dir / "docs.jsonl", 4, huge_at=2, size=3 * MB)
    monkeypatch.setenv("ASSAY_MAX_LINE_MB", "1")
    code, err = _run(capsys, _task(run_dir / "t", data), model, run_dir / "out")
    assert code != 0 and f"{data}:3: line longer than 1,048,576 bytes" in err
    assert "ASSAY_MAX_LINE_MB" in err and "Traceback" not in err and "task code" not in err
    assert model.count == 0  # refused before the first request


def test_limit_reads_no_further_than_it_needs(run_dir: Path, capsys: pytest.CaptureFixture[str],
                                              model: FaultServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The line after the two docs --limit 2 takes is over the limit (and a broken one follows): never read."""
    data = _docs(run_dir / "docs.jsonl", 3, huge_at=2, size=3 * MB)
    with data.open("a") as handle:
        handle.write("{not json\n")
    monkeypatch.setenv("ASSAY_MAX_LINE_MB", "1")
    folder = _task(run_dir / "t", data)
    code, err = _run(capsys, folder, model, run_dir / "out", "--limit", "2")
    assert code == 0, err
    assert results_file(run_dir / "out")["n_samples"]["bounded"] == 2
    code, err = _run(capsys, folder, model, run_dir / "all")  # without --limit every line is checked
    assert code != 0 and ":3: line longer than" in err


def test_a_fifo_is_refused_as_a_fifo(run_dir: Path, capsys: pytest.CaptureFixture[str], model: FaultServer) -> None:
    fifo = run_dir / "docs.jsonl"
    os.mkfifo(fifo)  # no writer: opening it would block forever
    code, err = _run(capsys, _task(run_dir / "t", fifo), model, run_dir / "out")
    assert code != 0 and "is a FIFO (named pipe), not a regular file" in err
    assert "not found" not in err and "does not exist" not in err


def test_a_device_is_refused_as_a_device(run_dir: Path, capsys: pytest.CaptureFixture[str],
                                         model: FaultServer) -> None:
    link = run_dir / "zero.jsonl"
    link.symlink_to("/dev/zero")  # endless NUL bytes
    code, err = _run(capsys, _task(run_dir / "t", link), model, run_dir / "out")
    assert code != 0 and "is a character device, not a regular file" in err
    assert "not found" not in err


def test_the_disk_full_rescue_writes_the_status_the_run_ended_with(
        run_dir: Path, capsys: pytest.CaptureFixture[str], model: FaultServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The final write fails (disk full): the run exits 1, so the rescued document must not say `complete`."""
    import errno

    from assay.sinks.files import FileSink

    def full_disk(self: FileSink, results: dict[str, object]) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(FileSink, "finish", full_disk)
    code, err = _run(capsys, _task(run_dir / "t", _docs(run_dir / "docs.jsonl", 3)), model, run_dir / "out")
    assert code == 1 and "Traceback" not in err
    rescued = list((run_dir / "home" / "rescued").glob("*_results.json"))
    assert len(rescued) == 1
    document = json.loads(rescued[0].read_text())
    assert document["status"] == "aborted" and "No space left on device" in document["status_reason"]
