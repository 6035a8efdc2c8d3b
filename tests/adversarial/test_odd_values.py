"""Adversarial catalog, issue #16 "numbers that are not numbers" and "text that is not text": metric values
that are NaN, ±inf, complex or beyond a float are recorded per sample as what they are, kept out of the
aggregate with a count, and never crash the finish stage; the results file stays strict JSON. An answer with
a lone surrogate is stored losslessly (escaped) in a samples file that stays valid UTF-8, and the cache,
the report and a rerun accept it (the answer is served from the cache, not paid again)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.fault_server import FaultServer
from tests.helpers import question_task, run_cli

ODD = """
def odd(doc, results):
    i = int(doc["q"][1:])
    return {"acc": [1.0, float("nan"), float("inf"), float("-inf"), 10 ** 400, complex(1, 2), 0.0][i]}
"""


def task(root: Path, name: str, n: int, extra: str = "") -> Path:
    return question_task(root, name, n, utils=ODD, metric=f"- metric: {'acc' if extra else 'exact_match'}",
                         extra=extra)


def strict(path: Path) -> Any:
    """The file's JSON, refusing bare NaN/Infinity, from bytes that must be valid UTF-8."""
    def refuse(name: str) -> None:
        raise AssertionError(f"bare {name} in {path.name}")
    return json.loads(path.read_bytes().decode("utf-8"), parse_constant=refuse)


def test_metric_values_that_are_not_numbers_are_recorded_excluded_and_counted(
        run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = task(run_dir, "odd", 7, extra="process_results: !function utils.odd")
    with FaultServer(answer=lambda body: "A") as server:
        code, _, err = run_cli(capsys, "--model", "openai_compatible", "--model_args",
                               f"model=m,base_url={server.base_url}", "--tasks", "odd", "--include_path", str(folder),
                               "--log_samples", "--output_path", "out", "--bootstrap_iters", "50")
    assert code == 0 and "Traceback" not in err, err
    results = strict(next((run_dir / "out").rglob("*_results.json")))
    entry = results["results"]["odd"]["metrics"]["acc"]
    assert entry["value"] == 0.5 and entry["n"] == 2  # the mean of 1.0 and 0.0 only
    assert entry["n_not_numbers"] == 5
    assert entry["not_numbers"] == {"nan": 1, "inf": 1, "-inf": 1, "huge": 1, "complex": 1}
    rows = [strict_line(line) for line in next((run_dir / "out").rglob("*_samples_*.jsonl")).read_bytes().splitlines()]
    by_id = {r["doc_id"]: r["metrics"]["acc"] for r in rows}
    assert by_id == {0: 1.0, 1: "NaN", 2: "Infinity", 3: "-Infinity", 4: str(10 ** 400), 5: "(1+2j)", 6: 0.0}
    from assay.cli import main

    assert main(["report", str(next((run_dir / "out").rglob("*_results.json"))), "-o", "r.html"]) == 0


def strict_line(line: bytes) -> Any:
    def refuse(name: str) -> None:
        raise AssertionError(f"bare {name}")
    return json.loads(line.decode("utf-8"), parse_constant=refuse)


def test_an_answer_with_a_lone_surrogate_is_kept_cached_and_reported(
        run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = task(run_dir, "lone", 3)
    answer = "A \ud800 B \udfff"
    args = ["--tasks", "lone", "--include_path", str(folder), "--log_samples", "--output_path", "out",
            "--use_cache", str(run_dir / "cache"), "--max_error_rate", "1"]
    with FaultServer(answer=lambda body: answer) as server:
        model_args = f"model=m,base_url={server.base_url}"
        code, _, err = run_cli(capsys, "--model", "openai_compatible", "--model_args", model_args, *args)
        assert code == 0 and "Traceback" not in err, err
        first = server.count
        code, _, err = run_cli(capsys, "--model", "openai_compatible", "--model_args", model_args, *args)
        assert code == 0 and server.count == first == 3, "the cached answers were paid for again"
    results = sorted((run_dir / "out").rglob("*_results.json"))
    samples = sorted((run_dir / "out").rglob("*_samples_*.jsonl"))
    assert len(results) == len(samples) == 2
    for path in samples:
        rows = [strict_line(line) for line in path.read_bytes().splitlines()]
        assert [r["resps"] for r in rows] == [[[answer]]] * 3  # lossless: the very string came back
        assert all(r["error"] is None for r in rows)
    cached = {tuple(strict_line(x)["cached"] for x in path.read_bytes().splitlines()) for path in samples}
    assert cached == {(False,) * 3, (True,) * 3}  # the rerun (same second: names sort either way) paid nothing
    from assay.cli import main

    for n, path in enumerate(results):
        assert main(["report", str(path), "-o", f"r{n}.html"]) == 0
        assert Path(f"r{n}.html").read_bytes().decode("utf-8")
