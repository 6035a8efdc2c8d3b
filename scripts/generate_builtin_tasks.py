"""Regenerate the data files of assay's built-in tasks (deterministic; no downloads).

    python scripts/generate_builtin_tasks.py

writes src/assay/tasks/builtin/assay_arith_mc/assay_arith_mc.jsonl (300 docs) and
src/assay/tasks/builtin/assay_colors/assay_colors.jsonl (200 docs). Running it again gives the same
bytes, so the committed files can be checked with `git diff --exit-code`.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

BUILTIN = Path(__file__).resolve().parents[1] / "src" / "assay" / "tasks" / "builtin"
LETTERS = "ABCD"
COLORS = ("red", "green", "blue", "yellow", "purple", "orange")
SHAPES = ("circle", "square", "triangle")
GRID_CELLS = 16


def arith_docs(n: int = 300, seed: int = 1234) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    docs: list[dict[str, Any]] = []
    for i in range(n):
        op = ("+", "-", "*")[i % 3]
        if op == "*":
            a, b = rng.randint(2, 12), rng.randint(2, 12)
            value = a * b
        else:
            a, b = rng.randint(10, 99), rng.randint(1, 99)
            if op == "-" and b > a:
                a, b = b, a
            value = a + b if op == "+" else a - b
        wrong: set[int] = set()
        while len(wrong) < 3:  # near misses, the mistakes people (and models) make
            candidate = value + rng.choice((-10, -2, -1, 1, 2, 10, a, -b))
            if candidate != value and candidate >= 0:
                wrong.add(candidate)
        options = [value, *sorted(wrong)]
        rng.shuffle(options)
        symbol = {"+": "+", "-": "-", "*": "×"}[op]
        docs.append(
            {
                "id": f"arith-{i:03d}",
                "question": f"What is {a} {symbol} {b}?",
                "options": [str(o) for o in options],
                "answer": LETTERS[options.index(value)],
                "value": value,
            }
        )
    return docs


def plural(shape: str) -> str:
    return shape + "s"


def colors_docs(n: int = 200, seed: int = 4321) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    docs: list[dict[str, Any]] = []
    for i in range(n):
        shape, color = rng.choice(SHAPES), rng.choice(COLORS)
        scene_seed = rng.randint(0, 2**31 - 1)
        if i % 2 == 0:  # counting among distractors
            count = rng.randint(1, 6)
            others = [(s, c) for s in SHAPES for c in COLORS if (s, c) != (shape, color)]
            distractors = []
            room = GRID_CELLS - count
            for s, c in rng.sample(others, rng.randint(1, 3)):
                k = min(rng.randint(1, 3), room)
                if k > 0:
                    distractors.append({"shape": s, "color": c, "count": k})
                    room -= k
            question = f"How many {color} {plural(shape)} are in the image? Answer with a single number."
            answer, kind = str(count), "count"
        else:  # naming the one colour in the image
            count, distractors = rng.randint(1, 5), []
            question = f"What color are the {plural(shape)} in the image? Answer with a single word."
            answer, kind = color, "color"
        docs.append(
            {
                "id": f"colors-{i:03d}",
                "question_type": kind,
                "shape": shape,
                "color": color,
                "count": count,
                "distractors": distractors,
                "seed": scene_seed,
                "question": question,
                "answer": answer,
            }
        )
    return docs


def write_jsonl(path: Path, docs: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs), encoding="utf-8")
    print(f"wrote {len(docs)} docs to {path}")


def main() -> None:
    write_jsonl(BUILTIN / "assay_arith_mc" / "assay_arith_mc.jsonl", arith_docs())
    write_jsonl(BUILTIN / "assay_colors" / "assay_colors.jsonl", colors_docs())


if __name__ == "__main__":
    main()
