"""lmms-eval's ways of calling a judge, from synchronous helper code in worker threads: the judge client
API (``get_server(...).evaluate``, ``evaluate_binary``), ``requests.post`` to a chat-completions URL, and
the ``openai`` SDK. Each reaches assay's judge (its address, key and retries, not the helper's), and a
failure the helper swallows into a 0 still excludes the sample."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fault_server import FaultServer, last_user_text
from tests.helpers import results_file, run_cli, write

DOCS = [{"id": i, "q": f"question {i}", "a": "yes" if i % 2 == 0 else "no"} for i in range(6)]
FAST = "backoff_initial=0.01,backoff_max=0.02,max_retries=1"

SERVER_UTILS = '''
from assay.compat.lmms_eval.llm_judge import Request, ServerConfig, get_server

server = get_server("openai", ServerConfig(model_name="helper-model", max_tokens=32))


def process_results(doc, results):
    try:  # lmms-eval helpers turn any failure into a score
        response = server.evaluate(Request(messages=[{"role": "user", "content": f"grade {doc['q']}: {results[0]}"}]))
        score = float(response.content)
    except Exception:
        score = 0.0
    return {"score": score}


def binary(doc, results):
    result = server.evaluate_binary(question=doc["q"], answer=doc["a"], prediction=results[0],
                                    output_format="0/1")
    return {"score": float(result["result"])}
'''
REQUESTS_UTILS = '''
import requests

API_URL = "https://api.openai.com/v1/chat/completions"  # as lmms-eval helpers read OPENAI_API_URL
HEADERS = {"Authorization": "Bearer YOUR_API_KEY", "Content-Type": "application/json"}


def process_results(doc, results):
    prompt = f"grade {doc['q']}: {results[0]}"
    payload = {"model": "gpt-4o-2024-11-20", "messages": [{"role": "user", "content": prompt}],
               "temperature": 0, "max_tokens": 16}
    for _ in range(3):
        try:
            response = requests.post(API_URL, headers=HEADERS, json=payload, timeout=60)
            response.raise_for_status()
            return {"score": float(response.json()["choices"][0]["message"]["content"])}
        except Exception:
            continue
    return {"score": 0.0}
'''
OPENAI_UTILS = '''
from openai import OpenAI

client = OpenAI(api_key="sk-not-a-real-key", base_url="https://api.openai.com/v1")


def process_results(doc, results):
    try:
        prompt = f"grade {doc['q']}: {results[0]}"
        reply = client.chat.completions.create(model="gpt-4o", max_tokens=16,
                                               messages=[{"role": "user", "content": prompt}])
        return {"score": float(reply.choices[0].message.content)}
    except Exception:
        return {"score": 0.0}
'''

AZURE_UTILS = OPENAI_UTILS.replace("from openai import OpenAI", "from openai import AzureOpenAI").replace(
    'OpenAI(api_key="sk-not-a-real-key", base_url="https://api.openai.com/v1")',
    'AzureOpenAI(api_key="sk-not-a-real-key", azure_endpoint="https://res.openai.azure.com", '
    'api_version="2024-06-01")').replace('model="gpt-4o"', 'model="gpt-4o-deployment"')


def task_folder(root: Path, name: str, utils: str, process: str = "process_results", metadata: str = "") -> Path:
    if "import requests" in utils:
        pytest.importorskip("requests")  # installed by the `lmms` extra, as lmms-eval helpers need it
    folder = root / name
    write(folder, "docs.jsonl", "".join(json.dumps(d) + "\n" for d in DOCS))
    write(folder, "utils.py", utils)
    write(folder, f"{name}.yaml", f"""\
        task: {name}
        dataset_path: json
        dataset_kwargs:
          data_files:
            test: docs.jsonl
        test_split: test
        doc_to_text: "{{{{q}}}}"
        doc_to_target: a
        process_results: !function utils.{process}
        metric_list:
          - metric: score
            aggregation: mean
        metadata:
          version: 1.0
          {metadata}
        """)
    return folder


@pytest.fixture
def model() -> Iterator[FaultServer]:
    with FaultServer(lambda body: "an answer") as server:
        yield server


def run(capsys: pytest.CaptureFixture[str], out: Path, model: FaultServer, judge: FaultServer, folder: Path,
        *extra: str, judge_args: str = "") -> tuple[int, str]:
    args = f"base_url={judge.base_url},{FAST}" + (f",{judge_args}" if judge_args else "")
    code, _, err = run_cli(capsys, "--model", "openai_compatible", "--model_args",
                           f"model=m,base_url={model.base_url},num_concurrent=4", "--tasks", folder.name,
                           "--include_path", str(folder), "--judge_model", "openai_compatible",
                           "--judge_args", args, "--output_path", str(out), "--log_samples", *extra)
    return code, err


def task_result(out: Path, name: str) -> dict[str, Any]:
    return results_file(out)["results"][name]  # type: ignore[no-any-return]


@pytest.mark.parametrize(("name", "utils", "model_name"), [
    ("via_server", SERVER_UTILS, "helper-model"), ("via_requests", REQUESTS_UTILS, "gpt-4o-2024-11-20"),
    ("via_openai_sdk", OPENAI_UTILS, "gpt-4o"), ("via_azure_sdk", AZURE_UTILS, "gpt-4o-deployment")])
def test_helpers_reach_assays_judge(run_dir: Path, capsys: pytest.CaptureFixture[str], model: FaultServer,
                                    name: str, utils: str, model_name: str) -> None:
    folder = task_folder(run_dir / "tasks", name, utils)
    with FaultServer(lambda body: "0.75") as judge:
        code, err = run(capsys, run_dir / "out", model, judge, folder)
    assert code == 0, err
    result = task_result(run_dir / "out", name)
    assert result["metrics"]["score"]["value"] == pytest.approx(0.75)
    assert (result["n_judged"], result["n_judge_failed"]) == (6, 0)
    assert judge.count == 6  # the helper's own URL (api.openai.com) was never contacted
    prompts = sorted(last_user_text(body) for body in judge.requests)
    assert prompts == [f"grade question {i}: an answer" for i in range(6)]
    assert {body["model"] for body in judge.requests} == {model_name}  # the model the helper asked for
    assert all("YOUR_API_KEY" not in h.get("Authorization", "") and "sk-not-a-real-key" not in
               h.get("Authorization", "") for h in judge.headers)


@pytest.mark.parametrize(("name", "utils"), [("via_server", SERVER_UTILS), ("via_requests", REQUESTS_UTILS),
                                             ("via_openai_sdk", OPENAI_UTILS)])
def test_failed_requests_the_helper_swallows_still_exclude_the_sample(
        run_dir: Path, capsys: pytest.CaptureFixture[str], model: FaultServer, name: str, utils: str) -> None:
    folder = task_folder(run_dir / "tasks", name, utils)
    with FaultServer(lambda body: "1.0") as judge:
        # One sample's judgement fails for good (both attempts), however requests interleave.
        judge.fault_for = lambda body: {"status": 503} if "question 0:" in last_user_text(body) else {}
        code, err = run(capsys, run_dir / "out", model, judge, folder)
    assert code == 4, err  # 1 of 6 > 5%: results written, the run says so
    result = task_result(run_dir / "out", name)
    assert result["judge_failed"] == {"request_failed": 1} and result["n_judged"] == 5
    assert result["metrics"]["score"] == {**result["metrics"]["score"], "value": 1.0, "n": 5}  # not 5/6
    assert judge.count == 2 + 5  # the helper's own retries were not sent again (assay's were spent)


def test_a_declared_verdict_contract_catches_a_silent_fallback(run_dir: Path, capsys: pytest.CaptureFixture[str],
                                                                model: FaultServer) -> None:
    """The helper reads the judge with float(answer) and scores 0.0 when that fails. Without a contract assay
    cannot see that (the request succeeded); with the task's contract, the unreadable answers are counted."""
    chatty = "A solid answer, I would say 0.9"
    plain = task_folder(run_dir / "plain", "uncontracted", SERVER_UTILS)
    strict = task_folder(run_dir / "strict", "contracted", SERVER_UTILS,
                         metadata="judge_verdict: {parser: score, min: 0, max: 1, leading: true}")
    with FaultServer(lambda body: chatty) as judge:
        code, _ = run(capsys, run_dir / "out", model, judge, plain)
        assert code == 0
        assert task_result(run_dir / "out", "uncontracted")["metrics"]["score"]["value"] == 0.0  # lmms-eval's way
        code, err = run(capsys, run_dir / "out2", model, judge, strict)
    assert code == 4 and "parse_failed 6" in err
    result = task_result(run_dir / "out2", "contracted")
    assert result["metrics"]["score"]["value"] is None and result["n_judge_failed"] == 6


