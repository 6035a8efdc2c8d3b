"""Which tasks are scored on the event loop (assay.judge.scoring.scores_on_the_loop): only those whose
scoring is assay's own pure code; every task with code, a pattern or a template of its own stays in the
task threads, with their time limit. And a task scored inline scores exactly as in a thread."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from assay.env.settings import Settings
from assay.judge.scoring import score_own, score_sample, scores_on_the_loop
from tests.fault_server import FaultServer
from tests.helpers import results_file, run_cli
from tests.test_tasks_task import DOC, make_task

PLAIN = """
output_type: generate_until
doc_to_text: q
doc_to_target: a
metric_list:
  - metric: exact_match
"""


def test_a_field_target_plain_filters_and_exact_match_are_scored_inline(settings: Settings, tmp_path: Path) -> None:
    assert scores_on_the_loop(make_task(settings, tmp_path, PLAIN))
    lowercase = PLAIN + ("filter_list:\n  - name: low\n    filter:\n      - function: lowercase\n"
                         "      - function: take_first\n")
    assert scores_on_the_loop(make_task(settings, tmp_path, lowercase))


@pytest.mark.parametrize("extra", [
    "process_results: !function utils.score\n",  # the task's own code
    "filter_list:\n  - name: re\n    filter:\n      - function: regex\n        regex_pattern: '(A|B)'\n",  # its pattern
    "doc_to_choice: opts\n",  # choices rendered from the doc
])
def test_task_code_patterns_and_choices_stay_in_the_threads(settings: Settings, tmp_path: Path, extra: str) -> None:
    utils = "def score(doc, results):\n    return {'exact_match': 1.0}\n"
    assert not scores_on_the_loop(make_task(settings, tmp_path, PLAIN + extra, utils=utils))


@pytest.mark.parametrize("body", [
    PLAIN.replace("doc_to_target: a", "doc_to_target: '{{a}}'"),  # a template
    PLAIN.replace("doc_to_target: a", "doc_to_target: !function utils.target"),  # the task's code
    PLAIN.replace("  - metric: exact_match", "  - metric: exact_match\n    regexes_to_ignore: ['x+']"),
    PLAIN.replace("  - metric: exact_match", "  - metric: bleu"),  # not a string comparison
])
def test_targets_and_metrics_of_the_tasks_own_stay_in_the_threads(settings: Settings, tmp_path: Path,
                                                                   body: str) -> None:
    utils = "def target(doc):\n    return doc['a']\n"
    assert not scores_on_the_loop(make_task(settings, tmp_path, body, utils=utils))


async def test_inline_scoring_scores_as_the_threads_do(settings: Settings, tmp_path: Path) -> None:
    task = make_task(settings, tmp_path, PLAIN)
    calls: list[str] = []

    async def in_a_thread(name: str, what: str, fn: Callable[..., Any], *args: Any) -> Any:
        calls.append(what)
        return fn(*args)

    for answer in ("yes", "no"):
        threaded = await score_sample(task, DOC, [answer], run_sync=in_a_thread, contract=None, redact=str)
        inline = score_own(task, DOC, [answer], redact=str)
        assert inline == threaded and inline.scores == {"exact_match": 1.0 if answer == "yes" else 0.0}
    assert calls == ["scoring", "scoring"]  # only the threaded calls went through run_sync


async def test_inline_scoring_fails_as_the_threads_do_and_takes_the_prompts_target(settings: Settings,
                                                                                  tmp_path: Path) -> None:
    """A scoring error is the same sample error either way; a target the prompt computed is the one scored."""
    task = make_task(settings, tmp_path, PLAIN.replace("doc_to_target: a", "doc_to_target: n")
                     + "    ignore_case: true\n")
    assert scores_on_the_loop(task)

    async def in_a_thread(name: str, what: str, fn: Callable[..., Any], *args: Any) -> Any:
        return fn(*args)

    threaded = await score_sample(task, DOC, ["1"], run_sync=in_a_thread, contract=None, redact=str)
    inline = score_own(task, DOC, ["1"], redact=str)
    assert threaded.scores is None and threaded.error is not None and "ignore_case" in threaded.error
    assert inline == threaded
    given = score_own(make_task(settings, tmp_path, PLAIN), DOC, ["no"], redact=str, target="no")
    assert given.scores == {"exact_match": 1.0}  # "no" is what the prompt said the target was, not DOC["a"]


TEXT_CODE_TASK = """task: target_moved
dataset_path: json
dataset_kwargs:
  data_files:
    test: docs.jsonl
test_split: test
output_type: generate_until
doc_to_text: !function utils.text
doc_to_target: a
metric_list:
  - metric: exact_match
"""


@pytest.mark.parametrize("text", ["q", "!function utils.text"])
def test_the_target_scored_is_the_docs_at_scoring_time_where_task_code_could_change_it(
        run_dir: Path, capsys: pytest.CaptureFixture[str], text: str) -> None:
    """A task with no code of its own is scored against the target its prompt read (read once); where task
    code builds the prompt and may change the doc (here it moves the answer), the target is read again when
    the doc is scored, as lmms-eval reads it."""
    folder = run_dir / "tasks"
    folder.mkdir()
    (folder / "docs.jsonl").write_text('{"q": "Say B.", "a": "A"}\n')
    (folder / "utils.py").write_text("def text(doc):\n    doc['a'] = 'B'\n    return doc['q']\n")
    (folder / "t.yaml").write_text(TEXT_CODE_TASK.replace("!function utils.text", text))
    with FaultServer(answer=lambda body: "B") as server:
        code, _, _ = run_cli(capsys, "--model", "openai_compatible",
                             "--model_args", f"model=t,base_url={server.base_url}", "--tasks", "target_moved",
                             "--include_path", str(folder), "--output_path", str(run_dir / "out"))
    assert code == 0
    value = results_file(run_dir / "out")["results"]["target_moved"]["metrics"]["exact_match"]["value"]
    assert value == (1.0 if text.startswith("!function") else 0.0)
