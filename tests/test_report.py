"""The report's data and files (no browser here; see test_report_browser.py), and `assay report`: runs read
through the results schema, per-sample scores, thumbnails embedded, read-only toward runs, report folders."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from assay.cli import main
from assay.env.redaction import Redactor
from assay.report import write_report
from assay.report.data import _judge_counts, run_payload
from assay.report.media import MediaTable
from assay.sinks.rundir import find_run, load_run
from tests.report_support import metric, record, write_run
from tests.sinks_support import answer_b, make_run


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("report-runs")
    return make_run(root / "a"), make_run(root / "b", answer=answer_b)


def _samples(results_path: Path) -> dict[tuple[str, int], dict[str, Any]]:
    run = load_run(results_path)
    return {(t, r["doc_id"]): dict(r) for t in run.samples for r in run.iter_samples(t)}


def _embedded(page: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(page.split('type="application/json">')[1].split("</script>")[0])
    return data


def test_one_run_shows_every_sample_with_its_outcome_scores_and_embedded_thumbnails(
        two_runs: tuple[Path, Path]) -> None:
    first = two_runs[0]
    media = MediaTable()
    data = run_payload(load_run(first), media)
    samples = _samples(first)
    assert len(data["items"]) == len(samples) == 12
    tasks = [t["name"] for t in data["tasks"]]
    assert tasks == ["assay_arith_mc", "assay_colors"]
    assert data["tasks"][0]["primary"] == "mc_accuracy"
    for item in data["items"]:
        rec = samples[(tasks[item["t"]], item["d"])]
        primary = data["tasks"][item["t"]]["primary"]
        assert item["s"] == ("correct" if rec["metrics"][primary] == 1 else "wrong")
        assert item["a"] == rec["filtered_resps"][0]
        assert item["m"] == {k: float(v) for k, v in rec["metrics"].items()}  # its own scores, every metric
        if tasks[item["t"]] == "assay_colors":  # the thumbnail itself, embedded: the report needs no other file
            ((key, kind, _),) = item["i"]
            thumb = (first.parent / rec["media"][0]["path"]).read_bytes()
            assert kind == "image" and media.table[key] == "data:image/jpeg;base64," + base64.b64encode(thumb).decode()
        else:
            assert item["i"] == []
    assert data["tasks"][1]["logged"] == 6 and data["run"]["logged"] == 12


def test_a_missing_thumbnail_is_left_out_and_the_budget_is_kept(two_runs: tuple[Path, Path], tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(two_runs[0].parent, copy)
    thumbs = sorted(copy.glob("*_media/*.jpg"))
    thumbs[0].unlink()
    data = run_payload(load_run(copy / two_runs[0].name), MediaTable())
    assert sum(len(item["i"]) for item in data["items"]) == 5
    # A budget that holds two thumbnails: two embedded, the others counted as left out, never broken.
    sizes = sorted(p.stat().st_size for p in thumbs[1:])
    small = MediaTable(budget=sizes[0] + sizes[1])
    data = run_payload(load_run(copy / two_runs[0].name), small)
    assert len(small.table) <= 2 and small.used <= small.budget
    assert sum(item.get("x", 0) for item in data["items"]) == 5 - len(small.table)


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


def test_assay_report_cli_single_comparison_and_folder(two_runs: tuple[Path, Path], cli_env: dict[str, str],
                                                       tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, b = two_runs
    assert main(["report", str(a)]) == 0
    assert f"report: {a.parent / a.name[:-13]}_report.html" in capsys.readouterr().out
    out = tmp_path / "cmp.html"
    assert main(["report", str(a), str(b), "-o", str(out), "--title", "A vs B"]) == 0
    page = out.read_text()
    assert "<title>A vs B</title>" in page
    assert [r["run"]["run_id"] for r in _embedded(page)["runs"]] == [a.name[:-13], b.name[:-13]]
    # A folder: an index of its runs, written as a report folder inside it.
    logs = a.parent.parent
    assert main(["report", str(logs)]) == 0
    assert f"report: {logs / 'assay_report' / 'index.html'} (1 runs)" in capsys.readouterr().out
    rows = _embedded((logs / "assay_report" / "index.html").read_text())["rows"]
    assert [r["run_id"] for r in rows] == [a.name[:-13]]
    assert (logs / "assay_report" / "data" / "r0.js").read_text().startswith("assayRunLoaded({")
    # --run still picks one run of a folder.
    assert main(["report", str(logs), "--run", a.name[:-13], "-o", str(tmp_path / "one.html")]) == 0


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


def test_judge_text_verdicts_and_counts_are_read_from_assay_judge_records() -> None:
    from assay.sinks import view

    rec = {"judge": {"status": "failed", "reason": "parse_failed", "detail": "no score in the answer",
                     "judgements": [{"ok": False, "reason": "parse_failed", "detail": "no number",
                                     "raw": "I think it is fine"},
                                    {"ok": True, "raw": "Score: 4", "value": 4},
                                    {"ok": True, "raw": "{}", "value": {"pred": "yes", "score": 2}}]}}
    text = view.judge_text(rec)
    assert text.startswith("[judge failed: parse_failed] no score in the answer")
    assert "[parse_failed] no number I think it is fine" in text and "Score: 4" in text
    assert view.judge_values(rec) == [4, 2.0]
    counts = _judge_counts({"n_judged": 9, "n_judge_failed": 1, "judge_failed": {"parse_failed": 1},
                            "judge_failure_rate": 0.1})
    assert counts == {"judged": 9, "failed": 1, "failed (parse_failed)": 1, "failure rate": 0.1}
    assert _judge_counts({"n_scored": 3}) == {}


def test_mme_style_dict_scores_show_per_sample_and_agree_with_the_task_count(tmp_path: Path) -> None:
    """MME's process_results returns ``{metric: {"question_id", "category", "score"}}``, one metric per doc:
    each sample shows its score, and the samples scored on a metric are as many as the metric's n."""
    recs = [record("mme", i, "Yes", {("mme_cognition_score" if i < 4 else "mme_perception_score"):
                                         {"question_id": f"q{i}", "category": "code", "score": float(i % 2)}})
            for i in range(10)]
    path = write_run(tmp_path, "m", {"mme": {"metrics": {"mme_cognition_score": metric(50.0, 4),
                                                         "mme_perception_score": metric(66.7, 6)}}}, recs)
    data = run_payload(load_run(path), MediaTable())
    scored = [item for item in data["items"] if "mme_cognition_score" in item.get("m", {})]
    assert len(scored) == data["tasks"][0]["result"]["metrics"]["mme_cognition_score"]["n"] == 4
    assert [item["m"]["mme_cognition_score"] for item in scored] == [0.0, 1.0, 0.0, 1.0]
    assert [item["s"] for item in scored] == ["wrong", "correct", "wrong", "correct"]
    assert [item["s"] for item in data["items"][4:]] == ["wrong", "correct"] * 3  # scored on the other metric


