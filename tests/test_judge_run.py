"""`assay run` on the built-in judged tasks, model and judge both loopback servers: metrics from a known
verdict key, every failure reason counted / excluded / reported, the threshold exit, a judge answering
garbage for every sample (exit 4, results written, failures named, never a silent 0), preflight naming
the judge's credentials apart from the model's, and VIEScore's own judge."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assay.tasks.registry.discovery import BUILTIN_DIR
from tests.fault_server import FaultServer, last_user_text
from tests.helpers import results_file, run_cli

VIDEO = BUILTIN_DIR / "assay_judged_video"
MODEL_ANSWER = "It moves from left to right."
JUDGE_FAST = "backoff_initial=0.01,backoff_max=0.02,max_retries=2"


def docs(name: str) -> list[dict[str, Any]]:
    folder = VIDEO if name.startswith("assay_video") else BUILTIN_DIR / "assay_judged_image"
    return [json.loads(line) for line in (folder / f"{name}.jsonl").read_text().splitlines()]


def grade(body: dict[str, Any]) -> str:
    """A judge that compares meaning by substring: yes/5 when the reference is in the model's answer."""
    text = last_user_text(body)
    match = re.search(r"Reference answer: (.*)\nModel's answer: (.*)\n", text)
    assert match, text
    right = match.group(1).lower() in match.group(2).lower()
    return json.dumps({"pred": "yes" if right else "no", "score": 5 if right else 1})


@pytest.fixture
def model() -> Iterator[FaultServer]:
    with FaultServer(lambda body: MODEL_ANSWER) as server:
        yield server


@pytest.fixture
def judge() -> Iterator[FaultServer]:
    with FaultServer(grade) as server:
        yield server


def run(capsys: pytest.CaptureFixture[str], out: Path, model: FaultServer, judge: FaultServer | None,
        task: str, *extra: str, limit: int | None = None) -> tuple[int, str, str]:
    args = ["--model", "openai_compatible", "--model_args", f"model=m,base_url={model.base_url},num_concurrent=8",
            "--tasks", task, "--output_path", str(out), "--log_samples"]
    if judge is not None:
        args += ["--judge_model", "openai_compatible",
                 "--judge_args", f"model=judge-m,base_url={judge.base_url},num_concurrent=16,{JUDGE_FAST}"]
    if limit is not None:
        args += ["--limit", str(limit)]
    return run_cli(capsys, *args, *extra)


def sample_rows(out: Path) -> list[dict[str, Any]]:
    (path,) = out.rglob("*_samples_*.jsonl")
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_video_qa_is_scored_from_the_judges_verdicts(run_dir: Path, capsys: pytest.CaptureFixture[str],
                                                     model: FaultServer, judge: FaultServer) -> None:
    code, out, err = run(capsys, run_dir / "out", model, judge, "assay_video_qa")
    assert code == 0, err
    key = [d["answer"].lower() in MODEL_ANSWER.lower() for d in docs("assay_video_qa")]
    result = results_file(run_dir / "out")["results"]["assay_video_qa"]
    assert result["metrics"]["judge_accuracy"]["value"] == pytest.approx(sum(key) / len(key))
    assert result["metrics"]["judge_score"]["value"] == pytest.approx(sum(5 if k else 1 for k in key) / len(key))
    assert (result["n_judged"], result["n_judge_failed"], result["judge_failed"]) == (24, 0, {})
    assert judge.count == 24 and all(r["model"] == "judge-m" for r in judge.requests)
    assert judge.requests[0]["messages"][0]["role"] == "system"
    row = sample_rows(run_dir / "out")[0]
    assert row["judge"]["status"] == "ok" and row["judge"]["judgements"][0]["value"]["pred"] in (True, False)
    assert "judge" in out.lower() or "judge_accuracy" in out


