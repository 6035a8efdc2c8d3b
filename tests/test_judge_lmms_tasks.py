"""lmms-eval's own judged tasks, their code unchanged, on local stand-in data (a wrapper YAML that
`include:`s the original and points dataset_path at a few local docs): ActivityNetQA (judge over
`requests.post`), MM-Vet (lmms-eval's judge client), WildVision-Bench (pairwise, `requests.post` with the
image) and VDC (SGLang programs). Model and judge are loopback servers. Where lmms-eval would turn a
failed or unreadable judgement into a 0 / "no" / an "Unclear" tie, assay excludes and counts it."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from assay.tasks.registry.discovery import BUILTIN_DIR
from tests.fault_server import FaultServer, last_user_text
from tests.helpers import results_file, run_cli, write

CLIPS = BUILTIN_DIR / "assay_judged_video" / "videos"
FAST = "backoff_initial=0.01,backoff_max=0.02,max_retries=1"


@dataclass
class StandIns:
    tasks: Path  # the --include_path holding the wrapper YAMLs
    hf_home: Path


def _image_folder(folder: Path, rows: list[dict[str, Any]], color: tuple[int, int, int]) -> None:
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    for row in rows:
        Image.new("RGB", (32, 32), color).save(folder / row["file_name"])
    (folder / "metadata.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))


def _wrapper(folder: Path, name: str, original: Path, data: str) -> None:
    write(folder, f"{name}.yaml", f"include: {original}\ntask: {name}\n{data}")


@pytest.fixture(scope="module")
def standins(tmp_path_factory: pytest.TempPathFactory) -> StandIns:
    """Data and wrapper YAMLs, made once: helper modules are imported once per process, and ActivityNetQA's
    and VDC's read HF_HOME (where their videos are) when they are imported."""
    from tests.conftest import SHARED_TREES

    tree = next((t for t in SHARED_TREES if t.is_dir()), None)
    if tree is None:
        pytest.skip("lmms-eval's task tree is not available")
    pytest.importorskip("requests")
    pytest.importorskip("sklearn")
    root = tmp_path_factory.mktemp("lmms")
    tasks, hf = root / "tasks", root / "hf"
    docs = [{"video_name": f"clip{i:02d}", "question": q, "answer": a, "question_id": f"q{i}", "type": 1}
            for i, (q, a) in enumerate([("what shape moves", "circle"), ("what color is the shape", "green"),
                                        ("does it move down", "yes")])]
    write(tasks / "anet", "docs.jsonl", "".join(json.dumps(d) + "\n" for d in docs))
    _wrapper(tasks / "anet", "anet_local", tree / "activitynetqa" / "activitynetqa_generation.yaml",
             f"dataset_path: json\ndataset_kwargs:\n  data_files:\n    test: {tasks / 'anet' / 'docs.jsonl'}\n"
             "test_split: test\n")
    _image_folder(tasks / "mmvet" / "images", [
        {"file_name": f"v{i}.png", "question_id": f"v{i}", "question": q, "answer": a, "capability": c}
        for i, (q, a, c) in enumerate([("What color is it?", "red", "rec"), ("How many?", "3", "rec,math"),
                                       ("What is written?", "hi <OR> hello", "ocr")])], (200, 30, 30))
    _wrapper(tasks / "mmvet", "mmvet_local", tree / "mmvet" / "mmvet.yaml",
             f"dataset_path: imagefolder\ndataset_kwargs:\n  data_dir: {tasks / 'mmvet' / 'images'}\n"
             "test_split: train\n")
    _image_folder(tasks / "wildvision" / "images", [
        {"file_name": f"w{i}.png", "instruction": f"Describe picture {i}.", "claude-3-sonnet-20240229": "A square."}
        for i in range(4)], (30, 30, 200))
    _wrapper(tasks / "wildvision", "wildvision_local", tree / "wild_vision_bench" / "wild_vision_bench0617.yaml",
             f"dataset_path: imagefolder\ndataset_name: null\ndataset_kwargs:\n  data_dir: "
             f"{tasks / 'wildvision' / 'images'}\ntest_split: train\n")
    vdc_docs = [{"video_name": f"v{i}", "caption": "A red circle moves right.",
                 "qa_list": [{"question": "What shape moves?", "answer": "a circle"},
                             {"question": "What color is it?", "answer": "red"}]} for i in range(2)]
    write(tasks / "vdc", "docs.jsonl", "".join(json.dumps(d) + "\n" for d in vdc_docs))
    _wrapper(tasks / "vdc", "vdc_local", tree / "vdc" / "short_test.yaml",
             f"dataset_path: json\ndataset_kwargs:\n  data_files:\n    test: {tasks / 'vdc' / 'docs.jsonl'}\n"
             "test_split: test\n")
    standins = StandIns(tasks, hf)
    _place_videos(standins)
    return standins


