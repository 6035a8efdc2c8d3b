"""Stand-ins for lmms-eval's audio tasks: the real YAMLs and helpers, a few rows of the right shape with real
decodable audio, and the answers a scripted model gives.

Each row's clip is a tone whose pitch is unique over all stand-ins (``100 Hz × key``), at 16, 22.05 or
44.1 kHz, so a loopback server that *hears* the clip (tests.audio_data.by_pitch) knows which doc it is: the
prompts of audio tasks are often the same for every doc. Audio columns are written as Hugging Face
``Audio`` cells (wav bytes, what lmms-lab's parquet files hold), or, with ``decoded=True``, as the decoded
``{"array", "sampling_rate"}`` struct, which lmms-eval 0.7.3's API model can read without torchcodec
(scripts/parity_lmms_eval.py --audio).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.audio_data import encoded, tone

RATES = (16_000, 22_050, 44_100)
SECONDS = 0.5


@dataclass
class AudioStandIn:
    name: str  # the task is `audio_<name>`
    yaml: str  # the original, relative to lmms-eval's tasks folder
    split: str
    rows: list[dict[str, Any]]
    answers: list[str]
    audio_column: str = "audio"
    overrides: dict[str, Any] = field(default_factory=dict)
    judged: bool = False

    @property
    def task(self) -> str:
        return f"audio_{self.name}"


def librispeech() -> AudioStandIn:
    gts = ["HE HOPED THERE WOULD BE STEW FOR DINNER", "TURNIPS AND CARROTS AND BRUISED POTATOES",
           "AFTER EARLY NIGHTFALL THE YELLOW LAMPS", "STUFF IT INTO YOU HIS BELLY COUNSELLED HIM",
           "THE TWENTY FIRST OF MAY", "MISTER QUILTER IS THE APOSTLE"]
    answers = ["He hoped there would be stew for dinner.", "Turnips and carrots and bruised potatoes",
               "After early night fall, the yellow lamps", "Stuff it into you, his belly counseled him.",
               "The 21st of May.", "Mr. Quilter is the apostle of the middle classes."]
    rows = [{"gt": gt, "source": "librispeech_test_clean", "task": "asr_en"} for gt in gts]
    return AudioStandIn("librispeech", "librispeech/librispeech_test_clean.yaml", "test", rows, answers)


def common_voice() -> AudioStandIn:
    sentences = ["The cat sat on the mat.", "She sells sea shells.", "It is a lovely day today.",
                 "Where is the nearest station?", "I have two brothers."]
    answers = ["the cat sat on the mat", "She sells seashells.", "It's a lovely day today.",
               "Where is the nearest station", "I have 2 brothers."]
    rows = [{"sentence": s, "path": f"common_voice_en_{i}.mp3", "locale": "en"} for i, s in enumerate(sentences)]
    return AudioStandIn("common_voice", "common_voice_15/common_voice_15_en.yaml", "test", rows, answers)


def covost2() -> AudioStandIn:
    gts = ["The weather is nice today.", "I would like a cup of tea.", "Where is the train station?",
           "He reads a book every week.", "We are going to the market tomorrow."]
    answers = ["The weather is good today.", "I would like a cup of tea.", "Where's the railway station?",
               "Every week he reads a book.", "Tomorrow we go to the market."]
    return AudioStandIn("covost2", "covost2/covost2_zh_en_test.yaml", "test", [{"gt": g} for g in gts], answers)


def clotho_aqa() -> AudioStandIn:
    qa = [("Is there a bird singing?", "yes"), ("What animal is barking?", "dog"), ("Is it raining?", "no"),
          ("How many cars pass?", "two"), ("Is a person speaking?", "yes"), ("What is ringing?", "bell")]
    answers = ["Yes.", "A dog", "no", "2", "YES", "bell!"]
    rows = [{"question": q, "answer": a} for q, a in qa]
    return AudioStandIn("clotho_aqa", "clotho_aqa/clotho_aqa_val.yaml", "test", rows, answers)


def air_bench_chat() -> AudioStandIn:
    rows = [{"question": f"What happens in the recording? (clip {i})", "answer_gt": a, "meta_info": m}
            for i, (a, m) in enumerate([("A dog barks twice.", "dog barking, outdoor"),
                                        ("Rain falls on a roof.", "rain, roof, steady"),
                                        ("A door slams shut.", "door, indoor, loud")])]
    answers = ["A dog is barking.", "It is raining.", "Someone is knocking."]
    return AudioStandIn("air_bench_chat", "air_bench/air_bench_chat_sound.yaml", "test", rows, answers, judged=True)


def vocalsound() -> AudioStandIn:
    labels = ["Laughter", "Sniff", "Throat clearing", "Cough", "Sigh", "Sneeze"]
    rows = [{"answer": label, "age_group": 1 + i % 3, "spk_id": ("f" if i % 2 else "m") + f"{i:04d}"}
            for i, label in enumerate(labels)]
    answers = ["This is laughter.", "cough", "Throat clearing", "A cough.", "sneeze", "The person sneezes."]
    return AudioStandIn("vocalsound", "vocalsound/vocalsound_test.yaml", "test", rows, answers)


def muchomusic() -> AudioStandIn:
    rows = [{"instruction": f"Which instrument leads piece {i}?", "choices": ["(A) piano", "(B) violin",
                                                                               "(C) drums", "(D) flute"],
             "answer": f"({'ABCD'[i % 4]}) x"} for i in range(6)]
    answers = ["A", "(B) violin", "D", "The answer is (D).", "A.", "C"]
    return AudioStandIn("muchomusic", "muchomusic/muchomusic.yaml", "test", rows, answers, audio_column="context")


def voicebench_obqa() -> AudioStandIn:
    rows = [{"prompt": f"Question {i}: which option is right?", "reference": "ABCD"[i % 4]} for i in range(5)]
    answers = ["A", "The answer is C.", "c", "(D)", "I am not sure."]
    return AudioStandIn("voicebench_obqa", "voicebench/voicebench_openbookqa.yaml", "test", rows, answers)


BUILDERS: tuple[Callable[[], AudioStandIn], ...] = (
    librispeech, common_voice, covost2, clotho_aqa, air_bench_chat, vocalsound, muchomusic, voicebench_obqa,
)
#: lmms-eval 0.7.3 recorded these (tests/parity_audio_reference.json); the others run in assay only.
PARITY = ("librispeech", "covost2", "vocalsound", "muchomusic")
FIRST_KEY = 3  # 300 Hz: the lowest pitch used


def standins(only: tuple[str, ...] = ()) -> list[tuple[AudioStandIn, list[int]]]:
    """Every stand-in with the pitch key of each row (unique over all of them, whichever are chosen)."""
    out, key = [], FIRST_KEY
    for build in BUILDERS:
        s = build()
        keys = list(range(key, key + len(s.rows)))
        key += len(s.rows)
        if not only or s.name in only:
            out.append((s, keys))
    return out


def _clip(key: int, i: int) -> tuple[Any, int]:
    rate = RATES[i % len(RATES)]
    return tone(100.0 * key, SECONDS, rate), rate


def _parquet(s: AudioStandIn, keys: list[int], path: Path, *, decoded: bool) -> None:
    import datasets
    import pyarrow as pa
    import pyarrow.parquet as pq

    column = s.audio_column
    if decoded:
        rows = [{**row, column: {"array": _clip(k, i)[0].tolist(), "sampling_rate": _clip(k, i)[1]}}
                for i, (row, k) in enumerate(zip(s.rows, keys, strict=True))]
        datasets.Dataset.from_list(rows).to_parquet(str(path))
        return
    features = datasets.Dataset.from_list(s.rows).features
    features[column] = datasets.Audio()
    rows = []
    for i, (row, k) in enumerate(zip(s.rows, keys, strict=True)):
        samples, rate = _clip(k, i)
        rows.append({**row, column: {"bytes": encoded(samples, rate, "WAV"), "path": f"{s.name}-{i}.wav"}})
    pq.write_table(pa.Table.from_pylist(rows, schema=datasets.Features(features).arrow_schema), path)


def write(out: Path, tree: Path, *, decoded: bool = False, only: tuple[str, ...] = ()) -> dict[str, dict[int, str]]:
    """Data and wrapper YAMLs (``out/tasks``); returns ``{task: {pitch key: scripted answer}}``."""
    import yaml

    answers: dict[str, dict[int, str]] = {}
    (out / "tasks").mkdir(parents=True, exist_ok=True)
    for s, keys in standins(only):
        data = out / "data" / f"{s.name}.parquet"
        data.parent.mkdir(parents=True, exist_ok=True)
        _parquet(s, keys, data, decoded=decoded)
        config = {"include": str(tree / s.yaml), "task": s.task, "dataset_path": "parquet", "dataset_name": None,
                  "dataset_kwargs": {"data_files": {s.split: str(data)}}, "test_split": s.split, **s.overrides}
        (out / "tasks" / f"{s.task}.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        answers[s.task] = dict(zip(keys, s.answers, strict=True))
    (out / "answers.json").write_text(json.dumps(answers, indent=1), encoding="utf-8")
    return answers


def table(answers: dict[str, dict[int, str]]) -> dict[int, str]:
    return {key: answer for per_task in answers.values() for key, answer in per_task.items()}
