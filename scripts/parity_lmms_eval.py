"""Record lmms-eval's own numbers on the parity stand-ins, and print them beside assay's.

Run it where lmms-eval is installed in a throwaway virtualenv outside the repo (it needs torch):

    python3 -m venv /tmp/lmms && /tmp/lmms/bin/pip install lmms-eval==0.7.3 decord
    python scripts/parity_lmms_eval.py --lmms-python /tmp/lmms/bin/python

Both tools evaluate the same wrapper YAMLs (lmms-eval's task folders, local stand-in data) against the same
scripted loopback server, so they get the same answers. lmms-eval runs with ``--force_simple`` (its simple
OpenAI model sends the few-shot context; its chat model drops it). The per-sample scores, prompts and
aggregates lmms-eval wrote are saved to ``tests/parity_reference.json``, which tests/test_parity.py holds
assay to; the side-by-side table goes to stdout (the README's compatibility section shows it).

``--audio`` records the audio stand-ins (tests/audio_standins.py: LibriSpeech, CoVoST2, VocalSound,
MuChoMusic) instead, into ``tests/parity_audio_reference.json``. lmms-eval's API model for audio is
``gpt4o_audio`` (it sends ``input_audio`` wav built from the decoded array, and needs librosa):

    /tmp/lmms/bin/pip install librosa soundfile
    python scripts/parity_lmms_eval.py --lmms-python /tmp/lmms/bin/python --audio
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests import audio_standins, parity_data  # noqa: E402
from tests.audio_data import by_pitch  # noqa: E402
from tests.fault_server import FaultServer  # noqa: E402

REFERENCE = REPO / "tests" / "parity_reference.json"
AUDIO_REFERENCE = REPO / "tests" / "parity_audio_reference.json"
SAMPLE_SKIP = {"doc_id", "doc", "target", "arguments", "resps", "filtered_resps", "doc_hash", "token_counts",
               "input", "input_media", "filter", "metrics"}


def run_lmms_eval(python: str, work: Path, tasks: list[str], base_url: str, *, audio: bool = False) -> Path:
    out = work / "lmms_out"
    env = {**os.environ, "HF_HOME": str(work / "hf"), "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
           "OPENAI_API_KEY": "sk-parity"}
    if audio:  # gpt4o_audio builds its OpenAI client from the environment
        env.update({"API_TYPE": "openai", "OPENAI_BASE_URL": base_url})
        model = ["--model", "gpt4o_audio", "--model_args", "model_version=gpt-4o-audio-preview"]
    else:
        model = ["--model", "openai", "--model_args", f"model_version=m,base_url={base_url},num_concurrent=4",
                 "--force_simple"]
    cmd = [python, "-m", "lmms_eval", *model, "--tasks", ",".join(tasks), "--include_path", str(work / "tasks"),
           "--output_path", str(out), "--log_samples"]
    proc = subprocess.run(cmd, env=env, cwd=work, check=True, capture_output=True, text=True)
    if not list(out.rglob("*_results.json")):  # lmms-eval exits 0 after an evaluation error
        raise SystemExit(f"lmms-eval wrote no results:\n{proc.stderr[-3000:]}")
    return out


def read_lmms_eval(out: Path) -> dict[str, Any]:
    results_file = max(out.rglob("*_results.json"))
    document = json.loads(results_file.read_text())
    reference: dict[str, Any] = {}
    for task, entry in document["results"].items():
        aggregates = {k: v for k, v in entry.items() if "," in k}
        samples: dict[str, dict[str, Any]] = {}
        prompts: dict[str, str] = {}
        for path in results_file.parent.glob(f"*_samples_{task}.jsonl"):
            for line in path.read_text().splitlines():
                row = json.loads(line)
                by_filter = samples.setdefault(str(row["doc_id"]), {})
                by_filter[row.get("filter", "none")] = {k: v for k, v in row.items() if k not in SAMPLE_SKIP}
                if isinstance(row.get("input"), str):
                    prompts[str(row["doc_id"])] = row["input"]
        reference[task] = {"aggregates": aggregates, "samples": samples, "prompts": prompts}
    return reference


def filter_names(out: Path) -> dict[str, list[str]]:
    """Which filter each samples line belongs to (lmms-eval writes one line per doc and filter, in order)."""
    names: dict[str, list[str]] = {}
    document = json.loads(max(out.rglob("*_results.json")).read_text())
    for task, config in document.get("configs", {}).items():
        names[task] = [f["name"] for f in config.get("filter_list") or [{"name": "none"}]]
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lmms-python", required=True, help="the python of a virtualenv with lmms-eval")
    parser.add_argument("--tree", type=Path, default=REPO.parent / "shared" / "lmms-eval-tasks" / "lmms_eval" / "tasks")
    parser.add_argument("--audio", action="store_true", help="record the audio stand-ins instead")
    args = parser.parse_args(argv)
    if args.audio:
        return record_audio(args.lmms_python, args.tree)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        answers = parity_data.write(work, args.tree, work / "hf")
        tasks = [t for t in answers if t != "parity_arc_easy"]  # lmms-eval's API model has no loglikelihood
        with FaultServer(answer=parity_data.oracle(answers)) as server:
            out = run_lmms_eval(args.lmms_python, work, tasks, server.base_url)
        reference = read_lmms_eval(out)
        _label_filters(reference, out, filter_names(out))
    version = _version(args.lmms_python)
    REFERENCE.write_text(json.dumps({"lmms_eval": version, "tasks": reference}, indent=1, sort_keys=True) + "\n")
    print(f"lmms-eval {version}: {len(reference)} tasks recorded in {REFERENCE.relative_to(REPO)}")
    return 0


def record_audio(python: str, tree: Path) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        answers = audio_standins.write(work, tree, decoded=True, only=audio_standins.PARITY)
        with FaultServer(answer=by_pitch(audio_standins.table(answers))) as server:
            out = run_lmms_eval(python, work, list(answers), server.base_url, audio=True)
        reference = read_lmms_eval(out)
        _label_filters(reference, out, filter_names(out))
    version = _version(python)
    AUDIO_REFERENCE.write_text(json.dumps({"lmms_eval": version, "tasks": reference}, indent=1, sort_keys=True) + "\n")
    print(f"lmms-eval {version}: {len(reference)} audio tasks recorded in {AUDIO_REFERENCE.relative_to(REPO)}")
    return 0


def _version(python: str) -> str:
    return subprocess.run([python, "-c", "import importlib.metadata as m; print(m.version('lmms_eval'))"],
                          capture_output=True, text=True, check=True).stdout.strip()


def _label_filters(reference: dict[str, Any], out: Path, names: dict[str, list[str]]) -> None:
    """Samples files have no filter field: the k-th line of a doc is its k-th filter."""
    for task, entry in reference.items():
        wanted = names.get(task, ["none"])
        relabelled: dict[str, dict[str, Any]] = {}
        for path in out.rglob(f"*_samples_{task}.jsonl"):
            seen: dict[str, int] = {}
            for line in path.read_text().splitlines():
                row = json.loads(line)
                doc = str(row["doc_id"])
                k = seen.get(doc, 0)
                seen[doc] = k + 1
                relabelled.setdefault(doc, {})[wanted[k]] = {key: v for key, v in row.items() if key not in SAMPLE_SKIP}
        entry["samples"] = relabelled


if __name__ == "__main__":
    raise SystemExit(main())