def _place_videos(standins: StandIns) -> None:
    """Copy clips where each helper looks: its module's cache_dir (fixed when the module was imported)."""
    import os

    from assay.env.settings import load_settings
    from assay.tasks import TaskRegistry

    before = os.environ.get("HF_HOME")
    os.environ["HF_HOME"] = str(standins.hf_home)
    try:
        settings = load_settings(environ={}, discover_dotenv=False)
        registry = TaskRegistry.discover(settings, include_paths=[standins.tasks])
        for name, pattern in (("anet_local", "v_clip{:02d}.mp4"), ("vdc_local", "v{}.mp4")):
            task = registry.load(name, settings=settings, model_name="openai_compatible")
            folder = Path(task.config.doc_to_visual.__globals__["cache_dir"])  # type: ignore[union-attr]
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(3):
                shutil.copy(CLIPS / f"clip-{i:02d}.mp4", folder / pattern.format(i))
    finally:
        if before is None:
            os.environ.pop("HF_HOME", None)
        else:
            os.environ["HF_HOME"] = before


@pytest.fixture
def model() -> Iterator[FaultServer]:
    with FaultServer(lambda body: "A red circle moves from left to right.") as server:
        yield server


def run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, standins: StandIns, out: Path,
        model: FaultServer, judge: FaultServer, task: str, *extra: str) -> tuple[int, str]:
    monkeypatch.setenv("HF_HOME", str(standins.hf_home))
    code, _, err = run_cli(capsys, "--model", "openai_compatible", "--model_args",
                           f"model=m,base_url={model.base_url},num_concurrent=4", "--tasks", task,
                           "--include_path", str(standins.tasks), "--judge_model", "openai_compatible",
                           "--judge_args", f"model=judge-m,base_url={judge.base_url},{FAST}",
                           "--output_path", str(out), "--log_samples", *extra)
    return code, err


def test_activitynetqa(standins: StandIns, run_dir: Path, capsys: pytest.CaptureFixture[str],
                       monkeypatch: pytest.MonkeyPatch, model: FaultServer) -> None:
    with FaultServer(lambda body: "{'pred': 'yes', 'score': 4}") as judge:
        code, err = run(capsys, monkeypatch, standins, run_dir / "ok", model, judge, "anet_local")
        assert code == 0, err
        result = results_file(run_dir / "ok")["results"]["anet_local"]
        assert result["metrics"]["gpt_eval_score"]["value"] == 4.0
        assert result["metrics"]["gpt_eval_accuracy"]["value"] == 100.0
        assert result["n_judged"] == 3 and judge.count == 3
        prompts = [last_user_text(r) for r in judge.requests]
        assert any("Correct Answer: circle\nPredicted Answer: A red circle" in p for p in prompts)
    with FaultServer(lambda body: "The prediction looks fine to me.") as garbage:
        code, err = run(capsys, monkeypatch, standins, run_dir / "garbage", model, garbage, "anet_local")
    # lmms-eval: parse_score fails, the helper scores ["no", 0] and reports accuracy 0 / score 0.
    assert code == 4 and "anet_local 100.0% (3 of 3: parse_failed 3)" in err
    result = results_file(run_dir / "garbage")["results"]["anet_local"]
    assert result["metrics"]["gpt_eval_score"]["value"] is None and result["n_judge_failed"] == 3