def test_evaluate_binary_is_parsed_strictly(run_dir: Path, capsys: pytest.CaptureFixture[str],
                                            model: FaultServer) -> None:
    folder = task_folder(run_dir / "tasks", "binary", SERVER_UTILS, process="binary")
    verdicts = {"0": "1", "1": "0", "2": "Yes", "3": "hmm, not sure", "4": "1", "5": "0"}

    def answer(body: dict[str, Any]) -> str:
        found = re.search(r"question (\d)\n", last_user_text(body))
        assert found is not None
        return verdicts[found.group(1)]

    with FaultServer(answer) as judge:
        code, _ = run(capsys, run_dir / "out", model, judge, folder, "--max_judge_failure_rate", "0.5")
    assert code == 0
    result = task_result(run_dir / "out", "binary")
    # 1, 0, yes(=1), [hmm → asked again → hmm: parse_failed], 1, 0
    assert result["judge_failed"] == {"parse_failed": 1} and result["n_judged"] == 5
    assert result["metrics"]["score"]["value"] == pytest.approx(3 / 5)
    assert "Reply with exactly one word: 1 if the answer is correct" in last_user_text(judge.requests[0])


def test_a_judge_that_refuses_the_key_stops_the_run(run_dir: Path, capsys: pytest.CaptureFixture[str],
                                                    model: FaultServer) -> None:
    folder = task_folder(run_dir / "tasks", "via_server", SERVER_UTILS)
    with FaultServer(lambda body: "1") as judge:
        judge.queue(*[{"status": 401, "body": {"error": {"message": "bad key"}}}] * 10)
        code, err = run(capsys, run_dir / "out", model, judge, folder,
                        "--model_args", f"model=m,base_url={model.base_url},num_concurrent=1",
                        judge_args="num_concurrent=1")
        assert code == 3 and "run stopped" in err and "refused the credential (401)" in err
        assert judge.count <= 2  # not retried; at most the one judgement already waiting was sent
    document = results_file(run_dir / "out")
    assert document["status"] == "aborted" and model.count < len(DOCS)


