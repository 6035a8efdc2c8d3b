"""The report's data and file (no browser here; see test_report_browser.py), and `assay report`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from assay.cli import main
from assay.env.redaction import Redactor
from assay.report import write_report
from assay.report.data import build
from assay.sinks.rundir import find_run, load_run
from tests.sinks_support import answer_b, make_run


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("report-runs")
    return make_run(root / "a"), make_run(root / "b", answer=answer_b)


def _samples(results_path: Path) -> dict[tuple[str, int], dict[str, Any]]:
    run = load_run(results_path)
    return {(t, r["doc_id"]): r for t in run.samples for r in run.iter_samples(t)}


def test_one_run_shows_every_sample_with_its_outcome_and_thumbnails(two_runs: tuple[Path, Path],
                                                                     tmp_path: Path) -> None:
    first = two_runs[0]
    data = build([load_run(first)], tmp_path)
    samples = _samples(first)
    assert len(data["items"]) == len(samples) == 12
    tasks = [t["name"] for t in data["tasks"]]
    assert tasks == ["assay_arith_mc", "assay_colors"]
    assert data["tasks"][0]["primary"] == "mc_accuracy"
    for item in data["items"]:
        record = samples[(tasks[item["t"]], item["d"])]
        primary = data["tasks"][item["t"]]["primary"]
        expected = "correct" if record["metrics"][primary] == 1 else "wrong"
        assert item["r"][0]["s"] == expected
        assert item["r"][0]["a"] == record["filtered_resps"][0]
        if tasks[item["t"]] == "assay_colors":  # thumbnails, referenced relative to the report, that exist
            assert len(item["i"]) == 1
            assert (tmp_path / item["i"][0][0]).resolve().is_file()
        else:
            assert item["i"] == []


def test_runs_are_joined_on_task_and_doc(two_runs: tuple[Path, Path], tmp_path: Path) -> None:
    data = build([load_run(p) for p in two_runs], tmp_path)
    a, b = (_samples(p) for p in two_runs)
    assert len(data["items"]) == 12
    names = [t["name"] for t in data["tasks"]]
    for item in data["items"]:
        key = (names[item["t"]], item["d"])
        assert [r["a"] for r in item["r"]] == [a[key]["filtered_resps"][0], b[key]["filtered_resps"][0]]


def test_a_missing_thumbnail_is_not_referenced(two_runs: tuple[Path, Path], tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(two_runs[0].parent, copy)
    for thumb in list(copy.glob("*_media/*.jpg"))[:1]:
        thumb.unlink()
    data = build([load_run(copy / two_runs[0].name)], tmp_path)
    referenced = [m[0] for item in data["items"] for m in item["i"]]
    assert len(referenced) == 5 and all((tmp_path / r).resolve().is_file() for r in referenced)


def test_the_file_embeds_data_safely_and_redacts(tmp_path: Path) -> None:
    out = tmp_path / "o"
    secret = "sk-report-secret-0123456789abcdef"
    hostile = "</script><script>document.title='pwned'</script>"
    first = make_run(out, answer=lambda body: f"{hostile} {secret}", limit=2, tasks="assay_arith_mc",
                     log_media=False)
    redactor = Redactor()
    redactor.add(secret, "OPENAI_API_KEY")
    path = write_report([load_run(first)], redactor=redactor)
    text = path.read_text()
    assert path == first.parent / f"{first.name[:-13]}_report.html"
    assert secret not in text
    assert text.count("</script>") == 2  # the data block's end and the script's: nothing from the data
    assert "\\u003c/script>" in text
    assert "http://" not in text.split("<script id=\"assay-data\"")[0]  # no CDN: nothing fetched


def test_assay_report_cli_single_and_comparison(two_runs: tuple[Path, Path], cli_env: dict[str, str],
                                                tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, b = two_runs
    assert main(["report", str(a.parent.parent)]) == 0
    assert f"report: {a.parent / a.name[:-13]}_report.html" in capsys.readouterr().out
    out = tmp_path / "cmp.html"
    assert main(["report", str(a), str(b), "-o", str(out), "--title", "A vs B"]) == 0
    page = out.read_text()
    assert "<title>A vs B</title>" in page
    payload = json.loads(page.split('type="application/json">')[1].split("</script>")[0])
    assert [r["run_id"] for r in payload["runs"]] == [a.name[:-13], b.name[:-13]]


@pytest.mark.parametrize(("argv", "needle"), [
    (["report", "{a}", "{a}"], "the same run is given twice"),
    (["report", "{a}", "--run", "x", "--run", "y"], "2 --run ids for 1 RUN"),
    (["report", "{missing}"], "does not exist"),
])
def test_assay_report_bad_input(two_runs: tuple[Path, Path], cli_env: dict[str, str], tmp_path: Path,
                                capsys: pytest.CaptureFixture[str], argv: list[str], needle: str) -> None:
    values = {"a": str(two_runs[0]), "missing": str(tmp_path / "nope")}
    assert main([part.format(**values) for part in argv]) == 2
    err = capsys.readouterr().err
    assert needle in err and "hint:" in err


def test_old_style_run_names_are_read(two_runs: tuple[Path, Path], tmp_path: Path) -> None:
    """Runs written before the results document listed its files: `{ts}_results.json`, `{ts}_samples_{task}`."""
    first = two_runs[0]
    old = tmp_path / "logs" / "m"
    old.mkdir(parents=True)
    doc = json.loads(first.read_text())
    samples = doc.pop("files")["samples"]
    (old / "20240101_101010_results.json").write_text(json.dumps(doc))
    for task, name in samples.items():
        text = (first.parent / name).read_text()
        (old / f"20240101_101010_samples_{task}.jsonl").write_text(text + '{"torn": ')  # a cut-off last line
    run = find_run(tmp_path / "logs")
    assert run.run_id == "20240101_101010"
    assert sorted(run.samples) == ["assay_arith_mc", "assay_colors"]
    assert sum(1 for _ in run.iter_samples("assay_colors")) == 6


def test_judge_text_and_counts_are_read_from_assay_judge_records() -> None:
    from assay.report.data import _judge_counts
    from assay.sinks import view

    record = {"judge": {"status": "failed", "reason": "parse_failed", "detail": "no score in the answer",
                        "judgements": [{"ok": False, "reason": "parse_failed", "detail": "no number",
                                        "raw": "I think it is fine"},
                                       {"ok": True, "raw": "Score: 4", "value": 4}]}}
    text = view.judge_text(record)
    assert text.startswith("[judge failed: parse_failed] no score in the answer")
    assert "[parse_failed] no number I think it is fine" in text and "Score: 4" in text
    counts = _judge_counts({"n_judged": 9, "n_judge_failed": 1, "judge_failed": {"parse_failed": 1},
                            "judge_failure_rate": 0.1})
    assert counts == {"judged": 9, "failed": 1, "failed (parse_failed)": 1, "failure rate": 0.1}
    assert _judge_counts({"n_scored": 3}) == {}


def test_a_judged_run_shows_the_judges_words_and_counts(run_dir: Path, capsys: pytest.CaptureFixture[str],
                                                         tmp_path: Path) -> None:
    from tests.fault_server import FaultServer

    def judge(body: dict[str, Any]) -> str:
        return json.dumps({"pred": "yes", "score": 5})

    with FaultServer(lambda body: "It moves from left to right.") as model, FaultServer(judge) as judge_server:
        code = main(["run", "--model", "openai_compatible", "--model_args", f"model=m,base_url={model.base_url}",
                     "--tasks", "assay_video_qa", "--limit", "3", "--log_samples", "--log_media", "--report",
                     "--output_path", str(run_dir / "out"), "--judge_model", "openai_compatible",
                     "--judge_args", f"model=j,base_url={judge_server.base_url},max_retries=1,backoff_initial=0.01"])
    out = capsys.readouterr().out
    assert code == 0
    results = next((run_dir / "out").rglob("*_results.json"))
    data = build([load_run(results)], tmp_path)
    (task,) = data["tasks"]
    assert task["per_run"][0]["judge"]["judged"] == 3
    judged = [item["r"][0]["j"] for item in data["items"]]
    assert all(j and '"pred": "yes"' in j for j in judged)
    assert all(m[1] == "video_frame" for item in data["items"] for m in item["i"]) and data["items"][0]["i"]
    assert "report: " in out
