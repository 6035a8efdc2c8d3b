"""Adversarial catalog, `assay report` (issue #16): read-only toward runs, foreign or hand-edited results
named by field, numbers that are not numbers, a template marker or right-to-left override in any text;
and the results schema (issue #15): documents a run writes pass it and read back byte for byte."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from assay.cli import main
from assay.records import check_sample, read_results
from assay.sinks.files import to_json
from assay.sinks.rundir import load_run
from tests.report_support import metric, record, write_run
from tests.sinks_support import make_run


@pytest.fixture(scope="module")
def real_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_run(tmp_path_factory.mktemp("edges") / "a", limit=3)


def _fails(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    code = main(argv)
    err = capsys.readouterr().err
    assert code != 0, err
    assert "Traceback" not in err and err.startswith("error: ") and "\nhint: " in err
    return err.splitlines()[0]


def test_a_report_never_overwrites_a_file_of_a_run(real_run: Path, cli_env: dict[str, str],
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    run = load_run(real_run)
    victims = [real_run, *run.samples.values()]
    assert run.media_dir is not None
    victims.append(next(run.media_dir.iterdir()))
    victims.append(real_run.parent / "notes.txt")  # not the run's, but not a report either
    victims[-1].write_text("my notes")
    before = {p: p.read_bytes() for p in victims}
    for victim in victims:
        line = _fails(["report", str(real_run), "-o", str(victim)], capsys)
        assert "refusing to write the report over" in line
    assert {p: p.read_bytes() for p in victims} == before
    # The folder of runs is never taken for a report folder either.
    line = _fails(["report", str(real_run.parent.parent), "-o", str(real_run.parent)], capsys)
    assert "not an assay report folder" in line
    # An earlier report is replaced, though.
    out = real_run.parent / "again.html"
    assert main(["report", str(real_run), "-o", str(out)]) == 0
    assert main(["report", str(real_run), "-o", str(out)]) == 0


@pytest.mark.parametrize(("edit", "field"), [
    (lambda d: d.update(config="--limit 3"), "`config`"),
    (lambda d: d.update(timing="yesterday"), "`timing`"),
    (lambda d: d["timing"].update(wall_s="12.5"), "`timing.wall_s`"),
    (lambda d: d["results"]["assay_arith_mc"]["metrics"]["exact_match"].update(n=[3]),
     "`results.assay_arith_mc.metrics.exact_match.n`"),
    (lambda d: d.update(cost={"total_usd": "free"}), "`cost.total_usd`"),
    (lambda d: d.update(results=["assay_arith_mc"]), "`results`"),
])
def test_a_hand_edited_results_file_is_refused_naming_the_field(real_run: Path, cli_env: dict[str, str],
                                                                tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                                edit: Any, field: str) -> None:
    doc = json.loads(real_run.read_text())
    edit(doc)
    copy = tmp_path / real_run.name
    copy.write_text(json.dumps(doc))
    line = _fails(["report", str(copy), "-o", str(tmp_path / "r.html")], capsys)
    assert str(copy) in line and field in line
    assert not (tmp_path / "r.html").exists()


def test_a_hand_edited_samples_line_is_refused_naming_file_line_and_field(real_run: Path, cli_env: dict[str, str],
                                                                          capsys: pytest.CaptureFixture[str]) -> None:
    folder = real_run.parent
    samples = next(folder.glob("*_samples_assay_arith_mc.jsonl"))
    lines = samples.read_text().splitlines()
    second = json.loads(lines[1])
    second["doc_id"] = [1, 2]
    lines[1] = json.dumps(second)
    original = samples.read_text()
    try:
        samples.write_text("\n".join(lines) + "\n")
        line = _fails(["report", str(real_run), "-o", str(folder / "x.html")], capsys)
        assert f"{samples}, line 2: field `doc_id`" in line
    finally:
        samples.write_text(original)


def test_non_numbers_in_every_numeric_field_still_make_a_valid_page(tmp_path: Path, cli_env: dict[str, str]) -> None:
    nan, inf = float("nan"), float("inf")
    recs = [record("t", i, "yes", {"acc": [nan, inf, -inf][i]}, latency_s=nan) for i in range(3)]
    path = write_run(tmp_path, "m", {"t": {"metrics": {"acc": metric(nan, 3, stderr=inf, ci95=[-inf, nan])},
                                           "n_samples": 3, "n_errors": 0}},
                     recs, timing={"started_at": "2026-01-02T03:04:05+00:00", "wall_s": inf},
                     cost={"total_usd": nan, "max_cost": inf, "cap_reached": False})
    out = tmp_path / "r.html"
    assert main(["report", str(path), "-o", str(out)]) == 0
    page = out.read_text()
    data = json.loads(page.split('type="application/json">')[1].split("</script>")[0])  # strict JSON: no bare NaN
    (run,) = data["runs"]
    assert run["tasks"][0]["result"]["metrics"]["acc"]["value"] == "NaN"
    assert run["run"]["wall_s"] == "Infinity" and run["run"]["cost"]["total_usd"] == "NaN"
    assert [i["m"]["acc"] for i in run["items"]] == ["NaN", "Infinity", "-Infinity"]
    assert [i["s"] for i in run["items"]] == ["scored"] * 3


def test_template_markers_and_bidi_overrides_are_inert(tmp_path: Path, cli_env: dict[str, str]) -> None:
    rtl = "\u202egnorw si siht"
    model = "m__ASSAY_DATA__/*__ASSAY_CSS__*/"
    path = write_run(tmp_path, model, {"t": {"metrics": {"acc": metric(1.0, 1)}}},
                     [record("t", 0, f"answer {rtl}", {"acc": 1.0})])
    out = tmp_path / "r.html"
    title = "T __ASSAY_TITLE__ /*__ASSAY_JS__*/ __ASSAY_DATA__"
    assert main(["report", str(path), "-o", str(out), "--title", title]) == 0
    page = out.read_text()
    head = page.split("</head>")[0]
    assert "<title>T __ASSAY_TITLE__ /*__ASSAY_JS__*/ __ASSAY_DATA__</title>" in head
    assert head.count("<style>") == 1 and head.count(":root {") == 1 and "use strict" not in head
    assert page.count('id="assay-data"') == 1
    assert "\u202e" not in page and "answer ⟦U+202E⟧gnorw si siht" in page


def test_documents_a_run_writes_match_the_schema_and_read_back_byte_for_byte(real_run: Path) -> None:
    text = real_run.read_text(encoding="utf-8")
    document = read_results(real_run)
    import assay

    assert assay.read_results is read_results and document == json.loads(text)  # the public name
    assert json.dumps(document, indent=2, ensure_ascii=False) == text  # nothing coerced, dropped or reordered
    run = load_run(real_run)
    for task, samples in run.samples.items():
        lines = samples.read_text(encoding="utf-8").splitlines()
        records = list(run.iter_samples(task))
        assert len(records) == len(lines) == 3
        assert [to_json(r) for r in records] == lines
        assert [to_json(check_sample(json.loads(line), "x")) for line in lines] == lines


def test_a_report_folder_carries_no_secret(tmp_path: Path, cli_env: dict[str, str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """A key the model echoes (answers, judge text, status reason, title) appears in no file of the index,
    the viewer or any run's data file, in any form."""
    from tests.adversarial.scan import leaks

    secret = "sk-proj-ReportFolderSecret0123456789abcdef"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    recs = [record("t", i, f"the key is {secret}", {"acc": 1.0}, judge={"judgements": [{"ok": True, "raw": secret}]})
            for i in range(3)]
    write_run(tmp_path / "logs", "m", {"t": {"metrics": {"acc": metric(1.0, 3)}}}, recs,
              status_reason=f"failed with {secret}")
    assert main(["report", str(tmp_path / "logs"), "--title", f"runs {secret}"]) == 0
    report = tmp_path / "logs" / "assay_report"
    assert sorted(p.name for p in report.rglob("*") if p.is_file()) == ["index.html", "r0.js", "report.html"]
    assert leaks([secret], folders=[report]) == []