def test_a_judge_answering_garbage_fails_the_run_loudly(run_dir: Path, capsys: pytest.CaptureFixture[str],
                                                        model: FaultServer) -> None:
    with FaultServer(lambda body: "As a large language model I find this video delightful.") as garbage:
        code, _, err = run(capsys, run_dir / "out", model, garbage, "assay_video_qa", limit=10)
    assert code == 4
    assert "judge failures over --max_judge_failure_rate 0.05" in err and "parse_failed 10" in err
    document = results_file(run_dir / "out")
    assert document["status"] == "failed"
    result = document["results"]["assay_video_qa"]
    assert (result["n_judged"], result["n_judge_failed"], result["judge_failed"]) == (0, 10, {"parse_failed": 10})
    assert result["metrics"]["judge_accuracy"] == {"value": None, "n": 0, "higher_is_better": True}  # no silent 0
    assert result["n_errors"] == 0 and result["n_scored"] == 0
    assert document["judge"]["over_threshold"] == {"assay_video_qa": 1.0}
    assert garbage.count == 20  # each answer that did not parse was asked once more
    rows = sample_rows(run_dir / "out")
    assert len(rows) == 10 and all(r["judge"]["status"] == "failed" for r in rows)
    assert all(r["judge"]["reason"] == "parse_failed" and r["metrics"] == {} for r in rows)
    assert "delightful" in rows[0]["judge"]["judgements"][0]["raw"]


def fail_for(answers: dict[str, dict[str, Any]]) -> Any:
    """A judge fault chosen by the sample (its reference answer), however requests interleave."""

    def choose(body: dict[str, Any]) -> dict[str, Any]:
        text = last_user_text(body)
        return next((fault for answer, fault in answers.items() if f"Reference answer: {answer}\n" in text), {})

    return choose


def test_every_failure_reason_is_counted_and_excluded(run_dir: Path, capsys: pytest.CaptureFixture[str],
                                                      model: FaultServer) -> None:
    with FaultServer(grade) as judge:
        judge.fault_for = fail_for({
            "a green square": {"status": 503},  # every attempt refused by the server
            "a blue triangle": {"text": "I'm sorry, but I can't help with grading this."},
            "a yellow circle": {"text": "no idea"},  # and no idea when asked again
        })
        code, _, err = run(capsys, run_dir / "out", model, judge, "assay_video_qa", "--max_judge_failure_rate", "0.5",
                           limit=10)
    assert code == 0, err
    result = results_file(run_dir / "out")["results"]["assay_video_qa"]
    assert result["judge_failed"] == {"request_failed": 1, "parse_failed": 1, "refused": 1}
    assert (result["n_judged"], result["n_judge_failed"]) == (7, 3)
    assert result["metrics"]["judge_accuracy"]["n"] == 7  # the denominator leaves the failures out
    assert result["judge_failure_rate"] == pytest.approx(3 / 10, abs=1e-6)
    failed = {r["doc"]["answer"]: r["judge"]["reason"] for r in sample_rows(run_dir / "out")
              if r["judge"]["status"] == "failed"}
    assert failed == {"a green square": "request_failed", "a blue triangle": "refused",
                      "a yellow circle": "parse_failed"}


def test_the_threshold_is_per_task_and_inclusive(run_dir: Path, capsys: pytest.CaptureFixture[str],
                                                 model: FaultServer) -> None:
    with FaultServer(grade) as judge:
        judge.fault_for = fail_for({"a green square": {"text": "?"}})  # 1 of 10 judged samples fails: 10%
        code, _, _ = run(capsys, run_dir / "a", model, judge, "assay_video_qa", "--max_judge_failure_rate", "0.1",
                         limit=10)
        assert code == 0
        code, _, err = run(capsys, run_dir / "b", model, judge, "assay_video_qa", "--max_judge_failure_rate", "0.09",
                           limit=10)
    assert code == 4 and "assay_video_qa 10.0% (1 of 10: parse_failed 1)" in err
    assert results_file(run_dir / "b")["results"]["assay_video_qa"]["n_judged"] == 9


