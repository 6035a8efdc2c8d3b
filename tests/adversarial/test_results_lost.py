"""Adversarial catalog, "results lost or overwritten" (issue #7, classes 1, 2, 5; signals, 3 and 4, are in
test_signals.py): an output that cannot be written stops the paying and says what is where; runs and tasks
never share a file."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fault_server import FaultServer
from tests.helpers import run_cli, write

TASK = "assay_arith_mc"


def clean_env(tmp_path: Path) -> dict[str, str]:
    from assay.env.settings import SPECS

    names = {n for spec in SPECS for n in spec.env_names}
    env = {k: v for k, v in os.environ.items() if k not in names}
    env.update(HOME=str(tmp_path), LMMS_EVAL_HOME=str(tmp_path / "home"))
    return env


def assay(tmp_path: Path, *args: str, limit_file_bytes: int | None = None) -> subprocess.Popen[str]:
    def limits() -> None:  # a real "disk full" for this process only: writes past the size fail (EFBIG)
        if limit_file_bytes is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_file_bytes, limit_file_bytes))

    return subprocess.Popen([sys.executable, "-m", "assay", "run", *args], cwd=tmp_path, env=clean_env(tmp_path),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=limits)


def whole_lines(path: Path) -> list[dict[str, object]]:
    data = path.read_bytes()
    assert not data or data.endswith(b"\n"), f"{path} ends in a torn line"
    return [json.loads(line) for line in data.decode().splitlines()]


# -- 1: an output that cannot be written ---------------------------------------------------------------------


def test_c01_an_unwritable_output_folder_costs_nothing(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (run_dir / "blocked").write_text("a file where the output folder goes")
    with FaultServer(answer=lambda body: "A") as server:
        code, out, err = run_cli(capsys, "--model", "openai_compatible", "--model_args",
                                 f"model=m,base_url={server.base_url}", "--tasks", TASK, "--limit", "5",
                                 "--output_path", str(run_dir / "blocked" / "logs"))
        assert server.count == 0
    assert code == 2 and "cannot write to --output_path" in err and "results:" not in out


def test_c01_a_disk_that_fills_mid_run_stops_paying_and_says_what_is_where(tmp_path: Path) -> None:
    with FaultServer(answer=lambda body: "A " + "x" * 400) as server:
        proc = assay(tmp_path, "--model", "openai_compatible", "--model_args",
                     f"model=m,base_url={server.base_url},num_concurrent=2", "--tasks", TASK, "--limit", "200",
                     "--log_samples", "--output_path", "out", limit_file_bytes=40_000)
        _, err = proc.communicate(timeout=120)
        paid = server.count
    assert proc.returncode == 1, err
    assert "Traceback" not in err and "File too large" in err
    samples_file = next((tmp_path / "out").rglob("*_samples_*.jsonl"))
    kept = whole_lines(samples_file)  # no torn line at the point of failure
    assert 0 < len(kept) < 200 and paid <= len(kept) + 3  # at most the requests in flight were lost
    assert str(samples_file) in err
    where = [Path(word.rstrip(";,")) for word in err.split() if word.rstrip(";,").endswith("_results.json")]
    assert where and all(p.is_file() for p in where)  # the results path the error names exists
    doc = json.loads(where[0].read_text())
    # Scored samples whose line could not be written (the failing write, and one in flight) still count.
    assert doc["status"] == "aborted" and len(kept) <= doc["results"][TASK]["n_completed"] <= len(kept) + 2


# -- 2: two runs at once into one folder -----------------------------------------------------------------------


def test_c02_two_runs_started_together_into_one_folder_each_keep_everything(tmp_path: Path) -> None:
    with FaultServer(answer=lambda body: "A") as server:
        args = ("--model", "openai_compatible", "--model_args", f"model=m,base_url={server.base_url}",
                "--tasks", TASK, "--limit", "40", "--log_samples", "--output_path", "out")
        procs = [assay(tmp_path, *args) for _ in range(2)]
        for proc in procs:
            assert proc.wait(timeout=120) == 0, proc.communicate()[1]
    results = sorted((tmp_path / "out").rglob("*_results.json"))
    assert len(results) == 2
    for path in results:
        doc = json.loads(path.read_text())
        rows = whole_lines(path.parent / doc["files"]["samples"][TASK])
        assert sorted(r["doc_id"] for r in rows) == list(range(40))  # every sample, none of the other run's
    assert len(list((tmp_path / "out").rglob("*.jsonl"))) == 2


# -- 5: two tasks whose names sanitize alike ---------------------------------------------------------------


def test_c05_tasks_whose_names_sanitize_alike_keep_separate_samples(run_dir: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    folder = run_dir / "tasks"
    for name, question in (("数学", "math"), ("物理", "physics"), ("a/b", "slash"), ("a__b", "underscores")):
        safe = f"t{abs(hash(name))}"
        write(folder, f"{safe}.jsonl", "\n".join(json.dumps({"q": f"{question} {i}", "a": "A"}) for i in range(3)))
        write(folder, f"{safe}.yaml", f"""
            task: "{name}"
            dataset_path: json
            dataset_kwargs:
              data_files:
                test: {safe}.jsonl
            doc_to_text: q
            doc_to_target: a
            """)
    with FaultServer(answer=lambda body: "A") as server:
        code, _, err = run_cli(capsys, "--model", "openai_compatible", "--model_args",
                               f"model=m,base_url={server.base_url}", "--tasks", "数学,物理,a/b,a__b",
                               "--include_path", str(folder), "--log_samples", "--output_path", "out")
    assert code == 0, err
    doc = json.loads(next((run_dir / "out").rglob("*_results.json")).read_text())
    files = doc["files"]["samples"]
    assert len(set(files.values())) == 4
    for task, name in files.items():
        rows = whole_lines(next((run_dir / "out").rglob(name)))
        assert len(rows) == 3 and {r["task"] for r in rows} == {task}