def test_an_index_names_the_runs_it_cannot_read_and_lists_the_rest(tmp_path: Path, cli_env: dict[str, str],
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    logs = tmp_path / "logs"
    good = write_run(logs, "good", {"t": {"metrics": {"acc": metric(1.0, 1)}}}, [record("t", 0, "yes", {"acc": 1.0})])
    torn = write_run(logs, "torn", {"t": {"metrics": {"acc": metric(1.0, 1)}}}, [record("t", 0, "yes", {"acc": 1.0})])
    torn.write_text(torn.read_text()[:40])  # a results file cut short
    edited = write_run(logs, "edited", {"t": {"metrics": {"acc": metric(1.0, 1)}}},
                       [record("t", 0, "yes", {"acc": 1.0})])
    samples = next(edited.parent.glob("*_samples_t.jsonl"))
    samples.write_text(samples.read_text().replace('"doc_id": 0', '"doc_id": [0]'))
    assert main(["report", str(logs)]) == 0
    out, err = capsys.readouterr()
    assert f"warning: left out of the index: {torn} is not valid JSON" in err and "Traceback" not in err
    assert "(2 runs)" in out
    page = (logs / "assay_report" / "index.html").read_text()
    rows = json.loads(page.split('type="application/json">')[1].split("</script>")[0])["rows"]
    assert {r["model"]: r["status"] for r in rows} == {"good": "complete", "edited": "unreadable"}
    assert "field `doc_id`" in next(r["status_reason"] for r in rows if r["model"] == "edited")
    assert sorted(p.name for p in (logs / "assay_report" / "data").iterdir()) == [
        f"r{[r['model'] for r in rows].index('good')}.js"]
    assert good.is_file()


def test_lone_surrogates_and_invalid_utf8_in_a_samples_file_still_make_a_report(tmp_path: Path,
                                                                                cli_env: dict[str, str]) -> None:
    path = write_run(tmp_path, "m", {"t": {"metrics": {"acc": metric(1.0, 2)}}},
                     [record("t", 0, "a", {"acc": 1.0}), record("t", 1, "b", {"acc": 1.0})])
    samples = next(path.parent.glob("*_samples_t.jsonl"))
    first, second = samples.read_bytes().splitlines()
    first = first.replace(b'"filtered_resps": ["a"]', b'"filtered_resps": ["escaped \\ud800 half"]')
    second = second.replace(b'"filtered_resps": ["b"]', b'"filtered_resps": ["raw \xff\xfe bytes"]')
    samples.write_bytes(first + b"\n" + second + b"\n")
    out = tmp_path / "r.html"
    assert main(["report", str(path), "-o", str(out)]) == 0
    page = out.read_text(encoding="utf-8")  # valid UTF-8 throughout
    assert "escaped \ufffd half" in page and "raw \ufffd\ufffd bytes" in page