def test_preflight_names_the_judges_credential_apart_from_the_models(
        run_dir: Path, capsys: pytest.CaptureFixture[str], model: FaultServer) -> None:
    code, _, err = run(capsys, run_dir / "out", model, None, "assay_video_qa",
                       "--judge_model", "openai", "--judge_args", "model=gpt-4o-mini")
    assert code == 3
    assert "missing 1 credential: OPENAI_API_KEY (needed by judge for task assay_video_qa)" in err
    assert model.count == 0  # nothing was paid for


def test_viescore_judge_is_declared_and_uses_its_own_variables(
        run_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.judged_servers import edit_model_answer, viescore_grade

    with FaultServer(edit_model_answer) as model, FaultServer(viescore_grade) as vie:
        code, _, err = run(capsys, run_dir / "none", model, None, "assay_image_edit", limit=3)
        assert code == 3 and "VIESCORE_API_KEY (needed by VIEScore judge for task assay_image_edit)" in err
        assert model.count == 0
        secret = "vie-secret-0123456789abcdef"
        monkeypatch.setenv("VIESCORE_API_KEY", secret)
        monkeypatch.setenv("VIESCORE_API_BASE", vie.base_url)
        monkeypatch.setenv("VIESCORE_MODEL_NAME", "vie-judge")
        code, _, err = run(capsys, run_dir / "out", model, None, "assay_image_edit", limit=6)
    assert code == 0, err
    assert vie.count == 12 and {r["model"] for r in vie.requests} == {"vie-judge"}
    assert all(h["Authorization"] == f"Bearer {secret}" for h in vie.headers)
    result = results_file(run_dir / "out")["results"]["assay_image_edit"]
    # The model edits perfectly on even docs and returns the source unchanged on odd ones (see judged_servers).
    assert result["metrics"]["semantics"]["value"] == pytest.approx((9 * 3 + 2 * 3) / 6)
    assert result["metrics"]["overall"]["value"] == pytest.approx(sum((9 * 8) ** 0.5 if i % 2 == 0 else
                                                                      (2 * 8) ** 0.5 for i in range(6)) / 6)
    for path in (run_dir / "out").rglob("*"):
        if path.is_file():
            assert secret not in path.read_text(errors="replace")


def test_pairwise_against_a_baseline(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.judged_servers import pairwise_grade

    reference = docs("assay_image_pairwise")[0]["reference"]  # always a good answer (for doc 0's image…)
    with FaultServer(lambda body: reference) as model, FaultServer(pairwise_grade) as judge:
        code, _, err = run(capsys, run_dir / "out", model, judge, "assay_image_pairwise")
    assert code == 0, err
    key = docs("assay_image_pairwise")
    outcomes = [0.5 if d["baseline"] in {x["reference"] for x in key} else 1.0 for d in key]
    result = results_file(run_dir / "out")["results"]["assay_image_pairwise"]
    p = sum(outcomes) / len(outcomes)
    assert result["metrics"]["win_rate"]["value"] == pytest.approx(p)
    assert result["metrics"]["elo"]["value"] == pytest.approx(1000 + 400 * __import__("math").log10(p / (1 - p)))
    assert result["metrics"]["raw_score"]["value"] == pytest.approx(sum(o == 1.0 for o in outcomes) / len(key))
    content = judge.requests[0]["messages"][1]["content"]
    assert [part["type"] for part in content] == ["image_url", "text"]  # the judge sees the image


def test_captions_are_checked_fact_by_fact(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.judged_servers import caption_grade

    caption = "A red circle moves from left to right across a white background."
    with FaultServer(lambda body: caption) as model, FaultServer(caption_grade) as judge:
        code, _, err = run(capsys, run_dir / "out", model, judge, "assay_video_caption")
    assert code == 0, err
    per_doc = [[qa["answer"].lower() in caption.lower() for qa in d["qa"]] for d in docs("assay_video_caption")]
    result = results_file(run_dir / "out")["results"]["assay_video_caption"]
    assert judge.count == 4 * len(per_doc)
    expected = sum(sum(facts) / len(facts) for facts in per_doc) / len(per_doc)
    assert result["metrics"]["caption_accuracy"]["value"] == pytest.approx(expected)
    assert result["metrics"]["caption_score"]["value"] == pytest.approx(5 * expected)


def test_the_python_api_takes_the_judge_too(run_dir: Path, model: FaultServer, judge: FaultServer) -> None:
    import assay
    from assay.errors import JudgeFailureRateError

    result = assay.evaluate("openai_compatible", "assay_video_qa", limit=4, output_path=run_dir / "api",
                            model_args={"model": "m", "base_url": model.base_url},
                            judge_model="openai_compatible",
                            judge_args={"model": "j", "base_url": judge.base_url})
    assert result["results"]["assay_video_qa"]["n_judged"] == 4
    assert result["judge"]["judges"]["default"]["provider"] == "openai_compatible"
    judge.queue(*[{"text": "?"}] * 8)
    with pytest.raises(JudgeFailureRateError) as raised:
        assay.evaluate("openai_compatible", "assay_video_qa", limit=4, output_path=run_dir / "api2",
                       model_args={"model": "m", "base_url": model.base_url},
                       judge_model="openai_compatible", judge_args={"model": "j", "base_url": judge.base_url})
    assert raised.value.exit_code == 4
    assert raised.value.result["results"]["assay_video_qa"]["judge_failed"] == {"parse_failed": 4}  # type: ignore[attr-defined]


def test_azure_judge_from_lmms_eval_variables(run_dir: Path, capsys: pytest.CaptureFixture[str],
                                              model: FaultServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """API_TYPE=azure + AZURE_* (lmms-eval's variables): the deployment is the task's judge model, in the
    URL path; the key travels in `api-key`, never as a Bearer token; API_VERSION is lmms-eval's name."""
    secret = "azure-secret-0123456789abcdef"
    with FaultServer(grade) as azure:
        for name, value in (("API_TYPE", "azure"), ("AZURE_API_KEY", secret),
                            ("AZURE_ENDPOINT", f"http://127.0.0.1:{azure.port}"), ("API_VERSION", "2024-06-01")):
            monkeypatch.setenv(name, value)
        code, _, err = run(capsys, run_dir / "out", model, None, "assay_video_qa", "--judge_args", JUDGE_FAST,
                           limit=4)
    assert code == 0, err
    assert set(azure.urls) == {"/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-06-01"}
    assert all(h.get("api-key") == secret and "Authorization" not in h for h in azure.headers)
    document = results_file(run_dir / "out")
    assert document["judge"]["judges"]["default"]["provider"] == "azure_openai"
    assert document["judge"]["judges"]["default"]["origin"] == "API_TYPE=azure"
    assert document["results"]["assay_video_qa"]["n_judged"] == 4
    for path in (run_dir / "out").rglob("*"):
        if path.is_file():
            assert secret not in path.read_text(errors="replace")


def test_azure_judge_needs_its_endpoint_before_any_request(run_dir: Path, capsys: pytest.CaptureFixture[str],
                                                           model: FaultServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_TYPE", "azure")
    monkeypatch.setenv("AZURE_API_KEY", "azure-secret-0123456789abcdef")
    code, _, err = run(capsys, run_dir / "out", model, None, "assay_video_qa")
    assert code == 3 and "AZURE_ENDPOINT (needed by judge for task assay_video_qa)" in err
    assert "API_TYPE=openai" in err  # the other backend is offered
    assert model.count == 0


def test_judge_settings_come_from_a_config_file(run_dir: Path, capsys: pytest.CaptureFixture[str],
                                                model: FaultServer, judge: FaultServer) -> None:
    config = run_dir / "run.yaml"
    config.write_text(
        "model: openai_compatible\n"
        f"model_args: {{model: m, base_url: '{model.base_url}'}}\n"
        "tasks: assay_video_qa\nlimit: 3\n"
        "judge_model: openai_compatible\n"
        f"judge_args: {{model: yaml-judge, base_url: '{judge.base_url}', temperature: 0.5, max_tokens: 77}}\n"
        "max_judge_failure_rate: 0.2\n"
    )
    code, _, err = run_cli(capsys, "--config", str(config), "--output_path", str(run_dir / "out"))
    assert code == 0, err
    assert {(r["model"], r["temperature"], r["max_tokens"]) for r in judge.requests} == {("yaml-judge", 0.5, 77)}
    assert results_file(run_dir / "out")["config"]["max_judge_failure_rate"] == 0.2


def test_openai_api_url_is_accepted_as_a_base_or_a_full_url(run_dir: Path, capsys: pytest.CaptureFixture[str],
                                                            model: FaultServer, judge: FaultServer,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "judge-key-0123456789abcdef")
    for i, url in enumerate((judge.base_url, f"{judge.base_url}/chat/completions")):
        monkeypatch.setenv("OPENAI_API_URL", url)
        code, _, err = run(capsys, run_dir / f"out{i}", model, None, "assay_video_qa", limit=2)
        assert code == 0, err
    assert judge.count == 4 and set(judge.urls) == {"/v1/chat/completions"}
    assert {r["model"] for r in judge.requests} == {"gpt-4o-mini"}  # the task's gpt_eval_model_name


def test_judging_overlaps_answering_with_many_requests_in_flight(
        run_dir: Path, capsys: pytest.CaptureFixture[str], model: FaultServer, judge: FaultServer) -> None:
    model.latency = judge.latency = 0.15
    code, _, err = run(capsys, run_dir / "out", model, judge, "assay_video_qa",
                       "--model_args", f"model=m,base_url={model.base_url},num_concurrent=6",
                       "--judge_args", f"model=judge-m,base_url={judge.base_url},num_concurrent=6,{JUDGE_FAST}")
    assert code == 0, err
    # Each stage reached its own limit: workers whose answer came back judged while others were answering.
    assert (model.max_in_flight, judge.max_in_flight) == (6, 6)
    assert results_file(run_dir / "out")["results"]["assay_video_qa"]["n_judged"] == 24


def test_a_judge_key_on_the_command_line_is_used_and_never_written(
        run_dir: Path, capsys: pytest.CaptureFixture[str], model: FaultServer, judge: FaultServer) -> None:
    secret = "sk-judge-0123456789abcdefghij"
    code, out, err = run_cli(capsys, "--model", "openai_compatible", "--model_args",
                             f"model=m,base_url={model.base_url}", "--tasks", "assay_video_qa", "--limit", "3",
                             "--judge_model", "openai_compatible",
                             "--judge_args", f"model=j,base_url={judge.base_url},api_key={secret}",
                             "--output_path", str(run_dir / "out"), "--log_samples")
    assert code == 0, err
    assert {h["Authorization"] for h in judge.headers} == {f"Bearer {secret}"}
    assert "set OPENAI_API_KEY in .env instead" in err  # command lines end up in shell history
    assert secret not in out + err
    assert "judge (j): 3 judgements, none failed" in out
    for path in (run_dir / "out").rglob("*"):
        if path.is_file():
            assert secret not in path.read_text(errors="replace"), path


def test_predict_only_needs_no_judge(run_dir: Path, capsys: pytest.CaptureFixture[str], model: FaultServer) -> None:
    code, _, err = run(capsys, run_dir / "out", model, None, "assay_video_qa", "--predict_only", limit=2)
    assert code == 0, err  # no OPENAI_API_KEY asked for: nothing is judged
    assert "judge" not in results_file(run_dir / "out")