def test_response_parser_keeps_lmms_evals_fallbacks_but_counts_them() -> None:
    from assay.compat.lmms_eval.llm_judge import ResponseParser
    from assay.judge.log import judging_sample
    from assay.judge.outcome import Verdict

    with judging_sample() as log:
        log.add(1, Verdict("maybe", "maybe"), parsed=False)
        log.add(2, Verdict("8 7", "8 7"), parsed=False)
        assert ResponseParser.parse_binary_response("maybe", "0/1") == 0  # lmms-eval's fallback value…
        assert ResponseParser.parse_comparative_response("8 7") == (8.0, 7.0)
        assert ResponseParser.parse_score_response("Score: 12", (0, 10)) == 0  # not clamped to 10
        assert ResponseParser.parse_json_response("{broken") == {}
    failure = log.failure()  # …and the unreadable answer it came from is a counted parse failure
    assert failure is not None and failure.reason == "parse_failed" and failure.raw == "maybe"
    assert [e.outcome.ok for e in log.entries] == [False, True]


def test_sglang_programs_run_on_the_judge_and_fail_loudly_outside_a_run() -> None:
    import importlib
    import sys

    from assay.compat.clients import install_client_shims

    if "sglang" not in install_client_shims() and "sglang" not in sys.modules:
        pytest.skip("the real SGLang is installed")
    sgl = importlib.import_module("sglang")

    @sgl.function
    def grade(s: Any, question: str) -> None:
        s += sgl.system("You grade.")
        s += sgl.user(question)
        s += sgl.assistant(sgl.gen("verdict", max_tokens=8))

    sgl.set_default_backend(sgl.RuntimeEndpoint("http://localhost:30000"))  # accepted, not used
    with pytest.raises(RuntimeError, match="no judge is available"):
        grade.run(question="Is this right?")


def test_only_chat_completion_posts_made_while_scoring_are_taken_over() -> None:
    from assay.judge.intercept import judge_answer
    from assay.judge.log import judging_sample

    body = json.dumps({"model": "m", "messages": [{"role": "user", "content": "hi"}]}).encode()
    url = "https://api.openai.com/v1/chat/completions"
    assert judge_answer("POST", url, body) is None  # not scoring a sample: the request goes out as sent
    with judging_sample():
        assert judge_answer("GET", url, body) is None
        assert judge_answer("POST", "https://huggingface.co/api/whoami-v2", body) is None
        assert judge_answer("POST", url, b"not json") is None
        # No judge in this context (outside a run): still not taken over, the helper's request is its own.
        assert judge_answer("POST", "https://r.openai.azure.com/openai/deployments/gpt-4o/chat/completions"
                            "?api-version=2024-06-01", body) is None
