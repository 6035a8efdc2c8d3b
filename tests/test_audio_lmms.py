"""lmms-eval's audio task folders run as they are: eight families (LibriSpeech WER, Common Voice WER, CoVoST2
BLEU, Clotho-AQA, AIR-Bench judged, VocalSound, MuChoMusic, VoiceBench) on stand-in data of the right shape
(tests/audio_standins.py), against loopback servers that check the wire format (OpenAI ``input_audio``,
Gemini inline audio) and answer from the pitch of the clip they hear. Scores are what the tasks' own helpers
compute; tests/test_parity.py holds four of them to lmms-eval 0.7.3's own numbers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests import audio_standins
from tests.audio_data import by_pitch, pitch, sent_audio
from tests.emulators import GeminiEmulator, OpenAIEmulator
from tests.fault_server import FaultServer, last_user_text

KEY = "emu-audio-lmms-key-000001"
JUDGE_KEY = "sk-audio-judge-secret-0001"


def _run(work: Path, model_args: str, model: str, tasks: list[str], judge_url: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(work), "HF_HOME": str(work / "hf"),
           "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "LMMS_EVAL_HOME": str(work / "home"),
           "OPENAI_API_KEY": JUDGE_KEY, "API_TYPE": "openai"}  # as lmms-eval users set it for AIR-Bench
    cmd = [sys.executable, "-m", "assay", "run", "--model", model, "--model_args", model_args, "--tasks",
           ",".join(tasks), "--include_path", str(work / "tasks"), "--output_path", str(work / "out"),
           "--log_samples", "--judge_model", "openai_compatible", "--judge_args",
           f"model=judge-m,base_url={judge_url},max_retries=1"]
    return subprocess.run(cmd, env=env, cwd=work, capture_output=True, text=True, timeout=600)


def _outputs(out: Path) -> tuple[dict[str, Any], dict[str, dict[int, dict[str, Any]]]]:
    results = json.loads(next(out.rglob("*_results.json")).read_text())
    samples: dict[str, dict[int, dict[str, Any]]] = {}
    for path in out.rglob("*_samples_*.jsonl"):
        rows = [json.loads(line) for line in path.read_text().splitlines()]
        samples[rows[0]["task"]] = {r["doc_id"]: r for r in rows}
    return results, samples


MODEL_ANSWERS = ("A dog is barking.", "It is raining.", "Someone is knocking.")


def _judge(body: dict[str, Any]) -> str:
    """AIR-Bench's judge rates the model 6 and the reference 8, whichever order the helper asks in."""
    first = last_user_text(body).split("[The Start of Assistant 1s Answer]\n", 1)[1]
    return "6 8" if first.startswith(MODEL_ANSWERS) else "8 6"


@pytest.fixture(scope="module")
def openai_run(lmms_tree: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("audio_lmms")
    answers = audio_standins.write(work, lmms_tree)
    with OpenAIEmulator(key=KEY, answer=by_pitch(audio_standins.table(answers))) as emu, \
            FaultServer(_judge) as judge:
        proc = _run(work, f"model=gpt-4o-audio-preview,base_url={emu.api_root},api_key={KEY},num_concurrent=4",
                    "openai_compatible", list(answers), judge.base_url)
    results, samples = _outputs(work / "out")
    return {"proc": proc, "results": results["results"], "samples": samples, "emu": emu, "judge": judge,
            "answers": answers, "work": work}


def test_every_family_runs_and_the_wire_format_holds(openai_run: dict[str, Any]) -> None:
    proc, emu = openai_run["proc"], openai_run["emu"]
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert emu.problems == []
    assert len(emu.requests) == sum(len(a) for a in openai_run["answers"].values())
    for seen in emu.requests:
        (clip,) = sent_audio(seen.body)
        _, rate, seconds = pitch(clip)
        assert rate == 16_000 and abs(seconds - audio_standins.SECONDS) < 0.01  # resampled, not cut
        assert seen.body["messages"][0]["content"][0]["type"] == "input_audio"  # audio before the question
    for task, per_doc in openai_run["samples"].items():  # each doc got the answer scripted for its own clip
        assert [r["resps"][0][0] for _, r in sorted(per_doc.items())] == list(openai_run["answers"][task].values())
        assert all(r["error"] is None and r["audio"][0]["sample_rate"] == 16_000 for r in per_doc.values())


def test_scores_are_what_the_helpers_compute(openai_run: dict[str, Any]) -> None:
    results, samples = openai_run["results"], openai_run["samples"]
    # Clotho-AQA: exact_match ignoring case and punctuation: Yes., no, YES and bell! match; "A dog" and "2" do not
    assert results["audio_clotho_aqa"]["exact_match,none"] == pytest.approx(4 / 6)
    # VocalSound: the first class named in the answer: laughter, cough (not sniff), throat clearing, cough,
    # sneeze (not sigh), sneeze
    assert results["audio_vocalsound"]["accuracy,none"] == pytest.approx(round(4 / 6, 5))
    # MuChoMusic: A (A), (B) violin (B), D (C), (D) (D), A. (A), C (B)
    assert [samples["audio_muchomusic"][i]["metrics"]["accuracy"] for i in range(6)] == [1, 1, 0, 1, 1, 0]
    # VoiceBench MCQ: A=A, "the answer is c"=B? no, c=C, (D)=D, unsure: none
    assert [samples["audio_voicebench_obqa"][i]["metrics"]["accuracy"] for i in range(5)] == [100, 0, 100, 100, 0]
    # WER with Whisper's English normaliser: numbers, "Mr." and spelling variants are normalised away
    librispeech = samples["audio_librispeech"][4]["metrics"]["wer"]
    assert librispeech == {"gt": "THE TWENTY FIRST OF MAY", "pred": "The 21st of May.",
                           "source": "librispeech_test_clean", "task": "asr_en"}
    assert 0 < results["audio_librispeech"]["wer,none"] < 40
    assert 0 < results["audio_common_voice"]["wer,none"] < 40
    assert 10 < results["audio_covost2"]["bleu,none"] < 100


def test_air_bench_is_judged_through_assays_judge(openai_run: dict[str, Any]) -> None:
    judge, entry = openai_run["judge"], openai_run["results"]["audio_air_bench_chat"]
    assert judge.count == 2 * 3  # two asks per doc (both orders, against position bias)
    assert all(r["model"] == "judge-m" for r in judge.requests)
    # the helper adds the model's score from each order (6 + 6) and divides by 2 per doc
    assert entry["gpt_eval,none"] == pytest.approx(6.0) and entry["n_judged"] == 3
    for path in (openai_run["work"] / "out").rglob("*"):
        if path.is_file():
            assert JUDGE_KEY not in path.read_text(errors="replace") and KEY not in path.read_text(errors="replace")


def test_gemini_sends_the_same_tasks_inline(lmms_tree: Path, tmp_path: Path) -> None:
    answers = audio_standins.write(tmp_path, lmms_tree, only=("clotho_aqa", "muchomusic"))
    with GeminiEmulator(key=KEY, answer=by_pitch(audio_standins.table(answers))) as emu, FaultServer() as judge:
        proc = _run(tmp_path, f"model=gemini-2.5-flash,base_url={emu.base_url},api_key={KEY}", "gemini",
                    list(answers), judge.base_url)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert emu.problems == [] and len(emu.requests) == 12
    assert all(seen.body["contents"][0]["parts"][0]["inlineData"]["mimeType"] == "audio/wav" for seen in emu.requests)
    results, _ = _outputs(tmp_path / "out")
    assert results["results"]["audio_clotho_aqa"]["exact_match,none"] == pytest.approx(4 / 6)