def test_a_judged_run_shows_the_judges_words_verdicts_and_counts(run_dir: Path, capsys: pytest.CaptureFixture[str]
                                                                  ) -> None:
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
    data = run_payload(load_run(results), MediaTable())
    (task,) = data["tasks"]
    assert task["result"]["judge"]["judged"] == 3
    assert all(item["j"] and '"pred": "yes"' in item["j"] for item in data["items"])
    assert all(item["v"] == [5.0] for item in data["items"])  # the verdict's score, for the distribution
    assert all(m[1] == "video_frame" for item in data["items"] for m in item["i"]) and data["items"][0]["i"]
    assert [(j["model"], j["provider"]) for j in data["run"]["judges"]] == [("j", "openai_compatible")]
    assert "report: " in out


def test_embedded_thumbnails_are_kept_whole_even_where_their_base64_looks_like_a_secret(
        two_runs: tuple[Path, Path], tmp_path: Path) -> None:
    run = load_run(two_runs[0])
    assert run.media_dir is not None
    thumb = sorted(run.media_dir.iterdir())[0]
    encoded = base64.b64encode(thumb.read_bytes()).decode()
    redactor = Redactor()
    redactor.add(encoded[100:140], "OPENAI_API_KEY")  # a "key" the redactor would mask in any text
    page = write_report([run], tmp_path / "r.html", redactor=redactor).read_text()
    assert f"data:image/jpeg;base64,{encoded}" in _embedded(page)["media"].values()


def test_a_run_lmms_eval_wrote_is_read_with_its_per_sample_scores(tmp_path: Path, cli_env: dict[str, str]) -> None:
    """lmms-eval's own files: flat ``"metric,filter"`` results, samples with each metric as a top-level key
    and ``arguments`` as a list. The schema accepts them, the report shows every doc's own score."""
    folder = tmp_path / "logs" / "llava"
    folder.mkdir(parents=True)
    doc = {"results": {"mme": {"alias": "mme", "mme_cognition_score,none": 50.0,
                               "mme_cognition_score_stderr,none": "N/A", "mme_perception_score,none": 100.0,
                               "mme_perception_score_stderr,none": "N/A"}},
           "group_subtasks": {"mme": []}, "configs": {"mme": {"task": "mme"}}, "versions": {"mme": "Yaml"},
           "n-shot": {"mme": 0}, "n-samples": {"mme": {"original": 4, "effective": 4}},
           "config": {"model": "llava", "model_args": "pretrained=x", "batch_size": "1", "device": "cuda:0",
                      "limit": None, "bootstrap_iters": 100000, "gen_kwargs": "", "random_seed": 0},
           "git_hash": "abc123", "date": "20240610_101010", "model_name": "llava-v1.5-7b",
           "total_evaluation_time_seconds": "12.5"}
    (folder / "20240610_101010_results.json").write_text(json.dumps(doc))
    lines = [{"doc_id": i, "doc": {"question": "q"}, "target": "Yes", "arguments": [["<image> q", {"until": []}]],
              "resps": [["Yes"]], "filtered_resps": ["Yes"], "doc_hash": "h",
              ("mme_cognition_score" if i < 2 else "mme_perception_score"):
                  {"question_id": f"q{i}", "category": "c", "score": float(i % 2)}} for i in range(4)]
    (folder / "20240610_101010_samples_mme.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    run = load_run(folder / "20240610_101010_results.json")
    data = run_payload(run, MediaTable())
    assert [item["m"] for item in data["items"]] == [{"mme_cognition_score": 0.0}, {"mme_cognition_score": 1.0},
                                                     {"mme_perception_score": 0.0}, {"mme_perception_score": 1.0}]
    assert [item["s"] for item in data["items"]] == ["wrong", "correct", "wrong", "correct"]
    assert data["items"][0]["p"] == "<image> q"
    assert data["run"]["task_versions"] == {"mme": "Yaml"}
    assert (data["run"]["model"], data["run"]["provider"]) == ("llava-v1.5-7b", "llava")
    assert main(["report", str(tmp_path / "logs")]) == 0  # and it is listed in an index
