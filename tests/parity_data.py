"""Stand-in datasets for lmms-eval parity: the real tasks' YAMLs and code, small local data, scripted answers.

For each task: a few rows with the columns its lmms-eval helpers read (images drawn with PIL, videos encoded
with PyAV), written as parquet (``datasets`` keeps the Image features); a wrapper YAML that ``include:``s
the original from lmms-eval's tree and points it at the parquet; and the answer the scripted model gives
to each question. Every question carries a marker ``[id:<task>-<n>]``, so an oracle server can answer from
the prompt alone — lmms-eval and assay then get the same answers. Answers mix right, wrong and awkwardly
formatted ones, so filters and parsers matter.

    python -m tests.parity_data OUT_DIR TREE   # what scripts/parity_lmms_eval.sh feeds lmms-eval too
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MARK = re.compile(r"\[id:([\w-]+)\]")


@dataclass
class StandIn:
    name: str  # the parity task is `parity_<name>`
    yaml: str  # the original, relative to lmms-eval's tasks folder
    split: str
    rows: list[dict[str, Any]]
    answers: list[str]  # what the scripted model says to each row, in order
    images: tuple[str, ...] = ("image",)  # columns holding images (a list of images for seedbench)
    overrides: dict[str, Any] = field(default_factory=dict)
    extra_splits: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # few-shot source splits
    videos: tuple[str, ...] = ()  # video ids to write under $HF_HOME/<cache_dir>/data


def _image(i: int) -> Any:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (32, 32), ((37 * i) % 256, (91 * i) % 256, (53 * i + 80) % 256))
    ImageDraw.Draw(image).rectangle((4 + i % 8, 4, 20, 12 + i % 10), fill=(255, 255, 255))
    return image


def _q(task: str, n: int, text: str) -> str:
    return f"{text} [id:{task}-{n}]"


def mme() -> StandIn:
    cats = ["existence", "existence", "count", "count", "OCR", "OCR", "code_reasoning", "code_reasoning",
            "numerical_calculation", "numerical_calculation"]
    question = "Is there a dog? Please answer yes or no."
    rows = [{"question_id": f"{cats[i]}/{i // 2}.png", "question": _q("mme", i, question),
             "answer": "Yes" if i % 2 == 0 else "No", "category": cats[i], "image": _image(i)} for i in range(10)]
    answers = ["Yes", "No", "yes.", "Yes", "No", "no", "Yes, there is.", "Not sure", "Y", "N"]
    return StandIn("mme", "mme/mme.yaml", "test", rows, answers)


def mmmu_val() -> StandIn:
    rows = []
    for i in range(8):
        mc = i < 6
        rows.append({"id": f"validation_{['Art', 'Math', 'Physics'][i % 3]}_{i + 1}",
                     "question": _q("mmmu_val", i, f"<image 1> What is shown ({i})?"),
                     "options": str(["cat", "dog", "bird", "fish"]) if mc else "[]",
                     "answer": "ABCD"[i % 4] if mc else str(10 + i),
                     "question_type": "multiple-choice" if mc else "open",
                     "image_1": _image(i), **{f"image_{k}": None for k in range(2, 8)}})
    # open answers give one candidate each: mmmu's parser returns a set's first item (order varies per process)
    answers = ["A", "(B) dog", "The answer is C.", "B", "(C) bird", "D", "16", "20"]
    return StandIn("mmmu_val", "mmmu/mmmu_val.yaml", "validation", rows, answers,
                   images=tuple(f"image_{k}" for k in range(1, 8)))


def ai2d() -> StandIn:
    rows = [{"question": _q("ai2d", i, "Which part is labelled X?"), "options": ["stem", "leaf", "root", "flower"],
             "answer": str(i % 4), "image": _image(i)} for i in range(8)]
    answers = ["A.", "B. leaf", "C", "(D)", "The answer is leaf", "A", "root", "D. flower"]
    return StandIn("ai2d", "ai2d/ai2d.yaml", "test", rows, answers)


def chartqa() -> StandIn:
    rows = [{"question": _q("chartqa", i, "What is the value of the blue bar?"),
             "answer": ["42", "3.5", "Yes", "1200", "17%", "red", "0.3", "98"][i],
             "type": "human_test" if i % 2 else "augmented_test", "image": _image(i)} for i in range(8)]
    answers = ["42", "3.6", "yes", "1,200", "17", "Red", "0.29", "90"]
    return StandIn("chartqa", "chartqa/chartqa.yaml", "test", rows, answers)


def docvqa_val() -> StandIn:
    rows = [{"questionId": str(100 + i), "question": _q("docvqa_val", i, "What is the title?"),
             "answers": [["Annual Report", "annual report 2020"], ["1990"], ["J. Smith"], ["$45.00", "45"]][i % 4],
             "image": _image(i), "docId": i, "ucsf_document_id": "x", "ucsf_document_page_no": "1",
             "question_types": ["layout"]} for i in range(8)]
    answers = ["Annual Report", "1991", "J Smith", "45", "annual reprot", "nineteen ninety", "Smith", "$45.00"]
    return StandIn("docvqa_val", "docvqa/docvqa_val.yaml", "validation", rows, answers,
                   overrides={"dataset_name": None})


def textvqa_val() -> StandIn:
    answers_sets = [["coca cola"] * 8 + ["coke"] * 2, ["stop"] * 10, ["2", "two"] * 5, ["nike"] * 3 + ["adidas"] * 7]
    rows = [{"question_id": 500 + i, "question": _q("textvqa_val", i, "what brand is shown?"),
             "answers": answers_sets[i % 4], "ocr_tokens": ["a", "b"], "image": _image(i),
             "image_id": str(i), "image_classes": ["x"], "flickr_original_url": "", "flickr_300k_url": "",
             "image_width": 32, "image_height": 32, "set_name": "val"} for i in range(8)]
    answers = ["Coca Cola", "STOP.", "two", "Nike", "coke", "go", "2", "adidas"]
    return StandIn("textvqa_val", "textvqa/textvqa_val.yaml", "validation", rows, answers)


def pope() -> StandIn:
    rows = [{"id": str(i), "question_id": str(i), "question": _q("pope", i, "Is there a cat in the image?"),
             "answer": "yes" if i % 3 else "no", "image_source": "coco", "category": "adversarial",
             "image": _image(i)} for i in range(9)]
    answers = ["no", "yes", "Yes", "yes", "no", "No.", "yes", "yes", "maybe"]
    return StandIn("pope", "pope/pope.yaml", "test", rows, answers)


def ocrbench() -> StandIn:
    kinds = ["Regular Text Recognition", "Scene Text-centric VQA", "Doc-oriented VQA",
             "Handwritten Mathematical Expression Recognition"]
    rows = [{"dataset": "HME100k" if i % 4 == 3 else "IIIT5K", "question": _q("ocrbench", i, "What is written?"),
             "question_type": kinds[i % 4], "answer": [["HELLO"], ["world", "World!"], ["42"], ["x^2+1"]][i % 4],
             "image": _image(i)} for i in range(8)]
    answers = ["hello", "The word is World", "41", "x ^ 2 + 1", "HELL0", "world", "42", "x2+1"]
    return StandIn("ocrbench", "ocrbench/ocrbench.yaml", "test", rows, answers)


def scienceqa_img() -> StandIn:
    rows = [{"question": _q("scienceqa_img", i, "Which is a mammal?"), "choices": ["whale", "shark", "trout"],
             "answer": i % 3, "hint": "Animals." if i % 2 else "", "image": _image(i), "task": "closed choice",
             "grade": "grade4", "subject": "natural science", "topic": "biology", "category": "x", "skill": "y",
             "lecture": "", "solution": ""} for i in range(8)]
    answers = ["A", "B.", "c", "A. whale", "C", "B", "The answer is A", "C. trout"]
    return StandIn("scienceqa_img", "scienceqa/scienceqa_img.yaml", "test", rows, answers)


def realworldqa() -> StandIn:
    rows = [{"question": _q("realworldqa", i, "How many cars are there?" if i % 2 else
                            "Which way is the road going?\nA. left\nB. right\nC. straight"),
             "answer": str(i % 4) if i % 2 else "ABC"[i % 3], "image": _image(i)} for i in range(8)]
    answers = ["A", "1", "The answer is (C).", "3.", "B", "two", "A", "3"]
    return StandIn("realworldqa", "realworldqa/realworldqa.yaml", "test", rows, answers)


def mmstar() -> StandIn:
    cats = [("coarse perception", "image scene and topic"), ("math", "numeric commonsense and calculation"),
            ("logical reasoning", "code & sequence reasoning"), ("fine-grained perception", "localization")]
    rows = [{"index": i, "question": _q("mmstar", i, "Question?\nOptions: A: x, B: y, C: z, D: w"),
             "answer": "ABCD"[i % 4], "category": cats[i % 4][0], "l2_category": cats[i % 4][1],
             "meta_info": {"source": "x", "split": "val"}, "image": _image(i)} for i in range(8)]
    answers = ["A", "B", "The answer is C", "(A)", "A", "D.", "C", "Answer: D"]
    return StandIn("mmstar", "mmstar/mmstar.yaml", "val", rows, answers)


def seedbench() -> StandIn:
    rows = [{"answer": "ABCD"[i % 4], "choice_a": "red", "choice_b": "blue", "choice_c": "green", "choice_d": "black",
             "data_id": str(i), "data_type": "image", "question": _q("seedbench", i, "What color is it?"),
             "question_id": str(i), "question_type_id": 1, "image": [_image(i)], "segment": None} for i in range(8)]
    answers = ["A", "B. blue", "c", "D", "B", "A", "C", "(D)"]
    return StandIn("seedbench", "seedbench/seedbench.yaml", "test", rows, answers)


def videomme() -> StandIn:
    rows = [{"video_id": f"{i:03d}", "duration": ["short", "medium"][i % 2], "domain": "Knowledge",
             "sub_category": "Humanity & History", "url": "", "videoID": f"vid{i % 3}", "question_id": f"{i:03d}-1",
             "task_type": ["Counting Problem", "Object Recognition"][i % 2],
             "question": _q("videomme", i, "What happens in the video?"),
             "options": ["A. a cat runs.", "B. a dog sits.", "C. it rains.", "D. nothing."],
             "answer": "ABCD"[i % 4]} for i in range(8)]
    answers = ["A", "B", "The answer is C.", "A", "(A)", "B. a dog sits.", "D", "D"]
    return StandIn("videomme", "videomme/videomme.yaml", "test", rows, answers, images=(),
                   videos=("vid0", "vid1", "vid2"))


def gsm8k() -> StandIn:
    def row(i: int) -> dict[str, Any]:
        return {"question": _q("gsm8k", i, f"Tom has {i} apples and buys {i + 2}. How many?"),
                "answer": f"He has {i} + {i + 2} = {2 * i + 2} apples.\n#### {2 * i + 2}"}

    rows = [row(i) for i in range(6)]
    answers = ["So the answer is #### 2", "#### 4", "The total is 6.", "#### 9", "I count 10 apples", "#### 1,2"]
    train = [row(100 + i) for i in range(8)]
    # lmms-eval crashes on num_fewshot without a fewshot_config (no sampler): the default sampler is named
    return StandIn("gsm8k", "gsm8k/gsm8k.yaml", "test", rows, answers, images=(), extra_splits={"train": train},
                   overrides={"fewshot_config": {"sampler": "default"}})


#: arc_easy's scripted log-likelihoods: per doc, each choice's log-probability (the first listed is greedy)
ARC_LOGPROBS: list[dict[str, float]] = [
    {"water": -0.5, "ice": -2.0, "steam": -2.5},  # right (answer B)
    {"water": -1.0, "ice": -3.0, "steam": -3.1, "sand": -0.9},  # sand most likely: wrong
    {"steam": -1.2, "water": -1.0, "ice": -0.6},  # ice: wrong by acc; by acc_norm steam (-0.24) wins: wrong too
    {"water": -4.0, "ice": -3.9, "steam": -4.5, "sand": -3.6},  # sand: right (answer D)
    {"water": -2.0, "ice": -1.5, "steam": -9.0},  # ice wins acc; water wins acc_norm (-0.4 vs -0.5): answer B
    {"water": -0.1, "ice": -5.0, "steam": -5.0, "sand": -5.0},  # right (answer B)
]


def arc_easy() -> StandIn:
    rows = []
    for i in range(6):
        n = 3 + i % 2
        texts = ["ice", "water", "steam", "sand"][:n]
        rows.append({"id": str(i), "question": _q("arc_easy", i, "Which is a liquid?"),
                     "choices": {"text": texts, "label": list("ABCD")[:n]},
                     "answerKey": ["B", "B", "B", "D", "B", "B"][i]})
    return StandIn("arc_easy", "arc/arc_easy.yaml", "test", rows, [json.dumps(lp) for lp in ARC_LOGPROBS], images=())


BUILDERS: tuple[Callable[[], StandIn], ...] = (
    mme, mmmu_val, ai2d, chartqa, docvqa_val, textvqa_val, pope, ocrbench, scienceqa_img, realworldqa, mmstar,
    seedbench, videomme, gsm8k, arc_easy,
)


# -- writing -----------------------------------------------------------------------------------------------


def _features(rows: list[dict[str, Any]], images: tuple[str, ...]) -> Any:
    import datasets

    plain = [{k: v for k, v in row.items() if k not in images} for row in rows]
    features = datasets.Dataset.from_list(plain).features
    for column in images:
        if column in rows[0]:
            listed = isinstance(rows[0][column], list)
            features[column] = datasets.Sequence(datasets.Image()) if listed else datasets.Image()
    return datasets.Features({k: features[k] for k in rows[0]})


def _parquet(rows: list[dict[str, Any]], images: tuple[str, ...], path: Path) -> None:
    import datasets

    datasets.Dataset.from_list(rows, features=_features(rows, images)).to_parquet(str(path))


def write_video(path: Path, seed: int, frames: int = 8) -> None:
    import av
    import numpy as np

    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=4)
        stream.width = stream.height = 32
        stream.pix_fmt = "yuv420p"
        for f in range(frames):
            pixels = np.full((32, 32, 3), ((seed * 70 + f * 20) % 256, 80, 160), dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def _wrapper(s: StandIn, tree: Path, data: dict[str, Path]) -> str:
    import yaml

    config: dict[str, Any] = {
        "include": str(tree / s.yaml), "task": f"parity_{s.name}", "dataset_path": "parquet",
        "dataset_kwargs": {"data_files": {split: str(path) for split, path in data.items()}},
        "test_split": s.split, **s.overrides,
    }
    if s.videos:
        config["dataset_kwargs"].update({"video": True, "cache_dir": s.name})
    return yaml.safe_dump(config, sort_keys=False)


def write(out: Path, tree: Path, hf_home: Path, only: tuple[str, ...] = ()) -> dict[str, dict[str, str]]:
    """Data, wrapper YAMLs (``out/tasks``) and videos (under ``hf_home``); returns ``{task: {marker: answer}}``."""
    answers: dict[str, dict[str, str]] = {}
    for build in BUILDERS:
        s = build()
        if only and s.name not in only:
            continue
        folder = out / "data" / s.name
        folder.mkdir(parents=True, exist_ok=True)
        data = {}
        for split, rows in {s.split: s.rows, **s.extra_splits}.items():
            data[split] = folder / f"{split}.parquet"
            _parquet(rows, s.images, data[split])
        for i, video in enumerate(s.videos):
            write_video(hf_home / s.name / "data" / f"{video}.mp4", i)
        (out / "tasks").mkdir(parents=True, exist_ok=True)
        (out / "tasks" / f"parity_{s.name}.yaml").write_text(_wrapper(s, tree, data), encoding="utf-8")
        answers[f"parity_{s.name}"] = {MARK.findall(str(row["question"]))[-1]: a
                                       for row, a in zip(s.rows, s.answers, strict=True)}
    (out / "answers.json").write_text(json.dumps(answers, indent=1), encoding="utf-8")
    return answers


# -- the scripted model ---------------------------------------------------------------------------------


def oracle(answers: dict[str, dict[str, str]]) -> Callable[[dict[str, Any]], str]:
    """A chat-completions answer: the scripted answer for the last marker in the prompt."""
    table = {marker: answer for per_task in answers.values() for marker, answer in per_task.items()}

    def answer(body: dict[str, Any]) -> str:
        text = json.dumps(body["messages"])
        markers = MARK.findall(text)
        return table.get(markers[-1], "") if markers else ""

    return answer


def logprobs(answers: dict[str, dict[str, str]]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A completions ``logprobs`` object: words as tokens, the last word scored from the scripted table."""
    table = {marker: json.loads(a) for per_task in answers.values() for marker, a in per_task.items()
             if a.startswith("{")}

    def score(body: dict[str, Any]) -> dict[str, Any]:
        prompt = body["prompt"]
        words = [(m.start(), m.group()) for m in re.finditer(r"\s*\S+", prompt)]
        markers = MARK.findall(prompt)
        scores = table.get(markers[-1], {}) if markers else {}
        last = words[-1][1].strip()
        value = scores.get(last, -10.0)
        best = max(scores.values()) if scores else value
        token_logprobs: list[float | None] = [None] + [-0.1] * (len(words) - 2) + [value]
        top: list[dict[str, float] | None] = [None] + [{w: -0.1} for _, w in words[1:-1]] + [{"x": best}]
        return {"tokens": [w for _, w in words], "token_logprobs": token_logprobs,
                "text_offset": [offset for offset, _ in words], "top_logprobs": top}

    return score


def main(argv: list[str]) -> int:
    out, tree, hf_home = Path(argv[0]), Path(argv[1]), Path(argv[2])
    write(out, tree, hf_home)
    print(f"wrote stand-ins under {out} (videos under {hf_home})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