def test_mmvet(standins: StandIns, run_dir: Path, capsys: pytest.CaptureFixture[str],
               monkeypatch: pytest.MonkeyPatch, model: FaultServer) -> None:
    with FaultServer(lambda body: "0.8") as judge:
        code, err = run(capsys, monkeypatch, standins, run_dir / "ok", model, judge, "mmvet_local")
        assert code == 0, err
        assert {r["model"] for r in judge.requests} == {"judge-m"}  # --judge_args model wins over MODEL_VERSION
    result = results_file(run_dir / "ok")["results"]["mmvet_local"]
    assert result["metrics"]["gpt_eval_score"]["value"] == pytest.approx(80.0) and result["n_judged"] == 3
    with FaultServer(lambda body: "0.8") as down:
        down.sticky = {"status": 503}
        code, err = run(capsys, monkeypatch, standins, run_dir / "down", model, down, "mmvet_local")
        # lmms-eval: three tries of five requests each, then score 0.0. assay: one judgement's retries,
        # then the helper's own re-asks are not sent again; the sample is excluded.
        assert down.count == 3 * 2
    assert code == 4 and "request_failed 3" in err
    assert results_file(run_dir / "down")["results"]["mmvet_local"]["metrics"]["gpt_eval_score"]["value"] is None


def test_wildvision(standins: StandIns, run_dir: Path, capsys: pytest.CaptureFixture[str],
                    monkeypatch: pytest.MonkeyPatch, model: FaultServer) -> None:
    verdicts = {"0": "[[B>A]]", "1": "[[A=B]]", "2": "[[B>>A]]", "3": "[[A>B]]"}

    def grade(body: dict[str, Any]) -> str:
        number = last_user_text(body).split("Describe picture ")[1][0]
        return f"Both are short. My final verdict is {verdicts[number]}"

    with FaultServer(grade) as judge:
        code, err = run(capsys, monkeypatch, standins, run_dir / "ok", model, judge, "wildvision_local")
        assert code == 0, err
        parts = judge.requests[0]["messages"][1]["content"]
        assert [p["type"] for p in parts] == ["text", "image_url"]  # the image reached the judge
    metrics = results_file(run_dir / "ok")["results"]["wildvision_local"]["metrics"]
    assert metrics["raw_scores"]["value"] == pytest.approx((1 + 0 + 2 - 1) / 4)
    assert metrics["win_rates"]["value"] == pytest.approx(50.0)
    with FaultServer(lambda body: "Assistant B is better.") as garbage:  # no [[…]] label
        code, err = run(capsys, monkeypatch, standins, run_dir / "garbage", model, garbage, "wildvision_local")
    # lmms-eval: an "Unclear" tie for each. assay: parse failures, excluded.
    assert code == 4 and "parse_failed 4" in err


def test_vdc(standins: StandIns, run_dir: Path, capsys: pytest.CaptureFixture[str],
             monkeypatch: pytest.MonkeyPatch, model: FaultServer) -> None:
    def judge_answer(body: dict[str, Any]) -> str:
        text = last_user_text(body)
        if "Python dictionary" in text:  # gpt_match: grade the answer read from the caption
            right = "Correct Answer: a circle" in text
            return "{'pred': 'yes', 'score': 4}" if right else "{'pred': 'no', 'score': 1}"
        return "a circle"  # generate_response: answer the question from the caption

    with FaultServer(judge_answer) as judge:
        code, err = run(capsys, monkeypatch, standins, run_dir / "ok", model, judge, "vdc_local")
        assert code == 0, err
        assert judge.count == 2 * 2 * 2  # 2 docs x 2 questions x (answer + grade), through the SGLang shim
    metrics = results_file(run_dir / "ok")["results"]["vdc_local"]["metrics"]
    assert metrics["llmms_eval_score"]["value"] == pytest.approx((4 + 1) / 2)
    assert metrics["llmms_eval_acc"]["value"] == pytest.approx(0.5)
    with FaultServer(lambda body: "no idea") as garbage:
        code, err = run(capsys, monkeypatch, standins, run_dir / "garbage", model, garbage, "vdc_local")
    # The helper's ast.literal_eval fails and its own except clause crashes: a judge failure, not a 0.
    assert code == 4 and "parse_failed 2" in err
