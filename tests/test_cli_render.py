"""The results table at the end of `assay run`: rich's boxed table on a terminal, the same cells as plain
aligned text on a file or pipe (where rich is not needed), both through the redactor."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

from assay.cli.render import COLUMNS, print_results
from assay.run import EvaluationResult

ANSI = re.compile(r"\x1b\[[0-9;]*m")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def result(tmp_path: Path) -> EvaluationResult:
    doc: dict[str, Any] = {
        "model": {"provider": "openai_compatible", "name": "bench"},
        "results": {
            "mmmu_val": {"alias": "MMMU [val]", "n_scored": 900, "errors": {"timeout": 2},
                         "judge_failed": {"parse_failed": 1},
                         "metrics": {"acc": {"value": 0.5123456, "stderr": 0.0123}, "f1": {"value": None}}},
            "docvqa": {"n_scored": 12, "errors": {},
                       "metrics": {"anls": {"value": 0.75, "stderr": None}}},
        },
        "groups": {"mmmu": {"metrics": {"acc": {"value": 0.25, "n": 912}}}},
        "n_samples": {"mmmu_val": 903, "docvqa": 12},
        "timing": {"wall_s": 12.34},
        "usage": {"input_tokens": 1000, "output_tokens": 20},
        "model_stats": {"retries": 3, "cache_hits": 4},
        "judge": {"failures": {}, "models": [{"model": "gpt-4o-mini"}], "judgements": 900,
                  "usage": {"input_tokens": 5, "output_tokens": 6}, "retries": 0},
        "cost": {"total_usd": 0.0123, "model": {"usd": 0.01}, "judge": {"usd": 0.0023}, "max_cost": 5},
    }
    return EvaluationResult(doc, tmp_path / "run_results.json", {"docvqa": tmp_path / "run_samples_docvqa.jsonl"})


def rich_rows(text: str) -> list[list[str]]:
    """The cells of every body row of rich's boxed table (header and rules left out)."""
    lines = [ANSI.sub("", line) for line in text.splitlines()]
    return [[c.strip() for c in line.strip("│").split("│")] for line in lines if line.startswith("│")]


def plain_rows(text: str) -> list[list[str]]:
    """The header and body rows of the plain table, cut at its gutters (the runs of two or more character
    positions blank on every row), so that an empty cell stays a cell."""
    lines = text.splitlines()[1:6]
    width = max(len(line) for line in lines)
    lines = [line.ljust(width) for line in lines]
    blank = "".join(" " if all(line[i] == " " for line in lines) else "x" for i in range(width))
    spans = [m.span() for m in re.finditer(r"x+(?: x+)*", blank)]
    return [[line[a:b].strip() for a, b in spans] for line in lines]


def test_the_plain_table_holds_what_the_rich_one_shows(tmp_path: Path) -> None:
    run = result(tmp_path)
    terminal, pipe = Terminal(), io.StringIO()
    print_results(run, terminal)
    print_results(run, pipe)
    shown, plain = ANSI.sub("", terminal.getvalue()), pipe.getvalue()
    assert "\x1b[" not in plain and "│" not in plain and "┃" not in plain
    body = plain_rows(plain)
    assert body[0] == list(COLUMNS)
    # Every cell of every row, in order, the same on both (rich's cells joined where it wrapped none).
    assert rich_rows(shown) == body[1:]
    assert body[1] == ["MMMU [val]", "acc", "0.5123", "0.0123", "900", "timeout=2, judge parse_failed=1"]
    assert body[4] == ["mmmu (group)", "acc", "0.2500", "", "912", ""]
    words = " ".join(shown.split())
    for line in plain.splitlines()[6:]:  # the summary lines, word for word on the terminal too (rich wraps)
        assert " ".join(line.split()) in words
    assert plain.splitlines()[0] == "openai_compatible · bench"
    assert "915 samples in 12.3s · 1000 input / 20 output tokens paid · 3 retries · 4 answers from the cache · " \
           "$0.0123 (model $0.01, judge $0.0023; cap $5)" in plain
    assert f"samples (docvqa): {tmp_path / 'run_samples_docvqa.jsonl'}" in plain


def test_figures_are_right_aligned_and_nothing_is_wrapped(tmp_path: Path) -> None:
    run = result(tmp_path)
    run.sample_paths["docvqa"] = tmp_path / ("deep" * 60) / "samples.jsonl"
    pipe = io.StringIO()
    print_results(run, pipe)
    lines = pipe.getvalue().splitlines()
    value_ends = {line.index(cell) + len(cell) for line in lines[1:6] for cell in [re.split(r"\s{2,}", line)[2]]}
    assert len(value_ends) == 1
    assert any(line.endswith("samples.jsonl") and len(line) > 240 for line in lines)


def test_both_go_through_the_redactor(tmp_path: Path) -> None:
    run = result(tmp_path)
    run.results["results"]["docvqa"]["alias"] = "sk-secret-in-an-alias"
    for stream in (Terminal(), io.StringIO()):
        print_results(run, stream, lambda text: text.replace("sk-secret-in-an-alias", "<redacted>"))
        assert "sk-secret" not in stream.getvalue() and "<redacted>" in stream.getvalue()
